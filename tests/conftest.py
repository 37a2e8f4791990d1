"""Shared fixtures: real SQLite and PostgreSQL databases, migrated and seeded by the product's code."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from policy_db.config import PROJECT_ROOT, Settings
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


def make_runtime(url: str, tmp_path: Path, seeds_dir: Path = SEEDS) -> Runtime:
    """A runtime on `url`, migrated and seeded, with its dictionary exported under tmp_path."""
    settings = Settings(
        database_url=url, seeds_dir=seeds_dir, dictionary_path=tmp_path / "dictionary" / "userdict.txt"
    )
    runtime = build_runtime(settings)
    prepare_database(runtime)
    return runtime


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
