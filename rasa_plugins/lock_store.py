"""A Redis lock store with atomic tickets that keeps the bot answering while Redis is unreachable.

Rasa 3.6's RedisLockStore changes a conversation's ticket lock by GET, change, SET. Two
replicas taking a ticket in the same instant can overwrite each other's ticket; the loser then
finds the lock deleted under it and its turn fails with "Could not acquire lock" (seen in a
burst of six simultaneous messages through two replicas). Here every change of a lock (issue a
ticket, drop expired ones, finish a ticket and delete the lock when nobody waits) is one Redis
transaction (WATCH/MULTI/EXEC, retried when another replica changed the lock meanwhile), so
turns of one sender are served strictly one after another across replicas.

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

import json
import logging
from collections.abc import Callable
from typing import TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import RedisError, WatchError

logger = logging.getLogger(__name__)
T = TypeVar("T")
# A change of a lock: given the stored lock (or None), what to return and the lock to store
# (None deletes it).
Change = Callable[[TicketLock | None], tuple[T, TicketLock | None]]


class FailSafeRedisLockStore(LockStore):
    """Ticket locks in Redis; in process memory while Redis is down."""

    def __init__(
        self, endpoint_config: EndpointConfig | None = None, *, redis_store: RedisLockStore | None = None
    ) -> None:
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

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Append a ticket to the conversation's lock (created when missing), atomically."""

        def change(lock: TicketLock | None) -> tuple[int, TicketLock | None]:
            lock = lock or self.create_lock(conversation_id)
            return lock.issue_ticket(lock_lifetime), lock

        return self._atomically(conversation_id, change)

    def update_lock(self, conversation_id: str) -> None:
        """Drop the expired tickets of the conversation's lock, atomically."""

        def change(lock: TicketLock | None) -> tuple[None, TicketLock | None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return None, lock

        self._atomically(conversation_id, change)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Remove a served ticket, atomically."""

        def change(lock: TicketLock | None) -> tuple[None, TicketLock | None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return None, lock

        self._atomically(conversation_id, change)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Remove a served ticket and delete the lock if nobody waits — one step, not two."""

        def change(lock: TicketLock | None) -> tuple[None, TicketLock | None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return None, lock if lock.is_someone_waiting() else None

        self._atomically(conversation_id, change)

    def _atomically(self, conversation_id: str, change: Change[T]) -> T:
        """Apply `change` to the stored lock in one Redis transaction (memory while Redis is down)."""
        try:
            result = self._redis_transaction(conversation_id, change)
        except (RedisError, OSError) as error:
            self._note_outage(error)
            result, lock = change(self.memory.get_lock(conversation_id))
            if lock is None:
                self.memory.conversation_locks.pop(conversation_id, None)
            else:
                self.memory.save_lock(lock)
            return result
        self._note_recovery()
        return result

    def _redis_transaction(self, conversation_id: str, change: Change[T]) -> T:
        key = self.redis.key_prefix + conversation_id
        with self.redis.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    stored = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(stored)) if stored else None
                    result, changed = change(lock)
                    pipe.multi()
                    if changed is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, changed.dumps())
                    pipe.execute()
                    return result
                except WatchError:
                    continue  # another replica changed the lock meanwhile: read it again

    def _note_outage(self, error: Exception) -> None:
        if not self.degraded:
            logger.error(
                "Redis lock store unreachable, locking in process memory until it "
                "is back (conversations continue without their context): %s",
                error,
            )
        self.degraded = True

    def _note_recovery(self) -> None:
        if self.degraded:
            logger.warning("Redis lock store reachable again: locks are shared again")
            self.degraded = False

    def _either(self, call: Callable[[LockStore], T]) -> T:
        try:
            result = call(self.redis)
        except (RedisError, OSError) as error:
            self._note_outage(error)
            return call(self.memory)
        self._note_recovery()
        return result
