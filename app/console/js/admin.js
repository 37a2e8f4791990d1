// The admin page: tabs for measures, documents and categories, units, document import,
// whole-catalogue export/import, tokens and the audit trail.

import { api } from "./api.js";
import { requireSignIn } from "./signin.js";
import { measuresTab } from "./admin_measure.js";
import { documentsTab } from "./admin_documents.js";
import { unitsTab } from "./admin_units.js";
import { importTab } from "./admin_import.js";
import { transferTab } from "./admin_transfer.js";
import { tokensTab } from "./admin_tokens.js";
import { auditTab } from "./admin_audit.js";

const TABS = ["measures", "documents", "units", "import", "transfer", "tokens", "audit"];
const catalogue = { categories: [], units: new Map(), loaded: Promise.resolve() };
const built = {};
let me = null;

requireSignIn({ role: "admin", ready: start });

function start(principal) {
  me = principal;
  // Tabs wait for the catalogue only where they need it (it is slow to list on big databases).
  catalogue.loaded = loadCatalogue();
  for (const button of document.querySelectorAll("[role=tab]")) {
    button.addEventListener("click", () => { window.location.hash = button.dataset.tab; });
  }
  document.querySelector("[role=tablist]").addEventListener("keydown", moveBetweenTabs);
  window.addEventListener("hashchange", route);
  route();
}

async function loadCatalogue() {
  const [categories, units] = await Promise.all([api("/api/categories"), api("/api/units")]);
  catalogue.categories = categories;
  catalogue.units.clear();
  for (const u of units) catalogue.units.set(u.name, u);
}

/** Show the tab named in the hash (#units…); #measure=1:38 opens that measure. */
function route() {
  const hash = decodeURIComponent(window.location.hash.slice(1));
  const wanted = hash.match(/^measure=(\d+):(\d+)$/);
  const tab = wanted ? "measures" : TABS.includes(hash) ? hash : "measures";
  for (const button of document.querySelectorAll("[role=tab]")) {
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
    transfer: () => transferTab(root, reloadCatalogue),
    tokens: () => tokensTab(root, me),
    audit: () => auditTab(root),
  };
  built[tab] = makers[tab]() || {};
  return built[tab];
}

function moveBetweenTabs(event) {
  if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
  const tabs = [...document.querySelectorAll("[role=tab]")];
  const index = tabs.indexOf(document.activeElement);
  const next = tabs[(index + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
  next.focus();
  next.click();
}
