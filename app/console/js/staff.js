// The staff console: search as you type with the bot's matcher, filters, detail, answer, export.

import { api, download, query } from "./api.js";
import { $, debounce, fill, guarded, h, toast } from "./dom.js";
import { consolePage } from "./shell.js";
import { resultItem, showDetail } from "./staff_detail.js";
import { chosenFilters, loadFilters, resetFilters } from "./staff_filters.js";

const PAGE = 20;
const MAX_EXPORT = 10000;
const state = { items: [], terms: [], kind: "browse", total: 0, offset: 0, active: -1, controller: null, route: null };
let catalogue = { units: new Map() };

async function start() {
  // Filters fill in when the catalogue has loaded; the search does not wait for them.
  guarded(async () => { catalogue = await loadFilters(); }, "筛选条件加载失败：")();
  $("q").addEventListener("input", debounce(() => search(0), 180));
  for (const id of ["f-document", "f-section", "f-category", "f-unit", "f-outdated"]) {
    $(id).addEventListener("change", () => search(0));
  }
  $("f-reset").addEventListener("click", resetFilters);  // its change event runs the search
  $("prev").addEventListener("click", () => search(Math.max(0, state.offset - PAGE)));
  $("next").addEventListener("click", () => search(state.offset + PAGE));
  $("export-csv").addEventListener("click", () => exportAs("csv"));
  $("export-xlsx").addEventListener("click", () => exportAs("xlsx"));
  $("results").addEventListener("click", (event) => {
    const row = event.target.closest(".result");
    if (row) open(Number(row.dataset.index));
  });
  document.addEventListener("keydown", onKey);
  await search(0);
  $("q").focus();
}

function params() {
  return { q: $("q").value.trim(), ...chosenFilters() };
}

/** Run the search for the current box and filters from `offset`; older answers are dropped. */
async function search(offset) {
  if (state.controller) state.controller.abort();
  const controller = new AbortController();
  state.controller = controller;
  const chosen = params();
  // /api/measures has no section filter; the staff endpoint adds it over the same matcher.
  const path = chosen.section ? "/api/staff/measures" : "/api/measures";
  $("results").setAttribute("aria-busy", "true");
  try {
    const data = await api(path + query({ ...chosen, limit: PAGE, offset }), { signal: controller.signal });
    Object.assign(state, { items: data.items, terms: data.terms || [], kind: data.kind, total: data.total,
      offset, active: data.items.length ? 0 : -1, unit: data.unit, route: data.route || null });
    renderResults();
  } catch (error) {
    if (error.name === "AbortError") return;
    Object.assign(state, { items: [], total: 0, active: -1 });
    fill($("results"), h("li", { class: "empty", text: error.message }));
    fill($("summary"), "");
  } finally {
    if (state.controller === controller) $("results").removeAttribute("aria-busy");
  }
}

// No measure: when the question is a unit's remit, say whose (the bot says the same).
function emptyText() {
  const { route } = state;
  if (route) return `行动方案里没有专门的措施；这类事项（${route.phrase}）一般由${route.unit}负责：${route.contact || route.unit}`;
  return params().q ? "没有找到相关措施，换个说法或减少筛选条件试试" : "没有符合筛选条件的措施";
}

function renderResults() {
  const { items, total, offset, kind } = state;
  const terms = kind === "search" ? state.terms : [];
  fill($("results"), items.length ? items.map((m, i) => resultItem(m, i, terms, kind === "search"))
    : h("li", { class: "empty", text: emptyText() }));
  const how = { number: "按条目编号", unit: `按责任单位：${state.unit || ""}`, search: "按相关度排序", browse: "按条目顺序" }[kind];
  fill($("summary"), total ? `共 ${total} 条，显示第 ${offset + 1}–${offset + items.length} 条 · ${how}` : "共 0 条");
  if (kind === "search" && state.terms.length) {
    $("summary").append(h("span", { class: "terms" }, " · 匹配词：", state.terms.map((t) => h("mark", { text: t }))));
  }
  $("prev").disabled = offset === 0;
  $("next").disabled = offset + items.length >= total;
  fill($("page"), total ? `${Math.floor(offset / PAGE) + 1} / ${Math.ceil(total / PAGE)}` : "");
  $("export-csv").disabled = $("export-xlsx").disabled = !total;
  mark(state.active);
  if (items.length) open(state.active, { focus: false });
  else fill($("detail"), h("p", { class: "empty", text: "没有可显示的措施" }));
}

function mark(index) {
  const rows = $("results").querySelectorAll(".result");
  rows.forEach((row, i) => row.setAttribute("aria-selected", String(i === index)));
  if (rows[index]) {
    $("results").setAttribute("aria-activedescendant", rows[index].id);
    rows[index].scrollIntoView({ block: "nearest" });
  }
}

/** Show result `index` in the detail panel. */
function open(index, { focus = true } = {}) {
  const measure = state.items[index];
  if (!measure) return;
  state.active = index;
  mark(index);
  showDetail($("detail"), measure, { terms: state.kind === "search" ? state.terms : [], units: catalogue.units });
  if (focus) $("copy-answer").focus();
}

function onKey(event) {
  const typing = event.target.matches("input, textarea, select");
  if (event.key === "/" && !typing) {
    event.preventDefault();
    $("q").focus();
    $("q").select();
    return;
  }
  if (event.key === "Escape" && event.target === $("q") && $("q").value) {
    $("q").value = "";
    search(0);
    return;
  }
  const inList = event.target === $("q") || event.target.closest("#results, #detail");
  if (!inList || !state.items.length) return;
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    const step = event.key === "ArrowDown" ? 1 : -1;
    state.active = Math.min(state.items.length - 1, Math.max(0, state.active + step));
    mark(state.active);
  } else if (event.key === "Enter" && (event.target === $("q") || event.target === $("results"))) {
    event.preventDefault();
    open(Math.max(0, state.active));
  } else if (event.key === "Escape" && event.target !== $("q")) {
    $("q").focus();
  }
}

const exportAs = guarded(async (kind) => {
  if (state.total > MAX_EXPORT) toast(`结果较多，仅导出前 ${MAX_EXPORT} 条`, "info");
  const name = await download(`/api/staff/measures.${kind}${query(params())}`, `policy-measures.${kind}`);
  toast(`已导出 ${name}`);
}, "导出失败：");

consolePage("staff", start);
