// Building pages from data, shared by the chat widget (served at /) and the staff console
// (which imports this file as /shared/dom.js). Policy texts, bot replies and questions come from
// people, so every piece of data becomes a text node or an attribute value: h() never parses
// markup, refuses the properties that would (innerHTML, outerHTML, srcdoc), and takes listeners
// only as functions under `on`, never as on* attributes.

const MARKUP = new Set(["innerhtml", "outerhtml", "srcdoc"]);

/**
 * An element: h("button", {class: "btn", on: {click}}, "保存").
 * Props: `class`; `text` (the text content); `on` ({event: listener}); `dataset`; an element
 * property of that name (value, hidden, disabled, maxLength…); otherwise an attribute (true → "").
 * Undefined, null and false props and children are left out; arrays of children are flattened.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (MARKUP.has(key.toLowerCase())) throw new TypeError(`h(): "${key}" would parse markup`);
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "on") for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    else if (/^on/i.test(key)) throw new TypeError(`h(): listeners go in on: {${key.slice(2)}}`);
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

/**
 * A Date from an API time: ISO text, read as UTC when it has no offset (SQLite returns stored
 * UTC times without one, which JS would read as local time), or a Date. Null for no time.
 */
export function toDate(value) {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  const iso = String(value ?? "");
  if (!iso) return null;
  const date = new Date(/(?:[zZ]|[+-]\d\d:?\d\d)$/.test(iso) ? iso : `${iso}Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}

const SHANGHAI = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit", hour12: false,
});

/**
 * A time as people read it ("—" for none).
 * By default the full Shanghai time for records and lists: 2024/01/31 08:00.
 * With `relative`, as a chat shows it, in the reader's time zone: 14:05 today, 昨天 14:05,
 * 星期二 14:05 within a week, 11月28日 14:05, or with the year (`now` for tests).
 */
export function formatTime(value, { relative = false, now = new Date() } = {}) {
  const date = toDate(value);
  if (!date) return "—";
  if (!relative) return SHANGHAI.format(date);
  const pad = (n) => String(n).padStart(2, "0");
  const hm = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((day(now) - day(date)) / 86400000);
  if (days === 0) return hm;
  if (days === 1) return `昨天 ${hm}`;
  if (days > 1 && days < 7) return `星期${"日一二三四五六"[date.getDay()]} ${hm}`;
  const md = `${date.getMonth() + 1}月${date.getDate()}日 ${hm}`;
  return date.getFullYear() === now.getFullYear() ? md : `${date.getFullYear()}年${md}`;
}
