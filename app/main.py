"""The one ASGI app (`uvicorn app.main:app`): the policy API, the widget's chat, the console and the widget.

The runtime (database, matcher, settings) is built when the app starts; routes reach it through
`app.deps`. Routers are grouped by audience: public, staff, admin, insights, chat.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Response
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from app import console_pages
from app.errors import install_error_handlers
from app.routes import (
    admin_access,
    admin_audit,
    admin_backup,
    admin_catalogue,
    admin_documents,
    admin_measures,
    admin_people,
    chat,
    insights,
    public,
    staff,
    subscriptions,
)
from channels.ratelimit import RateLimiter
from policy_db import kinds
from policy_db.config import get_settings
from policy_db.runtime import Runtime, build_runtime, prepare_database

WIDGET_DIR = Path(__file__).resolve().parent / "widget"
ROUTERS = (
    public,
    admin_access,
    admin_documents,
    admin_audit,
    admin_backup,
    admin_measures,
    admin_catalogue,
    admin_people,
    staff,
    insights,
    chat,
    subscriptions,
)


def build_app(runtime: Runtime | None = None, *, prepare: bool = True) -> FastAPI:
    """The app; with no runtime given, one is built from the settings at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = runtime or build_runtime()
        if prepare:
            prepare_database(app.state.runtime, export_dict=False)
        app.state.runtime.search.index()
        yield
        app.state.runtime.database.dispose()

    app = FastAPI(title="普陀营商政策助手 API", version="0.1.0", lifespan=lifespan)
    for module in ROUTERS:
        app.include_router(module.router)
    install_error_handlers(app)
    settings = runtime.settings if runtime else get_settings()
    app.state.chat_limiter = RateLimiter(
        settings.chat_rate_limit,
        settings.chat_rate_window_seconds,
        settings.redis_url or None,
        scope="widget",
    )
    _mount_console(app)
    if (WIDGET_DIR / "index.html").exists():
        app.mount("/", StaticFiles(directory=WIDGET_DIR, html=True), name="widget")
    return app


def _mount_console(app: FastAPI) -> None:
    """The staff console, admin and insights pages, and their assets under /console-static."""
    # Before the static mount, which would otherwise answer this path.
    app.add_api_route(
        "/console-static/js/kinds.js", _kinds_module, methods=["GET", "HEAD"], include_in_schema=False
    )
    app.mount("/console-static", StaticFiles(directory=console_pages.CONSOLE_DIR), name="console")
    for path, page in console_pages.PAGES.items():
        app.add_api_route(
            path, _page(console_pages.render(page)), methods=["GET", "HEAD"], include_in_schema=False
        )


def _kinds_module() -> Response:
    """The closed vocabularies and their labels as an ES module, from `policy_db.kinds`."""
    body = "".join(
        f"export const {name.upper()} = Object.freeze({json.dumps(values, ensure_ascii=False)});\n"
        for name, values in kinds.labels().items()
    )
    return Response(body, media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "no-cache"})


def _page(html: str) -> Callable[[], HTMLResponse]:
    def page() -> HTMLResponse:
        # Always revalidate: a stale page could call an API that has changed since.
        return HTMLResponse(html, headers={"Cache-Control": "no-cache"})

    return page


app = build_app()
