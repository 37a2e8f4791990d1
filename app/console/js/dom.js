// Building the page from data without markup: every text goes in through textContent.

/** An element: h("button", {class: "btn", on: {click}}, "保存"); attributes never take markup. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "on") for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key in el && !key.includes("-") && key !== "list") el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's content. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

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

const TIME = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit", hour12: false,
});

/** A timestamp in Shanghai time, such as 2024/01/31 08:00. */
export function formatTime(iso) {
  return iso ? TIME.format(new Date(iso)) : "—";
}

/** Split a list typed by a person: 、，, ; ； and new lines separate items. */
export function splitList(text) {
  return text.split(/[、，,;；\n]+/u).map((s) => s.trim()).filter(Boolean);
}

/** An <option>. */
export function option(value, label, selected = false) {
  return h("option", { value, text: label, selected });
}
