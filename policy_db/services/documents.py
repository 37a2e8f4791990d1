"""Importing a policy document's text from the console (preview or commit), retiring documents."""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from policy_db.audit import record
from policy_db.auth import Principal
from policy_db.catalogue import DocumentView, active_measure_counts, bump_revision, document_view
from policy_db.dictionary import refresh_dictionary
from policy_db.errors import InvalidInput, NotFound
from policy_db.ingest import ingest_document
from policy_db.models import ACTIVE, RETIRED, PolicyDocument
from policy_db.parser import ParsedDocument, parse_document

MAX_DOCUMENT_BYTES = 1_000_000
SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,118}[a-z0-9])?")


def check_slug(slug: str) -> str:
    """A valid slug (lower-case letters, digits and hyphens), else InvalidInput."""
    if not SLUG.fullmatch(slug):
        raise InvalidInput(f"文件标识“{slug}”无效：只能用小写字母、数字和连字符，如 putuo-2022-plan")
    return slug


def document_summary(parsed: ParsedDocument) -> dict[str, Any]:
    """What the parser found: header fields, counts, and the units named (in order)."""
    units: list[str] = []
    for _, _, measure in parsed.measures():
        units.extend(ref.name for ref in measure.units if ref.name not in units)
    return {
        "title": parsed.title,
        "issuers": list(parsed.issuers),
        "issued_on": parsed.issued_on.isoformat() if parsed.issued_on else None,
        "sections": len(parsed.sections),
        "categories": sum(len(s.categories) for s in parsed.sections),
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
) -> dict[str, Any]:
    """Parse and import a document; without `commit`, report what would change and roll back.

    A preview rolls back the session's transaction, so run it in a session of its own. A committed
    import also rewrites the bot's jieba dictionary at `dictionary_path`, when given.
    """
    check_slug(slug)
    parsed = parse_document(text)  # InvalidDocument (with line numbers) before anything is written
    existing = session.scalar(select(PolicyDocument).where(PolicyDocument.slug == slug))
    before = asdict(document_state(session, existing)) if existing else None
    report = asdict(ingest_document(session, parsed, slug=slug, source_text=text))
    result = {"committed": commit, "summary": document_summary(parsed), "report": report}
    if not commit:
        session.rollback()
        if existing is None:
            report["document_id"] = None
        return result
    record(session, actor=actor, action="import", entity="document", key=slug, before=before, after=report)
    refresh_dictionary(session, dictionary_path)
    return result


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
