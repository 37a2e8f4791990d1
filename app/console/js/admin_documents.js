// The 文件与类别 tab: every policy document with its status and measure count; retire or restore a
// whole document (after a confirmation), and edit the categories of the chosen one.

import { api } from "./api.js";
import { emptyRow, fill, guarded, h, table, toast } from "./dom.js";
import { categoriesPanel } from "./admin_categories.js";
import { STATUSES } from "./kinds.js";


/** Render the tab into `root`; `changed()` runs after a write the other tabs should see. */
export function documentsTab(root, changed) {
  const body = h("tbody", { id: "d-list" });
  const categoriesBox = h("div", { id: "d-categories" });
  let documents = [];
  let chosen = null;

  const load = guarded(async () => {
    documents = await api("/api/documents");
    render();
    const current = documents.find((d) => d.id === chosen) || documents[0];
    if (current) choose(current);  // its categories may have changed too (an import, another tab)
  });

  function render() {
    fill(body, documents.length ? documents.map((d) => documentRow(d, {
      chosen: d.id === chosen, choose: () => choose(d), toggle: () => toggleStatus(d) }))
      : emptyRow(5, "还没有政策文件，请在“导入文件”页导入"));
  }

  function choose(policy) {
    chosen = policy.id;
    render();
    fill(categoriesBox, categoriesPanel(policy, changed).element);
  }

  const toggleStatus = guarded(async (policy) => {
    const retire = policy.status !== "retired";
    const question = retire
      ? `停用《${policy.title}》？\n停用后，该文件的 ${policy.measures} 条措施不再出现在机器人和政策查询的答复中；数据保留，可随时恢复。`
      : `恢复《${policy.title}》？\n恢复后，该文件的 ${policy.measures} 条有效措施重新出现在答复中。`;
    if (!window.confirm(question)) return;
    const updated = await api(`/api/admin/documents/${policy.id}/${retire ? "retire" : "restore"}`, { method: "POST" });
    toast(retire ? `已停用《${updated.title}》` : `已恢复《${updated.title}》`, "ok");
    await load();
    changed();
  });

  fill(root, h("section", { class: "panel pad", "aria-label": "政策文件" },
    h("h2", { text: "政策文件" }),
    h("p", { class: "muted", text: "停用整个文件后，其全部措施不再用于答复（数据保留，可恢复）。点击文件查看和编辑其类别。" }),
    table("table table--clickable table--wrap", ["编号", "文件", "状态", "有效措施", ""], body)),
  categoriesBox);
  load();
  return { shown: load };
}

function documentRow(policy, { chosen, choose, toggle }) {
  const retired = policy.status === "retired";
  return h("tr", { class: [chosen ? "is-chosen" : "", retired ? "is-retired" : ""].join(" ").trim(),
    dataset: { documentId: String(policy.id) }, on: { click: choose } },
  h("td", { class: "num", text: String(policy.id) }),
  h("td", {}, h("button", { type: "button", class: "link-button", text: policy.title }),
    h("div", { class: "muted", text: policy.slug })),
  h("td", {}, h("span", { class: `badge ${retired ? "badge--retired" : "badge--ok"}`, text: STATUSES[policy.status] || policy.status })),
  h("td", { class: "num nowrap", text: `${policy.measures} 条` }),
  h("td", {}, h("button", { type: "button", class: `btn btn--small${retired ? "" : " btn--danger"}`,
    text: retired ? "恢复文件" : "停用文件", "aria-label": `${retired ? "恢复" : "停用"}《${policy.title}》`,
    on: { click: (event) => { event.stopPropagation(); toggle(); } } })));
}
