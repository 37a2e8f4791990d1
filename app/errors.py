"""How errors reach HTTP callers: policy errors, database trouble and invalid requests as clear JSON."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from app.schemas.admin import validation_messages
from channels.texts import DATABASE_DOWN_TEXT
from policy_db.errors import (
    Conflict,
    InvalidDocument,
    InvalidInput,
    NotFound,
    PolicyError,
    VersionConflict,
)

log = logging.getLogger(__name__)


def install_error_handlers(app: FastAPI) -> None:
    """Map policy, database and validation errors to clear 4xx/503 answers (never a 500 with a trace)."""

    @app.exception_handler(PolicyError)
    async def policy_error(_: Request, error: PolicyError) -> JSONResponse:
        if isinstance(error, NotFound):
            return JSONResponse({"detail": str(error)}, status_code=404)
        if isinstance(error, VersionConflict):
            return JSONResponse(
                {"detail": str(error), "current_version": error.current_version}, status_code=409
            )
        if isinstance(error, InvalidDocument):
            problems = [{"line": p.line, "message": p.message} for p in error.problems]
            return JSONResponse({"detail": "文件格式有误", "problems": problems}, status_code=422)
        if isinstance(error, InvalidInput):
            return JSONResponse({"detail": str(error)}, status_code=422)
        if isinstance(error, Conflict):
            return JSONResponse({"detail": str(error)}, status_code=409)
        return JSONResponse({"detail": str(error)}, status_code=400)

    @app.exception_handler(IntegrityError)
    async def integrity_error(_: Request, error: IntegrityError) -> JSONResponse:
        # A concurrent write won the race for a unique name or number.
        log.warning("integrity error: %s", error.orig)
        return JSONResponse({"detail": "与现有数据冲突（可能刚被他人修改），请刷新后重试"}, status_code=409)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [_printable_input(e) for e in error.errors()]
        if not request.url.path.startswith("/api/admin/"):
            return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)
        return JSONResponse(
            {
                "detail": "；".join(validation_messages(errors)) or "请求内容有误",
                "errors": jsonable_encoder(errors),
            },
            status_code=422,
        )

    @app.exception_handler(DataError)
    @app.exception_handler(OverflowError)
    async def unstorable_value(_: Request, error: Exception) -> JSONResponse:
        # A value the database cannot take (an id beyond 64 bits; a NUL character in PostgreSQL
        # text): the request is wrong, not the server.
        log.warning("value the database cannot store: %s", error)
        return JSONResponse({"detail": "请求中有超出范围的数字或无法保存的字符"}, status_code=422)

    @app.exception_handler(OperationalError)
    async def database_down(_: Request, error: OperationalError) -> JSONResponse:
        log.error("database unavailable: %s", error.orig)
        return JSONResponse({"detail": DATABASE_DOWN_TEXT}, status_code=503)


def _printable_input(error: dict[str, Any]) -> dict[str, Any]:
    # A body that is not UTF-8 comes back as bytes, which FastAPI's encoder would fail to decode.
    if isinstance(error.get("input"), bytes):
        return {**error, "input": error["input"].decode("utf-8", errors="replace")}
    return error
