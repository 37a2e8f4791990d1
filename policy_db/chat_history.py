"""Widget conversation history: each user message (idempotent by client id) and the bot's replies."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from policy_db.models import ChatMessage


def answered_before(session: Session, *, sender_id: str, client_id: str) -> list[dict[str, Any]] | None:
    """The stored replies when this client message was already answered (a retry), else None."""
    question = session.scalar(
        select(ChatMessage).where(ChatMessage.sender_id == sender_id, ChatMessage.client_id == client_id)
    )
    if question is None:
        return None
    replies = session.scalars(
        select(ChatMessage).where(ChatMessage.reply_to == question.id).order_by(ChatMessage.id)
    ).all()
    return [r.payload for r in replies] if replies or question.payload.get("answered") else None


def claim_message(session: Session, *, sender_id: str, client_id: str, text: str) -> ChatMessage | None:
    """Store the user's message; None when the same client id was stored already (a duplicate)."""
    question = ChatMessage(sender_id=sender_id, client_id=client_id, role="user", payload={"text": text})
    session.add(question)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return None
    return question


def store_replies(session: Session, question: ChatMessage, replies: list[dict[str, Any]]) -> None:
    """Store the bot's replies to a stored user message."""
    for reply in replies:
        session.add(
            ChatMessage(sender_id=question.sender_id, reply_to=question.id, role="bot", payload=reply)
        )
    question.payload = {**question.payload, "answered": True}


def conversation(session: Session, *, sender_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """The last `limit` messages of a conversation, oldest first."""
    rows = session.scalars(
        select(ChatMessage)
        .where(ChatMessage.sender_id == sender_id)
        .order_by(ChatMessage.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "role": r.role,
            "client_id": r.client_id,
            "created_at": r.created_at.isoformat(),
            **{k: v for k, v in r.payload.items() if k != "answered"},
        }
        for r in reversed(rows)
    ]


def delete_messages(session: Session, *conditions: ColumnElement[bool]) -> int:
    """Delete the messages matching the conditions and the replies to them; how many rows went.

    Replies go first: the foreign key's cascade would delete them too, but unseen and uncounted.
    """
    answered = select(ChatMessage.id).where(*conditions)
    deleted = 0
    for statement in (
        delete(ChatMessage).where(ChatMessage.reply_to.in_(answered)),
        delete(ChatMessage).where(*conditions),
    ):
        result = session.execute(statement.execution_options(synchronize_session=False))
        deleted += int(getattr(result, "rowcount", 0) or 0)  # a DELETE's result is a CursorResult
    return deleted
