"""daily counters of the insights page, indexes for purging old rows

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00

The counters are filled from the question log and the ratings already stored, so a deployment
keeps its history. The rules are written out here as they stand at this revision (a migration
must not change when the application's code does later).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

REPORT_TZ = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
UNMATCHED = ("no_match", "clarified", "routed")
RATINGS = ("满意", "一般", "不满意")


def upgrade() -> None:
    daily_count = op.create_table(
        "daily_count",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("counter", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "counter", "key"),
    )
    with op.batch_alter_table("rating", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rating_created_at"), ["created_at"], unique=False)
    with op.batch_alter_table("chat_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_message_created_at"), ["created_at"], unique=False)
    rows = [
        {"day": day, "counter": counter, "key": key, "count": n}
        for (day, counter, key), n in sorted(_counts(op.get_bind()).items())
    ]
    if rows:
        op.bulk_insert(daily_count, rows)


def downgrade() -> None:
    with op.batch_alter_table("chat_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_message_created_at"))
    with op.batch_alter_table("rating", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_created_at"))
    op.drop_table("daily_count")


def _day(moment: dt.datetime) -> dt.date:
    # SQLite hands back naive datetimes that mean UTC.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(REPORT_TZ).date()


def _counts(connection: sa.Connection) -> Counter[tuple[dt.date, str, str]]:
    """The counters of every stored question and rating, by the insights report's rules."""
    question_log = sa.table(
        "question_log",
        sa.column("sender_id", sa.String()),
        sa.column("intent", sa.String()),
        sa.column("outcome", sa.String()),
        sa.column("measures", sa.JSON()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    rating = sa.table(
        "rating",
        sa.column("rating", sa.String()),
        sa.column("topic", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    counts: Counter[tuple[dt.date, str, str]] = Counter()
    conversations: set[tuple[dt.date, str]] = set()
    questions = sa.select(
        question_log.c.sender_id,
        question_log.c.intent,
        question_log.c.outcome,
        question_log.c.measures,
        question_log.c.created_at,
    )
    for sender_id, intent, outcome, measures, created_at in connection.execute(questions):
        day = _day(created_at)
        counts[day, "questions", ""] += 1
        counts[day, "answered", ""] += outcome == "answered"
        counts[day, "unmatched", ""] += outcome in UNMATCHED
        conversations.add((day, sender_id))
        if intent:
            counts[day, "topic", intent] += 1
        for key in _measure_keys(measures):
            counts[day, "measure", key] += 1
    for day, _ in conversations:
        counts[day, "conversations", ""] += 1
    ratings = sa.select(rating.c.rating, rating.c.topic, rating.c.created_at)
    for value, topic, created_at in connection.execute(ratings):
        if value in RATINGS:
            counts[_day(created_at), "rating", f"{value}:{topic or ''}"] += 1
    return +counts  # without the zeros


def _measure_keys(values: Any) -> set[str]:
    keys = set()
    for value in values or []:
        document, _, number = str(value).partition(":")
        if document.isdigit() and number.isdigit():
            keys.add(f"{int(document)}:{int(number)}")
    return keys
