"""Policy documents under /api/admin/documents: preview and import (text or upload), retire, restore."""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.deps import RuntimeDep, SessionDep
from app.schemas.admin import DocumentImport, DocumentImportResult, DocumentMetadataFields, DocumentUpdate
from app.schemas.public import DocumentPublic
from app.security import AdminDep, AuthenticatedRoute, require_admin
from policy_db.auth import Principal
from policy_db.formats import MAX_FILE_BYTES, UnsupportedDocumentType, read_document
from policy_db.kinds import ACTIVE, RETIRED
from policy_db.runtime import Runtime
from policy_db.services.documents import (
    MAX_DOCUMENT_BYTES,
    add_document_text,
    document_state,
    set_document_status,
    update_document,
)

router = APIRouter(
    prefix="/api/admin", tags=["admin"], dependencies=[Depends(require_admin)], route_class=AuthenticatedRoute
)
TOO_LARGE = f"文件过大：上限为 {MAX_DOCUMENT_BYTES // 1_000_000} MB"


def _import_text(
    runtime: Runtime,
    session: Session,
    admin: Principal,
    *,
    text: str,
    slug: str,
    commit: bool,
    metadata: dict[str, Any] | None = None,
    supersedes: str | None = None,
    notify: bool = True,
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
        metadata=metadata,
        supersedes=supersedes,
        notify=notify,
    )
    return DocumentImportResult(**result)


@router.post("/documents", response_model=DocumentImportResult)
def post_document(
    body: DocumentImport, admin: AdminDep, runtime: RuntimeDep, session: SessionDep
) -> DocumentImportResult:
    """Preview (default) or, with `commit`, import a document's text; 422 lists bad lines."""
    metadata = body.metadata.model_dump(exclude_none=True) if body.metadata else None
    return _import_text(
        runtime,
        session,
        admin,
        text=body.text,
        slug=body.slug,
        commit=body.commit,
        metadata=metadata,
        supersedes=body.supersedes,
        notify=body.notify,
    )


@router.post(
    "/documents/upload",
    response_model=DocumentImportResult,
    responses={
        413: {"description": "文件超过 20 MB，或提取出的文字超过 1 MB"},
        415: {"description": "不支持的文件类型，或内容与扩展名不符"},
        422: {"description": "文件无法读取（损坏、加密、扫描件、压缩炸弹），或格式有误（逐行列出）"},
    },
)
def upload_document(
    admin: AdminDep,
    runtime: RuntimeDep,
    session: SessionDep,
    file: Annotated[
        UploadFile,
        File(
            description="政策文件：.txt（UTF-8 或 GB18030）、.docx、.pdf（须有文字层）、.html/.htm，"
            f"不超过 {MAX_FILE_BYTES // 1_000_000} MB；"
            f"提取出的文字不超过 {MAX_DOCUMENT_BYTES // 1_000_000} MB"
        ),
    ],
    slug: Annotated[str | None, Form(max_length=120)] = None,
    commit: Annotated[bool, Form()] = False,
    metadata: Annotated[
        str | None,
        Form(
            max_length=4000,
            description="JSON：对文件自述的标题、文号和日期的更正，"
            '如 {"document_number": "普府办〔2022〕5号", "effective_on": "2022-03-01"}',
        ),
    ] = None,
    supersedes: Annotated[str | None, Form(max_length=120, description="本文件替代的已有文件的标识")] = None,
    notify: Annotated[bool, Form(description="通知相关的已订阅企业")] = True,
) -> DocumentImportResult:
    """The same as POST /documents with a .txt, .docx, .pdf or .html file; the slug defaults to its name."""
    corrections = _metadata_field(metadata)
    data = bytearray()
    while len(data) <= MAX_FILE_BYTES:  # read in chunks: a huge upload stops at the limit
        chunk = file.file.read(1_000_000)
        if not chunk:
            break
        data += chunk
    if len(data) > MAX_FILE_BYTES:
        raise HTTPException(413, f"文件过大：上限为 {MAX_FILE_BYTES // 1_000_000} MB")
    try:
        text = read_document(bytes(data), file.filename or "")
    except UnsupportedDocumentType as error:
        raise HTTPException(415, str(error)) from error
    if len(text.encode("utf-8")) > MAX_DOCUMENT_BYTES:
        raise HTTPException(413, f"文件中的文字过多：提取出的文字上限为 {MAX_DOCUMENT_BYTES // 1_000_000} MB")
    slug = slug or PurePath(file.filename or "").stem.lower()
    return _import_text(
        runtime,
        session,
        admin,
        text=text,
        slug=slug,
        commit=commit,
        metadata=corrections,
        supersedes=supersedes or None,
        notify=notify,
    )


def _metadata_field(value: str | None) -> dict[str, Any] | None:
    """The upload's `metadata` form field (a JSON object), checked like POST /documents' `metadata`."""
    if not value or not value.strip():
        return None
    try:
        loaded = json.loads(value)
    except json.JSONDecodeError as error:
        raise HTTPException(422, f"metadata 不是有效的 JSON（第{error.pos + 1}个字符附近有误）") from error
    except RecursionError as error:  # nested thousands deep: no metadata object looks like that
        raise HTTPException(422, "metadata 不是有效的 JSON（嵌套过深）") from error
    if not isinstance(loaded, dict):
        raise HTTPException(422, 'metadata 应为 JSON 对象，如 {"document_number": "普府办〔2022〕5号"}')
    try:
        fields = DocumentMetadataFields.model_validate(loaded)
    except ValidationError as error:
        errors = [{**e, "loc": ("body", "metadata", *e["loc"])} for e in error.errors()]
        raise RequestValidationError(errors) from error
    return fields.model_dump(exclude_none=True) or None


@router.patch("/documents/{document_id}", response_model=DocumentPublic)
def patch_document(
    document_id: int, body: DocumentUpdate, admin: AdminDep, session: SessionDep
) -> DocumentPublic:
    """Correct a document's title, 文号 or dates, or record which document replaced it."""
    document = update_document(
        session, actor=admin, document_id=document_id, changes=body.model_dump(exclude_unset=True)
    )
    return document_state(session, document)


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
