"""The console's chart of pushes: deliveries per day, and the conversations that followed one.

Companies save profiles, a change is published and the worker delivers it to their inboxes at a
chosen time; then some of them ask the bot (the question log, as the actions write it). On SQLite
and PostgreSQL: each day's deliveries are counted on their day (Shanghai time); a question within
the window after a delivery counts as a follow-up conversation (once per company and day); one
asked before the delivery, after the window, or by a company that received nothing does not.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from policy_db.auth import Principal
from policy_db.clock import utc_now
from policy_db.errors import InvalidInput
from policy_db.models import ResponsibleUnit
from policy_db.push.config import PushSettings
from policy_db.push.delivery import InboxChannel
from policy_db.push.outbox import publish_change
from policy_db.push.profiles import ProfileInput, delete_profile, save_profile
from policy_db.push.reports import PushActivity, push_activity
from policy_db.push.worker import Worker
from policy_db.question_log import log_question
from policy_db.runtime import Runtime
from policy_db.services.measures import create_measure
from tests.integration.admin_support import AdminApi, admin_api, seeded_runtime_of

ADMIN = Principal("测试管理员", "admin")
UTC = dt.timezone.utc


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def runtime(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with seeded_runtime_of(str(request.param), tmp_path_factory.mktemp("push-activity")) as rt:
        yield rt


def kind_of_company(runtime: Runtime) -> str:
    """A kind of company of its own, carried by a (silently added) measure, so profiles may name it."""
    tag = f"测试{secrets.token_hex(3)}企业"
    with runtime.database.session() as session:
        create_measure(
            session,
            actor=ADMIN,
            document_id=1,
            number=500 + int(secrets.token_hex(2), 16) % 9000,
            category=7,
            text=f"面向{tag}的首项支持措施。",
            units=[session.scalars(select(ResponsibleUnit.name).order_by(ResponsibleUnit.id)).first()],
            tags=[tag],
            notify=False,
        )
    return tag


def companies(runtime: Runtime, kinds: dict[str, list[str]]) -> None:
    """Save a widget profile (with consent) for each client id, following the given kinds."""
    with runtime.database.session() as session:
        for sender, types in kinds.items():
            save_profile(
                session,
                channel="widget",
                channel_user_id=sender,
                profile=ProfileInput(enterprise_types=types),
                consent=True,
            )


def push(runtime: Runtime, tag: str, at: dt.datetime) -> int:
    """Publish a new measure for companies of `tag` at `at`, and let the worker deliver it a minute later."""
    with runtime.database.session() as session:
        number = 500 + int(secrets.token_hex(2), 16) % 9000
        create_measure(
            session,
            actor=ADMIN,
            document_id=1,
            number=number,
            category=7,
            text=f"面向{tag}的新一轮专项扶持措施，第{number}号。",
            units=[session.scalars(select(ResponsibleUnit.name).order_by(ResponsibleUnit.id)).first()],
            tags=[tag],
            notify=False,
        )
        published = publish_change(session, actor=ADMIN, kind="new", measures=[f"1:{number}"], now=at)
        assert published is not None
    worker = Worker(
        runtime.database, [InboxChannel()], PushSettings(), clock=lambda: at + dt.timedelta(minutes=1)
    )
    report = worker.run_once()
    return report.sent


def ask(runtime: Runtime, sender: str, at: dt.datetime, text: str = "这个政策怎么申请？") -> None:
    """A question to the bot, logged as the actions log it."""
    with runtime.database.session() as session:
        log_question(session, sender_id=sender, text=text, outcome="answered", channel="rest", at=at)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def by_day(report: PushActivity) -> dict[str, tuple[int, int]]:
    """The days with a delivery or a follow-up: (delivered, follow-ups)."""
    return {
        d.date.isoformat(): (d.delivered, d.follow_ups) for d in report.per_day if d.delivered or d.follow_ups
    }


def test_deliveries_and_the_conversations_that_followed_them_per_day(runtime: Runtime) -> None:
    first, second, never = (kind_of_company(runtime) for _ in range(3))
    a, b, c, d = (f"w-activity-{secrets.token_hex(4)}" for _ in range(4))
    companies(runtime, {a: [first, second], b: [first], c: [first], d: [never]})
    assert push(runtime, first, utc("2026-06-07T01:00:00")) == 3  # 09:00 in Shanghai on 6 June 7
    assert push(runtime, second, utc("2026-06-12T15:30:00")) == 1  # 23:31 in Shanghai: still 6 June 12

    ask(runtime, b, utc("2026-06-06T02:00:00"))  # before anything reached it
    ask(runtime, a, utc("2026-06-09T02:00:00"))  # two days after the first push
    ask(runtime, a, utc("2026-06-09T03:00:00"), "还有别的要求吗？")  # the same conversation
    ask(runtime, a, utc("2026-06-12T16:00:00"))  # half an hour after the second push: 6 June 13 there
    ask(runtime, c, utc("2026-06-15T02:00:00"))  # eight days after: outside the window
    ask(runtime, d, utc("2026-06-09T05:00:00"))  # a company that was told nothing
    ask(runtime, "w-activity-stranger", utc("2026-06-09T05:00:00"))  # no profile at all

    with runtime.database.session() as session:
        report = push_activity(session, days=14, today=dt.date(2026, 6, 20))
        wide = push_activity(session, days=14, window_days=10, today=dt.date(2026, 6, 20))
        narrow = push_activity(session, days=3, today=dt.date(2026, 6, 9))
    assert len(report.per_day) == 14 and report.per_day[0].date == dt.date(2026, 6, 7)
    assert report.per_day[-1].date == dt.date(2026, 6, 20)
    assert by_day(report) == {
        "2026-06-07": (3, 0),
        "2026-06-09": (0, 1),
        "2026-06-12": (1, 0),
        "2026-06-13": (0, 1),
    }
    assert (report.delivered, report.follow_ups) == (4, 2)
    assert (report.companies_reached, report.companies_followed_up) == (3, 1)

    assert by_day(wide)["2026-06-15"] == (0, 1)  # c's question counts once the window is ten days
    assert by_day(narrow) == {"2026-06-07": (3, 0), "2026-06-09": (0, 1)}


def test_a_pending_notification_is_not_a_delivery(runtime: Runtime) -> None:
    tag = kind_of_company(runtime)
    sender = f"w-activity-{secrets.token_hex(4)}"
    companies(runtime, {sender: [tag]})
    with runtime.database.session() as session:
        number = 500 + int(secrets.token_hex(2), 16) % 9000
        create_measure(
            session,
            actor=ADMIN,
            document_id=1,
            number=number,
            category=7,
            text=f"面向{tag}的尚未送达的措施。",
            units=[session.scalars(select(ResponsibleUnit.name).order_by(ResponsibleUnit.id)).first()],
            tags=[tag],
            notify=False,
        )
        published = publish_change(
            session, actor=ADMIN, kind="new", measures=[f"1:{number}"], now=utc("2026-03-02T02:00:00")
        )
        assert published is not None and published.notifications == 1
    ask(runtime, sender, utc("2026-03-03T02:00:00"))
    with runtime.database.session() as session:
        report = push_activity(session, days=7, today=dt.date(2026, 3, 5))
    assert (report.delivered, report.follow_ups, report.companies_reached) == (0, 0, 0)
    with runtime.database.session() as session:  # its notification would be delivered by the next test
        delete_profile(session, channel="widget", channel_user_id=sender)


def test_bounds_are_refused(runtime: Runtime) -> None:
    with runtime.database.session() as session:
        with pytest.raises(InvalidInput):
            push_activity(session, days=0)
        with pytest.raises(InvalidInput):
            push_activity(session, days=30, window_days=31)


@pytest.fixture(scope="module")
def api(runtime: Runtime) -> Iterator[AdminApi]:
    with admin_api(runtime) as client:
        yield client


def test_the_admin_route_reports_today(api: AdminApi) -> None:
    tag = kind_of_company(api.runtime)
    sender = f"w-activity-{secrets.token_hex(4)}"
    companies(api.runtime, {sender: [tag]})
    now = utc_now()
    assert push(api.runtime, tag, now - dt.timedelta(minutes=5)) == 1
    ask(api.runtime, sender, now)

    response = api.client.get("/api/admin/push/activity", params={"days": 7}, headers=api.admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["days"] == 7 and body["window_days"] == 7 and len(body["per_day"]) == 7
    today = body["per_day"][-1]
    assert today["date"] == (now + dt.timedelta(hours=8)).date().isoformat()
    assert (today["delivered"], today["follow_ups"]) == (1, 1)
    assert (body["delivered"], body["follow_ups"], body["companies_followed_up"]) == (1, 1, 1)


def test_only_admins_see_the_activity(api: AdminApi) -> None:
    assert api.client.get("/api/admin/push/activity").status_code == 401
    assert api.client.get("/api/admin/push/activity", headers=api.staff).status_code == 403
    bad = api.client.get("/api/admin/push/activity", params={"days": 0}, headers=api.admin)
    assert bad.status_code == 422
