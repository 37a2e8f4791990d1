"""The FastAPI application: lifespan builds the runtime; policy errors map to HTTP here."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from policy_db.api.routes_admin import router as admin_router
from policy_db.api.routes_admin_ops import router as admin_ops_router
from policy_db.api.routes_insights import router as insights_router
from policy_db.api.routes_public import router as public_router
from policy_db.api.routes_staff import router as staff_router
from policy_db.api.schemas_admin import validation_messages
from policy_db.errors import (
    Conflict,
    InvalidDocument,
    InvalidInput,
    NotFound,
    PolicyError,
    VersionConflict,
)
from policy_db.runtime import Runtime, build_runtime, prepare_database

log = logging.getLogger(__name__)


def create_app(runtime: Runtime | None = None, *, prepare: bool = True) -> FastAPI:
    """Build the app; with no runtime given, one is built from the settings at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = runtime or build_runtime()
        if prepare:
            prepare_database(app.state.runtime, export_dict=False)
        app.state.runtime.search.index()
        yield
        app.state.runtime.database.dispose()

    app = FastAPI(title="普陀营商政策助手 API", version="0.1.0", lifespan=lifespan)
    app.include_router(public_router)
    app.include_router(admin_ops_router)
    app.include_router(admin_router)
    app.include_router(staff_router)
    app.include_router(insights_router)
    _install_error_handlers(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PolicyError)
    async def policy_error(_: Request, error: PolicyError) -> JSONResponse:
        if isinstance(error, NotFound):
            return JSONResponse({"detail": str(error)}, status_code=404)
        if isinstance(error, VersionConflict):
            return JSONResponse({"detail": str(error), "current_version": error.current_version},
                                status_code=409)
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
        return JSONResponse({"detail": "与现有数据冲突（可能刚被他人修改），请刷新后重试"},
                            status_code=409)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [_printable_input(e) for e in error.errors()]
        if not request.url.path.startswith("/api/admin/"):
            return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)
        return JSONResponse({"detail": "；".join(validation_messages(errors)) or "请求内容有误",
                             "errors": jsonable_encoder(errors)}, status_code=422)

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
        return JSONResponse({"detail": "数据库暂时不可用，请稍后再试"}, status_code=503)


def _printable_input(error: dict[str, Any]) -> dict[str, Any]:
    # A body that is not UTF-8 comes back as bytes, which FastAPI's encoder would fail to decode.
    if isinstance(error.get("input"), bytes):
        return {**error, "input": error["input"].decode("utf-8", errors="replace")}
    return error
