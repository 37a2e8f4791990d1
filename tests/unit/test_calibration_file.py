"""The calibration file: what `policybot calibrate` writes is what the search loads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from policy_db.calibration import (
    FEATURES,
    REMIT_FEATURES,
    UNIT_FEATURES,
    Calibration,
    RemitChoice,
    RemitLikeness,
    Thresholds,
    UnitChoice,
    fit_conditional_logit,
    load_calibration,
    remit_features,
    save_calibration,
    unit_features,
)

MODEL = "test-model"


def _calibration() -> Calibration:
    n, k = len(FEATURES), len(REMIT_FEATURES)
    return Calibration(
        MODEL,
        tuple([0.0] * n),
        tuple([1.0] * n),
        tuple([0.5] * n),
        -1.0,
        Thresholds(0.2, 0.1, 0.4, 0.9, remit_choice=0.3),
        "test",
        RemitChoice(tuple([0.0] * k), tuple([1.0] * k), tuple([0.0, 0.0, 2.0] + [0.0] * (k - 3)), 0.0),
        UnitChoice((0.0, 0.9), (1.0, 0.05), (1.0, 1.0)),
        RemitLikeness((0.0, 0.0, 0.0), (1.0, 1.0, 1.0), (2.0, -2.0, 0.0), -0.5),
    )


def test_a_saved_calibration_with_its_remit_choice_loads_back_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    save_calibration(_calibration(), path)
    assert load_calibration(MODEL, path) == _calibration()
    assert load_calibration("another-model", path) is None


def test_a_remit_choice_or_unit_ranker_fitted_on_other_features_is_not_used(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    save_calibration(_calibration(), path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data[MODEL]["remit_choice"]["features"] = ["measure_probability", "unit_probability"]
    data[MODEL]["thresholds"]["remit_lead"] = 0.18  # a threshold of a rule that no longer exists
    data[MODEL]["unit_choice"]["features"] = ["unit_probability"]
    path.write_text(json.dumps(data), encoding="utf-8")
    loaded = load_calibration(MODEL, path)
    assert loaded is not None and loaded.remit_choice is None and loaded.unit_choice is None
    assert loaded.thresholds.remit_choice == 0.3


def test_a_remit_choice_stored_without_its_likeness_model_is_not_used(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    save_calibration(_calibration(), path)
    data = json.loads(path.read_text(encoding="utf-8"))
    del data[MODEL]["remit_likeness"]
    path.write_text(json.dumps(data), encoding="utf-8")
    loaded = load_calibration(MODEL, path)
    assert loaded is not None and loaded.remit_choice is None and loaded.remit_likeness is None


def test_the_remit_likeness_reads_the_question_vector() -> None:
    likeness = _calibration().remit_likeness
    assert likeness is not None
    assert likeness.log_odds(np.array([1.0, 0.0, 0.0])) > 0 > likeness.log_odds(np.array([0.0, 1.0, 0.0]))


def test_the_remit_choice_prefers_the_unit_as_its_lead_over_the_measure_grows() -> None:
    choice = _calibration().remit_choice
    assert choice is not None
    behind = remit_features(0.8, 0.3, 0.9, 0.9, False, 0.0)
    ahead = remit_features(0.2, 0.7, 0.9, 0.9, True, 1.5)
    assert choice.probability(behind) < 0.5 < choice.probability(ahead)
    assert np.isclose(ahead[2], 0.5) and ahead[-2] == 1.0 and ahead[-1] == 1.5


def test_the_unit_ranker_weighs_a_units_nearest_entry_beside_its_whole_remit() -> None:
    ranker = _calibration().unit_choice
    assert ranker is not None and len(ranker.weights) == len(UNIT_FEATURES)
    # Two units whose whole remits score alike: the one with an entry close to the question wins.
    rows = unit_features(np.array([0.30, 0.31, 0.01]), np.array([0.95, 0.88, 0.97]))
    assert ranker.best(rows) == 0
    # A unit far ahead on its whole remit still wins over a single near entry elsewhere.
    rows = unit_features(np.array([0.90, 0.05]), np.array([0.90, 0.92]))
    assert ranker.best(rows) == 0


def test_the_unit_ranker_learns_which_feature_points_at_the_gold_unit() -> None:
    rng = np.random.default_rng(7)
    groups, gold = [], []
    for _ in range(60):
        rows = rng.normal(size=(5, 2))
        right = np.zeros(5)
        right[int(rows[:, 1].argmax())] = 1.0  # only the second feature tells the gold unit
        groups.append(rows)
        gold.append(right)
    _, _, weights = fit_conditional_logit(groups, gold)
    assert weights[1] > 1.0 and abs(weights[0]) < weights[1] / 3
