// Chart.js (vendored, served by the app) set up for the insights and push pages: Chinese labels, house colours.

const Chart = window.Chart;
export const COLORS = { blue: "#1656b0", sky: "#6fa3e8", amber: "#e0a030", red: "#c8262c", green: "#2e8540",
  grey: "#9aa4b2" };
const charts = new Map();

if (Chart) {
  Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = "#445064";
  Chart.defaults.animation = false;  // reports, not shows; and screenshots come out complete
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.labels.boxWidth = 12;
}

/** Draw (or redraw) a chart in the canvas with this id. */
export function draw(id, config) {
  if (!Chart) return;
  if (charts.has(id)) charts.get(id).destroy();
  charts.set(id, new Chart(document.getElementById(id), config));
}

/** A line chart of several daily series. */
export function dailyLines(labels, series) {
  return {
    type: "line",
    data: { labels, datasets: series.map(([label, data, color]) => ({ label, data, borderColor: color,
      backgroundColor: `${color}22`, fill: false, cubicInterpolationMode: "monotone", pointRadius: 2, borderWidth: 2 })) },
    options: { interaction: { mode: "index", intersect: false },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { grid: { display: false } } } },
  };
}

/** A horizontal bar chart of counts (top topics, top measures). */
export function horizontalBars(labels, data, label, color) {
  return {
    type: "bar",
    data: { labels, datasets: [{ label, data, backgroundColor: color, borderRadius: 3, maxBarThickness: 18 }] },
    options: { indexAxis: "y", plugins: { legend: { display: false } },
      scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { grid: { display: false } } } },
  };
}

/** A stacked bar chart of ratings per day (满意 / 一般 / 不满意). */
export function stackedRatings(labels, ratings) {
  const colors = { 满意: COLORS.green, 一般: COLORS.amber, 不满意: COLORS.red };
  return {
    type: "bar",
    data: { labels, datasets: Object.entries(ratings).map(([label, data]) => ({ label, data,
      backgroundColor: colors[label], maxBarThickness: 22 })) },
    options: { scales: { x: { stacked: true, grid: { display: false } },
      y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
  };
}

/** Bars of notifications delivered per day with a line of the conversations that followed them. */
export function pushesAndFollowUps(labels, delivered, followUps) {
  return {
    type: "bar",
    data: { labels, datasets: [
      { type: "bar", label: "送达通知", data: delivered, backgroundColor: COLORS.sky, maxBarThickness: 22, order: 2 },
      { type: "line", label: "推送后咨询", data: followUps, borderColor: COLORS.green, backgroundColor: COLORS.green,
        pointRadius: 3, borderWidth: 2, order: 1 }] },
    options: { interaction: { mode: "index", intersect: false },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { grid: { display: false } } } },
  };
}
