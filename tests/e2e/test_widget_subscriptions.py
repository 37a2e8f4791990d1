"""我的订阅 in the widget, in headless Chromium: the profile form with its consent, and the inbox.

- Saving needs the consent ticked (保存 stays disabled until then); the server's refusals are
  shown in the form; a saved profile is stored (API and database), shown after a reload, changed
  with 修改 and deleted after a confirmation, which says what went.
- Notifications published by an admin (the admin API) and delivered by the real worker process
  (`policybot worker --once`) show as the bell's unread badge on the next visit; opening one marks
  it read and the badge goes down, also after a reload.

The app runs alone on its own database (the sheet never asks the bot; the end-to-end push test
asks the bot about a notification's measure).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from policy_db.config import PROJECT_ROOT
from tests.e2e.conftest import app_alone, seeded_database
from tests.e2e.test_admin_to_bot import issue_admin_token
from tools.stack import VENV_BIN, Stack

pytestmark = [pytest.mark.browser]

PHONE = {"width": 375, "height": 740}
ARTIFACTS = PROJECT_ROOT / "artifacts"
KIND = "拟上市企业"


@pytest.fixture(scope="module")
def subs_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The app alone on a seeded database of its own."""
    database = seeded_database(f"sqlite:///{tmp_path_factory.mktemp('widget-subscriptions') / 'policy.db'}")
    with app_alone(database, app_port=8740, rasa_port=5740, action_port=5790) as stack:
        yield stack


@pytest.fixture
def phone(chromium: Browser, subs_stack: Stack) -> Iterator[BrowserContext]:
    """A fresh phone-sized browser profile: its own localStorage, hence its own sender id."""
    context = chromium.new_context(
        viewport=PHONE, device_scale_factor=2, locale="zh-CN", base_url=subs_stack.app_url, bypass_csp=True
    )
    context.set_default_timeout(20_000)
    yield context
    context.close()


@pytest.fixture
def page(phone: BrowserContext) -> Page:
    page = phone.new_page()
    page.goto("/")
    return page


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def open_mine(page: Page) -> Locator:
    """Tap the title bar's 我的订阅; the sheet that opens."""
    page.locator("#mine-open").click()
    sheet = page.get_by_role("dialog", name="我的订阅")
    expect(sheet).to_be_visible()
    return sheet


def sender_of(page: Page) -> str:
    return str(page.evaluate("localStorage.getItem('policybot.sender')"))


def api_profile(stack: Stack, sender: str) -> httpx.Response:
    return httpx.get(f"{stack.app_url}/api/profile", params={"sender": sender}, timeout=10)


def stored_profiles(stack: Stack, sender: str) -> list[dict[str, Any]]:
    """The enterprise_profile rows of this widget client, read from the database itself."""
    engine = sa.create_engine(stack.env["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT * FROM enterprise_profile WHERE channel = 'widget' AND channel_user_id = :u"),
                {"u": sender},
            )
            return [dict(row._mapping) for row in rows]
    finally:
        engine.dispose()


def fill_profile(
    sheet: Locator, *, kinds: list[str], industry: str, street: str, size: str, topics: list[str]
) -> None:
    for kind in kinds:
        sheet.get_by_role("checkbox", name=kind, exact=True).check()
    sheet.get_by_label("行业", exact=True).fill(industry)
    sheet.get_by_label("所在街道镇", exact=True).fill(street)
    sheet.get_by_label("企业规模", exact=True).select_option(size)
    for topic in topics:
        sheet.get_by_role("checkbox", name=topic, exact=True).check()


def save_button(sheet: Locator) -> Locator:
    return sheet.get_by_role("button", name="保存", exact=True)


def consent_box(sheet: Locator) -> Locator:
    return sheet.get_by_role("checkbox", name="我已阅读并同意以上说明")


def saved_profile(sheet: Locator) -> Locator:
    return sheet.get_by_label("已保存的企业画像")


def test_consent_is_required_and_the_saved_profile_is_stored_and_shown_again(
    page: Page, subs_stack: Stack
) -> None:
    consent = httpx.get(f"{subs_stack.app_url}/api/profile/consent", timeout=10).json()
    sheet = open_mine(page)
    expect(sheet.locator(".consent__text")).to_have_text(consent["text"])  # the full text, visible
    expect(sheet.locator(".consent__text")).to_be_visible()
    save = save_button(sheet)
    expect(save).to_be_disabled()
    fill_profile(
        sheet,
        kinds=[KIND, "科技企业"],
        industry="集成电路设计",
        street="长寿路街道",
        size="小型",
        topics=["融资与上市"],
    )
    expect(save).to_be_disabled()  # everything filled in, but not agreed to
    consent_box(sheet).check()
    expect(save).to_be_enabled()
    shot(page, "widget-profile-form-375.png")
    consent_box(sheet).uncheck()
    expect(save).to_be_disabled()
    assert api_profile(subs_stack, sender_of(page)).status_code == 404  # nothing sent yet

    consent_box(sheet).check()
    save.click()
    shown = saved_profile(sheet)
    expect(shown).to_contain_text("集成电路设计")
    expect(shown).to_contain_text(f"{KIND}、科技企业")
    expect(shown).to_contain_text("长寿路街道")
    expect(shown).to_contain_text("融资与上市")  # the topic's label, not its name
    expect(sheet.get_by_role("status")).to_contain_text("已保存")
    shot(page, "widget-profile-saved-375.png")

    sender = sender_of(page)
    stored = api_profile(subs_stack, sender).json()
    assert (stored["enterprise_types"], stored["industry"], stored["street"], stored["size"]) == (
        [KIND, "科技企业"],
        "集成电路设计",
        "长寿路街道",
        "小型",
    )
    assert stored["topics"] == ["topic_financing"]
    [row] = stored_profiles(subs_stack, sender)
    assert row["consent_text_version"] == consent["version"] and row["industry"] == "集成电路设计"

    page.reload()
    sheet = open_mine(page)
    expect(saved_profile(sheet)).to_contain_text("集成电路设计")
    sheet.get_by_role("button", name="修改").click()
    expect(sheet.get_by_role("checkbox", name=KIND, exact=True)).to_be_checked()
    expect(sheet.get_by_role("checkbox", name="融资与上市", exact=True)).to_be_checked()
    expect(sheet.get_by_role("checkbox", name="外资企业", exact=True)).not_to_be_checked()
    expect(sheet.get_by_label("行业", exact=True)).to_have_value("集成电路设计")
    expect(sheet.get_by_label("企业规模", exact=True)).to_have_value("小型")
    expect(consent_box(sheet)).not_to_be_checked()  # each save is agreed to again
    expect(save_button(sheet)).to_be_disabled()
    sheet.get_by_label("行业", exact=True).fill("生物医药")
    consent_box(sheet).check()
    save_button(sheet).click()
    expect(saved_profile(sheet)).to_contain_text("生物医药")
    assert api_profile(subs_stack, sender).json()["industry"] == "生物医药"
    assert len(stored_profiles(subs_stack, sender)) == 1  # replaced, not added

    page.keyboard.press("Escape")  # back to the chat, focus on the bell that opened the sheet
    expect(sheet).to_be_hidden()
    expect(page.locator("#mine-open")).to_be_focused()


def test_the_servers_refusal_is_shown_in_the_form(page: Page, subs_stack: Stack) -> None:
    sheet = open_mine(page)
    consent_box(sheet).check()
    save_button(sheet).click()  # nothing to follow: no kind, topic or industry
    error = sheet.get_by_role("alert")
    expect(error).to_have_text("请至少选择一个企业类型、关注的主题或填写行业，否则没有政策可以通知您")
    expect(sheet.get_by_label("行业", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(save_button(sheet)).to_be_enabled()  # correct and try again
    assert api_profile(subs_stack, sender_of(page)).status_code == 404

    sheet.get_by_label("行业", exact=True).fill("软件开发")
    save_button(sheet).click()
    expect(saved_profile(sheet)).to_contain_text("软件开发")


def test_deleting_the_profile_asks_first_then_removes_it_for_good(page: Page, subs_stack: Stack) -> None:
    sheet = open_mine(page)
    fill_profile(sheet, kinds=["文创企业"], industry="动漫设计", street="", size="", topics=[])
    consent_box(sheet).check()
    save_button(sheet).click()
    expect(saved_profile(sheet)).to_contain_text("动漫设计")
    sender = sender_of(page)

    sheet.get_by_role("button", name="删除我的画像").click()
    expect(sheet).to_contain_text("确定删除您的企业画像吗")
    sheet.get_by_role("button", name="取消").click()  # changed my mind: nothing deleted
    expect(saved_profile(sheet)).to_contain_text("动漫设计")
    assert api_profile(subs_stack, sender).status_code == 200

    sheet.get_by_role("button", name="删除我的画像").click()
    sheet.get_by_role("button", name="确认删除").click()
    expect(sheet.get_by_role("status")).to_have_text("已删除：企业画像 1 份、通知 0 条、消息 0 条。")
    expect(save_button(sheet)).to_be_disabled()  # the empty form, to start again if wanted
    expect(sheet.get_by_label("行业", exact=True)).to_have_value("")
    assert api_profile(subs_stack, sender).status_code == 404
    assert stored_profiles(subs_stack, sender) == []

    page.reload()
    sheet = open_mine(page)
    expect(save_button(sheet)).to_be_visible()
    expect(saved_profile(sheet)).to_have_count(0)


def tab_to(page: Page, test: str, limit: int = 60) -> list[str]:
    """Press Tab until the JS expression `test` (on document.activeElement as `el`) holds; the ids passed."""
    passed = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        passed.append(str(page.evaluate("document.activeElement.id")))
        if page.evaluate(f"(el => {test})(document.activeElement)"):
            return passed
    raise AssertionError(f"Tab never reached {test}; passed {passed}")


def test_keyboard_only_the_sheet_is_a_dialog_that_keeps_focus(page: Page, subs_stack: Stack) -> None:
    tab_to(page, "el.id === 'mine-open'")
    page.keyboard.press("Enter")
    sheet = page.get_by_role("dialog", name="我的订阅")
    expect(sheet).to_be_visible()
    expect(page.locator("#mine-title")).to_be_focused()
    expect(sheet.get_by_label("行业", exact=True)).to_be_visible()
    passed = tab_to(page, "el.id === 'p-industry'")
    assert "input" not in passed  # the chat behind the sheet is out of reach (inert)
    page.keyboard.type("跨境电商")
    tab_to(page, "el.id === 'p-consent'")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(save_button(sheet)).to_be_focused()
    page.keyboard.press("Enter")
    expect(saved_profile(sheet)).to_contain_text("跨境电商")
    expect(sheet.get_by_role("status")).to_be_focused()  # the place is kept, and the result announced
    page.keyboard.press("Escape")
    expect(sheet).to_be_hidden()
    expect(page.locator("#mine-open")).to_be_focused()
    assert api_profile(subs_stack, sender_of(page)).json()["industry"] == "跨境电商"


# --- the inbox ---------------------------------------------------------------------------------


def publish_measures_for(stack: Stack, kind: str, numbers: list[int]) -> None:
    """An admin adds measures for `kind` (each its own change), then the worker delivers once."""
    secret = issue_admin_token(stack.env["DATABASE_URL"], name="订阅测试管理员")
    unit = httpx.get(f"{stack.app_url}/api/units", timeout=10).json()[0]["name"]
    with httpx.Client(
        base_url=stack.app_url, headers={"Authorization": f"Bearer {secret}"}, timeout=30
    ) as admin:
        for number in numbers:
            created = admin.post(
                "/api/admin/measures",
                json={
                    "document_id": 1,
                    "number": number,
                    "category": 1,
                    "title": f"{kind}专项服务{number}",
                    "text": f"为{kind}提供专项辅导和绿色通道服务（第{number}号试点）。",
                    "units": [unit],
                    "tags": [kind],
                },
            )
            assert created.status_code == 201, created.text
    run = subprocess.run(
        [str(VENV_BIN / "policybot"), "worker", "--once"],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "sent" in run.stdout, run.stdout + run.stderr


def test_the_bell_shows_unread_notifications_and_opening_one_marks_it_read(
    page: Page, subs_stack: Stack
) -> None:
    sheet = open_mine(page)
    expect(sheet.locator("#inbox-empty")).to_be_visible()
    fill_profile(sheet, kinds=[KIND], industry="", street="", size="", topics=[])
    consent_box(sheet).check()
    save_button(sheet).click()
    expect(saved_profile(sheet)).to_contain_text(KIND)
    page.keyboard.press("Escape")
    bell = page.locator("#mine-open")
    expect(page.locator("#mine-badge")).to_be_hidden()

    publish_measures_for(subs_stack, KIND, [9101, 9102])
    page.reload()  # the next visit
    badge = page.locator("#mine-badge")
    expect(badge).to_have_text("2")
    expect(bell).to_have_attribute("aria-label", "我的订阅，2条未读通知")
    shot(page, "widget-inbox-badge-375.png")

    sheet = open_mine(page)
    items = sheet.locator(".inbox__item")
    expect(items).to_have_count(2)
    expect(sheet.locator(".inbox__item--unread")).to_have_count(2)
    newest = items.first
    expect(newest).to_contain_text("政策更新：第9102条")
    expect(newest.locator(".inbox__date")).to_have_text(re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d$"))
    head = newest.locator(".inbox__head")
    expect(head).to_have_attribute("aria-expanded", "false")
    head.click()
    expect(newest.locator(".inbox__head")).to_have_attribute("aria-expanded", "true")
    expect(newest.locator(".inbox__text")).to_contain_text("回复“第9102条”查看措施全文")
    expect(newest.get_by_role("button", name="查看第9102条")).to_be_visible()
    expect(badge).to_have_text("1")
    expect(sheet.locator(".inbox__item--unread")).to_have_count(1)
    shot(page, "widget-inbox-375.png")

    inbox = httpx.get(
        f"{subs_stack.app_url}/api/inbox", params={"sender": sender_of(page)}, timeout=10
    ).json()
    assert inbox["unread"] == 1
    assert [i["read_at"] is not None for i in inbox["items"]] == [True, False]

    page.reload()
    expect(page.locator("#mine-badge")).to_have_text("1")
    sheet = open_mine(page)
    sheet.locator(".inbox__item").nth(1).locator(".inbox__head").click()
    expect(page.locator("#mine-badge")).to_be_hidden()
    expect(page.locator("#mine-open")).to_have_attribute("aria-label", "我的订阅")


def test_an_open_page_shows_new_notifications_within_a_minute(
    phone: BrowserContext, subs_stack: Stack
) -> None:
    page = phone.new_page()
    page.clock.install()  # the page's timers, under the test's control (time still flows)
    page.goto("/")
    sheet = open_mine(page)
    fill_profile(sheet, kinds=["外资企业"], industry="", street="", size="", topics=[])
    consent_box(sheet).check()
    save_button(sheet).click()
    expect(saved_profile(sheet)).to_contain_text("外资企业")
    page.keyboard.press("Escape")

    publish_measures_for(subs_stack, "外资企业", [9201])
    page.clock.run_for(30_000)
    expect(page.locator("#mine-badge")).to_be_hidden()  # not yet: the inbox is read once a minute
    page.clock.run_for(31_000)
    expect(page.locator("#mine-badge")).to_have_text("1")  # no reload
    expect(page.locator("#mine-open")).to_have_attribute("aria-label", "我的订阅，1条未读通知")
