// A search box that picks one measure: keywords (the bot's matcher), "38", or "1:38" for retired ones.

import { api, query } from "./api.js";
import { debounce, fill, h } from "./dom.js";

let pickers = 0;

/** A combobox; `onPick(measure)` gets the chosen measure (the full public view). */
export function measurePicker({ label, placeholder = "输入关键词或条目号，如“直播带货”“38”", onPick }) {
  return new MeasurePicker(label, placeholder, onPick);
}

class MeasurePicker {
  constructor(label, placeholder, onPick) {
    this.id = `picker-${++pickers}`;
    this.onPick = onPick;
    this.items = [];
    this.active = -1;
    this.controller = null;
    this.input = h("input", { id: this.id, type: "search", autocomplete: "off", placeholder, role: "combobox",
      "aria-expanded": "false", "aria-controls": `${this.id}-list`, "aria-autocomplete": "list" });
    this.list = h("ul", { id: `${this.id}-list`, class: "picker__list", role: "listbox", hidden: true });
    this.input.addEventListener("input", debounce(() => this.search(), 200));
    this.input.addEventListener("keydown", (event) => this.onKey(event));
    this.input.addEventListener("blur", () => setTimeout(() => this.close(), 150));
    this.list.addEventListener("mousedown", (event) => {
      const row = event.target.closest(".picker__option");
      if (row) { event.preventDefault(); this.pick(Number(row.dataset.index)); }
    });
    this.element = h("div", { class: "picker" },
      label ? h("label", { for: this.id, class: "picker__label", text: label }) : null, this.input, this.list);
  }

  /** Look up what the box says and list the measures found. */
  async search() {
    const text = this.input.value.trim();
    if (this.controller) this.controller.abort();
    this.controller = new AbortController();
    if (!text) { this.close(); return; }
    try {
      this.items = await find(text, this.controller.signal);
      this.active = this.items.length ? 0 : -1;
      this.render();
    } catch (error) {
      if (error.name !== "AbortError") { this.items = []; this.render(error.message); }
    }
  }

  render(message) {
    fill(this.list, this.items.length ? this.items.map((m, i) => h("li", {
      id: `${this.id}-${i}`, role: "option", class: "picker__option", "aria-selected": String(i === this.active),
      dataset: { index: String(i) } },
    h("strong", { text: `第${m.number}条` }), " ", m.title,
    m.status === "retired" ? h("span", { class: "badge badge--retired", text: "已停用" }) : null,
    h("small", { text: ` ${m.category}` })))
      : h("li", { class: "picker__none", text: message || "没有找到，换个关键词或输入条目号" }));
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    if (this.active >= 0) this.input.setAttribute("aria-activedescendant", `${this.id}-${this.active}`);
  }

  close() {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }

  pick(index) {
    const measure = this.items[index];
    if (!measure) return;
    this.close();
    this.onPick(measure);
  }

  onKey(event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (this.list.hidden) { this.search(); return; }
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.active = Math.min(this.items.length - 1, Math.max(0, this.active + step));
      this.render();
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (this.list.hidden) this.search(); else this.pick(this.active);
    } else if (event.key === "Escape") {
      this.close();
    }
  }
}

async function find(text, signal) {
  const exact = text.match(/^(\d+)\s*[:：/-]\s*(\d+)$/);
  if (exact) return [await api(`/api/measures/${exact[1]}/${exact[2]}`, { signal })];
  const data = await api(`/api/measures${query({ q: text, limit: 8 })}`, { signal });
  return data.items;
}
