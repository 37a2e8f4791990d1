// The 令牌 tab: issue staff/admin tokens (the secret is shown once), list and revoke them.

import { api } from "./api.js";
import { copyText, fill, formatTime, guarded, h, option, table, toast } from "./dom.js";
import { ROLES } from "./kinds.js";


/** Render the tab into `root`. */
export function tokensTab(root, me) {
  const name = h("input", { id: "t-name", maxLength: 80, placeholder: "使用人或用途，如 服务中心1号窗口", autocomplete: "off" });
  const role = h("select", { id: "t-role" }, Object.entries(ROLES).map(([k, v]) => option(k, v)));
  const secretBox = h("div", { id: "t-secret", "aria-live": "polite" });
  const body = h("tbody");

  const load = guarded(async () => {
    const tokens = await api("/api/admin/tokens");
    fill(body, tokens.map((t) => tokenRow(t, me, revoke)));
  });

  const create = guarded(async (event) => {
    event.preventDefault();
    const issued = await api("/api/admin/tokens", { method: "POST", body: { name: name.value.trim(), role: role.value } });
    name.value = "";
    fill(secretBox, issuedBox(issued));
    load();
  });

  const revoke = guarded(async (t) => {
    if (!window.confirm(`吊销“${t.name}”的令牌？吊销后立即失效。`)) return;
    await api(`/api/admin/tokens/${t.id}`, { method: "DELETE" });
    toast("令牌已吊销", "ok");
    load();
  });

  fill(root, h("section", { class: "panel pad" },
    h("h2", { text: "访问令牌" }),
    h("form", { class: "inline-form", on: { submit: create } },
      h("label", { for: "t-name", class: "visually-hidden", text: "令牌名称" }), name,
      h("label", { for: "t-role", class: "visually-hidden", text: "角色" }), role,
      h("button", { type: "submit", class: "btn btn--primary", text: "生成令牌" })),
    secretBox,
    table("table", ["编号", "名称", "角色", "创建时间", "最近使用", ""], body)));
  load();
}

function tokenRow(t, me, revoke) {
  const own = t.id === me.token_id;
  return h("tr", { class: t.revoked ? "is-revoked" : "" },
    h("td", { class: "num", text: String(t.id) }), h("td", { text: t.name }),
    h("td", {}, h("span", { class: `badge badge--${t.role}`, text: ROLES[t.role] })),
    h("td", { text: formatTime(t.created_at) }), h("td", { text: formatTime(t.last_used_at) }),
    h("td", {}, t.revoked ? h("span", { class: "muted", text: "已吊销" })
      : h("button", { type: "button", class: "btn btn--small btn--danger", text: "吊销", disabled: own,
        title: own ? "不能吊销正在使用的令牌" : "", on: { click: () => revoke(t) } })));
}

function issuedBox(issued) {
  const copy = h("button", { type: "button", class: "btn btn--small", text: "复制",
    on: { click: async () => toast(await copyText(issued.token) ? "令牌已复制" : "复制失败", "info") } });
  return h("div", { class: "banner banner--ok" },
    h("p", {}, h("strong", { text: `已为“${issued.name}”生成${ROLES[issued.role]}令牌。` }),
      "令牌只显示这一次，请立即复制并交给使用人："),
    h("div", { class: "secret" }, h("code", { text: issued.token }), copy));
}
