"""In-memory state of the WeChat connector: retried deliveries and the buttons last offered.

WeChat waits 5 s for a passive reply; without one it drops the connection and delivers
the same message again (3 deliveries in about 15 s in all). `ReplyCache` runs ONE bot
turn per message and lets every delivery wait on it:

- a delivery that is not the last is held open past WeChat's 5 s (`hold`), so a slow
  turn makes WeChat retry instead of receiving a "please wait" text; the retry joins
  the same turn, and the answer goes out on whichever delivery is open when it is ready;
- the last delivery waits at most `reply_budget` (4.5 s) and otherwise answers
  `late_reply` ("the answer follows"), so the user never sees WeChat's
  "该公众号暂时无法提供服务"; the answer then goes out through `send_later` (a
  customer-service message) when the turn finishes, once per message;
- a finished answer is kept for `ttl` seconds and served unchanged to later retries.

With `SharedReplies` (REDIS_URL set), the first replica to receive a message claims it in
Redis and publishes the answer there; a retry that reaches another replica waits for that
answer instead of running a second turn. Deliveries are counted in Redis too, so the last
one is known whichever replica it reaches, and the replica that answered it "late" claims
the sending in Redis: exactly one customer-service message per message. Without Redis (or
while it is down) each process de-duplicates on its own. `RecentButtons` stays per process:
a typed button title that reaches another replica is read as text.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Leaves 0.5 s of WeChat's 5 s for rendering, encryption and the network.
REPLY_BUDGET_SECONDS = 4.5
# Longer than WeChat's 5 s, so that WeChat (not we) ends a non-final delivery and retries.
HOLD_SECONDS = 6.0
DELIVERIES_PER_MESSAGE = 3


# Sends a finished answer the passive reply could not carry (a customer-service message).
SendLater = Callable[[str], Awaitable[None]]


@dataclass
class _Entry:
    # The turn's answer; None when another replica ran the turn and its answer never came.
    task: asyncio.Task[str | None]
    expires_at: float
    deliveries: int = 0
    sending: bool = False  # the late answer's sending is arranged (in this process)


class SharedReplies:
    """WeChat message claims and answers in Redis, shared by every Rasa replica."""

    PENDING = ""  # a claimed message whose answer is not there yet (answers are never empty)

    def __init__(
        self, redis_url: str, *, ttl: float = 60.0, poll: float = 0.1, prefix: str = "policybot:wechat:reply:"
    ) -> None:
        self._redis = aioredis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.ttl, self.poll, self.prefix = ttl, poll, prefix

    async def ping(self) -> bool:
        """True when Redis answers (the connection is opened now rather than by the first message)."""
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    @classmethod
    def from_environment(cls) -> SharedReplies | None:
        """Shared replies on REDIS_URL, or None when it is not set."""
        url = os.environ.get("REDIS_URL")
        return cls(url) if url else None

    async def claim(self, key: str) -> bool | None:
        """True: this replica runs the turn; False: another one does; None: Redis is down."""
        try:
            return bool(await self._redis.set(self.prefix + key, self.PENDING, nx=True, ex=int(self.ttl)))
        except (RedisError, OSError) as error:
            log.warning("WeChat replies not shared (Redis): %s", error)
            return None

    async def publish(self, key: str, answer: str) -> None:
        """Store the answer of a claimed message for the other replicas' deliveries."""
        try:
            await self._redis.set(self.prefix + key, answer, ex=int(self.ttl))
        except (RedisError, OSError) as error:
            log.warning("WeChat reply not shared (Redis): %s", error)

    async def count_delivery(self, key: str) -> int | None:
        """This delivery's number among all replicas (1, 2, 3, …), or None when Redis is down."""
        name = f"{self.prefix}{key}:deliveries"
        try:
            pipe = self._redis.pipeline(transaction=True)
            pipe.incr(name)
            pipe.expire(name, int(self.ttl))
            count, _ = await pipe.execute()
            return int(count)
        except (RedisError, OSError) as error:
            log.warning("WeChat deliveries counted per process (Redis): %s", error)
            return None

    async def claim_sending(self, key: str) -> bool | None:
        """True: this replica sends the late answer of `key`; False: another one does; None: Redis down."""
        try:
            return bool(await self._redis.set(f"{self.prefix}{key}:send", "1", nx=True, ex=int(self.ttl)))
        except (RedisError, OSError) as error:
            log.warning("WeChat late answer not claimed (Redis): %s", error)
            return None

    async def wait(self, key: str) -> str | None:
        """The answer another replica publishes for `key`, or None if none comes within the TTL."""
        deadline = time.monotonic() + self.ttl
        while time.monotonic() < deadline:
            try:
                stored = await self._redis.get(self.prefix + key)
            except (RedisError, OSError) as error:
                log.warning("WeChat reply lost with Redis: %s", error)
                return None
            if stored is None:  # expired or never claimed: nobody will answer
                return None
            text = stored.decode() if isinstance(stored, bytes) else str(stored)
            if text != self.PENDING:
                return text
            await asyncio.sleep(self.poll)
        return None


@dataclass
class ReplyCache:
    """Answers every delivery of one WeChat message from a single bot turn."""

    # The last delivery's reply when the turn is slower: the answer will follow (`send_later`).
    late_reply: str
    # The same without a way to send the answer later (no `send_later`, or the answer was lost).
    unsent_late_reply: str | None = None
    ttl: float = 60.0
    max_entries: int = 1024
    reply_budget: float = REPLY_BUDGET_SECONDS
    hold: float = HOLD_SECONDS
    final_delivery: int = DELIVERIES_PER_MESSAGE
    clock: Callable[[], float] = time.monotonic
    shared: SharedReplies | None = None
    _entries: OrderedDict[str, _Entry] = field(default_factory=OrderedDict, repr=False)
    # The event loop keeps only weak references to tasks; an evicted entry must not let
    # its still-running turn be garbage-collected.
    _running: set[asyncio.Future[Any]] = field(default_factory=set, repr=False)

    async def answer(
        self, key: str, produce: Callable[[], Awaitable[str]], send_later: SendLater | None = None
    ) -> str:
        """The reply for this delivery of `key`, starting the bot turn on its first delivery.

        When the last delivery's wait runs out, the turn's answer goes to `send_later` once it is
        ready (once per message, across replicas); without `send_later` nothing is sent.
        """
        started = self.clock()
        entry = self._claim(key, produce)
        entry.deliveries += 1
        deliveries = entry.deliveries
        if self.shared is not None:
            # The last delivery may reach another replica than the first two did.
            deliveries = max(deliveries, await self.shared.count_delivery(key) or 0)
        final = deliveries >= self.final_delivery
        timeout = (self.reply_budget if final else self.hold) - (self.clock() - started)
        try:
            # shield: a timeout or WeChat hanging up (Sanic then cancels this handler)
            # must not cancel the turn that the next delivery will pick up.
            answer = await asyncio.wait_for(asyncio.shield(entry.task), max(timeout, 0.0))
        except asyncio.TimeoutError:
            if not final or send_later is None:
                return self._unsent_late_reply
            if not entry.sending:
                entry.sending = True
                self._keep(asyncio.ensure_future(self._send_when_ready(key, entry.task, send_later)))
            return self.late_reply
        return answer if answer is not None else self._unsent_late_reply

    def __len__(self) -> int:
        return len(self._entries)

    def _claim(self, key: str, produce: Callable[[], Awaitable[str]]) -> _Entry:
        self._expire()
        entry = self._entries.get(key)
        if entry is None:
            task: asyncio.Task[str | None] = asyncio.ensure_future(self._turn(key, produce))
            self._keep(task)
            entry = _Entry(task=task, expires_at=self.clock() + self.ttl)
            self._entries[key] = entry
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return entry

    @property
    def _unsent_late_reply(self) -> str:
        return self.unsent_late_reply or self.late_reply

    def _keep(self, task: asyncio.Future[Any]) -> None:
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _turn(self, key: str, produce: Callable[[], Awaitable[str]]) -> str | None:
        """One bot turn per message across replicas when shared, else in this process."""
        claimed = await self.shared.claim(key) if self.shared is not None else None
        if claimed is False:
            assert self.shared is not None
            return await self.shared.wait(key)
        answer = await produce()
        if claimed:
            assert self.shared is not None
            await self.shared.publish(key, answer)
        return answer

    async def _send_when_ready(self, key: str, turn: asyncio.Task[str | None], send_later: SendLater) -> None:
        """Send the answer of a message whose last delivery was answered "late" (once across replicas)."""
        if self.shared is not None and await self.shared.claim_sending(key) is False:
            return  # another replica answered a last delivery late and sends it
        answer = await asyncio.shield(turn)
        if answer is None:
            log.warning("WeChat: the late answer to %s was lost with its replica; nothing to send", key)
            return
        try:
            await send_later(answer)
        except Exception:
            log.exception("WeChat: sending the late answer to %s failed", key)

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
