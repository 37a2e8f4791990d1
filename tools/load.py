"""Load test: N concurrent widget-like sessions against the app's /api/chat for a fixed time.

Each session is one widget user: a new sender id, a few questions with a person's pauses
between them (reading the answer, typing), sometimes tapping a quick reply instead of typing;
then the user leaves and a new one takes the seat, so N conversations are always open.
Prints requests, error rate (HTTP errors, timeouts and the app's apology all count: the user
got no answer), p50/p95/p99 latency and messages per second. See docs/load.md.

    .venv/bin/python tools/load.py --url http://127.0.0.1:8000            # a running stack
    .venv/bin/python tools/load.py --start-stack --redis-url redis://127.0.0.1:6379/10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from channels.texts import FALLBACK_TEXT  # noqa: E402
from tools.stack import Stack  # noqa: E402

EVAL_FILE = ROOT.parent / "shared" / "eval" / "dev.jsonl"
APOLOGY_START = FALLBACK_TEXT[:12]
OPENERS = ["你好", "在吗", "您好，想咨询一下政策"]
FOLLOW_UPS = ["第二条详细说说", "这个找哪个部门？", "还有吗", "谢谢"]
QUESTIONS = [
    "开公司要跑几个部门？",
    "留抵退税能退吗",
    "公司资金紧张，想找银行贷款",
    "专利质押融资怎么办",
    "外资企业注册有什么便利",
    "人才落户有什么政策",
    "政府采购对中小企业有优惠吗",
    "不动产登记多久能办好",
    "企业注销麻烦吗",
]


@dataclass
class Results:
    """What the sessions observed."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    conversations: int = 0

    @property
    def requests(self) -> int:
        """Messages sent (answered or not)."""
        return len(self.latencies) + sum(self.errors.values())


def questions() -> list[str]:
    """Realistic questions: the dev set when it is there, else a built-in list."""
    if EVAL_FILE.exists():
        lines = EVAL_FILE.read_text(encoding="utf-8").splitlines()
        return [json.loads(line)["q"] for line in lines if line.strip()] + QUESTIONS
    return QUESTIONS


def conversation(rng: random.Random, pool: list[str]) -> list[str]:
    """What one user types: sometimes a greeting, 2–4 questions, sometimes a follow-up."""
    turns = [rng.choice(OPENERS)] if rng.random() < 0.3 else []
    for _ in range(rng.randint(2, 4)):
        turns.append(rng.choice(pool))
        if rng.random() < 0.3:
            turns.append(rng.choice(FOLLOW_UPS))
    return turns


async def ask(client: httpx.AsyncClient, sender: str, message: str, results: Results) -> list[dict[str, Any]]:
    """Send one message as the widget does; record its latency or why it failed."""
    started = time.perf_counter()
    try:
        response = await client.post(
            "/api/chat", json={"sender": sender, "message": message, "client_id": uuid.uuid4().hex}
        )
    except httpx.TimeoutException:
        results.errors["timeout"] += 1
        return []
    except httpx.HTTPError as error:
        results.errors[type(error).__name__] += 1
        return []
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        results.errors[f"HTTP {response.status_code}"] += 1
        return []
    replies = list(response.json().get("replies") or [])
    if not replies or str(replies[0].get("text", "")).startswith(APOLOGY_START):
        results.errors["apology"] += 1
        return []
    results.latencies.append(elapsed)
    return replies


def quick_reply(rng: random.Random, replies: list[dict[str, Any]]) -> str | None:
    """Sometimes the user taps one of the offered buttons (its payload is what the widget sends)."""
    buttons = [b for r in replies for b in r.get("buttons") or [] if b.get("payload")]
    return rng.choice(buttons)["payload"] if buttons and rng.random() < 0.25 else None


async def session(
    client: httpx.AsyncClient,
    seat: int,
    deadline: float,
    args: argparse.Namespace,
    pool: list[str],
    results: Results,
) -> None:
    """One seat of the widget: users come, ask a few things with pauses, leave; until the deadline."""
    rng = random.Random(args.seed * 1000 + seat)
    await asyncio.sleep(rng.uniform(0, args.think_max))  # users do not all arrive in one instant
    while time.monotonic() < deadline:
        sender = f"load-{uuid.uuid4().hex[:16]}"
        results.conversations += 1
        for first in conversation(rng, pool):
            message: str | None = first
            while message and time.monotonic() < deadline:
                replies = await ask(client, sender, message, results)
                pause = rng.uniform(args.think_min, args.think_max)
                await asyncio.sleep(max(0.0, min(pause, deadline - time.monotonic())))
                message = quick_reply(rng, replies)
            if time.monotonic() >= deadline:
                return


async def run(args: argparse.Namespace, url: str) -> tuple[Results, float]:
    """All sessions against `url` for args.duration seconds; the results and the elapsed time."""
    results, pool = Results(), questions()
    limits = httpx.Limits(max_connections=args.sessions, max_keepalive_connections=args.sessions)
    async with httpx.AsyncClient(base_url=url, timeout=args.timeout, limits=limits) as client:
        started = time.monotonic()
        deadline = started + args.duration
        await asyncio.gather(
            *(session(client, seat, deadline, args, pool, results) for seat in range(args.sessions))
        )
        return results, time.monotonic() - started


def percentile(samples: list[float], q: float) -> float:
    """The q-quantile in milliseconds (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def report(results: Results, elapsed: float, args: argparse.Namespace) -> str:
    """The figures as a Markdown table row with its header, and the error breakdown."""
    lat = results.latencies
    rate = sum(results.errors.values()) / results.requests if results.requests else 0.0
    header = (
        "| sessions | duration s | conversations | messages | error rate | p50 ms | p95 ms "
        "| p99 ms | mean ms | messages/s |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    row = (
        f"| {args.sessions} | {elapsed:.0f} | {results.conversations} | {results.requests} "
        f"| {rate:.1%} | {percentile(lat, 0.50):.0f} | {percentile(lat, 0.95):.0f} "
        f"| {percentile(lat, 0.99):.0f} | {statistics.fmean(lat) * 1000 if lat else 0:.0f} "
        f"| {results.requests / elapsed:.2f} |"
    )
    errors = ", ".join(f"{kind}: {n}" for kind, n in results.errors.most_common()) or "none"
    return f"{header}\n{row}\n\nerrors: {errors}"


def own_stack(args: argparse.Namespace) -> Stack:
    """A stack of our own (ports 5861/5911/8861 by default) on a fresh database."""
    database = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='load-')}/policy.db"
    env = {"DATABASE_URL": database, "REDIS_URL": args.redis_url or ""}
    log_dir = ROOT / "var" / "log" / "load"
    return Stack(
        rasa_port=args.rasa_port,
        action_port=args.rasa_port + 50,
        app_port=args.app_port,
        env=env,
        log_dir=log_dir,
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the app (ignored with --start-stack)")
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument("--think-min", type=float, default=3.0, help="pause after an answer, seconds")
    parser.add_argument("--think-max", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=30.0, help="per message, seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start-stack", action="store_true", help="start Rasa, actions and app first")
    parser.add_argument("--rasa-port", type=int, default=5861)
    parser.add_argument("--app-port", type=int, default=8861)
    parser.add_argument("--database-url", help="for --start-stack (default: a new SQLite file)")
    parser.add_argument("--redis-url", help="for --start-stack: Redis trackers, locks, rate limits")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run the load against a running stack, or one started for the purpose."""
    args = parse_args(argv)
    stack = own_stack(args) if args.start_stack else None
    try:
        if stack:
            stack.start()
            stack.wait_ready()
        url = stack.app_url if stack else args.url
        print(f"{args.sessions} sessions for {args.duration:.0f} s against {url}/api/chat …", flush=True)
        results, elapsed = asyncio.run(run(args, url))
        print(report(results, elapsed, args))
    finally:
        if stack:
            stack.stop()


if __name__ == "__main__":
    main()
