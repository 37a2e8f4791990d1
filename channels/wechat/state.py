"""In-memory state of the WeChat connector: retried deliveries and the buttons last offered.

WeChat waits 5 s for a passive reply; without one it drops the connection and delivers
the same message again (3 deliveries in about 15 s in all). `ReplyCache` runs ONE bot
turn per message and lets every delivery wait on it:

- a delivery that is not the last is held open past WeChat's 5 s (`hold`), so a slow
  turn makes WeChat retry instead of receiving a "please wait" text; the retry joins
  the same turn, and the answer goes out on whichever delivery is open when it is ready;
- the last delivery waits at most `reply_budget` (4.5 s) and otherwise answers
  `late_reply`, so the user never sees WeChat's "该公众号暂时无法提供服务";
- a finished answer is kept for `ttl` seconds and served unchanged to later retries.

Both structures are per process. Behind several Rasa replicas a retry may reach another
replica and be answered a second time; sharing this state would need Redis.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

# Leaves 0.5 s of WeChat's 5 s for rendering, encryption and the network.
REPLY_BUDGET_SECONDS = 4.5
# Longer than WeChat's 5 s, so that WeChat (not we) ends a non-final delivery and retries.
HOLD_SECONDS = 6.0
DELIVERIES_PER_MESSAGE = 3


@dataclass
class _Entry:
    task: asyncio.Task[str]
    expires_at: float
    deliveries: int = 0


@dataclass
class ReplyCache:
    """Answers every delivery of one WeChat message from a single bot turn."""

    late_reply: str
    ttl: float = 60.0
    max_entries: int = 1024
    reply_budget: float = REPLY_BUDGET_SECONDS
    hold: float = HOLD_SECONDS
    final_delivery: int = DELIVERIES_PER_MESSAGE
    clock: Callable[[], float] = time.monotonic
    _entries: OrderedDict[str, _Entry] = field(default_factory=OrderedDict, repr=False)
    # The event loop keeps only weak references to tasks; an evicted entry must not let
    # its still-running turn be garbage-collected.
    _running: set[asyncio.Task[str]] = field(default_factory=set, repr=False)

    async def answer(self, key: str, produce: Callable[[], Awaitable[str]]) -> str:
        """The reply for this delivery of `key`, starting the bot turn on its first delivery."""
        entry = self._claim(key, produce)
        entry.deliveries += 1
        final = entry.deliveries >= self.final_delivery
        timeout = self.reply_budget if final else self.hold
        try:
            # shield: a timeout or WeChat hanging up (Sanic then cancels this handler)
            # must not cancel the turn that the next delivery will pick up.
            return await asyncio.wait_for(asyncio.shield(entry.task), timeout)
        except asyncio.TimeoutError:
            return self.late_reply

    def __len__(self) -> int:
        return len(self._entries)

    def _claim(self, key: str, produce: Callable[[], Awaitable[str]]) -> _Entry:
        self._expire()
        entry = self._entries.get(key)
        if entry is None:
            task: asyncio.Task[str] = asyncio.ensure_future(produce())
            self._running.add(task)
            task.add_done_callback(self._running.discard)
            entry = _Entry(task=task, expires_at=self.clock() + self.ttl)
            self._entries[key] = entry
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return entry

    def _expire(self) -> None:
        now = self.clock()
        # Entries are in insertion order with one TTL, so the expired ones come first.
        while self._entries and next(iter(self._entries.values())).expires_at <= now:
            self._entries.popitem(last=False)


@dataclass
class RecentButtons:
    """Remembers each user's last offered buttons, so typing a title acts like a click."""

    ttl: float = 30 * 60.0
    max_users: int = 10_000
    clock: Callable[[], float] = time.monotonic
    _by_user: OrderedDict[str, tuple[float, dict[str, str]]] = field(default_factory=OrderedDict, repr=False)

    def remember(self, user: str, buttons: Iterable[dict[str, Any]]) -> None:
        """Record the buttons of the reply just sent to `user` (none: forget the old ones)."""
        by_title = {
            _normalise(str(b.get("title") or "")): str(b["payload"])
            for b in buttons
            if b.get("title") and b.get("payload")
        }
        self._by_user.pop(user, None)
        if by_title:
            self._by_user[user] = (self.clock() + self.ttl, by_title)
            while len(self._by_user) > self.max_users:
                self._by_user.popitem(last=False)

    def payload_for(self, user: str, text: str) -> str | None:
        """The payload of the button whose title `user` just typed, if any."""
        expires_at, by_title = self._by_user.get(user, (0.0, {}))
        if expires_at <= self.clock():
            return None
        return by_title.get(_normalise(text))


def _normalise(title: str) -> str:
    # Users type the hint's title with or without the quotes it is shown in.
    return title.strip().strip("“”\"'「」 ").lower()
