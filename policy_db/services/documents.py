"""Importing a policy document's text from the console (preview or commit), retiring documents."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from policy_db.audit import record
from policy_db.auth import Principal
from policy_db.catalogue import DocumentView, active_measure_counts, bump_revision, document_view, iso_date
from policy_db.dictionary import refresh_dictionary
from policy_db.errors import Conflict, InvalidInput, NotFound
from policy_db.ingest import default_title, ingest_document
from policy_db.models import ACTIVE, RETIRED, ExampleQuestion, Measure, PolicyDocument
from policy_db.parser import ParsedDocument, parse_document, shape_label
from policy_db.push.matching import measure_states
from policy_db.push.outbox import preview_change, publish_change

MAX_DOCUMENT_BYTES = 1_000_000
MAX_TITLE = 300
MAX_DOCUMENT_NUMBER = 80
# How alike (Jaccard of character bigrams) a new measure must be to a replaced one to inherit its
# short title, tags and example questions.
INHERIT_SIMILARITY = 0.5


@dataclass(frozen=True)
class DocumentMetadata:
    """What identifies a document and when it applies: read from its text, confirmed by the admin."""

    title: str
    document_number: str = ""
    issued_on: dt.date | None = None
    effective_on: dt.date | None = None
    expires_on: dt.date | None = None

    def checked(self) -> DocumentMetadata:
        """These values, or InvalidInput naming what is wrong."""
        title, number = self.title.strip(), self.document_number.strip()
        if not title or len(title) > MAX_TITLE:
            raise InvalidInput(f"文件标题不能为空，且不超过{MAX_TITLE}字")
        if len(number) > MAX_DOCUMENT_NUMBER:
            raise InvalidInput(f"文号不超过{MAX_DOCUMENT_NUMBER}字")
        if self.effective_on and self.expires_on and self.expires_on < self.effective_on:
            raise InvalidInput("失效日期早于施行日期")
        return replace(self, title=title, document_number=number)

    def payload(self) -> dict[str, str | None]:
        """The JSON form: dates as ISO strings."""
        return {
            f.name: value.isoformat() if isinstance(value, dt.date) else value
            for f in fields(self)
            for value in [getattr(self, f.name)]
        }


def parsed_metadata(parsed: ParsedDocument, slug: str) -> DocumentMetadata:
    """The metadata a document states about itself (its title defaults to the slug)."""
    return DocumentMetadata(
        title=parsed.title or slug,
        document_number=parsed.document_number,
        issued_on=parsed.issued_on,
        effective_on=parsed.effective_on,
        expires_on=parsed.expires_on,
    )


def metadata_of(document: PolicyDocument) -> DocumentMetadata:
    """The metadata stored for a document."""
    return DocumentMetadata(
        title=document.title,
        document_number=document.document_number or "",
        issued_on=document.issued_on,
        effective_on=document.effective_on,
        expires_on=document.expires_on,
    )


def _store_metadata(document: PolicyDocument, metadata: DocumentMetadata) -> bool:
    """Write the metadata onto the document; whether anything changed."""
    changed = False
    for name, value in asdict(metadata).items():
        if getattr(document, name) != value:
            setattr(document, name, value)
            changed = True
    return changed


SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,118}[a-z0-9])?")


def check_slug(slug: str) -> str:
    """A valid slug (lower-case letters, digits and hyphens), else InvalidInput."""
    if not SLUG.fullmatch(slug):
        raise InvalidInput(f"文件标识“{slug}”无效：只能用小写字母、数字和连字符，如 putuo-2022-plan")
    return slug


def document_summary(parsed: ParsedDocument) -> dict[str, Any]:
    """What the parser found: shape, header fields and validity, counts, and the units named (in order).

    Sections and categories count the headings written in the text: the implicit ones the parser
    adds (a section's measures without category lines, articles without chapters) are not counted.
    """
    units: list[str] = []
    for _, _, measure in parsed.measures():
        units.extend(ref.name for ref in measure.units if ref.name not in units)
    return {
        "title": parsed.title,
        "shape": parsed.shape,
        "shape_label": shape_label(parsed.shape),
        "document_number": parsed.document_number or None,
        "issuers": list(parsed.issuers),
        "issued_on": iso_date(parsed.issued_on),
        "effective_on": iso_date(parsed.effective_on),
        "expires_on": iso_date(parsed.expires_on),
        "sections": sum(not s.implicit for s in parsed.sections),
        "categories": sum(not c.implicit for s in parsed.sections for c in s.categories),
        "measures": len(parsed.measures()),
        "units": units,
    }


def document_state(session: Session, document: PolicyDocument) -> DocumentView:
    """A document as shown and audited, with its active measure count from the database."""
    return document_view(document, active_measure_counts(session, [document.id]).get(document.id, 0))


def add_document_text(
    session: Session,
    *,
    actor: Principal,
    text: str,
    slug: str,
    commit: bool,
    dictionary_path: Path | None = None,
    metadata: dict[str, Any] | None = None,
    supersedes: str | None = None,
    notify: bool = True,
) -> dict[str, Any]:
    """Parse and import a document; without `commit`, report what would change and roll back.

    New and changed measures are published to the saved enterprise profiles they newly concern
    (`notifications`: how many, and a sample of profile ids); with `notify` false, the change is
    recorded without notifying anyone.

    `metadata` overrides what the document states about itself (title, 文号, dates); `supersedes`
    names the slug of a document this one replaces (it stays searchable for staff). A preview
    rolls back the session's transaction, so run it in a session of its own. A committed import
    also rewrites the bot's jieba dictionary at `dictionary_path`, when given.
    """
    check_slug(slug)
    parsed = parse_document(text)  # InvalidDocument (with line numbers) before anything is written
    chosen = replace(parsed_metadata(parsed, slug), **(metadata or {})).checked()
    replaced = _document_by_slug(session, supersedes) if supersedes else None
    existing = session.scalar(select(PolicyDocument).where(PolicyDocument.slug == slug))
    before = asdict(document_state(session, existing)) if existing else None
    measures_before = measure_states(session, [m.id for m in existing.measures]) if existing else {}
    ingested = ingest_document(session, parsed, slug=slug, source_text=text)
    document = session.get(PolicyDocument, ingested.document_id)
    assert document is not None
    if _store_metadata(document, chosen):
        ingested.outline_changed = True
        bump_revision(session)
    report = asdict(ingested)
    result: dict[str, Any] = {
        "committed": commit,
        "summary": document_summary(parsed),
        "report": report,
        "metadata": chosen.payload(),
        "supersedes": None,
    }
    if replaced is not None:
        supersede(session, actor=actor, old=replaced, new=document)
        result["supersedes"] = asdict(document_state(session, replaced))
        report["inherited"] = inherit_annotations(session, old=replaced, new=document)
    changed = [f"{document.id}:{n}" for n in ingested.created + ingested.updated]
    preview = preview_change(session, after=measure_states(session, changed).values(), before=measures_before)
    result["notifications"] = {
        "count": preview.count if notify else 0,
        "sample": preview.sample if notify else [],
    }
    if commit and changed:
        publish_change(
            session, actor=actor, kind="document", measures=changed, before=measures_before, notify=notify
        )
    if not commit:
        session.rollback()
        if existing is None:
            report["document_id"] = None
        return result
    record(session, actor=actor, action="import", entity="document", key=slug, before=before, after=report)
    refresh_dictionary(session, dictionary_path)
    return result


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def inherit_annotations(session: Session, *, old: PolicyDocument, new: PolicyDocument) -> list[int]:
    """Carry short titles, tags and example questions over from the replaced document.

    Each measure of `new` that has no tags and no examples yet takes them from the measure of `old`
    that says nearly the same (numbers may have moved); returns the numbers that inherited.
    """
    session.flush()
    session.refresh(new)
    candidates = [(m, _bigrams(m.text)) for m in old.measures if m.status == ACTIVE]
    inherited = []
    for measure in new.measures:
        if measure.status != ACTIVE or measure.tags or measure.examples:
            continue
        grams = _bigrams(measure.text)
        best, similarity = _most_alike(grams, candidates)
        if best is None or similarity < INHERIT_SIMILARITY:
            continue
        if measure.title == default_title(measure.text) and best.title:
            measure.title = best.title
        measure.tags = list(best.tags or [])
        for example in best.examples:
            measure.examples.append(ExampleQuestion(text=example.text, source="inherited"))
        inherited.append(measure.number)
    if inherited:
        session.flush()
        bump_revision(session)
    return inherited


def _most_alike(grams: set[str], candidates: list[tuple[Measure, set[str]]]) -> tuple[Measure | None, float]:
    best, similarity = None, 0.0
    for measure, other in candidates:
        union = len(grams | other)
        score = len(grams & other) / union if union else 0.0
        if score > similarity:
            best, similarity = measure, score
    return best, similarity


def _document_by_slug(session: Session, slug: str) -> PolicyDocument:
    document = session.scalar(select(PolicyDocument).where(PolicyDocument.slug == slug))
    if document is None:
        raise NotFound(f"没有标识为“{slug}”的政策文件，无法替代")
    return document


def supersede(session: Session, *, actor: Principal, old: PolicyDocument, new: PolicyDocument | None) -> None:
    """Mark `old` as replaced by `new` (None: in force again); audited, staff still find `old`."""
    if new is not None and new.id == old.id:
        raise InvalidInput("文件不能替代它自己")
    successor = new
    while successor is not None:  # a chain of replacements must not loop back to `old`
        if successor.superseded_by_id == old.id:
            raise Conflict(f"“{new.title if new else ''}”已被“{old.title}”替代，不能反过来替代它")
        successor = successor.superseded_by
    new_id = new.id if new is not None else None
    if old.superseded_by_id == new_id:
        return
    before = asdict(document_state(session, old))
    old.superseded_by_id = new_id
    session.flush()
    session.refresh(old)
    after = asdict(document_state(session, old))
    record(
        session, actor=actor, action="supersede", entity="document", key=old.slug, before=before, after=after
    )
    bump_revision(session)


def update_document(
    session: Session,
    *,
    actor: Principal,
    document_id: int,
    changes: dict[str, Any],
) -> PolicyDocument:
    """Edit a document's metadata and what replaced it (`superseded_by`: a document id or None)."""
    document = session.get(PolicyDocument, document_id)
    if document is None:
        raise NotFound(f"没有编号为{document_id}的政策文件")
    changes = dict(changes)
    if "title" in changes and changes["title"] is None:
        raise InvalidInput("文件标题不能为空")
    for name in ("document_number",):  # null clears it
        if name in changes and changes[name] is None:
            changes[name] = ""
    if "superseded_by" in changes:
        successor_id = changes.pop("superseded_by")
        successor = session.get(PolicyDocument, successor_id) if successor_id is not None else None
        if successor_id is not None and successor is None:
            raise NotFound(f"没有编号为{successor_id}的政策文件")
        supersede(session, actor=actor, old=document, new=successor)
    chosen = replace(metadata_of(document), **changes).checked()
    before = asdict(document_state(session, document))
    if _store_metadata(document, chosen):
        session.flush()
        after = asdict(document_state(session, document))
        record(
            session,
            actor=actor,
            action="update",
            entity="document",
            key=document.slug,
            before=before,
            after=after,
        )
        bump_revision(session)
    return document


def set_document_status(
    session: Session, *, actor: Principal, document_id: int, status: str
) -> PolicyDocument:
    """Retire or restore a whole document (its measures leave or rejoin the answers)."""
    document = session.get(PolicyDocument, document_id)
    if document is None:
        raise NotFound(f"没有编号为{document_id}的政策文件")
    assert status in (ACTIVE, RETIRED)
    if document.status != status:
        before = asdict(document_state(session, document))
        document.status = status
        session.flush()
        record(
            session,
            actor=actor,
            action="retire" if status == RETIRED else "restore",
            entity="document",
            key=document.slug,
            before=before,
            after=asdict(document_state(session, document)),
        )
        bump_revision(session)
    return document
