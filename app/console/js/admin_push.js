// The 政策推送 tab: who follows what (counts only), pushes per day and the conversations that followed,
// the outbox with its states, and each published change with its delivery report.

import { api } from "./api.js";
import { fill, guarded, h, option, table } from "./dom.js";
import { changesPanel, outboxPanel } from "./admin_push_outbox.js";

const CHANNELS = { widget: "网页对话框", wechat: "微信公众号" };
const CHART_LIBRARY = "/console-static/vendor/chart.umd.js";
let charts = null;

/** Chart.js and the console's chart helpers, loaded the first time this tab draws a chart. */
async function loadCharts() {
  if (!charts) {
    if (!window.Chart) {
      await new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = CHART_LIBRARY;
        script.addEventListener("load", resolve);
        script.addEventListener("error", () => reject(new Error("图表组件加载失败")));
        document.head.append(script);
      });
    }
    charts = await import("./charts.js");
  }
  return charts;
}

/** Render the tab into `root`; `shown()` reloads everything when the tab is opened again. */
export function pushTab(root) {
  const days = h("select", { id: "p-days", "aria-label": "统计范围" },
    option("7", "最近 7 天"), option("30", "最近 30 天", true), option("90", "最近 90 天"));
  const subscriptions = h("div", { id: "p-subscriptions" });
  const activitySummary = h("p", { id: "p-activity-summary", class: "muted" });
  const outbox = outboxPanel();
  const changes = changesPanel();

  const loadSubscriptions = guarded(async () => {
    const [counts, consent] = await Promise.all([api("/api/admin/push/subscriptions"), api("/api/profile/consent")]);
    fill(subscriptions, subscriptionTables(counts, consent.topics));
  }, "订阅统计加载失败：");

  const loadActivity = guarded(async () => {
    const report = await api(`/api/admin/push/activity?days=${days.value}`);
    fill(activitySummary, activityText(report));
    const { draw, pushesAndFollowUps } = await loadCharts();
    draw("p-activity", pushesAndFollowUps(report.per_day.map((d) => d.date.slice(5).replace("-", "/")),
      report.per_day.map((d) => d.delivered), report.per_day.map((d) => d.follow_ups)));
  }, "推送统计加载失败：");

  days.addEventListener("change", loadActivity);
  fill(root,
    h("section", { class: "panel pad", "aria-labelledby": "p-subscriptions-title" },
      h("h2", { id: "p-subscriptions-title", text: "订阅情况" }),
      h("p", { class: "muted", text: "保存了企业画像的企业按类型和关注主题的数量（一家企业可有多个类型和主题）；不含任何企业信息。" }),
      subscriptions),
    h("section", { class: "panel pad", "aria-labelledby": "p-activity-title" },
      h("div", { class: "panel__head" }, h("h2", { id: "p-activity-title", text: "推送与推送后咨询" }),
        h("span", { class: "spacer" }), days),
      activitySummary,
      h("div", { class: "chart" }, h("canvas", { id: "p-activity", role: "img",
        "aria-label": "每日送达的通知数，以及收到通知后咨询机器人的企业对话数" }))),
    outbox.element,
    changes.element);

  const loadAll = () => {
    loadSubscriptions();
    loadActivity();
    outbox.load();
    changes.load();
  };
  loadAll();
  return { shown: loadAll };
}

function subscriptionTables(counts, topicLabels) {
  const rows = (entries, label) => h("tbody", {}, entries.length
    ? entries.map(([name, n]) => h("tr", {}, h("td", { text: label(name) }), h("td", { class: "num", text: String(n) })))
    : h("tr", {}, h("td", { colSpan: 2, class: "empty", text: "暂无" })));
  const order = [...Object.keys(CHANNELS), ...Object.keys(counts.by_channel).filter((c) => !(c in CHANNELS))];
  const channels = order.filter((c) => counts.by_channel[c])
    .map((c) => `${CHANNELS[c] || c} ${counts.by_channel[c]} 家`).join("，");
  return [
    h("p", { id: "p-profiles" }, h("strong", { text: `共 ${counts.profiles} 家企业订阅` }),
      channels ? `（${channels}）` : "", counts.with_industry ? `；其中 ${counts.with_industry} 家填写了行业` : ""),
    h("div", { class: "two-columns" },
      table("table", ["企业类型", "企业数"], rows(Object.entries(counts.by_type), (t) => t)),
      table("table", ["关注主题", "企业数"], rows(Object.entries(counts.by_topic), (t) => topicLabels[t] || t))),
  ];
}

function activityText(report) {
  const rate = report.companies_reached
    ? `，约占收到通知企业的 ${Math.round((report.companies_followed_up / report.companies_reached) * 100)}%` : "";
  return `最近 ${report.days} 天共送达 ${report.delivered} 条通知，覆盖 ${report.companies_reached} 家企业；`
    + `${report.companies_followed_up} 家企业在收到通知后 ${report.window_days} 天内咨询了机器人`
    + `（${report.follow_ups} 次对话，按企业和日计）${rate}。`;
}
