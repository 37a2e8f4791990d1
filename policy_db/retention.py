"""Retention: questions, ratings and chat messages are kept `RETENTION_DAYS` days (180 by default).

`purge` deletes the older rows; run it daily (`policybot purge`). The insights page's daily
counters (`daily_counts`) are not touched: its figures outlive the rows they were counted from.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from policy_db.chat_history import delete_messages
from policy_db.clock import as_utc, utc_now
from policy_db.config import get_settings
from policy_db.db import rowcount
from policy_db.models import ChatMessage, InboxItem, Notification, QuestionLog, Rating


def cutoff(*, now: dt.datetime | None = None, days: int | None = None) -> dt.datetime:
    """The UTC instant before which rows are purged: `days` (RETENTION_DAYS by default) before now."""
    days = get_settings().retention_days if days is None else days
    if days < 1:
        raise ValueError("the retention period is at least one day")
    return as_utc(now or utc_now()) - dt.timedelta(days=days)


def purge(session: Session, *, now: dt.datetime | None = None, days: int | None = None) -> dict[str, int]:
    """Delete conversations, ratings and finished deliveries older than the period; how many of each.

    That is question_log, rating and chat_message rows, widget inbox items, and notifications that
    were sent, failed or merged into a digest (pending ones are kept until delivered).
    """
    before = cutoff(now=now, days=days)
    counts = {
        table: rowcount(
            session.execute(
                delete(model).where(model.created_at < before).execution_options(synchronize_session=False)
            )
        )
        for table, model in (("question_log", QuestionLog), ("rating", Rating))
    }
    # A reply goes with the message it answers, even when it was stored a moment later.
    counts["chat_message"] = delete_messages(session, ChatMessage.created_at < before)
    counts["inbox_item"] = rowcount(session.execute(delete(InboxItem).where(InboxItem.created_at < before)))
    done = select(Notification.id).where(
        Notification.created_at < before, Notification.state.in_(("sent", "failed", "merged"))
    )
    old = list(session.scalars(done))
    for chunk in (old[i : i + 500] for i in range(0, len(old), 500)):
        session.execute(
            update(InboxItem).where(InboxItem.notification_id.in_(chunk)).values(notification_id=None)
        )
        session.execute(
            update(Notification).where(Notification.merged_into_id.in_(chunk)).values(merged_into_id=None)
        )
        session.execute(delete(Notification).where(Notification.id.in_(chunk)))
    counts["notification"] = len(old)
    return counts
