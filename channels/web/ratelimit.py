"""Per-sender rate limits for the public chat endpoint: Redis when configured, memory otherwise."""

from __future__ import annotations

import logging
import threading
import time

import redis

log = logging.getLogger(__name__)


class RateLimiter:
    """A fixed-window counter per key; `hit` returns seconds to wait (0 when allowed)."""

    def __init__(self, limit: int, window: int, redis_url: str | None = None) -> None:
        self.limit, self.window = limit, window
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=0.5) if redis_url else None
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> int:
        """Count one request for `key`; the Retry-After seconds when over the limit, else 0."""
        now = time.time()
        slot = int(now // self.window)
        retry_after = max(1, int((slot + 1) * self.window - now))
        count = self._redis_hit(key, slot) if self._redis is not None else None
        if count is None:  # no Redis, or Redis down: limit per process rather than not at all
            count = self._memory_hit(key, slot)
        return retry_after if count > self.limit else 0

    def _redis_hit(self, key: str, slot: int) -> int | None:
        assert self._redis is not None
        name = f"policybot:rate:{key}:{slot}"
        try:
            pipe = self._redis.pipeline()
            pipe.incr(name)
            pipe.expire(name, self.window * 2)
            return int(pipe.execute()[0])
        except redis.RedisError as error:
            log.warning("rate limit falls back to memory: %s", error)
            return None

    def _memory_hit(self, key: str, slot: int) -> int:
        with self._lock:
            if len(self._counts) > 50_000:
                self._counts = {k: v for k, v in self._counts.items() if k[1] == slot}
            count = self._counts.get((key, slot), 0) + 1
            self._counts[(key, slot)] = count
            return count
