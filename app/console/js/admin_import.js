// The 导入文件 tab: paste or upload a policy document, preview what it changes (or its bad lines), commit.

import { api } from "./api.js";
import { facts, field, fill, h, toast } from "./dom.js";

/** Render the tab into `root`; `imported()` runs after a committed import. */
export function importTab(root, imported) {
  const slug = h("input", { id: "i-slug", maxLength: 120, autocomplete: "off", placeholder: "如 putuo-2022-plan" });
  const file = h("input", { id: "i-file", type: "file", accept: ".txt,text/plain" });
  const text = h("textarea", { id: "i-text", rows: 14, spellcheck: false,
    placeholder: "粘贴政策文件全文：标题、一、二、…章，(一)(二)…类别，1. 2. …措施及（责任单位：…）" });
  const preview = h("button", { type: "button", class: "btn", id: "i-preview", text: "预览", on: { click: () => run(false) } });
  const commit = h("button", { type: "button", class: "btn btn--primary", id: "i-commit", text: "确认导入", disabled: true,
    on: { click: () => run(true) } });
  const result = h("div", { id: "i-result", class: "import-result", "aria-live": "polite" });
  let previewed = null;

  file.addEventListener("change", async () => {
    const chosen = file.files[0];
    if (!chosen) return;
    text.value = (await chosen.text()).replace(/^\ufeff/, "");
    if (!slug.value) slug.value = chosen.name.replace(/\.[^.]+$/, "").toLowerCase();
    invalidate();
  });
  text.addEventListener("input", invalidate);
  slug.addEventListener("input", invalidate);

  function invalidate() {
    commit.disabled = previewed !== `${slug.value}\n${text.value}` || !previewed;
  }

  async function run(doCommit) {
    if (!slug.value.trim() || !text.value.trim()) { toast("请填写文件标识并粘贴或选择文件", "error"); return; }
    const sent = `${slug.value}\n${text.value}`;
    try {
      const answer = await api("/api/admin/documents", { method: "POST",
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
      field("从文件读取（UTF-8 文本）", file)),
    field("文件全文", text),
    h("div", { class: "actions" }, preview, commit), result);
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
