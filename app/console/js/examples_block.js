// A measure's example questions (the words companies use): list, add, delete.

import { api } from "./api.js";
import { fill, guarded, h, toast } from "./dom.js";

/** The examples section of the measure `key` ("1/38"); call `load()` to fill it. */
export function examplesBlock(key) {
  const list = h("ul", { class: "examples", id: "m-examples" });
  const input = h("input", { id: "m-example", maxLength: 300, autocomplete: "off",
    placeholder: "企业可能的问法，如“我们想搞个直播带货的网店”" });

  async function load() {
    try {
      const items = await api(`/api/admin/measures/${key}/examples`);
      fill(list, items.length ? items.map((e) => exampleItem(e, () => remove(e)))
        : h("li", { class: "muted", text: "暂无例句" }));
    } catch (error) {
      fill(list, h("li", { class: "muted", text: error.message }));
    }
  }
  const add = guarded(async () => {
    const text = input.value.trim();
    if (!text) return;
    await api(`/api/admin/measures/${key}/examples`, { method: "POST", body: { text } });
    input.value = "";
    toast("例句已添加，机器人从下一个问题起即可匹配", "ok");
    load();
  });
  const remove = guarded(async (example) => {
    await api(`/api/admin/measures/${key}/examples/${example.id}`, { method: "DELETE" });
    load();
  });
  input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); add(); } });
  const element = h("section", { class: "examples-block", "aria-label": "例句" },
    h("h3", { text: "例句（企业的常见问法，帮助机器人找到这条措施）" }), list,
    h("div", { class: "inline-form" }, input,
      h("button", { type: "button", class: "btn", text: "添加例句", on: { click: add } })));
  return { element, load };
}

function exampleItem(example, remove) {
  return h("li", {}, h("span", { text: example.text }),
    h("span", { class: "badge", text: example.source === "admin" ? "人工添加" : "初始" }),
    h("button", { type: "button", class: "link-button", text: "删除", "aria-label": `删除例句：${example.text}`,
      on: { click: remove } }));
}
