// The staff console's filters: document → section → category cascade, the responsible unit, and
// whether measures of expired and replaced documents are searched too.

import { api } from "./api.js";
import { $, fill, option } from "./dom.js";
import { VALIDITIES } from "./kinds.js";

/** Load the catalogue's documents, categories and units into the filter selects. */
export async function loadFilters() {
  const [documents, categories, units] = await Promise.all([
    api("/api/documents"), api("/api/categories"), api("/api/units"),
  ]);
  fill($("f-document"), option("", "全部文件"),
    documents.map((d) => option(String(d.id), documentChoice(d))));
  fill($("f-unit"), option("", "全部单位"),
    [...units].sort((a, b) => b.measures.length - a.measures.length)
      .map((u) => option(u.name, `${u.name}（${u.measures.length}）`)));
  const catalogue = { categories, units: new Map(units.map((u) => [u.name, u])) };
  const cascade = () => refreshSections(catalogue);
  $("f-document").addEventListener("change", cascade);
  $("f-section").addEventListener("change", () => refreshCategories(catalogue));
  cascade();
  return catalogue;
}

/** A document in the filter: its title, and why its measures are not in the answers. */
function documentChoice(policy) {
  if (policy.status !== "active") return `${policy.title}（已停用）`;
  if (policy.validity && policy.validity !== "in_force") return `${policy.title}（${VALIDITIES[policy.validity] || policy.validity}）`;
  return policy.title;
}

function refreshSections(catalogue) {
  const documentId = $("f-document").value;
  const kept = $("f-section").value;
  const sections = [];
  for (const c of catalogue.categories) {
    if ((!documentId || String(c.document_id) === documentId) && !sections.includes(c.section)) {
      sections.push(c.section);
    }
  }
  fill($("f-section"), option("", "全部章节"), sections.map((s) => option(s, s, s === kept)));
  refreshCategories(catalogue);
}

function refreshCategories(catalogue) {
  const documentId = $("f-document").value;
  const section = $("f-section").value;
  const kept = $("f-category").value;
  const shown = catalogue.categories.filter((c) =>
    (!documentId || String(c.document_id) === documentId) && (!section || c.section === section));
  fill($("f-category"), option("", "全部类别"),
    shown.map((c) => option(c.title, `${c.title}（${c.measures.length}）`, c.title === kept)));
}

/** The chosen filters as query parameters of /api/measures (plus `section`). */
export function chosenFilters() {
  return {
    document_id: $("f-document").value,
    section: $("f-section").value,
    category: $("f-category").value,
    unit: $("f-unit").value,
    include_outdated: $("f-outdated").checked ? "true" : "",
  };
}

/** Back to no filter at all. */
export function resetFilters() {
  for (const id of ["f-document", "f-section", "f-category", "f-unit"]) $(id).value = "";
  $("f-outdated").checked = false;
  $("f-document").dispatchEvent(new Event("change"));
}
