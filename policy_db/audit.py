"""The audit trail of admin writes: who, when, what, and the record before and after."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from policy_db.auth import Principal
from policy_db.clock import as_utc
from policy_db.kinds import AUDIT_ACTIONS, AUDIT_ENTITIES
from policy_db.models import AuditEntry

ENTITIES = AUDIT_ENTITIES
ACTIONS = AUDIT_ACTIONS


def record(
    session: Session,
    *,
    actor: Principal,
    action: str,
    entity: str,
    key: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add an audit entry to the writing transaction (it commits or rolls back with the write)."""
    assert action in ACTIONS and entity in ENTITIES, (action, entity)
    session.add(
        AuditEntry(
            actor=actor.name,
            token_id=actor.token_id,
            action=action,
            entity=entity,
            entity_key=key[:200],
            before=before,
            after=after,
        )
    )


def audit_entries(
    session: Session,
    *,
    entity: str | None = None,
    action: str | None = None,
    actor: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Audit entries matching the filters, newest first."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if entity:
        stmt = stmt.where(AuditEntry.entity == entity)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    if since is not None:
        stmt = stmt.where(AuditEntry.created_at >= as_utc(since))
    return list(session.scalars(stmt))


def entry_view(entry: AuditEntry) -> dict[str, Any]:
    """An audit entry as the API shows it."""
    created = as_utc(entry.created_at)
    return {
        "id": entry.id,
        "actor": entry.actor,
        "token_id": entry.token_id,
        "action": entry.action,
        "entity": entry.entity,
        "key": entry.entity_key,
        "before": entry.before,
        "after": entry.after,
        "created_at": created,
    }
