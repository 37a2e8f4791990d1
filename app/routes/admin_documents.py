"""Policy documents under /api/admin/documents: preview and import (text or upload), retire, restore."""

from __future__ import annotations

from pathlib import PurePath
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile
from sqlalchemy.orm import Session

from app.deps import RuntimeDep, SessionDep
from app.schemas.admin import DocumentImport, DocumentImportResult
from app.schemas.public import DocumentPublic
from app.security import AdminDep, AuthenticatedRoute, require_admin
from policy_db.auth import Principal
from policy_db.kinds import ACTIVE, RETIRED
from policy_db.runtime import Runtime
from policy_db.services.documents import (
    MAX_DOCUMENT_BYTES,
    add_document_text,
    document_state,
    set_document_status,
)

router = APIRouter(
    prefix="/api/admin", tags=["admin"], dependencies=[Depends(require_admin)], route_class=AuthenticatedRoute
)
TOO_LARGE = f"文件过大：上限为 {MAX_DOCUMENT_BYTES // 1_000_000} MB"


def _import_text(
    runtime: Runtime, session: Session, admin: Principal, *, text: str, slug: str, commit: bool
) -> DocumentImportResult:
    if len(text.encode("utf-8")) > MAX_DOCUMENT_BYTES:
        raise HTTPException(413, TOO_LARGE)
    result = add_document_text(
        session,
        actor=admin,
        text=text,
        slug=slug,
        commit=commit,
        dictionary_path=runtime.settings.dictionary_path,
    )
    return DocumentImportResult(**result)


@router.post("/documents", response_model=DocumentImportResult)
def post_document(
    body: DocumentImport, admin: AdminDep, runtime: RuntimeDep, session: SessionDep
) -> DocumentImportResult:
    """Preview (default) or, with `commit`, import a document's text; 422 lists bad lines."""
    return _import_text(runtime, session, admin, text=body.text, slug=body.slug, commit=body.commit)


@router.post("/documents/upload", response_model=DocumentImportResult)
def upload_document(
    admin: AdminDep,
    runtime: RuntimeDep,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="UTF-8 文本文件，不超过 1 MB")],
    slug: Annotated[str | None, Form(max_length=120)] = None,
    commit: Annotated[bool, Form()] = False,
) -> DocumentImportResult:
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
    return document_state(session, document)


@router.post("/documents/{document_id}/restore", response_model=DocumentPublic)
def restore_document(document_id: int, admin: AdminDep, session: SessionDep) -> DocumentPublic:
    """Bring a retired document back into the answers."""
    document = set_document_status(session, actor=admin, document_id=document_id, status=ACTIVE)
    return document_state(session, document)
