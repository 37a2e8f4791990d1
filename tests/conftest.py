"""Shared fixtures: real SQLite and PostgreSQL databases, migrated and seeded by the product's code."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from policy_db.config import PROJECT_ROOT, Settings
from policy_db.models import TextVector
from policy_db.runtime import Runtime, build_runtime, prepare_database

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SEEDS = PROJECT_ROOT / "seeds"


def _postgres_schema_url(schema: str) -> str:
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


def database_urls(tmp_path: Path, backend: str) -> Iterator[str]:
    """A fresh, empty database of the given backend; PostgreSQL gets its own schema."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'policy.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield _postgres_schema_url(schema)
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


def make_runtime(
    url: str, tmp_path: Path, seeds_dir: Path = SEEDS, *, stored_vectors: bool = True
) -> Runtime:
    """A runtime on `url`, migrated and seeded, with its dictionary exported under tmp_path.

    With `stored_vectors`, the seed texts' vectors are stored as a restarted deployment finds
    them, so the first search does not embed the whole catalogue again (about 40 s a database).
    """
    settings = Settings(
        database_url=url, seeds_dir=seeds_dir, dictionary_path=tmp_path / "dictionary" / "userdict.txt"
    )
    runtime = build_runtime(settings)
    prepare_database(runtime)
    if stored_vectors and runtime.search.vectors is not None:
        store_seed_vectors(runtime)
    return runtime


_seed_vectors: list[dict[str, Any]] = []


def seed_vectors() -> list[dict[str, Any]]:
    """The stored vectors of every seed text, embedded by the real model once per test session."""
    if not _seed_vectors:
        with tempfile.TemporaryDirectory() as tmp:
            runtime = make_runtime(f"sqlite:///{tmp}/vectors.db", Path(tmp), stored_vectors=False)
            runtime.search.index()
            with runtime.database.session() as session:
                rows = session.execute(sa.select(TextVector)).scalars().all()
                _seed_vectors.extend(
                    {"model": r.model, "text_hash": r.text_hash, "dim": r.dim, "vector": r.vector}
                    for r in rows
                )
            runtime.database.dispose()
    return _seed_vectors


def store_seed_vectors(runtime: Runtime) -> None:
    """Store the seed texts' vectors in the runtime's database (rows it already has are kept)."""
    with runtime.database.session() as session:
        known = set(session.execute(sa.select(TextVector.model, TextVector.text_hash)).tuples())
        rows = [r for r in seed_vectors() if (r["model"], r["text_hash"]) not in known]
        if rows:
            session.execute(sa.insert(TextVector), rows)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """Each test using this runs on SQLite and on PostgreSQL."""
    return str(request.param)


@pytest.fixture
def empty_database_url(tmp_path: Path, backend: str) -> Iterator[str]:
    """A new empty database (not migrated)."""
    yield from database_urls(tmp_path, backend)


@pytest.fixture
def runtime(empty_database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    """A migrated, seeded database of each backend, fresh for the test (safe to write to)."""
    rt = make_runtime(empty_database_url, tmp_path)
    yield rt
    rt.database.dispose()


@pytest.fixture
def cold_runtime(empty_database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    """Like `runtime`, but no vector is stored yet: the first search embeds the whole catalogue."""
    rt = make_runtime(empty_database_url, tmp_path, stored_vectors=False)
    yield rt
    rt.database.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_runtime(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runtime]:
    """A seeded database of each backend shared by a module's read-only tests."""
    tmp = tmp_path_factory.mktemp("shared")
    urls = database_urls(tmp, str(request.param))
    rt = make_runtime(next(urls), tmp)
    yield rt
    rt.database.dispose()
    next(urls, None)


@pytest.fixture(scope="session")
def seeded_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """One seeded SQLite database shared by read-only tests."""
    tmp = tmp_path_factory.mktemp("seeded")
    rt = make_runtime(f"sqlite:///{tmp / 'policy.db'}", tmp)
    yield rt
    rt.database.dispose()
