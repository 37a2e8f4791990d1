"""Fitting the hybrid score and its thresholds on tuning data (never on the frozen blind sets).

Tuning data:
- every measure's curated example questions, held out in two folds: the index is rebuilt
  without half of them and those are asked (so the matcher never saw them as examples);
- the Rasa NLU training questions: topic intents are in scope, out_of_scope ones are not;
- a small set of questions no measure answers but a unit's remit does (`eval/remit_tuning.jsonl`).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import yaml

from policy_db.calibration import Calibration, Thresholds, fit_logistic, pair_features
from policy_db.dense import DenseIndex, measure_passage
from policy_db.matcher import IndexedMeasure, MatchIndex
from policy_db.search import PolicySearch

ANNOTATION = re.compile(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})")
WRONG_MORE_OFTEN = 0.5  # top-1 precision of the questions below the answer bar
IN_SCOPE_KEPT = 0.95  # of in-scope questions, kept above the clarify bar
OVERRIDE_REJECTION = 0.97  # of out-of-scope questions, when the NLU already says out of scope
REMIT_BUDGET = 0.05  # at most this share of in-scope questions routed to a unit (measures as candidates)
MARGINS = np.round(np.arange(-0.01, 0.06, 0.002), 3)
GRID = np.round(np.arange(0.02, 0.96, 0.01), 2)


def nlu_questions(nlu_dir: Path) -> tuple[list[str], list[str]]:
    """In-scope (topic intents) and out-of-scope questions of the Rasa NLU data, annotations removed."""
    in_scope: list[str] = []
    out_of_scope: list[str] = []
    for path in sorted(nlu_dir.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            intent = str(block.get("intent") or "")
            lines = str(block.get("examples") or "").splitlines()
            texts = [ANNOTATION.sub(r"\1", line[2:]).strip() for line in lines if line.startswith("- ")]
            if intent == "out_of_scope":
                out_of_scope += texts
            elif intent.startswith("topic_"):
                in_scope += texts
    return in_scope, out_of_scope


def held_out_features(search: PolicySearch) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Feature rows and gold labels for every example question, asked of an index without it."""
    base = search.index()
    assert search.vectors is not None, "calibration needs an embedding model"
    rows: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    # Folds 0 and 1 hold out every other example; fold 2 holds out ALL examples of every fifth
    # measure, as for a measure an admin just added (no example questions yet).
    for fold in (0, 1, 2):
        measures, asked = [], []
        for position, measure in enumerate(base.measures):
            held = [_held_out(fold, position, i) for i in range(len(measure.examples))]
            keep = [e for e, out in zip(measure.examples, held, strict=True) if not out]
            asked += [(e, position) for e, out in zip(measure.examples, held, strict=True) if out]
            searchable = {**measure.searchable, "examples": " ".join(keep)}
            measures.append(dataclasses.replace(measure, examples=keep, searchable=searchable))
        lexical, dense = _fold_index(search, base, measures)
        for question, gold in asked:
            rows.append(_features(search, lexical, dense, question))
            labels.append(np.arange(len(measures)) == gold)
    return rows, labels


def _held_out(fold: int, position: int, example: int) -> bool:
    return position % 5 == 0 if fold == 2 else example % 2 == fold


def _fold_index(
    search: PolicySearch, base: MatchIndex, measures: list[IndexedMeasure]
) -> tuple[MatchIndex, DenseIndex]:
    lexical = MatchIndex(base.tokenizer, {}, base.topic_categories, {})
    lexical.synonyms = base.synonyms
    lexical.build(measures)
    assert search.vectors is not None
    dense = DenseIndex(search.vectors)
    dense.build(
        [measure_passage(m.view.title, m.view.category, m.view.text) for m in measures],
        [m.examples for m in measures],
    )
    return lexical, dense


def _features(search: PolicySearch, lexical: MatchIndex, dense: DenseIndex, question: str) -> np.ndarray:
    scores = lexical.lexical(question)
    n = lexical.n
    score = scores.score if scores else np.zeros(n)
    order = scores.order_key if scores else np.zeros(n)
    assert search.vectors is not None
    similarity = dense.similarity(search.vectors.query(question))
    return pair_features(score, order, similarity.passage, similarity.examples)


def _lowest(grid: Iterable[float], ok: Iterable[bool], default: float) -> float:
    return next((float(t) for t, good in zip(grid, ok, strict=False) if good), default)


def fit(search: PolicySearch, *, nlu_dir: Path, remit_file: Path | None) -> tuple[Calibration, list[str]]:
    """Fit the logistic fusion and choose the thresholds; returns it with a report of the fit."""
    rows, labels = held_out_features(search)
    mean, scale, weights, bias = fit_logistic(np.vstack(rows), np.concatenate(labels).astype(float))
    model = Calibration(
        search.vectors.embedder.name if search.vectors else "none",
        tuple(mean),
        tuple(scale),
        tuple(weights),
        bias,
        Thresholds(1, 1, 1, 1),
    )
    top_p = np.array([model.probability(r).max() for r in rows])
    top_hit = np.array(
        [bool(lab[model.probability(r).argmax()]) for r, lab in zip(rows, labels, strict=True)]
    )
    # Answer outright from the probability where the top measure stops being more often wrong
    # than right: below it, asking which candidate is meant beats presenting a likely miss.
    below = [t for t in GRID if (top_p < t).any() and top_hit[top_p < t].mean() <= WRONG_MORE_OFTEN]
    answer = float(max(below)) if below else float(GRID[0])
    search.use_calibration(model)
    in_scope, out_of_scope = nlu_questions(nlu_dir)
    hybrid_in = np.array([_top_score(search, q) for q in in_scope])
    hybrid_out = np.array([_top_score(search, q) for q in out_of_scope])
    # Clarify from the highest bar that still keeps IN_SCOPE_KEPT of the in-scope questions
    # (a refusal of a question the plan answers is the failure users feel most).
    # Decline below the bar where even the top three candidates are more often wrong than right,
    # and never so high that more than 1 - IN_SCOPE_KEPT of the in-scope questions are refused.
    top3_hit = np.array(
        [bool(lab[np.argsort(-model.probability(r))[:3]].any()) for r, lab in zip(rows, labels, strict=True)]
    )
    useless = [t for t in GRID if (top_p < t).any() and top3_hit[top_p < t].mean() <= WRONG_MORE_OFTEN]
    kept = [t for t in GRID if (hybrid_in >= t).mean() >= IN_SCOPE_KEPT]
    clarify = min(
        float(max(useless)) if useless else float(GRID[0]),
        float(max(kept)) if kept else float(GRID[0]),
        answer,
    )
    override = max(answer, _lowest(GRID, [(hybrid_out < t).mean() >= OVERRIDE_REJECTION for t in GRID], 0.9))
    remit = _remit_threshold(search, remit_file, out_of_scope)
    remit_below, remit_margin, routed = _remit_mid_zone(search, _remit_questions(remit_file), in_scope)
    thresholds = Thresholds(
        answer=answer,
        clarify=clarify,
        override=override,
        remit=remit,
        remit_below=remit_below,
        remit_margin=remit_margin,
    )
    calibration = dataclasses.replace(
        model,
        thresholds=thresholds,
        fitted_on=f"{len(rows)} held-out example questions, "
        f"{len(in_scope)}/{len(out_of_scope)} NLU in/out of scope",
    )
    report = [
        f"held-out example questions: {len(rows)}; top-1 {top_hit.mean():.3f}",
        f"answer >= {answer:.2f}: answers {(top_p >= answer).mean():.3f} of them, "
        f"precision {top_hit[top_p >= answer].mean():.3f}",
        f"clarify >= {clarify:.2f}: NLU in-scope kept {(hybrid_in >= clarify).mean():.3f}, "
        f"out-of-scope declined {(hybrid_out < clarify).mean():.3f}",
        f"override >= {override:.2f}: out-of-scope declined {(hybrid_out < override).mean():.3f}",
        f"remit cosine >= {remit:.3f}",
        f"unsure (< {remit_below:.2f}) and nearer a remit by >= {remit_margin:+.3f}: remit questions "
        f"routed {routed[0]:.3f}, in-scope routed {routed[1]:.3f}",
    ]
    return calibration, report


def _top_score(search: PolicySearch, question: str) -> float:
    best = search.candidates(question, limit=1)
    return best[0].score if best else 0.0


def _remit_questions(remit_file: Path | None) -> list[str]:
    if remit_file is None or not remit_file.exists():
        return []
    return [
        json.loads(line)["q"]
        for line in remit_file.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith('{"_meta"')
    ]


def _remit_mid_zone(
    search: PolicySearch, remit_questions: list[str], in_scope: list[str]
) -> tuple[float, float, tuple[float, float]]:
    """Where an unsure question goes to a unit: the most remit questions within REMIT_BUDGET.

    Returns (probability below which, cosine margin from which, (remit share, in-scope share)).
    """
    if not remit_questions or not in_scope:
        return 0.0, 1.0, (0.0, 0.0)
    remit = np.array([search.remit_features(q) for q in remit_questions])
    inside = np.array([search.remit_features(q) for q in in_scope])
    best = (0.0, 1.0, (0.0, 0.0))
    for below in GRID:
        for margin in MARGINS:
            cost = float(((inside[:, 0] < below) & (inside[:, 1] >= margin)).mean())
            gain = float(((remit[:, 0] < below) & (remit[:, 1] >= margin)).mean())
            if cost <= REMIT_BUDGET and (gain, -cost) > (best[2][0], -best[2][1]):
                best = (float(below), float(margin), (gain, cost))
    return best


def _remit_threshold(search: PolicySearch, remit_file: Path | None, out_of_scope: list[str]) -> float:
    """The remit closeness that best separates remit questions from out-of-scope ones."""
    remit_questions = _remit_questions(remit_file)
    if not remit_questions:
        return 1.01
    near_in = np.array([search.remit_closeness(q) for q in remit_questions])
    near_out = np.array([search.remit_closeness(q) for q in out_of_scope])
    grid = np.round(np.arange(0.80, 0.96, 0.005), 3)
    balanced = [((near_in >= t).mean() + (near_out < t).mean()) / 2 for t in grid]
    return float(grid[int(np.argmax(balanced))])
