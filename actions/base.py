"""What every policy action shares: the runtime, the user's turn, polite failure, logging."""

from __future__ import annotations

import base64
import binascii
import logging
from abc import ABCMeta, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.replies import contact_text
from actions.runtime import get_runtime
from policy_db.catalogue import MeasureView, measure_key
from policy_db.errors import PolicyError
from policy_db.question_log import log_question
from policy_db.runtime import Runtime
from policy_db.seeding import DEFAULT_SERVICE_CENTER

log = logging.getLogger(__name__)
# Parse-data key under which the NLU's sentence featurizer hands on its vector of the text.
SENTENCE_EMBEDDING = "sentence_embedding"


class PolicyAction(Action, metaclass=ABCMeta):
    """An action that talks to policy_db; a database failure becomes a polite reply."""

    @abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Run `answer`, turning database and policy errors into an apology with the contact."""
        try:
            runtime = get_runtime()
            reuse_sentence_embedding(tracker, runtime)
            return self.answer(dispatcher, tracker, domain, runtime)
        except (SQLAlchemyError, PolicyError, OSError) as error:
            log.exception("%s failed: %s", self.name(), error)
            dispatcher.utter_message(
                response="utter_policy_db_unavailable", contact=contact_text(_fallback_center())
            )
            return []

    @abstractmethod
    def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], runtime: Runtime
    ) -> list[dict[str, Any]]:
        """Reply to the user's turn."""


def _fallback_center() -> dict[str, str]:
    try:
        return get_runtime().service_center
    except Exception:  # the runtime itself may be what failed
        return dict(DEFAULT_SERVICE_CENTER)


def reuse_sentence_embedding(tracker: Tracker, runtime: Runtime) -> None:
    """Hand the NLU's vector of the user's text to the matcher, so the turn embeds it only once."""
    found = tracker.latest_message.get(SENTENCE_EMBEDDING)
    if not isinstance(found, dict) or found.get("text") != user_text(tracker):
        return
    try:
        vector = np.frombuffer(base64.b64decode(str(found.get("vector", ""))), dtype=np.float32)
    except (ValueError, binascii.Error):
        return
    runtime.search.remember_query(str(found["text"]), vector, str(found.get("model", "")))


def user_text(tracker: Tracker) -> str:
    """The text of the latest user message (button payloads included)."""
    return str(tracker.latest_message.get("text") or "").strip()


def user_intent(tracker: Tracker) -> str:
    """The intent of the latest user message."""
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")


def channel_of(tracker: Tracker) -> str:
    """The input channel of the latest message."""
    return str(tracker.get_latest_input_channel() or "")


def record_question(
    runtime: Runtime,
    tracker: Tracker,
    outcome: str,
    measures: Sequence[MeasureView] = (),
    top_score: float = 0.0,
    text: str | None = None,
) -> None:
    """Log the question (or `text`) and its outcome for the insights page; never fails the reply."""
    try:
        with runtime.database.session() as session:
            log_question(
                session,
                sender_id=tracker.sender_id,
                text=text or user_text(tracker),
                outcome=outcome,
                channel=channel_of(tracker),
                intent=user_intent(tracker),
                measures=[measure_key(m) for m in measures],
                top_score=top_score,
            )
    except SQLAlchemyError as error:
        log.error("could not log question: %s", error)
