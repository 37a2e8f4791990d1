"""Fitting the hybrid score and its thresholds on tuning data (never on the frozen blind sets).

Tuning data:
- every measure's curated example questions, held out in two folds: the index is rebuilt
  without half of them and those are asked (so the matcher never saw them as examples);
- in-scope questions: the Rasa NLU topic examples (but those about another place and not tied
  to Putuo: the assistant declines them before any retrieval), and questions in users' own style
  that a measure answers (`eval/inscope_tuning*.jsonl`); out-of-scope ones: the NLU out_of_scope
  examples;
- questions no measure answers but a unit's remit does (`eval/remit_tuning*.jsonl`), among them
  the NLU topic examples labelled so (`eval/remit_tuning_nlu.jsonl`): a question with its unit in
  a remit file is a remit question, never a cost of routing to a unit. The measure score learns
  from them too: every measure is a wrong answer to them, so a question that only looks like a
  measure (a permit, a registration the plan never names) no longer scores as one;
- out-of-scope questions a listed bureau still handles (`eval/oos_bureaus*.jsonl`: a person's own
  tax, a consumer complaint): naming one of their bureaus is no cost either.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import yaml

from policy_db.calibration import (
    REMIT_FEATURES,
    Calibration,
    RemitChoice,
    RemitLikeness,
    Thresholds,
    UnitChoice,
    fit_conditional_logit,
    fit_logistic,
    pair_features,
)
from policy_db.dense import DenseIndex, measure_passage
from policy_db.matcher import IndexedMeasure, MatchIndex
from policy_db.places import tied_to_putuo
from policy_db.search import PolicySearch

ANNOTATION = re.compile(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})")
OTHER_PLACE = re.compile(r"\]\(other_region\)|\"entity\": ?\"other_region\"")
WRONG_MORE_OFTEN = 0.5  # top-1 precision of the questions below the answer bar
IN_SCOPE_KEPT = 0.95  # of in-scope questions, kept above the clarify bar
OVERRIDE_REJECTION = 0.97  # of out-of-scope questions, when the NLU already says out of scope
REMIT_BUDGET = 0.05  # at most this share of in-scope questions routed to a unit (measures as candidates)
REMIT_OOS_BUDGET = 0.05  # at most this share of out-of-scope questions newly routed by a leading remit
GRID_FINE = np.round(np.arange(0.005, 1.0, 0.005), 3)  # the remit choice's threshold
GRID = np.round(np.arange(0.02, 0.96, 0.01), 2)
LIKENESS = REMIT_FEATURES.index("remit_likeness")
LIKENESS_FOLDS = 5  # each tuning question's remit likeness comes from a model fitted without it


@dataclasses.dataclass(frozen=True)
class TuningQuestions:
    """The questions the decision thresholds are fitted on (no frozen held-out set among them)."""

    in_scope: list[str]
    out_of_scope: list[str]
    remit: list[tuple[str, list[str]]]  # (question, the units whose remit answers it)
    bureaus: dict[str, list[str]]  # out-of-scope question -> the bureaus acceptable for it
    # The in-scope questions written in users' own style (not the NLU's training phrases).
    in_scope_asked: list[str] = dataclasses.field(default_factory=list)


def tuning_questions(nlu_dir: Path, eval_dir: Path) -> TuningQuestions:
    """The NLU examples and the tuning sets of `eval_dir` (see the module docstring)."""
    in_scope, out_of_scope = nlu_questions(nlu_dir)
    asked = [q for q, _ in labelled_questions(sorted(eval_dir.glob("inscope_tuning*.jsonl")))]
    return TuningQuestions(
        in_scope + asked,
        out_of_scope,
        labelled_questions(sorted(eval_dir.glob("remit_tuning*.jsonl"))),
        dict(labelled_questions(sorted(eval_dir.glob("oos_bureaus*.jsonl")))),
        asked,
    )


def nlu_questions(nlu_dir: Path) -> tuple[list[str], list[str]]:
    """In-scope (topic intents) and out-of-scope questions of the Rasa NLU data, annotations removed."""
    in_scope: list[str] = []
    out_of_scope: list[str] = []
    for path in sorted(nlu_dir.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            intent = str(block.get("intent") or "")
            lines = str(block.get("examples") or "").splitlines()
            examples = [line[2:] for line in lines if line.startswith("- ")]
            texts = [ANNOTATION.sub(r"\1", e).strip() for e in examples]
            if intent == "out_of_scope":
                out_of_scope += texts
            elif intent.startswith("topic_"):
                in_scope += [t for e, t in zip(examples, texts, strict=True) if not _declined_elsewhere(e, t)]
    return in_scope, out_of_scope


def _declined_elsewhere(example: str, text: str) -> bool:
    """True for an NLU example about another place that is not tied to Putuo (declined as such)."""
    return bool(OTHER_PLACE.search(example)) and not tied_to_putuo(text)


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


def no_answer_features(search: PolicySearch, questions: list[str]) -> list[np.ndarray]:
    """Feature rows of questions no measure answers (every pair a negative), asked of the full index."""
    base = search.index()
    lexical, dense = _fold_index(search, base, base.measures)
    return [_features(search, lexical, dense, q) for q in questions]


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


def fit(search: PolicySearch, tuning: TuningQuestions) -> tuple[Calibration, list[str]]:
    """Fit the logistic fusion and choose the thresholds; returns it with a report of the fit."""
    rows, labels = held_out_features(search)
    silent = no_answer_features(search, [q for q, _ in tuning.remit])
    mean, scale, weights, bias = fit_logistic(
        np.vstack([*rows, *silent]), np.concatenate([*labels, *(np.zeros(len(r)) for r in silent)])
    )
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
    in_scope, out_of_scope = tuning.in_scope, tuning.out_of_scope
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
    remit = _remit_threshold(search, [q for q, _ in tuning.remit], out_of_scope)
    interim = dataclasses.replace(model, thresholds=Thresholds(answer, clarify, override, remit))
    search.use_calibration(interim)
    units, unit_hits = _unit_choice(search, tuning.remit)
    likeness, held_out_likeness, likeness_auc = _remit_likeness(search, tuning)
    interim = dataclasses.replace(interim, unit_choice=units, remit_likeness=likeness)
    search.use_calibration(interim)
    choice, choice_threshold, led = _remit_choice(search, tuning, held_out_likeness)
    thresholds = Thresholds(
        answer=answer,
        clarify=clarify,
        override=override,
        remit=remit,
        remit_choice=choice_threshold,
    )
    calibration = dataclasses.replace(
        model,
        thresholds=thresholds,
        remit_choice=choice,
        unit_choice=units,
        remit_likeness=likeness,
        fitted_on=f"{len(rows)} held-out example questions, "
        f"{len(in_scope)}/{len(out_of_scope)} in/out of scope, {len(tuning.remit)} remit questions",
    )
    report = [
        f"held-out example questions: {len(rows)}; top-1 {top_hit.mean():.3f}",
        f"answer >= {answer:.2f}: answers {(top_p >= answer).mean():.3f} of them, "
        f"precision {top_hit[top_p >= answer].mean():.3f}",
        f"clarify >= {clarify:.2f}: in-scope kept {(hybrid_in >= clarify).mean():.3f}, "
        f"out-of-scope declined {(hybrid_out < clarify).mean():.3f}",
        f"override >= {override:.2f}: out-of-scope declined {(hybrid_out < override).mean():.3f}",
        f"remit cosine >= {remit:.3f}",
        f"unit ranker: remit questions with their unit first {unit_hits[0]:.3f} by remit score, "
        f"{unit_hits[1]:.3f} with the nearest entry",
        f"remit likeness: a remit question ranks above an in-scope one {likeness_auc:.3f} of the time "
        "(held out)",
        f"remit choice >= {choice_threshold:.3f}: remit questions "
        f"routed right by it {led[0]:.3f}, in-scope newly routed {led[1]:.3f}, "
        f"out of scope newly routed {led[2]:.3f}",
    ]
    return calibration, report


def _top_score(search: PolicySearch, question: str) -> float:
    best = search.candidates(question, limit=1)
    return best[0].score if best else 0.0


def labelled_questions(files: Sequence[Path]) -> list[tuple[str, list[str]]]:
    """The questions of JSONL tuning files with their units (`_meta` lines skipped)."""
    items = []
    for path in files:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith('{"_meta"'):
                raw = json.loads(line)
                items.append((str(raw["q"]), [str(u) for u in raw.get("units", [])]))
    return items


def _unit_choice(
    search: PolicySearch, remit: list[tuple[str, list[str]]]
) -> tuple[UnitChoice | None, tuple[float, float]]:
    """Fit which unit a remit question belongs to: a softmax over the units' UNIT_FEATURES rows.

    Returns the model and the share of the remit questions whose unit comes first, by the remit
    score alone and by the model.
    """
    groups, gold = [], []
    for question, wanted in remit:
        units, rows = search.remit_unit_rows(question)
        right = np.array([u in wanted for u in units], dtype=float)
        if right.any():
            groups.append(rows)
            gold.append(right)
    if not groups:
        return None, (0.0, 0.0)
    mean, scale, weights = fit_conditional_logit(groups, gold)
    model = UnitChoice(_floats(mean), _floats(scale), _floats(weights))
    by_score = np.mean([right[int(rows[:, 0].argmax())] for rows, right in zip(groups, gold, strict=True)])
    by_model = np.mean([right[model.best(rows)] for rows, right in zip(groups, gold, strict=True)])
    return model, (float(by_score), float(by_model))


def _remit_likeness(
    search: PolicySearch, tuning: TuningQuestions
) -> tuple[RemitLikeness | None, dict[str, float], float]:
    """Fit how much a question reads like a matter of a unit's remit, from its embedding alone.

    A logistic model over the query vector: the remit questions against the in-scope questions in
    users' own style, the measures' example questions and the out-of-scope questions (but those a
    listed bureau handles). The NLU's in-scope training phrases are left out: short and keyword-like
    where the remit questions are not, they would teach the model a style, not a kind of matter.
    Returns the model fitted on all of them; each tuning question's log-odds from a model fitted
    without its fold (the remit choice is fitted on those, as on unseen questions); and how often
    a remit question's held-out log-odds is above an in-scope question's.
    """
    assert search.vectors is not None
    in_scope = without_remit_questions(tuning.in_scope_asked, tuning.remit)
    out_of_scope = [
        q for q in without_remit_questions(tuning.out_of_scope, tuning.remit) if q not in tuning.bureaus
    ]
    remit = [q for q, _ in tuning.remit]
    if not remit or not in_scope:
        return None, {}, 0.0
    asked = [*in_scope, *out_of_scope, *remit]
    examples = [e for m in search.index().measures for e in m.examples]
    vectors = np.array([search.vectors.query(q) for q in [*asked, *examples]])
    labels = np.r_[np.zeros(len(asked) - len(remit)), np.ones(len(remit)), np.zeros(len(examples))]
    fold_of = np.random.default_rng(0).permutation(len(asked)) % LIKENESS_FOLDS
    held_out = np.zeros(len(asked))
    for fold in range(LIKENESS_FOLDS):
        inside = fold_of == fold
        # The fold's questions are left out; the example questions train every fold's model.
        train = np.r_[~inside, np.ones(len(examples), dtype=bool)]
        model = _likeness_model(vectors[train], labels[train])
        held_out[inside] = [model.log_odds(v) for v in vectors[: len(asked)][inside]]
    remit_odds, in_scope_odds = held_out[-len(remit) :], held_out[: len(in_scope)]
    auc = float((remit_odds[:, None] > in_scope_odds[None, :]).mean())
    return _likeness_model(vectors, labels), dict(zip(asked, held_out, strict=True)), auc


def _likeness_model(vectors: np.ndarray, labels: np.ndarray) -> RemitLikeness:
    mean, scale, weights, bias = fit_logistic(vectors, labels, l2=1e-2, iterations=2000)
    return RemitLikeness(_floats(mean), _floats(scale), _floats(weights), float(bias))


def _remit_choice(
    search: PolicySearch, tuning: TuningQuestions, held_out_likeness: dict[str, float]
) -> tuple[RemitChoice | None, float, tuple[float, float, float]]:
    """Fit when a unit's remit, rather than the best measure, answers a question.

    A logistic model over REMIT_FEATURES separates the remit questions from the in-scope and
    out-of-scope ones. Its threshold is the lowest that newly routes at most REMIT_BUDGET of the
    in-scope and REMIT_OOS_BUDGET of the out-of-scope questions (those the decline → nearest-remit
    rule routes already do not count, nor an out-of-scope question whose best unit is a bureau
    acceptable for it). The remit likeness of each question is its held-out one, so the model
    weighs it as it will on questions never seen. Returns (model, threshold, (remit share routed
    right, in-scope share newly routed, out-of-scope share newly routed)).
    """
    off: tuple[RemitChoice | None, float, tuple[float, float, float]] = (None, 1.01, (0.0, 0.0, 0.0))
    in_scope = without_remit_questions(tuning.in_scope, tuning.remit)
    out_of_scope = without_remit_questions(tuning.out_of_scope, tuning.remit)
    if not tuning.remit or not in_scope:
        return off

    def rows(questions: list[str]) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str]]]:
        """Feature rows, whether already routed, and (question, best unit) of each question scored."""
        features, already, units = [], [], []
        for q in questions:
            choice = search.remit_choice_features(q)
            if choice is None:
                continue
            units.append((q, choice[0]))
            row = choice[1].copy()
            row[LIKENESS] = held_out_likeness.get(q, row[LIKENESS])
            features.append(row)
            already.append(search.search(q, limit=1).outcome == "remit")
        return np.array(features).reshape(-1, len(REMIT_FEATURES)), np.array(already, dtype=bool), units

    inside, inside_routed, _ = rows(in_scope)
    outside, outside_routed, outside_units = rows(out_of_scope)
    bureau = np.array([u in tuning.bureaus.get(q, ()) for q, u in outside_units], dtype=bool)
    outside, outside_routed = outside[~bureau], outside_routed[~bureau]
    remit, _, remit_units = rows([q for q, _ in tuning.remit])
    gold = dict(tuning.remit)
    right = np.array([unit in gold[q] for q, unit in remit_units])
    labels = np.r_[np.zeros(len(inside) + len(outside)), np.ones(len(remit))]
    mean, scale, weights, bias = fit_logistic(np.vstack([inside, outside, remit]), labels)
    model = RemitChoice(_floats(mean), _floats(scale), _floats(weights), float(bias))
    p_in = np.array([model.probability(r) for r in inside])
    p_out = np.array([model.probability(r) for r in outside])
    p_remit = np.array([model.probability(r) for r in remit])
    best = off
    for threshold in GRID_FINE:
        cost_in = float(((p_in >= threshold) & ~inside_routed).mean())
        cost_out = float(((p_out >= threshold) & ~outside_routed).mean()) if len(outside) else 0.0
        if cost_in <= REMIT_BUDGET and cost_out <= REMIT_OOS_BUDGET:
            gain = float(((p_remit >= threshold) & right).mean())
            best = (model, float(threshold), (gain, cost_in, cost_out))
            break
    return best


def without_remit_questions(questions: list[str], remit_items: list[tuple[str, list[str]]]) -> list[str]:
    """The questions that are not labelled with a unit in a remit file (those are remit questions)."""
    labelled = {q for q, _ in remit_items}
    return [q for q in questions if q not in labelled]


def _floats(values: np.ndarray) -> tuple[float, ...]:
    """A fitted vector as plain floats, for the JSON file."""
    return tuple(float(v) for v in values)


def _remit_threshold(search: PolicySearch, remit_questions: list[str], out_of_scope: list[str]) -> float:
    """The remit closeness that best separates remit questions from out-of-scope ones."""
    if not remit_questions:
        return 1.01
    near_in = np.array([search.remit_closeness(q) for q in remit_questions])
    near_out = np.array([search.remit_closeness(q) for q in out_of_scope])
    grid = np.round(np.arange(0.80, 0.96, 0.005), 3)
    balanced = [((near_in >= t).mean() + (near_out < t).mean()) / 2 for t in grid]
    return float(grid[int(np.argmax(balanced))])
