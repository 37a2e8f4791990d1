"""Loading the shipped seeds: documents, their annotations, units and the lexicon."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from policy_db.catalogue import bump_revision
from policy_db.ingest import ImportReport, ingest_document
from policy_db.models import (
    ExampleQuestion,
    Measure,
    PolicyDocument,
    ResponsibleUnit,
    Stopword,
    Synonym,
)
from policy_db.parser import parse_document

# Offered when seeds/units.yml names no service center (and when the database itself is down).
DEFAULT_SERVICE_CENTER = {"name": "普陀区行政服务中心", "phone": "12345"}


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping (an empty file gives an empty mapping)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}  # noqa: S506


def is_seeded(session: Session) -> bool:
    """True when the database already holds a policy document."""
    return session.scalar(select(PolicyDocument.id).limit(1)) is not None


def seed_database(session: Session, seeds_dir: Path) -> list[ImportReport]:
    """Import every document in `seeds_dir` with its annotations, units and lexicon."""
    reports = []
    for path in sorted(seeds_dir.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        report = ingest_document(session, parse_document(text), slug=path.stem, source_text=text)
        annotations = path.with_name(f"{path.stem}.annotations.yml")
        if annotations.exists() and report.document_id is not None:
            apply_annotations(session, report.document_id, read_yaml(annotations))
        reports.append(report)
    if (seeds_dir / "units.yml").exists():
        load_units(session, read_yaml(seeds_dir / "units.yml"))
    if (seeds_dir / "lexicon.yml").exists():
        load_lexicon(session, read_yaml(seeds_dir / "lexicon.yml"))
    bump_revision(session)
    return reports


def apply_annotations(session: Session, document_id: int, data: dict[str, Any]) -> None:
    """Set curated short titles and tags, and add curated example questions (idempotent)."""
    measures = {
        m.number: m for m in session.scalars(select(Measure).where(Measure.document_id == document_id))
    }
    for number, note in (data.get("measures") or {}).items():
        measure = measures.get(int(number))
        if measure is None:
            continue
        if note.get("title"):
            measure.title = str(note["title"]).strip()
        if note.get("tags") is not None:
            measure.tags = [str(t) for t in note["tags"]]
        known = {e.text for e in measure.examples}
        for text in note.get("examples") or []:
            text = str(text).strip()
            if text and text not in known:
                measure.examples.append(ExampleQuestion(text=text, source="seed"))
                known.add(text)


def load_units(session: Session, data: dict[str, Any]) -> None:
    """Create or update units with full names, aliases and kinds."""
    units = {u.name: u for u in session.scalars(select(ResponsibleUnit))}
    for entry in data.get("units") or []:
        unit = units.get(entry["name"])
        if unit is None:
            unit = ResponsibleUnit(name=entry["name"])
            session.add(unit)
        unit.full_name = entry.get("full_name") or ""
        unit.aliases = [str(a) for a in entry.get("aliases") or []]
        unit.kind = entry.get("kind") or "district_department"
        unit.phone = str(entry.get("phone") or "")
        unit.address = str(entry.get("address") or "")
        unit.remit = [str(r) for r in entry.get("remit") or []]


def load_lexicon(session: Session, data: dict[str, Any]) -> None:
    """Add the lexicon's synonyms and stopwords that are not there yet."""
    known = {(s.variant, s.term) for s in session.scalars(select(Synonym))}
    for term, variants in (data.get("synonyms") or {}).items():
        for variant in variants or []:
            key = (str(variant), str(term))
            if key not in known and key[0] != key[1]:
                session.add(Synonym(term=key[1], variant=key[0]))
                known.add(key)
    stopwords = set(session.scalars(select(Stopword.word)))
    for word in data.get("stopwords") or []:
        if str(word) not in stopwords:
            session.add(Stopword(word=str(word)))
            stopwords.add(str(word))


def service_center(seeds_dir: Path) -> dict[str, str]:
    """The service-center contact offered when the bot cannot answer."""
    path = seeds_dir / "units.yml"
    data = read_yaml(path) if path.exists() else {}
    center = data.get("service_center") or {}
    return {k: str(v) for k, v in center.items()} or dict(DEFAULT_SERVICE_CENTER)
