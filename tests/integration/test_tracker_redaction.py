"""Rasa's stored conversations hold no personal numbers: property-based, through the real stores.

Hypothesis writes Chinese sentences holding a valid mobile, ID number, credit code or bank card
(and look-alikes with a wrong check digit). Each is saved, as one conversation turn, through the
redacting tracker stores in Rasa's own venv (in memory and in a real Redis); the test reads what
each store holds. Valid numbers never appear; measure numbers, years and amounts do; the stored
turn drops the sentence vector; the Redis key expires.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.test_privacy import AFTER, BEFORE, bank_cards, credit_codes, mobiles, resident_ids

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
WORKER = ROOT / "tests" / "rasa_venv" / "tracker_store_worker.py"
REDIS_DB = 11
KEPT = "第18条 2021年 500万元"
TRACKERS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class Worker:
    """The tracker-store worker in Rasa's venv, one request and one answer per line."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [str(RASA_PYTHON), str(WORKER)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"},
        )

    def save(self, text: str) -> dict[str, Any]:
        """Save one conversation holding `text`; what the two stores hold."""
        assert self.process.stdin is not None and self.process.stdout is not None
        sender = f"t-{uuid.uuid4().hex[:12]}"
        request = {"sender": sender, "text": text, "redis_db": REDIS_DB}
        self.process.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, "the tracker-store worker stopped"
        return dict(json.loads(line))

    def close(self) -> None:
        """Stop the worker."""
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    if not RASA_PYTHON.exists():
        pytest.fail("Rasa's venv is missing: run `make setup`")
    redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).flushdb()
    running = Worker()
    yield running
    running.close()
    redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).flushdb()


def _digits(text: str) -> str:
    return text.replace(" ", "")


@TRACKERS
@given(
    before=BEFORE,
    after=AFTER,
    value=st.one_of(mobiles(), resident_ids(), credit_codes(), bank_cards()),
)
def test_valid_personal_numbers_never_reach_a_tracker_store(
    worker: Worker, before: str, after: str, value: str
) -> None:
    stored = worker.save(f"{before}{value}{after} {KEPT}")
    for name in ("memory", "redis"):
        text = json.loads(stored[name])  # the stored JSON, with its escapes undone
        flat = json.dumps(text, ensure_ascii=False)
        assert value not in flat and _digits(value) not in _digits(flat), name
        assert flat.count("第18条") >= 4 and "2021年" in flat and "500万元" in flat, name
        assert "sentence_embedding" not in flat, name
    assert value not in stored["memory_read_back"] and value not in stored["redis_read_back"]
    assert 0 < stored["ttl"] <= 3600


def test_a_look_alike_with_a_wrong_check_digit_stays_as_typed(worker: Worker) -> None:
    wrong_id = "110101199003074515"  # the check digit of this ID is 4
    stored = worker.save(f"编号{wrong_id}是什么")
    assert wrong_id in stored["memory"] and wrong_id in stored["redis"]
    assert stored["redis_read_back"] == f"编号{wrong_id}是什么"
