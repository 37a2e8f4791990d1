"""Tracker stores that keep no personal data: every stored text is masked (privacy.redact).

Rasa keeps each conversation's events (the user's words, the bot's replies, slot values) in its
tracker store. The current turn is processed from memory with the raw text; what is written to
the store, and therefore read back on the next turn, has mobiles, ID numbers, credit codes, bank
cards and e-mail addresses replaced by placeholders. The sentence vector the NLU hands to the
actions is dropped from stored events (it is only needed within its turn). Redis keys also
expire (`record_exp` in the endpoints, 7 days by default).

Configure with `type: rasa_plugins.tracker_store.RedactingRedisTrackerStore` (the arguments of
Rasa's `redis` store) or `rasa_plugins.tracker_store.RedactingInMemoryTrackerStore`.
"""

from __future__ import annotations

import json
from typing import Any

from rasa.core.tracker_store import InMemoryTrackerStore, RedisTrackerStore, SerializedTrackerAsText
from rasa.shared.core.trackers import DialogueStateTracker

from privacy import redact_strings

# Parse-data keys that exist only for the turn (rasa_plugins/sentence_embeddings.py).
TURN_ONLY_KEYS = ("sentence_embedding",)


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


class RedactingRedisTrackerStore(RedisTrackerStore):
    """Rasa's Redis tracker store, writing masked conversations."""

    @staticmethod
    def serialise_tracker(tracker: DialogueStateTracker) -> str:
        """The tracker as Rasa serialises it, with personal data masked."""
        return redact_dialogue(SerializedTrackerAsText.serialise_tracker(tracker))


class RedactingInMemoryTrackerStore(InMemoryTrackerStore):
    """Rasa's in-memory tracker store, keeping masked conversations."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the conversation with personal data masked."""
        await self.stream_events(tracker)
        self.store[tracker.sender_id] = redact_dialogue(InMemoryTrackerStore.serialise_tracker(tracker))
