"""The app as served on :8000: the policy API, the widget's chat endpoints and its static files."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from channels.web.chat import router as chat_router
from channels.web.ratelimit import RateLimiter
from policy_db.api import create_app
from policy_db.config import get_settings
from policy_db.runtime import Runtime

STATIC_DIR = Path(__file__).resolve().parent / "static"


def build_app(runtime: Runtime | None = None, *, prepare: bool = True) -> FastAPI:
    """Compose the API with the chat endpoints and the widget (served at `/`)."""
    app = create_app(runtime, prepare=prepare)
    app.include_router(chat_router)
    settings = runtime.settings if runtime else get_settings()
    app.state.chat_limiter = RateLimiter(settings.chat_rate_limit, settings.chat_rate_window_seconds,
                                         settings.redis_url or None)
    if (STATIC_DIR / "index.html").exists():
        app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="widget")
    return app


app = build_app()
