"""What people asked and how they rated the answers, per day and per topic, for the insights page.

Days are calendar days in Shanghai time (UTC+8, no daylight saving), so a question asked at
07:30 local time counts for that day and not for the previous one, whatever the server's zone.
Rows are aggregated in Python over the window's few columns: the same code on SQLite and
PostgreSQL, and a 30-day window of even a busy service is some ten thousand small rows.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from policy_db.clock import as_utc, utc_now
from policy_db.models import ExampleQuestion, Measure, QuestionLog, Rating
from policy_db.question_log import RATINGS
from policy_db.text import normalize

REPORT_TZ = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
UNMATCHED = ("no_match", "clarified", "routed")
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


def local_day(moment: dt.datetime) -> str:
    """The report day (ISO date in Shanghai time) of a stored timestamp."""
    return as_utc(moment).astimezone(REPORT_TZ).date().isoformat()


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
    per_day = {d: DayStats(d) for d in _days(since, days)}
    questions = session.execute(
        select(
            QuestionLog.created_at,
            QuestionLog.sender_id,
            QuestionLog.intent,
            QuestionLog.outcome,
            QuestionLog.measures,
            QuestionLog.text,
        )
        .where(QuestionLog.created_at >= since)
        .order_by(QuestionLog.created_at)
    ).all()
    ratings = session.execute(
        select(Rating.created_at, Rating.rating, Rating.topic).where(Rating.created_at >= since)
    ).all()
    _count_questions(per_day, questions)
    by_topic = _count_ratings(per_day, ratings)
    labels = topic_labels or {}
    totals = _totals(per_day.values())
    return {
        "days": days,
        "since": since,
        "timezone": "Asia/Shanghai",
        "totals": totals,
        "per_day": [vars(d) for d in per_day.values()],
        "top_topics": [
            {"topic": t, "label": labels.get(t, t), "questions": n}
            for t, n in _most_common(Counter(q.intent for q in questions if q.intent))
        ],
        "top_measures": _top_measures(session, questions),
        "unmatched": _unmatched(session, questions),
        "ratings_by_topic": [
            {"topic": t, "label": labels.get(t, t) if t else "（未识别话题）", "ratings": counts}
            for t, counts in by_topic
        ],
    }


def _most_common(counts: Counter[Any]) -> list[tuple[Any, int]]:
    # Ties in a stable order (name, or document and number), not in the order rows came in.
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP]


def _days(since: dt.datetime, days: int) -> list[str]:
    first = since.astimezone(REPORT_TZ).date()
    return [(first + dt.timedelta(days=i)).isoformat() for i in range(days)]


def _count_questions(per_day: dict[str, DayStats], rows: Sequence[Any]) -> None:
    senders: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        day = per_day.get(local_day(row.created_at))
        if day is None:
            continue
        day.questions += 1
        day.answered += row.outcome == "answered"
        day.unmatched += row.outcome in UNMATCHED
        senders[day.date].add(row.sender_id)
    for date, people in senders.items():
        per_day[date].conversations = len(people)


def _count_ratings(per_day: dict[str, DayStats], rows: Sequence[Any]) -> list[tuple[str, dict[str, int]]]:
    by_topic: dict[str, dict[str, int]] = {}
    for row in rows:
        if row.rating not in RATINGS:
            continue
        day = per_day.get(local_day(row.created_at))
        if day is not None:
            day.ratings[row.rating] += 1
        by_topic.setdefault(row.topic or "", dict.fromkeys(RATINGS, 0))[row.rating] += 1
    return sorted(by_topic.items(), key=lambda item: (-sum(item[1].values()), item[0]))


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


def _measure_keys(value: Any) -> list[tuple[int, int]]:
    keys = []
    for key in value or []:
        document, _, number = str(key).partition(":")
        if document.isdigit() and number.isdigit():
            keys.append((int(document), int(number)))
    return keys


def _top_measures(session: Session, rows: Sequence[Any]) -> list[dict[str, Any]]:
    counts: Counter[tuple[int, int]] = Counter()
    for row in rows:
        counts.update(set(_measure_keys(row.measures)))
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
