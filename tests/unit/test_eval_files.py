"""Evaluation files: the frozen held-out sets are recognised, so their misses are not listed."""

from __future__ import annotations

from pathlib import Path

import pytest

from policy_db.calibrate import labelled_questions, nlu_questions, tuning_questions, without_remit_questions
from policy_db.config import PROJECT_ROOT
from policy_db.evaluation import is_frozen, load_items

EVAL = PROJECT_ROOT / "eval"


@pytest.mark.parametrize("name", ["blind.jsonl", "holdout.jsonl", "remit_check.jsonl"])
def test_the_held_out_sets_are_frozen(name: str) -> None:
    assert is_frozen(EVAL / name) and load_items(EVAL / name)


@pytest.mark.parametrize(
    "name",
    [
        "colloquial.jsonl",
        "remit_tuning.jsonl",
        "remit_tuning_more.jsonl",
        "remit_tuning_nlu.jsonl",
        "inscope_tuning.jsonl",
        "oos_bureaus.jsonl",
        "validation_remit.jsonl",
        "validation_inscope_ask.jsonl",
    ],
)
def test_the_tuning_sets_are_not(name: str) -> None:
    assert not is_frozen(EVAL / name)


def test_calibrate_never_fits_on_the_validation_sets() -> None:
    tuning = tuning_questions(PROJECT_ROOT / "bot" / "data" / "nlu", EVAL)
    fitted = {*tuning.in_scope, *tuning.out_of_scope, *(q for q, _ in tuning.remit), *tuning.bureaus}
    for name in ("validation_remit.jsonl", "validation_inscope_ask.jsonl"):
        asked = {item.q for item in load_items(EVAL / name)}
        assert len(asked) >= 100 and not asked & fitted


def test_a_set_without_a_meta_line_is_not_frozen(tmp_path: Path) -> None:
    path = tmp_path / "questions.jsonl"
    path.write_text('\n{"q": "留抵退税能退吗", "measures": [25]}\n', encoding="utf-8")
    assert not is_frozen(path) and len(load_items(path)) == 1


def test_the_labelled_nlu_questions_are_still_nlu_examples_and_no_routing_cost() -> None:
    """The NLU examples labelled in the tuning sets are still in the NLU data; a topic example
    labelled with its unit is a remit question for calibration, not an in-scope cost."""
    nlu = PROJECT_ROOT / "bot" / "data" / "nlu"
    in_scope, out_of_scope = nlu_questions(nlu)
    tuning = tuning_questions(nlu, EVAL)
    labelled = labelled_questions([EVAL / "remit_tuning_nlu.jsonl"])
    assert labelled and all(units for _, units in labelled)
    assert {q for q, _ in labelled} <= set(in_scope)
    assert tuning.bureaus and set(tuning.bureaus) <= set(out_of_scope)
    assert all(tuning.bureaus.values())
    costs = without_remit_questions(tuning.in_scope, tuning.remit)
    assert not {q for q, _ in labelled} & set(costs)
    assert len(tuning.in_scope) > len(in_scope)  # the in-scope tuning sets in users' own style
    assert without_remit_questions(out_of_scope, labelled) == out_of_scope


def test_nlu_examples_about_another_place_are_no_in_scope_tuning(tmp_path: Path) -> None:
    """The assistant declines a question about another place before retrieval, unless it is tied
    to Putuo: such a topic example must not weigh as an in-scope question in calibration."""
    (tmp_path / "topics.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: topic_innovation\n  examples: |\n'
        "    - [嘉定](other_region)区高新技术企业认定奖励多少\n"
        "    - 公司从[嘉定](other_region)迁到普陀，变更登记怎么办\n"
        "    - 高新技术企业认定有奖励吗\n",
        encoding="utf-8",
    )
    in_scope, _ = nlu_questions(tmp_path)
    assert in_scope == ["公司从嘉定迁到普陀，变更登记怎么办", "高新技术企业认定有奖励吗"]
