// An ordered list of responsible units: the first is the lead unit; add, move up/down, remove.

import { fill, h, option, toast } from "./dom.js";

/** The editor over the catalogue's units (a Map name → unit); `names()` in order, `set(names)`. */
export function unitsEditor(units) {
  let names = [];
  const list = h("ol", { class: "unit-editor", id: "m-units" });
  const datalist = h("datalist", { id: "unit-choices" },
    [...units.values()].flatMap((u) => [option(u.name, u.full_name || u.name)]));
  const input = h("input", { id: "m-unit-add", list: "unit-choices", autocomplete: "off",
    placeholder: "单位名称或简称，如 税务局", "aria-label": "添加责任单位" });
  const element = h("div", {}, list,
    h("div", { class: "inline-form" }, input, datalist,
      h("button", { type: "button", class: "btn", text: "添加单位", on: { click: add } })));

  function changed() {
    render();
    element.dispatchEvent(new CustomEvent("units-changed", { bubbles: true }));
  }
  function render() {
    fill(list, names.map((name, i) => h("li", { class: "unit-editor__row" },
      h("span", { class: "unit-editor__no", text: `${i + 1}.` }),
      h("span", { class: "unit-editor__name", text: name }),
      i === 0 ? h("span", { class: "badge badge--lead", text: "牵头" }) : null,
      h("span", { class: "spacer" }),
      button("上移", `上移 ${name}`, i === 0, () => move(i, -1)),
      button("下移", `下移 ${name}`, i === names.length - 1, () => move(i, 1)),
      button("移除", `移除 ${name}`, names.length === 1, () => { names.splice(i, 1); changed(); }))));
  }
  function move(index, step) {
    const [name] = names.splice(index, 1);
    names.splice(index + step, 0, name);
    changed();
  }
  function add() {
    const typed = input.value.trim();
    if (!typed) return;
    const unit = resolve(units, typed);
    if (!unit) { toast(`未知的责任单位：${typed}（请先在“责任单位”页新建）`, "error"); return; }
    if (names.includes(unit.name)) { toast(`已有 ${unit.name}`, "error"); return; }
    names.push(unit.name);
    input.value = "";
    changed();
  }
  input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); add(); } });
  return { element, names: () => [...names], set: (value) => { names = [...value]; render(); } };
}

function button(text, label, disabled, click) {
  return h("button", { type: "button", class: "btn btn--small", text, "aria-label": label, disabled,
    on: { click } });
}

function resolve(units, typed) {
  if (units.has(typed)) return units.get(typed);
  return [...units.values()].find((u) => u.full_name === typed || (u.aliases || []).includes(typed));
}
