"""Asking the running bot over its REST channel, for `policybot eval --via bot`."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx

from policy_db.evaluation import Answer, answer_from_messages


def bot_answer(rasa_url: str, timeout: float = 30.0) -> Callable[[str], Answer]:
    """Answer questions through the running bot's REST channel (a new sender per question)."""
    client = httpx.Client(base_url=rasa_url, timeout=timeout)

    def answer(question: str) -> Answer:
        reply = client.post(
            "/webhooks/rest/webhook", json={"sender": f"eval-{uuid.uuid4().hex}", "message": question}
        )
        reply.raise_for_status()
        return answer_from_messages(reply.json())

    return answer
