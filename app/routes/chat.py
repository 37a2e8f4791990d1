"""The widget's chat endpoints: forward to Rasa's REST channel, keep history, answer retries once."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, Field

from app.deps import RuntimeDep
from channels.texts import FALLBACK_TEXT, RATE_LIMITED_TEXT
from policy_db.chat_history import answered_before, claim_message, conversation, store_replies
from policy_db.services.personal_data import FORGOTTEN_PAYLOAD

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/chat", tags=["chat"])
SENDER = r"^[A-Za-z0-9_-]{8,80}$"
APOLOGY = {"text": FALLBACK_TEXT}


class ChatRequest(BaseModel):
    """A widget message; `client_id` makes a retry after a dropped connection safe."""

    sender: str = Field(pattern=SENDER)
    message: str = Field(min_length=1, max_length=2000)
    client_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,80}$")


class ChatReply(BaseModel):
    """The bot's messages (Rasa REST format: text, buttons, custom)."""

    replies: list[dict[str, Any]]
    duplicate: bool = False


@router.post("", response_model=ChatReply, responses={429: {"description": "too many messages"}})
async def send(request: ChatRequest, runtime: RuntimeDep, http: Request) -> ChatReply:
    """Send one message to the bot; a repeated client_id returns the first answer, not a second one."""
    wait = http.app.state.chat_limiter.hit(request.sender)
    if wait:
        raise HTTPException(429, RATE_LIMITED_TEXT, headers={"Retry-After": str(wait)})
    text = re.sub(r"\s+", " ", request.message).strip()
    if not text:
        raise HTTPException(422, "消息不能为空")
    with runtime.database.session() as session:
        previous = answered_before(session, sender_id=request.sender, client_id=request.client_id)
        if previous is not None:
            return ChatReply(replies=previous, duplicate=True)
        question = claim_message(session, sender_id=request.sender, client_id=request.client_id, text=text)
    if question is None:  # the same message is being answered by a concurrent request
        return ChatReply(replies=await _wait_for_answer(runtime, request), duplicate=True)
    replies = await _ask_rasa(runtime.settings.rasa_url, request.sender, text)
    if any((r.get("custom") or {}).get("type") == FORGOTTEN_PAYLOAD for r in replies):
        return ChatReply(replies=replies)  # the person's records were just deleted: keep none of this
    with runtime.database.session() as session:
        session.add(question)
        store_replies(session, question, replies)
    return ChatReply(replies=replies)


async def _ask_rasa(rasa_url: str, sender: str, text: str) -> list[dict[str, Any]]:
    try:
        async with httpx.AsyncClient(base_url=rasa_url, timeout=30) as client:
            response = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
            response.raise_for_status()
            return [m for m in response.json() if isinstance(m, dict)] or [APOLOGY]
    except (httpx.HTTPError, ValueError) as error:
        log.error("Rasa unavailable: %s", error)
        return [APOLOGY]


async def _wait_for_answer(runtime: RuntimeDep, request: ChatRequest) -> list[dict[str, Any]]:
    for _ in range(60):
        await asyncio.sleep(0.5)
        with runtime.database.session() as session:
            replies = answered_before(session, sender_id=request.sender, client_id=request.client_id)
        if replies is not None:
            return replies
    return [APOLOGY]


@router.get("/{sender}/history")
def history(sender: Annotated[str, Path(pattern=SENDER)], runtime: RuntimeDep) -> dict[str, Any]:
    """The conversation so far, oldest first, for restoring the widget after a reload."""
    with runtime.database.session() as session:
        return {"sender": sender, "messages": conversation(session, sender_id=sender)}
