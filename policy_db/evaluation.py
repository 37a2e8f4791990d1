"""Answer-quality evaluation on a JSONL question file, through the matcher, the bot, or plain BM25.

Lines: `{"q", "measures": [...], "units": [...]}` (in scope), `{"q", "remit": true, "units": [...]}`
(no measure answers it, the unit's remit does), `{"q", "oos": true}`; a `{"_meta": ...}` line is
skipped. Clarify candidates count for top-3, never for top-1. A refusal is an in-scope
question answered with no measure, no candidate and no unit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from policy_db.search import PolicySearch


@dataclass(frozen=True)
class EvalItem:
    """One question with its acceptable measure numbers, gold units, or its kind."""

    q: str
    measures: tuple[int, ...] = ()
    units: tuple[str, ...] = ()
    oos: bool = False
    remit: bool = False


@dataclass(frozen=True)
class Answer:
    """What a system answered: measures best first, clarify candidates, and units it named."""

    measures: list[int]
    top_units: list[str]
    named_units: list[str] = field(default_factory=list)
    candidates: list[int] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        """Nothing offered: no measure, no candidate, no unit."""
        return not self.measures and not self.candidates and not self.named_units


@dataclass
class EvalReport:
    """Hit rates over in-scope questions, routing over remit ones, rejection over out-of-scope."""

    top1: float
    top3: float
    unit_accuracy: float | None
    oos_rejection: float | None
    in_scope: int
    out_of_scope: int
    misses: list[dict[str, object]]
    refusal: float = 0.0
    remit_routing: float | None = None
    remit: int = 0

    def lines(self) -> list[str]:
        """A printable summary."""

        def fmt(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.3f}"

        return [
            f"questions: {self.in_scope} in scope, {self.remit} remit, {self.out_of_scope} out of scope",
            f"top-1: {fmt(self.top1)}  top-3: {fmt(self.top3)}  refusals: {fmt(self.refusal)}  "
            f"unit accuracy: {fmt(self.unit_accuracy)}  remit routing: {fmt(self.remit_routing)}  "
            f"out-of-scope rejection: {fmt(self.oos_rejection)}",
        ]


def load_items(path: Path) -> list[EvalItem]:
    """Read a JSONL evaluation file."""
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        if "_meta" in raw:
            continue
        items.append(
            EvalItem(
                raw["q"],
                tuple(raw.get("measures", ())),
                tuple(raw.get("units", ())),
                bool(raw.get("oos", False)),
                bool(raw.get("remit", False)),
            )
        )
    return items


def is_frozen(path: Path) -> bool:
    """True for a held-out set whose `_meta` line says it is frozen (its misses are not to be read)."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            meta = json.loads(line).get("_meta")
            return isinstance(meta, str) and "frozen" in meta
    return False


def evaluate(items: list[EvalItem], answer: Callable[[str], Answer]) -> EvalReport:
    """Run every question through `answer` and compute the metrics."""
    hits1 = hits3 = unit_hits = unit_total = rejected = refused = routed = 0
    misses: list[dict[str, object]] = []
    in_scope = [i for i in items if not i.oos and not i.remit]
    remit = [i for i in items if i.remit]
    for item in items:
        result = answer(item.q)
        if item.oos:
            rejected += not result.measures and not result.candidates
            if result.measures or result.candidates:
                misses.append(
                    {
                        "q": item.q,
                        "expected": "no measures",
                        "got": (result.measures or result.candidates)[:3],
                    }
                )
            continue
        if item.remit:
            good = bool(result.named_units) and result.named_units[0] in item.units and not result.measures
            routed += good
            if not good:
                misses.append(
                    {
                        "q": item.q,
                        "expected": list(item.units),
                        "got": result.named_units[:1] or result.measures[:3],
                    }
                )
            continue
        top1 = bool(result.measures) and result.measures[0] in item.measures
        top3 = any(n in item.measures for n in (result.measures or result.candidates)[:3])
        hits1 += top1
        hits3 += top3
        refused += result.refused
        if item.units:
            unit_total += 1
            named = set(result.top_units) | set(result.named_units[:1])
            unit_hits += any(u in named for u in item.units)
        if not top1:
            misses.append({"q": item.q, "expected": list(item.measures), "got": _got(result)})
    oos_total = sum(i.oos for i in items)
    return EvalReport(
        top1=hits1 / max(1, len(in_scope)),
        top3=hits3 / max(1, len(in_scope)),
        unit_accuracy=unit_hits / unit_total if unit_total else None,
        oos_rejection=rejected / oos_total if oos_total else None,
        in_scope=len(in_scope),
        out_of_scope=oos_total,
        misses=misses,
        refusal=refused / max(1, len(in_scope)),
        remit_routing=routed / len(remit) if remit else None,
        remit=len(remit),
    )


def _got(result: Answer) -> object:
    if result.measures:
        return result.measures[:3]
    if result.candidates:
        return {"clarify": result.candidates[:3]}
    return result.named_units[:1] or "refused"


def matcher_answer(search: PolicySearch) -> Callable[[str], Answer]:
    """Answer questions with the search service alone, deciding as the bot does (no NLU)."""

    def answer(question: str) -> Answer:
        result = search.search(question, limit=5)
        measures = result.measures
        named = [result.route.unit] if result.route else [result.unit] if result.unit else []
        if result.outcome in ("clarify", "remit"):
            return Answer([], [], named, [m.number for m in measures])
        if result.outcome != "answer" and result.kind == "search":
            return Answer([], [], named)
        return Answer([m.number for m in measures], measures[0].units if measures else [], named)

    return answer


def bm25_answer(search: PolicySearch) -> Callable[[str], Answer]:
    """Plain BM25 (rank-bm25 over jieba tokens of each measure's text): the baseline to beat."""
    import jieba
    from rank_bm25 import BM25Okapi  # a development dependency, used only for this baseline

    measures = [m.view for m in search.index().measures]
    bm25 = BM25Okapi([jieba.lcut(m.text) for m in measures])

    def answer(question: str) -> Answer:
        scores = bm25.get_scores(jieba.lcut(question))
        order = [i for i in sorted(range(len(scores)), key=lambda i: -scores[i])[:5] if scores[i] > 0]
        return Answer([measures[i].number for i in order], measures[order[0]].units if order else [])

    return answer


def answer_from_messages(messages: list[dict[str, object]]) -> Answer:
    """Read measures, clarify candidates and units from the bot's reply payloads (DESIGN.md)."""
    measures: list[int] = []
    candidates: list[int] = []
    top_units: list[str] = []
    named: list[str] = []
    for message in messages:
        custom = message.get("custom")
        if not isinstance(custom, dict):
            continue
        kind = custom.get("type")
        if kind == "measures" and not measures:
            measures = [int(m["number"]) for m in custom.get("measures", [])]
            top_units = list(custom["measures"][0]["units"]) if custom.get("measures") else []
        elif kind == "clarify" and not candidates:
            candidates = [int(m["number"]) for m in custom.get("measures", [])]
        elif kind == "units":
            named.extend(u["name"] for u in custom.get("units", []))
    return Answer(measures, top_units, named, candidates)
