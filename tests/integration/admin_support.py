"""Helpers of the admin API tests: a writable seeded database per module, clients with tokens."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.main import build_app
from policy_db.auth import issue_token
from policy_db.config import Settings
from policy_db.migrate import upgrade_database
from policy_db.models import AuditEntry
from policy_db.runtime import Runtime, build_runtime
from tests.conftest import database_urls, make_runtime

BOOTSTRAP = "bootstrap-secret-for-tests"


@dataclass
class AdminApi:
    """A test client of the app with an admin and a staff token."""

    app: FastAPI
    client: TestClient
    runtime: Runtime
    admin: dict[str, str]
    staff: dict[str, str]

    def measure(self, number: int, document_id: int = 1) -> dict:  # type: ignore[type-arg]
        """The public view of a measure (with its version)."""
        response = self.client.get(f"/api/measures/{document_id}/{number}")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def patch(self, number: int, body: dict, version: int | str | None = None):  # type: ignore[no-untyped-def, type-arg]
        """PATCH a measure of document 1 as admin, If-Match the current version unless given."""
        version = self.measure(number)["version"] if version is None else version
        return self.client.patch(
            f"/api/admin/measures/1/{number}", json=body, headers={**self.admin, "If-Match": str(version)}
        )

    def search(self, question: str, **params: object) -> list[dict]:  # type: ignore[type-arg]
        """Public search results."""
        response = self.client.get("/api/measures", params={"q": question, **params})
        assert response.status_code == 200, response.text
        return response.json()["items"]  # type: ignore[no-any-return]

    def audit_count(self) -> int:
        """How many audit entries there are."""
        with self.runtime.database.session() as session:
            return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def bearer(secret: str) -> dict[str, str]:
    """The Authorization header of a token."""
    return {"Authorization": f"Bearer {secret}"}


def with_bootstrap(runtime: Runtime) -> Runtime:
    """The runtime with ADMIN_BOOTSTRAP_TOKEN set to BOOTSTRAP."""
    runtime.settings = runtime.settings.model_copy(update={"admin_bootstrap_token": BOOTSTRAP})
    return runtime


@contextmanager
def admin_api(runtime: Runtime) -> Iterator[AdminApi]:
    """A running app on `runtime` with a fresh admin token and staff token."""
    with runtime.database.session() as session:
        _, admin = issue_token(session, name="测试管理员", role="admin")
        _, staff = issue_token(session, name="测试工作人员", role="staff")
    app = build_app(with_bootstrap(runtime), prepare=False)
    with TestClient(app) as client:
        yield AdminApi(app, client, runtime, bearer(admin), bearer(staff))


@contextmanager
def seeded_runtime_of(backend: str, tmp: Path) -> Iterator[Runtime]:
    """A migrated, seeded database of `backend`, dropped afterwards."""
    urls = database_urls(tmp, backend)
    runtime = make_runtime(next(urls), tmp)
    try:
        yield runtime
    finally:
        runtime.database.dispose()
        next(urls, None)


@contextmanager
def empty_runtime_of(backend: str, tmp: Path) -> Iterator[Runtime]:
    """A migrated database of `backend` without any catalogue, dropped afterwards."""
    tmp.mkdir(parents=True, exist_ok=True)
    urls = database_urls(tmp, backend)
    url = next(urls)
    upgrade_database(url)
    runtime = build_runtime(
        Settings(
            database_url=url, dictionary_path=tmp / "dict" / "userdict.txt", admin_bootstrap_token=BOOTSTRAP
        )
    )
    try:
        yield runtime
    finally:
        runtime.database.dispose()
        next(urls, None)
