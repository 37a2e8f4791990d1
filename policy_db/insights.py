"""What people asked and how they rated the answers, per day and per topic, for the insights page.

Days are calendar days in Shanghai time (UTC+8, no daylight saving), so a question asked at
07:30 local time counts for that day and not for the previous one, whatever the server's zone.
The figures (totals, per-day series, topics, measures, ratings) come from the daily counters
(`daily_counts`), which outlive the rows: purging old rows or deleting a person's records leaves
them as they were. Only the list of unmatched questions is read from the rows (it is their text).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from policy_db.clock import as_utc, utc_now
from policy_db.daily_counts import (
    DAY_COUNTERS,
    MEASURE,
    RATING,
    REPORT_TZ,
    TOPIC,
    CountRow,
    counts_between,
    local_day,  # noqa: F401  (re-exported: the report's day of a timestamp)
    split_rating_key,
)
from policy_db.models import ExampleQuestion, Measure, QuestionLog
from policy_db.question_log import RATINGS, UNMATCHED
from policy_db.text import normalize

# Listed with the unmatched questions: a candidate the user picked is a ready example question.
LISTED = (*UNMATCHED, "clarify_choice")
TOP = 10
MAX_UNMATCHED = 100


@dataclass
class DayStats:
    """One day's counts."""

    date: str
    conversations: int = 0
    questions: int = 0
    answered: int = 0
    unmatched: int = 0
    ratings: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RATINGS, 0))


def window_start(days: int, now: dt.datetime | None = None) -> dt.datetime:
    """The UTC instant at which the last `days` report days (today included) begin."""
    today = (now or utc_now()).astimezone(REPORT_TZ).date()
    first = today - dt.timedelta(days=days - 1)
    return dt.datetime.combine(first, dt.time(), REPORT_TZ).astimezone(dt.timezone.utc)


def insights_report(
    session: Session,
    *,
    days: int = 30,
    now: dt.datetime | None = None,
    topic_labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Conversations and questions per day, top topics and measures, unmatched questions, ratings."""
    since = window_start(days, now)
    first = since.astimezone(REPORT_TZ).date()
    last = first + dt.timedelta(days=days - 1)
    per_day = {d: DayStats(d) for d in _days(first, days)}
    topics, measures, by_topic = _count(per_day, counts_between(session, first, last))
    listed = session.execute(
        select(QuestionLog.created_at, QuestionLog.outcome, QuestionLog.measures, QuestionLog.text)
        .where(QuestionLog.created_at >= since, QuestionLog.outcome.in_(LISTED))
        .order_by(QuestionLog.created_at, QuestionLog.id)
    ).all()
    labels = topic_labels or {}
    return {
        "days": days,
        "since": since,
        "timezone": "Asia/Shanghai",
        "totals": _totals(per_day.values()),
        "per_day": [vars(d) for d in per_day.values()],
        "top_topics": [
            {"topic": t, "label": labels.get(t, t), "questions": n} for t, n in _most_common(topics)
        ],
        "top_measures": _top_measures(session, measures),
        "unmatched": _unmatched(session, listed),
        "ratings_by_topic": [
            {"topic": t, "label": labels.get(t, t) if t else "（未识别话题）", "ratings": counts}
            for t, counts in sorted(by_topic.items(), key=lambda item: (-sum(item[1].values()), item[0]))
        ],
    }


def _most_common(counts: Counter[Any]) -> list[tuple[Any, int]]:
    # Ties in a stable order (name, or document and number), not in the order rows came in.
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP]


def _days(first: dt.date, days: int) -> list[str]:
    return [(first + dt.timedelta(days=i)).isoformat() for i in range(days)]


def _count(
    per_day: dict[str, DayStats], rows: Iterable[CountRow]
) -> tuple[Counter[str], Counter[tuple[int, int]], dict[str, dict[str, int]]]:
    """Fill the days from the window's counters; the window's topics, measures and ratings by topic."""
    topics: Counter[str] = Counter()
    measures: Counter[tuple[int, int]] = Counter()
    by_topic: dict[str, dict[str, int]] = {}
    for day, counter, key, count in rows:
        stats = per_day.get(day.isoformat())
        if stats is None:
            continue
        if counter in DAY_COUNTERS:
            setattr(stats, counter, getattr(stats, counter) + count)
        elif counter == TOPIC:
            topics[key] += count
        elif counter == MEASURE:
            document, _, number = key.partition(":")
            measures[int(document), int(number)] += count
        elif counter == RATING:
            rating, topic = split_rating_key(key)
            if rating in RATINGS:
                stats.ratings[rating] += count
                by_topic.setdefault(topic, dict.fromkeys(RATINGS, 0))[rating] += count
    return topics, measures, by_topic


def _totals(days: Any) -> dict[str, Any]:
    days = list(days)
    totals: dict[str, Any] = {
        key: sum(getattr(d, key) for d in days)
        for key in ("conversations", "questions", "answered", "unmatched")
    }
    totals["ratings"] = {r: sum(d.ratings[r] for d in days) for r in RATINGS}
    rated = sum(totals["ratings"].values())
    totals["satisfaction"] = round(totals["ratings"]["满意"] / rated, 4) if rated else None
    totals["unmatched_rate"] = (
        round(totals["unmatched"] / totals["questions"], 4) if totals["questions"] else None
    )
    return totals


def _top_measures(session: Session, counts: Counter[tuple[int, int]]) -> list[dict[str, Any]]:
    top = _most_common(counts)
    titles = _titles(session, [key for key, _ in top])
    return [
        {
            "key": f"{d}:{n}",
            "document_id": d,
            "number": n,
            "title": titles.get((d, n), ""),
            "questions": count,
        }
        for (d, n), count in top
    ]


def _titles(session: Session, keys: list[tuple[int, int]]) -> dict[tuple[int, int], str]:
    if not keys:
        return {}
    rows = session.execute(
        select(Measure.document_id, Measure.number, Measure.title).where(
            tuple_(Measure.document_id, Measure.number).in_(keys)
        )
    )
    return {(d, n): title for d, n, title in rows}


def _unmatched(session: Session, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Unmatched questions grouped by normalised text: most frequent first, then most recent."""
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.outcome not in LISTED or not row.text.strip():
            continue
        key = normalize(row.text)
        group = groups.setdefault(key, {"text": row.text.strip(), "count": 0, "variants": set()})
        group["count"] += 1
        group["variants"].add(row.text.strip())
        group["last_asked"] = as_utc(row.created_at)
        group["text"], group["outcome"] = row.text.strip(), row.outcome  # the latest wording
        if row.outcome == "clarify_choice":
            group["chosen"] = list(row.measures or [])
    ranked = sorted(groups.items(), key=lambda kv: (-kv[1]["count"], -kv[1]["last_asked"].timestamp()))
    ranked = ranked[:MAX_UNMATCHED]
    variants = {text for _, group in ranked for text in group.pop("variants")}
    examples = _examples_by_text(session, variants)
    return [{**group, "example_of": examples.get(key, [])} for key, group in ranked]


def _examples_by_text(session: Session, texts: set[str]) -> dict[str, list[str]]:
    # Which unmatched questions an admin has since added as an example ("1:38"), to mark them done.
    if not texts:
        return {}
    found: dict[str, list[str]] = defaultdict(list)
    rows = session.execute(
        select(ExampleQuestion.text, Measure.document_id, Measure.number)
        .join(Measure, Measure.id == ExampleQuestion.measure_id)
        .where(ExampleQuestion.text.in_(sorted(texts)))
    )
    for text, document_id, number in rows:
        key = f"{document_id}:{number}"
        if key not in found[normalize(text)]:
            found[normalize(text)].append(key)
    return dict(found)
