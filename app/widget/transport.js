// Talking to the app's chat API without losing or duplicating a message.
//
// Why REST and not Rasa's socket.io channel: socket.io with session persistence loses replies
// on the python-socketio Rasa resolves (RASA_NOTES: RasaHQ/rasa#13027) and needs sticky
// sessions behind a load balancer. A plain POST per message is stateless, and the `client_id`
// makes it safe to repeat: the server stores the answer under (sender, client_id) and returns
// the stored answer for a repeat instead of asking the bot again.
//
// So every message is first written to an outbox in localStorage, then POSTed; it leaves the
// outbox only once the server has answered. A failed POST (offline, timeout, 5xx) is retried
// with backoff and the SAME client_id, in order, also after a reload.

const SENDER_KEY = "policybot.sender";
const OUTBOX_KEY = "policybot.outbox";
const TIMEOUT_MS = 45000;  // the server waits up to 30 s for Rasa before apologising
const MAX_DELAY_MS = 15000;

/** A random id of URL-safe characters (crypto.randomUUID needs HTTPS; this does not). */
export function randomId(length = 22) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  return Array.from(crypto.getRandomValues(new Uint8Array(length)), (b) => alphabet[b & 63]).join("");
}

// localStorage can be unavailable (disabled storage, some third-party iframes): fall back to
// memory so the chat still works for this page view.
const memory = new Map();
const store = {
  get(key) {
    try { return localStorage.getItem(key); } catch { return memory.get(key) ?? null; }
  },
  set(key, value) {
    try { localStorage.setItem(key, value); } catch { memory.set(key, value); }
  },
};

/** This browser's sender id, created once and kept in localStorage. */
export function senderId() {
  let id = store.get(SENDER_KEY);
  if (!/^[A-Za-z0-9_-]{16,80}$/.test(id || "")) {
    id = randomId();
    store.set(SENDER_KEY, id);
  }
  return id;
}

class SendError extends Error {
  constructor(message, retryable) {
    super(message);
    this.retryable = retryable;
  }
}

/**
 * The outbox and its sender. Callbacks: onReply(item, response), onFailed(item, error) for a
 * message the server refuses for good (4xx), onState("sending" | "retrying" | "idle").
 */
export class ChatClient {
  constructor({ base = "", onReply, onFailed, onState }) {
    this.base = base;
    this.sender = senderId();
    this.callbacks = { onReply, onFailed, onState };
    this.outbox = parse(store.get(OUTBOX_KEY));
    this.attempt = 0;
    this.timer = null;
    this.flushing = false;
    window.addEventListener("online", () => this.retryNow());
  }

  /** Queue a message (shown as `display`); returns the outbox item. Call flush() to send. */
  queue(message, display = message, { hidden = false } = {}) {
    const item = { client_id: randomId(), message, display, hidden, at: Date.now() };
    this.outbox.push(item);
    this.save();
    return item;
  }

  /** Messages written but not yet answered, oldest first. */
  pending() {
    return [...this.outbox];
  }

  /** Drop a queued message (used when history shows it was answered already). */
  forget(clientId) {
    this.outbox = this.outbox.filter((item) => item.client_id !== clientId);
    this.save();
  }

  /** Retry at once (the browser came back online, or the user tapped the failed mark). */
  retryNow() {
    this.attempt = 0;
    this.flush();
  }

  /** Send queued messages one at a time, in order; on a transient failure, schedule a retry. */
  async flush() {
    if (this.flushing) return;
    this.flushing = true;
    clearTimeout(this.timer);
    try {
      while (this.outbox.length > 0) {
        const item = this.outbox[0];
        this.callbacks.onState("sending");
        let response;
        try {
          response = await this.post(item);
        } catch (error) {
          if (error.retryable) {
            this.scheduleRetry();
            return;
          }
          this.forget(item.client_id);
          this.callbacks.onFailed(item, error);
          continue;
        }
        this.attempt = 0;
        this.forget(item.client_id);
        this.callbacks.onReply(item, response);
      }
      this.callbacks.onState("idle");
    } finally {
      this.flushing = false;
    }
  }

  scheduleRetry() {
    // 1 s, 2 s, 4 s … up to 15 s, with jitter so many clients do not return in lockstep.
    const delay = Math.min(MAX_DELAY_MS, 1000 * 2 ** this.attempt) * (0.8 + Math.random() * 0.4);
    this.attempt += 1;
    this.callbacks.onState("retrying");
    this.timer = setTimeout(() => this.flush(), delay);
  }

  async post(item) {
    const body = { sender: this.sender, message: item.message, client_id: item.client_id };
    return request(`${this.base}/api/chat`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
  }

  /** The conversation stored on the server, oldest first. */
  async history() {
    const data = await request(`${this.base}/api/chat/${encodeURIComponent(this.sender)}/history`);
    return Array.isArray(data.messages) ? data.messages : [];
  }

  save() {
    store.set(OUTBOX_KEY, JSON.stringify(this.outbox));
  }
}

async function request(url, options = {}) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  try {
    const response = await fetch(url, { ...options, signal: abort.signal });
    if (!response.ok) {
      // 5xx, 408 and 429 pass; other 4xx mean this request will never be accepted.
      const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
      throw new SendError(`HTTP ${response.status}`, retryable);
    }
    return await response.json();
  } catch (error) {
    if (error instanceof SendError) throw error;
    throw new SendError(String(error), true);  // offline, timed out, connection reset, bad JSON
  } finally {
    clearTimeout(timer);
  }
}

function parse(json) {
  try {
    const items = JSON.parse(json || "[]");
    return Array.isArray(items) ? items.filter((i) => i && i.client_id && i.message) : [];
  } catch {
    return [];
  }
}
