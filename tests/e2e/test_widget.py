"""The WeChat-style widget in headless Chromium, against the real stack (Rasa, actions, app)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from policy_db.config import PROJECT_ROOT
from tests.e2e.conftest import chat_with
from tools.stack import Stack

pytestmark = [pytest.mark.bot, pytest.mark.browser]

PHONE = {"width": 375, "height": 740}
ARTIFACTS = PROJECT_ROOT / "artifacts"
XSS = "<script>window.__xss=1</script><b>粗体</b>"
WECHAT_GREEN = "rgb(149, 236, 105)"
# Scroll the message list so this message's row starts just below the top (for screenshots).
SHOW_FROM = """el => { const list = el.closest('.messages'), row = el.closest('.row');
  list.scrollTop += row.getBoundingClientRect().top - list.getBoundingClientRect().top - 12; }"""


@pytest.fixture(scope="module")
def warm_stack(bot_stack: Stack) -> Stack:
    """The stack after one answered question: the first one loads models and the index (slow)."""
    chat_with(bot_stack.rasa_url)("开公司要跑几个部门？")
    return bot_stack


@pytest.fixture
def phone(chromium: Browser, warm_stack: Stack) -> Iterator[BrowserContext]:
    """A fresh browser profile at 375 px: its own localStorage, hence its own sender id.

    bypass_csp: Playwright's waiting helpers evaluate strings, which the page's CSP forbids. It
    also means the XSS test checks the rendering itself, without the CSP's second line of defence.
    """
    context = chromium.new_context(
        viewport=PHONE, device_scale_factor=2, locale="zh-CN", base_url=warm_stack.app_url, bypass_csp=True
    )
    context.set_default_timeout(30_000)  # 2 shared cores: an answer can take seconds
    yield context
    context.close()


@pytest.fixture
def page(phone: BrowserContext) -> Page:
    """The chat page, opened for the first time: the bot has greeted with topic chips."""
    page = phone.new_page()
    page.goto("/")
    expect(page.locator(".chip").first).to_be_visible()
    settled(page)
    return page


def ask(page: Page, question: str) -> None:
    """Type a question and press Enter, as a person would."""
    page.get_by_label("输入您的问题").fill(question)
    page.keyboard.press("Enter")


def settled(page: Page) -> None:
    """Wait until no message is waiting for its answer and the typing dots are gone."""
    expect(page.locator(".row--pending")).to_have_count(0)
    expect(page.locator(".row--typing")).to_have_count(0)


def user_bubbles(page: Page) -> Any:
    return page.locator(".row--user .bubble")


def card(page: Page, number: int) -> Any:
    return page.locator(".card", has=page.locator(".card__no", has_text=f"第{number}条"))


def sender_of(page: Page) -> str:
    return str(page.evaluate("localStorage.getItem('policybot.sender')"))


def history(stack: Stack, sender: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{stack.app_url}/api/chat/{sender}/history", timeout=10)
    response.raise_for_status()
    return list(response.json()["messages"])


def test_question_gets_a_wechat_style_answer_with_a_measure_card(page: Page) -> None:
    ask(page, "开公司要跑几个部门？")
    regulator = page.locator(".card", has=page.locator(".unit", has_text="区市场监管局")).first
    expect(regulator).to_be_visible()
    expect(regulator.locator(".card__no")).to_have_text(re.compile(r"^第\d+条$"))
    expect(regulator.locator(".card__source")).to_contain_text("行动方案")
    settled(page)
    question = user_bubbles(page).filter(has_text="开公司要跑几个部门？")
    expect(question).to_have_css("background-color", WECHAT_GREEN)
    answer = page.locator(".row--bot .bubble").last
    expect(answer).to_have_css("background-color", "rgb(255, 255, 255)")
    mine, theirs = question.bounding_box(), answer.bounding_box()
    assert mine and theirs and mine["x"] + mine["width"] > 300 and theirs["x"] < 80  # right / left
    expect(page.locator(".time").first).to_have_text(re.compile(r"^\d\d:\d\d$"))
    ARTIFACTS.mkdir(exist_ok=True)
    question.evaluate(SHOW_FROM)
    page.screenshot(path=str(ARTIFACTS / "widget-375.png"))


def test_quick_reply_shows_its_title_and_answers_that_measure(page: Page) -> None:
    ask(page, "开公司要跑几个部门？")
    chip = page.locator(".chip", has_text=re.compile(r"^第\d+条详情$")).first
    expect(chip).to_be_visible()
    title = chip.inner_text()
    number = int(re.findall(r"\d+", title)[0])
    expect(card(page, number)).to_have_count(1)
    chip.click()
    expect(user_bubbles(page).last).to_have_text(title)  # the title, not the /ask_measure payload
    expect(card(page, number)).to_have_count(2)
    expect(page.locator(".row--bot .bubble").last).to_contain_text(f"第{number}条")


def test_reload_restores_the_conversation(page: Page) -> None:
    ask(page, "留抵退税能退吗")
    page.locator(".chip", has_text="第25条详情").click()
    expect(card(page, 25)).to_have_count(2)
    settled(page)
    bubbles = page.locator(".bubble").all_inner_texts()
    cards = page.locator(".card__no").all_inner_texts()
    chips = page.locator(".chip").all_inner_texts()
    page.reload()
    expect(page.locator(".card__no")).to_have_text(cards)
    assert page.locator(".bubble").all_inner_texts() == bubbles
    assert page.locator(".chip").all_inner_texts() == chips
    expect(user_bubbles(page)).to_have_text(["留抵退税能退吗", "第25条详情"])


def test_rating_prompt_stores_the_rating(page: Page, stack_db: str) -> None:
    ask(page, "谢谢")
    satisfied = page.locator(".rating").get_by_role("button", name="满意", exact=True)
    satisfied.click()
    expect(page.locator(".row--bot .bubble").last).to_contain_text("好评")
    expect(satisfied).to_have_attribute("aria-pressed", "true")
    expect(satisfied).to_be_disabled()  # a prompt is answered once
    sent = user_bubbles(page).count()
    page.locator(".rating").get_by_role("button", name="一般", exact=True).click(force=True)
    expect(user_bubbles(page)).to_have_count(sent)
    engine = sa.create_engine(stack_db)
    try:
        with engine.connect() as connection:
            ratings = (
                connection.execute(
                    sa.text("SELECT rating FROM rating WHERE sender_id = :s"), {"s": sender_of(page)}
                )
                .scalars()
                .all()
            )
    finally:
        engine.dispose()
    assert ratings == ["满意"]


def test_header_handoff_gives_the_service_center_contact(page: Page) -> None:
    page.get_by_role("button", name="转人工服务").click()
    expect(user_bubbles(page).last).to_have_text("转人工")
    expect(page.locator(".row--bot .bubble").last).to_contain_text("12345")


def test_sender_id_survives_reload_and_history_comes_from_the_server(page: Page, bot_stack: Stack) -> None:
    sender = sender_of(page)
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,}", sender)
    ask(page, "第77条")
    expect(card(page, 77)).to_be_visible()
    settled(page)
    with page.expect_response(f"**/api/chat/{sender}/history") as restored:
        page.reload()
    assert restored.value.ok and sender_of(page) == sender
    expect(card(page, 77)).to_be_visible()
    asked = [m["text"] for m in history(bot_stack, sender) if m["role"] == "user"]
    assert asked.count("第77条") == 1


def test_message_sent_offline_arrives_exactly_once(
    page: Page, phone: BrowserContext, bot_stack: Stack
) -> None:
    question = "税务局管哪些事？"
    phone.set_offline(True)
    ask(page, question)
    status = page.locator("#status")  # role=status; empty (and hidden) once the message is through
    expect(status).to_have_text("连接中断，正在重试…")
    expect(page.locator(".row--failed")).to_have_count(1)
    assert question in page.evaluate("localStorage.getItem('policybot.outbox')")
    phone.set_offline(False)
    expect(page.locator(".card--units")).to_have_count(1)
    expect(status).to_have_text("")
    settled(page)
    expect(user_bubbles(page).filter(has_text=question)).to_have_count(1)
    assert page.evaluate("localStorage.getItem('policybot.outbox')") == "[]"
    messages = history(bot_stack, sender_of(page))
    assert [m.get("text") for m in messages if m["role"] == "user"].count(question) == 1
    assert sum(m.get("custom", {}).get("type") == "units" for m in messages) == 1


def test_reply_lost_on_the_way_back_is_fetched_not_asked_twice(page: Page, bot_stack: Stack) -> None:
    client_ids: list[str] = []

    def lose_first_reply(route: Route) -> None:
        response = route.fetch()  # the server receives the message and answers…
        client_ids.append(route.request.post_data_json["client_id"])
        if len(client_ids) == 1:
            route.abort("connectionreset")  # …but the answer never reaches the browser
        else:
            route.fulfill(response=response)

    page.route("**/api/chat", lose_first_reply)
    ask(page, "第25条")
    expect(card(page, 25)).to_have_count(1)
    settled(page)
    assert len(client_ids) >= 2 and len(set(client_ids)) == 1  # retried with the same client_id
    expect(user_bubbles(page).filter(has_text="第25条")).to_have_count(1)
    messages = history(bot_stack, sender_of(page))
    assert [m.get("text") for m in messages if m["role"] == "user"].count("第25条") == 1
    assert sum(m.get("custom", {}).get("type") == "measures" for m in messages) == 1


@pytest.fixture
def measure_25_with_markup(stack_db: str) -> Iterator[str]:
    """Measure 25's text prefixed with markup, written straight into the stack's database."""
    engine = sa.create_engine(stack_db)
    where = "WHERE document_id = 1 AND number = 25"
    bump = sa.text("UPDATE catalog_revision SET revision = revision + 1 WHERE id = 1")
    with engine.begin() as connection:
        original = connection.execute(sa.text(f"SELECT text FROM measure {where}")).scalar_one()
        connection.execute(sa.text(f"UPDATE measure SET text = :t {where}"), {"t": XSS + original})
        connection.execute(bump)  # the bot's index reloads when the revision changes
    try:
        yield XSS + original
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f"UPDATE measure SET text = :t {where}"), {"t": original})
            connection.execute(bump)
        engine.dispose()


def test_policy_text_with_markup_is_shown_as_text(page: Page, measure_25_with_markup: str) -> None:
    ask(page, "留抵退税")
    shown = card(page, 25).first
    expect(shown).to_be_visible()
    shown.get_by_role("button", name="展开全文").click()
    expect(shown.get_by_role("button", name="收起")).to_have_attribute("aria-expanded", "true")
    expect(shown.locator(".card__text")).to_have_text(measure_25_with_markup)
    expect(page.locator(".messages script, .messages b")).to_have_count(0)
    assert page.evaluate("typeof window.__xss") == "undefined"


def test_keyboard_only(page: Page) -> None:
    box = page.get_by_label("输入您的问题")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "input":
            break
    expect(box).to_be_focused()
    page.keyboard.type("第77条")
    page.keyboard.press("Enter")
    expect(user_bubbles(page).last).to_have_text("第77条")
    expect(box).to_have_value("")
    expect(card(page, 77)).to_be_visible()
    settled(page)
    page.keyboard.press("Shift+Tab")  # back from the input: the last quick reply
    chip = page.locator(".chip:focus")
    expect(chip).to_have_count(1)
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    title = chip.inner_text()
    page.keyboard.press("Enter")
    expect(user_bubbles(page).last).to_have_text(title)


def test_embed_script_adds_a_chat_button_that_opens_the_chat(phone: BrowserContext, bot_stack: Stack) -> None:
    host = phone.new_page()
    host.set_content(f"<h1>某区企业服务网</h1><script src='{bot_stack.app_url}/embed.js'></script>")
    launcher = host.get_by_role("button", name="打开普陀营商政策助手")
    expect(launcher).to_have_css("background-color", "rgb(7, 193, 96)")
    launcher.click()
    chat = host.frame_locator("#policybot-embed iframe")
    expect(chat.locator("h1")).to_have_text("普陀营商政策助手")
    expect(chat.locator(".chip").first).to_be_visible()
    chat.get_by_role("button", name="关闭").click()  # the chat's own close button, for phones
    expect(host.locator("#policybot-embed iframe")).to_be_hidden()
    expect(host.get_by_role("button", name="打开普陀营商政策助手")).to_be_focused()
