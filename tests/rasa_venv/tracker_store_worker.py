"""Runs in Rasa's venv: save conversations through the redacting tracker stores, print what is stored.

Reads JSON lines {"sender", "text", "redis_db"} on stdin. For each, a conversation turn holding
the text (the user's message with its parse data and a sentence vector, a slot set to it, the
bot's echo) is saved through RedactingInMemoryTrackerStore and RedactingRedisTrackerStore (a real
Redis on 127.0.0.1:6379). One JSON line is printed per input: the stored serialisation from
memory, the raw value of the Redis key with its TTL, and the user text read back from each store.
"""

from __future__ import annotations

import asyncio
import json
import sys

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_plugins.tracker_store import RedactingInMemoryTrackerStore, RedactingRedisTrackerStore

KEY_PREFIX = "privacytest"


def conversation(sender: str, text: str) -> DialogueStateTracker:
    """One turn in which the user said `text`."""
    parse_data = {
        "text": text,
        "intent": {"name": "ask_policy", "confidence": 0.9},
        "entities": [{"entity": "topic", "value": text[:20], "start": 0, "end": min(20, len(text))}],
        "sentence_embedding": {"model": "m", "text": text, "vector": "AAAA"},
    }
    events = [
        ActionExecuted("action_listen"),
        UserUttered(text, parse_data["intent"], parse_data["entities"], parse_data),
        SlotSet("last_question", text),
        BotUttered(f"您说的是：{text}"),
        ActionExecuted("action_listen"),
    ]
    return DialogueStateTracker.from_events(sender, events)


def user_text(tracker: DialogueStateTracker | None) -> str | None:
    """The text of the conversation's first user message, as read back from a store."""
    if tracker is None:
        return None
    return next((e.text for e in tracker.events if isinstance(e, UserUttered)), None)


async def save_both(request: dict[str, str | int]) -> dict[str, object]:
    """Save one conversation through both stores and report what they hold."""
    sender, text = str(request["sender"]), str(request["text"])
    domain = Domain.empty()
    memory = RedactingInMemoryTrackerStore(domain)
    redis_store = RedactingRedisTrackerStore(
        domain,
        host="127.0.0.1",
        port=6379,
        db=int(request["redis_db"]),
        record_exp=3600,
        key_prefix=KEY_PREFIX,
    )
    tracker = conversation(sender, text)
    await memory.save(tracker)
    await redis_store.save(tracker)
    key = redis_store.key_prefix + sender
    stored = redis_store.red.get(key) or ""
    return {
        "memory": memory.store[sender],
        "redis": stored.decode("utf-8") if isinstance(stored, bytes) else stored,
        "ttl": redis_store.red.ttl(key),
        "memory_read_back": user_text(await memory.retrieve(sender)),
        "redis_read_back": user_text(await redis_store.retrieve(sender)),
    }


def main() -> None:
    """Answer each request line with one result line, until stdin closes."""
    for line in sys.stdin:
        result = asyncio.run(save_both(json.loads(line)))
        print(json.dumps(result, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
