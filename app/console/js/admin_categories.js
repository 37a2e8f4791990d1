// A document's categories: list them with their section and measure count, add one, rename or edit its lead.

import { api, query } from "./api.js";
import { emptyRow, field, fill, guarded, h, option, table, toast } from "./dom.js";

/** The categories of `policy` (a document of /api/documents); `changed()` runs after each write. */
export function categoriesPanel(policy, changed) {
  const body = h("tbody", { id: "c-list" });
  const formBox = h("div", { id: "c-form" });
  let categories = [];
  let chosen = null;

  const load = guarded(async () => {
    categories = await api(`/api/admin/categories${query({ document_id: policy.id })}`);
    render();
  });

  function render() {
    fill(body, categories.length ? categories.map((c) => h("tr", {
      class: c.ordinal === chosen ? "is-chosen" : "", on: { click: () => edit(c) } },
    h("td", { class: "num", text: String(c.ordinal) }),
    h("td", {}, h("button", { type: "button", class: "link-button", text: c.title })),
    h("td", { text: c.section_title }),
    h("td", { class: "num", text: String(c.measures) })))
      : emptyRow(4, "该文件还没有类别"));
  }

  function edit(category) {
    chosen = category ? category.ordinal : null;
    render();
    fill(formBox, categoryForm({ policy, category, sections: sectionsOf(categories) }, async (saved) => {
      await load();
      changed();
      edit(categories.find((c) => c.ordinal === saved.ordinal) || null);
    }));
  }

  const element = h("section", { class: "panel pad", "aria-label": "类别" },
    h("div", { class: "panel__head" }, h("h2", { text: `类别 · ${policy.title}` }), h("span", { class: "spacer" }),
      h("button", { type: "button", class: "btn btn--primary", id: "c-new", text: "新建类别",
        on: { click: () => edit(null) } })),
    h("div", { class: "two-columns" },
      table("table table--clickable table--wrap", ["序号", "类别", "所属章", "措施数"], body),
      formBox));
  load().then(() => edit(null));
  return { element };
}

/** The sections a document's categories belong to, in order (a new category goes into one of them). */
function sectionsOf(categories) {
  const sections = new Map();
  for (const c of categories) sections.set(c.section, c.section_title);
  return [...sections.entries()].sort((a, b) => a[0] - b[0]);
}

const SECTION_NUMERALS = "一二三四五六七八九十";

/** Rename or re-lead an existing category, or create one in a section (numbered last unless given). */
function saveCategory(policy, category, { title, lead, section, ordinal }) {
  if (category) {
    return api(`/api/admin/categories/${policy.id}/${category.ordinal}`, { method: "PATCH", body: { title, lead } });
  }
  return api("/api/admin/categories", { method: "POST",
    body: { document_id: policy.id, section, title, lead, ...(ordinal ? { ordinal } : {}) } });
}

function categoryForm({ policy, category, sections }, saved) {
  const title = h("input", { id: "c-title", required: true, maxLength: 300, autocomplete: "off",
    value: category ? category.title : "" });
  const lead = h("textarea", { id: "c-lead", rows: 4, maxLength: 2000, value: category ? category.lead : "",
    placeholder: "类别的导语（可选），如“进一步优化企业开办流程。”" });
  const section = h("select", { id: "c-section" }, sections.map(([ordinal, name]) =>
    option(String(ordinal), `${SECTION_NUMERALS[ordinal - 1] || ordinal}、${name}`, ordinal === sections.at(-1)[0])));
  const ordinal = h("input", { id: "c-ordinal", type: "number", min: 1, step: 1, placeholder: "留空则排在最后" });
  const error = h("p", { id: "c-error", class: "banner banner--error", role: "alert", hidden: true });

  async function submit(event) {
    event.preventDefault();
    error.hidden = true;
    try {
      const result = await saveCategory(policy, category, { title: title.value.trim(), lead: lead.value.trim(),
        section: Number(section.value), ordinal: ordinal.value ? Number(ordinal.value) : null });
      toast(category ? "类别已保存，机器人从下一个问题起使用新名称" : `已新建第${result.ordinal}个类别`, "ok");
      await saved(result);
    } catch (failure) {
      // 409 (ordinal taken) and 422 (empty title, no such section, bad characters) in the server's words.
      fill(error, h("strong", { text: failure.status === 409 ? "与现有类别冲突：" : "无法保存：" }), failure.message);
      error.hidden = false;
    }
  }

  if (!category && !sections.length) {
    return h("p", { class: "muted", text: "该文件没有章，无法在此新建类别；请通过“导入文件”更新该文件。" });
  }
  return h("form", { class: "stack-form", on: { submit } },
    h("h3", { text: category ? `编辑第${category.ordinal}个类别` : "新建类别" }),
    category ? h("p", { class: "muted", text: `${category.section_title} · ${category.measures} 条有效措施` })
      : h("div", { class: "form-row" }, field("所属章", section), field("类别序号", ordinal)),
    field("类别名称", title), field("导语", lead), error,
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "btn btn--primary", id: "c-save", text: category ? "保存类别" : "新建" })));
}
