// The 整库备份 tab: download the whole catalogue as JSON, and load such a file (after a confirmation).

import { api, download } from "./api.js";
import { facts, field, fill, guarded, h, toast } from "./dom.js";

const COUNTS = [["documents", "政策文件", "个"], ["measures", "措施", "条"], ["units", "责任单位", "个"],
  ["synonyms", "同义词", "条"], ["stopwords", "停用词", "个"]];

/** Render the tab into `root`; `imported()` runs after a successful import. */
export function transferTab(root, imported) {
  const exportButton = h("button", { type: "button", class: "btn btn--primary", id: "x-export", text: "导出 JSON",
    on: { click: guarded(async () => {
      toast(`已导出 ${await download("/api/admin/export", "policybot-catalogue.json")}`, "ok");
    }) } });
  const file = h("input", { id: "x-file", type: "file", accept: ".json,application/json" });
  const replace = h("input", { id: "x-replace", type: "checkbox" });
  const confirmButton = h("button", { type: "button", class: "btn btn--primary", id: "x-import", text: "确认导入",
    disabled: true, on: { click: importCatalogue } });
  const result = h("div", { id: "x-result", "aria-live": "polite" });
  let chosen = null;  // { name, data }

  file.addEventListener("change", async () => {
    chosen = null;
    confirmButton.disabled = true;
    const picked = file.files[0];
    if (!picked) { fill(result); return; }
    let data;
    try {
      data = JSON.parse((await picked.text()).replace(/^\ufeff/, ""));
    } catch {
      fill(result, errorBanner(`“${picked.name}”不是有效的 JSON 文件，请选择本页导出的文件`));
      return;
    }
    if (!data || typeof data !== "object" || Array.isArray(data)) {
      fill(result, errorBanner(`“${picked.name}”不是本系统导出的数据，请选择本页导出的文件`));
      return;
    }
    chosen = { name: picked.name, data };
    fill(result, fileSummary(chosen));
    confirmButton.disabled = false;
  });

  async function importCatalogue() {
    if (!chosen) return;
    if (replace.checked && !window.confirm(
      `用“${chosen.name}”替换现有全部政策数据？\n现有的文件、类别、措施、例句、单位和同义词将被删除，并换成文件中的内容。`)) return;
    confirmButton.disabled = true;
    try {
      const counts = await api(`/api/admin/import${replace.checked ? "?replace=true" : ""}`,
        { method: "POST", body: chosen.data });
      fill(result, h("div", { class: "banner banner--ok" }, h("h3", { text: `已导入“${chosen.name}”` }), countList(counts)));
      toast("导入完成，机器人从下一个问题起使用导入的数据", "ok");
      chosen = null;
      file.value = "";
      replace.checked = false;  // the next import must ask for replacing again
      imported();
    } catch (error) {
      const hint = error.status === 409 && !replace.checked ? "数据库中已有数据：如需整体替换，请勾选“替换现有全部政策数据”后再确认导入。" : "";
      fill(result, errorBanner(error.message, hint));
      confirmButton.disabled = false;
    }
  }

  fill(root, h("section", { class: "panel pad", "aria-label": "导出" },
    h("h2", { text: "导出整库" }),
    h("p", { class: "muted", text: "下载全部政策数据（文件原文、类别、措施及版本、责任单位、例句、同义词）为一个 JSON 文件，用于备份或迁移到另一台服务器。令牌、操作记录和提问记录不在其中。" }),
    h("div", { class: "actions" }, exportButton)),
  h("section", { class: "panel pad", "aria-label": "导入" },
    h("h2", { text: "从 JSON 导入" }),
    h("p", { class: "muted", text: "选择本系统导出的 JSON 文件，核对其内容后确认导入。导入在一个事务中完成：文件有误时不会写入任何数据。" }),
    field("JSON 文件", file),
    h("label", { class: "checkbox" }, replace, "替换现有全部政策数据（先删除现有数据，再导入文件内容）"),
    h("div", { class: "actions" }, confirmButton), result));
}

/** What a chosen export holds, counted in the browser before anything is sent. */
function fileSummary({ name, data }) {
  const documents = Array.isArray(data.documents) ? data.documents : [];
  const measures = documents.flatMap((d) => (d.sections || []).flatMap((s) => (s.categories || [])
    .flatMap((c) => c.measures || [])));
  const counts = { documents: documents.length, measures: measures.length, units: (data.units || []).length,
    synonyms: (data.synonyms || []).length, stopwords: (data.stopwords || []).length };
  const known = data.format === "policybot-catalogue";
  return h("div", { class: known ? "banner" : "banner banner--warn" },
    h("h3", { text: `待导入：“${name}”（尚未导入）` }),
    known ? null : h("p", { text: "该文件不像本系统导出的数据，导入时服务器会逐项检查并指出问题。" }),
    countList(counts));
}

function countList(counts) {
  return facts(COUNTS.map(([key, label, unit]) => [label, `${counts[key] ?? 0} ${unit}`]), { id: "x-counts" });
}

function errorBanner(message, hint = "") {
  return h("div", { class: "banner banner--error", role: "alert" },
    h("h3", { text: "未导入" }), h("p", { text: message }), hint ? h("p", { text: hint }) : null);
}
