"""The audit trail of admin writes under /api/admin/audit."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.deps import SessionDep
from app.schemas.admin import AuditList
from app.security import AdminDep, AuthenticatedRoute, require_admin
from policy_db.audit import audit_entries, entry_view
from policy_db.kinds import AuditAction, AuditEntity

router = APIRouter(
    prefix="/api/admin", tags=["admin"], dependencies=[Depends(require_admin)], route_class=AuthenticatedRoute
)


@router.get("/audit", response_model=AuditList)
def get_audit(
    admin: AdminDep,
    session: SessionDep,
    entity: Annotated[AuditEntity | None, Query()] = None,
    action: Annotated[AuditAction | None, Query()] = None,
    actor: Annotated[str | None, Query(max_length=80, description="令牌名称")] = None,
    since: Annotated[dt.datetime | None, Query(description="ISO 时间，如 2024-01-31T08:00:00Z")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditList:
    """Admin writes, newest first, filtered by entity, action, actor and time."""
    entries = audit_entries(session, entity=entity, action=action, actor=actor, since=since, limit=limit)
    return AuditList(items=[entry_view(e) for e in entries])  # type: ignore[misc]
