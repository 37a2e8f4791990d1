"""A person's right to deletion (PIPL): every record kept under their sender id, deleted and audited.

The audit entry says only that a deletion happened, when, by whom, and how many rows of each
table went: its key is a SHA-256 of the sender id (so a later request about the same id can be
matched to it), never the id itself, and it holds no message text. The insights page's daily
counters hold neither, and stay as they are.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import delete
from sqlalchemy.orm import Session

from policy_db.audit import record
from policy_db.auth import ADMIN, Principal
from policy_db.chat_history import delete_messages
from policy_db.db import rowcount
from policy_db.errors import InvalidInput
from policy_db.input_text import text_problem
from policy_db.models import ChatMessage, QuestionLog, Rating

SYSTEM = Principal("system", ADMIN)
MAX_SENDER_ID = 120  # the sender_id columns' length: ids are stored cut to it


def sender_hash(sender_id: str) -> str:
    """The SHA-256 (hex) that stands for a sender id in the audit trail."""
    return hashlib.sha256(sender_id[:MAX_SENDER_ID].encode("utf-8")).hexdigest()


def forget_sender(session: Session, *, sender_id: str, actor: Principal | None = None) -> dict[str, int]:
    """Delete the sender's questions, ratings, chat messages and saved profile; rows per table.

    These are all the tables keyed by a sender id (a profile with its notifications and inbox is
    keyed by the same id: the widget's client, the WeChat openid); the daily counters and the audit
    trail hold none.
    """
    from policy_db.push.profiles import CHANNELS, delete_profile  # it imports this module

    sender = sender_id[:MAX_SENDER_ID]
    if not sender.strip():
        raise InvalidInput("会话标识不能为空")
    problem = text_problem(sender, multiline=False)
    if problem:  # no stored id has one (PostgreSQL would refuse a NUL in the query)
        raise InvalidInput(f"会话标识{problem}")
    counts = {
        table: rowcount(
            session.execute(
                delete(model).where(model.sender_id == sender).execution_options(synchronize_session=False)
            )
        )
        for table, model in (("question_log", QuestionLog), ("rating", Rating))
    }
    counts["chat_message"] = delete_messages(session, ChatMessage.sender_id == sender)
    for channel in CHANNELS:
        for table, count in delete_profile(
            session, channel=channel, channel_user_id=sender, actor=actor
        ).items():
            counts[table] = counts.get(table, 0) + count
    record(
        session,
        actor=actor or SYSTEM,
        action="delete",
        entity="person",
        key=f"sha256:{sender_hash(sender)}",
        after=dict(counts),
    )
    return counts


# The reply payload type (`custom.type`) that tells a channel the conversation was just forgotten,
# so it stores nothing of that exchange either.
FORGOTTEN_PAYLOAD = "forgotten"
