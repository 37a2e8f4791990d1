"""The app as served on :8000: the policy API plus the chat widget's static files."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from channels.web.chat import router as chat_router
from policy_db.api import create_app

STATIC_DIR = Path(__file__).resolve().parent / "static"


def build_app() -> FastAPI:
    """Compose the API with the widget (served at `/` when its files are present)."""
    app = create_app()
    app.include_router(chat_router)
    if (STATIC_DIR / "index.html").exists():
        app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="widget")
    return app


app = build_app()
