"""The one provider of shared objects (database, search) built at start-up from settings."""

from __future__ import annotations

from dataclasses import dataclass, field

import redis

from policy_db.calibration import load_calibration
from policy_db.config import Settings, get_settings
from policy_db.db import Database
from policy_db.dictionary import export_dictionary
from policy_db.embedding import shared_embedder
from policy_db.ingest import ImportReport
from policy_db.migrate import upgrade_database
from policy_db.search import PolicySearch
from policy_db.seeding import is_seeded, seed_database, service_center
from policy_db.topics import load_topics, topic_keywords


@dataclass
class Runtime:
    """Everything a process needs to answer questions from the policy database."""

    settings: Settings
    database: Database
    search: PolicySearch
    topics: dict[str, dict[str, object]] = field(default_factory=dict)
    service_center: dict[str, str] = field(default_factory=dict)

    def redis_state(self) -> str:
        """ "absent" without REDIS_URL, else "ok" or "down" (a 0.5 s ping)."""
        if not self.settings.redis_url:
            return "absent"
        try:
            client = redis.Redis.from_url(
                self.settings.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5
            )
            client.ping()
            client.close()
            return "ok"
        except redis.RedisError:
            return "down"


def build_runtime(settings: Settings | None = None) -> Runtime:
    """Connect to the configured database and prepare (lazily) the search index."""
    settings = settings or get_settings()
    database = Database(settings.database_url)
    topics = load_topics(settings.seeds_dir)
    embedder = shared_embedder(settings.embedding_model, threads=settings.embedding_threads)
    calibration = load_calibration(embedder.name) if embedder is not None else None
    search = PolicySearch(
        database,
        threshold=settings.match_threshold,
        topics=topic_keywords(topics),
        embedder=embedder,
        calibration=calibration,
    )
    return Runtime(settings, database, search, topics, service_center(settings.seeds_dir))


def prepare_database(runtime: Runtime, *, export_dict: bool = True) -> list[ImportReport]:
    """Migrate the schema, seed an empty database from the seeds, export the jieba dictionary."""
    upgrade_database(runtime.settings.database_url)
    reports: list[ImportReport] = []
    with runtime.database.session() as session:
        if not is_seeded(session):
            reports = seed_database(session, runtime.settings.seeds_dir)
    if export_dict:
        with runtime.database.session() as session:
            export_dictionary(session, runtime.settings.dictionary_path)
    return reports
