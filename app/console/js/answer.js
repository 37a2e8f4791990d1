// The ready-to-read answer a staff member gives a company, citing the measure and its units.

/** Units in the document's order, the lead unit marked when there are several. */
export function unitsText(units) {
  if (!units || !units.length) return "";
  if (units.length === 1) return units[0];
  return `${units[0]}（牵头）、${units.slice(1).join("、")}`;
}

/** "根据《…》第N条：…，责任单位：A（牵头）、B。" */
export function answerText(measure) {
  const text = measure.text.trim().replace(/[。；;，,.\s]+$/u, "");
  const source = measure.document_title ? `《${measure.document_title}》` : `文件${measure.document_id}`;
  return `根据${source}第${measure.number}条：${text}，责任单位：${unitsText(measure.units)}。`;
}

/** "第38条 电商知识产权保护指引" */
export function measureLabel(measure) {
  return `第${measure.number}条 ${measure.title || ""}`.trim();
}
