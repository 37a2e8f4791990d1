// Editing one measure: fields, units in order, retire/restore, example questions, and 409 handling;
// before saving, how many companies the edit would notify, and whether to notify them.

import { api, query } from "./api.js";
import { debounce, field, fill, guarded, h, option, splitList, toast } from "./dom.js";
import { examplesBlock } from "./examples_block.js";
import { notifyChoice } from "./notify_choice.js";
import { measurePicker } from "./measure_picker.js";
import { unitsEditor } from "./units_editor.js";
import { STATUSES } from "./kinds.js";

const FIELDS = { title: "简称", text: "措施内容", category: "类别", units: "责任单位", tags: "标签" };
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const editable = (m) => ({ title: m.title, text: m.text, category: m.category, units: m.units, tags: m.tags });

/** The 措施 tab; returns `open(documentId, number)` for links such as #measure=1:38. */
export function measuresTab(root, catalogue) {
  const editor = h("section", { class: "panel pad editor", "aria-label": "编辑措施" },
    h("p", { class: "empty", text: "在上方搜索并选择要编辑的措施（也可输入“1:38”打开已停用的条目）" }));
  const picker = measurePicker({ label: "选择措施", onPick: (m) => open(m.document_id, m.number) });
  fill(root, h("div", { class: "panel pad" }, picker.element), editor);

  const open = guarded(async (documentId, number) => {
    const [measure] = await Promise.all([api(`/api/measures/${documentId}/${number}`), catalogue.loaded]);
    const form = new MeasureForm(measure, catalogue);
    fill(editor, form.element);
    form.examples.load();
  });
  return { open };
}

/** The edit form of one measure; `original` is the version the edits are based on (If-Match). */
class MeasureForm {
  constructor(measure, catalogue) {
    this.key = `${measure.document_id}/${measure.number}`;
    this.original = measure;
    this.controls = {
      title: h("input", { id: "m-title", maxLength: 120, autocomplete: "off" }),
      text: h("textarea", { id: "m-text", rows: 6, maxLength: 5000 }),
      category: h("select", { id: "m-category" }, catalogue.categories.filter((c) => c.document_id === measure.document_id)
        .map((c) => option(c.title, `${c.ordinal}. ${c.title}`))),
      tags: h("input", { id: "m-tags", autocomplete: "off", placeholder: "用“、”分隔，如 新设企业、小微企业" }),
    };
    this.units = unitsEditor(catalogue.units);
    this.heading = h("div", { class: "editor__head" });
    this.banner = h("div", { id: "m-conflict", class: "banner banner--warn", role: "alert", hidden: true });
    this.dirty = h("span", { class: "dirty", text: "有未保存的修改", hidden: true });
    this.retire = h("button", { type: "button", class: "btn btn--danger", id: "m-retire",
      on: { click: () => this.toggleStatus() } });
    this.notify = notifyChoice("m-notify", "保存或恢复时通知这些企业");
    this.previewed = 0;  // the latest preview request: an older answer arriving late is dropped
    this.previewSoon = debounce(() => this.previewNotifications(), 400);
    this.examples = examplesBlock(this.key);
    this.element = this.layout();
    this.show(measure);
  }

  layout() {
    const refresh = (event) => {
      this.refreshDirty();
      if (!this.notify.element.contains(event.target)) this.previewSoon();  // not for the notify box itself
    };
    const { title, text, category, tags } = this.controls;
    return h("form", { class: "measure-form", on: { submit: (e) => { e.preventDefault(); this.save(); },
      input: refresh, change: refresh, "units-changed": refresh } },
    this.heading, this.banner,
    h("div", { class: "measure-form__main" },
      field("简称", title), field("措施内容", text),
      h("div", { class: "form-row" }, field("类别", category), field("标签", tags)),
      h("div", { class: "actions" },
        h("button", { type: "submit", class: "btn btn--primary", id: "m-save", text: "保存修改" }),
        h("button", { type: "button", class: "btn", text: "放弃修改", on: { click: () => this.show(this.original) } }),
        this.dirty, h("span", { class: "spacer" }), this.retire),
      this.notify.element),
    h("div", { class: "measure-form__side" },
      h("div", { class: "field" }, h("span", { class: "field__label", text: "责任单位（按文件顺序，第一个为牵头单位）" }),
        this.units.element),
      this.examples.element));
  }

  values() {
    const { title, text, category, tags } = this.controls;
    return { title: title.value.trim(), text: text.value.trim(), category: category.value,
      units: this.units.names(), tags: splitList(tags.value) };
  }

  /** The fields typed here that differ from the version they are based on. */
  changes() {
    const now = this.values();
    const base = editable(this.original);
    return Object.fromEntries(Object.keys(FIELDS).filter((f) => !same(now[f], base[f])).map((f) => [f, now[f]]));
  }

  setField(field, value) {
    if (field === "units") this.units.set(value);
    else if (field === "tags") this.controls.tags.value = value.join("、");
    else this.controls[field].value = value;
  }

  show(measure) {
    for (const [field, value] of Object.entries(editable(measure))) this.setField(field, value);
    this.previewSoon();
    const retired = measure.status !== "active";
    fill(this.heading, h("h2", { text: `第${measure.number}条 ${measure.title}` }),
      h("span", { class: `badge ${retired ? "badge--retired" : "badge--ok"}`, text: STATUSES[measure.status] || measure.status }),
      h("span", { class: "muted", id: "m-version", text: `文件${measure.document_id} · 第${measure.version}版` }));
    this.retire.textContent = retired ? "恢复此条" : "停用此条";
    this.refreshDirty();
  }

  refreshDirty() {
    this.dirty.hidden = !Object.keys(this.changes()).length;
  }

  ifMatch() {
    return { "If-Match": String(this.original.version) };
  }

  async save() {
    const body = this.changes();
    if (!Object.keys(body).length) { toast("没有需要保存的修改"); return; }
    const notify = this.notify.checked();
    await this.write(() => api(`/api/admin/measures/${this.key}${query({ notify })}`,
      { method: "PATCH", body, headers: this.ifMatch() }),
    (saved) => `已保存，当前为第${saved.version}版${notify ? "" : "（未通知企业）"}`);
    this.notify.clear();
  }

  /**
   * Ask how many companies the typed edit (only the fields that matching reads) would newly concern;
   * for a retired measure with nothing typed, how many restoring it would.
   */
  async previewNotifications() {
    const changed = this.changes();
    const read = ["title", "text", "category", "tags"]
      .filter((f) => f in changed && !(f === "tags" && !changed.tags.length));
    const restoring = !read.length && this.original.status !== "active";
    if (!read.length && !restoring) { this.notify.clear(); return; }
    const request = ++this.previewed;
    const [documentId, number] = this.key.split("/");
    const params = new URLSearchParams({ document_id: documentId, number });
    if (restoring) params.set("status", "active");
    for (const f of read) {
      if (f === "tags") for (const tag of changed.tags) params.append("tags", tag);
      else params.set(f, changed[f]);
    }
    try {
      const preview = await api(`/api/admin/push/preview?${params}`);
      if (request === this.previewed) this.notify.show(preview, restoring ? "恢复此条" : "此次修改");
    } catch (error) {
      if (request === this.previewed) this.notify.failed(error.message);
    }
  }

  async toggleStatus() {
    const action = this.original.status === "active" ? "retire" : "restore";
    if (action === "retire" && !window.confirm("停用后机器人将不再用这条措施答复，确定停用？")) return;
    const notify = action === "restore" ? this.notify.checked() : undefined;  // retiring tells nobody
    await this.write(() => api(`/api/admin/measures/${this.key}/${action}${query({ notify })}`,
      { method: "POST", headers: this.ifMatch() }),
    () => (action === "retire" ? "已停用" : `已恢复${notify ? "" : "（未通知企业）"}`));
    this.notify.clear();
    this.previewSoon();
  }

  async write(request, message) {
    try {
      const saved = await request();
      const typed = this.changes();
      this.original = saved;
      this.show(saved);
      for (const [field, value] of Object.entries(typed)) this.setField(field, value);  // unsaved edits stay
      this.refreshDirty();
      this.banner.hidden = true;
      toast(message(saved), "ok");
    } catch (error) {
      if (error.status === 409 && error.body && "current_version" in error.body) await this.reloadAfterConflict();
      else toast(error.message, "error");
    }
  }

  /** Someone saved first: take their version, keep what was typed here, and say where both edited. */
  async reloadAfterConflict() {
    const typed = this.values();
    const mine = Object.keys(this.changes());
    const before = editable(this.original);
    const theirs = await api(`/api/measures/${this.key}`);
    this.original = theirs;
    this.show(theirs);
    for (const field of mine) this.setField(field, typed[field]);
    this.refreshDirty();
    const clashes = mine.filter((f) => !same(editable(theirs)[f], before[f]));
    fill(this.banner, h("strong", { text: "已被他人修改" }),
      `：这条措施刚被更新为第${theirs.version}版。您填写的内容仍保留在表单中，其余内容已刷新为最新版本；请核对后再保存。`,
      clashes.length ? h("ul", {}, clashes.map((f) => h("li", {},
        `对方也改了“${FIELDS[f]}”，现为：`, h("q", { text: shown(editable(theirs)[f]) })))) : null);
    this.banner.hidden = false;
  }
}

function shown(value) {
  return Array.isArray(value) ? value.join("、") : String(value);
}
