// Calls to the app's API with the signed-in token; errors carry the server's Chinese message.

const TOKEN_KEY = "policybot.console.token";

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) || "",
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** The message of an error answer: `detail` as text, or FastAPI's list of problems. */
function messageOf(body, status) {
  const detail = body && body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((d) => d.msg || String(d)).join("；");
  if (status === 0) return "无法连接服务器，请检查网络";
  return `请求失败（${status}）`;
}

/** Query string of the non-empty parameters. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** Fetch JSON from the API (or the raw response with `raw`); throws ApiError unless 2xx. */
export async function api(path, { method = "GET", body, headers = {}, signal, raw = false } = {}) {
  const init = { method, signal, headers: { Accept: "application/json", ...headers } };
  if (token.get()) init.headers.Authorization = `Bearer ${token.get()}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, messageOf(null, 0), null);
  }
  if (raw && response.ok) return response;
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401) window.dispatchEvent(new CustomEvent("console:unauthorized"));
    throw new ApiError(response.status, messageOf(data, response.status), data);
  }
  return data;
}

/** Download a file the API generates (the token is a header, so a plain link would not do). */
export async function download(path, fallbackName) {
  const response = await api(path, { raw: true, headers: { Accept: "*/*" } });
  const disposition = response.headers.get("Content-Disposition") || "";
  const name = (disposition.match(/filename="([^"]+)"/) || [])[1] || fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}
