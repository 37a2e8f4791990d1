// Before an admin publishes: "此次修改将通知 N 家企业" with a sample, and the choice to notify them.

import { fill, h } from "./dom.js";

/**
 * "此次修改将通知 N 家企业" with a sample of their profile ids, and a checkbox (ticked) to notify them;
 * hidden until a preview is shown. Used by the measure editor and the import page.
 */
export function notifyChoice(id, label) {
  const box = h("input", { type: "checkbox", id: `${id}-check`, checked: true });
  const text = h("span", { id: `${id}-text` });
  const element = h("div", { id, class: "notify-choice", hidden: true, "aria-live": "polite" }, text,
    h("label", { class: "checkbox", for: box.id }, box, label));
  return {
    element,
    checked: () => box.checked,
    /** Show a preview ({count, sample}) of `what`; the box keeps the admin's choice until `clear()`. */
    show({ count, sample }, what = "此次修改") {
      fill(text, h("strong", { text: `${what}将通知 ${count} 家企业` }),
        count ? `（例如企业画像 ${sample.map((p) => `#${p}`).join("、")}）` : "：没有企业的画像与之新相关");
      box.disabled = !count;
      element.hidden = false;
    },
    /** Say the preview failed (the admin may still choose). */
    failed(message) {
      fill(text, `无法预计通知的企业：${message}`);
      box.disabled = false;
      element.hidden = false;
    },
    /** Hide, and tick the box again for the next change. */
    clear() {
      element.hidden = true;
      box.checked = true;
    },
  };
}
