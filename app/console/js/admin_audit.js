// The 操作记录 tab: admin writes, newest first, filtered by entity, action, actor and date.

import { api, query } from "./api.js";
import { fill, formatTime, guarded, h, option, table } from "./dom.js";

const ENTITIES = { measure: "措施", example: "例句", unit: "单位", category: "类别", document: "文件",
  synonym: "同义词", token: "令牌", catalogue: "整库", person: "个人信息" };
const ACTIONS = { create: "新建", update: "修改", delete: "删除", retire: "停用", restore: "恢复",
  import: "导入", revoke: "吊销" };
const FIELDS = { title: "简称", text: "内容", units: "责任单位", category: "类别序号", category_title: "类别",
  tags: "标签", status: "状态", version: "版本", name: "名称", full_name: "全称", aliases: "别名", remit: "职能事项", kind: "类型",
  phone: "电话", address: "地址", role: "角色", revoked: "已吊销", term: "规范词", variant: "同义说法",
  lead: "引导语", document_id: "文件", number: "条目号", id: "编号", source: "来源",
  question_log: "提问记录", rating: "评价", chat_message: "对话消息" };

/** Render the tab into `root`. */
export function auditTab(root) {
  const entity = h("select", { id: "a-entity", "aria-label": "对象" }, option("", "全部对象"),
    Object.entries(ENTITIES).map(([k, v]) => option(k, v)));
  const action = h("select", { id: "a-action", "aria-label": "操作" }, option("", "全部操作"),
    Object.entries(ACTIONS).map(([k, v]) => option(k, v)));
  const actor = h("input", { id: "a-actor", placeholder: "操作人（令牌名称）", "aria-label": "操作人" });
  const since = h("input", { id: "a-since", type: "date", "aria-label": "起始日期" });
  const list = h("ol", { class: "audit", id: "a-list" });

  const load = guarded(async (event) => {
    if (event) event.preventDefault();
    const params = { entity: entity.value, action: action.value, actor: actor.value.trim(), limit: 200,
      since: since.value ? `${since.value}T00:00:00+08:00` : "" };
    const { items } = await api(`/api/admin/audit${query(params)}`);
    fill(list, items.length ? items.map(entry) : h("li", { class: "empty", text: "没有符合条件的记录" }));
  });

  fill(root, h("section", { class: "panel pad" },
    h("h2", { text: "操作记录" }),
    h("form", { class: "inline-form", on: { submit: load } }, entity, action, actor, since,
      h("button", { type: "submit", class: "btn btn--primary", text: "查询" })),
    list));
  for (const control of [entity, action, since]) control.addEventListener("change", () => load());
  load();
}

function entry(e) {
  const changes = diff(e.before || {}, e.after || {});
  return h("li", { class: "audit__entry" },
    h("details", {},
      h("summary", {},
        h("time", { text: formatTime(e.created_at) }),
        h("span", { class: "audit__actor", text: e.actor }),
        h("span", { class: `badge audit__action audit__action--${e.action}`, text: ACTIONS[e.action] || e.action }),
        h("span", { text: `${ENTITIES[e.entity] || e.entity} ${e.key}` }),
        changes.length ? h("span", { class: "muted", text: `（${changes.map((c) => c[0]).join("、")}）` }) : null),
      changes.length ? table("table diff", ["字段", "修改前", "修改后"],
        h("tbody", {}, changes.map(([field, before, after]) => h("tr", {},
          h("td", { text: field }), h("td", { class: "diff__before", text: before }),
          h("td", { class: "diff__after", text: after })))))
        : h("p", { class: "muted", text: "无字段变化" })));
}

function diff(before, after) {
  const show = (v) => (v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v));
  return [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((k) => show(before[k]) !== show(after[k]))
    .map((k) => [FIELDS[k] || k, show(before[k]), show(after[k])]);
}
