// The chat page: restores the conversation, sends messages through the outbox, and renders the
// bot's replies (text bubbles, measure and unit cards, quick replies, rating prompts).

import { ChatClient } from "./transport.js";
import {
  bubble, chips, closeRating, measureCard, ratingPrompt, row, timeDivider, typingRow, unitsCard,
} from "./render.js";
import { h, toDate } from "./shared/dom.js";
import { Subscriptions, measureLabel } from "./subscriptions.js";

const TIME_GAP_MS = 5 * 60 * 1000;  // like WeChat: a time divider after a few quiet minutes
const GREETING = "/greet";          // sent unseen on a first visit, so the bot introduces itself
const LABELS = { "/human_handoff": "转人工" };

const list = document.getElementById("messages");
const form = document.getElementById("composer");
const input = document.getElementById("input");
const statusBar = document.getElementById("status");
const typingNote = document.getElementById("typing-note");

const buttonTitles = new Map();  // payload → title, to show a tapped quick reply as its title
const bubbles = new Map();       // client_id → the user's row, while the message is unanswered
const typing = typingRow();
let lastTime = 0;

const client = new ChatClient({ onReply: showReply, onFailed: showFailure, onState: showState });

// --- rendering -----------------------------------------------------------------------------

function add(el, time = new Date()) {
  if (time - lastTime > TIME_GAP_MS) list.append(timeDivider(time));
  lastTime = Math.max(lastTime, time.getTime());
  list.append(el);
  if (typing.isConnected) list.append(typing);  // the dots stay the last thing in the list
  list.scrollTop = list.scrollHeight;
}

function userRow(text, time) {
  const el = row("user", bubble(text));
  add(el, time);
  return el;
}

/** What a sent message looks like to the user: a tapped button's title, not its payload. */
function display(message) {
  if (!message.startsWith("/")) return message;
  const known = LABELS[message] || buttonTitles.get(message);
  if (known) return known;
  try {  // e.g. /rate{"rating":"满意"} from a device that never saw the button → 满意
    const values = Object.values(JSON.parse(message.slice(message.indexOf("{"))));
    // A measure key ("1:23", from a notification) reads as 第23条.
    const shown = values.map((v) => (/^\d+:\d+$/.test(String(v)) ? measureLabel(v) : v));
    if (message.includes("{") && shown.length) return shown.join(" ");
  } catch {
    // not an intent with entities: show it as typed
  }
  return message;
}

/** One turn of the bot (the replies to one message): bubbles and cards, then the buttons. */
function botTurn(replies, time) {
  const buttons = [];
  for (const reply of replies) {
    if (reply.text) add(row("bot", bubble(reply.text)), time);
    const custom = reply.custom;
    if (custom?.type === "measures" && Array.isArray(custom.measures)) {
      add(row("bot", h("div", { class: "cards" }, custom.measures.map(measureCard))), time);
    } else if (custom?.type === "units" && Array.isArray(custom.units)) {
      add(row("bot", unitsCard(custom.units)), time);
    }
    if (Array.isArray(reply.buttons)) buttons.push(...reply.buttons.filter((b) => b?.title && b?.payload));
  }
  for (const b of buttons) buttonTitles.set(b.payload, b.title);
  const rates = buttons.filter((b) => b.payload.startsWith("/rate"));
  const others = buttons.filter((b) => !b.payload.startsWith("/rate"));
  if (rates.length) add(h("div", { class: "extras" }, ratingPrompt(rates, choose)), time);
  if (others.length) add(h("div", { class: "extras" }, chips(others, choose)), time);
}

/** A rating was sent (now, or earlier in a restored conversation): close the open prompt. */
function noteRating(payload) {
  const open = [...list.querySelectorAll(".rating:not(.rating--done)")].pop();
  if (open && payload.startsWith("/rate")) closeRating(open, payload);
}

// --- sending ----------------------------------------------------------------------------------

function send(message, shown = display(message), options = {}) {
  const item = client.queue(message, shown, options);
  if (!options.hidden) bubbles.set(item.client_id, markPending(userRow(shown)));
  noteRating(message);
  client.flush();
}

function choose(title, payload) {
  // Focus stays on the tapped chip: moving it to the input would pop up a phone's keyboard.
  send(payload, title);
}

function markPending(el) {
  el.classList.add("row--pending");
  const retry = h("button", { type: "button", class: "resend", "aria-label": "发送失败，点击重新发送",
    on: { click: () => client.retryNow() } }, "!");
  el.querySelector(".row__body").prepend(retry);
  return el;
}

function showReply(item, response) {
  const el = bubbles.get(item.client_id);
  el?.classList.remove("row--pending", "row--failed");
  el?.querySelector(".resend")?.remove();
  bubbles.delete(item.client_id);
  botTurn(response.replies || [], new Date());
  // Messages still queued were sent after this one: keep them below its answer, as on reload.
  for (const waiting of bubbles.values()) list.append(waiting);
  if (typing.isConnected) list.append(typing);
}

function showFailure(item) {
  const el = bubbles.get(item.client_id);
  el?.classList.replace("row--pending", "row--failed");
  add(h("div", { class: "notice" }, "消息未能发送（内容过长或格式有误），请修改后重试。"));
  bubbles.delete(item.client_id);
}

function showState(state) {
  // A live region announces text changes, not visibility: so the text itself comes and goes.
  statusBar.textContent = state === "retrying" ? "连接中断，正在重试…" : "";
  for (const el of bubbles.values()) el.classList.toggle("row--failed", state === "retrying");
  const waiting = state === "sending";
  typingNote.hidden = !waiting;
  if (waiting && !typing.isConnected) add(typing);
  if (!waiting) typing.remove();
}

// --- start-up -------------------------------------------------------------------------------

/** Render the stored conversation; returns its user rows and which of them were answered. */
function restore(messages) {
  const rows = new Map();
  const answered = new Set();
  let turn = [];
  let turnTime = null;
  let lastUser = null;
  const endTurn = () => { if (turn.length) botTurn(turn, turnTime); turn = []; };
  for (const message of messages) {
    const time = toDate(message.created_at) || new Date();  // stored UTC, also without an offset
    if (message.role === "bot") {
      if (!turn.length) turnTime = time;
      turn.push(message);
      if (lastUser) answered.add(lastUser);
      continue;
    }
    endTurn();
    const text = String(message.text || "");
    lastUser = message.client_id || null;
    noteRating(text);
    if (text && text !== GREETING) rows.set(lastUser, userRow(display(text), time));
  }
  endTurn();
  return { rows, answered };
}

/** Fill the privacy notice's retention period from the server's settings (the notice reads fine without). */
async function showRetention() {
  try {
    const response = await fetch("/api/privacy");
    if (!response.ok) return;
    const { retention_days: days } = await response.json();
    document.getElementById("privacy-days").textContent = `${days}天`;
  } catch {
    // Offline: the notice still says what is kept and how to delete it.
  }
}

async function start() {
  showRetention();
  let history = null;
  try {
    history = await client.history();
  } catch {
    // Offline at load: the outbox below still shows (and later sends) what was typed.
  }
  const { rows, answered } = restore(history || []);
  for (const item of client.pending()) {
    if (answered.has(item.client_id)) client.forget(item.client_id);  // the answer is shown above
    else if (rows.has(item.client_id)) bubbles.set(item.client_id, markPending(rows.get(item.client_id)));
    else if (!item.hidden) bubbles.set(item.client_id, markPending(userRow(item.display)));
  }
  const firstVisit = history !== null && !history.length && !client.pending().length;
  if (firstVisit) send(GREETING, "", { hidden: true });
  client.flush();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  send(text, text);
  input.value = "";
  input.style.height = "";
});

input.addEventListener("keydown", (event) => {
  // Enter sends; Shift+Enter is a new line; Enter that confirms an IME candidate must not send.
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
    event.preventDefault();
    form.requestSubmit();
  }
});

input.addEventListener("input", () => {
  input.style.height = "";
  input.style.height = `${Math.min(input.scrollHeight, 120)}px`;
});

document.getElementById("handoff").addEventListener("click", () => send("/human_handoff", "转人工"));

// 我的订阅: the inbox badge and list, the profile form; a notification's measure is asked here.
new Subscriptions({
  ask: (payload, title) => {
    buttonTitles.set(payload, title);
    send(payload, title);
  },
});

if (new URLSearchParams(location.search).has("embed")) {
  // Inside embed.js's iframe: a close button that asks the host page to hide the panel.
  const close = document.getElementById("close");
  close.hidden = false;
  close.addEventListener("click", () => window.parent.postMessage({ type: "policybot:close" }, "*"));
}

start();
