"""The admin's 政策推送 tab in headless Chromium, against the real app on a database of its own.

Two companies saved profiles (a widget client following 科技企业 and 税务, a WeChat follower of
科技企业); an admin added a measure for 科技企业, which notified both; the worker delivered the
widget's notice to its inbox, and WeChat's API (a stand-in HTTP server) refused the follower's
template message with 45015. The company then asked the bot a question. The admin sees the
subscription counts, the outbox with one delivered and one failed notification (and its error),
the change's delivery report, and the chart of pushes with the follow-up conversation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, expect
from sqlalchemy import select

from channels.wechat.official_api import OfficialAccountAPI
from policy_db.auth import Principal
from policy_db.db import Database
from policy_db.models import ResponsibleUnit
from policy_db.push.config import PushSettings
from policy_db.push.delivery import InboxChannel, WeChatTemplateChannel
from policy_db.push.profiles import ProfileInput, save_profile
from policy_db.push.worker import Worker
from policy_db.question_log import log_question
from policy_db.services.measures import create_measure
from tests.e2e.conftest import app_alone, seeded_database
from tests.e2e.test_admin_to_bot import issue_admin_token
from tests.e2e.test_console import DESKTOP, open_measure, shot, sign_in
from tests.wechat.api_stand_in import WeChatApiStandIn
from tools.stack import Stack

pytestmark = [pytest.mark.browser]

ADMIN = Principal("推送页测试管理员", "admin")
APPID, SECRET, TEMPLATE = "wx0123456789abcdef", "fedcba9876543210fedcba9876543210", "TPL-policy-update"
COMPANY = "w-push-console-company"
FOLLOWER = "o-push-console-follower"
NUMBER = 101


@pytest.fixture(scope="module")
def push_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The app alone on a seeded database of its own (no profiles in the shared one)."""
    database = seeded_database(f"sqlite:///{tmp_path_factory.mktemp('push-console') / 'policy.db'}")
    with app_alone(database, app_port=8240, rasa_port=5245, action_port=5295) as stack:
        yield stack


@pytest.fixture(scope="module")
def admin_secret(push_stack: Stack) -> str:
    return issue_admin_token(push_stack.env["DATABASE_URL"], name="推送页测试管理员")


@pytest.fixture(scope="module")
def seeded(push_stack: Stack) -> dict[str, Any]:
    """Two profiles, a new measure's two notifications (one delivered, one failed), a follow-up question."""
    wechat = WeChatApiStandIn(APPID, SECRET).start()
    wechat.outside_window.add(FOLLOWER)  # 45015: the follower cannot be reached
    database = Database(push_stack.env["DATABASE_URL"])
    try:
        with database.session() as session:
            save_profile(
                session,
                channel="widget",
                channel_user_id=COMPANY,
                profile=ProfileInput(enterprise_types=["科技企业"], topics=["topic_tax"]),
                consent=True,
            )
            save_profile(
                session,
                channel="wechat",
                channel_user_id=FOLLOWER,
                profile=ProfileInput(enterprise_types=["科技企业"]),
                consent=True,
            )
        with database.session() as session:
            create_measure(
                session,
                actor=ADMIN,
                document_id=1,
                number=NUMBER,
                category=7,
                text="对首次认定的高新技术企业给予一次性研发费用补贴。",
                units=[session.scalars(select(ResponsibleUnit.name).order_by(ResponsibleUnit.id)).first()],
                tags=["科技企业"],
            )
        api = OfficialAccountAPI(APPID, SECRET, base_url=wechat.base_url, attempts=1, backoff=0.01, timeout=2)
        worker = Worker(database, [InboxChannel(), WeChatTemplateChannel(api, TEMPLATE)], PushSettings())
        report = worker.run_once()
        assert (report.sent, report.failed) == (1, 1), report
        with database.session() as session:
            log_question(
                session, sender_id=COMPANY, text="研发费用补贴怎么申请？", outcome="answered", channel="rest"
            )
    finally:
        database.dispose()
        wechat.stop()
    return {"today": (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=8)).strftime("%m/%d")}


@pytest.fixture
def desktop(chromium: Browser, push_stack: Stack) -> Iterator[BrowserContext]:
    """A fresh desktop profile (bypass_csp: Playwright's waiting helpers evaluate strings)."""
    context = chromium.new_context(
        viewport=DESKTOP, locale="zh-CN", base_url=push_stack.app_url, bypass_csp=True
    )
    context.set_default_timeout(20_000)
    yield context
    context.close()


def test_the_push_tab_shows_subscriptions_outbox_report_and_chart(
    desktop: BrowserContext, admin_secret: str, seeded: dict[str, Any]
) -> None:
    page = desktop.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, "/admin", admin_secret)
    page.get_by_role("tab", name="政策推送").click()

    # Who follows what: counts only.
    subscriptions = page.locator("#p-subscriptions")
    expect(subscriptions.locator("#p-profiles")).to_contain_text("共 2 家企业订阅")
    expect(subscriptions.locator("#p-profiles")).to_contain_text("网页对话框 1 家，微信公众号 1 家")
    expect(subscriptions.locator("tr", has_text="科技企业")).to_contain_text("2")
    expect(subscriptions.locator("tbody").nth(1).locator("tr")).to_have_count(1)  # one topic followed
    expect(subscriptions.locator("tbody").nth(1)).to_contain_text("1")

    # The outbox: one delivered to the widget's inbox, one refused by WeChat with its error.
    rows = page.locator("#p-outbox-rows tr")
    expect(rows).to_have_count(2)
    delivered = rows.filter(has_text=COMPANY)
    expect(delivered).to_contain_text("已送达")
    expect(delivered).to_contain_text(f"文件1 第{NUMBER}条")
    failed = rows.filter(has_text=FOLLOWER)
    expect(failed).to_contain_text("发送失败")
    expect(failed).to_contain_text("45015")
    expect(page.locator("#p-outbox-counts")).to_contain_text("已送达 1 · 发送失败 1")
    page.locator("#p-state").select_option("failed")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(FOLLOWER)
    page.locator("#p-state").select_option("")
    page.locator("#p-channel").select_option("widget")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(COMPANY)

    # The change and its delivery report.
    change = page.locator("#p-change-rows tr").first
    expect(change).to_contain_text("新增措施")
    expect(change).to_contain_text(f"第{NUMBER}条")
    change.click()
    report = page.locator("#p-report")
    expect(report.locator("#p-report-facts")).to_contain_text("2 家企业")
    expect(report.locator("#p-report-facts")).to_contain_text("网页对话框 1，微信公众号 1")
    expect(report.locator("#p-report-states li[data-state=sent]")).to_contain_text("1")
    expect(report.locator("#p-report-states li[data-state=failed]")).to_contain_text("1")
    expect(report.locator("#p-report-failures tr")).to_have_count(1)
    expect(report.locator("#p-report-failures")).to_contain_text(FOLLOWER)
    expect(report.locator("#p-report-failures")).to_contain_text("45015")

    # Pushes per day and the conversation that followed.
    summary = page.locator("#p-activity-summary")
    expect(summary).to_contain_text("共送达 1 条通知，覆盖 1 家企业")
    expect(summary).to_contain_text("1 家企业在收到通知后 7 天内咨询了机器人")
    canvas = page.locator("#p-activity")
    expect(canvas).to_be_visible()
    page.wait_for_function("() => window.Chart && Chart.getChart('p-activity')")
    chart = page.evaluate(
        "() => { const c = Chart.getChart('p-activity');"
        " return {labels: c.data.labels, sets: c.data.datasets.map((d) => [d.label, d.data])}; }"
    )
    assert len(chart["labels"]) == 30 and chart["labels"][-1] == seeded["today"]
    sets = dict(chart["sets"])
    assert sets["送达通知"][-1] == 1 and sum(sets["送达通知"]) == 1
    assert sets["推送后咨询"][-1] == 1 and sum(sets["推送后咨询"]) == 1
    assert canvas.bounding_box()["height"] > 100  # type: ignore[index]
    shot(page, "admin-push.png", full_page=True)
    assert errors == []


def save_company(stack: Stack, sender: str, kinds: list[str]) -> int:
    """A widget client's saved profile (with consent): its id."""
    database = Database(stack.env["DATABASE_URL"])
    try:
        with database.session() as session:
            profile = save_profile(
                session,
                channel="widget",
                channel_user_id=sender,
                profile=ProfileInput(enterprise_types=kinds),
                consent=True,
            )
            return profile.id
    finally:
        database.dispose()


def admin_get(stack: Stack, secret: str, path: str) -> Any:
    response = httpx.get(f"{stack.app_url}{path}", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200, response.text
    return response.json()


def test_the_measure_editor_says_whom_an_edit_notifies_and_saves_with_or_without(
    desktop: BrowserContext, admin_secret: str, push_stack: Stack, seeded: dict[str, Any]
) -> None:
    foreign = save_company(push_stack, "w-push-console-foreign", ["外资企业"])
    culture = save_company(push_stack, "w-push-console-culture", ["文创企业"])
    outbox_before = admin_get(push_stack, admin_secret, "/api/admin/push/outbox")["counts"]
    page = desktop.new_page()
    sign_in(page, "/admin", admin_secret)
    open_measure(page, f"1:{NUMBER}", NUMBER)
    notify = page.locator("#m-notify")
    expect(notify).to_be_hidden()  # nothing typed yet

    page.locator("#m-tags").fill("科技企业、外资企业")
    expect(notify).to_contain_text("此次修改将通知 1 家企业")
    expect(notify).to_contain_text(f"#{foreign}")
    page.get_by_label("保存或恢复时通知这些企业").uncheck()
    page.get_by_role("button", name="保存修改").click()
    expect(page.locator("#m-version")).to_contain_text("第2版")
    expect(page.locator("#toast")).to_contain_text("未通知企业")
    expect(notify).to_be_hidden()
    quiet = admin_get(push_stack, admin_secret, "/api/admin/push/changes")["items"][0]
    assert (quiet["kind"], quiet["notified"], quiet["notifications"]) == ("edited", False, 0)
    assert admin_get(push_stack, admin_secret, "/api/admin/push/outbox")["counts"] == outbox_before

    page.locator("#m-tags").fill("科技企业、外资企业、文创企业")
    expect(notify).to_contain_text("此次修改将通知 1 家企业")  # the foreign company heard nothing, but it
    expect(notify).to_contain_text(f"#{culture}")  # is no longer newly concerned: only the culture one
    expect(page.get_by_label("保存或恢复时通知这些企业")).to_be_checked()
    page.get_by_role("button", name="保存修改").click()
    expect(page.locator("#m-version")).to_contain_text("第3版")
    told = admin_get(push_stack, admin_secret, "/api/admin/push/changes")["items"][0]
    assert (told["notified"], told["notifications"]) == (True, 1)
    pending = admin_get(push_stack, admin_secret, "/api/admin/push/outbox?state=pending")["items"]
    assert [n["channel_user_id"] for n in pending] == ["w-push-console-culture"]

    page.locator("#m-text").fill(page.locator("#m-text").input_value().replace("一次性", "一次性的"))
    expect(notify).to_contain_text("此次修改将通知 0 家企业")  # a wording fix tells nobody
    shot(page, "admin-measure-notify.png")

    page.get_by_role("button", name="放弃修改").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="停用此条").click()
    expect(page.locator("#m-version")).to_contain_text("第4版")
    expect(notify).to_contain_text("恢复此条将通知 4 家企业")  # every company of its three kinds
    outbox_before = admin_get(push_stack, admin_secret, "/api/admin/push/outbox")["counts"]
    page.get_by_label("保存或恢复时通知这些企业").uncheck()
    page.get_by_role("button", name="恢复此条").click()
    expect(page.locator("#m-version")).to_contain_text("第5版")
    expect(page.locator("#toast")).to_contain_text("已恢复（未通知企业）")
    assert admin_get(push_stack, admin_secret, "/api/admin/push/outbox")["counts"] == outbox_before


TAX_NOTICE = """普陀区税务局
2023年3月1日
关于优化纳税服务的通知
一、工作要求
(一)优化纳税服务。提升办税便利度。具体措施:
1.推行增值税发票全面数字化，新办纳税人当日即可领用数字化电子发票。(责任单位:区税务局)
"""


def test_the_import_page_says_whom_a_document_notifies_and_imports_with_or_without(
    desktop: BrowserContext, admin_secret: str, push_stack: Stack, seeded: dict[str, Any]
) -> None:
    page = desktop.new_page()
    sign_in(page, "/admin", admin_secret)
    page.get_by_role("tab", name="导入文件").click()
    notify = page.locator("#i-notify")

    def preview(slug: str) -> None:
        page.locator("#i-slug").fill(slug)
        page.locator("#i-text").fill(TAX_NOTICE)
        page.get_by_role("button", name="预览").click()
        expect(page.locator("#i-summary")).to_contain_text("1 条措施")
        expect(notify).to_contain_text("此次修改将通知 1 家企业")  # the company following 税务
        expect(notify).to_contain_text("#1")

    preview("tax-notice-quiet")
    page.get_by_label("导入时通知这些企业").uncheck()
    page.get_by_role("button", name="确认导入").click()
    expect(page.locator("#i-done")).to_contain_text("未通知企业")
    quiet = admin_get(push_stack, admin_secret, "/api/admin/push/changes")["items"][0]
    assert (quiet["kind"], quiet["notified"], quiet["notifications"]) == ("document", False, 0)

    preview("tax-notice-told")
    expect(page.get_by_label("导入时通知这些企业")).to_be_checked()
    page.get_by_role("button", name="确认导入").click()
    expect(page.locator("#i-done")).to_contain_text("已通知 1 家企业")
    told = admin_get(push_stack, admin_secret, "/api/admin/push/changes")["items"][0]
    assert (told["kind"], told["notified"], told["notifications"]) == ("document", True, 1)
    pending = admin_get(push_stack, admin_secret, f"/api/admin/push/changes/{told['id']}")
    assert pending["by_state"]["pending"] == 1
