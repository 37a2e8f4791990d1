"""The console's page shell and the DOM helpers the widget shares with it, in headless Chromium.

Against the app alone (no bot needed): the widget's chat API is answered by the test, so the
widget's rendering is checked without a trained model.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tools.stack import Stack

pytestmark = [pytest.mark.browser]

MARKUP = "<img src=x onerror=window.__xss=1><b>粗体</b>"


@pytest.fixture
def context(chromium: Browser, app_stack: Stack) -> Iterator[BrowserContext]:
    """A fresh profile in Shanghai time, with the pages' own CSP in force."""
    context = chromium.new_context(
        viewport={"width": 1280, "height": 800},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        base_url=app_stack.app_url,
    )
    context.set_default_timeout(20_000)
    yield context
    context.close()


def watched(context: BrowserContext) -> tuple[Page, list[str]]:
    """A new page and the script errors and console errors (CSP refusals among them) it reports."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return page, errors


@pytest.mark.parametrize(
    ("path", "current", "signin", "admin_links"),
    [
        ("/staff", "政策查询", "工作人员登录", False),
        ("/admin", "数据管理", "管理员登录", True),
        ("/admin/insights", "运行洞察", "管理员登录", True),
    ],
)
def test_every_console_page_gets_the_shared_top_bar_and_sign_in(
    context: BrowserContext, path: str, current: str, signin: str, admin_links: bool
) -> None:
    page, errors = watched(context)
    page.goto(path)
    expect(page.get_by_role("heading", name=signin)).to_be_visible()
    expect(page.get_by_label("访问令牌")).to_be_focused()
    expect(page.locator("#app")).to_be_hidden()
    nav = page.get_by_role("navigation", name="页面")
    expect(nav.get_by_role("link")).to_have_count(3 if admin_links else 1)  # hidden ones are no links
    expect(nav.locator("[aria-current=page]")).to_have_text(current)
    expect(page.locator(".topbar__brand")).to_have_attribute("href", "/staff")
    expect(page.locator(".topbar > *")).to_have_count(3)  # brand, page links, account
    expect(page.locator("body > .topbar + form.signin + main#app")).to_have_count(1)
    assert errors == []


def test_console_and_widget_build_with_one_h_that_never_parses_markup(context: BrowserContext) -> None:
    page, errors = watched(context)
    page.goto("/staff")
    expect(page.get_by_label("访问令牌")).to_be_visible()
    result: dict[str, Any] = page.evaluate(
        """async (markup) => {
      const shared = await import("/shared/dom.js");
      const console = await import("/console-static/js/dom.js");
      const { h, formatTime } = shared;
      const el = h("p", { class: "x", title: markup, "data-k": 1, hidden: false },
        markup, ["a", null, false, undefined, ["b"]], 0);
      const refused = [];
      for (const key of ["innerHTML", "outerHTML", "srcdoc", "srcDoc", "onclick", "onerror"]) {
        try { h("iframe", { [key]: markup }); } catch (error) { refused.push(key); }
      }
      let clicks = 0;
      h("button", { on: { click: () => { clicks += 1; } } }).click();
      return {
        same: console.h === h && console.fill === shared.fill && console.formatTime === formatTime,
        text: el.textContent, elements: el.querySelectorAll("*").length, title: el.getAttribute("title"),
        data: el.dataset.k, hidden: el.hasAttribute("hidden"), refused, clicks,
        full: formatTime("2024-01-31T00:00:00Z"), naive: formatTime("2024-01-31T00:00:00"),
        none: [formatTime(null), formatTime(""), formatTime(undefined)],
        chat: [[2024, 0, 31, 9, 7], [2024, 0, 30, 14, 5], [2024, 0, 27, 14, 5], [2023, 11, 1, 8, 0]].map(
          (parts) => formatTime(new Date(...parts), { relative: true, now: new Date(2024, 0, 31, 10) })),
      };
    }""",
        MARKUP,
    )
    assert result["same"]  # the console's dom.js hands on the shared module's functions
    assert result["text"] == f"{MARKUP}ab0" and result["elements"] == 0
    assert result["title"] == MARKUP and result["data"] == "1" and not result["hidden"]
    assert result["refused"] == ["innerHTML", "outerHTML", "srcdoc", "srcDoc", "onclick", "onerror"]
    assert result["clicks"] == 1
    assert result["full"] == result["naive"] == "2024/01/31 08:00"  # no offset: stored UTC
    assert result["none"] == ["—", "—", "—"]
    assert result["chat"] == ["09:07", "昨天 14:05", "星期六 14:05", "2023年12月1日 08:00"]
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert errors == []


MEASURE = {
    "document_id": 1,
    "number": 25,
    "title": "留抵退税",
    "text": MARKUP + "加快留抵退税办理。",
    "units": ["区税务局", "区财政局"],
    "category": "优化税费服务",
    "document_title": "行动方案",
}


def test_the_widget_renders_a_stored_conversation_and_a_reply(context: BrowserContext) -> None:
    history = {
        "sender": "x",
        "messages": [
            {"role": "user", "client_id": "c1", "text": "留抵退税", "created_at": "2024-01-02T03:04:05"},
            {
                "role": "bot",
                "client_id": None,
                "created_at": "2024-01-02T03:04:06",
                "text": MARKUP,
                "custom": {"type": "measures", "measures": [MEASURE]},
                "buttons": [{"title": "第25条详情", "payload": "/ask_measure"}],
            },
        ],
    }
    sent: list[dict[str, Any]] = []

    def answer(route: Route) -> None:
        sent.append(route.request.post_data_json)
        route.fulfill(json={"replies": [{"text": "好的，这是第25条。"}]})

    page, errors = watched(context)
    page.route("**/api/chat/*/history", lambda route: route.fulfill(json=history))
    page.route("**/api/chat", answer)
    page.goto("/")
    card = page.locator(".card")
    expect(card.locator(".card__no")).to_have_text("第25条")
    expect(card.locator(".card__text")).to_have_text(MEASURE["text"])
    expect(card.locator(".unit--lead")).to_contain_text("牵头")
    expect(page.locator(".row--bot .bubble").first).to_have_text(MARKUP)
    expect(page.locator(".messages img, .messages b")).to_have_count(0)
    # A stored time without an offset is UTC: 03:04 UTC is 11:04 in Shanghai.
    expect(page.locator(".time").first).to_have_text("2024年1月2日 11:04")

    page.locator(".chip", has_text="第25条详情").click()
    expect(page.locator(".row--user .bubble").last).to_have_text("第25条详情")
    expect(page.locator(".row--bot .bubble").last).to_have_text("好的，这是第25条。")
    expect(page.locator(".time").last).to_have_text(re.compile(r"^\d\d:\d\d$"))
    assert [m["message"] for m in sent] == ["/ask_measure"]
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert errors == []
