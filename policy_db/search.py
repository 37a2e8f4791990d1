"""The search service shared by the bot, the staff console and the API.

It keeps a `MatchIndex` built from the database and rebuilds it when the catalogue
revision changes (checked with one cheap query), so edits reach every process at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from sqlalchemy import select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from policy_db.calibration import Calibration
from policy_db.catalogue import MeasureView, active_measures, current_revision, measure_view, topic_categories
from policy_db.clock import shanghai_today
from policy_db.db import Database
from policy_db.dense import DenseIndex, measure_passage
from policy_db.dictionary import dictionary_words
from policy_db.embedding import Embedder
from policy_db.kinds import IN_FORCE
from policy_db.matcher import IndexedMeasure, Match, MatchIndex
from policy_db.models import Measure, ResponsibleUnit, Stopword, Synonym
from policy_db.retrieval import HybridIndex, Ranking, RemitIndex, RemitRoute
from policy_db.text import PolicyTokenizer, find_measure_number, normalize
from policy_db.vectors import VectorStore

REVISION_QUERY = sql_text("SELECT revision FROM catalog_revision WHERE id = 1")
SearchKind = Literal["number", "unit", "search", "browse"]
# Words that, next to a unit's name, ask what the unit is responsible for.
DUTY_WORDS = {
    "负责",
    "管",
    "管理",
    "主管",
    "分管",
    "哪些",
    "什么",
    "措施",
    "事",
    "事情",
    "事项",
    "职责",
    "工作",
    "帮",
    "帮忙",
    "做",
    "干",
    "业务",
    "政策",
    "内容",
    "条",
    "有",
    "能",
    "可以",
    "我们",
    "方面",
    "的",
    "吗",
    "呢",
    "具体",
    "主要",
    "都",
    "部门",
    "单位",
}
Outcome = Literal["answer", "clarify", "remit", "decline"]
YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")


@dataclass
class SearchResult:
    """Ranked measures for a question, and how the question was understood."""

    kind: SearchKind
    matches: list[Match]
    total: int
    confident: bool
    unit: str | None = None
    measure_number: int | None = None
    terms: list[str] = field(default_factory=list)
    outcome: Outcome = "answer"
    route: RemitRoute | None = None
    top_score: float = 0.0
    # A measure of a replaced or expired document that matched better than any in force.
    outdated: list[Match] = field(default_factory=list)

    @property
    def measures(self) -> list[MeasureView]:
        """The measures with their scores, best first."""
        return [_with_score(m.measure, m.score) for m in self.matches]

    @property
    def outdated_measures(self) -> list[MeasureView]:
        """The out-of-force measures that matched better than the measures in force."""
        return [_with_score(m.measure, m.score) for m in self.outdated]


def _with_score(view: MeasureView, score: float) -> MeasureView:
    return dataclasses.replace(view, score=round(score, 4))


class PolicySearch:
    """Matching questions to measures over the current catalogue."""

    def __init__(
        self,
        database: Database,
        *,
        threshold: float = 0.30,
        topics: dict[str, list[str]] | None = None,
        embedder: Embedder | None = None,
        calibration: Calibration | None = None,
    ) -> None:
        self.database = database
        self.threshold = threshold
        self.topics = topics or {}
        self.vectors = VectorStore(database, embedder) if embedder is not None else None
        self.calibration = calibration if embedder is not None else None
        self._lock = threading.Lock()
        self._index: MatchIndex | None = None
        self._hybrid: HybridIndex | None = None
        self._remits: RemitIndex | None = None
        self._contacts: dict[str, str] = {}
        self._revision = -1
        self._today = dt.date.min
        self._outdated: set[int] = set()  # positions of measures whose document is not in force
        self._units: dict[str, str] = {}
        self._aliases: list[str] = []
        self._features: dict[str, Counter[str]] = {}
        self._tokenizer: PolicyTokenizer | None = None
        self.last_build_seconds = 0.0

    # --- freshness -------------------------------------------------------------------------
    def index(self) -> MatchIndex:
        """The index for the current catalogue revision, rebuilt if the data changed."""
        revision, today = self._read_revision(), shanghai_today()
        if self._index is not None and revision == self._revision and today == self._today:
            return self._index
        with self._lock, self.database.session() as session:
            if self._index is None or revision != self._revision or today != self._today:
                self._rebuild(session, current_revision(session), today)
        assert self._index is not None
        return self._index

    def _read_revision(self) -> int:
        # One indexed single-row read per question: cheap enough to keep every process current.
        with self.database.engine.connect() as connection:
            return connection.execute(REVISION_QUERY).scalar() or 0

    def _rebuild(self, session: Session, revision: int, today: dt.date) -> None:
        started = time.perf_counter()
        measures = active_measures(session)
        if len(self._features) > 20 * len(measures) + 1000:
            self._features.clear()  # drop texts edited away long ago
        units = session.scalars(select(ResponsibleUnit)).all()
        synonyms: dict[str, set[str]] = {}
        for syn in session.scalars(select(Synonym)):
            synonyms.setdefault(syn.variant, set()).add(syn.term)
        words = dictionary_words(session)
        stopwords = list(session.scalars(select(Stopword.word)))
        if self._tokenizer is None:
            self._tokenizer = PolicyTokenizer(words, stopwords)
        else:
            known = (len(self._tokenizer.words), frozenset(self._tokenizer.stopwords))
            self._tokenizer.add_words(words)
            self._tokenizer.stopwords = {normalize(w) for w in stopwords}
            if known != (len(self._tokenizer.words), frozenset(self._tokenizer.stopwords)):
                self._features.clear()  # new words segment old texts differently
        alias_of = {u.name: u for u in units}
        index = MatchIndex(self._tokenizer, synonyms, topic_categories(session, self.topics), self._features)
        indexed = [_indexed(m, alias_of, today) for m in measures]
        index.build(indexed)
        dense = None
        if self.vectors is not None:
            dense = DenseIndex(self.vectors)
            dense.build(
                [measure_passage(m.view.title, m.view.category, m.view.text) for m in indexed],
                [m.examples for m in indexed],
            )
        self._hybrid = HybridIndex(index, dense, self.calibration, self.threshold)
        self._remits = RemitIndex(
            self.vectors, {u.name: list(u.remit or []) for u in units}, self._tokenizer, synonyms
        )
        self._contacts = {u.name: _contact(u) for u in units}
        unit_names = {normalize(u.name): u.name for u in units}
        for u in units:
            for alias in u.aliases or []:
                unit_names.setdefault(normalize(alias), u.name)
        self._aliases = sorted(unit_names, key=len, reverse=True)
        self._outdated = {i for i, m in enumerate(indexed) if m.view.validity != IN_FORCE}
        self._index, self._units, self._revision, self._today = index, unit_names, revision, today
        self.last_build_seconds = time.perf_counter() - started

    # --- questions -------------------------------------------------------------------------
    def resolve_unit(self, text: str) -> str | None:
        """The canonical name of the unit a text mentions (税务局 → 区税务局), longest mention first."""
        self.index()
        return self._find_unit(text)

    def _find_unit(self, text: str) -> str | None:
        text = normalize(text)
        for alias in self._aliases:
            if alias in text:
                return self._units[alias]
        return None

    def search(
        self,
        question: str = "",
        *,
        unit: str | None = None,
        category: str | None = None,
        document_id: int | None = None,
        limit: int = 10,
        offset: int = 0,
        topic: str | None = None,
        include_outdated: bool = False,
    ) -> SearchResult:
        """Answer a question: a measure number, a unit's duties, or ranked matching measures.

        Only documents in force are searched unless `include_outdated` (staff). Asked by number,
        a measure of a replaced or expired document is still found (in-force ones first, or the
        document whose year the question names), so the caller can say it no longer applies.
        """
        index = self.index()
        unit_name = self._find_unit(unit) if unit else None
        allowed = self._allowed(index, unit_name, category, document_id, include_outdated)
        question = question.strip()
        number = find_measure_number(question) if question else None
        if number is not None:
            anywhere = self._allowed(index, unit_name, category, document_id, True)
            hits = [
                m
                for i, m in enumerate(index.measures)
                if m.view.number == number and (anywhere is None or i in anywhere)
            ]
            hits = _named_documents(question, hits) or (
                hits if include_outdated else [m for m in hits if m.view.validity == IN_FORCE] or hits
            )
            return SearchResult(
                "number",
                [Match(m.view, 1.0) for m in hits][:limit],
                len(hits),
                bool(hits),
                measure_number=number,
            )
        mentioned = self._find_unit(question) if question else None
        if mentioned and self._asks_for_duties(index, question):
            return self._unit_duties(index, mentioned, allowed, limit, offset)
        if not question:
            rows = [
                Match(m.view, 0.0) for i, m in enumerate(index.measures) if allowed is None or i in allowed
            ]
            return SearchResult("browse", rows[offset : offset + limit], len(rows), True, unit=unit_name)
        result, ranking = self._ranked(
            question, topic=topic, unit=mentioned, allowed=allowed, limit=limit, offset=offset
        )
        if not include_outdated and self._outdated and offset == 0:
            outdated = self._allowed(index, unit_name, category, document_id, True)
            result.outdated = self._better_outdated(ranking, result.top_score, outdated)
        return result

    def _better_outdated(self, ranking: Ranking, top: float, allowed: set[int] | None) -> list[Match]:
        """The best measure of a replaced or expired document when only such documents match confidently."""
        hybrid = self.hybrid()
        if top >= hybrid.answer_threshold:
            return []
        mask = np.zeros(hybrid.lexical.n, dtype=bool)
        mask[[i for i in self._outdated if allowed is None or i in allowed]] = True
        best = ranking.top(mask)
        if best < hybrid.answer_threshold or best <= top:
            return []
        return hybrid.rank(ranking, limit=1, allowed=mask)[0]

    def _ranked(
        self,
        question: str,
        *,
        topic: str | None,
        unit: str | None,
        allowed: set[int] | None,
        limit: int,
        offset: int,
    ) -> tuple[SearchResult, Ranking]:
        """Hybrid ranking, then the outcome: answer, clarify, the remit's unit, or decline."""
        hybrid = self.hybrid()
        query = self._query_vector(question)
        ranking = hybrid.score(question, query, topic=topic, unit=unit)
        mask = None
        if allowed is not None:
            mask = np.zeros(hybrid.lexical.n, dtype=bool)
            mask[list(allowed)] = True
        ranked, total = hybrid.rank(
            ranking, limit=limit, offset=offset, min_score=hybrid.clarify_threshold, allowed=mask
        )
        top = ranking.top(mask)
        terms = sorted({t for m in ranked[:3] for t in m.matched_terms})
        outcome: Outcome = "answer" if top >= hybrid.answer_threshold else "clarify" if total else "decline"
        route = self._route(question, query, ranking) if outcome == "decline" else None
        if route is None:
            # A unit's remit, scored like a measure, explains the question clearly better than any
            # measure does: name the unit (the measures stay as candidates). The choice was fitted
            # on rankings without a topic's or a named unit's bonus, so it is made on one.
            plain = ranking if topic is None and unit is None else hybrid.score(question, query)
            route = self._remit_leads(question, query, plain, mask)
        if route is not None:
            outcome = "remit"
        result = SearchResult(
            "search",
            ranked,
            total,
            outcome == "answer",
            unit=unit,
            terms=terms,
            outcome=outcome,
            route=route,
            top_score=top,
        )
        return result, ranking

    @property
    def override(self) -> float:
        """The probability from which retrieval overrules an out-of-scope NLU label."""
        return self.hybrid().override_threshold

    def unit_contact(self, unit: str) -> str:
        """A unit's full name with its phone and address where the database has them."""
        self.index()
        return self._contacts.get(unit, "")

    def use_calibration(self, calibration: Calibration | None) -> None:
        """Score with another calibration from the next question on (the vectors are kept)."""
        with self._lock:
            self.calibration = calibration
            self._revision = -1

    def route(self, question: str) -> RemitRoute | None:
        """The unit whose remit the question is about, whatever the measures' scores."""
        hybrid = self.hybrid()
        query = self._query_vector(question)
        return self._route(question, query, hybrid.score(question, query))

    def remember_query(self, question: str, vector: np.ndarray, model: str) -> bool:
        """Reuse a question's embedding made by the NLU (same model), instead of embedding it again."""
        return self.vectors is not None and self.vectors.remember_query(question, vector, model)

    def _query_vector(self, question: str) -> np.ndarray | None:
        """The question's embedding, or None when dense retrieval is off."""
        return self.vectors.query(question) if self.vectors is not None else None

    def _remit_leads(
        self, question: str, query: np.ndarray | None, ranking: Ranking, allowed: np.ndarray | None
    ) -> RemitRoute | None:
        """The unit the fitted remit choice prefers to the best measure (None: keep the measures)."""
        calibration = self.hybrid().calibration
        if self._remits is None or calibration is None or calibration.remit_choice is None:
            return None
        choice = self._remits.choice(question, query, ranking, calibration, allowed)
        if choice is None:
            return None
        unit, features = choice
        probability = calibration.remit_choice.probability(features)
        if probability < calibration.thresholds.remit_choice:
            return None
        return RemitRoute(unit, self._remits.phrase_of(unit, question, query), probability)

    def remit_choice_features(self, question: str) -> tuple[str, np.ndarray] | None:
        """The best unit and the REMIT_FEATURES row of a question (for calibration)."""
        hybrid = self.hybrid()
        assert self._remits is not None
        query = self._query_vector(question)
        return self._remits.choice(question, query, hybrid.score(question, query), hybrid.calibration)

    def remit_unit_rows(self, question: str) -> tuple[list[str], np.ndarray]:
        """The units with remits and their UNIT_FEATURES rows for a question (for calibration)."""
        hybrid = self.hybrid()
        assert self._remits is not None and hybrid.calibration is not None
        query = self._query_vector(question)
        ranking = hybrid.score(question, query)
        return self._remits.units, self._remits.unit_rows(question, query, ranking, hybrid.calibration)

    def _route(self, question: str, query: np.ndarray | None, ranking: Ranking) -> RemitRoute | None:
        hybrid = self.hybrid()
        if self._remits is None or hybrid.calibration is None:
            return None
        return self._remits.route(
            question, query, hybrid.calibration.thresholds.remit, ranking, hybrid.calibration
        )

    def hybrid(self) -> HybridIndex:
        """The fused index of the current catalogue revision."""
        self.index()
        assert self._hybrid is not None
        return self._hybrid

    def candidates(self, question: str, *, topic: str | None = None, limit: int = 3) -> list[Match]:
        """The best-scoring measures whatever their score (for suggestions, never as an answer)."""
        hybrid = self.hybrid()
        query = self._query_vector(question)
        return hybrid.rank(hybrid.score(question, query, topic=topic), limit=limit, allowed=self._in_force())[
            0
        ]

    def _in_force(self) -> np.ndarray | None:
        """A mask of the measures whose document is in force (None when all are)."""
        if not self._outdated:
            return None
        mask = np.ones(self.hybrid().lexical.n, dtype=bool)
        mask[list(self._outdated)] = False
        return mask

    def remit_closeness(self, question: str) -> float:
        """How close a question is to any unit's remit (for calibration and diagnostics)."""
        self.index()
        assert self._remits is not None
        query = self._query_vector(question)
        return self._remits.closeness(question, query)

    def _asks_for_duties(self, index: MatchIndex, question: str) -> bool:
        text = normalize(question)
        for alias in self._aliases:
            text = text.replace(alias, " ")
        return all(t in DUTY_WORDS or len(t) == 1 for t in index.tokenizer.tokens(text))

    def _unit_duties(
        self, index: MatchIndex, unit: str, allowed: set[int] | None, limit: int, offset: int
    ) -> SearchResult:
        rows = []
        for i, m in enumerate(index.measures):
            if unit in m.unit_names and (allowed is None or i in allowed):
                lead = m.unit_names.index(unit) == 0
                rows.append((not lead, m.view.document_id, m.view.number, m))
        rows.sort(key=lambda r: r[:3])
        matches = [Match(r[3].view, 1.0 if not r[0] else 0.8) for r in rows]
        return SearchResult("unit", matches[offset : offset + limit], len(matches), bool(matches), unit=unit)

    def _allowed(
        self,
        index: MatchIndex,
        unit: str | None,
        category: str | None,
        document_id: int | None,
        include_outdated: bool,
    ) -> set[int] | None:
        outdated = set() if include_outdated else self._outdated
        if unit is None and category is None and document_id is None and not outdated:
            return None
        return {
            i
            for i, m in enumerate(index.measures)
            if (unit is None or unit in m.unit_names)
            and (category is None or category in (m.view.category, str(m.category_key[1])))
            and (document_id is None or m.view.document_id == document_id)
            and i not in outdated
        }

    def unit_names(self) -> dict[str, str]:
        """Every known name and alias (normalised) → canonical unit name."""
        self.index()
        return dict(self._units)


def _named_documents(question: str, hits: list[IndexedMeasure]) -> list[IndexedMeasure]:
    """The hits whose document the question names by year ("2021年方案第5条"), if it names one."""
    years = set(YEAR.findall(question))
    if not years:
        return []
    return [
        m
        for m in hits
        if (m.view.document_date or "")[:4] in years or any(y in m.view.document_title for y in years)
    ]


def _indexed(measure: Measure, units_by_name: dict[str, ResponsibleUnit], today: dt.date) -> IndexedMeasure:
    unit_words = []
    for name in measure.unit_names:
        unit_words.append(name)
        unit_words.extend(units_by_name[name].aliases or [])
    return IndexedMeasure(
        view=measure_view(measure, today=today),
        category_key=(measure.document_id, measure.category.ordinal),
        unit_names=measure.unit_names,
        searchable={
            "title": measure.title,
            "text": measure.text,
            "examples": " ".join(e.text for e in measure.examples),
            "units": " ".join(unit_words),
            "tags": " ".join(measure.tags or []),
            "category": f"{measure.category.title} {measure.category.lead}",
        },
        examples=[e.text for e in measure.examples],
    )


def _contact(unit: ResponsibleUnit) -> str:
    details = "，".join(x for x in (f"电话 {unit.phone}" if unit.phone else "", unit.address) if x)
    name = unit.full_name or unit.name
    return f"{name}（{details}）" if details else name


def match_profile(
    search: PolicySearch, *, enterprise_type: str, need: str, stage_words: str = "", limit: int = 5
) -> list[Match]:
    """Measures for an enterprise profile: the need's matches, favouring those tagged for its type."""
    index = search.index()
    query = " ".join(w for w in (need, stage_words) if w)
    found = index.rank(query, limit=200)[0] if query else []
    ranked = {(m.measure.document_id, m.measure.number): m for m in found}
    scored: list[Match] = []
    for indexed in index.measures:
        if indexed.view.validity != IN_FORCE:
            continue
        base = ranked.get((indexed.view.document_id, indexed.view.number))
        tagged = enterprise_type in (indexed.view.tags or [])
        score = (base.score if base else 0.0) + (PROFILE_TAG_BONUS if tagged else 0.0)
        if base and base.score >= search.threshold or tagged and score >= PROFILE_TAG_BONUS:
            scored.append(Match(indexed.view, min(1.0, score), base.matched_terms if base else ()))
    scored.sort(key=lambda m: (-m.score, m.measure.document_id, m.measure.number))
    return scored[:limit]


PROFILE_TAG_BONUS = 0.3
