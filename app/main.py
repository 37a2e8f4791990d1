"""The app as served on :8000: the policy API, the widget's chat endpoints and its static files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from channels.ratelimit import RateLimiter
from app.chat import router as chat_router
from policy_db.api import create_app
from policy_db.config import get_settings
from policy_db.runtime import Runtime

WIDGET_DIR = Path(__file__).resolve().parent / "widget"
CONSOLE_DIR = Path(__file__).resolve().parent / "console"
CONSOLE_PAGES = {"/staff": "staff.html", "/admin": "admin.html", "/admin/insights": "insights.html"}


def _mount_console(app: FastAPI) -> None:
    """The staff console, admin and insights pages, and their assets under /console-static."""
    app.mount("/console-static", StaticFiles(directory=CONSOLE_DIR), name="console")
    for path, page in CONSOLE_PAGES.items():
        app.add_api_route(path, _page(CONSOLE_DIR / page), methods=["GET", "HEAD"],
                          include_in_schema=False)


def _page(file: Path) -> Callable[[], FileResponse]:
    def page() -> FileResponse:
        # Always revalidate: a stale page could call an API that has changed since.
        return FileResponse(file, headers={"Cache-Control": "no-cache"})
    return page


def build_app(runtime: Runtime | None = None, *, prepare: bool = True) -> FastAPI:
    """Compose the API with the chat endpoints, the console pages and the widget (served at `/`)."""
    app = create_app(runtime, prepare=prepare)
    app.include_router(chat_router)
    settings = runtime.settings if runtime else get_settings()
    app.state.chat_limiter = RateLimiter(settings.chat_rate_limit, settings.chat_rate_window_seconds,
                                         settings.redis_url or None, scope="widget")
    _mount_console(app)
    if (WIDGET_DIR / "index.html").exists():
        app.mount("/", StaticFiles(directory=WIDGET_DIR, html=True), name="widget")
    return app


app = build_app()

