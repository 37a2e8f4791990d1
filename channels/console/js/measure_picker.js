// A search box that picks one measure: keywords (the bot's matcher), "38", or "1:38" for retired ones.

import { api, query } from "./api.js";
import { debounce, fill, h } from "./dom.js";

let pickers = 0;

/** A combobox; `onPick(measure)` gets the chosen measure (the full public view). */
export function measurePicker({ label, placeholder = "输入关键词或条目号，如“直播带货”“38”", onPick }) {
  const id = `picker-${++pickers}`;
  const input = h("input", { id, type: "search", autocomplete: "off", placeholder, role: "combobox",
    "aria-expanded": "false", "aria-controls": `${id}-list`, "aria-autocomplete": "list" });
  const list = h("ul", { id: `${id}-list`, class: "picker__list", role: "listbox", hidden: true });
  const state = { items: [], active: -1, controller: null };

  async function search() {
    const text = input.value.trim();
    if (state.controller) state.controller.abort();
    state.controller = new AbortController();
    if (!text) { close(); return; }
    try {
      state.items = await find(text, state.controller.signal);
      state.active = state.items.length ? 0 : -1;
      render();
    } catch (error) {
      if (error.name !== "AbortError") { state.items = []; render(error.message); }
    }
  }

  function render(message) {
    fill(list, state.items.length ? state.items.map((m, i) => h("li", {
      id: `${id}-${i}`, role: "option", class: "picker__option", "aria-selected": String(i === state.active),
      dataset: { index: String(i) } },
    h("strong", { text: `第${m.number}条` }), " ", m.title,
    m.status === "retired" ? h("span", { class: "badge badge--retired", text: "已停用" }) : null,
    h("small", { text: ` ${m.category}` })))
      : h("li", { class: "picker__none", text: message || "没有找到，换个关键词或输入条目号" }));
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    if (state.active >= 0) input.setAttribute("aria-activedescendant", `${id}-${state.active}`);
  }

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function pick(index) {
    const measure = state.items[index];
    if (!measure) return;
    close();
    onPick(measure);
  }

  input.addEventListener("input", debounce(search, 200));
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (list.hidden) { search(); return; }
      const step = event.key === "ArrowDown" ? 1 : -1;
      state.active = Math.min(state.items.length - 1, Math.max(0, state.active + step));
      render();
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (list.hidden) search(); else pick(state.active);
    } else if (event.key === "Escape") {
      close();
    }
  });
  list.addEventListener("mousedown", (event) => {
    const row = event.target.closest(".picker__option");
    if (row) { event.preventDefault(); pick(Number(row.dataset.index)); }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));

  const element = h("div", { class: "picker" },
    label ? h("label", { for: id, class: "picker__label", text: label }) : null, input, list);
  return { element, input, search };
}

async function find(text, signal) {
  const exact = text.match(/^(\d+)\s*[:：/-]\s*(\d+)$/);
  if (exact) return [await api(`/api/measures/${exact[1]}/${exact[2]}`, { signal })];
  const data = await api(`/api/measures${query({ q: text, limit: 8 })}`, { signal });
  return data.items;
}
