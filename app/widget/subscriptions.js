// 我的订阅: the company's inbox of policy notifications and its saved profile (企业画像).
//
// The title bar's bell opens a sheet over the chat. The inbox is fetched on every visit and
// then once a minute (only while the page is visible: one small GET), and its unread count is
// the bell's badge. The profile is saved only after the consent text is ticked; the server
// checks the fields and its 422 messages are shown in the form. Nothing but the form's fields
// and this browser's sender id is ever sent.

import { senderId } from "./transport.js";
import { fill, formatTime, h } from "./shared/dom.js";

const POLL_MS = 60 * 1000;
const FIELD_LABELS = {
  enterprise_types: "企业类型", industry: "行业", street: "所在街道镇", size: "企业规模", topics: "关注的主题",
};
// Putuo's streets and towns, offered as suggestions (any text up to 30 characters is accepted).
const STREETS = ["长寿路街道", "曹家渡街道", "甘泉路街道", "石泉路街道", "宜川路街道", "真如镇街道",
  "万里街道", "长征镇", "桃浦镇"];
const OFFLINE = "暂时无法连接服务器，请稍后再试。";

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The 422 detail as one sentence: the server's own words, or the fields pydantic refused. */
function messageOf(data, status) {
  const detail = data?.detail;
  if (typeof detail === "string" && detail) return detail;
  if (Array.isArray(detail) && detail.length) {
    return detail.map((d) => {
      const field = FIELD_LABELS[(d?.loc || []).find((part) => FIELD_LABELS[part])];
      return field ? `${field}填写有误` : "内容有误";
    }).filter((m, i, all) => all.indexOf(m) === i).join("；");
  }
  if (status === 429) return "操作太频繁，请稍后再试。";
  return OFFLINE;
}

/** A measure key ("1:23") as people say it (第23条). */
export function measureLabel(key) {
  const number = String(key).split(":").pop();
  return `第${number}条`;
}

export class Subscriptions {
  /** `ask(payload, title)` sends a message to the bot as if the user had tapped a quick reply. */
  constructor({ ask, pollMs = POLL_MS }) {
    this.ask = ask;
    this.sender = senderId();
    this.sheet = document.getElementById("mine");
    this.opener = document.getElementById("mine-open");
    this.badge = document.getElementById("mine-badge");
    this.inboxList = document.getElementById("inbox-list");
    this.inboxEmpty = document.getElementById("inbox-empty");
    this.profileBox = document.getElementById("profile");
    this.items = [];
    this.unread = 0;
    this.expanded = new Set();
    this.consent = null;
    this.profile = undefined;  // undefined: not loaded; null: none saved
    this.opener.addEventListener("click", () => this.open());
    document.getElementById("mine-close").addEventListener("click", () => this.close());
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !this.sheet.hidden) this.close();
    });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.refreshInbox();
    });
    setInterval(() => document.hidden || this.refreshInbox(), pollMs);
    this.refreshInbox();
  }

  async api(path, { method = "GET", body } = {}) {
    const url = `${path}${path.includes("?") ? "&" : "?"}sender=${encodeURIComponent(this.sender)}`;
    let response;
    try {
      response = await fetch(url, {
        method,
        headers: body ? { "Content-Type": "application/json" } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch {
      throw new ApiError(0, OFFLINE);
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      // no body (or not JSON): the status says enough
    }
    if (!response.ok) throw new ApiError(response.status, messageOf(data, response.status));
    return data;
  }

  // --- the sheet ---------------------------------------------------------------------------

  open() {
    this.sheet.hidden = false;
    this.opener.setAttribute("aria-expanded", "true");
    for (const el of this.sheet.parentElement.children) if (el !== this.sheet) el.inert = true;
    document.getElementById("mine-title").focus();
    this.renderInbox();
    this.refreshInbox();
    if (this.profile === undefined) this.loadProfile();
  }

  close() {
    if (this.sheet.hidden) return;
    this.sheet.hidden = true;
    this.opener.setAttribute("aria-expanded", "false");
    for (const el of this.sheet.parentElement.children) el.inert = false;
    this.opener.focus();
  }

  // --- the inbox ---------------------------------------------------------------------------

  async refreshInbox() {
    let changed;
    try {
      const data = await this.api("/api/inbox");
      const items = Array.isArray(data.items) ? data.items : [];
      changed = JSON.stringify(items) !== JSON.stringify(this.items);
      this.items = items;
      this.unread = Number(data.unread) || 0;
    } catch {
      return;  // offline or throttled: the badge keeps what it showed; the next poll tries again
    }
    this.showBadge();
    if (changed && !this.sheet.hidden) this.renderInbox();
  }

  showBadge() {
    const n = this.unread;
    this.badge.hidden = n === 0;
    this.badge.textContent = n > 99 ? "99+" : String(n);
    this.opener.setAttribute("aria-label", n ? `我的订阅，${n}条未读通知` : "我的订阅");
  }

  renderInbox() {
    // Re-rendering must not lose the keyboard user's place: refocus the same item's control.
    const focused = this.inboxList.contains(document.activeElement) ? document.activeElement : null;
    const id = focused?.closest("[data-id]")?.dataset.id;
    const key = focused?.dataset.key;
    this.inboxEmpty.hidden = this.items.length > 0;
    fill(this.inboxList, this.items.map((item) => this.inboxItem(item)));
    if (!id) return;
    const item = this.inboxList.querySelector(`[data-id="${CSS.escape(id)}"]`);
    (key ? item?.querySelector(`[data-key="${CSS.escape(key)}"]`) : item?.querySelector(".inbox__head"))?.focus();
  }

  inboxItem(item) {
    const id = `inbox-item-${item.id}`;
    const open = this.expanded.has(item.id);
    const unread = !item.read_at;
    const keys = Array.isArray(item.measure_keys) ? item.measure_keys : [];
    const created = item.created_at;
    return h("li", { class: unread ? "inbox__item inbox__item--unread" : "inbox__item", dataset: { id: item.id } },
      h("button", {
        type: "button", class: "inbox__head", "aria-expanded": String(open), "aria-controls": id,
        on: { click: () => this.toggle(item.id) },
      },
      unread && h("span", { class: "inbox__dot" }, h("span", { class: "sr-only" }, "未读：")),
      h("span", { class: "inbox__title" }, item.title || ""),
      h("time", { class: "inbox__date", datetime: String(created || "") }, formatTime(created))),
      h("div", { class: "inbox__body", id, hidden: !open },
        h("p", { class: "inbox__text" }, item.text || ""),
        keys.length > 0 && h("div", { class: "chips", role: "group", "aria-label": "向助手询问" },
          keys.map((key) => h("button", {
            type: "button", class: "chip", "data-key": key,
            on: { click: () => this.askAbout(key) },
          }, `查看${measureLabel(key)}`)))));
  }

  /** Open or close a notification; opening an unread one marks it read (and the badge goes down). */
  async toggle(id) {
    if (this.expanded.has(id)) this.expanded.delete(id);
    else this.expanded.add(id);
    this.renderInbox();
    const item = this.items.find((i) => i.id === id);
    if (!item || item.read_at || !this.expanded.has(id)) return;
    try {
      const read = await this.api(`/api/inbox/${encodeURIComponent(id)}/read`, { method: "POST" });
      // From the list as it is now (a refresh may have replaced it meanwhile).
      const current = this.items.find((i) => i.id === id);
      if (current && !current.read_at) {
        current.read_at = read.read_at || new Date().toISOString();
        this.unread = Math.max(0, this.unread - 1);
      }
      this.showBadge();
      this.renderInbox();
    } catch {
      // stays unread; the next refresh shows the server's state
    }
  }

  askAbout(key) {
    this.close();
    this.ask(`/ask_measure${JSON.stringify({ measure_number: key })}`, measureLabel(key));
  }

  // --- the profile -------------------------------------------------------------------------

  async loadProfile() {
    fill(this.profileBox, h("p", { class: "panel__note" }, "正在读取…"));
    try {
      if (!this.consent) this.consent = await this.api("/api/profile/consent");
      this.profile = await this.api("/api/profile");
    } catch (error) {
      if (error.status !== 404) {
        fill(this.profileBox, h("p", { class: "form__error", role: "alert" }, error.message),
          h("button", { type: "button", class: "button", on: { click: () => this.loadProfile() } }, "重试"));
        return;
      }
      this.profile = null;
    }
    if (this.profile) this.showProfile();
    else this.showForm();
  }

  label(topic) {
    return this.consent?.topics?.[topic] || topic;
  }

  showProfile(note) {
    const p = this.profile;
    const row = (term, value) => [h("dt", {}, term), h("dd", {}, value || "未填写")];
    fill(this.profileBox,
      note && h("p", { class: "panel__note panel__note--ok", role: "status" }, note),
      h("dl", { class: "profile", "aria-label": "已保存的企业画像" },
        row("企业类型", p.enterprise_types.join("、")),
        row("行业", p.industry),
        row("所在街道镇", p.street),
        row("企业规模", p.size),
        row("关注的主题", p.topics.map((t) => this.label(t)).join("、")),
        row("同意说明", `${formatTime(p.consented_at)}（版本 ${p.consent_text_version}）`)),
      h("div", { class: "form__actions" },
        h("button", { type: "button", class: "button button--primary", on: { click: () => this.showForm(p) } }, "修改"),
        h("button", { type: "button", class: "button button--danger", on: { click: () => this.confirmDelete() } },
          "删除我的画像")));
    if (lostFocus()) focusIn(this.profileBox, note ? '[role="status"]' : ".button--primary");
  }

  showForm(current = null, note = "") {
    const c = this.consent;
    const checks = (name, choices, chosen) => h("div", { class: "checks" },
      Object.entries(choices).map(([value, text]) => h("label", { class: "check" },
        h("input", { type: "checkbox", name, value, checked: chosen.includes(value) }), text)));
    const error = h("p", { class: "form__error", id: "profile-error", role: "alert" });
    const save = h("button", { type: "submit", class: "button button--primary", disabled: true }, "保存");
    const consent = h("input", { type: "checkbox", id: "p-consent", on: { change: () => { save.disabled = !consent.checked; } } });
    const form = h("form", { class: "form", "aria-label": "企业画像", novalidate: true },
      note && h("p", { class: "panel__note panel__note--ok", role: "status" }, note),
      h("fieldset", {}, h("legend", {}, "企业类型（可多选）"),
        checks("enterprise_types", Object.fromEntries(c.enterprise_types.map((t) => [t, t])),
          current?.enterprise_types || [])),
      h("div", { class: "field" }, h("label", { for: "p-industry" }, "行业"),
        h("input", { id: "p-industry", name: "industry", maxLength: 30, value: current?.industry || "",
          placeholder: "如：集成电路设计、餐饮", autocomplete: "off" })),
      h("div", { class: "field" }, h("label", { for: "p-street" }, "所在街道镇"),
        h("input", { id: "p-street", name: "street", maxLength: 30, value: current?.street || "",
          list: "p-streets", autocomplete: "off" }),
        h("datalist", { id: "p-streets" }, STREETS.map((s) => h("option", { value: s })))),
      h("div", { class: "field" }, h("label", { for: "p-size" }, "企业规模"),
        h("select", { id: "p-size", name: "size" },
          h("option", { value: "" }, "不填"),
          c.sizes.map((s) => h("option", { value: s, selected: current?.size === s }, s)))),
      h("fieldset", {}, h("legend", {}, "关注的主题（可多选）"),
        checks("topics", c.topics, current?.topics || [])),
      h("div", { class: "consent" },
        h("h4", { class: "consent__title" }, "说明"),
        h("p", { class: "consent__text", id: "p-consent-text" }, c.text),
        h("label", { class: "check check--consent" }, consent, "我已阅读并同意以上说明")),
      error,
      h("div", { class: "form__actions" }, save,
        current && h("button", { type: "button", class: "button", on: { click: () => this.showProfile() } }, "取消")));
    consent.setAttribute("aria-describedby", "p-consent-text");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (consent.checked) this.save(form, save, error);
    });
    fill(this.profileBox, form);
    if (lostFocus()) focusIn(this.profileBox, note ? '[role="status"]' : "input");
  }

  async save(form, button, error) {
    const data = new FormData(form);
    const body = {
      consent: true,
      consent_version: this.consent.version,
      enterprise_types: data.getAll("enterprise_types"),
      industry: String(data.get("industry") || "").trim(),
      street: String(data.get("street") || "").trim(),
      size: String(data.get("size") || ""),
      topics: data.getAll("topics"),
    };
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    error.textContent = "";
    button.disabled = true;
    button.textContent = "保存中…";
    try {
      this.profile = await this.api("/api/profile", { method: "PUT", body });
    } catch (failure) {
      error.textContent = failure.message;
      markFields(form, failure.message);
      button.disabled = false;
      button.textContent = "保存";
      return;
    }
    this.showProfile("已保存。与您的企业相关的新政策会通知到这里。");
    this.refreshInbox();
  }

  confirmDelete() {
    const cancel = h("button", { type: "button", class: "button", on: { click: () => this.showProfile() } }, "取消");
    const error = h("p", { class: "form__error", role: "alert" });
    fill(this.profileBox,
      h("div", { class: "confirm", role: "group", "aria-labelledby": "confirm-text" },
        h("p", { id: "confirm-text" }, "确定删除您的企业画像吗？画像、所有通知和消息将立即彻底删除，无法恢复。"),
        error,
        h("div", { class: "form__actions" },
          h("button", { type: "button", class: "button button--danger",
            on: { click: (event) => this.remove(event.currentTarget, error) } }, "确认删除"),
          cancel)));
    cancel.focus();
  }

  async remove(button, error) {
    button.disabled = true;
    let counts;
    try {
      counts = await this.api("/api/profile", { method: "DELETE" });
    } catch (failure) {
      error.textContent = failure.message;
      button.disabled = false;
      return;
    }
    this.profile = null;
    this.expanded.clear();
    const note = `已删除：企业画像 ${counts.enterprise_profile} 份、通知 ${counts.notification} 条、`
      + `消息 ${counts.inbox_item} 条。`;
    this.showForm(null, note);
    await this.refreshInbox();
  }
}

/** Mark the fields a server message names (aria-invalid), so they are announced and outlined. */
function markFields(form, message) {
  const names = { 企业类型: "enterprise_types", 行业: "industry", 街道镇: "street", 规模: "size", 主题: "topics" };
  for (const [word, name] of Object.entries(names)) {
    if (!message.includes(word)) continue;
    for (const el of form.querySelectorAll(`[name="${name}"]`)) {
      el.setAttribute("aria-invalid", "true");
      el.setAttribute("aria-describedby", "profile-error");
    }
  }
}


/** The control that was used is gone (re-rendered): the keyboard user's place must be kept. */
function lostFocus() {
  return !document.activeElement || document.activeElement === document.body;
}

/** Focus the first element matching `selector` in `box` (a status note gets tabindex -1 first). */
function focusIn(box, selector) {
  const el = box.querySelector(selector);
  if (!el) return;
  if (el.getAttribute("role") === "status") el.setAttribute("tabindex", "-1");
  el.focus();
}
