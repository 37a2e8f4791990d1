// The 文件与类别 tab: every policy document with its validity (现行有效, 已被替代…), 文号, dates, status
// and measure count; edit a document's title, 文号, dates and successor; retire or restore a whole
// document (after a confirmation), and edit the categories of the chosen one.

import { api } from "./api.js";
import { emptyRow, field, fill, guarded, h, option, table, toast } from "./dom.js";
import { categoriesPanel } from "./admin_categories.js";
import { STATUSES, VALIDITIES } from "./kinds.js";
import { validityBadge } from "./staff_detail.js";

// The editable metadata of a document: [field of /api/documents, id, label, input type].
const FIELDS = [
  ["title", "d-title", "标题", "text"],
  ["document_number", "d-number", "文号", "text"],
  ["issued_on", "d-issued", "发布日期", "date"],
  ["effective_on", "d-effective", "施行日期", "date"],
  ["expires_on", "d-expires", "失效日期", "date"],
];

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
      chosen: d.id === chosen, choose: () => choose(d), toggle: () => toggleStatus(d),
      edit: () => editDocument(d, documents, async () => { await load(); changed(); }) }))
      : emptyRow(7, "还没有政策文件，请在“导入文件”页导入"));
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
    h("p", { class: "muted", text: "停用整个文件后，其全部措施不再用于答复（数据保留，可恢复）。已失效或已被替代的文件不再用于答复，"
      + "工作人员仍可在政策查询中查到。点击文件查看和编辑其类别。" }),
    table("table table--clickable table--wrap", ["编号", "文件", "效力", "日期", "状态", "有效措施", ""], body)),
  categoriesBox);
  load();
  return { shown: load };
}

function documentRow(policy, { chosen, choose, toggle, edit }) {
  const retired = policy.status === "retired";
  const stop = (fn) => (event) => { event.stopPropagation(); fn(); };
  return h("tr", { class: [chosen ? "is-chosen" : "", retired ? "is-retired" : ""].join(" ").trim(),
    dataset: { documentId: String(policy.id), validity: policy.validity }, on: { click: choose } },
  h("td", { class: "num", text: String(policy.id) }),
  h("td", {}, h("button", { type: "button", class: "link-button", text: policy.title }),
    h("div", { class: "muted doc-number", text: policy.document_number || "（无文号）" }),
    h("div", { class: "muted", text: policy.slug })),
  h("td", { class: "doc-validity" }, validityBadge(policy.validity, { always: true }),
    policy.superseded_by_title ? h("div", { class: "muted replaced-by", text: `被《${policy.superseded_by_title}》替代` })
      : null),
  h("td", { class: "doc-dates nowrap" }, datesList(policy)),
  h("td", {}, h("span", { class: `badge ${retired ? "badge--retired" : "badge--ok"}`, text: STATUSES[policy.status] || policy.status })),
  h("td", { class: "num nowrap", text: `${policy.measures} 条` }),
  h("td", {}, h("div", { class: "row-actions" },
    h("button", { type: "button", class: "btn btn--small", text: "编辑信息", "aria-label": `编辑《${policy.title}》的信息`,
      on: { click: stop(edit) } }),
    h("button", { type: "button", class: `btn btn--small${retired ? "" : " btn--danger"}`,
      text: retired ? "恢复文件" : "停用文件", "aria-label": `${retired ? "恢复" : "停用"}《${policy.title}》`,
      on: { click: stop(toggle) } }))));
}

function datesList(policy) {
  const days = [["发布", policy.issued_on], ["施行", policy.effective_on], ["失效", policy.expires_on]]
    .filter(([, day]) => day);
  return days.length ? days.map(([name, day]) => h("div", { text: `${name} ${day}` })) : h("span", { class: "muted", text: "—" });
}

/** "发布 2022-05-06 · 施行 2022-06-01 · 失效 2025-05-31" (the dates a document has). */
export function datesText(policy) {
  const parts = [["发布", policy.issued_on], ["施行", policy.effective_on], ["失效", policy.expires_on]]
    .filter(([, day]) => day).map(([name, day]) => `${name} ${day}`);
  return parts.join(" · ") || "—";
}

/** A document in a list to choose from: its title, 文号 and validity. */
export function documentLabel(policy) {
  const number = policy.document_number ? ` ${policy.document_number}` : "";
  return `${policy.title}${number}（${VALIDITIES[policy.validity] || policy.validity}）`;
}

let dialog = null;

/** The 编辑文件信息 dialog of `policy`; `saved()` runs after a PATCH went through. */
function editDocument(policy, documents, saved) {
  if (!dialog) {
    dialog = h("dialog", { id: "document-dialog", "aria-labelledby": "document-dialog-title" });
    document.body.append(dialog);
  }
  const inputs = Object.fromEntries(FIELDS.map(([key, id, , type]) => [key,
    h("input", { id, type, autocomplete: "off", value: policy[key] || "",
      maxLength: type === "text" ? (key === "title" ? 300 : 80) : null, required: key === "title" })]));
  const successor = h("select", { id: "d-successor" }, option("", "（未被替代）"),
    documents.filter((d) => d.id !== policy.id).map((d) =>
      option(String(d.id), documentLabel(d), d.id === policy.superseded_by)));
  const error = h("p", { id: "d-error", class: "banner banner--error", role: "alert", hidden: true });

  // Only what changed is sent: an empty date or 文号 clears it, the title cannot be empty.
  function changes() {
    const body = {};
    for (const [key, input] of Object.entries(inputs)) {
      const value = input.value.trim();
      if (value !== (policy[key] || "")) body[key] = value || (key === "document_number" ? "" : null);
    }
    const next = successor.value ? Number(successor.value) : null;
    if (next !== (policy.superseded_by ?? null)) body.superseded_by = next;
    return body;
  }

  const save = guarded(async (event) => {
    event.preventDefault();
    error.hidden = true;
    const body = changes();
    if (!Object.keys(body).length) { dialog.close(); return; }
    try {
      const updated = await api(`/api/admin/documents/${policy.id}`, { method: "PATCH", body });
      dialog.close();
      toast(`已保存《${updated.title}》的信息：${VALIDITIES[updated.validity] || updated.validity}`, "ok");
      await saved(updated);
    } catch (failure) {
      fill(error, h("strong", { text: "无法保存：" }), failure.message);  // also in the dialog, above the backdrop
      error.hidden = false;
      throw failure;
    }
  }, "无法保存：");

  fill(dialog, h("form", { class: "stack-form", on: { submit: save } },
    h("h2", { id: "document-dialog-title", text: "编辑文件信息" }),
    h("p", { class: "dialog__question", text: `《${policy.title}》` }),
    field("标题", inputs.title), field("文号", inputs.document_number),
    h("div", { class: "form-row" }, field("发布日期", inputs.issued_on), field("施行日期", inputs.effective_on),
      field("失效日期", inputs.expires_on)),
    field("被哪个文件替代", successor),
    h("p", { class: "muted", text: "被替代或过了失效日期的文件不再用于答复；清空失效日期、选择“未被替代”即恢复为现行有效。" }),
    error,
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "btn btn--primary", id: "d-save", text: "保存" }),
      h("button", { type: "button", class: "btn", text: "取消", on: { click: () => dialog.close() } }))));
  dialog.showModal();
  inputs.title.focus();
}
