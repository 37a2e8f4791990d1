"""Daily counters of the insights page, which outlive the rows they count.

`question_log.log_question` and `save_rating` add to them in the writing transaction; the insights
report reads its totals, per-day series, topics, measures and ratings from them. Purging old rows
(`retention.purge`) or deleting a person's records (`services.personal_data`) changes no figure,
and no counter holds a sender id or a word anyone typed.

Days are report days: calendar days in Shanghai time (UTC+8, no daylight saving), so a question
asked at 07:30 local time counts for that day and not the previous one, whatever the server's zone.

Counters (`counter`, `key`):

- ``questions``, ``answered``, ``unmatched``, ``conversations`` (a sender's first question of the
  day), each with the key ``""``;
- ``topic``: the intent of a question;
- ``measure``: a measure in the outcome of a question, ``"document:number"`` (once per question);
- ``rating``: ``"满意:topic_tax"``, the rating and then the topic it was given after (may be empty).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from policy_db.clock import SHANGHAI, as_utc
from policy_db.models import DailyCount

REPORT_TZ = SHANGHAI
# The counters of a day's totals (key ""), in the order the report lists them.
DAY_COUNTERS = ("conversations", "questions", "answered", "unmatched")
TOPIC, MEASURE, RATING = "topic", "measure", "rating"
CountRow = tuple[dt.date, str, str, int]  # day, counter, key, count
_UPSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def report_day(moment: dt.datetime) -> dt.date:
    """The report day (in Shanghai time) of a stored or given timestamp (naive means UTC)."""
    return as_utc(moment).astimezone(REPORT_TZ).date()


def local_day(moment: dt.datetime) -> str:
    """The report day of a timestamp as an ISO date."""
    return report_day(moment).isoformat()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants at which a report day begins and the next one begins."""
    start = dt.datetime.combine(day, dt.time(), REPORT_TZ).astimezone(dt.timezone.utc)
    return start, start + dt.timedelta(days=1)


def rating_key(rating: str, topic: str) -> str:
    """The key of a `rating` counter: the rating, a colon, the topic (ratings hold no colon)."""
    return f"{rating}:{topic}"


def split_rating_key(key: str) -> tuple[str, str]:
    """(rating, topic) of a `rating` counter's key."""
    rating, _, topic = key.partition(":")
    return rating, topic


def add_counts(session: Session, day: dt.date, counts: Mapping[tuple[str, str], int]) -> None:
    """Add to the day's counters in the session's transaction (one upsert, no lost update)."""
    rows = [
        {"day": day, "counter": counter, "key": key, "count": n}
        for (counter, key), n in sorted(counts.items())  # one lock order for concurrent writers
        if n
    ]
    if not rows:
        return
    upsert = _UPSERTS.get(session.get_bind().dialect.name)
    if upsert is None:
        _add_one_by_one(session, rows)
        return
    statement = upsert(DailyCount).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["day", "counter", "key"],
        set_={"count": DailyCount.count + statement.excluded["count"]},
    )
    session.execute(statement)


def _add_one_by_one(session: Session, rows: list[dict[str, Any]]) -> None:
    # Another database: update, or insert when the counter is new.
    for row in rows:
        done = session.execute(
            update(DailyCount)
            .where(DailyCount.day == row["day"], DailyCount.counter == row["counter"])
            .where(DailyCount.key == row["key"])
            .values(count=DailyCount.count + row["count"])
            .execution_options(synchronize_session=False)
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            session.add(DailyCount(**row))
            session.flush()


def counts_between(session: Session, first: dt.date, last: dt.date) -> list[CountRow]:
    """Every counter of the days `first` to `last` (inclusive): (day, counter, key, count)."""
    rows = session.execute(
        select(DailyCount.day, DailyCount.counter, DailyCount.key, DailyCount.count).where(
            DailyCount.day >= first, DailyCount.day <= last
        )
    )
    return [(day, counter, key, count) for day, counter, key, count in rows]
