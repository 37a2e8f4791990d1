"""Recording what users asked and how they rated the answers, and the insights page's daily counters."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from policy_db.clock import as_utc, utc_now
from policy_db.daily_counts import MEASURE, RATING, TOPIC, add_counts, day_bounds, rating_key, report_day
from policy_db.models import QuestionLog, Rating

# clarify_choice: the candidate a user picked after "您是想了解以下哪一项？" (logged with the
# original question: a free example question); routed: named the unit whose remit it is.
OUTCOMES = ("answered", "no_match", "out_of_scope", "clarified", "clarify_choice", "routed")
# Outcomes counted as unmatched: no measure found, a clarifying question, or only a unit named.
UNMATCHED = ("no_match", "clarified", "routed")
RATINGS = ("满意", "一般", "不满意")


def log_question(
    session: Session,
    *,
    sender_id: str,
    text: str,
    outcome: str,
    channel: str = "",
    intent: str = "",
    measures: list[str] | None = None,
    top_score: float = 0.0,
    at: dt.datetime | None = None,
) -> None:
    """Store one question and its outcome (matched measure keys like "1:25", or none), and count it.

    `at` is when it was asked (now by default); the day's counters grow in the same transaction.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    moment = as_utc(at) if at is not None else utc_now()
    sender_id, intent, measures = sender_id[:120], intent[:60], measures or []
    day = report_day(moment)
    counts: Counter[tuple[str, str]] = Counter({("questions", ""): 1})
    counts["answered", ""] += outcome == "answered"
    counts["unmatched", ""] += outcome in UNMATCHED
    counts["conversations", ""] += not _asked_on(session, sender_id, day)
    if intent:
        counts[TOPIC, intent] += 1
    for key in sorted(set(measure_keys(measures))):
        counts[MEASURE, key] += 1
    session.add(
        QuestionLog(
            sender_id=sender_id,
            channel=channel[:30],
            text=text[:2000],
            intent=intent,
            outcome=outcome,
            measures=measures,
            top_score=round(top_score, 4),
            created_at=moment,
        )
    )
    add_counts(session, day, counts)


def _asked_on(session: Session, sender_id: str, day: dt.date) -> bool:
    """Whether the sender asked a question earlier on that report day (the conversation is counted)."""
    start, end = day_bounds(day)
    return bool(
        session.scalar(
            select(
                exists().where(
                    QuestionLog.sender_id == sender_id,
                    QuestionLog.created_at >= start,
                    QuestionLog.created_at < end,
                )
            )
        )
    )


def measure_keys(values: Any) -> list[str]:
    """The well-formed measure keys ("1:25") of a logged question's measures."""
    keys = []
    for value in values or []:
        document, _, number = str(value).partition(":")
        if document.isdigit() and number.isdigit():
            keys.append(f"{int(document)}:{int(number)}")
    return keys


def save_rating(
    session: Session,
    *,
    sender_id: str,
    rating: str,
    comment: str = "",
    measures: list[str] | None = None,
    topic: str = "",
    at: dt.datetime | None = None,
) -> Rating:
    """Store a satisfaction rating (满意/一般/不满意) with the measures that were shown, and count it."""
    if rating not in RATINGS:
        raise ValueError(f"rating must be one of {RATINGS}")
    moment = as_utc(at) if at is not None else utc_now()
    row = Rating(
        sender_id=sender_id[:120],
        rating=rating,
        comment=comment[:1000],
        measures=measures or [],
        topic=topic[:60],
        created_at=moment,
    )
    session.add(row)
    add_counts(session, report_day(moment), {(RATING, rating_key(rating, topic[:60])): 1})
    return row
