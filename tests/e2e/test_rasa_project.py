"""The Rasa project itself: its data validates and its test stories pass against the trained model."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import require_model
from tools.stack import MODEL, RASA_BIN, ROOT

BOT = ROOT / "bot"


def rasa(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(RASA_BIN / "rasa"), *args],
        cwd=BOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={"PATH": "/usr/bin:/bin", "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT)},
    )  # config.yml names rasa_plugins


@pytest.mark.bot
def test_data_validates() -> None:
    # Warnings remain for the form questions (utter_ask_*), which Rasa 3.6 counts as unused.
    result = rasa("data", "validate")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.bot
def test_test_stories_pass(tmp_path: Path) -> None:
    require_model()
    result = rasa("test", "core", "--stories", "tests", "--model", str(MODEL), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    failed = (tmp_path / "failed_test_stories.yml").read_text(encoding="utf-8")
    assert "steps:" not in failed, failed[:3000]


def test_linear_intent_classifier_round_trip() -> None:
    """The custom classifier trains, is stored as arrays, loads, and blends with DIET's ranking."""
    script = ROOT / "tests" / "rasa_venv" / "linear_intent_check.py"
    result = subprocess.run(
        [str(RASA_BIN / "python"), str(script)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout)
    three, two = seen["three"], seen["two"]
    assert three["stored"] == ["linear_intent.npz"]  # arrays only, nothing pickled
    assert three["plain"]["name"] == "tax" and two["plain"]["name"] == "tax"
    confidences = [entry["confidence"] for entry in three["ranking"]]
    assert confidences == sorted(confidences, reverse=True) and sum(confidences) == pytest.approx(1)
    blended = {entry["name"]: entry["confidence"] for entry in three["blended"]}
    linear = {entry["name"]: entry["confidence"] for entry in three["ranking"]}
    assert blended["tax"] == pytest.approx(0.5 * linear["tax"])
    assert blended["weather"] == pytest.approx(0.5 * linear["weather"] + 0.5 * 0.9)
