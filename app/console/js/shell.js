// The frame of every console page: the top bar (brand, page links, account) and the sign-in form.
// A page's HTML holds a <div id="shell"> placeholder and its own <main id="app" hidden>.

import { h } from "./dom.js";
import { requireSignIn } from "./signin.js";

const PAGES = {
  staff: { path: "/staff", link: "政策查询", subtitle: "企业服务工作台", role: "staff" },
  admin: { path: "/admin", link: "数据管理", subtitle: "政策数据管理", role: "admin" },
  insights: { path: "/admin/insights", link: "运行洞察", subtitle: "运行洞察", role: "admin" },
};

const SIGN_IN = {
  staff: { title: "工作人员登录", note: "请输入管理员发放的访问令牌（工作人员或管理员令牌均可）。" },
  admin: { title: "管理员登录", note: "请输入管理员发放的访问令牌（需要管理员令牌）。" },
};

/** Frame page `name` (a key of PAGES) and ask for a token of its role; `ready(principal)` starts it. */
export function consolePage(name, ready) {
  const page = PAGES[name];
  document.getElementById("shell").replaceWith(topbar(page), signInForm(SIGN_IN[page.role]));
  requireSignIn({ role: page.role, ready });
}

function topbar(current) {
  // Admin pages' links stay hidden on the staff page until an admin signs in (signin.js shows them).
  const links = Object.values(PAGES).map((page) => h("a", {
    href: page.path, text: page.link, "aria-current": page === current ? "page" : null,
    "data-admin-only": page.role === "admin", hidden: page.role === "admin" && current.role !== "admin" }));
  return h("header", { class: "topbar" },
    h("a", { class: "topbar__brand", href: "/staff" },
      h("span", { class: "topbar__emblem", "aria-hidden": "true", text: "普" }),
      h("span", {}, h("strong", { text: "普陀营商政策助手" }), h("small", { text: current.subtitle }))),
    h("nav", { class: "topbar__nav", "aria-label": "页面" }, links),
    h("div", { id: "account", class: "account" }));
}

function signInForm({ title, note }) {
  const input = h("input", { id: "token", name: "token", type: "password", autocomplete: "off" });
  input.spellcheck = false;
  return h("form", { id: "signin", class: "signin", hidden: true },
    h("h1", { text: title }),
    h("p", { text: note }),
    h("label", { for: "token", text: "访问令牌" }),
    input,
    h("p", { class: "signin__error", role: "alert" }),
    h("button", { class: "btn btn--primary", type: "submit", text: "登录" }));
}
