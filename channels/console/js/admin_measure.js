// Editing one measure: fields, units in order, retire/restore, example questions, and 409 handling.

import { api } from "./api.js";
import { fill, h, option, splitList, toast } from "./dom.js";
import { measurePicker } from "./measure_picker.js";
import { unitsEditor } from "./units_editor.js";

const FIELDS = { title: "简称", text: "措施内容", category: "类别", units: "责任单位", tags: "标签" };
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** The 措施 tab; returns `open(documentId, number)` for links such as #measure=1:38. */
export function measuresTab(root, catalogue) {
  const editor = h("section", { class: "panel pad editor", "aria-label": "编辑措施" },
    h("p", { class: "empty", text: "在上方搜索并选择要编辑的措施（也可输入“1:38”打开已停用的条目）" }));
  const picker = measurePicker({ label: "选择措施", onPick: (m) => open(m.document_id, m.number) });
  fill(root, h("div", { class: "panel pad" }, picker.element), editor);
  let form = null;

  async function open(documentId, number) {
    try {
      const measure = await api(`/api/measures/${documentId}/${number}`);
      form = measureForm(measure, catalogue);
      fill(editor, form.element);
      form.loadExamples();
    } catch (error) {
      toast(error.message, "error");
    }
  }
  return { open };
}

function measureForm(measure, catalogue) {
  const key = `${measure.document_id}/${measure.number}`;
  const state = { original: measure };
  const title = h("input", { id: "m-title", maxLength: 120, autocomplete: "off" });
  const text = h("textarea", { id: "m-text", rows: 6, maxLength: 5000 });
  const category = h("select", { id: "m-category" }, catalogue.categories
    .filter((c) => c.document_id === measure.document_id).map((c) => option(c.title, `${c.ordinal}. ${c.title}`)));
  const units = unitsEditor(catalogue.units);
  const tags = h("input", { id: "m-tags", autocomplete: "off", placeholder: "用“、”分隔，如 新设企业、小微企业" });
  const heading = h("div", { class: "editor__head" });
  const banner = h("div", { id: "m-conflict", class: "banner banner--warn", role: "alert", hidden: true });
  const dirty = h("span", { class: "dirty", text: "有未保存的修改", hidden: true });
  const retire = h("button", { type: "button", class: "btn btn--danger", id: "m-retire", on: { click: toggleStatus } });
  const examples = examplesBlock(key);

  function values() {
    return { title: title.value.trim(), text: text.value.trim(), category: category.value,
      units: units.names(), tags: splitList(tags.value) };
  }
  function serverValues(m) {
    return { title: m.title, text: m.text, category: m.category, units: m.units, tags: m.tags };
  }
  function changes() {
    const now = values();
    const base = serverValues(state.original);
    return Object.fromEntries(Object.keys(FIELDS).filter((f) => !same(now[f], base[f])).map((f) => [f, now[f]]));
  }
  function setField(field, value) {
    if (field === "units") units.set(value);
    else if (field === "tags") tags.value = value.join("、");
    else ({ title, text, category })[field].value = value;
  }
  function show(m) {
    for (const field of Object.keys(FIELDS)) setField(field, serverValues(m)[field]);
    const retired = m.status !== "active";
    fill(heading, h("h2", { text: `第${m.number}条 ${m.title}` }),
      h("span", { class: `badge ${retired ? "badge--retired" : "badge--ok"}`, text: retired ? "已停用" : "有效" }),
      h("span", { class: "muted", id: "m-version", text: `文件${m.document_id} · 第${m.version}版` }));
    retire.textContent = retired ? "恢复此条" : "停用此条";
    refreshDirty();
  }
  function refreshDirty() { dirty.hidden = !Object.keys(changes()).length; }

  async function save() {
    const body = changes();
    if (!Object.keys(body).length) { toast("没有需要保存的修改"); return; }
    await write(() => api(`/api/admin/measures/${key}`, { method: "PATCH", body, headers: ifMatch() }),
      (saved) => `已保存，当前为第${saved.version}版`);
  }
  async function toggleStatus() {
    const action = state.original.status === "active" ? "retire" : "restore";
    if (action === "retire" && !window.confirm("停用后机器人将不再用这条措施答复，确定停用？")) return;
    await write(() => api(`/api/admin/measures/${key}/${action}`, { method: "POST", headers: ifMatch() }),
      () => (action === "retire" ? "已停用" : "已恢复"));
  }
  function ifMatch() { return { "If-Match": String(state.original.version) }; }

  async function write(request, message) {
    try {
      const saved = await request();
      const typed = changes();
      state.original = saved;
      show(saved);
      for (const [field, value] of Object.entries(typed)) setField(field, value);  // keep unsaved edits
      refreshDirty();
      banner.hidden = true;
      toast(message(saved), "ok");
    } catch (error) {
      if (error.status === 409 && error.body && "current_version" in error.body) await reloadAfterConflict();
      else toast(error.message, "error");
    }
  }

  /** Someone saved first: take their version, keep what was typed here, and say what clashes. */
  async function reloadAfterConflict() {
    const typed = values();
    const mine = Object.keys(changes());
    const before = serverValues(state.original);
    const theirs = await api(`/api/measures/${key}`);
    state.original = theirs;
    show(theirs);
    for (const field of mine) setField(field, typed[field]);
    refreshDirty();
    const clashes = mine.filter((f) => !same(serverValues(theirs)[f], before[f]));
    fill(banner, h("strong", { text: "已被他人修改" }),
      `：这条措施刚被更新为第${theirs.version}版。您填写的内容仍保留在表单中，其余内容已刷新为最新版本；请核对后再保存。`,
      clashes.length ? h("ul", {}, clashes.map((f) => h("li", {},
        `对方也改了“${FIELDS[f]}”，现为：`, h("q", { text: displayValue(serverValues(theirs)[f]) })))) : null);
    banner.hidden = false;
  }

  const element = h("form", { class: "measure-form", on: { submit: (e) => { e.preventDefault(); save(); },
    input: refreshDirty, change: refreshDirty, "units-changed": refreshDirty } },
  heading, banner,
  h("div", { class: "measure-form__main" },
    field("简称", title, "m-title"), field("措施内容", text, "m-text"),
    h("div", { class: "form-row" }, field("类别", category, "m-category"), field("标签", tags, "m-tags")),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "btn btn--primary", id: "m-save", text: "保存修改" }),
      h("button", { type: "button", class: "btn", text: "放弃修改", on: { click: () => show(state.original) } }),
      dirty, h("span", { class: "spacer" }), retire)),
  h("div", { class: "measure-form__side" },
    h("div", { class: "field" }, h("span", { class: "field__label", text: "责任单位（按文件顺序，第一个为牵头单位）" }),
      units.element),
    examples.element));
  show(measure);
  return { element, loadExamples: examples.load };
}

function field(label, control, id) {
  return h("div", { class: "field" }, h("label", { for: id, class: "field__label", text: label }), control);
}

function displayValue(value) {
  return Array.isArray(value) ? value.join("、") : String(value);
}

function examplesBlock(key) {
  const list = h("ul", { class: "examples", id: "m-examples" });
  const input = h("input", { id: "m-example", maxLength: 300, autocomplete: "off",
    placeholder: "企业可能的问法，如“我们想搞个直播带货的网店”" });

  async function load() {
    try {
      const items = await api(`/api/admin/measures/${key}/examples`);
      fill(list, items.length ? items.map((e) => h("li", {},
        h("span", { text: e.text }), h("span", { class: "badge", text: e.source === "admin" ? "人工添加" : "初始" }),
        h("button", { type: "button", class: "link-button", text: "删除", "aria-label": `删除例句：${e.text}`,
          on: { click: () => remove(e) } })))
        : h("li", { class: "muted", text: "暂无例句" }));
    } catch (error) {
      fill(list, h("li", { class: "muted", text: error.message }));
    }
  }
  async function add() {
    const text = input.value.trim();
    if (!text) return;
    try {
      await api(`/api/admin/measures/${key}/examples`, { method: "POST", body: { text } });
      input.value = "";
      toast("例句已添加，机器人从下一个问题起即可匹配", "ok");
      load();
    } catch (error) { toast(error.message, "error"); }
  }
  async function remove(example) {
    try {
      await api(`/api/admin/measures/${key}/examples/${example.id}`, { method: "DELETE" });
      load();
    } catch (error) { toast(error.message, "error"); }
  }
  input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); add(); } });
  const element = h("section", { class: "examples-block", "aria-label": "例句" },
    h("h3", { text: "例句（企业的常见问法，帮助机器人找到这条措施）" }), list,
    h("div", { class: "inline-form" }, input, h("button", { type: "button", class: "btn", text: "添加例句", on: { click: add } })));
  return { element, load };
}
