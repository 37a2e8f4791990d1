// The admin page: tabs for measures, units, document import, tokens and the audit trail.

import { api } from "./api.js";
import { requireSignIn } from "./signin.js";
import { measuresTab } from "./admin_measure.js";
import { unitsTab } from "./admin_units.js";
import { importTab } from "./admin_import.js";
import { tokensTab } from "./admin_tokens.js";
import { auditTab } from "./admin_audit.js";

const TABS = ["measures", "units", "import", "tokens", "audit"];
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
  const panel = build(tab);
  if (wanted) panel.open(Number(wanted[1]), Number(wanted[2]));
}

function build(tab) {
  if (built[tab]) return built[tab];
  const root = document.getElementById(`tab-${tab}`);
  const makers = {
    measures: () => measuresTab(root, catalogue),
    units: () => unitsTab(root, catalogue),
    import: () => importTab(root, () => { catalogue.loaded = loadCatalogue(); }),
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
