"""Admin operations under /api/admin: sign-in check, tokens, documents, audit, export and import.

`whoami` answers any valid token (staff or admin); everything else needs an admin token.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import PurePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Response, UploadFile
from sqlalchemy.orm import Session

from policy_db.admin.documents import (
    MAX_DOCUMENT_BYTES,
    document_view,
    import_policy_text,
    set_document_status,
)
from policy_db.api.deps import RuntimeDep, SessionDep
from policy_db.api.schemas import DocumentPublic
from policy_db.api.schemas_admin import (
    AuditList,
    CatalogueCounts,
    DocumentImport,
    DocumentImportResult,
    TokenCreate,
    TokenIssued,
    TokenPublic,
    WhoAmI,
)
from policy_db.api.security import AdminDep, AuthenticatedRoute, StaffDep, require_staff
from policy_db.audit import ACTIONS, ENTITIES, audit_entries, entry_view, record
from policy_db.auth import Principal, issue_token, list_tokens, revoke_token, token_view
from policy_db.models import ACTIVE, RETIRED
from policy_db.runtime import Runtime
from policy_db.search import export_dictionary
from policy_db.transfer import CatalogueExport, export_catalogue, import_catalogue

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/admin", tags=["admin"], dependencies=[Depends(require_staff)],
                   route_class=AuthenticatedRoute)
TOO_LARGE = f"文件过大：上限为 {MAX_DOCUMENT_BYTES // 1_000_000} MB"


@router.get("/whoami", response_model=WhoAmI)
def whoami(principal: StaffDep) -> WhoAmI:
    """The caller's name and role (the console's sign-in check; staff tokens too)."""
    return WhoAmI(name=principal.name, role=principal.role, token_id=principal.token_id)  # type: ignore[arg-type]


@router.get("/tokens", response_model=list[TokenPublic])
def get_tokens(admin: AdminDep, session: SessionDep) -> list[TokenPublic]:
    """Every token, newest first, without secrets."""
    return [TokenPublic(**token_view(t)) for t in list_tokens(session)]  # type: ignore[arg-type]


@router.post("/tokens", status_code=201, response_model=TokenIssued)
def post_token(body: TokenCreate, admin: AdminDep, session: SessionDep) -> TokenIssued:
    """Issue a staff or admin token; the secret is in this answer only."""
    token, secret = issue_token(session, name=body.name, role=body.role)
    record(session, actor=admin, action="create", entity="token", key=str(token.id),
           after={"name": token.name, "role": token.role})
    return TokenIssued(**token_view(token), token=secret)  # type: ignore[arg-type]


@router.delete("/tokens/{token_id}", status_code=204)
def delete_token(token_id: int, admin: AdminDep, session: SessionDep) -> Response:
    """Revoke a token; it stops working at once."""
    token = revoke_token(session, token_id)
    record(session, actor=admin, action="revoke", entity="token", key=str(token.id),
           after={"name": token.name, "role": token.role, "revoked": True})
    return Response(status_code=204)


def _import_text(runtime: Runtime, session: Session, admin: Principal, *, text: str, slug: str,
                 commit: bool) -> DocumentImportResult:
    if len(text.encode("utf-8")) > MAX_DOCUMENT_BYTES:
        raise HTTPException(413, TOO_LARGE)
    result = import_policy_text(session, actor=admin, text=text, slug=slug, commit=commit)
    if commit:
        _export_dictionary(runtime, session)
    return DocumentImportResult(**result)


def _export_dictionary(runtime: Runtime, session: Session) -> None:
    # The Rasa pipeline's jieba dictionary follows bulk changes (its next training picks them up).
    try:
        export_dictionary(session, runtime.settings.dictionary_path)
    except OSError as error:
        log.warning("could not export the jieba dictionary: %s", error)


@router.post("/documents", response_model=DocumentImportResult)
def post_document(body: DocumentImport, admin: AdminDep, runtime: RuntimeDep,
                  session: SessionDep) -> DocumentImportResult:
    """Preview (default) or, with `commit`, import a document's text; 422 lists bad lines."""
    return _import_text(runtime, session, admin, text=body.text, slug=body.slug, commit=body.commit)


@router.post("/documents/upload", response_model=DocumentImportResult)
def upload_document(admin: AdminDep, runtime: RuntimeDep, session: SessionDep,
                    file: Annotated[UploadFile, File(description="UTF-8 文本文件，不超过 1 MB")],
                    slug: Annotated[str | None, Form(max_length=120)] = None,
                    commit: Annotated[bool, Form()] = False) -> DocumentImportResult:
    """The same as POST /documents with a .txt file; the slug defaults to the file name."""
    data = file.file.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise HTTPException(413, TOO_LARGE)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise HTTPException(422, "文件应为 UTF-8 编码的文本") from error
    slug = slug or PurePath(file.filename or "").stem.lower()
    return _import_text(runtime, session, admin, text=text, slug=slug, commit=commit)


@router.post("/documents/{document_id}/retire", response_model=DocumentPublic)
def retire_document(document_id: int, admin: AdminDep, session: SessionDep) -> DocumentPublic:
    """Take a whole document out of the answers."""
    document = set_document_status(session, actor=admin, document_id=document_id, status=RETIRED)
    return DocumentPublic(**document_view(session, document))


@router.post("/documents/{document_id}/restore", response_model=DocumentPublic)
def restore_document(document_id: int, admin: AdminDep, session: SessionDep) -> DocumentPublic:
    """Bring a retired document back into the answers."""
    document = set_document_status(session, actor=admin, document_id=document_id, status=ACTIVE)
    return DocumentPublic(**document_view(session, document))


@router.get("/audit", response_model=AuditList)
def get_audit(
    admin: AdminDep, session: SessionDep,
    entity: Annotated[Literal[ENTITIES] | None, Query()] = None,  # type: ignore[valid-type]
    action: Annotated[Literal[ACTIONS] | None, Query()] = None,  # type: ignore[valid-type]
    actor: Annotated[str | None, Query(max_length=80, description="令牌名称")] = None,
    since: Annotated[dt.datetime | None, Query(description="ISO 时间，如 2024-01-31T08:00:00Z")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditList:
    """Admin writes, newest first, filtered by entity, action, actor and time."""
    entries = audit_entries(session, entity=entity, action=action, actor=actor, since=since,
                            limit=limit)
    return AuditList(items=[entry_view(e) for e in entries])  # type: ignore[misc]


@router.get("/export", response_model=CatalogueExport)
def export_json(admin: AdminDep, session: SessionDep, response: Response) -> dict[str, Any]:
    """The whole catalogue as JSON (documents, measures, units, examples, lexicon)."""
    response.headers["Content-Disposition"] = 'attachment; filename="policybot-catalogue.json"'
    return export_catalogue(session)


@router.post("/import", response_model=CatalogueCounts)
def import_json(body: CatalogueExport, admin: AdminDep, runtime: RuntimeDep, session: SessionDep,
                replace: Annotated[bool, Query(description="先删除现有政策数据")] = False,
                ) -> CatalogueCounts:
    """Load an export into an empty catalogue, or with `replace=true` instead of the current one."""
    counts = import_catalogue(session, actor=admin, data=body, replace=replace)
    _export_dictionary(runtime, session)
    return CatalogueCounts(**counts)
