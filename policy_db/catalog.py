"""Reading the catalogue: measures, units, categories, and the revision counter."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from policy_db.errors import MeasureNotFound
from policy_db.models import (
    ACTIVE,
    CatalogRevision,
    Category,
    Measure,
    MeasureUnit,
    PolicyDocument,
    ResponsibleUnit,
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

    def payload(self) -> dict[str, object]:
        """The dictionary form used in JSON replies."""
        return asdict(self)


def measure_view(measure: Measure, score: float = 0.0) -> MeasureView:
    """Build the presentation of a loaded measure."""
    return MeasureView(
        document_id=measure.document_id,
        number=measure.number,
        title=measure.title,
        text=measure.text,
        category=measure.category.title,
        units=measure.unit_names,
        section=measure.category.section.title,
        document_title=measure.document.title,
        tags=list(measure.tags or []),
        status=measure.status,
        version=measure.version,
        score=round(score, 4),
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


def list_units(session: Session) -> list[dict[str, object]]:
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
        {
            "name": u.name,
            "full_name": u.full_name,
            "aliases": list(u.aliases or []),
            "kind": u.kind,
            "phone": u.phone,
            "address": u.address,
            "measures": [m["number"] for m in by_unit.get(u.id, [])],
            "lead_measures": [m["number"] for m in by_unit.get(u.id, []) if m["position"] == 0],
        }
        for u in units
    ]


def list_categories(session: Session) -> list[dict[str, object]]:
    """Every category with its document, section and number of active measures."""
    categories = session.scalars(
        select(Category).order_by(Category.document_id, Category.ordinal)
    ).all()
    return [
        {
            "document_id": c.document_id,
            "ordinal": c.ordinal,
            "title": c.title,
            "section": c.section.title,
            "measures": [m.number for m in c.measures if m.status == ACTIVE],
        }
        for c in categories
    ]


def list_documents(session: Session) -> list[dict[str, object]]:
    """Every policy document with its counts."""
    documents = session.scalars(select(PolicyDocument).order_by(PolicyDocument.id)).all()
    return [
        {
            "id": d.id,
            "slug": d.slug,
            "title": d.title,
            "issuers": list(d.issuers or []),
            "issued_on": d.issued_on.isoformat() if d.issued_on else None,
            "status": d.status,
            "measures": sum(1 for m in d.measures if m.status == ACTIVE),
        }
        for d in documents
    ]


def current_revision(session: Session) -> int:
    """The catalogue's revision counter (0 on an empty database)."""
    return session.scalar(select(CatalogRevision.revision).where(CatalogRevision.id == 1)) or 0


def bump_revision(session: Session) -> None:
    """Record a write to the catalogue; call inside the writing transaction."""
    updated = session.execute(
        update(CatalogRevision)
        .where(CatalogRevision.id == 1)
        .values(revision=CatalogRevision.revision + 1)
    )
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        session.add(CatalogRevision(id=1, revision=1))
