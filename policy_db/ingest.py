"""Writing parsed documents into the database: idempotent, keeping measure identities."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from policy_db.catalogue import bump_revision
from policy_db.models import (
    ACTIVE,
    RETIRED,
    Category,
    Measure,
    MeasureUnit,
    PolicyDocument,
    ResponsibleUnit,
    Section,
)
from policy_db.parser import ParsedCategory, ParsedDocument, ParsedMeasure, ParsedSection


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do)."""

    slug: str
    document_id: int | None = None
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    retired: list[int] = field(default_factory=list)
    new_units: list[str] = field(default_factory=list)
    outline_changed: bool = False  # the document, a section or a category was added or edited

    @property
    def changed(self) -> bool:
        """True when the import wrote anything."""
        return bool(self.created or self.updated or self.retired or self.new_units or self.outline_changed)


def default_title(text: str, limit: int = 16) -> str:
    """A short title from a measure's first clause, for measures nobody has titled yet."""
    for stop in "，,。；;":
        text = text.split(stop, 1)[0]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def ingest_document(session: Session, parsed: ParsedDocument, *, slug: str, source_text: str) -> ImportReport:
    """Create or update the document `slug` from `parsed`; re-importing the same text is a no-op."""
    report = ImportReport(slug=slug)
    document = session.scalar(select(PolicyDocument).where(PolicyDocument.slug == slug))
    if document is None:
        document = PolicyDocument(slug=slug, title=parsed.title or slug, source_text=source_text)
        session.add(document)
        report.outline_changed = True
    if _set_if_changed(
        document,
        title=parsed.title or document.title,
        issuers=list(parsed.issuers),
        issued_on=parsed.issued_on,
        preamble=parsed.preamble,
        source_text=source_text,
        status=ACTIVE,
    ):
        report.outline_changed = True
    session.flush()
    report.document_id = document.id
    units = _units_by_name(session, parsed, report)
    existing = {
        m.number: m for m in session.scalars(select(Measure).where(Measure.document_id == document.id))
    }
    seen: set[int] = set()
    for parsed_section in parsed.sections:
        # Implicit headings (no category lines, articles without chapters) have empty titles:
        # stored under the title of what contains them, so answers never show an empty "（）".
        section_title = parsed_section.title or document.title
        section = _upsert_section(session, document, parsed_section, section_title, report)
        for parsed_category in parsed_section.categories:
            category_title = parsed_category.title or section_title
            category = _upsert_category(session, document, section, parsed_category, category_title, report)
            for parsed_measure in parsed_category.measures:
                seen.add(parsed_measure.number)
                _upsert_measure(session, document, category, parsed_measure, existing, units, report)
    for number, measure in existing.items():
        if number not in seen and measure.status != RETIRED:
            measure.status = RETIRED
            measure.version += 1
            report.retired.append(number)
    if report.changed:
        bump_revision(session)
    session.flush()
    return report


def _set_if_changed(obj: object, **values: object) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _units_by_name(
    session: Session, parsed: ParsedDocument, report: ImportReport
) -> dict[str, ResponsibleUnit]:
    names = {ref.name for _, _, m in parsed.measures() for ref in m.units}
    units = {
        u.name: u for u in session.scalars(select(ResponsibleUnit).where(ResponsibleUnit.name.in_(names)))
    }
    for name in sorted(names - units.keys()):
        unit = ResponsibleUnit(name=name, full_name="", aliases=[])
        session.add(unit)
        units[name] = unit
        report.new_units.append(name)
    session.flush()
    return units


def _upsert_section(
    session: Session, document: PolicyDocument, parsed: ParsedSection, title: str, report: ImportReport
) -> Section:
    section = session.scalar(
        select(Section).where(Section.document_id == document.id, Section.ordinal == parsed.ordinal)
    )
    if section is None:
        section = Section(document_id=document.id, ordinal=parsed.ordinal, title=title)
        session.add(section)
        report.outline_changed = True
    if _set_if_changed(section, title=title):
        report.outline_changed = True
    session.flush()
    return section


def _upsert_category(
    session: Session,
    document: PolicyDocument,
    section: Section,
    parsed: ParsedCategory,
    title: str,
    report: ImportReport,
) -> Category:
    category = session.scalar(
        select(Category).where(Category.document_id == document.id, Category.ordinal == parsed.ordinal)
    )
    if category is None:
        category = Category(
            document_id=document.id,
            section_id=section.id,
            ordinal=parsed.ordinal,
            title=title,
            lead=parsed.lead,
        )
        session.add(category)
        report.outline_changed = True
    if _set_if_changed(category, section_id=section.id, title=title, lead=parsed.lead):
        report.outline_changed = True
    session.flush()
    return category


def _upsert_measure(
    session: Session,
    document: PolicyDocument,
    category: Category,
    parsed: ParsedMeasure,
    existing: dict[int, Measure],
    units: dict[str, ResponsibleUnit],
    report: ImportReport,
) -> None:
    wanted_units = [(units[ref.name].id, ref.role) for ref in parsed.units]
    measure = existing.get(parsed.number)
    if measure is None:
        measure = Measure(
            document_id=document.id,
            category_id=category.id,
            number=parsed.number,
            text=parsed.text,
            title=default_title(parsed.text),
            tags=[],
        )
        measure.unit_links = _links(wanted_units)
        session.add(measure)
        report.created.append(parsed.number)
        return
    current_units = [(link.unit_id, link.role) for link in measure.unit_links]
    changed = _set_if_changed(measure, text=parsed.text, category_id=category.id, status=ACTIVE)
    if current_units != wanted_units:
        measure.unit_links.clear()
        session.flush()
        measure.unit_links.extend(_links(wanted_units))
        changed = True
    if changed:
        measure.version += 1
        report.updated.append(parsed.number)
    else:
        report.unchanged.append(parsed.number)


def _links(wanted: Sequence[tuple[int, str]]) -> list[MeasureUnit]:
    return [MeasureUnit(unit_id=uid, position=i, role=role) for i, (uid, role) in enumerate(wanted)]
