// The 导入文件 tab: paste or upload a policy document, preview what it changes (or its bad lines), commit.

import { api, ApiError, token } from "./api.js";
import { facts, field, fill, h, toast } from "./dom.js";

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
    invalidate();
  });
  text.addEventListener("input", () => { if (text.value) upload = null; invalidate(); });
  slug.addEventListener("input", invalidate);

  function current() {
    return `${slug.value}\n${upload ? `${upload.name}\n${upload.size}\n${upload.lastModified}` : text.value}`;
  }

  function invalidate() {
    commit.disabled = previewed !== current() || !previewed;
  }

  async function run(doCommit) {
    if (!slug.value.trim() || !(text.value.trim() || upload)) { toast("请填写文件标识并粘贴或选择文件", "error"); return; }
    const sent = current();
    try {
      const answer = upload ? await sendFile(upload, slug.value.trim(), doCommit)
        : await api("/api/admin/documents", { method: "POST",
          body: { slug: slug.value.trim(), text: text.value, commit: doCommit } });
      previewed = doCommit ? null : sent;
      fill(result, report(answer));
      if (doCommit) { toast("文件已导入，机器人已可引用新内容", "ok"); imported(); }
    } catch (error) {
      previewed = null;
      fill(result, error.body && error.body.problems ? problems(error.body.problems, text.value)
        : h("p", { class: "banner banner--error", text: error.message }));
    }
    invalidate();
  }

  fill(root, layout({ slug, file, text, preview, commit, result }));
}

function layout({ slug, file, text, preview, commit, result }) {
  return h("section", { class: "panel pad" },
    h("h2", { text: "导入政策文件" }),
    h("p", { class: "muted", text: "先预览：列出将新增、更新、停用的措施，或逐行列出格式问题；确认无误后再导入。同一标识再次导入即为更新该文件。" }),
    h("div", { class: "form-row" }, field("文件标识（英文、数字、连字符）", slug),
      field("从文件读取（.txt、.docx、.pdf、.html，不超过 20 MB；扫描件PDF需先做文字识别）", file)),
    field("文件全文", text),
    h("div", { class: "actions" }, preview, commit), result);
}

/** Upload a .docx/.pdf/.html file for the server to read; errors as api() throws them. */
async function sendFile(chosen, slugValue, doCommit) {
  const form = new FormData();
  form.append("file", chosen);
  form.append("slug", slugValue);
  form.append("commit", String(doCommit));
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

function report(answer) {
  const { summary, report: r, committed } = answer;
  const numbers = (list) => (list.length ? list.join("、") : "无");
  return h("div", { class: committed ? "banner banner--ok" : "banner" },
    h("h3", { text: committed ? "已导入" : "预览（尚未导入）" }),
    facts([["标题", summary.title], ["发文单位", summary.issuers.join("、") || "—"],
      ["成文日期", summary.issued_on || "—"],
      ["结构", `${summary.sections} 章 · ${summary.categories} 类 · ${summary.measures} 条措施`],
      ["新增措施", numbers(r.created)], ["更新措施", numbers(r.updated)], ["未变措施", `${r.unchanged.length} 条`],
      ["将停用", numbers(r.retired)], ["新单位", r.new_units.join("、") || "无"]]));
}

function problems(list, text) {
  const lines = text.split(/\r?\n/);
  return h("div", { class: "banner banner--error" },
    h("h3", { text: `文件格式有误（${list.length} 处），请修改后重新预览` }),
    h("ol", { class: "problems" }, list.map((p) => h("li", {},
      h("strong", { text: `第${p.line}行：` }), p.message,
      lines[p.line - 1] ? h("code", { text: lines[p.line - 1].slice(0, 120) }) : null))));
}
