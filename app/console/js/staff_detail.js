// The measure detail of the staff console: full text, its document and whether that is still in
// force, units in order, and the answer to read out.

import { answerText, unitsText } from "./answer.js";
import { copyText, facts, fill, h, highlight, toast } from "./dom.js";
import { VALIDITIES } from "./kinds.js";

/** The badge of a document's validity ("已被替代", "已失效"…); none for one in force unless `always`. */
export function validityBadge(validity, { always = false } = {}) {
  if (!validity || (validity === "in_force" && !always)) return null;
  return h("span", { class: `badge badge--validity badge--${validity.replace("_", "-")}`,
    text: VALIDITIES[validity] || validity });
}

/** Why a measure's document no longer applies, in a sentence (empty when it is in force). */
function outdatedNote(measure) {
  if (measure.validity === "replaced") {
    return measure.replaced_by ? `该文件已被《${measure.replaced_by}》替代，答复前请核对现行文件。` : "该文件已被替代，答复前请核对现行文件。";
  }
  if (measure.validity === "expired") return "该文件已过有效期，答复前请核对现行文件。";
  if (measure.validity === "pending") return "该文件尚未施行。";
  return "";
}

/** Show a measure in the detail panel, with its terms highlighted. */
export function showDetail(panel, measure, { terms = [], units = new Map() } = {}) {
  const answer = answerText(measure);
  const copy = h("button", {
    type: "button", class: "btn btn--primary", id: "copy-answer", text: "复制答复",
    on: { click: async () => toast(await copyText(answer) ? "答复已复制，可直接粘贴" : "复制失败，请手动选择文字", "info") },
  });
  const note = outdatedNote(measure);
  fill(panel, h("article", { class: "detail__body", "aria-labelledby": "detail-title" },
    h("p", { class: "detail__source" }, `《${measure.document_title}》`,
      measure.document_date ? `（${measure.document_date}）` : "", ` · ${measure.section} `,
      validityBadge(measure.validity)),
    note ? h("p", { class: "detail__outdated", role: "note", text: note }) : null,
    h("h2", { id: "detail-title", class: "detail__title" },
      h("span", { class: "detail__no", text: `第${measure.number}条` }), " ", measure.title),
    facts([["类别", measure.category], ["版本", `第${measure.version}版`],
      ["状态", measure.status === "active" ? "有效" : "已停用"],
      measure.tags.length ? ["标签", measure.tags.join("、")] : null]),
    h("h3", { text: "措施内容" }),
    h("p", { class: "detail__text" }, highlight(measure.text, terms)),
    h("h3", { text: "责任单位" }),
    h("ol", { class: "unit-list" }, measure.units.map((name, i) => unitItem(name, i, measure, units))),
    h("section", { class: "answer", "aria-label": "答复口径" },
      h("div", { class: "answer__head" }, h("h3", { text: "答复口径" }), copy),
      h("p", { class: "answer__text", id: "answer-text", text: answer }))));
}

function unitItem(name, index, measure, units) {
  const unit = units.get(name);
  const contact = unit ? [unit.phone && `电话 ${unit.phone}`, unit.address].filter(Boolean).join("　") : "";
  return h("li", { class: "unit-list__item" },
    h("span", { class: "unit-list__name", text: name }),
    index === 0 && measure.units.length > 1 ? h("span", { class: "badge badge--lead", text: "牵头" }) : null,
    unit && unit.full_name && unit.full_name !== name ? h("span", { class: "muted", text: unit.full_name }) : null,
    contact ? h("span", { class: "unit-list__contact", text: contact }) : null);
}

/** One search result row (the list is a listbox; the row an option). */
export function resultItem(measure, index, terms, showScore) {
  const outdated = measure.validity && measure.validity !== "in_force";
  return h("li", { id: `result-${index}`, class: `result${outdated ? " result--outdated" : ""}`, role: "option",
    "aria-selected": "false", dataset: { index: String(index), validity: measure.validity || "in_force" } },
  h("div", { class: "result__head" },
    h("span", { class: "result__no", text: `第${measure.number}条` }),
    h("span", { class: "result__title" }, highlight(measure.title, terms)),
    validityBadge(measure.validity),
    showScore ? h("span", { class: "result__score", text: `匹配度 ${Math.round(measure.score * 100)}%` }) : null),
  h("p", { class: "result__text" }, highlight(measure.text, terms)),
  h("p", { class: "result__meta" },
    h("span", { class: "result__document", text: `《${measure.document_title}》` }),
    ` · ${measure.category} · ${unitsText(measure.units)}`));
}
