"""Answer-quality evaluation on a JSONL question file, through the matcher or the bot's REST channel."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from policy_db.search import PolicySearch


@dataclass(frozen=True)
class EvalItem:
    """One question with its acceptable measure numbers, gold units, or out-of-scope flag."""

    q: str
    measures: tuple[int, ...] = ()
    units: tuple[str, ...] = ()
    oos: bool = False


@dataclass(frozen=True)
class Answer:
    """What a system answered: measure numbers best first, and units it named."""

    measures: list[int]
    top_units: list[str]
    named_units: list[str] = field(default_factory=list)


@dataclass
class EvalReport:
    """Hit rates over the in-scope questions and rejection rate over out-of-scope ones."""

    top1: float
    top3: float
    unit_accuracy: float | None
    oos_rejection: float | None
    in_scope: int
    out_of_scope: int
    misses: list[dict[str, object]]

    def lines(self) -> list[str]:
        """A printable summary."""
        def fmt(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.3f}"
        return [
            f"questions: {self.in_scope} in scope, {self.out_of_scope} out of scope",
            f"top-1: {fmt(self.top1)}  top-3: {fmt(self.top3)}  "
            f"unit accuracy: {fmt(self.unit_accuracy)}  out-of-scope rejection: {fmt(self.oos_rejection)}",
        ]


def load_items(path: Path) -> list[EvalItem]:
    """Read a JSONL evaluation file."""
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            items.append(EvalItem(raw["q"], tuple(raw.get("measures", ())),
                                  tuple(raw.get("units", ())), bool(raw.get("oos", False))))
    return items


def evaluate(items: list[EvalItem], answer: Callable[[str], Answer]) -> EvalReport:
    """Run every question through `answer` and compute the metrics."""
    hits1 = hits3 = unit_hits = unit_total = rejected = 0
    misses: list[dict[str, object]] = []
    in_scope = [i for i in items if not i.oos]
    for item in items:
        result = answer(item.q)
        if item.oos:
            rejected += not result.measures
            if result.measures:
                misses.append({"q": item.q, "expected": "no measures", "got": result.measures[:3]})
            continue
        top1 = bool(result.measures) and result.measures[0] in item.measures
        top3 = any(n in item.measures for n in result.measures[:3])
        hits1 += top1
        hits3 += top3
        if item.units:
            unit_total += 1
            named = set(result.top_units) | set(result.named_units[:1])
            unit_hits += any(u in named for u in item.units)
        if not top1:
            misses.append({"q": item.q, "expected": list(item.measures), "got": result.measures[:3]})
    oos_total = len(items) - len(in_scope)
    return EvalReport(
        top1=hits1 / max(1, len(in_scope)), top3=hits3 / max(1, len(in_scope)),
        unit_accuracy=unit_hits / unit_total if unit_total else None,
        oos_rejection=rejected / oos_total if oos_total else None,
        in_scope=len(in_scope), out_of_scope=oos_total, misses=misses,
    )


def matcher_answer(search: PolicySearch) -> Callable[[str], Answer]:
    """Answer questions with the matcher alone."""
    def answer(question: str) -> Answer:
        result = search.search(question, limit=5)
        measures = result.measures
        return Answer([m.number for m in measures], measures[0].units if measures else [],
                      [result.unit] if result.unit else [])
    return answer


def bot_answer(rasa_url: str, timeout: float = 30.0) -> Callable[[str], Answer]:
    """Answer questions through the running bot's REST channel (a new sender per question)."""
    client = httpx.Client(base_url=rasa_url, timeout=timeout)

    def answer(question: str) -> Answer:
        reply = client.post("/webhooks/rest/webhook",
                            json={"sender": f"eval-{uuid.uuid4().hex}", "message": question})
        reply.raise_for_status()
        return answer_from_messages(reply.json())
    return answer


def answer_from_messages(messages: list[dict[str, object]]) -> Answer:
    """Read measures and units from the bot's reply payloads (DESIGN.md contract)."""
    measures: list[int] = []
    top_units: list[str] = []
    named: list[str] = []
    for message in messages:
        custom = message.get("custom")
        if not isinstance(custom, dict):
            continue
        if custom.get("type") == "measures" and not measures:
            measures = [int(m["number"]) for m in custom.get("measures", [])]
            top_units = list(custom["measures"][0]["units"]) if custom.get("measures") else []
        elif custom.get("type") == "units":
            named.extend(u["name"] for u in custom.get("units", []))
    return Answer(measures, top_units, named)
