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
from tests.e2e.conftest import LOG_DIR, port
from tests.e2e.test_admin_to_bot import issue_admin_token
from tests.e2e.test_console import DESKTOP, shot, sign_in
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
    database = f"sqlite:///{tmp_path_factory.mktemp('push-console') / 'policy.db'}"
    stack = Stack(
        rasa_port=port(5245),
        action_port=port(5295),
        app_port=port(8240),
        log_dir=LOG_DIR,
        env={"DATABASE_URL": database, "REDIS_URL": ""},
    )
    stack.start(only=("app",))
    try:
        stack.wait_ready()
        yield stack
    finally:
        stack.stop()


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
