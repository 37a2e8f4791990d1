"""The calibrated hybrid score: lexical and dense evidence turned into one probability per measure.

A logistic model over six features of a (question, measure) pair gives the probability that
the measure answers the question. The same number ranks measures, decides answer / clarify /
decline, and is the `score` every path (bot, staff search, API) shows. Its weights and the
decision thresholds are fitted by `policybot calibrate` and stored per embedding model in
`policy_db/data/calibration.json`; they are data, not guesses.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

FEATURES = ("lexical", "lexical_order", "dense_passage", "dense_example", "dense_gap", "lexical_gap")
# What decides between the best measure and the best unit's remit, for one question.
REMIT_FEATURES = (
    "measure_probability",
    "unit_probability",
    "probability_lead",
    "unit_dense",
    "measure_dense",
    "dense_lead",
    "literal_remit",
    "remit_likeness",
)
# What ranks the units against each other, for one question: the unit's whole remit scored as a
# measure (log-odds), and the cosine of its single nearest remit entry.
UNIT_FEATURES = ("unit_log_odds", "nearest_entry")
CALIBRATION_PATH = Path(__file__).resolve().parent / "data" / "calibration.json"


def pair_features(
    lexical: np.ndarray,
    order_key: np.ndarray,
    passage: np.ndarray,
    examples: np.ndarray,
    *,
    best_dense: float | None = None,
    best_order: float | None = None,
) -> np.ndarray:
    """The feature rows (one per measure) of a question, in FEATURES order.

    The gaps are taken to the best of these rows, or to `best_dense` / `best_order` when the rows
    compete with others scored apart (units' remits against the measures).
    """
    dense = np.maximum(passage, examples)
    if len(dense):
        dense_top = float(dense.max()) if best_dense is None else max(best_dense, float(dense.max()))
        order_top = float(order_key.max()) if best_order is None else max(best_order, float(order_key.max()))
        dense_gap, lexical_gap = dense - dense_top, order_key - order_top
    else:
        dense_gap, lexical_gap = dense, order_key
    return np.stack([lexical, order_key, passage, examples, dense_gap, lexical_gap], axis=1)


@dataclass(frozen=True)
class Thresholds:
    """Where the probability of the best measure draws the lines between the outcomes."""

    answer: float  # at least this: answer with the measures
    clarify: float  # at least this (and below answer): ask which of the candidates is meant
    override: float  # an NLU out-of-scope label is overruled only from this probability on
    remit: float  # a unit's remit is named only when the question is this close to it (cosine)
    # The remit choice (below) names the best unit, with the measures as candidates, from this
    # probability on (off until fitted).
    remit_choice: float = 1.01


THRESHOLD_NAMES = frozenset(f.name for f in fields(Thresholds))


def remit_features(
    measure_probability: float,
    unit_probability: float,
    unit_dense: float,
    measure_dense: float,
    literal_remit: bool,
    remit_likeness: float,
) -> np.ndarray:
    """The REMIT_FEATURES row of a question: its best measure against its best unit's remit, and
    how much the question reads like a matter of a unit's remit (log-odds of `RemitLikeness`)."""
    return np.array(
        [
            measure_probability,
            unit_probability,
            unit_probability - measure_probability,
            unit_dense,
            measure_dense,
            unit_dense - measure_dense,
            float(literal_remit),
            remit_likeness,
        ]
    )


def unit_features(probability: np.ndarray, nearest: np.ndarray) -> np.ndarray:
    """The UNIT_FEATURES rows (one per unit) of a question."""
    clipped = np.clip(probability, 1e-6, 1 - 1e-6)
    return np.stack([np.log(clipped / (1 - clipped)), nearest], axis=1)


def _linear(
    features: np.ndarray, mean: tuple[float, ...], scale: tuple[float, ...], weights: tuple[float, ...]
) -> np.ndarray:
    """Standardised features (rows, or one row) times the weights."""
    return ((features - np.asarray(mean)) / np.asarray(scale)) @ np.asarray(weights)


def _logistic(
    features: np.ndarray,
    mean: tuple[float, ...],
    scale: tuple[float, ...],
    weights: tuple[float, ...],
    bias: float,
) -> np.ndarray:
    """A standardised logistic model applied to feature rows (or one row)."""
    return 1.0 / (1.0 + np.exp(-(_linear(features, mean, scale, weights) + bias)))


@dataclass(frozen=True)
class RemitChoice:
    """A logistic model over REMIT_FEATURES: P(the question belongs to the unit, not to a measure)."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float

    def probability(self, features: np.ndarray) -> float:
        """P(the best unit's remit, rather than the best measure, answers the question)."""
        return float(_logistic(features, self.mean, self.scale, self.weights, self.bias))


@dataclass(frozen=True)
class RemitLikeness:
    """A logistic model over a question's embedding: is it the kind of matter a unit's remit
    answers (a permit, a complaint, a registration the plan never names), rather than one of the
    plan's measures or nothing the district handles?"""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float

    def log_odds(self, query: np.ndarray) -> float:
        """The model's log-odds for a question's (unit-length) query vector."""
        return float(_linear(query, self.mean, self.scale, self.weights) + self.bias)


@dataclass(frozen=True)
class UnitChoice:
    """A conditional logit over UNIT_FEATURES: which unit's remit a question belongs to."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]

    def best(self, features: np.ndarray) -> int:
        """The position of the unit the model prefers, among the rows of `features`."""
        return int(np.argmax(_linear(features, self.mean, self.scale, self.weights)))


@dataclass(frozen=True)
class Calibration:
    """A fitted logistic model over FEATURES and the decision thresholds, for one embedding model."""

    model: str
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    thresholds: Thresholds
    fitted_on: str = ""
    remit_choice: RemitChoice | None = None
    unit_choice: UnitChoice | None = None
    remit_likeness: RemitLikeness | None = None

    def probability(self, features: np.ndarray) -> np.ndarray:
        """P(measure answers the question) for each feature row."""
        return _logistic(features, self.mean, self.scale, self.weights, self.bias)


Fitted = tuple[np.ndarray, np.ndarray, np.ndarray, float]


def fit_logistic(
    features: np.ndarray, labels: np.ndarray, *, l2: float = 1e-3, iterations: int = 4000, rate: float = 0.5
) -> Fitted:
    """Standardise and fit an L2-regularised logistic regression by gradient descent."""
    mean, scale = features.mean(axis=0), features.std(axis=0) + 1e-9
    z = (features - mean) / scale
    weights, bias = np.zeros(z.shape[1]), 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(z @ weights + bias)))
        gradient = p - labels
        weights -= rate * (z.T @ gradient / len(labels) + l2 * weights)
        bias -= rate * float(gradient.mean())
    return mean, scale, weights, bias


def fit_conditional_logit(
    groups: list[np.ndarray],
    gold: list[np.ndarray],
    *,
    l2: float = 1e-2,
    iterations: int = 3000,
    rate: float = 0.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit a softmax over the rows of each group (one row per option) towards its gold rows.

    Returns (mean, scale, weights); the score of a row is its standardised features times the
    weights, and the best-scoring row of a group is the choice.
    """
    stacked = np.vstack(groups)
    mean, scale = stacked.mean(axis=0), stacked.std(axis=0) + 1e-9
    z = [(g - mean) / scale for g in groups]
    target = [y / y.sum() for y in gold]
    weights = np.zeros(stacked.shape[1])
    for _ in range(iterations):
        gradient = l2 * weights
        for rows, wanted in zip(z, target, strict=True):
            scores = rows @ weights
            p = np.exp(scores - scores.max())
            gradient += rows.T @ (p / p.sum() - wanted) / len(z)
        weights -= rate * gradient
    return mean, scale, weights


def load_calibration(model: str, path: Path = CALIBRATION_PATH) -> Calibration | None:
    """The stored calibration of an embedding model, or None when it was never fitted."""
    if not path.exists():
        return None
    entry = json.loads(path.read_text(encoding="utf-8")).get(model)
    if entry is None:
        return None
    likeness = _stored_remit_likeness(entry.get("remit_likeness"))
    return Calibration(
        model=model,
        mean=tuple(entry["mean"]),
        scale=tuple(entry["scale"]),
        weights=tuple(entry["weights"]),
        bias=float(entry["bias"]),
        # Thresholds of rules that no longer exist are ignored; a new rule stays off until refitted.
        thresholds=Thresholds(**{k: v for k, v in entry["thresholds"].items() if k in THRESHOLD_NAMES}),
        fitted_on=entry.get("fitted_on", ""),
        # The remit choice weighs the likeness: without it, the choice cannot be made.
        remit_choice=_stored_remit_choice(entry.get("remit_choice")) if likeness else None,
        unit_choice=_stored_unit_choice(entry.get("unit_choice")),
        remit_likeness=likeness,
    )


def _stored_remit_choice(entry: dict[str, Any] | None) -> RemitChoice | None:
    """The stored remit choice model, or None when absent or fitted on other features."""
    if not entry or entry.get("features") != list(REMIT_FEATURES):
        return None
    return RemitChoice(
        tuple(entry["mean"]),
        tuple(entry["scale"]),
        tuple(entry["weights"]),
        float(entry["bias"]),
    )


def _stored_remit_likeness(entry: dict[str, Any] | None) -> RemitLikeness | None:
    """The stored remit likeness model, or None when absent."""
    if not entry:
        return None
    return RemitLikeness(
        tuple(entry["mean"]), tuple(entry["scale"]), tuple(entry["weights"]), float(entry["bias"])
    )


def _stored_unit_choice(entry: dict[str, Any] | None) -> UnitChoice | None:
    """The stored unit ranker, or None when absent or fitted on other features."""
    if not entry or entry.get("features") != list(UNIT_FEATURES):
        return None
    return UnitChoice(tuple(entry["mean"]), tuple(entry["scale"]), tuple(entry["weights"]))


def save_calibration(calibration: Calibration, path: Path = CALIBRATION_PATH) -> None:
    """Store (or replace) one model's calibration in the JSON file."""
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    entry = asdict(calibration)
    entry.pop("model")
    entry["features"] = list(FEATURES)
    if entry.get("remit_choice"):
        entry["remit_choice"]["features"] = list(REMIT_FEATURES)
    if entry.get("unit_choice"):
        entry["unit_choice"]["features"] = list(UNIT_FEATURES)
    data[calibration.model] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
