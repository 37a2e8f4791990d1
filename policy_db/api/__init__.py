"""The staff and admin HTTP API (FastAPI)."""

from policy_db.api.app import create_app

__all__ = ["create_app"]
