"""The whole catalogue as a JSON backup under /api/admin: download (export) and restore (import)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from app.deps import RuntimeDep, SessionDep
from app.schemas.admin import CatalogueCounts
from app.security import AdminDep, AuthenticatedRoute, require_admin
from policy_db.services.backup import CatalogueBackup, export_backup, restore_backup

router = APIRouter(
    prefix="/api/admin", tags=["admin"], dependencies=[Depends(require_admin)], route_class=AuthenticatedRoute
)


@router.get("/export", response_model=CatalogueBackup)
def get_backup(admin: AdminDep, session: SessionDep, response: Response) -> dict[str, Any]:
    """The whole catalogue as JSON (documents, measures, units, examples, lexicon)."""
    response.headers["Content-Disposition"] = 'attachment; filename="policybot-catalogue.json"'
    return export_backup(session)


@router.post("/import", response_model=CatalogueCounts)
def post_backup(
    body: CatalogueBackup,
    admin: AdminDep,
    runtime: RuntimeDep,
    session: SessionDep,
    replace: Annotated[bool, Query(description="先删除现有政策数据")] = False,
) -> CatalogueCounts:
    """Load an export into an empty catalogue, or with `replace=true` instead of the current one."""
    counts = restore_backup(
        session, actor=admin, data=body, replace=replace, dictionary_path=runtime.settings.dictionary_path
    )
    return CatalogueCounts(**counts)
