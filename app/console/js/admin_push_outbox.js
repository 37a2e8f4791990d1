// The 政策推送 tab's lists: the outbox (filtered by state and channel, failures with their error) and
// the published changes, each with its delivery report.

import { api, query } from "./api.js";
import { emptyRow, facts, fill, formatTime, guarded, h, option, table } from "./dom.js";

export const STATES = { pending: "待发送", sending: "发送中", sent: "已送达", failed: "发送失败", merged: "已合并" };
const STATE_BADGES = { pending: "badge--pending", sending: "badge--lead", sent: "badge--ok", failed: "badge--replaced",
  merged: "badge--retired" };
const CHANNELS = { widget: "网页对话框", wechat: "微信公众号" };
const KINDS = { new: "新增措施", edited: "修改措施", document: "导入文件" };

/** "文件1 第23条、第24条": measure keys ("1:23") as people read them. */
export function measuresText(keys) {
  const byDocument = new Map();
  for (const key of keys) {
    const [document, number] = key.split(":");
    if (!byDocument.has(document)) byDocument.set(document, []);
    byDocument.get(document).push(`第${number}条`);
  }
  const shown = [...byDocument].map(([document, numbers]) => `文件${document} ${numbers.slice(0, 8).join("、")}`
    + (numbers.length > 8 ? ` 等${numbers.length}条` : ""));
  return shown.join("；") || "—";
}

const stateBadge = (state) => h("span", { class: `badge ${STATE_BADGES[state] || ""}`, text: STATES[state] || state });
const channelText = (channel) => CHANNELS[channel] || channel;

/** The outbox panel: counts by state, filters, the latest notifications. */
export function outboxPanel() {
  const state = h("select", { id: "p-state", "aria-label": "状态" }, option("", "全部状态"),
    Object.entries(STATES).map(([k, v]) => option(k, v)));
  const channel = h("select", { id: "p-channel", "aria-label": "渠道" }, option("", "全部渠道"),
    Object.entries(CHANNELS).map(([k, v]) => option(k, v)));
  const counts = h("p", { id: "p-outbox-counts", class: "muted" });
  const rows = h("tbody", { id: "p-outbox-rows" });
  let items = [];

  function render() {
    const shown = items.filter((n) => !channel.value || n.channel === channel.value);
    fill(rows, shown.length ? shown.map(outboxRow) : emptyRow(9, "没有符合条件的通知"));
  }

  const load = guarded(async () => {
    const summary = await api(`/api/admin/push/outbox${query({ state: state.value, limit: 200 })}`);
    fill(counts, Object.entries(STATES).map(([k, label]) => `${label} ${summary.counts[k] || 0}`).join(" · "),
      ` · 已到发送时间 ${summary.due}`);
    for (const opt of state.options) {
      if (opt.value) opt.textContent = `${STATES[opt.value]}（${summary.counts[opt.value] || 0}）`;
    }
    items = summary.items;
    render();
  }, "发件箱加载失败：");

  state.addEventListener("change", load);
  channel.addEventListener("change", render);
  const element = h("section", { class: "panel pad", "aria-labelledby": "p-outbox-title" },
    h("div", { class: "panel__head" }, h("h2", { id: "p-outbox-title", text: "发件箱" }), h("span", { class: "spacer" }),
      state, channel, h("button", { type: "button", class: "btn btn--small", text: "刷新", on: { click: () => load() } })),
    counts,
    h("p", { class: "muted", text: "最新的 200 条通知（按所选状态）。发送失败的通知已用完重试次数，错误原因见最后一列；"
      + "“已合并”的通知随同一企业的另一条摘要通知一并送达。" }),
    table("table", ["编号", "变更", "渠道", "用户标识", "措施", "状态", "尝试", "时间", "错误"], rows));
  return { element, load };
}

function outboxRow(n) {
  const when = n.state === "sent" ? `送达 ${formatTime(n.sent_at)}`
    : n.state === "merged" ? `并入 #${n.merged_into_id}`
      : n.state === "failed" ? `创建 ${formatTime(n.created_at)}` : `下次 ${formatTime(n.next_attempt_at)}`;
  return h("tr", { class: n.state === "failed" ? "is-failed" : "", dataset: { state: n.state } },
    h("td", { class: "num", text: `#${n.id}` }),
    h("td", { class: "num", text: `#${n.change_id}` }),
    h("td", { class: "nowrap", text: channelText(n.channel) }),
    h("td", {}, h("code", { text: n.channel_user_id })),
    h("td", { text: measuresText(n.measure_keys) }),
    h("td", {}, stateBadge(n.state)),
    h("td", { class: "num", text: String(n.attempts) }),
    h("td", { class: "nowrap", text: when }),
    h("td", { class: "error-text", text: n.last_error || "" }));
}

/** The changes panel: the latest published changes; a click shows that change's delivery report. */
export function changesPanel() {
  const rows = h("tbody", { id: "p-change-rows" });
  const report = h("div", { id: "p-report", class: "panel pad", "aria-live": "polite" },
    h("p", { class: "empty", text: "选择左侧的变更查看送达报告" }));
  let chosen = null;

  const open = guarded(async (id) => {
    chosen = id;
    for (const row of rows.children) row.classList.toggle("is-chosen", row.dataset.change === String(id));
    fill(report, deliveryReport(await api(`/api/admin/push/changes/${id}`)));
  }, "送达报告加载失败：");

  const load = guarded(async () => {
    const { items } = await api("/api/admin/push/changes?limit=100");
    fill(rows, items.length ? items.map((c) => h("tr", { dataset: { change: String(c.id) },
      class: c.id === chosen ? "is-chosen" : "", on: { click: () => open(c.id) } },
    h("td", {}, h("button", { type: "button", class: "link-button", text: `#${c.id}`,
      "aria-label": `查看变更 #${c.id} 的送达报告` })),
    h("td", { class: "nowrap", text: formatTime(c.created_at) }),
    h("td", { text: KINDS[c.kind] || c.kind }),
    h("td", { text: measuresText(c.measure_keys) }),
    h("td", { text: c.actor }),
    h("td", { class: "num", text: c.notified ? String(c.notifications) : "未通知" }))) : emptyRow(6, "还没有发布过变更"));
    if (chosen !== null) open(chosen);
  }, "变更列表加载失败：");

  const element = h("section", { class: "panel pad", "aria-labelledby": "p-changes-title" },
    h("h2", { id: "p-changes-title", text: "政策变更与送达报告" }),
    h("p", { class: "muted", text: "管理员发布的措施修改和文件导入；点击一行查看该变更的通知按状态、渠道的统计和发送失败的原因。" }),
    h("div", { class: "two-columns" },
      table("table table--clickable", ["变更", "发布时间", "类型", "措施", "操作人", "通知企业"], rows),
      report));
  return { element, load };
}

function deliveryReport(r) {
  const states = Object.entries(r.by_state);
  return [
    h("h3", { text: `变更 #${r.id} 的送达报告` }),
    facts([["类型", KINDS[r.kind] || r.kind], ["措施", measuresText(r.measure_keys)], ["操作人", r.actor],
      ["发布时间", formatTime(r.created_at)],
      ["通知", r.notified ? `${r.total} 家企业` : "发布时选择了不通知企业"],
      ["按渠道", Object.entries(r.by_channel).map(([c, n]) => `${channelText(c)} ${n}`).join("，") || "—"],
      r.digested ? ["合并", `${r.digested} 条并入摘要通知（按摘要的状态计）`] : null], { id: "p-report-facts" }),
    h("ul", { class: "state-counts", id: "p-report-states" }, states.map(([state, n]) =>
      h("li", { dataset: { state } }, stateBadge(state), h("span", { class: "num", text: ` ${n}` })))),
    r.failures.length ? [h("h4", { text: `发送失败（${r.failures.length}）` }),
      table("table", ["通知", "渠道", "用户标识", "错误"], h("tbody", { id: "p-report-failures" },
        r.failures.map((f) => h("tr", { class: "is-failed" }, h("td", { class: "num", text: `#${f.notification_id}` }),
          h("td", { text: channelText(f.channel) }), h("td", {}, h("code", { text: f.channel_user_id })),
          h("td", { class: "error-text", text: f.error })))))] : null,
  ];
}
