// Put the assistant on any site with one tag:
//   <script src="http://HOST:8000/embed.js"></script>
// It adds a floating green chat button; the chat itself is HOST's own page in an iframe, so it
// talks to HOST's API with HOST's storage and styles. The button and panel live in a shadow root,
// so the host page's CSS cannot break them, nor theirs the host page.
(() => {
  if (window.__policybotEmbed) return;  // the tag was included twice
  window.__policybotEmbed = true;

  const script = document.currentScript;
  const origin = new URL(script ? script.src : location.href).origin;

  const css = `
    :host { all: initial; }
    .launcher {
      position: fixed; right: 20px; bottom: 20px; z-index: 2147483646;
      width: 56px; height: 56px; border: 0; border-radius: 50%; cursor: pointer;
      display: grid; place-items: center; color: #fff; background: #07c160;
      box-shadow: 0 4px 14px rgb(0 0 0 / 22%);
    }
    .launcher:hover { background: #06ad56; }
    .launcher:focus-visible { outline: 3px solid #1a73e8; outline-offset: 3px; }
    .launcher svg { width: 28px; height: 28px; fill: currentColor; }
    .panel {
      position: fixed; right: 20px; bottom: 88px; z-index: 2147483647;
      width: 380px; height: min(640px, calc(100vh - 110px));
      border-radius: 12px; overflow: hidden; background: #ededed;
      box-shadow: 0 8px 32px rgb(0 0 0 / 25%);
    }
    .panel[hidden] { display: none; }
    iframe { width: 100%; height: 100%; border: 0; display: block; }
    @media (max-width: 480px) {
      .panel { inset: 0; width: auto; height: auto; border-radius: 0; }
    }`;

  // Static icon markup built with DOM calls: this script never parses HTML either.
  const SVG = "http://www.w3.org/2000/svg";
  function icon(d) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.append(path);
    return svg;
  }
  const CHAT = "M12 3C6.5 3 2 6.8 2 11.5c0 2.7 1.5 5.1 3.8 6.6L5 21l3.6-1.9c1.1.3 2.2.4 3.4.4 5.5 0 10-3.8 10-8.5S17.5 3 12 3Zm-4 7.3a1.2 1.2 0 1 1 0 2.4 1.2 1.2 0 0 1 0-2.4Zm4 0a1.2 1.2 0 1 1 0 2.4 1.2 1.2 0 0 1 0-2.4Zm4 0a1.2 1.2 0 1 1 0 2.4 1.2 1.2 0 0 1 0-2.4Z";
  const CLOSE = "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6l5.6-5.6L5 6.4 6.4 5Z";

  const host = document.createElement("div");
  host.id = "policybot-embed";
  const root = host.attachShadow({ mode: "open" });
  const style = document.createElement("style");
  style.textContent = css;

  const panel = document.createElement("div");
  panel.className = "panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", "普陀营商政策助手");

  const launcher = document.createElement("button");
  launcher.type = "button";
  launcher.className = "launcher";
  launcher.setAttribute("aria-expanded", "false");

  function setOpen(open) {
    if (open && !panel.firstChild) {
      // Load the chat only when first opened: pages that never open it pay nothing.
      const frame = document.createElement("iframe");
      frame.src = `${origin}/?embed=1`;
      frame.title = "普陀营商政策助手";
      panel.append(frame);
    }
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.setAttribute("aria-label", open ? "关闭政策助手" : "打开普陀营商政策助手");
    launcher.replaceChildren(icon(open ? CLOSE : CHAT));
    if (open) panel.querySelector("iframe").focus();
  }

  launcher.addEventListener("click", () => setOpen(panel.hidden));
  // The chat's own close button (needed on phones, where the panel covers the launcher).
  window.addEventListener("message", (event) => {
    if (event.origin === origin && event.data && event.data.type === "policybot:close") {
      setOpen(false);
      launcher.focus();
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) setOpen(false);
  });

  root.append(style, panel, launcher);
  setOpen(false);
  if (document.body) document.body.append(host);
  else document.addEventListener("DOMContentLoaded", () => document.body.append(host));  // tag in <head>
})();
