// The 导入文件 tab: paste or upload a policy document, preview its structure and what it changes (or
// its bad lines), correct its title, 文号 and dates and say which document it replaces, see how many
// companies it would notify, commit with or without notifying them.

import { api, ApiError, token } from "./api.js";
import { facts, field, fill, guarded, h, option, toast } from "./dom.js";
import { datesText, documentLabel } from "./admin_documents.js";
import { notifyChoice } from "./notify_choice.js";

// The metadata fields of a document: [key of `metadata`, id, label, input type].
const METADATA = [
  ["title", "i-title", "标题", "text"],
  ["document_number", "i-number", "文号", "text"],
  ["issued_on", "i-issued", "发布日期", "date"],
  ["effective_on", "i-effective", "施行日期", "date"],
  ["expires_on", "i-expires", "失效日期", "date"],
];

/** Render the tab into `root`; `imported()` runs after a committed import. */
export function importTab(root, imported) {
  const slug = h("input", { id: "i-slug", maxLength: 120, autocomplete: "off", placeholder: "如 putuo-2022-plan" });
  const file = h("input", { id: "i-file", type: "file", accept: ".txt,.docx,.pdf,.html,.htm" });
  const text = h("textarea", { id: "i-text", rows: 14, spellcheck: false,
    placeholder: "粘贴政策文件全文：标题、一、二、…章，(一)(二)…类别，1. 2. …措施及（责任单位：…）" });
  const preview = h("button", { type: "button", class: "btn", id: "i-preview", text: "预览", on: { click: () => run(false) } });
  const commit = h("button", { type: "button", class: "btn btn--primary", id: "i-commit", text: "确认导入", disabled: true,
    on: { click: () => run(true) } });
  const result = h("div", { id: "i-result", class: "import-result", "aria-live": "polite" });
  const meta = metadataForm(invalidate);
  const notify = notifyChoice("i-notify", "导入时通知这些企业");
  let previewed = null;
  let upload = null; // a .docx/.pdf/.html file: the server reads it (POST /documents/upload)
  const hint = text.placeholder;

  file.addEventListener("change", async () => {
    const chosen = file.files[0];
    if (!chosen) return;
    upload = /\.txt$/i.test(chosen.name) ? null : chosen;
    text.value = upload ? "" : (await chosen.text()).replace(/^\ufeff/, "");
    text.placeholder = upload ? `已选择 ${chosen.name}：由服务器读取其文字，点击“预览”查看` : hint;
    if (!slug.value) slug.value = chosen.name.replace(/\.[^.]+$/, "").toLowerCase();
    meta.reset();  // another document: its own title and dates, until corrected again
    notify.clear();
    fill(result);
    invalidate();
  });
  text.addEventListener("input", () => {
    if (text.value) upload = null;
    if (!text.value.trim()) { meta.reset(); notify.clear(); fill(result); }
    invalidate();
  });
  slug.addEventListener("input", invalidate);

  // What a preview was of: the commit button waits until exactly this has been previewed.
  function current() {
    const source = upload ? `${upload.name}\n${upload.size}\n${upload.lastModified}` : text.value;
    return JSON.stringify([slug.value, source, meta.corrections(), meta.supersedes()]);
  }

  function invalidate() {
    commit.disabled = previewed !== current() || !previewed;
  }

  async function run(doCommit) {
    if (!slug.value.trim() || !(text.value.trim() || upload)) { toast("请填写文件标识并粘贴或选择文件", "error"); return; }
    // A preview always counts who would be notified; the commit notifies them only if the box is ticked.
    const options = { slug: slug.value.trim(), commit: doCommit, metadata: meta.corrections(),
      supersedes: meta.supersedes(), notify: doCommit ? notify.checked() : true };
    preview.disabled = commit.disabled = true;
    try {
      const answer = upload ? await sendFile(upload, options)
        : await api("/api/admin/documents", { method: "POST", body: { ...options, text: text.value } });
      if (doCommit) {
        previewed = null;
        fill(result, committedReport(answer, options.notify));
        meta.reset();
        notify.clear();
        toast(`已导入《${answer.metadata.title}》，机器人和政策查询已可使用新内容`, "ok");
        imported();
        meta.load();  // the new document can now be replaced in turn
      } else {
        fill(result, previewReport(answer));
        meta.show(answer.metadata);
        notify.show(answer.notifications);
        previewed = current();
      }
    } catch (error) {
      previewed = null;
      fill(result, error.body && error.body.problems ? problems(error.body.problems, text.value)
        : h("p", { class: "banner banner--error", role: "alert", text: error.message }));
    } finally {
      preview.disabled = false;
      invalidate();
    }
  }

  fill(root, layout({ slug, file, text, preview, commit, result, meta: meta.element, notify: notify.element }));
  meta.load();
  return { shown: meta.load };
}

function layout({ slug, file, text, preview, commit, result, meta, notify }) {
  return h("section", { class: "panel pad" },
    h("h2", { text: "导入政策文件" }),
    h("p", { class: "muted", text: "先预览：显示识别出的结构和文件信息，列出将新增、更新、停用的措施，或逐行列出格式问题；"
      + "可更正标题、文号和日期，并选择本文件替代的已有文件，再次预览核对后确认导入。同一标识再次导入即为更新该文件。" }),
    h("div", { class: "form-row" }, field("文件标识（英文、数字、连字符）", slug),
      field("从文件读取（.txt、.docx、.pdf、.html，不超过 20 MB；扫描件PDF需先做文字识别）", file)),
    field("文件全文", text),
    result, meta, notify,
    h("div", { class: "actions" }, preview, commit));
}

/**
 * The document's title, 文号 and dates as read by the last preview, editable; and the document it
 * replaces. Only the fields a person changed are sent as `metadata` (the rest stay as the
 * document states them, also when its text is edited); `changed()` runs on every edit.
 */
function metadataForm(changed) {
  const inputs = Object.fromEntries(METADATA.map(([key, id, , type]) => [key,
    h("input", { id, type, autocomplete: "off", maxLength: type === "text" ? (key === "title" ? 300 : 80) : null })]));
  const replaces = h("select", { id: "i-supersedes" }, option("", "（不替代任何文件）"));
  const edited = new Set();
  for (const [key, input] of Object.entries(inputs)) {
    input.addEventListener("input", () => { edited.add(key); changed(); });
  }
  replaces.addEventListener("change", changed);
  const element = h("fieldset", { id: "i-meta", class: "import-meta", hidden: true },
    h("legend", { text: "文件信息（从文件中读取，可更正；留空则以文件所写为准）" }),
    h("div", { class: "form-row" }, field("标题", inputs.title), field("文号", inputs.document_number)),
    h("div", { class: "form-row" }, field("发布日期", inputs.issued_on), field("施行日期", inputs.effective_on),
      field("失效日期", inputs.expires_on)),
    field("替代已有文件", replaces),
    h("p", { class: "muted", text: "被替代的文件标为“已被替代”：其措施不再用于答复，工作人员仍可勾选“包括已失效/已被替代的文件”查到。"
      + "更正或选择后请再次预览，核对无误再确认导入。" }));

  return {
    element,
    /** The corrected fields ({} when none), as POST /documents takes them. */
    corrections() {
      const values = {};
      for (const key of edited) {
        const value = inputs[key].value.trim();
        if (value) values[key] = value;
      }
      return values;
    },
    /** The slug of the document to replace, or null. */
    supersedes: () => replaces.value || null,
    /** Show the form with the values a preview would store. */
    show(metadata) {
      for (const [key, input] of Object.entries(inputs)) input.value = metadata[key] || "";
      element.hidden = false;
    },
    /** Hide and forget every correction and the replaced document. */
    reset() {
      edited.clear();
      for (const input of Object.values(inputs)) input.value = "";
      replaces.value = "";
      element.hidden = true;
    },
    /** (Re)load the documents that can be replaced. */
    load: guarded(async () => {
      const documents = await api("/api/documents");
      const kept = replaces.value;
      fill(replaces, option("", "（不替代任何文件）"), documents.map((d) =>
        option(d.slug, documentLabel(d), d.slug === kept)));
    }, "文件列表加载失败："),
  };
}

/** Upload a .docx/.pdf/.html file for the server to read; errors as api() throws them. */
async function sendFile(chosen, { slug, commit, metadata, supersedes, notify }) {
  const form = new FormData();
  form.append("file", chosen);
  form.append("slug", slug);
  form.append("commit", String(commit));
  if (Object.keys(metadata).length) form.append("metadata", JSON.stringify(metadata));
  if (supersedes) form.append("supersedes", supersedes);
  form.append("notify", String(notify));
  const headers = { Accept: "application/json" };
  if (token.get()) headers.Authorization = `Bearer ${token.get()}`;
  let response;
  try {
    response = await fetch("/api/admin/documents/upload", { method: "POST", body: form, headers });
  } catch {
    throw new ApiError(0, "无法连接服务器，请检查网络", null);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401) window.dispatchEvent(new CustomEvent("console:unauthorized"));
    const message = data && typeof data.detail === "string" ? data.detail : `请求失败（${response.status}）`;
    throw new ApiError(response.status, message, data);
  }
  return data;
}

/** "3 条（第1、2、3条）": a count of measures, with their numbers when they are few. */
function measureCount(numbers) {
  if (!numbers.length) return "无";
  return numbers.length <= 30 ? `${numbers.length} 条（第${numbers.join("、")}条）` : `${numbers.length} 条`;
}

function previewReport(answer) {
  const { summary, report: r } = answer;
  return h("div", { class: "banner", id: "i-preview-report" },
    h("h3", { text: "预览（尚未导入）" }),
    facts([["识别结构", summary.shape_label || summary.shape || "—"],
      ["内容", `${summary.sections} 章 · ${summary.categories} 类 · ${summary.measures} 条措施 · ${summary.units.length} 个责任单位`],
      ["发文单位", summary.issuers.join("、") || "—"],
      ["新增措施", measureCount(r.created)], ["更新措施", measureCount(r.updated)],
      ["未变措施", `${r.unchanged.length} 条`], ["将停用", measureCount(r.retired)],
      ["新单位", r.new_units.join("、") || "无"],
      answer.supersedes ? ["替代", `《${answer.supersedes.title}》将标为“已被替代”`] : null],
    { id: "i-summary" }));
}

function committedReport(answer, notified) {
  const { metadata, summary, report: r } = answer;
  const counts = `新增 ${r.created.length} 条、更新 ${r.updated.length} 条、未变 ${r.unchanged.length} 条、停用 ${r.retired.length} 条措施`;
  return h("div", { class: "banner banner--ok", id: "i-done", role: "status" },
    h("h3", { text: `已导入《${metadata.title}》` }),
    h("p", { class: "import-counts", text: counts }),
    facts([["识别结构", summary.shape_label || summary.shape || "—"],
      ["内容", `${summary.sections} 章 · ${summary.categories} 类 · ${summary.measures} 条措施 · ${summary.units.length} 个责任单位`],
      ["文号", metadata.document_number || "—"],
      ["日期", datesText(metadata)],
      answer.supersedes ? ["替代", `《${answer.supersedes.title}》已标为“已被替代”`] : null,
      ["新单位", r.new_units.join("、") || "无"],
      ["通知企业", notified ? `已通知 ${answer.notifications.count} 家企业（由推送服务陆续送达）` : "未通知企业"]]),
    h("p", { class: "muted", text: "新措施已可在“政策查询”中检索，机器人从下一个问题起即可引用。" }));
}

function problems(list, text) {
  const lines = text.split(/\r?\n/);
  return h("div", { class: "banner banner--error" },
    h("h3", { text: `文件格式有误（${list.length} 处），请修改后重新预览` }),
    h("ol", { class: "problems" }, list.map((p) => h("li", {},
      h("strong", { text: `第${p.line}行：` }), p.message,
      lines[p.line - 1] ? h("code", { text: lines[p.line - 1].slice(0, 120) }) : null))));
}
