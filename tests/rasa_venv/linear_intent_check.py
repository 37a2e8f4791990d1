"""Checks of rasa_plugins.linear_intent, run with the Rasa venv's python (tests/e2e/test_rasa_project.py).

Trains the classifier on hand-made sparse features, stores it, loads it into a new instance
and classifies: prints one JSON object with what it saw.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_plugins.linear_intent import LinearIntentClassifier

VOCABULARY = 4  # feature 0: "tax" words, 1: "loan" words, 2: "weather" words, 3: shared


def message(active: list[int], intent: str | None = None) -> Message:
    row = scipy.sparse.csr_matrix(([1.0] * len(active), ([0] * len(active), active)), shape=(1, VOCABULARY))
    data = {TEXT: "x"} | ({INTENT: intent} if intent else {})
    msg = Message(data=data)
    msg.add_features(Features(row, FEATURE_TYPE_SENTENCE, TEXT, "CountVectorsFeaturizer"))
    return msg


def trained(intents: dict[str, int], config: dict[str, object], storage: Path) -> dict[str, object]:
    model_storage = LocalModelStorage(storage)
    resource = Resource("linear")
    context = ExecutionContext(GraphSchema({}), node_name="linear")
    examples = [message([feature, 3], intent) for intent, feature in intents.items() for _ in range(5)]
    LinearIntentClassifier.create(config, model_storage, resource, context).train(TrainingData(examples))
    loaded = LinearIntentClassifier.load(config, model_storage, resource, context)
    plain = message([0, 3])
    earlier = message([0, 3])
    earlier.set(INTENT_RANKING_KEY, [{"name": "weather", "confidence": 0.9}])
    loaded.process([plain, earlier])
    return {
        "plain": plain.get(INTENT),
        "ranking": plain.get(INTENT_RANKING_KEY),
        "blended": earlier.get(INTENT_RANKING_KEY),
        "stored": sorted(p.name for p in storage.rglob("*") if p.is_file()),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as three, tempfile.TemporaryDirectory() as two:
        result = {
            "three": trained({"tax": 0, "loan": 1, "weather": 2}, {"blend": 0.5}, Path(three)),
            "two": trained({"tax": 0, "loan": 1}, {"blend": 1.0}, Path(two)),
        }
    json.dump(result, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
