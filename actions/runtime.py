"""The policy_db runtime of the action server, built on first use (never at import time)."""

from __future__ import annotations

import logging
from functools import lru_cache

from policy_db.runtime import Runtime, build_runtime, prepare_database

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def get_runtime() -> Runtime:
    """The action server's runtime; the database is migrated and seeded when empty."""
    runtime = build_runtime()
    prepare_database(runtime, export_dict=False)
    log.info("policy database ready: %s", runtime.settings.database_url)
    return runtime
