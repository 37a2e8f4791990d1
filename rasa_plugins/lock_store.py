"""A Redis lock store that keeps the bot answering while Redis is unreachable.

Rasa 3.6 already wraps every tracker store in FailSafeTrackerStore (an error falls back to
memory), but its RedisLockStore raises on the first turn without Redis, and the REST channel
then answers nothing. This store uses Redis as usual and, while Redis fails, per-process
in-memory locks: turns of one conversation are still serialised within a process, not across
replicas, and the conversation continues without its stored context — degraded, logged once
per outage, and back to Redis on the first call that succeeds.

endpoints.yml::

    lock_store:
      type: rasa_plugins.lock_store.FailSafeRedisLockStore
      url: 127.0.0.1       # the same keys as Rasa's `type: redis`
      port: 6379
      db: 1
      key_prefix: policybot
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
T = TypeVar("T")


class FailSafeRedisLockStore(LockStore):
    """Ticket locks in Redis; in process memory while Redis is down."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, *,
                 redis_store: RedisLockStore | None = None) -> None:
        if redis_store is None:
            config = endpoint_config or EndpointConfig()
            redis_store = RedisLockStore(host=config.url or "localhost", **config.kwargs)
        self.redis = redis_store
        self.memory = InMemoryLockStore()
        self.degraded = False
        super().__init__()

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """The conversation's lock, from Redis or (during an outage) from memory."""
        return self._either(lambda store: store.get_lock(conversation_id))

    def delete_lock(self, conversation_id: str) -> None:
        """Delete the conversation's lock."""
        self._either(lambda store: store.delete_lock(conversation_id))

    def save_lock(self, lock: TicketLock) -> None:
        """Store the conversation's lock."""
        self._either(lambda store: store.save_lock(lock))

    def _either(self, call: Callable[[LockStore], T]) -> T:
        try:
            result = call(self.redis)
        except (RedisError, OSError) as error:
            if not self.degraded:
                logger.error("Redis lock store unreachable, locking in process memory until it "
                             "is back (conversations continue without their context): %s", error)
            self.degraded = True
            return call(self.memory)
        if self.degraded:
            logger.warning("Redis lock store reachable again: locks are shared again")
            self.degraded = False
        return result

