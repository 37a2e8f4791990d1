"""Hybrid retrieval: lexical matching fused with dense similarity into one calibrated probability,
and routing by remit when no measure answers.

Without an embedding model (EMBEDDING_MODEL=none) or a fitted calibration the lexical score is
used as it is, with the configured threshold: the product still answers, with less recall.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from policy_db.calibration import Calibration, pair_features, remit_features, unit_features
from policy_db.catalogue import MeasureView
from policy_db.dense import DenseIndex
from policy_db.matcher import IndexedMeasure, Match, MatchIndex
from policy_db.text import PolicyTokenizer, normalize, reads_as_question
from policy_db.vectors import VectorStore


@dataclass
class Ranking:
    """All measures scored for one question: probabilities, ordering key, and the matched words."""

    probability: np.ndarray
    order_key: np.ndarray
    words: list[str]
    dense_best: float = 0.0  # best cosine to any measure's passage or example question (0 when off)
    order_best: float = 0.0  # best lexical ordering key of any measure

    def top(self, allowed: np.ndarray | None = None) -> float:
        """The best probability (among the allowed measures)."""
        values = self.probability if allowed is None else self.probability[allowed]
        return float(values.max()) if len(values) else 0.0


class HybridIndex:
    """The lexical index, the dense index (optional) and the calibration that fuses them."""

    def __init__(
        self,
        lexical: MatchIndex,
        dense: DenseIndex | None,
        calibration: Calibration | None,
        lexical_threshold: float,
    ) -> None:
        self.lexical = lexical
        self.dense = dense if calibration is not None else None
        self.calibration = calibration if dense is not None else None
        self.lexical_threshold = lexical_threshold

    @property
    def measures(self) -> list[IndexedMeasure]:
        """The indexed measures, in index order."""
        return self.lexical.measures

    @property
    def answer_threshold(self) -> float:
        """The probability from which a measure is presented as the answer."""
        return self.calibration.thresholds.answer if self.calibration else self.lexical_threshold

    @property
    def clarify_threshold(self) -> float:
        """The probability from which a measure is a plausible candidate."""
        return self.calibration.thresholds.clarify if self.calibration else self.lexical_threshold

    @property
    def override_threshold(self) -> float:
        """The probability from which retrieval overrules an out-of-scope NLU label."""
        return self.calibration.thresholds.override if self.calibration else 1.01

    def score(
        self, question: str, query: np.ndarray | None, *, topic: str | None = None, unit: str | None = None
    ) -> Ranking:
        """Score every measure for the question (query: its vector, when dense retrieval is on)."""
        n = self.lexical.n
        lexical = self.lexical.lexical(question, topic=topic, unit=unit)
        score = lexical.score if lexical else np.zeros(n)
        order = lexical.order_key if lexical else np.zeros(n)
        words = lexical.words if lexical else []
        if self.dense is None or self.calibration is None or query is None:
            return Ranking(score, order, words)
        similarity = self.dense.similarity(query)
        probability = self.calibration.probability(
            pair_features(score, order, similarity.passage, similarity.examples)
        )
        best = float(max(similarity.passage.max(), similarity.examples.max(initial=-1.0))) if n else 0.0
        order_best = float(order.max()) if n else 0.0
        return Ranking(probability, probability + 1e-6 * order, words, best, order_best)

    def rank(
        self,
        ranking: Ranking,
        *,
        limit: int,
        offset: int = 0,
        min_score: float = 0.0,
        allowed: np.ndarray | None = None,
    ) -> tuple[list[Match], int]:
        """The measures at or above `min_score`, best first, and how many there are."""
        eligible = ranking.probability >= max(min_score, 1e-9)
        if allowed is not None:
            eligible &= allowed
        above = np.flatnonzero(eligible)
        order = above[np.lexsort((above, -ranking.order_key[above]))][offset : offset + limit]
        matches = [
            Match(
                self.lexical.measures[i].view,
                float(ranking.probability[i]),
                self.lexical.matched_terms(ranking.words, int(i)),
            )
            for i in order
        ]
        return matches, len(above)


SHORT_PHRASE = 10


def is_remit_question(entry: str) -> bool:
    """True for a remit entry written as a question rather than a short phrase of duties."""
    return len(entry) > SHORT_PHRASE or reads_as_question(entry)


@dataclass(frozen=True)
class RemitRoute:
    """The unit whose remit a question belongs to, and the phrase that placed it there."""

    unit: str
    phrase: str
    similarity: float


class RemitIndex:
    """Each unit's remit phrases, matched literally and by dense similarity."""

    def __init__(
        self,
        store: VectorStore | None,
        remits: dict[str, list[str]],
        tokenizer: PolicyTokenizer | None = None,
        synonyms: dict[str, set[str]] | None = None,
    ) -> None:
        self.store = store
        self.phrases = [(unit, phrase) for unit, items in remits.items() for phrase in items]
        texts = [phrase for _, phrase in self.phrases]
        self.vectors = store.vectors(texts, mode="query") if store is not None and texts else None
        self.units = [unit for unit, items in remits.items() if items]
        position = {unit: i for i, unit in enumerate(self.units)}
        self._entry_unit = np.array([position[unit] for unit, _ in self.phrases], dtype=int)
        self.lexical: MatchIndex | None = None
        self.dense: DenseIndex | None = None
        if tokenizer is not None and self.units:
            self._index_as_candidates(remits, tokenizer, synonyms or {})

    def _index_as_candidates(
        self, remits: dict[str, list[str]], tokenizer: PolicyTokenizer, synonyms: dict[str, set[str]]
    ) -> None:
        """Index each unit's remit like a measure: its phrases as the text, its questions as examples."""
        passages, questions, indexed = [], [], []
        for i, unit in enumerate(self.units):
            asked = [e for e in remits[unit] if is_remit_question(e)]
            duties = "、".join(e for e in remits[unit] if not is_remit_question(e))
            passages.append(f"{unit}：{duties}")
            questions.append(asked)
            view = MeasureView(document_id=0, number=i, title=unit, text=duties, category="", units=[unit])
            indexed.append(
                IndexedMeasure(view, (0, 0), [unit], {"text": duties, "examples": " ".join(asked)}, asked)
            )
        self.lexical = MatchIndex(tokenizer, synonyms)
        self.lexical.build(indexed)
        if self.store is not None:
            self.dense = DenseIndex(self.store)
            self.dense.build(passages, questions)

    def _scored(
        self, question: str, query: np.ndarray | None, ranking: Ranking, calibration: Calibration | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per unit: the calibrated probability that its remit answers the question, and its best cosine.

        Scored with the measures' calibration; the gap features are taken to the best of the
        measures and the units together, so a unit competes with the measures on one scale.
        """
        n = len(self.units)
        if self.lexical is None or self.dense is None or calibration is None or query is None:
            return np.zeros(n), np.zeros(n)
        lexical = self.lexical.lexical(question)
        score = lexical.score if lexical else np.zeros(n)
        order = lexical.order_key if lexical else np.zeros(n)
        similarity = self.dense.similarity(query)
        features = pair_features(
            score,
            order,
            similarity.passage,
            similarity.examples,
            best_dense=ranking.dense_best,
            best_order=ranking.order_best,
        )
        dense = np.maximum(similarity.passage, similarity.examples)
        return calibration.probability(features), dense

    def _best(
        self, probability: np.ndarray, query: np.ndarray | None, calibration: Calibration | None
    ) -> int:
        """The position of the unit the question most likely belongs to: the fitted unit ranker's
        choice (it also weighs each unit's nearest entry), else the best-scoring whole remit."""
        ranker = calibration.unit_choice if calibration is not None else None
        if ranker is None or query is None or self.vectors is None:
            return int(probability.argmax())
        return ranker.best(unit_features(probability, self.nearest_entries(query)))

    def nearest_entries(self, query: np.ndarray) -> np.ndarray:
        """Per unit, the cosine of the question to the unit's nearest remit entry."""
        nearest = np.full(len(self.units), -1.0)
        if self.vectors is not None:
            np.maximum.at(nearest, self._entry_unit, self.vectors @ query)
        return nearest

    def unit_rows(
        self, question: str, query: np.ndarray | None, ranking: Ranking, calibration: Calibration
    ) -> np.ndarray:
        """The UNIT_FEATURES rows of a question, one per unit (for fitting the unit ranker)."""
        probability, _ = self._scored(question, query, ranking, calibration)
        nearest = self.nearest_entries(query) if query is not None else np.zeros(len(self.units))
        return unit_features(probability, nearest)

    def choice(
        self,
        question: str,
        query: np.ndarray | None,
        ranking: Ranking,
        calibration: Calibration | None,
        allowed: np.ndarray | None = None,
    ) -> tuple[str, np.ndarray] | None:
        """The unit the question most likely belongs to, and its REMIT_FEATURES row (None: no units).

        The best measure is taken among the `allowed` ones (the measures in force), when given.
        """
        probability, dense = self._scored(question, query, ranking, calibration)
        if not len(probability):
            return None
        best = self._best(probability, query, calibration)
        unit = self.units[best]
        literal = any(u == unit for u, _ in self._literal(question))
        likeness = calibration.remit_likeness if calibration is not None else None
        row = remit_features(
            ranking.top(allowed),
            float(probability[best]),
            float(dense[best]),
            ranking.dense_best,
            literal,
            likeness.log_odds(query) if likeness is not None and query is not None else 0.0,
        )
        return unit, row

    def phrase_of(self, unit: str, question: str, query: np.ndarray | None) -> str:
        """The entry of a unit's remit that the question is closest to (literal mentions first)."""
        literal = [p for u, p in self._literal(question) if u == unit]
        if literal:
            return max(literal, key=len)
        own = [(i, p) for i, (u, p) in enumerate(self.phrases) if u == unit]
        short = [(i, p) for i, p in own if not is_remit_question(p)] or own
        if self.vectors is None or query is None or not short:
            return short[0][1] if short else unit
        ids = [i for i, _ in short]
        return short[int(np.argmax(self.vectors[ids] @ query))][1]

    def _literal(self, question: str) -> list[tuple[str, str]]:
        """The (unit, phrase) pairs whose phrase the question names word for word."""
        text = normalize(question)
        return [(u, p) for u, p in self.phrases if len(p) >= 2 and normalize(p) in text]

    def route(
        self,
        question: str,
        query: np.ndarray | None,
        threshold: float,
        ranking: Ranking | None = None,
        calibration: Calibration | None = None,
    ) -> RemitRoute | None:
        """The unit whose remit the question is about, or None when none is close enough.

        Whether to route is decided by the closest remit phrase (a literal mention, or a cosine of
        at least `threshold`). Which unit: the one whose whole remit scores best as a candidate
        (phrases, example questions, words and meaning), when the measures' `ranking` and
        `calibration` are given; a single nearest phrase names the unit less often rightly.
        """
        literal = self._literal(question)
        nearest: tuple[str, str, float] | None = None
        if literal:
            unit, phrase = max(literal, key=lambda item: len(item[1]))
            nearest = (unit, phrase, 1.0)
        elif self.vectors is not None and query is not None and len(self.phrases):
            similarity = self.vectors @ query
            best = int(similarity.argmax())
            if similarity[best] >= threshold:
                nearest = (*self.phrases[best], float(similarity[best]))
        if nearest is None:
            return None
        unit, phrase, closeness = nearest
        if ranking is not None and calibration is not None:
            probability, _ = self._scored(question, query, ranking, calibration)
            best_unit = self.units[self._best(probability, query, calibration)] if probability.any() else unit
            if best_unit != unit:
                unit, phrase = best_unit, self.phrase_of(best_unit, question, query)
        return RemitRoute(unit, phrase, closeness)

    def closeness(self, question: str, query: np.ndarray | None) -> float:
        """How close the question is to any remit phrase (1.0 for a literal mention)."""
        if self._literal(question):
            return 1.0
        if self.vectors is None or query is None or not len(self.phrases):
            return 0.0
        return float((self.vectors @ query).max())
