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

from policy_db.catalog import MeasureView
from policy_db.text import PolicyTokenizer, char_bigrams, normalize

FIELD_WEIGHTS = {"title": 1.3, "text": 1.0, "examples": 0.6, "units": 0.8, "tags": 0.8,
                 "category": 0.4}
EXPANSION_WEIGHT = 0.8
BIGRAM_WEIGHT = 0.25
PARTIAL_CREDIT = 0.8
TOPIC_BONUS = 0.06
UNIT_BONUS = 0.08
K1, B = 1.2, 0.5
MIX = {"coverage": 0.45, "examples": 0.35, "relevance": 0.20}


def _explained(word: str, members: set[str], present: set[str]) -> float:
    """1 when the word or a synonym occurs; else the share of its character pairs that occur."""
    if members & present:
        return 1.0
    pairs = ["#" + p for p in char_bigrams(word)]
    if not pairs:
        return 0.0
    return PARTIAL_CREDIT * sum(p in present for p in pairs) / len(pairs)


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
class QueryTerms:
    """A question's weighted terms and, per content word, the terms that explain it."""

    weights: dict[str, float] = field(default_factory=dict)
    groups: dict[str, set[str]] = field(default_factory=dict)


class MatchIndex:
    """An in-memory inverted index over measures, rebuilt when the catalogue changes."""

    def __init__(self, tokenizer: PolicyTokenizer, synonyms: dict[str, set[str]],
                 topic_categories: dict[str, set[tuple[int, int]]] | None = None) -> None:
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

    def _features(self, text: str) -> Counter[str]:
        tokens = self.tokenizer.tokens(text)
        features: Counter[str] = Counter(tokens)
        for bigram in char_bigrams(normalize(text)):
            features["#" + bigram] += 1
        return features

    def _weighted_terms(self, measure: IndexedMeasure) -> Counter[str]:
        terms: Counter[str] = Counter()
        for name, text in measure.searchable.items():
            weight = FIELD_WEIGHTS[name]
            for term, count in self._features(text).items():
                terms[term] += weight * count * (BIGRAM_WEIGHT if term[0] == "#" else 1.0)
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
        vector = {t: c * self.idf.get(t, self.unknown_idf) * (BIGRAM_WEIGHT if t[0] == "#" else 1)
                  for t, c in features.items()}
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
        for bigram in char_bigrams(text):
            result.weights.setdefault("#" + bigram, BIGRAM_WEIGHT)
        return result

    def rank(self, question: str, *, limit: int = 10, topic: str | None = None,
             unit: str | None = None, allowed: set[int] | None = None) -> list[Match]:
        """Measures for the question, best first, with calibrated scores."""
        query = self.query_terms(question)
        if not query.groups:
            return []
        relevance: dict[int, float] = defaultdict(float)
        present: dict[int, set[str]] = defaultdict(set)
        for term, weight in query.weights.items():
            idf = self.idf.get(term)
            if idf is None:
                continue
            for doc, sat in self.postings.get(term, ()):
                relevance[doc] += weight * idf * sat
                present[doc].add(term)
        example_sim = self._example_similarity(query)
        candidates = set(relevance) | set(example_sim)
        if allowed is not None:
            candidates &= allowed
        if not candidates:
            return []
        best = max(relevance[d] for d in candidates) or 1.0
        total = sum(self._group_idf(g) for g in query.groups)
        topic_keys = self.topic_categories.get(topic or "", set())
        matches = []
        for doc in candidates:
            terms = present[doc]
            covered = sum(self._group_idf(g) * _explained(g, members, terms)
                          for g, members in query.groups.items())
            score = (MIX["coverage"] * covered / total + MIX["examples"] * example_sim.get(doc, 0.0)
                     + MIX["relevance"] * relevance[doc] / best)
            measure = self.measures[doc]
            if measure.category_key in topic_keys:
                score += TOPIC_BONUS
            if unit and unit in measure.unit_names:
                score += UNIT_BONUS
            matched = tuple(sorted(t for t in terms if t[0] != "#"))
            matches.append(Match(measure.view, min(1.0, score), matched))
        matches.sort(key=lambda m: (-m.score, m.measure.document_id, m.measure.number))
        return matches[:limit]

    def _group_idf(self, word: str) -> float:
        # Unknown words weigh less: colloquial filler the stopword list missed should not
        # sink a question, while a question of only unknown words still scores near zero.
        return self.idf.get(word, self.unknown_idf)

    def _example_similarity(self, query: QueryTerms) -> dict[int, float]:
        # Bigram weights are applied inside _tfidf, as for the examples themselves.
        vector = self._tfidf({t: 1.0 if t[0] == "#" else w for t, w in query.weights.items()})
        dots: dict[int, float] = defaultdict(float)
        for term, value in vector.items():
            for example, weight in self.example_postings.get(term, ()):
                dots[example] += value * weight
        best: dict[int, float] = {}
        for example, dot in dots.items():
            owner = self.example_owner[example]
            if dot > best.get(owner, 0.0):
                best[owner] = dot
        return best
