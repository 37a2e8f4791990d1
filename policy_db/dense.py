"""Dense similarity: a question's cosine to each measure's passage and to its example questions.

Brute force over a numpy matrix: at 10,000 measures and their examples one question costs a
few milliseconds, so no approximate index is needed at the scale of a district's plans.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from policy_db.vectors import VectorStore


def measure_passage(title: str, category: str, text: str) -> str:
    """The text a measure is embedded as: what it is about, then what it says."""
    return f"{category}：{title}。{text}"


@dataclass
class DenseSimilarity:
    """Per measure: cosine to its passage, and the best cosine to one of its example questions."""

    passage: np.ndarray
    examples: np.ndarray

    @property
    def best(self) -> np.ndarray:
        """The closer of the two, per measure."""
        return np.maximum(self.passage, self.examples)


class DenseIndex:
    """Passage and example-question vectors of the indexed measures."""

    def __init__(self, store: VectorStore) -> None:
        self.store = store
        self.n = 0
        self.passages = np.zeros((0, store.embedder.dim), dtype=np.float32)
        self.examples = np.zeros((0, store.embedder.dim), dtype=np.float32)
        self.example_owner: np.ndarray = np.zeros(0, dtype=np.int32)
        self._starts: np.ndarray = np.zeros(0, dtype=np.int64)

    def build(self, passages: list[str], examples: list[list[str]]) -> None:
        """Vectors for one passage per measure and each measure's example questions."""
        self.n = len(passages)
        self.passages = self.store.vectors(passages, mode="passage")
        flat = [e for group in examples for e in group]
        owners = [i for i, group in enumerate(examples) for _ in group]
        # Example questions are questions: e5 compares them with the query prefix on both sides.
        self.examples = self.store.vectors(flat, mode="query")
        self.example_owner = np.asarray(owners, dtype=np.int32)
        if len(owners):
            self._starts = np.flatnonzero(np.r_[True, self.example_owner[1:] != self.example_owner[:-1]])
        else:
            self._starts = np.zeros(0, dtype=np.int64)

    def similarity(self, query: np.ndarray) -> DenseSimilarity:
        """Cosines of a query vector (unit length) to every measure."""
        passage = self.passages @ query if self.n else np.zeros(0, dtype=np.float32)
        examples = np.zeros(self.n, dtype=np.float32)
        if len(self.example_owner):
            dots = self.examples @ query
            examples[self.example_owner[self._starts]] = np.maximum.reduceat(dots, self._starts)
        return DenseSimilarity(passage.astype(np.float64), examples.astype(np.float64))
