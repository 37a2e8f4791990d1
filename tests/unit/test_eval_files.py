"""Evaluation files: the frozen held-out sets are recognised, so their misses are not listed."""

from __future__ import annotations

from pathlib import Path

import pytest

from policy_db.config import PROJECT_ROOT
from policy_db.evaluation import is_frozen, load_items

EVAL = PROJECT_ROOT / "eval"


@pytest.mark.parametrize("name", ["blind.jsonl", "holdout.jsonl", "remit_check.jsonl"])
def test_the_held_out_sets_are_frozen(name: str) -> None:
    assert is_frozen(EVAL / name) and load_items(EVAL / name)


@pytest.mark.parametrize("name", ["colloquial.jsonl", "remit_tuning.jsonl", "remit_tuning_more.jsonl"])
def test_the_tuning_sets_are_not(name: str) -> None:
    assert not is_frozen(EVAL / name)


def test_a_set_without_a_meta_line_is_not_frozen(tmp_path: Path) -> None:
    path = tmp_path / "questions.jsonl"
    path.write_text('\n{"q": "留抵退税能退吗", "measures": [25]}\n', encoding="utf-8")
    assert not is_frozen(path) and len(load_items(path)) == 1
