"""A linear intent classifier blended with DIET's ranking.

DIET learns dense embeddings from scratch; on ~4k short Chinese questions a regularised
logistic regression over the same sparse word, character n-gram and regex features
generalises better to unseen wording, and DIET's ranking still counts through the blend.
The component runs after DIETClassifier and before FallbackClassifier:

    intent confidence = blend × linear probability + (1 − blend) × DIET confidence

The trained model is stored as plain arrays (no pickle): the idf weights, coefficients,
intercepts and intent names.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

log = logging.getLogger(__name__)

ARRAYS = "linear_intent.npz"


def sentence_features(message: Message) -> scipy.sparse.csr_matrix | None:
    """The message's sparse sentence features from every featurizer, one row."""
    _, sentence = message.get_sparse_features(TEXT)
    return None if sentence is None else scipy.sparse.csr_matrix(sentence.features)


def dense_sentence(message: Message) -> np.ndarray | None:
    """The message's dense sentence features (pretrained embeddings), one row, if any."""
    _, sentence = message.get_dense_features(TEXT)
    return None if sentence is None else np.asarray(sentence.features, dtype=np.float64).reshape(1, -1)


def tfidf(rows: scipy.sparse.csr_matrix, idf: np.ndarray) -> scipy.sparse.csr_matrix:
    """Sublinear term frequency × idf, each row scaled to unit length."""
    weighted = rows.astype(np.float64).tocsr(copy=True)
    weighted.data = 1.0 + np.log(np.maximum(weighted.data, 1e-12))
    weighted = weighted.multiply(idf).tocsr()
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1))).ravel()
    norms[norms == 0] = 1.0
    return scipy.sparse.diags(1.0 / norms) @ weighted


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Logistic regression on TF-IDF-weighted sparse features, blended with the intent ranking
    an earlier classifier (DIET) already set."""

    @classmethod
    def required_components(cls) -> list[type]:
        """Featurizers must run first."""
        return [Featurizer]

    @staticmethod
    def required_packages() -> list[str]:
        """scikit-learn trains the regression."""
        return ["sklearn"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """C: inverse regularisation; blend: weight of this model against the earlier ranking."""
        return {"C": 30.0, "max_iter": 3000, "blend": 0.5, "ranking_length": 10, "dense_weight": 1.0}

    def _design(
        self, rows: scipy.sparse.csr_matrix, dense: np.ndarray | None, idf: np.ndarray, dense_dim: int
    ) -> scipy.sparse.csr_matrix:
        """TF-IDF rows, with the dense sentence embedding (scaled) appended when the model uses it."""
        weighted = tfidf(rows, idf)
        if not dense_dim:
            return weighted
        if dense is None or dense.shape[1] != dense_dim:
            dense = np.zeros((rows.shape[0], dense_dim))
        scaled = scipy.sparse.csr_matrix(float(self.config["dense_weight"]) * dense)
        return scipy.sparse.hstack([weighted, scaled]).tocsr()

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        arrays: dict[str, np.ndarray] | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.arrays = arrays

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        """An untrained classifier."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        """The trained classifier from model storage (untrained if nothing was stored)."""
        try:
            with (
                model_storage.read_from(resource) as directory,
                np.load(directory / ARRAYS, allow_pickle=False) as stored,
            ):
                arrays = {name: stored[name] for name in stored.files}
        except (ValueError, FileNotFoundError):
            log.warning("no trained %s in the model: DIET alone classifies intents", cls.__name__)
            arrays = None
        return cls(config, model_storage, resource, arrays)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit idf weights and the regression on the intent examples."""
        from sklearn.linear_model import LogisticRegression

        examples = [
            (sentence_features(m), dense_sentence(m), m.get(INTENT))
            for m in training_data.intent_examples
            if m.get(INTENT) and m.get(TEXT)
        ]
        examples = [(row, dense, intent) for row, dense, intent in examples if row is not None]
        if len({intent for *_, intent in examples}) < 2:
            log.debug("fewer than two intents: %s not trained", self.__class__.__name__)
            return self._resource
        rows = scipy.sparse.vstack([row for row, _, _ in examples]).tocsr()
        document_frequency = np.bincount(rows.indices, minlength=rows.shape[1])
        idf = np.log((1 + rows.shape[0]) / (1 + document_frequency)) + 1.0
        use_dense = self.config["dense_weight"] > 0 and all(d is not None for _, d, _ in examples)
        dense_dim = examples[0][1].shape[1] if use_dense else 0  # type: ignore[union-attr]
        dense = np.vstack([d for _, d, _ in examples]) if use_dense else None  # type: ignore[misc]
        model = LogisticRegression(C=self.config["C"], max_iter=self.config["max_iter"])
        model.fit(self._design(rows, dense, idf, dense_dim), [intent for *_, intent in examples])
        self.arrays = {
            "idf": idf,
            "coef": model.coef_,
            "intercept": model.intercept_,
            "intents": np.asarray(model.classes_, dtype=str),
            "dense_dim": np.asarray(dense_dim),
        }
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / ARRAYS, **self.arrays)
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        """Set the blended intent and ranking on each message with text features."""
        if self.arrays is None:
            return messages
        for message in messages:
            row = sentence_features(message)
            if row is None or row.shape[1] != self.arrays["idf"].shape[0]:
                continue
            self._set_ranking(message, self.probabilities(row, dense_sentence(message)))
        return messages

    def probabilities(
        self, row: scipy.sparse.csr_matrix, dense: np.ndarray | None = None
    ) -> dict[str, float]:
        """Intent name → this model's probability for one row of sentence features."""
        arrays = self.arrays
        assert arrays is not None, "probabilities of an untrained classifier"
        dense_dim = int(arrays["dense_dim"]) if "dense_dim" in arrays else 0
        design = self._design(row, dense, arrays["idf"], dense_dim)
        scores = np.asarray(design @ arrays["coef"].T + arrays["intercept"])
        if scores.shape[1] == 1:  # two intents: sklearn keeps one row, the second intent's score
            scores = np.hstack([np.zeros_like(scores), scores])
        return dict(zip(arrays["intents"].tolist(), softmax(scores)[0].tolist(), strict=True))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Nothing to add to training data: later components do not read intents."""
        return training_data

    def _set_ranking(self, message: Message, linear: dict[str, float]) -> None:
        blend = float(self.config["blend"])
        earlier = {
            entry["name"]: float(entry["confidence"]) for entry in message.get(INTENT_RANKING_KEY) or []
        }
        if not earlier:
            blend = 1.0
        names = set(linear) | set(earlier)
        ranking = sorted(
            (
                {
                    "name": name,
                    "confidence": blend * linear.get(name, 0.0) + (1 - blend) * earlier.get(name, 0.0),
                }
                for name in names
            ),
            key=lambda entry: -entry["confidence"],
        )
        if self.config["ranking_length"] > 0:
            ranking = ranking[: self.config["ranking_length"]]
        message.set(INTENT, ranking[0], add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
