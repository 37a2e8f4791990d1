"""The console's chart of pushes: notifications delivered per day, and the conversations that followed.

A conversation is a company's questions on one report day (the insights page's definition: one
per sender and day). It *follows a push* when a notification was delivered to that company at
most `window_days` before one of its questions. The question log keeps the sender id as the
channel gave it (the widget's client id, the WeChat openid), which is exactly the profile's
`channel_user_id`: the two are joined on it, no hashing involved.

The figures come from the rows that still exist: a company that deleted its records, or
notifications and questions purged after `RETENTION_DAYS`, no longer count.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from policy_db.clock import as_utc, shanghai_today
from policy_db.daily_counts import day_bounds, report_day
from policy_db.errors import InvalidInput
from policy_db.models import EnterpriseProfile, Notification, QuestionLog
from policy_db.push.outbox import SENT

FOLLOW_UP_DAYS = 7
MAX_DAYS = 366
MAX_WINDOW_DAYS = 30


@dataclass(frozen=True)
class PushDay:
    """One report day (Shanghai time): notifications delivered, and conversations that followed one."""

    date: dt.date
    delivered: int
    follow_ups: int


@dataclass(frozen=True)
class PushActivity:
    """Pushes and follow-up conversations per day over the last `days` days, with their totals.

    `companies_reached`: companies a notification was delivered to in the period;
    `companies_followed_up`: companies with a conversation in the period that followed a push.
    """

    days: int
    window_days: int
    per_day: list[PushDay]
    delivered: int
    follow_ups: int
    companies_reached: int
    companies_followed_up: int


def push_activity(
    session: Session, *, days: int = 30, window_days: int = FOLLOW_UP_DAYS, today: dt.date | None = None
) -> PushActivity:
    """Per report day of the last `days` (to today): notifications delivered, follow-up conversations."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"统计天数应在 1 到 {MAX_DAYS} 之间")
    if not 1 <= window_days <= MAX_WINDOW_DAYS:
        raise InvalidInput(f"推送后的观察天数应在 1 到 {MAX_WINDOW_DAYS} 之间")
    last = today or shanghai_today()
    first = last - dt.timedelta(days=days - 1)
    start, end = day_bounds(first)[0], day_bounds(last)[1]
    window = dt.timedelta(days=window_days)

    sent = session.execute(
        select(Notification.profile_id, Notification.sent_at).where(
            Notification.state == SENT, Notification.sent_at >= start, Notification.sent_at < end
        )
    ).all()
    delivered = Counter(report_day(at) for _, at in sent)
    conversations = _follow_ups(session, start, end, window)
    follow_ups = Counter(day for _, day in conversations)

    per_day = [
        PushDay(day, delivered.get(day, 0), follow_ups.get(day, 0))
        for day in (first + dt.timedelta(days=n) for n in range(days))
    ]
    return PushActivity(
        days=days,
        window_days=window_days,
        per_day=per_day,
        delivered=len(sent),
        follow_ups=len(conversations),
        companies_reached=len({profile for profile, _ in sent}),
        companies_followed_up=len({sender for sender, _ in conversations}),
    )


def _follow_ups(
    session: Session, start: dt.datetime, end: dt.datetime, window: dt.timedelta
) -> set[tuple[str, dt.date]]:
    """The (sender, report day) conversations in [start, end) asked at most `window` after a delivery."""
    # Per question, the latest delivery to the same company before it (then the window in Python:
    # date arithmetic differs between SQLite and PostgreSQL, a comparison of stored times does not).
    latest = func.max(Notification.sent_at)
    rows = session.execute(
        select(QuestionLog.sender_id, QuestionLog.created_at, latest)
        .join(EnterpriseProfile, EnterpriseProfile.channel_user_id == QuestionLog.sender_id)
        .join(Notification, Notification.profile_id == EnterpriseProfile.id)
        .where(
            QuestionLog.created_at >= start,
            QuestionLog.created_at < end,
            Notification.state == SENT,
            Notification.sent_at >= start - window,
            Notification.sent_at <= QuestionLog.created_at,
        )
        .group_by(QuestionLog.id, QuestionLog.sender_id, QuestionLog.created_at)
    )
    return {
        (sender, report_day(asked))
        for sender, asked, delivered in rows
        if delivered is not None and as_utc(asked) - as_utc(delivered) <= window
    }
