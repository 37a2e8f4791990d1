// The 责任单位 tab: every unit with its measures; edit name, full name, aliases, kind, contacts and remit.

import { api } from "./api.js";
import { field, fill, guarded, h, option, splitList, table, toast } from "./dom.js";
import { UNIT_KINDS } from "./kinds.js";


/** Render the tab into `root`; `catalogue.units` (a Map) is reloaded after each write. */
export function unitsTab(root, catalogue) {
  const filter = h("input", { type: "search", placeholder: "筛选单位", "aria-label": "筛选单位" });
  const rows = h("tbody");
  const formBox = h("section", { class: "panel pad", "aria-label": "单位信息" });
  let chosen = null;

  function renderTable() {
    const needle = filter.value.trim();
    const shown = [...catalogue.units.values()].filter((u) => !needle
      || [u.name, u.full_name, ...u.aliases].some((s) => s.includes(needle)));
    fill(rows, shown.map((u) => h("tr", { class: u.name === chosen ? "is-chosen" : "",
      on: { click: () => edit(u) } },
    h("td", {}, h("button", { type: "button", class: "link-button", text: u.name })),
    h("td", { text: u.aliases.join("、") }),
    h("td", { class: "num", text: String(u.measures.length) }),
    h("td", { class: "nowrap", text: u.phone || "—" }))));
  }

  function edit(unit) {
    chosen = unit ? unit.name : null;
    renderTable();
    fill(formBox, unitForm(unit, async (saved) => {
      await catalogue.loadUnits();
      edit(saved ? catalogue.units.get(saved.name) || null : null);
    }));
  }

  filter.addEventListener("input", renderTable);
  guarded(async () => {
    await catalogue.loaded;
    renderTable();
    edit([...catalogue.units.values()][0] || null);
  })();
  fill(root, h("div", { class: "two-columns" },
    h("section", { class: "panel pad" },
      h("div", { class: "toolbar" }, filter,
        h("button", { type: "button", class: "btn btn--primary", text: "新建单位", on: { click: () => edit(null) } })),
      table("table table--clickable", ["名称", "别名", "措施数", "电话"], rows)),
    formBox));
}

function unitFields(unit) {
  const input = (id, value, extra = {}) => h("input", { id, value: value || "", autocomplete: "off", ...extra });
  return {
    name: input("u-name", unit && unit.name, { required: true, maxLength: 100 }),
    full_name: input("u-full-name", unit && unit.full_name, { maxLength: 200 }),
    aliases: input("u-aliases", unit && unit.aliases.join("、"), { placeholder: "用“、”分隔，如 税务局、区税务" }),
    kind: h("select", { id: "u-kind" }, Object.entries(UNIT_KINDS).map(([k, label]) =>
      option(k, label, unit ? unit.kind === k : k === "district_department"))),
    phone: input("u-phone", unit && unit.phone, { maxLength: 60 }),
    address: input("u-address", unit && unit.address, { maxLength: 200 }),
    remit: h("textarea", { id: "u-remit", rows: 3, placeholder: "用“、”分隔，如 社会保险、劳动仲裁、工伤认定" },
      (unit && unit.remit || []).join("、")),
  };
}

const LABELS = { name: "名称（文件中的写法）", full_name: "全称", aliases: "别名", kind: "类型",
  phone: "咨询电话", address: "地址", remit: "职能事项（行动方案没有专门措施时，据此告诉企业找哪个单位）" };

function unitForm(unit, saved) {
  const fields = unitFields(unit);

  const submit = guarded(async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(Object.entries(fields).map(([k, el]) =>
      [k, k === "aliases" || k === "remit" ? splitList(el.value) : el.value.trim()]));
    const result = unit
      ? await api(`/api/admin/units/${encodeURIComponent(unit.name)}`, { method: "PATCH", body })
      : await api("/api/admin/units", { method: "POST", body });
    toast(unit ? "单位信息已保存" : "单位已新建", "ok");
    await saved(result);
  });

  const remove = guarded(async () => {
    if (!window.confirm(`删除单位“${unit.name}”？`)) return;
    await api(`/api/admin/units/${encodeURIComponent(unit.name)}`, { method: "DELETE" });
    toast("单位已删除", "ok");
    await saved(null);
  });

  return h("form", { class: "stack-form", on: { submit } },
    h("h2", { text: unit ? `编辑：${unit.name}` : "新建单位" }),
    unit ? h("p", { class: "muted", text: unit.measures.length
      ? `负责第 ${unit.measures.join("、")} 条（牵头 ${unit.lead_measures.length} 条）` : "目前没有措施" }) : null,
    Object.entries(fields).map(([k, el]) => field(LABELS[k], el)),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "btn btn--primary", text: "保存" }),
      unit ? h("button", { type: "button", class: "btn btn--danger", text: "删除单位", disabled: unit.measures.length > 0,
        title: unit.measures.length ? "仍有措施由该单位负责，不能删除" : "", on: { click: remove } }) : null));
}
