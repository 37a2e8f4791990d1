"""Which saved profiles a change *newly* concerns: matched after the change, not before.

The rules are the conversation's:
- kinds: a measure tagged for one of the profile's kinds (`measure.tags ∩ profile.enterprise_types`,
  as `match_profile` favours them);
- topics: the measure's category is one of the categories a followed topic's keywords select
  (`catalogue.topic_categories`: a keyword in the category's title or lead);
- industry: the industry's words occur in the measure (title, text, tags), each word or its
  lexicon synonyms, ignoring words that most measures contain (as the matcher's idf discounts
  them). A text edit that leaves the text nearly the same (a typo fixed) keeps the verdict it had.

Only measures that are active in an active document that is not expired or replaced concern anyone.
Profiles are grouped by their signature (`EnterpriseProfile.match_key`: kinds, topics, industry):
a change is matched once per distinct signature, then the profile ids of the matching signatures
are read — 100,000 profiles cost a `SELECT DISTINCT` and a few thousand set operations.
"""

from __future__ import annotations

import difflib
import json
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, lazyload

from policy_db.catalogue import measure_key, topic_categories
from policy_db.clock import shanghai_today
from policy_db.config import get_settings
from policy_db.dictionary import dictionary_words
from policy_db.kinds import ACTIVE, EXPIRED, REPLACED
from policy_db.models import EnterpriseProfile, Measure, PolicyDocument, Stopword, Synonym
from policy_db.text import PolicyTokenizer, normalize
from policy_db.topics import load_topics, topic_keywords

if TYPE_CHECKING:
    from policy_db.search import PolicySearch

# A text edit keeping this much of the text (difflib ratio) is a correction, not new content.
SAME_TEXT = 0.9
# Share of the industry's words a measure must contain.
INDUSTRY_COVERAGE = 0.75
# Words found in more than this share of the live measures say nothing about an industry (服务).
GENERIC_SHARE = 0.2
ID_CHUNK = 500


@dataclass(frozen=True)
class MeasureState:
    """What matching reads of a measure, before or after a change."""

    key: str  # "document_id:number"
    title: str
    text: str
    tags: frozenset[str]
    category: tuple[int, int]  # (document_id, category ordinal)
    live: bool  # active, in an active document that is not expired or replaced

    @property
    def words(self) -> str:
        """The text the industry's words are looked for in."""
        return normalize(" ".join((self.title, self.text, *sorted(self.tags))))


def measure_state(measure: Measure) -> MeasureState:
    """The matching state of a loaded measure, today (Shanghai)."""
    document = measure.document
    live = (
        measure.status == ACTIVE
        and document.status == ACTIVE
        and document.validity(shanghai_today()) not in (EXPIRED, REPLACED)
    )
    return MeasureState(
        key=measure_key(measure),
        title=measure.title,
        text=measure.text,
        tags=frozenset(measure.tags or []),
        category=(measure.document_id, measure.category.ordinal),
        live=live,
    )


def measure_states(session: Session, measures: Iterable[int | str]) -> dict[str, MeasureState]:
    """The current states of measures given by id (int) or key ("document_id:number"), by key."""
    ids, keys = _split_refs(measures)
    found: dict[str, MeasureState] = {}
    # One query: the document joined, the units and example questions (not read here) not loaded.
    stmt = select(Measure).options(
        joinedload(Measure.document), lazyload(Measure.unit_links), lazyload(Measure.examples)
    )
    if ids:
        for measure in session.scalars(stmt.where(Measure.id.in_(ids))).unique():
            found[measure_key(measure)] = measure_state(measure)
    for document_id, numbers in keys.items():
        rows = session.scalars(stmt.where(Measure.document_id == document_id, Measure.number.in_(numbers)))
        for measure in rows.unique():
            found[measure_key(measure)] = measure_state(measure)
    return found


def _split_refs(measures: Iterable[int | str]) -> tuple[list[int], dict[int, list[int]]]:
    ids: list[int] = []
    keys: dict[int, list[int]] = defaultdict(list)
    for ref in measures:
        if isinstance(ref, int):
            ids.append(ref)
            continue
        document, _, number = str(ref).partition(":")
        if not (document.strip().isdigit() and number.strip().isdigit()):
            raise ValueError(f"not a measure key (document_id:number): {ref!r}")
        keys[int(document)].append(int(number))
    return ids, keys


@dataclass(frozen=True)
class Signature:
    """The part of a profile that matching reads; profiles with the same one match alike."""

    types: frozenset[str]
    topics: frozenset[str]
    industry: str

    @classmethod
    def from_key(cls, match_key: str) -> Signature:
        """Parse `EnterpriseProfile.match_key`."""
        types, topics, industry = json.loads(match_key)
        return cls(frozenset(types), frozenset(topics), str(industry))


_TOKENIZER: PolicyTokenizer | None = None
_TOKENIZER_LOCK = threading.Lock()


def _shared_tokenizer(session: Session) -> PolicyTokenizer:
    """One tokenizer per process with the catalogue's words (jieba's dictionary loads once)."""
    global _TOKENIZER
    with _TOKENIZER_LOCK:
        if _TOKENIZER is None:
            stopwords = list(session.scalars(select(Stopword.word)))
            _TOKENIZER = PolicyTokenizer(dictionary_words(session), stopwords)
        return _TOKENIZER


class ProfileMatcher:
    """Decides whether a measure (before or after a change) concerns a profile signature."""

    def __init__(
        self,
        categories: dict[str, set[tuple[int, int]]],
        tokenizer: PolicyTokenizer,
        synonyms: dict[str, set[str]],
        catalogue: Callable[[], list[str]],
    ) -> None:
        self.categories = categories
        self.tokenizer = tokenizer
        self.synonyms = synonyms
        self._load_catalogue = catalogue  # the active measures' texts, for how common a word is
        self._catalogue: list[str] | None = None
        self._generic: dict[str, bool] = {}
        self._industry_words: dict[str, list[tuple[str, list[str]]]] = {}
        self._verdicts: dict[tuple[str, str], bool] = {}

    @classmethod
    def build(cls, session: Session, search: PolicySearch | None = None) -> ProfileMatcher:
        """The matcher for the catalogue as `session` sees it (the topics' keywords of `search` if given).

        It never asks the search for its index: inside a writing transaction the index's rebuild
        (which stores vectors through another connection) would wait for this very transaction.
        """
        keywords = (
            search.topics if search is not None else topic_keywords(load_topics(get_settings().seeds_dir))
        )
        tokenizer = _shared_tokenizer(session)
        synonyms: dict[str, set[str]] = defaultdict(set)
        for syn in session.scalars(select(Synonym)):
            synonyms[normalize(syn.variant)].add(normalize(syn.term))
        return cls(
            topic_categories(session, keywords), tokenizer, dict(synonyms), lambda: _catalogue(session)
        )

    # --- the three rules ----------------------------------------------------------------------
    def structural(self, signature: Signature, state: MeasureState | None) -> bool:
        """Tagged for one of the kinds, or in a category of a followed topic."""
        if state is None or not state.live:
            return False
        if signature.types & state.tags:
            return True
        return any(state.category in self.categories.get(topic, ()) for topic in signature.topics)

    def industry(self, industry: str, state: MeasureState | None) -> bool:
        """Whether the measure contains (most of) the industry's distinctive words."""
        if not industry or state is None or not state.live:
            return False
        text = state.words
        cached = self._verdicts.get((industry, text))
        if cached is None:
            words = self._words_of(industry)
            found = sum(1 for word, parts in words if self._found(word, parts, text))
            cached = bool(words) and found / len(words) >= INDUSTRY_COVERAGE
            self._verdicts[(industry, text)] = cached
        return cached

    def concerns(self, signature: Signature, state: MeasureState | None) -> bool:
        """Whether a measure in this state concerns profiles of this signature."""
        return self.structural(signature, state) or self.industry(signature.industry, state)

    def newly(self, signature: Signature, before: MeasureState | None, after: MeasureState) -> bool:
        """Concerned after the change, and not before it."""
        if not after.live:
            return False
        was = self.concerns(signature, before)
        if was:
            return False
        if self.structural(signature, after):
            return True
        if before is not None and before.live and _nearly_same(before, after):
            return False  # a corrected text: the industry verdict is the one it had (not concerned)
        return self.industry(signature.industry, after)

    # --- industry words -----------------------------------------------------------------------
    def _words_of(self, industry: str) -> list[tuple[str, list[str]]]:
        """The industry's distinctive words, each with its parts (软件开发: 软件, 开发)."""
        cached = self._industry_words.get(industry)
        if cached is None:
            tokens = list(dict.fromkeys(self.tokenizer.tokens(industry)))
            longest = [t for t in tokens if not any(t != o and t in o for o in tokens)]
            cached = [
                (word, [t for t in tokens if t != word and t in word])
                for word in longest
                if len(word) >= 2 and not self._is_generic(word)
            ]
            self._industry_words[industry] = cached
        return cached

    def _is_generic(self, word: str) -> bool:
        generic = self._generic.get(word)
        if generic is None:
            if self._catalogue is None:  # read once, and only when some profile names an industry
                self._catalogue = self._load_catalogue()
            share = sum(1 for text in self._catalogue if word in text) / max(1, len(self._catalogue))
            generic = self._generic[word] = share > GENERIC_SHARE
        return generic

    def _found(self, word: str, parts: list[str], text: str) -> bool:
        if word in text or (parts and all(p in text for p in parts)):
            return True
        return any(term in text for term in self.synonyms.get(word, ()))


def _catalogue(session: Session) -> list[str]:
    """The searchable words of every active measure of an active document (three columns, no objects)."""
    rows = session.execute(
        select(Measure.title, Measure.text, Measure.tags)
        .join(PolicyDocument)
        .where(Measure.status == ACTIVE, PolicyDocument.status == ACTIVE)
    )
    return [normalize(" ".join((title, text, *sorted(tags or [])))) for title, text, tags in rows]


def _nearly_same(before: MeasureState, after: MeasureState) -> bool:
    if before.tags != after.tags or before.category != after.category:
        return False
    a, b = before.title + "\n" + before.text, after.title + "\n" + after.text
    return a == b or difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= SAME_TEXT


# --- profiles -------------------------------------------------------------------------------------


def concerned_profiles(
    session: Session,
    matcher: ProfileMatcher,
    measures_before: Mapping[str, MeasureState] | Iterable[MeasureState],
    measures_after: Iterable[MeasureState],
) -> dict[int, tuple[str, list[str]]]:
    """Profile id → (its channel, the keys of the measures that newly concern it)."""
    before = _by_key(measures_before)
    after = [s for s in measures_after if s.live]
    if not after:
        return {}
    keys_of: dict[str, list[str]] = {}
    for (match_key,) in session.execute(select(EnterpriseProfile.match_key).distinct()):
        signature = Signature.from_key(match_key)
        keys = [s.key for s in after if matcher.newly(signature, before.get(s.key), s)]
        if keys:
            keys_of[match_key] = keys
    return _profiles_with(session, keys_of)


def _by_key(states: Mapping[str, MeasureState] | Iterable[MeasureState]) -> dict[str, MeasureState]:
    if isinstance(states, Mapping):
        return dict(states)
    return {s.key: s for s in states}


def _profiles_with(session: Session, keys_of: dict[str, list[str]]) -> dict[int, tuple[str, list[str]]]:
    found: dict[int, tuple[str, list[str]]] = {}
    if not keys_of:
        return found
    columns = select(EnterpriseProfile.id, EnterpriseProfile.channel, EnterpriseProfile.match_key)
    if len(keys_of) > 4 * ID_CHUNK:  # most signatures: one pass over every profile
        chunks: Sequence[Sequence[str] | None] = [None]
    else:
        wanted = sorted(keys_of)
        chunks = [wanted[i : i + ID_CHUNK] for i in range(0, len(wanted), ID_CHUNK)]
    for chunk in chunks:
        stmt = columns if chunk is None else columns.where(EnterpriseProfile.match_key.in_(chunk))
        for profile_id, channel, match_key in session.execute(stmt):
            keys = keys_of.get(match_key)
            if keys:
                found[profile_id] = (channel, keys)
    return found


def profiles_for_change(
    session: Session,
    search: PolicySearch | None,
    measures_before: Mapping[str, MeasureState] | Iterable[MeasureState],
    measures_after: Iterable[MeasureState],
) -> set[int]:
    """The ids of the profiles the change newly concerns (matched after it, not before)."""
    matcher = ProfileMatcher.build(session, search)
    return set(concerned_profiles(session, matcher, measures_before, measures_after))
