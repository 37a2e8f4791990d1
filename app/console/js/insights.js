// The insights page: questions and conversations per day, topics, measures, ratings, unmatched questions.

import { api, download } from "./api.js";
import { COLORS, dailyLines, draw, horizontalBars, stackedRatings } from "./charts.js";
import { $, emptyRow, fill, formatTime, guarded, h, tableHead, toast } from "./dom.js";
import { addAsExample } from "./example_dialog.js";
import { consolePage } from "./shell.js";

const RATINGS = ["满意", "一般", "不满意"];
const OUTCOMES = { no_match: "未匹配", clarified: "需追问", routed: "转责任单位", clarify_choice: "追问后选定" };
// After a clarifying question the user's pick names the measure the question was about.
const outcomeText = (row) => (OUTCOMES[row.outcome] || row.outcome) +
  (row.chosen && row.chosen.length ? ` 第${row.chosen[0].split(":")[1]}条` : "");

function start() {
  $("days").addEventListener("change", load);
  $("export").addEventListener("click", guarded(async () => {
    toast(`已导出 ${await download(`/api/admin/insights.csv?days=${$("days").value}`, "insights.csv")}`);
  }, "导出失败："));
  load();
}

const load = guarded(async () => {
  render(await api(`/api/admin/insights?days=${$("days").value}`));
});

function render(report) {
  const days = report.per_day.map((d) => d.date.slice(5).replace("-", "/"));
  kpis(report.totals, report.days);
  draw("c-daily", dailyLines(days, [
    ["提问数", report.per_day.map((d) => d.questions), COLORS.blue],
    ["对话数", report.per_day.map((d) => d.conversations), COLORS.sky],
    ["未匹配", report.per_day.map((d) => d.unmatched), COLORS.red]]));
  draw("c-topics", horizontalBars(report.top_topics.map((t) => t.label),
    report.top_topics.map((t) => t.questions), "提问数", COLORS.blue));
  draw("c-measures", horizontalBars(report.top_measures.map((m) => `第${m.number}条 ${m.title}`.slice(0, 18)),
    report.top_measures.map((m) => m.questions), "被引用次数", COLORS.sky));
  draw("c-ratings", stackedRatings(days,
    Object.fromEntries(RATINGS.map((r) => [r, report.per_day.map((d) => d.ratings[r])]))));
  topicRatings(report.ratings_by_topic);
  unmatched(report.unmatched);
}

function percent(value) {
  return value === null || value === undefined ? "—" : `${Math.round(value * 1000) / 10}%`;
}

function kpis(totals, days) {
  const rated = RATINGS.reduce((n, r) => n + totals.ratings[r], 0);
  const card = (label, value, note, kind = "") => h("section", { class: `panel kpi ${kind}` },
    h("p", { class: "kpi__label", text: label }), h("p", { class: "kpi__value", text: value }),
    h("p", { class: "kpi__note", text: note }));
  fill($("kpis"),
    card("提问数", String(totals.questions), `最近 ${days} 天，已答复 ${totals.answered} 个`),
    card("对话数", String(totals.conversations), "按日统计的咨询企业（人次）"),
    card("未匹配率", percent(totals.unmatched_rate), `${totals.unmatched} 个问题未找到措施或需追问`, "kpi--warn"),
    card("满意率", percent(totals.satisfaction), rated ? `共 ${rated} 条评价，不满意 ${totals.ratings["不满意"]} 条` : "暂无评价",
      "kpi--ok"));
}

function topicRatings(rows) {
  fill($("t-topic-ratings"), tableHead(["话题", ...RATINGS, "满意率"]),
    h("tbody", {}, rows.length ? rows.map((row) => {
      const total = RATINGS.reduce((n, r) => n + row.ratings[r], 0);
      return h("tr", {}, h("td", { text: row.label }),
        RATINGS.map((r) => h("td", { class: "num", text: String(row.ratings[r]) })),
        h("td", { class: "num", text: percent(total ? row.ratings["满意"] / total : null) }));
    }) : emptyRow(5, "暂无评价")));
}

function unmatched(rows) {
  fill($("unmatched"), rows.length ? rows.map((row) => {
    const action = h("td", {});
    const done = (keys) => fill(action, h("span", { class: "done", text: "✓ 已加为 " }),
      keys.map((key, i) => [i ? "、" : "", h("a", { href: `/admin#measure=${key}`, text: `第${key.split(":")[1]}条` })]),
      " 的例句");
    if (row.example_of.length) done(row.example_of);
    else {
      fill(action, h("button", { type: "button", class: "btn btn--small btn--primary", text: "加为例句",
        "aria-label": `将“${row.text}”加为例句`,
        on: { click: () => addAsExample(row.text, (m) => done([`${m.document_id}:${m.number}`])) } }));
    }
    return h("tr", {}, h("td", { text: row.text }), h("td", { class: "num", text: String(row.count) }),
      h("td", { text: formatTime(row.last_asked) }), h("td", { text: outcomeText(row) }), action);
  }) : emptyRow(5, "这段时间没有未匹配的问题"));
}

consolePage("insights", start);
