// "加为例句": choose the measure an unanswered question should have found, and add it as an example.

import { api } from "./api.js";
import { fill, guarded, h, toast } from "./dom.js";
import { measurePicker } from "./measure_picker.js";

let dialog = null;

/** Ask which measure `question` belongs to; `added(measure)` runs after the example is stored. */
export function addAsExample(question, added) {
  if (!dialog) dialog = h("dialog", { id: "example-dialog", "aria-labelledby": "example-dialog-title" });
  document.body.append(dialog);
  let chosen = null;
  const save = guarded(async () => {
    await api(`/api/admin/measures/${chosen.document_id}/${chosen.number}/examples`,
      { method: "POST", body: { text: question } });
    dialog.close();
    toast(`已加为第${chosen.number}条的例句，机器人从下一个问题起即可匹配`, "ok");
    added(chosen);
  });
  const summary = h("p", { class: "dialog__chosen", "aria-live": "polite", text: "尚未选择措施" });
  const confirm = h("button", { type: "button", class: "btn btn--primary", id: "example-confirm", text: "加为例句",
    disabled: true, on: { click: save } });
  const picker = measurePicker({ label: "这个问题应当找到哪条措施？", onPick: (m) => {
    chosen = m;
    fill(summary, "将加为 ", h("strong", { text: `第${m.number}条 ${m.title}` }), " 的例句");
    confirm.disabled = false;
    confirm.focus();
  } });

  fill(dialog, h("h2", { id: "example-dialog-title", text: "加为例句" }),
    h("p", { class: "dialog__question" }, "企业的问题：", h("strong", { text: question })),
    picker.element, summary,
    h("div", { class: "actions" }, confirm,
      h("button", { type: "button", class: "btn", text: "取消", on: { click: () => dialog.close() } })));
  dialog.showModal();
  picker.input.value = question;
  picker.search();
  picker.input.focus();
}
