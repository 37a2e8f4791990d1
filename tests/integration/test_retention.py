"""Retention and the right to deletion: purging old rows, forgetting one person, the counters that stay.

On SQLite and PostgreSQL: `retention.purge` deletes questions, ratings and chat messages older than
the period; `forget_sender` deletes every row of one sender id, audited without the id or any text;
the insights figures (from the daily counters) are the same before and after both; migration 0005
fills the counters from the rows a deployment already has.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from pydantic import ValidationError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app import cli
from policy_db.audit import entry_view
from policy_db.auth import Principal
from policy_db.chat_history import claim_message, store_replies
from policy_db.config import Settings, get_settings
from policy_db.db import Database
from policy_db.errors import InvalidInput
from policy_db.insights import insights_report, local_day
from policy_db.migrate import alembic_config, upgrade_database
from policy_db.models import AuditEntry, Base, ChatMessage, DailyCount, QuestionLog, Rating
from policy_db.push.profiles import ProfileInput, save_profile
from policy_db.question_log import log_question, save_rating
from policy_db.retention import purge
from policy_db.runtime import Runtime
from policy_db.services.personal_data import forget_sender
from tests.conftest import database_urls
from tests.integration.admin_support import admin_api, empty_runtime_of

# Purge also drops delivered notifications and inbox items; deletion also a saved profile (none here).
NO_DELIVERIES = {"inbox_item": 0, "notification": 0}
NO_PROFILE = {"enterprise_profile": 0, "notification": 0, "inbox_item": 0}
NOW = dt.datetime.now(dt.timezone.utc)
DAY = dt.timedelta(days=1)
RECENT = dt.timedelta(minutes=5)
# Sender ids with letters outside 0-9a-f, so that no SHA-256 in hex can contain one by chance.
FORGOTTEN, OTHER, OLD, EDGE = "forget-me-Zx81", "someone-else-Qw7", "long-ago-Jk5", "edge-case-Pm3"
FORGOTTEN_TEXTS = ("留抵退税怎么办理", "退税多久到账", "食堂几点开门")
FIGURES = ("totals", "per_day", "top_topics", "top_measures", "ratings_by_topic")

# (sender, text, outcome, intent, measures, asked how long ago)
QUESTIONS: list[tuple[str, str, str, str, list[str], dt.timedelta]] = [
    (FORGOTTEN, FORGOTTEN_TEXTS[0], "answered", "topic_tax", ["1:25", "1:23"], RECENT),
    (FORGOTTEN, FORGOTTEN_TEXTS[1], "answered", "topic_tax", ["1:25"], RECENT),
    (FORGOTTEN, FORGOTTEN_TEXTS[2], "no_match", "nlu_fallback", [], 2 * DAY),
    (OTHER, "开公司要多久", "answered", "topic_opening", ["1:19"], RECENT),
    (OTHER, "停车场在哪里", "routed", "", [], 2 * DAY),
    (OLD, "很久以前的问题", "no_match", "topic_tax", [], 200 * DAY),
    (EDGE, "半年多以前的问题", "clarified", "topic_tax", ["1:25"], 181 * DAY),
    (EDGE, "将近半年的问题", "answered", "topic_opening", ["1:19"], 179 * DAY),
]
# (sender, rating, topic, given how long ago)
RATINGS: list[tuple[str, str, str, dt.timedelta]] = [
    (FORGOTTEN, "满意", "topic_tax", RECENT),
    (OTHER, "不满意", "topic_opening", RECENT),
    (OLD, "一般", "topic_tax", 200 * DAY),
    (EDGE, "满意", "", 179 * DAY),
]
# (sender, client message id, text, sent how long ago, replies stored how much later)
CHATS: list[tuple[str, str, str, dt.timedelta, dt.timedelta]] = [
    (FORGOTTEN, "client-00000001", FORGOTTEN_TEXTS[0], RECENT, dt.timedelta(seconds=2)),
    (OTHER, "client-00000002", "开公司要多久", RECENT, dt.timedelta(seconds=2)),
    # Its reply was stored after the cutoff: it goes with the message it answers.
    (OLD, "client-00000003", "很久以前的问题", 180 * DAY + dt.timedelta(seconds=1), dt.timedelta(minutes=1)),
    (EDGE, "client-00000004", "将近半年的问题", 179 * DAY, dt.timedelta(seconds=2)),
]


def fill(runtime: Runtime) -> None:
    """The history above, stored as the bot and the widget store it."""
    with runtime.database.session() as session:
        for sender, text, outcome, intent, measures, ago in QUESTIONS:
            log_question(
                session,
                sender_id=sender,
                text=text,
                outcome=outcome,
                intent=intent,
                measures=measures,
                at=NOW - ago,
            )
        for sender, rating, topic, ago in RATINGS:
            save_rating(session, sender_id=sender, rating=rating, topic=topic, at=NOW - ago)
        for sender, client_id, text, ago, later in CHATS:
            message = claim_message(session, sender_id=sender, client_id=client_id, text=text)
            assert message is not None
            store_replies(session, message, [{"text": "您好，这是答复。"}, {"text": "还有什么可以帮您？"}])
            session.flush()
            session.execute(
                sa.update(ChatMessage).where(ChatMessage.id == message.id).values(created_at=NOW - ago)
            )
            session.execute(
                sa.update(ChatMessage)
                .where(ChatMessage.reply_to == message.id)
                .values(created_at=NOW - ago + later)
            )


@pytest.fixture
def db(backend: str, tmp_path: Path) -> Iterator[Runtime]:
    """A migrated database of each backend (no catalogue) with the history above."""
    with empty_runtime_of(backend, tmp_path / "db") as runtime:
        fill(runtime)
        yield runtime


def report(runtime: Runtime) -> dict[str, Any]:
    """The insights report of the longest window (366 days), as of NOW."""
    with runtime.database.session() as session:
        return insights_report(session, days=366, now=NOW)


def figures(body: dict[str, Any]) -> dict[str, Any]:
    """What the counters give: totals, per-day series, top topics and measures, ratings by topic."""
    return {key: body[key] for key in FIGURES}


def count(runtime: Runtime, model: type[Base], *where: Any) -> int:
    with runtime.database.session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


def tables_mentioning(session: Session, needle: str) -> list[str]:
    """Every table.column, of every table, whose text (strings and JSON) contains `needle`."""
    found = set()
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (sa.String, sa.JSON))]
        if not columns:
            continue
        for row in session.execute(sa.select(*columns)):
            for column, value in zip(columns, row, strict=True):
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                if needle in text:
                    found.add(f"{table.name}.{column.name}")
    return sorted(found)


# --- the counters --------------------------------------------------------------------------------


def test_the_report_counts_the_history(db: Runtime) -> None:
    body = report(db)
    days = {d["date"]: d for d in body["per_day"]}
    today = days[local_day(NOW - RECENT)]
    assert (today["questions"], today["conversations"], today["answered"], today["unmatched"]) == (3, 2, 3, 0)
    assert today["ratings"] == {"满意": 1, "一般": 0, "不满意": 1}
    totals = body["totals"]
    assert (totals["questions"], totals["answered"], totals["unmatched"], totals["conversations"]) == (
        8,
        4,
        4,
        7,
    )
    assert [(t["topic"], t["questions"]) for t in body["top_topics"]] == [
        ("topic_tax", 4),
        ("topic_opening", 2),
        ("nlu_fallback", 1),
    ]
    assert [(m["key"], m["questions"]) for m in body["top_measures"]] == [
        ("1:25", 3),
        ("1:19", 2),
        ("1:23", 1),
    ]
    assert {t["topic"]: t["ratings"] for t in body["ratings_by_topic"]} == {
        "topic_tax": {"满意": 1, "一般": 1, "不满意": 0},
        "topic_opening": {"满意": 0, "一般": 0, "不满意": 1},
        "": {"满意": 1, "一般": 0, "不满意": 0},
    }
    with db.database.session() as session:  # the counters hold no sender id and no typed word
        keys = set(session.scalars(sa.select(DailyCount.key)))
    words = {sender for sender, *_ in QUESTIONS} | {text for _, text, *_ in QUESTIONS}
    assert not [key for key in keys for word in words if word in key]


def test_a_second_question_the_same_day_is_the_same_conversation(db: Runtime) -> None:
    before = report(db)["totals"]
    with db.database.session() as session:
        log_question(session, sender_id=OTHER, text="再问一个", outcome="answered", at=NOW)
        log_question(session, sender_id="newcomer-Rt5", text="你好", outcome="answered", at=NOW)
    after = report(db)["totals"]
    assert after["questions"] == before["questions"] + 2
    assert after["conversations"] == before["conversations"] + 1


# --- retention -----------------------------------------------------------------------------------


def test_purge_deletes_rows_older_than_the_period_and_keeps_newer_ones(db: Runtime) -> None:
    with db.database.session() as session:
        deleted = purge(session, now=NOW, days=180)
    assert deleted == {"question_log": 2, "rating": 1, "chat_message": 3, **NO_DELIVERIES}
    cutoff = NOW - 180 * DAY
    for model in (QuestionLog, Rating, ChatMessage):
        assert count(db, model, model.created_at < cutoff) == 0
    assert count(db, QuestionLog) == len(QUESTIONS) - 2 and count(db, Rating) == len(RATINGS) - 1
    assert count(db, ChatMessage, ChatMessage.sender_id == OLD) == 0  # the message and its replies
    assert count(db, ChatMessage) == 3 * (len(CHATS) - 1)
    assert count(db, QuestionLog, QuestionLog.sender_id == EDGE) == 1  # 179 days old: kept
    with db.database.session() as session:
        assert purge(session, now=NOW, days=180) == {
            "question_log": 0,
            "rating": 0,
            "chat_message": 0,
            **NO_DELIVERIES,
        }


def test_the_insights_figures_are_unchanged_after_purge(db: Runtime) -> None:
    before = report(db)
    with db.database.session() as session:
        purge(session, now=NOW, days=30)
    after = report(db)
    assert figures(after) == figures(before)
    assert after["totals"]["questions"] == len(QUESTIONS)
    assert {q["text"] for q in before["unmatched"]} - {q["text"] for q in after["unmatched"]} == {
        "很久以前的问题",
        "半年多以前的问题",
    }  # the list of unmatched questions is the rows' text: it goes with them


def test_the_period_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RETENTION_DAYS", raising=False)
    assert Settings().retention_days == 180
    monkeypatch.setenv("RETENTION_DAYS", "30")
    assert Settings().retention_days == 30
    monkeypatch.setenv("RETENTION_DAYS", "0")
    with pytest.raises(ValidationError):
        Settings()


def test_cli_purge_uses_the_setting_and_prints_what_it_deleted(
    db: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", db.settings.database_url)
    monkeypatch.setenv("RETENTION_DAYS", "30")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli.app, ["purge"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "older than 30 days" in result.output
    assert "question_log: 3" in result.output and "rating: 2" in result.output
    assert "chat_message: 6" in result.output
    assert count(db, QuestionLog) == len(QUESTIONS) - 3
    refused = CliRunner().invoke(cli.app, ["purge", "--days", "0"])
    assert refused.exit_code != 0


# --- one person's records ------------------------------------------------------------------------


def test_forget_sender_leaves_no_row_with_the_id(db: Runtime) -> None:
    before = report(db)
    with db.database.session() as session:
        assert tables_mentioning(session, FORGOTTEN) == [
            "chat_message.sender_id",
            "question_log.sender_id",
            "rating.sender_id",
        ]  # the scan finds the id where it is
        deleted = forget_sender(session, sender_id=FORGOTTEN, actor=Principal("测试管理员", "admin"))
    assert deleted == {"question_log": 3, "rating": 1, "chat_message": 3, **NO_PROFILE}
    with db.database.session() as session:
        assert tables_mentioning(session, FORGOTTEN) == []
        for text in FORGOTTEN_TEXTS[:2]:  # only this person asked these
            assert tables_mentioning(session, text) == []
    assert count(db, QuestionLog, QuestionLog.sender_id == OTHER) == 2  # nobody else's rows
    assert count(db, Rating, Rating.sender_id == OTHER) == 1
    assert count(db, ChatMessage, ChatMessage.sender_id == OTHER) == 3
    assert figures(report(db)) == figures(before)
    with db.database.session() as session:  # asking again finds nothing more
        again = forget_sender(session, sender_id=FORGOTTEN)
    assert again == {"question_log": 0, "rating": 0, "chat_message": 0, **NO_PROFILE}


def test_the_audit_entry_holds_no_id_and_no_text(db: Runtime) -> None:
    with db.database.session() as session:
        forget_sender(session, sender_id=FORGOTTEN, actor=Principal("测试管理员", "admin"))
    with db.database.session() as session:
        entries = list(session.scalars(sa.select(AuditEntry).where(AuditEntry.entity == "person")))
        assert len(entries) == 1
        view = entry_view(entries[0])
    assert (view["action"], view["actor"], view["before"]) == ("delete", "测试管理员", None)
    assert view["key"] == "sha256:" + hashlib.sha256(FORGOTTEN.encode()).hexdigest()
    assert view["after"] == {"question_log": 3, "rating": 1, "chat_message": 3, **NO_PROFILE}
    stored = json.dumps(view, ensure_ascii=False, default=str)
    assert FORGOTTEN not in stored
    assert not any(text in stored for text in FORGOTTEN_TEXTS)


@pytest.mark.parametrize("sender_id", ["  ", "forget\x00me", "forget\nme"])
def test_an_empty_or_unprintable_sender_id_is_refused(db: Runtime, sender_id: str) -> None:
    with db.database.session() as session, pytest.raises(InvalidInput):
        forget_sender(session, sender_id=sender_id)
    assert count(db, AuditEntry) == 0


def test_the_admin_endpoint_needs_an_admin_and_returns_the_counts(db: Runtime) -> None:
    url = f"/api/admin/people/{FORGOTTEN}"
    with admin_api(db) as api:
        anonymous = api.client.delete(url)
        assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"] == "Bearer"
        assert api.client.delete(url, headers=api.staff).status_code == 403
        assert count(db, QuestionLog, QuestionLog.sender_id == FORGOTTEN) == 3  # refused: nothing deleted
        response = api.client.delete(url, headers=api.admin)
        assert response.status_code == 200, response.text
        assert response.json() == {"question_log": 3, "rating": 1, "chat_message": 3, **NO_PROFILE}
        assert api.client.delete(url, headers=api.admin).json() == {
            "question_log": 0,
            "rating": 0,
            "chat_message": 0,
            **NO_PROFILE,
        }
        audit = api.client.get("/api/admin/audit?entity=person", headers=api.admin).json()["items"]
        assert [(e["action"], e["actor"]) for e in audit] == [("delete", "测试管理员")] * 2
        assert FORGOTTEN not in json.dumps(audit)
        too_long = api.client.delete("/api/admin/people/" + "x" * 121, headers=api.admin)
        assert too_long.status_code == 422
        assert api.client.delete("/api/admin/people/a%00b", headers=api.admin).status_code == 422
    assert count(db, QuestionLog, QuestionLog.sender_id == FORGOTTEN) == 0


# --- migration 0005 ------------------------------------------------------------------------------

# The 0004 schema's tables, as a deployment had them before the counters.
OLD_QUESTION_LOG = sa.table(
    "question_log",
    *(sa.column(name, sa.String()) for name in ("sender_id", "channel", "text", "intent", "outcome")),
    sa.column("measures", sa.JSON()),
    sa.column("top_score", sa.Float()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
OLD_RATING = sa.table(
    "rating",
    *(sa.column(name, sa.String()) for name in ("sender_id", "rating", "comment", "topic")),
    sa.column("measures", sa.JSON()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def _report_of(url: str) -> dict[str, Any]:
    database = Database(url)
    try:
        with database.session() as session:
            return insights_report(session, days=366, now=NOW)
    finally:
        database.dispose()


def test_the_migration_fills_the_counters_from_existing_rows(backend: str, tmp_path: Path) -> None:
    old_urls, new_urls = database_urls(tmp_path / "old", backend), database_urls(tmp_path / "new", backend)
    try:
        old, new = next(old_urls), next(new_urls)
        (tmp_path / "old").mkdir()
        (tmp_path / "new").mkdir()
        upgrade_database(old, "0004")
        engine = sa.create_engine(old)
        with engine.begin() as connection:
            connection.execute(
                sa.insert(OLD_QUESTION_LOG),
                [
                    {
                        "sender_id": sender,
                        "channel": "rest",
                        "text": text,
                        "intent": intent,
                        "outcome": outcome,
                        "measures": measures,
                        "top_score": 0.5,
                        "created_at": NOW - ago,
                    }
                    for sender, text, outcome, intent, measures, ago in QUESTIONS
                ],
            )
            connection.execute(
                sa.insert(OLD_RATING),
                [
                    {
                        "sender_id": sender,
                        "rating": rating,
                        "comment": "",
                        "topic": topic,
                        "measures": [],
                        "created_at": NOW - ago,
                    }
                    for sender, rating, topic, ago in RATINGS
                ],
            )
        engine.dispose()
        upgrade_database(old)
        # The same history logged by the application since the counters exist.
        upgrade_database(new)
        database = Database(new)
        with database.session() as session:
            for sender, text, outcome, intent, measures, ago in QUESTIONS:
                log_question(
                    session,
                    sender_id=sender,
                    text=text,
                    outcome=outcome,
                    intent=intent,
                    measures=measures,
                    at=NOW - ago,
                )
            for sender, rating, topic, ago in RATINGS:
                save_rating(session, sender_id=sender, rating=rating, topic=topic, at=NOW - ago)
        database.dispose()

        migrated = _report_of(old)
        assert migrated == _report_of(new)
        assert migrated["totals"]["questions"] == len(QUESTIONS)
        assert migrated["totals"]["conversations"] == 7
        # Down and up again: the counters are dropped and filled again, the same.
        command.downgrade(alembic_config(old), "0004")
        upgrade_database(old)
        assert _report_of(old) == migrated
    finally:
        next(old_urls, None)
        next(new_urls, None)


def test_deleting_a_person_also_deletes_their_saved_profile(db: Runtime) -> None:
    with db.database.session() as session:
        save_profile(
            session,
            channel="widget",
            channel_user_id=FORGOTTEN,
            profile=ProfileInput(enterprise_types=["中小微企业"], industry="软件开发"),
            consent=True,
        )
    with db.database.session() as session:
        assert "enterprise_profile.channel_user_id" in tables_mentioning(session, FORGOTTEN)
        deleted = forget_sender(session, sender_id=FORGOTTEN)
    assert deleted["enterprise_profile"] == 1 and deleted["question_log"] == 3
    with db.database.session() as session:
        assert tables_mentioning(session, FORGOTTEN) == []
        assert tables_mentioning(session, "软件开发") == []
