"""Per-sender rate limits for the public channels: Redis when configured, memory otherwise.

Used by the app's /api/chat (the widget), Rasa's REST channel and the WeChat channel, so it
depends on the standard library and redis-py only (both virtual environments have them).
Each channel counts in its own scope: a widget message passes /api/chat and then Rasa REST,
and must not be counted twice against one budget.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
import time
import uuid
from collections import deque

import redis

log = logging.getLogger(__name__)


class RateLimiter:
    """A sliding window per key: at most `limit` accepted requests in any `window` seconds.

    Only accepted requests count, so a sender who waits the Retry-After it was given is
    answered again; a fixed window would also let 2 x limit through across its boundary.
    """

    def __init__(self, limit: int, window: int, redis_url: str | None = None, *, scope: str) -> None:
        self.limit, self.window, self.scope = limit, window, scope
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=0.5) if redis_url else None
        self._accepted: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_environment(cls, scope: str) -> RateLimiter:
        """The limiter configured like the app: CHAT_RATE_LIMIT per CHAT_RATE_WINDOW_SECONDS, REDIS_URL."""
        limit = int(os.environ.get("CHAT_RATE_LIMIT") or 30)
        window = int(os.environ.get("CHAT_RATE_WINDOW_SECONDS") or 60)
        return cls(limit, window, os.environ.get("REDIS_URL") or None, scope=scope)

    def hit(self, key: str) -> int:
        """Count one request for `key`; the Retry-After seconds when over the limit, else 0."""
        # Counted under a digest: a sender id (a widget client id, a WeChat openid) is personal data.
        key = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
        now = time.time()
        oldest = self._redis_hit(key, now) if self._redis is not None else None
        if oldest is None:  # no Redis, or Redis down: limit per process rather than not at all
            oldest = self._memory_hit(key, now)
        return 0 if oldest == 0 else max(1, math.ceil(oldest + self.window - now))

    def _redis_hit(self, key: str, now: float) -> float | None:
        """0 when accepted (and recorded), else the oldest accepted time in the window."""
        assert self._redis is not None
        name = f"policybot:rate:{self.scope}:{key}"
        member = f"{now:.6f}:{uuid.uuid4().hex[:8]}"
        try:
            pipe = self._redis.pipeline()
            pipe.zremrangebyscore(name, 0, now - self.window)
            pipe.zadd(name, {member: now})
            pipe.zcard(name)
            pipe.zrange(name, 0, 0, withscores=True)
            pipe.expire(name, self.window + 1)
            _, _, count, first, _ = pipe.execute()
            if int(count) <= self.limit:
                return 0
            self._redis.zrem(name, member)  # refused requests do not count
            return float(first[0][1])
        except redis.RedisError as error:
            log.warning("rate limit falls back to memory: %s", error)
            return None

    def _memory_hit(self, key: str, now: float) -> float:
        with self._lock:
            if len(self._accepted) > 50_000:
                self._accepted = {k: q for k, q in self._accepted.items() if q and q[-1] > now - self.window}
            accepted = self._accepted.setdefault(key, deque())
            while accepted and accepted[0] <= now - self.window:
                accepted.popleft()
            if len(accepted) >= self.limit:
                return accepted[0]
            accepted.append(now)
            return 0
