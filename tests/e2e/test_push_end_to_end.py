"""Policies find the company (issue 13), end to end, with every process real.

The whole stack runs — Rasa, the action server, the app and the outbox worker (`policybot worker`)
— on a database of its own, with WeChat's API played by the stand-in HTTP server
(`tests/wechat/api_stand_in.py`, reached through WECHAT_API_BASE_URL, as in production).

1. A company saves its profile in the widget (headless Chromium); a WeChat follower with the same
   kinds and industry has saved one through the bot's data layer (`save_profile(channel="wechat")`).
2. An admin previews a new document through the admin API: 2 to be notified, the widget company
   and the WeChat follower; the admin imports it.
3. The worker delivers; it is killed (SIGKILL) while its WeChat delivery is in flight (the token
   request still unanswered) and started again: after its lease runs out the notification goes out.
4. The company's next visit shows the badge and the notification; opening it marks it read, and
   "查看第N条" asks the bot, which answers with that measure. The stand-in received exactly one
   template message for the follower.
5. Publishing the same document again notifies nobody, and killing and restarting the worker once
   more sends nothing twice: still one template message, one inbox item, each notification sent once.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, expect
from sqlalchemy import select

from policy_db.db import Database
from policy_db.models import EnterpriseProfile, InboxItem, Notification
from policy_db.push.profiles import ProfileInput, save_profile
from tests.e2e.conftest import LOG_DIR, port, require_model, seeded_database
from tests.e2e.test_admin_to_bot import issue_admin_token
from tests.e2e.test_widget_subscriptions import (
    consent_box,
    fill_profile,
    open_mine,
    save_button,
    saved_profile,
    sender_of,
    shot,
)
from tests.wechat.api_stand_in import TEMPLATE_SEND, TOKEN, WeChatApiStandIn
from tools.stack import Stack

pytestmark = [pytest.mark.bot, pytest.mark.browser]

APPID, SECRET, TEMPLATE = "wx5e2e0123456789ab", "0123456789abcdef0123456789abcdef", "TPL-policy-e2e"
OPENID = "oPuTuo-e2e-follower-0000001"
KINDS, INDUSTRY = ["科技企业"], "集成电路设计"
LEASE_SECONDS = 5
SLUG = "putuo-ic-support-2026"
TITLE = "普陀区支持集成电路设计产业发展若干措施"


def plan_text(issued: dt.date) -> str:
    """A new document: measure 1 concerns IC design companies, measure 2 does not."""
    return "\n".join(
        [
            "普府办〔2026〕31号",
            "上海市普陀区人民政府办公室",
            f"{issued.year}年{issued.month}月{issued.day}日",
            TITLE,
            "为支持集成电路设计产业发展，制定本措施。",
            "一、支持研发设计",
            "(一)支持流片验证。降低企业研发成本。具体措施:",
            "1.支持集成电路设计企业开展首轮流片验证，按流片费用的30%给予补贴，每家企业最高200万元。(责任单位:区科委)",
            "2.对新引进的研发机构给予租房补贴，补贴期限不超过三年。(责任单位:区科委、区财政局)",
        ]
    )


@dataclass
class SlowWeChat(WeChatApiStandIn):
    """The stand-in, leaving token requests unanswered while `holding` (WeChat slow to answer).

    A held request is never answered (its handler thread, a daemon, waits until the test process
    ends): the worker that sent it is killed meanwhile, so nobody would read the answer.
    """

    holding: threading.Event = field(default_factory=threading.Event)
    held: int = 0
    _never: threading.Event = field(default_factory=threading.Event, repr=False)

    def _token(self, method: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if self.holding.is_set():
            self.held += 1
            self._never.wait()
        return super()._token(method, query)


@pytest.fixture(scope="module")
def wechat() -> Iterator[SlowWeChat]:
    stand_in = SlowWeChat(APPID, SECRET).start()
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="module")
def push_stack(tmp_path_factory: pytest.TempPathFactory, wechat: SlowWeChat) -> Iterator[Stack]:
    """Rasa, actions, app and the worker, on a database of their own, WeChat at the stand-in."""
    require_model()
    database = seeded_database(f"sqlite:///{tmp_path_factory.mktemp('push-e2e') / 'policy.db'}")
    stack = Stack(
        rasa_port=port(5760),
        action_port=port(5810),
        app_port=port(8760),
        log_dir=LOG_DIR,
        env={
            "DATABASE_URL": database,
            "REDIS_URL": "",
            "WECHAT_APPID": APPID,
            "WECHAT_APPSECRET": SECRET,
            "WECHAT_TEMPLATE_ID": TEMPLATE,
            "WECHAT_API_BASE_URL": wechat.base_url,
            "PUSH_POLL_SECONDS": "0.5",
            "PUSH_LEASE_SECONDS": str(LEASE_SECONDS),
            "PUSH_RETRY_SECONDS": "1",
        },
    )
    with stack:  # starts actions, app and rasa
        stack.start_one("worker")
        yield stack


@pytest.fixture(scope="module")
def database(push_stack: Stack) -> Iterator[Database]:
    db = Database(push_stack.env["DATABASE_URL"])
    yield db
    db.dispose()


@pytest.fixture
def phone(chromium: Browser, push_stack: Stack) -> Iterator[BrowserContext]:
    context = chromium.new_context(
        viewport={"width": 375, "height": 740},
        device_scale_factor=2,
        locale="zh-CN",
        base_url=push_stack.app_url,
        bypass_csp=True,
    )
    context.set_default_timeout(30_000)
    yield context
    context.close()


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def kill_worker(stack: Stack) -> None:
    """SIGKILL the worker process: no clean-up, no giving its claims back."""
    process = stack.processes.pop("worker")
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def notifications(database: Database) -> list[tuple[str, str, str, int]]:
    """(channel, user id, state, attempts) of every notification."""
    with database.session() as session:
        rows = session.execute(
            select(
                EnterpriseProfile.channel,
                EnterpriseProfile.channel_user_id,
                Notification.state,
                Notification.attempts,
            )
            .join(Notification, Notification.profile_id == EnterpriseProfile.id)
            .order_by(Notification.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def inbox_items(database: Database) -> int:
    with database.session() as session:
        return len(list(session.scalars(select(InboxItem.id))))


def templates_to(wechat: SlowWeChat, openid: str) -> list[dict[str, Any]]:
    return [m for m in wechat.templates if m["touser"] == openid]


def test_a_new_document_reaches_the_widget_company_and_the_wechat_follower_exactly_once(
    phone: BrowserContext, push_stack: Stack, database: Database, wechat: SlowWeChat
) -> None:
    # 1. The company saves its profile in the widget; the WeChat follower has one with the same tags.
    page = phone.new_page()
    page.goto("/")
    expect(page.locator(".chip").first).to_be_visible()  # the bot greeted
    sheet = open_mine(page)
    fill_profile(sheet, kinds=KINDS, industry=INDUSTRY, street="真如镇街道", size="小型", topics=[])
    consent_box(sheet).check()
    save_button(sheet).click()
    expect(saved_profile(sheet)).to_contain_text(INDUSTRY)
    sender = sender_of(page)
    with database.session() as session:
        follower = save_profile(
            session,
            channel="wechat",
            channel_user_id=OPENID,
            profile=ProfileInput(enterprise_types=KINDS, industry=INDUSTRY),
            consent=True,
        ).id
        company = session.scalar(
            select(EnterpriseProfile.id).where(EnterpriseProfile.channel_user_id == sender)
        )

    # 2. The admin previews the new document: the company and the follower are to be notified.
    secret = issue_admin_token(push_stack.env["DATABASE_URL"], name="推送端到端管理员")
    admin = httpx.Client(
        base_url=push_stack.app_url, headers={"Authorization": f"Bearer {secret}"}, timeout=60
    )
    body = {"text": plan_text(dt.date.today() - dt.timedelta(days=3)), "slug": SLUG}
    preview = admin.post("/api/admin/documents", json=body)
    assert preview.status_code == 200, preview.text
    assert preview.json()["summary"]["measures"] == 2
    assert preview.json()["notifications"]["count"] == 2
    assert set(preview.json()["notifications"]["sample"]) == {company, follower}
    assert notifications(database) == []  # a preview writes nothing

    # 3. Publish, while WeChat is slow to answer: the worker is killed with the delivery in flight.
    wechat.holding.set()
    imported = admin.post("/api/admin/documents", json={**body, "commit": True})
    assert imported.status_code == 200, imported.text
    document_id = imported.json()["report"]["document_id"]
    assert imported.json()["report"]["created"] == [1, 2]
    wait_for(lambda: wechat.held >= 1, "the worker to ask WeChat for a token")
    assert ("wechat", OPENID, "sending", 1) in notifications(database)  # claimed, in flight
    kill_worker(push_stack)
    wechat.holding.clear()
    assert wechat.templates == []
    push_stack.start_one("worker")  # its lease runs out, then the new worker sends it
    wait_for(lambda: templates_to(wechat, OPENID), "the template message", timeout=LEASE_SECONDS + 60)
    wait_for(lambda: inbox_items(database) == 1, "the widget's notification")
    # WeChat has the message a moment before the worker records it as sent: wait for the record.
    delivered = [("wechat", OPENID, "sent", 2), ("widget", sender, "sent", 1)]
    wait_for(lambda: sorted(notifications(database)) == delivered, "both notifications recorded as sent")

    # 4. The company's next visit: the badge, the notification, and the bot answers about its measure.
    page.reload()
    expect(page.locator("#mine-badge")).to_have_text("1")
    expect(page.locator("#mine-open")).to_have_attribute("aria-label", "我的订阅，1条未读通知")
    shot(page, "push-e2e-badge-375.png")
    sheet = open_mine(page)
    item = sheet.locator(".inbox__item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("政策更新：第1条")
    item.locator(".inbox__head").click()
    expect(page.locator("#mine-badge")).to_be_hidden()
    expect(item.locator(".inbox__text")).to_contain_text("第1条")
    expect(item.locator(".inbox__text")).not_to_contain_text("第2条")  # measure 2 is not theirs
    unread = httpx.get(f"{push_stack.app_url}/api/inbox", params={"sender": sender}, timeout=10).json()[
        "unread"
    ]
    assert unread == 0
    ask = item.get_by_role("button", name="查看第1条")
    expect(ask).to_have_attribute("data-key", f"{document_id}:1")  # the new document's, not the plan's
    ask.click()
    expect(sheet).to_be_hidden()
    expect(page.locator(".row--user .bubble").last).to_have_text("第1条")
    answer = page.locator(".card", has=page.locator(".card__no", has_text="第1条")).last
    expect(answer).to_contain_text("流片验证")
    expect(answer.locator(".card__source")).to_contain_text(TITLE)
    shot(page, "push-e2e-answer-375.png")

    [message] = templates_to(wechat, OPENID)
    assert message["template_id"] == TEMPLATE
    assert "第1条" in message["data"]["keyword1"]["value"]
    assert "第2条" not in message["data"]["keyword1"]["value"]
    assert len(wechat.templates) == 1

    # The admins' report of the change agrees.
    [change] = [c for c in admin.get("/api/admin/push/changes").json()["items"] if c["kind"] == "document"]
    report = admin.get(f"/api/admin/push/changes/{change['id']}").json()
    states = {state: n for state, n in report["by_state"].items() if n}
    assert (states, report["by_channel"], report["failures"]) == ({"sent": 2}, {"widget": 1, "wechat": 1}, [])

    # 5. The same document again: nobody is newly concerned; a killed and restarted worker sends nothing.
    again = admin.post("/api/admin/documents", json={**body, "commit": True})
    assert again.status_code == 200, again.text
    assert again.json()["report"]["unchanged"] == [1, 2] and again.json()["notifications"]["count"] == 0
    kill_worker(push_stack)
    push_stack.start_one("worker")
    time.sleep(LEASE_SECONDS + 3)  # past any lease and several polls of the new worker
    assert Counter(m["touser"] for m in wechat.templates) == {OPENID: 1}
    assert wechat.calls[TEMPLATE_SEND] == 1 and wechat.calls[TOKEN] >= 2
    assert sorted(notifications(database)) == delivered
    assert inbox_items(database) == 1
    page.reload()
    expect(page.locator("#mine-badge")).to_be_hidden()
    admin.close()
