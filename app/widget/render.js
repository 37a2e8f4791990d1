// DOM builders for the chat. Bot replies and policy texts come from a database that admins
// edit, so every piece of data becomes a text node: h() (shared with the console) never parses
// HTML, and nothing in the widget assigns innerHTML. A measure containing "<script>" is shown as
// those characters.

import { formatTime, h } from "./shared/dom.js";

const SVG_NS = "http://www.w3.org/2000/svg";

const FACE = "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20Zm0 1.8a8.2 8.2 0 1 1 0 16.4 8.2 8.2 0 0 1 0-16.4Z"
  + "M8.5 8.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3Zm7 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3Z";

// Icons as path data (24×24), drawn with createElementNS: no image files, no markup parsing.
const ICONS = {
  person: "M12 12.2a4.6 4.6 0 1 0 0-9.2 4.6 4.6 0 0 0 0 9.2Zm0 2.1c-4.4 0-8.4 2.2-8.4 5.3V21h16.8v-1.4c0-3.1-4-5.3-8.4-5.3Z",
  bot: "M12 2.5 3 7.2v1.6h18V7.2L12 2.5ZM5 10.2v7.3h2.4v-7.3H5Zm5.8 0v7.3h2.4v-7.3h-2.4Zm5.8 0v7.3H19v-7.3h-2.4ZM3 19v2h18v-2H3Z",
  headset: "M12 3a8 8 0 0 0-8 8v5.5A2.5 2.5 0 0 0 6.5 19H8v-7H6v-1a6 6 0 0 1 12 0v1h-2v7h2v.5c0 .3-.2.5-.5.5H13v1.5h4.5a2 2 0 0 0 2-2V11a8 8 0 0 0-8-8Z",
  close: "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6l5.6-5.6L5 6.4 6.4 5Z",
  doc: "M6 2h8l5 5v13a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2Zm7 1.5V8h4.5L13 3.5ZM7 12v1.5h10V12H7Zm0 4v1.5h7V16H7Z",
  tag: "M3 3h8.6l9.4 9.4-8.6 8.6L3 11.6V3Zm4.5 3a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3Z",
  // rating faces: a ring, two eyes and a mouth (smile / straight / frown)
  满意: `${FACE}M7.6 14a4.8 4.8 0 0 0 8.8 0l-1.6-.8a3 3 0 0 1-5.6 0l-1.6.8Z`,
  一般: `${FACE}M8 14.2h8V16H8Z`,
  不满意: `${FACE}M7.6 16.4a4.8 4.8 0 0 1 8.8 0l-1.6.8a3 3 0 0 0-5.6 0l-1.6-.8Z`,
};

/** An inline SVG icon, hidden from screen readers (its button or text carries the label). */
export function icon(name, className = "icon") {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", className);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", ICONS[name]);
  path.setAttribute("fill-rule", "evenodd");  // inner shapes (rings, holes) cut out
  svg.append(path);
  return svg;
}

/** A message row: avatar, a screen-reader speaker label, and the content column. */
export function row(role, ...content) {
  const who = role === "user" ? "我" : "政策助手";
  return h("div", { class: `row row--${role}` },
    h("div", { class: `avatar avatar--${role}` }, icon(role === "user" ? "person" : "bot")),
    h("div", { class: "row__body" }, h("span", { class: "sr-only" }, `${who}：`), ...content));
}

export function bubble(text) {
  return h("div", { class: "bubble" }, text);
}

/** The WeChat-style time divider. */
export function timeDivider(date) {
  return h("div", { class: "time" },
    h("time", { datetime: date.toISOString() }, formatTime(date, { relative: true })));
}

let cardCount = 0;

/** One measure: 第N条 + title, units (lead first), category, collapsible full text, source. */
export function measureCard(measure) {
  const id = `measure-text-${++cardCount}`;
  const number = `第${measure.number}条`;
  const text = h("p", { class: "card__text is-collapsed", id }, measure.text || "");
  const toggle = h("button", {
    type: "button", class: "card__toggle", "aria-expanded": "false", "aria-controls": id,
    on: { click: () => {
      const open = !text.classList.toggle("is-collapsed");
      toggle.setAttribute("aria-expanded", String(open));
      toggle.textContent = open ? "收起" : "展开全文";
    } },
  }, "展开全文");
  // Once laid out: a text that fits in the collapsed lines needs no expander.
  requestAnimationFrame(() => {
    if (text.isConnected && text.scrollHeight <= text.clientHeight + 1) {
      text.classList.remove("is-collapsed");
      toggle.remove();
    }
  });
  const units = measure.units || [];
  return h("article", { class: "card", "aria-label": `${number} ${measure.title || ""}` },
    h("h3", { class: "card__head" },
      h("span", { class: "card__no" }, number), h("span", { class: "card__title" }, measure.title || "")),
    units.length > 0 && h("ul", { class: "units", "aria-label": "责任单位" },
      units.map((name, i) => h("li", { class: i === 0 ? "unit unit--lead" : "unit" },
        name, i === 0 && units.length > 1 && h("span", { class: "unit__lead" }, "牵头")))),
    measure.category && h("p", { class: "card__meta" }, icon("tag", "icon icon--small"),
      h("span", { class: "sr-only" }, "类别："), measure.category),
    text, toggle,
    measure.document_title && h("footer", { class: "card__source" }, icon("doc", "icon icon--small"),
      `来源：《${measure.document_title}》`));
}

/** The `units` payload: each unit as a chip with the numbers of its measures. */
export function unitsCard(units) {
  return h("section", { class: "card card--units", "aria-label": "责任单位" },
    h("h3", { class: "card__head" }, h("span", { class: "card__title" }, "责任单位")),
    h("ul", { class: "units" }, units.map((unit) => h("li", { class: "unit" },
      h("span", { class: "unit__name" }, unit.name),
      (unit.measures || []).length > 0 && h("span", { class: "unit__measures" },
        unit.measures.map((n) => `第${n}条`).join("、"))))));
}

/** Quick replies: tapping one calls choose(title, payload). */
export function chips(buttons, choose) {
  return h("div", { class: "chips", role: "group", "aria-label": "快捷回复" },
    buttons.map((b) => h("button", { type: "button", class: "chip", "data-payload": b.payload,
      on: { click: () => choose(b.title, b.payload) } }, b.title)));
}

/** A rating prompt (好差评) for `/rate…` buttons; it closes once a rating is chosen. */
export function ratingPrompt(buttons, choose) {
  const prompt = h("div", { class: "rating", role: "group", "aria-label": "为本次服务评价" },
    h("p", { class: "rating__label" }, "为本次服务评价"),
    h("div", { class: "rating__options" }, buttons.map((b) => h("button", {
      type: "button", class: "rating__option", "data-payload": b.payload, "aria-pressed": "false",
      on: { click: () => prompt.classList.contains("rating--done") || choose(b.title, b.payload) },
    }, Object.hasOwn(ICONS, b.title) && icon(b.title, "icon rating__face"), b.title))));
  return prompt;
}

/** Mark a rating prompt as answered with `payload` (live or when history is restored). */
export function closeRating(prompt, payload) {
  prompt.classList.add("rating--done");
  for (const option of prompt.querySelectorAll("button")) {
    // aria-disabled, not disabled: a disabled button would drop the keyboard user's focus.
    option.setAttribute("aria-disabled", "true");
    option.setAttribute("aria-pressed", String(option.dataset.payload === payload));
  }
}

/** The typing indicator: three animated dots in a bot bubble. */
export function typingRow() {
  const dots = h("div", { class: "bubble bubble--typing", role: "img", "aria-label": "对方正在输入" },
    h("span", { class: "dot" }), h("span", { class: "dot" }), h("span", { class: "dot" }));
  const el = row("bot", dots);
  el.classList.add("row--typing");
  return el;
}
