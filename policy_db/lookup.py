"""Looking measures up with filters: the one search behind the public API, the staff console and exports.

The filters are checked first (an unknown unit, category, section or document is an error, not an
empty page); then the bot's matcher ranks, and a section filter narrows the ranked list.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from policy_db.catalogue import MeasureView
from policy_db.errors import NotFound, UnitNotFound
from policy_db.models import Category, PolicyDocument, Section
from policy_db.search import Outcome, PolicySearch, SearchKind

MAX_RANKED = 1_000_000  # "all of them", for narrowing by section after ranking


@dataclass(frozen=True)
class MeasureQuery:
    """A question or keywords and the filters a lookup may combine."""

    q: str = ""
    unit: str | None = None
    category: str | None = None
    section: str | None = None
    document_id: int | None = None
    include_outdated: bool = False  # also measures of expired and replaced documents


@dataclass(frozen=True)
class Route:
    """The unit whose remit the question belongs to, with its contact."""

    unit: str
    phrase: str
    contact: str = ""


@dataclass(frozen=True)
class MeasurePage:
    """One page of ranked measures, and how the question was read (what the bot would do)."""

    items: list[MeasureView]
    total: int
    kind: SearchKind = "search"
    unit: str | None = None
    terms: list[str] = field(default_factory=list)
    outcome: Outcome = "answer"
    route: Route | None = None


def check_filters(search: PolicySearch, session: Session, query: MeasureQuery) -> None:
    """Raise NotFound (UnitNotFound) for a filter that names nothing in the catalogue."""
    if query.unit and search.resolve_unit(query.unit) is None:
        raise UnitNotFound(f"没有名为“{query.unit}”的责任单位")
    if query.category and not session.scalar(select(Category.id).where(Category.title == query.category)):
        raise NotFound(f"没有名为“{query.category}”的类别")
    section = select(Section.id).where(Section.title == query.section).limit(1)
    if query.section and session.scalar(section) is None:
        raise NotFound(f"没有名为“{query.section}”的章")
    if query.document_id and session.get(PolicyDocument, query.document_id) is None:
        raise NotFound(f"没有编号为{query.document_id}的政策文件")


def find_measures(
    search: PolicySearch, session: Session, query: MeasureQuery, *, limit: int, offset: int = 0
) -> MeasurePage:
    """Check the filters, rank with the bot's matcher, narrow to the section, and page."""
    check_filters(search, session, query)
    # The matcher has no section filter: rank everything the other filters allow, then narrow.
    wide = bool(query.section)
    result = search.search(
        query.q,
        unit=query.unit,
        category=query.category,
        document_id=query.document_id,
        limit=MAX_RANKED if wide else limit,
        offset=0 if wide else offset,
        # A document asked for by id is searched whatever its validity.
        include_outdated=query.include_outdated or query.document_id is not None,
    )
    matches, total = result.matches, result.total
    if wide:
        matches = [m for m in matches if m.measure.section == query.section]
        matches, total = matches[offset : offset + limit], len(matches)
    route = None
    if result.route is not None:
        route = Route(result.route.unit, result.route.phrase, search.unit_contact(result.route.unit))
    return MeasurePage(
        items=[replace(m.measure, score=round(m.score, 4)) for m in matches],
        total=total,
        kind=result.kind,
        unit=result.unit,
        terms=result.terms,
        outcome=result.outcome,
        route=route,
    )
