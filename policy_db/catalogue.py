"""Reading the catalogue: measures, units, categories, and the revision counter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from policy_db.clock import shanghai_today
from policy_db.errors import MeasureNotFound
from policy_db.kinds import IN_FORCE, Validity
from policy_db.models import (
    ACTIVE,
    CatalogueRevision,
    Category,
    Measure,
    MeasureUnit,
    PolicyDocument,
    ResponsibleUnit,
    Section,
)


@dataclass(frozen=True)
class MeasureView:
    """A measure as the bot, the API and the widget present it (the reply payload's fields)."""

    document_id: int
    number: int
    title: str
    text: str
    category: str
    units: list[str]
    section: str = ""
    document_title: str = ""
    tags: list[str] = field(default_factory=list)
    status: str = ACTIVE
    version: int = 1
    score: float = 0.0
    document_date: str | None = None  # the document's publication date (ISO)
    validity: Validity = IN_FORCE  # of its document, today
    replaced_by: str = ""  # the title of the document that replaced its document

    def payload(self) -> dict[str, object]:
        """The dictionary form used in JSON replies."""
        return asdict(self)


class MeasureRef(Protocol):
    """Anything that names a measure: a loaded measure or its view."""

    @property
    def document_id(self) -> int:
        """The document the measure belongs to."""

    @property
    def number(self) -> int:
        """The measure's number in its document."""


def measure_key(measure: MeasureRef) -> str:
    """The one reference form of a measure: "document_id:number" (slots, logs, audit keys)."""
    return f"{measure.document_id}:{measure.number}"


def measure_view(measure: Measure, score: float = 0.0, today: dt.date | None = None) -> MeasureView:
    """Build the presentation of a loaded measure (its document's validity on `today`, Shanghai)."""
    document = measure.document
    replacement = document.superseded_by
    return MeasureView(
        document_id=measure.document_id,
        number=measure.number,
        title=measure.title,
        text=measure.text,
        category=measure.category.title,
        units=measure.unit_names,
        section=measure.category.section.title,
        document_title=document.title,
        tags=list(measure.tags or []),
        status=measure.status,
        version=measure.version,
        score=round(score, 4),
        document_date=iso_date(document.issued_on),
        validity=document.validity(today or shanghai_today()),
        replaced_by=replacement.title if replacement is not None else "",
    )


@dataclass(frozen=True)
class UnitView:
    """A responsible unit with the numbers of the active measures it is responsible for (leads)."""

    name: str
    full_name: str
    aliases: list[str]
    kind: str
    phone: str
    address: str
    remit: list[str]
    measures: list[int]
    lead_measures: list[int]


@dataclass(frozen=True)
class CategoryView:
    """A category of a document's section, with the numbers of its active measures."""

    document_id: int
    ordinal: int
    title: str
    section: str
    measures: list[int]


@dataclass(frozen=True)
class DocumentView:
    """A policy document, its validity today and how many active measures it has."""

    id: int
    slug: str
    title: str
    issuers: list[str]
    issued_on: str | None
    status: str
    measures: int
    document_number: str = ""
    effective_on: str | None = None
    expires_on: str | None = None
    validity: Validity = IN_FORCE
    superseded_by: int | None = None
    superseded_by_title: str = ""


def iso_date(day: dt.date | None) -> str | None:
    """A date as ISO text for views and payloads (None stays None)."""
    return day.isoformat() if day else None


def document_view(
    document: PolicyDocument, active_measures: int, today: dt.date | None = None
) -> DocumentView:
    """Build the presentation of a loaded document (validity on `today`, Shanghai by default)."""
    replacement = document.superseded_by
    return DocumentView(
        id=document.id,
        slug=document.slug,
        title=document.title,
        issuers=list(document.issuers or []),
        issued_on=iso_date(document.issued_on),
        status=document.status,
        measures=active_measures,
        document_number=document.document_number or "",
        effective_on=iso_date(document.effective_on),
        expires_on=iso_date(document.expires_on),
        validity=document.validity(today or shanghai_today()),
        superseded_by=document.superseded_by_id,
        superseded_by_title=replacement.title if replacement is not None else "",
    )


def get_measure(session: Session, *, document_id: int, number: int) -> Measure:
    """Load one measure by document and number, or raise MeasureNotFound."""
    measure = session.scalar(
        select(Measure).where(Measure.document_id == document_id, Measure.number == number)
    )
    if measure is None:
        raise MeasureNotFound(f"文件{document_id}中没有第{number}条措施")
    return measure


def active_measures(session: Session) -> list[Measure]:
    """All active measures of active documents, in document and number order."""
    stmt = (
        select(Measure)
        .join(PolicyDocument)
        .where(Measure.status == ACTIVE, PolicyDocument.status == ACTIVE)
        .order_by(Measure.document_id, Measure.number)
    )
    return list(session.scalars(stmt).unique())


def list_units(session: Session) -> list[UnitView]:
    """Every unit with its aliases and the numbers of the active measures it is responsible for."""
    rows = session.execute(
        select(ResponsibleUnit.id, Measure.document_id, Measure.number, MeasureUnit.position)
        .join(MeasureUnit, MeasureUnit.unit_id == ResponsibleUnit.id)
        .join(Measure, Measure.id == MeasureUnit.measure_id)
        .where(Measure.status == ACTIVE)
        .order_by(Measure.document_id, Measure.number)
    ).all()
    by_unit: dict[int, list[dict[str, int]]] = {}
    for unit_id, document_id, number, position in rows:
        by_unit.setdefault(unit_id, []).append(
            {"document_id": document_id, "number": number, "position": position}
        )
    units = session.scalars(select(ResponsibleUnit).order_by(ResponsibleUnit.id)).all()
    return [
        UnitView(
            name=u.name,
            full_name=u.full_name,
            aliases=list(u.aliases or []),
            kind=u.kind,
            phone=u.phone,
            address=u.address,
            remit=list(u.remit or []),
            measures=[m["number"] for m in by_unit.get(u.id, [])],
            lead_measures=[m["number"] for m in by_unit.get(u.id, []) if m["position"] == 0],
        )
        for u in units
    ]


def list_categories(session: Session) -> list[CategoryView]:
    """Every category with its document, section and the numbers of its active measures."""
    categories = session.execute(
        select(Category.id, Category.document_id, Category.ordinal, Category.title, Section.title)
        .join(Section, Section.id == Category.section_id)
        .order_by(Category.document_id, Category.ordinal)
    ).all()
    # Two columns per measure, not measures with their units and examples: fast at 10,000.
    numbers: dict[int, list[int]] = {}
    for category_id, number in session.execute(
        select(Measure.category_id, Measure.number).where(Measure.status == ACTIVE).order_by(Measure.number)
    ):
        numbers.setdefault(category_id, []).append(number)
    return [
        CategoryView(document_id, ordinal, title, section, numbers.get(category_id, []))
        for category_id, document_id, ordinal, title, section in categories
    ]


def topic_categories(session: Session, keywords: Mapping[str, list[str]]) -> dict[str, set[tuple[int, int]]]:
    """Topic → the (document, ordinal) of the categories whose title or lead has one of its keywords.

    One rule for the conversation's topic boost and for choosing whom a change notifies.
    """
    categories = session.scalars(select(Category)).all()
    return {
        topic: {
            (c.document_id, c.ordinal)
            for c in categories
            if any(k in c.title or k in (c.lead or "") for k in words)
        }
        for topic, words in keywords.items()
    }


def active_measure_counts(session: Session, document_ids: list[int] | None = None) -> dict[int, int]:
    """How many active measures each document has (counted by the database; absent means 0)."""
    stmt = (
        select(Measure.document_id, func.count())
        .where(Measure.status == ACTIVE)
        .group_by(Measure.document_id)
    )
    if document_ids is not None:
        stmt = stmt.where(Measure.document_id.in_(document_ids))
    return {document_id: count for document_id, count in session.execute(stmt)}


def list_documents(session: Session) -> list[DocumentView]:
    """Every policy document with its number of active measures."""
    counts = active_measure_counts(session)
    return [
        document_view(d, counts.get(d.id, 0))
        for d in session.scalars(select(PolicyDocument).order_by(PolicyDocument.id))
    ]


def current_revision(session: Session) -> int:
    """The catalogue's revision counter (0 on an empty database)."""
    return session.scalar(select(CatalogueRevision.revision).where(CatalogueRevision.id == 1)) or 0


def bump_revision(session: Session) -> None:
    """Record a write to the catalogue; call inside the writing transaction."""
    updated = session.execute(
        update(CatalogueRevision)
        .where(CatalogueRevision.id == 1)
        .values(revision=CatalogueRevision.revision + 1)
    )
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        session.add(CatalogueRevision(id=1, revision=1))
