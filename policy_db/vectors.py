"""Stored sentence vectors: embed a text once per model, keep it in the database by text hash.

A restart loads the vectors instead of re-embedding; an admin edit embeds only the texts
that changed (their hash is new). Several processes may embed the same new text at once:
the insert ignores a row another process wrote first.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import TypeVar

import numpy as np
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from policy_db.db import Database
from policy_db.embedding import Embedder, Mode
from policy_db.models import TextVector

T = TypeVar("T")
BATCH = 32
RECENT_QUERIES = 8
LOOKUP_CHUNK = 500


def text_hash(text: str, mode: Mode) -> str:
    """The key of a text's vector: the mode is part of it (e5 embeds queries and passages apart)."""
    return hashlib.sha256(f"{mode}\x00{text}".encode()).hexdigest()


class VectorStore:
    """Vectors of passages and example questions for one embedder, cached in memory and in SQL."""

    def __init__(self, database: Database, embedder: Embedder) -> None:
        self.database = database
        self.embedder = embedder
        self._memory: dict[str, np.ndarray] = {}
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.embedded = 0  # texts embedded by this process (the rest came from memory or SQL)
        self.loaded = 0
        self.queries_embedded = 0  # questions this process had to embed itself

    def vectors(self, texts: list[str], *, mode: Mode = "passage") -> np.ndarray:
        """One unit vector per text, embedding only the texts no process has stored yet."""
        keys = [text_hash(t, mode) for t in texts]
        with self._lock:
            missing = sorted({k for k in keys if k not in self._memory})
            if missing:
                self._load(missing)
            todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._memory}
            if todo:
                self._embed(todo, mode)
            rows = [self._memory[k] for k in keys]
        if not rows:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.vstack(rows)

    def query(self, text: str) -> np.ndarray:
        """A question's vector (not stored: questions are many and seldom repeat).

        The last few are kept in memory: one turn may search, suggest and route the same text.
        """
        with self._lock:
            cached = self._recent.get(text)
            if cached is not None:
                self._recent.move_to_end(text)
                return cached
        vector = self.embedder.embed([text], mode="query")[0]
        self.queries_embedded += 1
        self._remember(text, vector)
        return vector

    def remember_query(self, text: str, vector: np.ndarray, model: str) -> bool:
        """Keep a question's vector computed elsewhere (the NLU's), if it comes from the same model."""
        if model != self.embedder.name or vector.shape != (self.embedder.dim,):
            return False
        self._remember(text, vector.astype(np.float32, copy=False))
        return True

    def _remember(self, text: str, vector: np.ndarray) -> None:
        with self._lock:
            self._recent[text] = vector
            self._recent.move_to_end(text)
            while len(self._recent) > RECENT_QUERIES:
                self._recent.popitem(last=False)

    def forget_unused(self, keep: int) -> None:
        """Drop the in-memory cache when it holds far more than the catalogue needs."""
        with self._lock:
            if len(self._memory) > keep:
                self._memory.clear()

    def _load(self, keys: list[str]) -> None:
        model = self.embedder.name
        with self.database.session() as session:
            for chunk in _chunks(keys, LOOKUP_CHUNK):
                rows = session.execute(
                    select(TextVector.text_hash, TextVector.vector, TextVector.dim).where(
                        TextVector.model == model, TextVector.text_hash.in_(chunk)
                    )
                ).all()
                for key, blob, dim in rows:
                    if dim == self.embedder.dim:
                        self._memory[key] = np.frombuffer(blob, dtype=np.float32).copy()
                        self.loaded += 1

    def _embed(self, todo: dict[str, str], mode: Mode) -> None:
        items = list(todo.items())
        for chunk in _chunks(items, BATCH):
            vectors = self.embedder.embed([t for _, t in chunk], mode=mode)
            rows = [
                {
                    "model": self.embedder.name,
                    "text_hash": k,
                    "dim": self.embedder.dim,
                    "vector": v.astype(np.float32).tobytes(),
                }
                for (k, _), v in zip(chunk, vectors, strict=True)
            ]
            self._store(rows)
            for (key, _), vector in zip(chunk, vectors, strict=True):
                self._memory[key] = vector
            self.embedded += len(chunk)

    def _store(self, rows: list[dict[str, object]]) -> None:
        with self.database.session() as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            statement = insert(TextVector).values(rows).on_conflict_do_nothing()
            session.execute(statement)


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
