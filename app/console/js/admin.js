// The admin page: tabs for measures, documents and categories, units, document import,
// policy notifications, whole-catalogue export/import, tokens and the audit trail.

import { api } from "./api.js";
import { h } from "./dom.js";
import { consolePage } from "./shell.js";
import { measuresTab } from "./admin_measure.js";
import { documentsTab } from "./admin_documents.js";
import { unitsTab } from "./admin_units.js";
import { importTab } from "./admin_import.js";
import { pushTab } from "./admin_push.js";
import { transferTab } from "./admin_transfer.js";
import { tokensTab } from "./admin_tokens.js";
import { auditTab } from "./admin_audit.js";

const tabs = [...document.querySelectorAll("[role=tab]")];
const TABS = tabs.map((button) => button.dataset.tab);
const catalogue = { categories: [], units: new Map(), loaded: Promise.resolve(), loadUnits };
const built = {};
let me = null;

// Each tab's panel (built when first shown) follows the tab list, named like its tab.
document.querySelector("[role=tablist]").after(...tabs.map((button) => {
  button.setAttribute("aria-controls", `tab-${button.dataset.tab}`);
  return h("div", { id: `tab-${button.dataset.tab}`, role: "tabpanel", "aria-label": button.textContent,
    hidden: true });
}));
consolePage("admin", start);

function start(principal) {
  me = principal;
  // Tabs wait for the catalogue only where they need it (it is slow to list on big databases).
  catalogue.loaded = loadCatalogue();
  for (const button of tabs) {
    button.addEventListener("click", () => { window.location.hash = button.dataset.tab; });
  }
  document.querySelector("[role=tablist]").addEventListener("keydown", moveBetweenTabs);
  window.addEventListener("hashchange", route);
  route();
}

async function loadCatalogue() {
  const [categories] = await Promise.all([api("/api/categories"), loadUnits()]);
  catalogue.categories = categories;
}

/** (Re)load the units into `catalogue.units` (name → unit). */
async function loadUnits() {
  const units = await api("/api/units");
  catalogue.units.clear();
  for (const u of units) catalogue.units.set(u.name, u);
}

/** Show the tab named in the hash (#units…); #measure=1:38 opens that measure. */
function route() {
  const hash = decodeURIComponent(window.location.hash.slice(1));
  const wanted = hash.match(/^measure=(\d+):(\d+)$/);
  const tab = wanted ? "measures" : TABS.includes(hash) ? hash : "measures";
  for (const button of tabs) {
    const active = button.dataset.tab === tab;
    button.setAttribute("aria-selected", String(active));
    button.tabIndex = active ? 0 : -1;
  }
  for (const name of TABS) document.getElementById(`tab-${name}`).hidden = name !== tab;
  const shownBefore = Boolean(built[tab]);
  const panel = build(tab);
  if (shownBefore && panel.shown) panel.shown();  // refresh what other tabs may have changed
  if (wanted) panel.open(Number(wanted[1]), Number(wanted[2]));
}

function reloadCatalogue() {
  catalogue.loaded = loadCatalogue();
}

function build(tab) {
  if (built[tab]) return built[tab];
  const root = document.getElementById(`tab-${tab}`);
  const makers = {
    measures: () => measuresTab(root, catalogue),
    documents: () => documentsTab(root, reloadCatalogue),
    units: () => unitsTab(root, catalogue),
    import: () => importTab(root, reloadCatalogue),
    push: () => pushTab(root),
    transfer: () => transferTab(root, reloadCatalogue),
    tokens: () => tokensTab(root, me),
    audit: () => auditTab(root),
  };
  built[tab] = makers[tab]() || {};
  return built[tab];
}

function moveBetweenTabs(event) {
  if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
  const index = tabs.indexOf(document.activeElement);
  const next = tabs[(index + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
  next.focus();
  next.click();
}
