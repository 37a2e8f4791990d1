"""The ranking index: weighted BM25 over measure fields, example-question similarity, coverage.

A measure's score is calibrated to 0..1 from three parts:
- coverage: the share (by idf) of the question's content words the measure explains,
  counting a word as explained when it or a synonym expansion of it occurs in the measure;
- example similarity: the best cosine between the question and one curated example question;
- relevance: weighted BM25 over text, short title, category, units and tags, relative to the best.
Questions whose best score is below the no-match threshold get no measures.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from policy_db.catalogue import MeasureView
from policy_db.text import PolicyTokenizer, char_bigrams, normalize

FIELD_WEIGHTS = {"title": 1.3, "text": 1.0, "examples": 0.6, "units": 0.8, "tags": 0.8, "category": 0.4}
EXPANSION_WEIGHT = 0.8
BIGRAM_WEIGHT = 0.25
PARTIAL_CREDIT = 0.8
CONCEPT_WEIGHT = 2.0
TOPIC_BONUS = 0.06
UNIT_BONUS = 0.08
K1, B = 1.2, 0.5
MIX = {"coverage": 0.55, "examples": 0.45, "relevance": 0.20}


@dataclass
class IndexedMeasure:
    """What the index keeps of one measure."""

    view: MeasureView
    category_key: tuple[int, int]
    unit_names: list[str]
    searchable: dict[str, str]
    examples: list[str]


@dataclass(frozen=True)
class Match:
    """A ranked measure with its calibrated score and the words that matched."""

    measure: MeasureView
    score: float
    matched_terms: tuple[str, ...] = ()


@dataclass
class LexicalScores:
    """A question's lexical scores over all measures (0 where no word matched)."""

    score: np.ndarray
    order_key: np.ndarray
    candidates: np.ndarray
    words: list[str]


@dataclass
class QueryTerms:
    """A question's weighted terms and, per content word, the terms that explain it."""

    weights: dict[str, float] = field(default_factory=dict)
    groups: dict[str, set[str]] = field(default_factory=dict)
    concepts: set[str] = field(default_factory=set)


class MatchIndex:
    """An in-memory inverted index over measures, rebuilt when the catalogue changes."""

    def __init__(
        self,
        tokenizer: PolicyTokenizer,
        synonyms: dict[str, set[str]],
        topic_categories: dict[str, set[tuple[int, int]]] | None = None,
        feature_cache: dict[str, Counter[str]] | None = None,
    ) -> None:
        # Tokenising is most of a rebuild; texts that did not change keep their features.
        self.feature_cache = feature_cache if feature_cache is not None else {}
        self.tokenizer = tokenizer
        self.synonyms = {normalize(v): {normalize(t) for t in ts} for v, ts in synonyms.items()}
        self.topic_categories = topic_categories or {}
        self.measures: list[IndexedMeasure] = []
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.example_postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.example_owner: list[int] = []
        self.idf: dict[str, float] = {}
        self.unknown_idf = 1.0

    def build(self, measures: list[IndexedMeasure]) -> None:
        """Index the measures (replaces any previous content)."""
        self.measures = measures
        doc_terms = [self._weighted_terms(m) for m in measures]
        df: Counter[str] = Counter()
        for terms in doc_terms:
            df.update(terms.keys())
        n = max(1, len(measures))
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.unknown_idf = sorted(self.idf.values())[len(self.idf) // 2] if self.idf else 1.0
        avg_len = sum(sum(t.values()) for t in doc_terms) / n or 1.0
        for i, terms in enumerate(doc_terms):
            length = sum(terms.values())
            for term, tf in terms.items():
                sat = tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / avg_len))
                self.postings[term].append((i, sat))
        self._index_examples()
        self._freeze()

    def _freeze(self) -> None:
        """Turn postings into numpy arrays so a query costs a few vector operations per term."""
        self.n = len(self.measures)
        self.post_ids = {
            t: np.fromiter((d for d, _ in p), np.int32, len(p)) for t, p in self.postings.items()
        }
        self.post_vals = {
            t: np.fromiter((v for _, v in p), np.float64, len(p)) for t, p in self.postings.items()
        }
        self.ex_ids = {
            t: np.fromiter((e for e, _ in p), np.int32, len(p)) for t, p in self.example_postings.items()
        }
        self.ex_vals = {
            t: np.fromiter((v for _, v in p), np.float64, len(p)) for t, p in self.example_postings.items()
        }
        owners = np.asarray(self.example_owner, dtype=np.int32)
        self.ex_count = len(owners)
        starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]]) if len(owners) else owners
        self.ex_starts, self.ex_start_owner = starts, owners[starts] if len(owners) else owners
        self._masks: dict[tuple[str, str], np.ndarray] = {}
        self.postings.clear()
        self.example_postings.clear()

    def _mask(self, kind: str, key: str) -> np.ndarray:
        """Cached boolean mask of measures in a topic's categories or with a unit."""
        cached = self._masks.get((kind, key))
        if cached is None:
            if kind == "topic":
                keys = self.topic_categories.get(key, set())
                flags = [m.category_key in keys for m in self.measures]
            else:
                flags = [key in m.unit_names for m in self.measures]
            cached = self._masks[(kind, key)] = np.asarray(flags, dtype=bool)
        return cached

    def _features(self, text: str) -> Counter[str]:
        cached = self.feature_cache.get(text)
        if cached is None:
            cached = self.feature_cache[text] = self._tokenise(text)
        return cached

    def _tokenise(self, text: str) -> Counter[str]:
        tokens = self.tokenizer.tokens(text)
        features: Counter[str] = Counter(tokens)
        for bigram in char_bigrams(normalize(text)):
            features["#" + bigram] += 1
        return features

    def _weighted_terms(self, measure: IndexedMeasure) -> Counter[str]:
        terms: Counter[str] = Counter()  # weighted counts (floats: Counter adds them all the same)
        for name, text in measure.searchable.items():
            weight = FIELD_WEIGHTS[name]
            for term, count in self._features(text).items():
                terms[term] += weight * count * (BIGRAM_WEIGHT if term[0] == "#" else 1.0)  # type: ignore[assignment]
        return terms

    def _index_examples(self) -> None:
        for owner, measure in enumerate(self.measures):
            for example in measure.examples:
                vector = self._tfidf(self._features(example))
                index = len(self.example_owner)
                self.example_owner.append(owner)
                for term, value in vector.items():
                    self.example_postings[term].append((index, value))

    def _tfidf(self, features: Counter[str] | dict[str, float]) -> dict[str, float]:
        vector = {
            t: c * self.idf.get(t, self.unknown_idf) * (BIGRAM_WEIGHT if t[0] == "#" else 1)
            for t, c in features.items()
        }
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {t: v / norm for t, v in vector.items()}

    def query_terms(self, question: str) -> QueryTerms:
        """Content words of the question, their synonym expansions and character bigrams."""
        text = normalize(question)
        result = QueryTerms()
        for token in self.tokenizer.tokens(text):
            result.weights[token] = 1.0
            result.groups.setdefault(token, {token})
        for variant, terms in self.synonyms.items():
            if variant not in text:
                continue
            expansion = {t for term in terms for t in [term, *self.tokenizer.tokens(term)]}
            for term in expansion:
                result.weights.setdefault(term, EXPANSION_WEIGHT)
            owners = [t for t in result.groups if t in variant or variant in t] or [variant]
            for owner in owners:
                result.groups.setdefault(owner, {owner}).update(expansion)
                result.concepts.add(owner)
        for bigram in char_bigrams(text):
            result.weights.setdefault("#" + bigram, BIGRAM_WEIGHT)
        return result

    def lexical(
        self, question: str, *, topic: str | None = None, unit: str | None = None
    ) -> LexicalScores | None:
        """Per measure, the calibrated lexical score and the ordering key; None for no words."""
        query = self.query_terms(question)
        if not query.groups or not self.n:
            return None
        relevance = np.zeros(self.n)
        for term, weight in query.weights.items():
            ids = self.post_ids.get(term)
            if ids is not None:
                relevance[ids] += weight * self.idf[term] * self.post_vals[term]
        coverage = self._coverage(query)
        examples = self._example_similarity(query)
        candidates = (relevance > 0) | (examples > 0)
        best = relevance[candidates].max() if candidates.any() else 1.0
        total_idf = sum(self._group_idf(g, query) for g in query.groups)
        # Confidence is absolute (how much of the question this measure explains); relevance is
        # relative to the best candidate, so it orders results but never vouches for them.
        score = MIX["coverage"] * coverage / total_idf + MIX["examples"] * examples
        if topic:
            score = score + TOPIC_BONUS * self._mask("topic", topic)
        if unit:
            score = score + UNIT_BONUS * self._mask("unit", unit)
        score = np.where(candidates, np.minimum(score, 1.0), 0.0)
        order_key = score + MIX["relevance"] * relevance / (best or 1.0)
        words = [t for t in query.weights if t[0] != "#" and t in self.post_ids]
        return LexicalScores(score, order_key, candidates, words)

    def matched_terms(self, words: list[str], doc: int) -> tuple[str, ...]:
        """The question's words that occur in one measure."""
        return tuple(sorted(t for t in words if self._has(t, doc)))

    def rank(
        self,
        question: str,
        *,
        limit: int = 10,
        topic: str | None = None,
        unit: str | None = None,
        allowed: set[int] | None = None,
        min_score: float = 0.0,
    ) -> tuple[list[Match], int]:
        """The best `limit` measures by lexical score alone, and how many reach `min_score`."""
        scores = self.lexical(question, topic=topic, unit=unit)
        if scores is None:
            return [], 0
        eligible = scores.candidates.copy()
        if allowed is not None:
            mask = np.zeros(self.n, dtype=bool)
            mask[list(allowed)] = True
            eligible &= mask
        above = np.flatnonzero(eligible & (scores.score >= min_score))
        order = above[np.lexsort((above, -scores.order_key[above]))][:limit]
        matches = [
            Match(self.measures[i].view, float(scores.score[i]), self.matched_terms(scores.words, int(i)))
            for i in order
        ]
        return matches, len(above)

    def _has(self, term: str, doc: int) -> bool:
        ids = self.post_ids[term]
        return bool(len(ids) and ids[min(int(np.searchsorted(ids, doc)), len(ids) - 1)] == doc)

    def _coverage(self, query: QueryTerms) -> np.ndarray:
        """Per measure, the idf-weighted share of the question's words it explains."""
        coverage = np.zeros(self.n)
        for word, members in query.groups.items():
            full = np.zeros(self.n, dtype=bool)
            for member in members:
                ids = self.post_ids.get(member)
                if ids is not None:
                    full[ids] = True
            weight = self._group_idf(word, query)
            coverage += weight * full
            pairs = ["#" + p for p in char_bigrams(word)]
            if pairs:
                found = np.zeros(self.n)
                for pair in pairs:
                    ids = self.post_ids.get(pair)
                    if ids is not None:
                        found[ids] += 1
                coverage += weight * PARTIAL_CREDIT * (found / len(pairs)) * ~full
        return coverage

    def _group_idf(self, word: str, query: QueryTerms) -> float:
        # Unknown words weigh less: colloquial filler the stopword list missed should not
        # sink a question, while a question of only unknown words still scores near zero.
        # A word the lexicon recognises (开公司 → 企业开办) names the topic: it outweighs the frame.
        boost = CONCEPT_WEIGHT if word in query.concepts else 1.0
        return boost * self.idf.get(word, self.unknown_idf)

    def _example_similarity(self, query: QueryTerms) -> np.ndarray:
        """Per measure, the best cosine between the question and one of its example questions."""
        best = np.zeros(self.n)
        if not self.ex_count:
            return best
        # Bigram weights are applied inside _tfidf, as for the examples themselves.
        vector = self._tfidf({t: 1.0 if t[0] == "#" else w for t, w in query.weights.items()})
        dots = np.zeros(self.ex_count)
        for term, value in vector.items():
            ids = self.ex_ids.get(term)
            if ids is not None:
                dots[ids] += value * self.ex_vals[term]
        best[self.ex_start_owner] = np.maximum.reduceat(dots, self.ex_starts)
        return best
