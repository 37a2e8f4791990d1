// Sign-in with an API token (kept in sessionStorage) and the top bar's account area (shell.js draws both).

import { api, token } from "./api.js";
import { $, fill, h } from "./dom.js";
import { ROLES } from "./kinds.js";


/** Show the sign-in form until a token of the needed role works, then call `ready(principal)`. */
export function requireSignIn({ role, ready }) {
  const form = $("signin");
  const app = $("app");
  const error = form.querySelector(".signin__error");
  let started = false;

  async function enter() {
    try {
      const me = await principalFor(role);
      form.hidden = true;
      app.hidden = false;
      showAccount(me);
      if (!started) { started = true; ready(me); }
    } catch (failure) {
      if (failure.status === 401) token.clear();
      showForm(failure.status === 401 ? "令牌无效或已被吊销，请重新输入" : failure.message);
    }
  }

  function showForm(message = "") {
    app.hidden = true;
    form.hidden = false;
    error.textContent = message;
    form.elements.token.focus();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = form.elements.token.value.trim();
    if (!value) { showForm("请输入令牌"); return; }
    token.set(value);
    form.elements.token.value = "";
    enter();
  });
  window.addEventListener("console:unauthorized", () => {
    token.clear();
    showForm("登录已失效（令牌被吊销），请重新输入令牌");
  });
  if (token.get()) enter(); else showForm();
}

/** Who the stored token belongs to; an error when its role may not use this page. */
async function principalFor(role) {
  const me = await api("/api/admin/whoami");
  if (role === "admin" && me.role !== "admin") {
    throw new Error("该令牌是工作人员令牌，本页面需要管理员令牌");
  }
  return me;
}

function showAccount(me) {
  const box = $("account");
  const out = h("button", { type: "button", class: "link-button", text: "退出", on: { click: signOut } });
  fill(box, h("span", { class: "account__name", text: me.name }),
    h("span", { class: `badge badge--${me.role}`, text: ROLES[me.role] || me.role }), out);
  for (const link of document.querySelectorAll("[data-admin-only]")) link.hidden = me.role !== "admin";
}

function signOut() {
  token.clear();
  window.location.reload();
}
