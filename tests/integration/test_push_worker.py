"""The outbox worker: exactly once with concurrent workers, nothing lost when one dies, WeChat's answers.

- Two workers on PostgreSQL, each with its own connections, deliver 500 notifications (half to
  the widget's inbox, half as WeChat template messages to a stand-in for WeChat's API servers)
  exactly once.
- A worker killed (SIGKILL) in the middle of its batch loses nothing: what it had delivered stays
  delivered once, the rest is delivered by another worker after the lease.
- WeChat's answers: 40001 (a stale token) is refreshed by the client and sent; 45015 fails for good;
  45009 (quota) is retried later; HTTP 5xx is retried with backoff, then failed after K attempts.
- `policybot worker --once` delivers what is due.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update
from typer.testing import CliRunner

from channels.wechat.official_api import MemoryTokens, OfficialAccountAPI
from policy_db.auth import Principal
from policy_db.clock import as_utc, utc_now
from policy_db.config import get_settings
from policy_db.db import Database
from policy_db.models import EnterpriseProfile, InboxItem, Measure, Notification, ResponsibleUnit
from policy_db.push.config import PushSettings
from policy_db.push.delivery import InboxChannel, WeChatTemplateChannel
from policy_db.push.outbox import publish_change
from policy_db.push.profiles import match_key
from policy_db.push.worker import RunReport, Worker
from policy_db.runtime import Runtime
from policy_db.services.measures import create_measure
from tests.integration.admin_support import seeded_runtime_of
from tests.wechat.api_stand_in import TEMPLATE_SEND, WeChatApiStandIn

ROOT = Path(__file__).resolve().parents[2]
ADMIN = Principal("测试管理员", "admin")
APPID, SECRET, TEMPLATE = "wx0123456789abcdef", "fedcba9876543210fedcba9876543210", "TPL-policy-update"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def runtime(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with seeded_runtime_of(str(request.param), tmp_path_factory.mktemp("push-worker")) as rt:
        yield rt


@pytest.fixture
def wechat() -> Iterator[WeChatApiStandIn]:
    stand_in = WeChatApiStandIn(APPID, SECRET).start()
    yield stand_in
    stand_in.stop()


def wechat_channel(
    stand_in: WeChatApiStandIn, attempts: int = 2, tokens: MemoryTokens | None = None
) -> WeChatTemplateChannel:
    """The channel the worker command builds, on the stand-in (`tokens`: shared, as Redis shares them)."""
    api = OfficialAccountAPI(
        APPID, SECRET, base_url=stand_in.base_url, attempts=attempts, backoff=0.01, timeout=2, tokens=tokens
    )
    return WeChatTemplateChannel(api, TEMPLATE)


def outbox_of(runtime: Runtime, count: int, *, wechat_every: int = 0) -> list[int]:
    """`count` new profiles of a kind of their own and one new measure for them: its notification ids.

    Every `wechat_every`-th profile is a WeChat follower (openid `o<tag><n>`), the others widget clients.
    """
    tag = f"测试{secrets.token_hex(3)}企业"
    now = utc_now()
    rows = [
        {
            "channel": "wechat" if wechat_every and n % wechat_every == 0 else "widget",
            "channel_user_id": f"o{tag}{n}" if wechat_every and n % wechat_every == 0 else f"w{tag}{n}",
            "enterprise_types": [tag],
            "topics": [],
            "industry": "",
            "street": "",
            "size": "",
            "match_key": match_key([tag], [], ""),
            "consent_text_version": "2026-12",
            "consented_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for n in range(count)
    ]
    with runtime.database.session() as session:
        session.execute(insert(EnterpriseProfile), rows)
        number = 500 + int(secrets.token_hex(2), 16) % 9000
        create_measure(
            session,
            actor=ADMIN,
            document_id=1,
            number=number,
            category=7,
            text=f"面向{tag}的专项支持措施。",
            units=[session.scalars(select(ResponsibleUnit.name).order_by(ResponsibleUnit.id)).first()],
            tags=[tag],
            notify=False,
        )
        published = publish_change(session, actor=ADMIN, kind="new", measures=[f"1:{number}"])
        assert published is not None
        ids = list(
            session.scalars(select(Notification.id).where(Notification.change_id == published.change.id))
        )
    assert len(ids) == count
    return sorted(ids)


def states(runtime: Runtime, ids: list[int]) -> dict[int, Notification]:
    with runtime.database.session() as session:
        return {n.id: n for n in session.scalars(select(Notification).where(Notification.id.in_(ids)))}


def drain(worker: Worker) -> RunReport:
    total = RunReport()
    while True:
        report = worker.run_once()
        total.add(report)
        if report.claimed == 0:
            return total


# --- exactly once --------------------------------------------------------------------------------


@pytest.mark.postgres
def test_two_workers_on_postgres_deliver_500_notifications_exactly_once(
    runtime: Runtime, wechat: WeChatApiStandIn
) -> None:
    if not runtime.database.url.startswith("postgresql"):
        pytest.skip("concurrent workers need PostgreSQL's row locks (SQLite: one worker)")
    ids = outbox_of(runtime, 500, wechat_every=2)
    settings = PushSettings(push_batch_size=20, push_retry_seconds=0)
    tokens = MemoryTokens()  # one access token for both (production: RedisTokens in REDIS_URL)
    reports: list[RunReport] = []
    go = threading.Barrier(2)

    def work(name: str) -> None:
        database = Database(runtime.database.url)  # its own engine and connections
        try:
            go.wait()
            channels = [InboxChannel(), wechat_channel(wechat, tokens=tokens)]
            reports.append(drain(Worker(database, channels, settings, name=name)))
        finally:
            database.dispose()

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    rows = states(runtime, ids)
    assert Counter(n.state for n in rows.values()) == {"sent": 500}
    assert {n.attempts for n in rows.values()} == {1}  # nobody claimed a row another worker held
    assert sorted(r.sent for r in reports) == sorted(r.claimed for r in reports) and all(
        r.sent for r in reports
    )
    with runtime.database.session() as session:
        inbox = list(
            session.scalars(select(InboxItem.notification_id).where(InboxItem.notification_id.in_(ids)))
        )
    assert len(inbox) == len(set(inbox)) == 250
    openids = Counter(m["touser"] for m in wechat.templates)
    assert len(openids) == 250 and set(openids.values()) == {1}
    assert all(
        m["template_id"] == TEMPLATE and "有更新" in m["data"]["first"]["value"] for m in wechat.templates
    )


# A worker process that claims a batch, delivers part of it, then hangs until it is killed.
DYING_WORKER = """
import sys, threading
from policy_db.db import Database
from policy_db.push.config import PushSettings
from policy_db.push.delivery import InboxChannel
from policy_db.push.worker import Worker

database = Database(sys.argv[1])
settings = PushSettings(push_batch_size=30, push_lease_seconds=3)
worker = Worker(database, [InboxChannel()], settings, name="doomed")
claims, _ = worker.claim()
for claim in claims[:10]:
    worker.deliver(claim)
print(len(claims), flush=True)
threading.Event().wait()
"""


def test_a_worker_killed_mid_batch_loses_nothing(runtime: Runtime) -> None:
    ids = outbox_of(runtime, 40)
    doomed = subprocess.Popen(
        [sys.executable, "-c", DYING_WORKER, runtime.database.url],
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert doomed.stdout is not None
        assert int(doomed.stdout.readline()) == 30  # it claimed 30 and delivered 10 …
    finally:
        os.kill(doomed.pid, signal.SIGKILL)  # … and dies holding 20
        doomed.wait(timeout=30)
    survivor = Worker(runtime.database, [InboxChannel()], PushSettings(push_lease_seconds=3))
    first = drain(survivor)
    assert first.claimed == 10  # only the 10 never claimed: the dead worker's leases still run
    time.sleep(3.2)
    second = drain(survivor)
    assert second.claimed == second.sent == 20  # the lease ran out: nothing was lost
    rows = states(runtime, ids)
    assert Counter(n.state for n in rows.values()) == {"sent": 40}
    assert Counter(n.attempts for n in rows.values()) == {1: 20, 2: 20}  # a death counts as an attempt
    with runtime.database.session() as session:
        inbox = list(
            session.scalars(select(InboxItem.notification_id).where(InboxItem.notification_id.in_(ids)))
        )
    assert sorted(inbox) == ids  # each exactly once


def test_a_stopping_worker_gives_its_undelivered_claims_back(runtime: Runtime) -> None:
    ids = outbox_of(runtime, 5)
    worker = Worker(runtime.database, [InboxChannel()], PushSettings(push_batch_size=5))
    stop = threading.Event()
    stop.set()
    assert worker.run_once(stop).sent == 0
    rows = states(runtime, ids)
    assert {(n.state, n.attempts, n.lease_owner) for n in rows.values()} == {("pending", 0, None)}
    assert drain(worker).sent == 5


# --- WeChat's answers ----------------------------------------------------------------------------


def test_a_stale_token_is_refreshed_by_the_client_and_the_message_sent(
    runtime: Runtime, wechat: WeChatApiStandIn
) -> None:
    ids = outbox_of(runtime, 2, wechat_every=1)
    worker = Worker(runtime.database, [wechat_channel(wechat)], PushSettings(push_batch_size=1))
    assert worker.run_once().sent == 1
    wechat.invalidate_tokens()  # the next call gets 40001
    assert worker.run_once().sent == 1
    assert wechat.token_issuances == 2 and (TEMPLATE_SEND, 40001) in wechat.rejected
    assert {(n.state, n.attempts) for n in states(runtime, ids).values()} == {("sent", 1)}


def test_an_unreachable_user_fails_for_good(runtime: Runtime, wechat: WeChatApiStandIn) -> None:
    [nid] = outbox_of(runtime, 1, wechat_every=1)
    with runtime.database.session() as session:
        openid = session.scalar(
            select(EnterpriseProfile.channel_user_id).join(Notification).where(Notification.id == nid)
        )
    wechat.outside_window.add(str(openid))  # 45015: unsubscribed, or outside the window
    worker = Worker(runtime.database, [wechat_channel(wechat)], PushSettings(push_retry_seconds=0))
    assert worker.run_once().failed == 1 and worker.run_once().claimed == 0
    row = states(runtime, [nid])[nid]
    assert (row.state, row.attempts) == ("failed", 1) and "45015" in row.last_error


def test_a_used_up_quota_is_retried_later(runtime: Runtime, wechat: WeChatApiStandIn) -> None:
    [nid] = outbox_of(runtime, 1, wechat_every=1)
    wechat.fail_next(TEMPLATE_SEND, 1, errcode=45009)
    settings = PushSettings(push_retry_seconds=30)
    worker = Worker(runtime.database, [wechat_channel(wechat)], settings)
    assert worker.run_once().retried == 1
    row = states(runtime, [nid])[nid]
    assert row.state == "pending" and "45009" in row.last_error
    assert as_utc(row.next_attempt_at) > utc_now() + dt.timedelta(seconds=25)
    assert worker.run_once().claimed == 0  # not before its time
    later = Worker(
        runtime.database,
        [wechat_channel(wechat)],
        settings,
        clock=lambda: utc_now() + dt.timedelta(seconds=31),
    )
    assert later.run_once().sent == 1
    row = states(runtime, [nid])[nid]
    assert (row.state, row.attempts, row.last_error) == ("sent", 2, "")


def test_server_errors_are_retried_with_backoff_then_failed_after_k_attempts(
    runtime: Runtime, wechat: WeChatApiStandIn
) -> None:
    [nid] = outbox_of(runtime, 1, wechat_every=1)
    wechat.fail_next(TEMPLATE_SEND, 100, status=502)
    settings = PushSettings(push_max_attempts=3, push_retry_seconds=10)
    clock = [utc_now()]
    worker = Worker(runtime.database, [wechat_channel(wechat, attempts=2)], settings, clock=lambda: clock[0])
    delays = []
    for attempt in (1, 2):
        assert worker.run_once().retried == 1
        row = states(runtime, [nid])[nid]
        assert (row.state, row.attempts) == ("pending", attempt) and "无应答" in row.last_error
        delays.append((as_utc(row.next_attempt_at) - clock[0]).total_seconds())
        assert worker.run_once().claimed == 0
        clock[0] = as_utc(row.next_attempt_at) + dt.timedelta(seconds=1)
    assert delays == pytest.approx([10, 20], abs=0.01)  # exponential backoff
    assert worker.run_once().failed == 1
    row = states(runtime, [nid])[nid]
    assert (row.state, row.attempts) == ("failed", 3)
    assert wechat.calls[TEMPLATE_SEND] == 3 * 2  # K worker attempts, each with the client's 2 tries
    assert worker.run_once().claimed == 0


def test_a_notification_whose_measures_were_retired_is_not_sent(runtime: Runtime) -> None:
    [nid] = outbox_of(runtime, 1)
    with runtime.database.session() as session:
        keys = session.scalar(select(Notification.measure_keys).where(Notification.id == nid))
        document_id, number = map(int, keys[0].split(":"))
        session.execute(
            update(Measure)
            .where(Measure.document_id == document_id, Measure.number == number)
            .values(status="retired")
        )
    Worker(runtime.database, [InboxChannel()]).run_once()
    row = states(runtime, [nid])[nid]
    assert row.state == "failed" and "停用" in row.last_error


# --- the command ---------------------------------------------------------------------------------


def test_policybot_worker_once_delivers_what_is_due(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli import app

    ids = outbox_of(runtime, 3)
    monkeypatch.setenv("DATABASE_URL", runtime.database.url)
    for name in ("WECHAT_APPID", "WECHAT_APPSECRET", "WECHAT_TEMPLATE_ID", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["worker", "--once", "--batch", "2"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "WeChat notifications wait" in result.output and "sent 3" in result.output.replace("\n", " ")
    assert {n.state for n in states(runtime, ids).values()} == {"sent"}
