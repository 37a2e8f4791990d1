"""Two Rasa replicas behind one "load balancer": shared Redis trackers and locks, one PostgreSQL.

The scaled shape of DESIGN.md: replicas A and B load the same model and share the Redis tracker
store (DB 8) and lock store (DB 9); one action server, one app, one PostgreSQL schema.

What the open-source RedisLockStore (rasa 3.6.21, rasa/core/lock_store.py) does and does not
guarantee, checked by the tests below:

- A replica takes a ticket for the conversation (`issue_ticket`: GET the lock, append a ticket,
  SET it back) and waits until its ticket is served. Turns of one sender are therefore
  serialised across replicas *when tickets are distinct*: each turn sees the previous turn's
  tracker, and a turn's bot messages follow its own user message.
- The ticket issue is a read-modify-write, not atomic (no WATCH/MULTI or Lua). Two replicas
  that issue a ticket in the same instant can both get the same number and then run the two
  turns at the same time (`test_ticket_issue_is_not_atomic_across_replicas` shows it happening).
- What then keeps a message from being lost is `RedisTrackerStore.save`, which merges the stored
  tracker with the new one (stored events first, then the events it lacks). The merge is itself
  GET-merge-SET, so in that rare overlap one turn can still be computed without the other's
  context, and if the two saves interleave within their few milliseconds one turn's events can
  be overwritten. Messages a person sends one after another (the widget waits for each answer)
  never hit this; a strict guarantee needs an atomic lock store (a Lua-script RedisLockStore
  subclass) or sticky sessions per sender at the load balancer.

Measured on the 2-core test machine: two lock stores issuing tickets in a tight loop for 1 s
shared ~80 % of their ticket numbers, yet 20 bursts of 6 simultaneous messages through the two
replicas lost, duplicated or split no turn (the race window is well under a millisecond; HTTP
and NLU jitter between replicas is larger). The burst test below is therefore expected to pass;
if it ever fails on "none lost", it is this documented race, not a flaky test.
"""

from __future__ import annotations

import subprocess
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.conftest import database_urls
from tests.e2e.conftest import LOG_DIR, chat_with, measures_in, port, require_model, units_in
from tools.stack import RASA_BIN, Stack

pytestmark = [pytest.mark.bot, pytest.mark.redis, pytest.mark.postgres]

REDIS_DB = 8  # trackers in 8, locks in 9 (Stack puts the lock store at db + 1)
BURST = 6


def _flush() -> None:
    for db in (REDIS_DB, REDIS_DB + 1):
        redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A schema of its own in the shared PostgreSQL, dropped afterwards."""
    yield from database_urls(tmp_path_factory.mktemp("scale"), "postgres")


@pytest.fixture(scope="module")
def replicas(postgres_url: str) -> Iterator[tuple[Stack, Stack]]:
    """Rasa A (:5631) and B (:5641) sharing Redis, actions (:5681) and the app (:8631)."""
    require_model()
    _flush()
    env = {"DATABASE_URL": postgres_url, "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}"}
    ports = {"action_port": port(5681), "app_port": port(8631)}
    a = Stack(rasa_port=port(5631), log_dir=LOG_DIR, env=env, **ports)
    b = Stack(rasa_port=port(5641), log_dir=LOG_DIR, env=env, **ports)
    try:
        a.start()
        b.start_one("rasa")
        a.wait_ready()
        b.wait_ready()
        yield a, b
    finally:
        b.stop()
        a.stop()
        _flush()


def tracker_events(rasa_url: str, sender: str) -> list[dict[str, Any]]:
    """The conversation's events as stored in Redis, read through a replica's HTTP API."""
    response = httpx.get(f"{rasa_url}/conversations/{sender}/tracker", timeout=60)
    response.raise_for_status()
    return list(response.json()["events"])


def turns(events: list[dict[str, Any]]) -> list[tuple[str, list[int]]]:
    """Each user message with the measure numbers of the bot messages before the next one."""
    result: list[tuple[str, list[int]]] = []
    for event in events:
        if event["event"] == "user":
            result.append((event["text"], []))
        elif event["event"] == "bot" and result:
            custom = (event.get("data") or {}).get("custom") or {}
            if custom.get("type") == "measures":
                result[-1][1].extend(m["number"] for m in custom["measures"])
    return result


def test_follow_ups_resolve_when_turns_alternate_between_replicas(replicas: tuple[Stack, Stack]) -> None:
    a, b = replicas
    on_a = chat_with(a.rasa_url)
    on_b = chat_with(b.rasa_url, on_a.sender)  # type: ignore[attr-defined]
    shown = [m["number"] for m in measures_in(on_a("公司资金紧张，想找银行贷款"))]
    assert len(shown) >= 2
    assert [m["number"] for m in measures_in(on_b("第二条详细说说"))] == [shown[1]]
    units = units_in(on_a("这个找哪个部门？"))
    assert units and shown[1] in units[0]["measures"]
    assert tracker_events(a.rasa_url, on_a.sender) == tracker_events(b.rasa_url, on_a.sender)  # type: ignore[attr-defined]


def _burst(replicas: tuple[Stack, Stack], sender: str) -> dict[str, list[dict[str, Any]]]:
    """Send 第1条 … 第BURST条 at the same instant, alternately to A and B; replies by message."""
    start = threading.Barrier(BURST)

    def send(k: int) -> tuple[str, list[dict[str, Any]]]:
        message = f"第{k}条"
        url = replicas[k % 2].rasa_url
        start.wait()
        response = httpx.post(f"{url}/webhooks/rest/webhook", timeout=120,
                              json={"sender": sender, "message": message})
        response.raise_for_status()
        return message, list(response.json())

    with ThreadPoolExecutor(BURST) as pool:
        return dict(pool.map(send, range(1, BURST + 1)))


def test_a_burst_from_one_sender_on_both_replicas_is_processed_whole_and_in_order(
        replicas: tuple[Stack, Stack]) -> None:
    a, b = replicas
    sender = f"burst-{uuid.uuid4().hex[:10]}"
    chat_with(a.rasa_url, sender)("你好")  # the session exists before the burst
    replies = _burst(replicas, sender)
    # Every request was answered with its own measure: nobody got silence or someone else's turn.
    for message, reply in replies.items():
        assert [m["number"] for m in measures_in(reply)] == [int(message[1:-1])], (message, reply)
    events = tracker_events(a.rasa_url, sender)
    assert events == tracker_events(b.rasa_url, sender)
    stored = turns(events)[1:]  # after 你好
    # None lost, none duplicated, and each stored turn is whole: its answer follows its question.
    assert sorted(text for text, _ in stored) == sorted(replies)
    assert all(numbers == [int(text[1:-1])] for text, numbers in stored), stored


RACE = """
import sys, time
from rasa.core.lock_store import RedisLockStore
store = RedisLockStore(host="127.0.0.1", port=6379, db={db}, key_prefix="race")
store.red.incr("{conversation}:ready")
while int(store.red.get("{conversation}:ready")) < 2:  # both replicas loaded: start together
    time.sleep(0.001)
tickets, end = [], time.time() + 1.0
while time.time() < end:
    tickets.append(store.issue_ticket("{conversation}", lock_lifetime=60))
print(" ".join(map(str, tickets)))
"""


def test_ticket_issue_is_not_atomic_across_replicas(tmp_path: Path) -> None:
    """Pins the documented limit: two lock stores hammering one conversation get equal tickets.

    If this ever fails, Rasa made ticket issue atomic and the module docstring can be relaxed.
    """
    conversation = uuid.uuid4().hex
    script = RACE.format(db=REDIS_DB + 1, conversation=conversation)
    python = str(Path(RASA_BIN) / "python")
    runs = [subprocess.Popen([python, "-c", script], stdout=subprocess.PIPE, text=True)
            for _ in range(2)]
    issued = [set(map(int, run.communicate(timeout=60)[0].split())) for run in runs]
    redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB + 1).delete(f"race:lock:{conversation}",
                                                                   f"{conversation}:ready")
    assert all(issued), "both lock stores issued tickets"
    shared = issued[0] & issued[1]
    assert shared, "no ticket number was issued twice: the lock store may have become atomic"
