"""The whole catalogue as one JSON document: export, and a validated, transactional import.

The export holds documents (with their source text, sections, categories and measures —
versions, status, tags, units in order with their roles, example questions), units with
aliases, contacts and remits, synonyms and stopwords. Document ids are kept, since measures are
addressed by (document id, number); other ids are internal and not exported. Tokens, the
audit trail and question logs are not part of the catalogue. Times are UTC.

An import goes into a database without a catalogue, or, with `replace`, deletes the
current catalogue first — all in the caller's one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import delete, func, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from policy_db.audit import record
from policy_db.auth import Principal
from policy_db.catalogue import bump_revision
from policy_db.clock import as_utc
from policy_db.dictionary import refresh_dictionary
from policy_db.errors import Conflict, InvalidInput
from policy_db.input_text import PlainTextModel
from policy_db.kinds import Status, UnitRole
from policy_db.models import (
    Category,
    ExampleQuestion,
    Measure,
    MeasureUnit,
    PolicyDocument,
    ResponsibleUnit,
    Section,
    Stopword,
    Synonym,
)
from policy_db.text import normalize


class _Record(PlainTextModel):
    """A part of an export: unknown fields refused, text fields checked like the admin API's."""


class UnitRecord(_Record):
    """A responsible unit."""

    name: str = Field(min_length=1, max_length=100)
    full_name: str = Field("", max_length=200)
    aliases: list[str] = Field(default_factory=list)
    kind: str = Field("district_department", max_length=40)
    phone: str = Field("", max_length=60)
    address: str = Field("", max_length=200)
    remit: list[str] = Field(default_factory=list)  # absent in backups made before remits existed


class UnitLinkRecord(_Record):
    """A unit named by a measure, with its role."""

    name: str = Field(min_length=1, max_length=100)
    role: UnitRole = "responsible"


class ExampleRecord(_Record):
    """A curated example question."""

    text: str = Field(min_length=1, max_length=300)
    source: str = Field("seed", max_length=20)
    created_at: dt.datetime | None = None


class MeasureRecord(_Record):
    """A measure with its version and status."""

    multiline_fields = frozenset({"text"})

    number: int = Field(ge=1)
    title: str = Field("", max_length=120)
    text: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    status: Status = "active"
    version: int = Field(1, ge=1)
    units: list[UnitLinkRecord]
    examples: list[ExampleRecord] = Field(default_factory=list)
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


class CategoryRecord(_Record):
    """A category and its measures."""

    multiline_fields = frozenset({"lead"})

    ordinal: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=300)
    lead: str = ""
    measures: list[MeasureRecord] = Field(default_factory=list)


class SectionRecord(_Record):
    """A section and its categories."""

    ordinal: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=300)
    categories: list[CategoryRecord] = Field(default_factory=list)


class DocumentRecord(_Record):
    """A policy document with its source text and structure."""

    multiline_fields = frozenset({"preamble", "source_text"})

    id: int = Field(ge=1)
    slug: str = Field(min_length=1, max_length=120)
    title: str = Field(min_length=1, max_length=300)
    issuers: list[str] = Field(default_factory=list)
    issued_on: dt.date | None = None
    preamble: str = ""
    source_text: str
    status: Status = "active"
    document_number: str = Field(default="", max_length=80)
    effective_on: dt.date | None = None
    expires_on: dt.date | None = None
    superseded_by: int | None = Field(default=None, ge=1)  # the id of the document replacing it
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    sections: list[SectionRecord] = Field(default_factory=list)


class SynonymRecord(_Record):
    """A colloquial variant and the plan's term it expands to."""

    term: str = Field(min_length=1, max_length=60)
    variant: str = Field(min_length=1, max_length=60)


class CatalogueBackup(_Record):
    """The whole catalogue."""

    format: Literal["policybot-catalogue"] = "policybot-catalogue"
    format_version: Literal[1] = 1
    documents: list[DocumentRecord] = Field(default_factory=list)
    units: list[UnitRecord] = Field(default_factory=list)
    synonyms: list[SynonymRecord] = Field(default_factory=list)
    stopwords: list[str] = Field(default_factory=list)


def _optional_utc(moment: dt.datetime | None) -> dt.datetime | None:
    return as_utc(moment) if moment is not None else None


def export_backup(session: Session) -> dict[str, Any]:
    """The catalogue as a JSON-ready dictionary (deterministic: the same data gives the same JSON)."""
    units = session.scalars(select(ResponsibleUnit).order_by(ResponsibleUnit.id)).all()
    export = CatalogueBackup(
        documents=[
            _document_record(d) for d in session.scalars(select(PolicyDocument).order_by(PolicyDocument.id))
        ],
        units=[
            UnitRecord(
                name=u.name,
                full_name=u.full_name,
                aliases=list(u.aliases or []),
                kind=u.kind,
                phone=u.phone,
                address=u.address,
                remit=list(u.remit or []),
            )
            for u in units
        ],
        synonyms=[
            SynonymRecord(term=s.term, variant=s.variant)
            for s in session.scalars(select(Synonym).order_by(Synonym.id))
        ],
        stopwords=list(session.scalars(select(Stopword.word).order_by(Stopword.word))),
    )
    return export.model_dump(mode="json")


def _document_record(document: PolicyDocument) -> DocumentRecord:
    return DocumentRecord(
        id=document.id,
        slug=document.slug,
        title=document.title,
        issuers=list(document.issuers or []),
        issued_on=document.issued_on,
        preamble=document.preamble,
        source_text=document.source_text,
        status=document.status,  # type: ignore[arg-type]
        document_number=document.document_number or "",
        effective_on=document.effective_on,
        expires_on=document.expires_on,
        superseded_by=document.superseded_by_id,
        created_at=_optional_utc(document.created_at),
        updated_at=_optional_utc(document.updated_at),
        sections=[
            SectionRecord(
                ordinal=s.ordinal,
                title=s.title,
                categories=[
                    CategoryRecord(
                        ordinal=c.ordinal,
                        title=c.title,
                        lead=c.lead,
                        measures=[_measure_record(m) for m in c.measures],
                    )
                    for c in s.categories
                ],
            )
            for s in document.sections
        ],
    )


def _measure_record(measure: Measure) -> MeasureRecord:
    return MeasureRecord(
        number=measure.number,
        title=measure.title,
        text=measure.text,
        tags=list(measure.tags or []),
        status=measure.status,  # type: ignore[arg-type]
        version=measure.version,
        units=[
            UnitLinkRecord(name=link.unit.name, role=link.role)  # type: ignore[arg-type]
            for link in measure.unit_links
        ],
        examples=[
            ExampleRecord(text=e.text, source=e.source, created_at=_optional_utc(e.created_at))
            for e in sorted(measure.examples, key=lambda e: e.id)
        ],
        created_at=_optional_utc(measure.created_at),
        updated_at=_optional_utc(measure.updated_at),
    )


def backup_problems(data: CatalogueBackup) -> list[str]:
    """Everything inconsistent in an export (duplicates, units nobody defined); empty when valid."""
    problems: list[str] = []
    problems += _duplicates("文件编号", [d.id for d in data.documents])
    problems += _duplicates("文件标识", [d.slug for d in data.documents])
    problems += _duplicates(
        "单位名称或别名", [normalize(w) for u in data.units for w in {u.name, *u.aliases}]
    )
    problems += _duplicates("同义词", [(s.variant, s.term) for s in data.synonyms])
    problems += _duplicates("停用词", data.stopwords)
    known_units = {u.name for u in data.units}
    document_ids = {d.id for d in data.documents}
    for doc in data.documents:
        if doc.superseded_by is not None and (
            doc.superseded_by == doc.id or doc.superseded_by not in document_ids
        ):
            problems.append(f"文件{doc.id}的替代文件{doc.superseded_by}不存在或是它自己")
        if doc.effective_on and doc.expires_on and doc.expires_on < doc.effective_on:
            problems.append(f"文件{doc.id}的失效日期早于施行日期")
        categories = [c for s in doc.sections for c in s.categories]
        measures = [m for c in categories for m in c.measures]
        problems += _duplicates(f"文件{doc.id}的章序号", [s.ordinal for s in doc.sections])
        problems += _duplicates(f"文件{doc.id}的类别序号", [c.ordinal for c in categories])
        problems += _duplicates(f"文件{doc.id}的措施编号", [m.number for m in measures])
        for measure in measures:
            missing = [u.name for u in measure.units if u.name not in known_units]
            if missing:
                problems.append(f"文件{doc.id}第{measure.number}条措施的单位未定义：{'、'.join(missing)}")
            problems += _duplicates(
                f"文件{doc.id}第{measure.number}条措施的单位", [u.name for u in measure.units]
            )
    return problems


def _duplicates(what: str, values: list[Any]) -> list[str]:
    repeated = [str(v) for v, n in Counter(values).items() if n > 1]
    return [f"{what}重复：{'、'.join(repeated[:10])}"] if repeated else []


def catalogue_counts(session: Session) -> dict[str, int]:
    """How many documents, measures, units, synonyms and stopwords the database holds."""
    return {
        name: session.scalar(select(func.count()).select_from(model)) or 0
        for name, model in (
            ("documents", PolicyDocument),
            ("measures", Measure),
            ("units", ResponsibleUnit),
            ("synonyms", Synonym),
            ("stopwords", Stopword),
        )
    }


def restore_backup(
    session: Session,
    *,
    actor: Principal,
    data: CatalogueBackup,
    replace: bool = False,
    dictionary_path: Path | None = None,
) -> dict[str, int]:
    """Load a backup into an empty catalogue (or, with `replace`, instead of the current one).

    The bot's jieba dictionary at `dictionary_path` (when given) follows the restored catalogue.
    """
    problems = backup_problems(data)
    if problems:
        raise InvalidInput("导入数据有误：" + "；".join(problems[:20]))
    before = catalogue_counts(session)
    if any(before.values()):
        if not replace:
            raise Conflict("数据库中已有政策数据；要整体替换，请使用 replace=true")
        _clear_catalogue(session)
    units = {}
    for unit in data.units:
        units[unit.name] = ResponsibleUnit(**unit.model_dump())
        session.add(units[unit.name])
    session.flush()
    for document in data.documents:
        _add_document(session, document, {name: u.id for name, u in units.items()})
    session.flush()
    for document in data.documents:  # once every document exists, which replaced which
        if document.superseded_by is not None:
            stored = session.get(PolicyDocument, document.id)
            assert stored is not None
            stored.superseded_by_id = document.superseded_by
    session.add_all([Synonym(term=s.term, variant=s.variant) for s in data.synonyms])
    session.add_all([Stopword(word=w) for w in data.stopwords])
    session.flush()
    _advance_sequences(session)
    after = catalogue_counts(session)
    record(
        session,
        actor=actor,
        action="import",
        entity="catalogue",
        key="catalogue",
        before=before if any(before.values()) else None,
        after=after,
    )
    bump_revision(session)
    refresh_dictionary(session, dictionary_path)
    return after


def _clear_catalogue(session: Session) -> None:
    for model in (
        ExampleQuestion,
        MeasureUnit,
        Measure,
        Category,
        Section,
        PolicyDocument,
        ResponsibleUnit,
        Synonym,
        Stopword,
    ):
        session.execute(delete(model))
    session.expunge_all()


def _add_document(session: Session, doc: DocumentRecord, unit_ids: dict[str, int]) -> None:
    times = {"created_at": doc.created_at, "updated_at": doc.updated_at}
    session.add(
        PolicyDocument(
            id=doc.id,
            slug=doc.slug,
            title=doc.title,
            issuers=doc.issuers,
            issued_on=doc.issued_on,
            preamble=doc.preamble,
            source_text=doc.source_text,
            status=doc.status,
            document_number=doc.document_number,
            effective_on=doc.effective_on,
            expires_on=doc.expires_on,
            **{k: v for k, v in times.items() if v is not None},
        )
    )
    for sec in doc.sections:
        section = Section(document_id=doc.id, ordinal=sec.ordinal, title=sec.title)
        session.add(section)
        for cat in sec.categories:
            category = Category(
                document_id=doc.id, section=section, ordinal=cat.ordinal, title=cat.title, lead=cat.lead
            )
            session.add(category)
            for m in cat.measures:
                session.add(_measure(doc.id, category, m, unit_ids))


def _measure(document_id: int, category: Category, m: MeasureRecord, unit_ids: dict[str, int]) -> Measure:
    measure = Measure(
        document_id=document_id,
        category=category,
        number=m.number,
        title=m.title,
        text=m.text,
        tags=m.tags,
        status=m.status,
        version=m.version,
        **{k: v for k, v in (("created_at", m.created_at), ("updated_at", m.updated_at)) if v is not None},
    )
    measure.unit_links = [
        MeasureUnit(unit_id=unit_ids[u.name], position=i, role=u.role) for i, u in enumerate(m.units)
    ]
    measure.examples = [
        ExampleQuestion(
            text=e.text, source=e.source, **({"created_at": e.created_at} if e.created_at else {})
        )
        for e in m.examples
    ]
    return measure


def _advance_sequences(session: Session) -> None:
    # Document ids were inserted explicitly; PostgreSQL's sequence must move past them.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            sql_text(
                "SELECT setval(pg_get_serial_sequence('policy_document', 'id'), MAX(id)) "
                "FROM policy_document HAVING MAX(id) IS NOT NULL"
            )
        )
