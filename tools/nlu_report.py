"""Summarise `rasa test nlu` results: weighted intent F1, accuracy and the commonest confusions."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path


def summary(results: Path, confusions: int = 8) -> str:
    """One block of text for a `rasa test nlu --out` directory."""
    report = json.loads((results / "intent_report.json").read_text(encoding="utf-8"))
    errors = json.loads((results / "intent_errors.json").read_text(encoding="utf-8"))
    total = int(report["weighted avg"]["support"])
    pairs = Counter((e["intent"], e["intent_prediction"]["name"]) for e in errors)
    lines = [
        f"{results}: weighted F1 {report['weighted avg']['f1-score']:.3f}, accuracy "
        f"{report['accuracy']:.3f}, {len(errors)} errors in {total} examples"
    ]
    lines += [
        f"  {count:3d}  {truth} → {predicted}" for (truth, predicted), count in pairs.most_common(confusions)
    ]
    return "\n".join(lines)


def main() -> None:
    """Print a summary for each results directory named on the command line."""
    for directory in sys.argv[1:]:
        print(summary(Path(directory)))


if __name__ == "__main__":
    main()
