// The console's page helpers. h(), fill() and formatTime() are the widget's too (/shared/dom.js):
// building the page from data without markup, every text goes in as text.

import { h } from "/shared/dom.js";

export { fill, formatTime, h } from "/shared/dom.js";

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** The text with each occurrence of a term wrapped in <mark> (longest terms first, case-insensitive). */
export function highlight(text, terms) {
  const fragment = document.createDocumentFragment();
  const wanted = [...new Set((terms || []).filter((t) => t && t.trim()))]
    .sort((a, b) => b.length - a.length).map((t) => t.toLowerCase());
  const lower = text.toLowerCase();
  let start = 0;
  let plain = 0;
  while (start < text.length && wanted.length) {
    const term = wanted.find((t) => lower.startsWith(t, start));
    if (!term) { start += 1; continue; }
    if (start > plain) fragment.append(text.slice(plain, start));
    fragment.append(h("mark", { text: text.slice(start, start + term.length) }));
    start += term.length;
    plain = start;
  }
  if (plain < text.length) fragment.append(text.slice(plain));
  return fragment;
}

/** A function that runs `fn` once calls have paused for `ms`. */
export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Put text on the clipboard (also on plain-HTTP intranet hosts, where the Clipboard API is absent). */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch { /* fall back below */ }
  }
  const area = h("textarea", { value: text, readOnly: true, class: "offscreen" });
  document.body.append(area);
  area.select();
  const done = document.execCommand("copy");
  area.remove();
  return done;
}

let toastTimer;
/** A short message at the bottom of the page ("error" ones stay longer). */
export function toast(message, kind = "info") {
  let box = document.getElementById("toast");
  if (!box) {
    box = h("div", { id: "toast", class: "toast", role: "status", "aria-live": "polite" });
    document.body.append(box);
  }
  box.className = `toast toast--${kind} toast--shown`;
  box.textContent = message;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => box.classList.remove("toast--shown"), kind === "error" ? 6000 : 2600);
}

/** `fn` made safe to call from a handler: a failure shows as an error toast (its message after `prefix`). */
export function guarded(fn, prefix = "") {
  return async (...args) => {
    try {
      return await fn(...args);
    } catch (error) {
      toast(`${prefix}${error.message}`, "error");
      return undefined;
    }
  };
}

/** Split a list typed by a person: 、，, ; ； and new lines separate items. */
export function splitList(text) {
  return text.split(/[、，,;；\n]+/u).map((s) => s.trim()).filter(Boolean);
}

/** An <option>. */
export function option(value, label, selected = false) {
  return h("option", { value, text: label, selected });
}

/** A form field: the control under its label. */
export function field(label, control) {
  return h("div", { class: "field" }, h("label", { for: control.id, class: "field__label", text: label }), control);
}

/** A <dl class="facts"> of [term, value] pairs (null pairs left out). */
export function facts(pairs, props = {}) {
  return h("dl", { ...props, class: "facts" },
    pairs.filter(Boolean).map(([term, value]) => [h("dt", { text: term }), h("dd", { text: value })]));
}

/** A table's head row of column titles. */
export function tableHead(columns) {
  return h("thead", {}, h("tr", {}, columns.map((title) => h("th", { text: title }))));
}

/** A <table class=…> with a head row of column titles and `body` (a <tbody>). */
export function table(className, columns, body) {
  return h("table", { class: className }, tableHead(columns), body);
}

/** A table row that says there is nothing to list, across `columns` columns. */
export function emptyRow(columns, text) {
  return h("tr", {}, h("td", { colSpan: columns, class: "empty", text }));
}
