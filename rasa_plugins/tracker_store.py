"""Tracker stores that keep no personal data: every stored text is masked (privacy.redact).

Rasa keeps each conversation's events (the user's words, the bot's replies, slot values) in its
tracker store. The current turn is processed from memory with the raw text; what is written to
the store, and therefore read back on the next turn, has mobiles, ID numbers, credit codes, bank
cards and e-mail addresses replaced by placeholders. The sentence vector the NLU hands to the
actions is dropped from stored events (it is only needed within its turn). After "删除我的记录"
(actions/privacy.py) the stored conversation is deleted, not written. Redis keys also expire
(`record_exp` in the endpoints, 7 days by default).

Configure with `type: rasa_plugins.tracker_store.RedactingRedisTrackerStore` (the arguments of
Rasa's `redis` store) or `rasa_plugins.tracker_store.RedactingInMemoryTrackerStore`.
"""

from __future__ import annotations

import json
from typing import Any

from rasa.core.tracker_store import InMemoryTrackerStore, RedisTrackerStore, SerializedTrackerAsText
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

from privacy import redact_strings

# Parse-data keys that exist only for the turn (rasa_plugins/sentence_embeddings.py).
TURN_ONLY_KEYS = ("sentence_embedding",)
# The action that deletes a person's records (actions/privacy.py): nothing before it is kept.
FORGET_ACTION = "action_forget_me"


def redact_event(event: dict[str, Any]) -> dict[str, Any]:
    """A serialised event with its texts and slot values masked and turn-only data dropped."""
    parse_data = event.get("parse_data")
    if isinstance(parse_data, dict):
        event = {**event, "parse_data": {k: v for k, v in parse_data.items() if k not in TURN_ONLY_KEYS}}
    return redact_strings(event)


def redact_dialogue(serialised: str) -> str:
    """A serialised dialogue (Rasa's JSON text) with every event redacted."""
    dialogue = json.loads(serialised)
    dialogue["events"] = [redact_event(e) for e in dialogue.get("events") or []]
    return json.dumps(dialogue)


def forgets(tracker: DialogueStateTracker) -> bool:
    """Whether the person asked, in this conversation, to delete their records."""
    return any(isinstance(e, ActionExecuted) and e.action_name == FORGET_ACTION for e in tracker.events)


class RedactingRedisTrackerStore(RedisTrackerStore):
    """Rasa's Redis tracker store, writing masked conversations (and deleting forgotten ones)."""

    @staticmethod
    def serialise_tracker(tracker: DialogueStateTracker) -> str:
        """The tracker as Rasa serialises it, with personal data masked."""
        return redact_dialogue(SerializedTrackerAsText.serialise_tracker(tracker))

    async def save(self, tracker: DialogueStateTracker, timeout: float | None = None) -> None:
        """Store the masked conversation; after "删除我的记录", delete it instead."""
        if forgets(tracker):
            await self.stream_events(tracker)
            self.red.delete(self.key_prefix + tracker.sender_id)
            return
        await super().save(tracker, timeout)


class RedactingInMemoryTrackerStore(InMemoryTrackerStore):
    """Rasa's in-memory tracker store, keeping masked conversations (and dropping forgotten ones)."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the conversation with personal data masked; after "删除我的记录", drop it."""
        await self.stream_events(tracker)
        if forgets(tracker):
            self.store.pop(tracker.sender_id, None)
            return
        self.store[tracker.sender_id] = redact_dialogue(InMemoryTrackerStore.serialise_tracker(tracker))
