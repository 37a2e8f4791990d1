"""ASGI entry point for uvicorn: `uvicorn policy_db.asgi:app`."""

from policy_db.api import create_app

app = create_app()
