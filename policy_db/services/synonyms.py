"""Editing the synonym lexicon (what people say → the plan's term)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from policy_db.audit import record
from policy_db.auth import Principal
from policy_db.catalogue import bump_revision
from policy_db.errors import Conflict, InvalidInput, NotFound
from policy_db.models import (
    Synonym,
)
from policy_db.text import normalize


def synonym_view(synonym: Synonym) -> dict[str, Any]:
    """A lexicon entry: the variant people say and the plan's term it expands to."""
    return {"id": synonym.id, "term": synonym.term, "variant": synonym.variant}


def list_synonyms(session: Session) -> list[Synonym]:
    """The whole synonym lexicon, by term."""
    return list(session.scalars(select(Synonym).order_by(Synonym.term, Synonym.variant)))


def create_synonym(session: Session, *, actor: Principal, term: str, variant: str) -> Synonym:
    """Add a variant → term expansion (贷款 → 融资)."""
    term, variant = term.strip(), variant.strip()
    if not term or not variant:
        raise InvalidInput("术语和说法都不能为空")
    if normalize(term) == normalize(variant):
        raise InvalidInput("说法与术语相同，无需添加")
    if session.scalar(select(Synonym.id).where(Synonym.term == term, Synonym.variant == variant)):
        raise Conflict(f"“{variant}”→“{term}”已存在")
    synonym = Synonym(term=term, variant=variant)
    session.add(synonym)
    session.flush()
    record(
        session,
        actor=actor,
        action="create",
        entity="synonym",
        key=f"{variant}→{term}",
        after=synonym_view(synonym),
    )
    bump_revision(session)
    return synonym


def delete_synonym(session: Session, *, actor: Principal, synonym_id: int) -> None:
    """Remove one lexicon entry."""
    synonym = session.get(Synonym, synonym_id)
    if synonym is None:
        raise NotFound(f"没有编号为{synonym_id}的同义词")
    record(
        session,
        actor=actor,
        action="delete",
        entity="synonym",
        key=f"{synonym.variant}→{synonym.term}",
        before=synonym_view(synonym),
    )
    session.delete(synonym)
    bump_revision(session)
