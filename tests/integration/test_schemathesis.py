"""Property-based requests from the app's own OpenAPI schema: no input gives a server error.

Schemathesis generates valid and invalid requests for every operation of the widget app
(`app.main.build_app`, in process over ASGI) on a seeded SQLite database of its own,
which the admin operations may freely change. Every operation runs without a token; the admin
and staff operations run again with a valid admin token, issued with the product's
`issue_token` for each request (an operation may revoke tokens: a revoked token would turn
the rest of the run into 401s). Nothing is excluded. `/api/chat` forwards to a Rasa URL where
nothing listens, so it answers with its apology rather than waiting for a bot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from sqlalchemy import select

from app import main as server
from app.main import build_app
from policy_db.auth import issue_token
from policy_db.models import Measure
from policy_db.runtime import Runtime
from tests.conftest import database_urls, make_runtime

REPLACES_CATALOGUE = "POST /api/admin/import"
EXAMPLES = settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def api_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """A seeded SQLite database for this module alone (the run writes to it)."""
    tmp = tmp_path_factory.mktemp("schemathesis")
    runtime = make_runtime(f"sqlite:///{tmp / 'policy.db'}", tmp)
    runtime.settings.rasa_url = "http://127.0.0.1:9"  # nothing listens: /api/chat apologises
    runtime.settings.redis_url = None
    yield runtime
    runtime.database.dispose()


@pytest.fixture(scope="module")
def api_schema(api_runtime: Runtime) -> Iterator[schemathesis.BaseSchema]:
    """The running app's OpenAPI schema, its calls served in process."""
    app = build_app(api_runtime, prepare=False)
    with TestClient(app):  # runs the lifespan: the app's runtime and search index are ready
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


def admin_headers(runtime: Runtime) -> dict[str, str]:
    """A new admin token's Authorization header."""
    with runtime.database.session() as session:
        _, secret = issue_token(session, name="schemathesis", role="admin")
    return {"Authorization": f"Bearer {secret}"}


def operation_labels(*, signed_in: bool = False) -> list[str]:
    """ "METHOD /path" of every operation in the app's schema (only /api/admin|staff if signed_in)."""
    paths = server.app.openapi()["paths"]
    labels = [
        f"{method.upper()} {path}"
        for path, methods in paths.items()
        for method in methods
        if not signed_in or path.startswith(("/api/admin/", "/api/staff/"))
    ]
    # An admin import may replace the whole catalogue with generated data: run it last, so the
    # other operations meet the seeded measures.
    return sorted(labels, key=lambda label: label == REPLACES_CATALOGUE)


def aim_at_real_records(case: schemathesis.Case, runtime: Runtime, number: int) -> None:
    """Point the case's ids at an existing measure, with its current version in If-Match.

    Random ids nearly always miss (404) and random If-Match values are stale (409); half the
    examples are aimed at real records so the handlers behind the lookups get exercised too.
    """
    params = case.path_parameters
    if "document_id" in params:
        params["document_id"] = 1
    if "ordinal" in params:
        params["ordinal"] = 1 + number % 23
    if "number" in params:
        params["number"] = number
        with runtime.database.session() as session:
            version = session.scalar(
                select(Measure.version).where(Measure.document_id == 1, Measure.number == number)
            )
        case.headers = {**(case.headers or {}), "If-Match": str(version or 1)}


def run_examples(
    api_schema: schemathesis.BaseSchema,
    runtime: Runtime,
    label: str,
    headers: Callable[[], dict[str, str]] | None = None,
) -> None:
    """Generate EXAMPLES requests for one operation; each must not be answered with a 5xx."""
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None, label

    @EXAMPLES
    @given(case=operation.as_strategy(), aimed=st.booleans(), number=st.integers(1, 100))
    def check(case: schemathesis.Case, aimed: bool, number: int) -> None:
        if aimed:
            aim_at_real_records(case, runtime, number)
        signed = {**(case.headers or {}), **(headers() if headers else {})}
        case.call_and_validate(checks=[not_a_server_error], headers=signed)

    check()


@pytest.mark.parametrize("label", operation_labels())
def test_no_server_error_without_a_token(
    api_schema: schemathesis.BaseSchema, api_runtime: Runtime, label: str
) -> None:
    run_examples(api_schema, api_runtime, label)


@pytest.mark.parametrize("label", operation_labels(signed_in=True))
def test_no_server_error_with_an_admin_token(
    api_schema: schemathesis.BaseSchema, api_runtime: Runtime, label: str
) -> None:
    run_examples(api_schema, api_runtime, label, lambda: admin_headers(api_runtime))


def test_every_operation_is_covered(api_schema: schemathesis.BaseSchema) -> None:
    labels = {op.ok().label for op in api_schema.get_all_operations()}
    assert labels == set(operation_labels()) and len(labels) > 30
    assert set(operation_labels(signed_in=True)) >= {
        "PATCH /api/admin/measures/{document_id}/{number}",
        "POST /api/admin/documents/upload",
    }


def test_control_characters_in_data_do_not_break_the_spreadsheet_export(tmp_path: Path) -> None:
    """Found by this run: a unit or text with a control character made the .xlsx export a 500."""
    runtime = make_runtime(f"sqlite:///{tmp_path / 'policy.db'}", tmp_path)  # the seeded catalogue
    client = TestClient(build_app(runtime, prepare=False))
    with client:
        admin = admin_headers(runtime)
        created = client.post(
            "/api/admin/units", headers=admin, json={"name": "测试\x1b单位", "aliases": ["控制\x07字符"]}
        )
        assert created.status_code in (201, 422), created.text
        version = client.get("/api/measures/1/7").json()["version"]
        edited = client.patch(
            "/api/admin/measures/1/7",
            json={"text": "含控制字符\x1b[31m的措施\x00文字"},
            headers={**admin, "If-Match": str(version)},
        )
        assert edited.status_code in (200, 422), edited.text
        export = client.get("/api/staff/measures.xlsx", headers=admin)
    runtime.database.dispose()
    assert export.status_code == 200 and export.content.startswith(b"PK")


@pytest.fixture(scope="module")
def postgres_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Runtime]]:
    """The app on a seeded PostgreSQL schema of its own."""
    tmp = tmp_path_factory.mktemp("schemathesis-pg")
    urls = database_urls(tmp, "postgres")
    runtime = make_runtime(next(urls), tmp)
    with TestClient(build_app(runtime, prepare=False), raise_server_exceptions=False) as client:
        yield client, runtime
    runtime.database.dispose()
    next(urls, None)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("method", "path", "params", "body"),
    [
        ("PATCH", "/api/admin/measures/1/7", None, {"text": "含\x00字符"}),
        ("GET", "/api/admin/audit", {"actor": "a\x00b"}, None),
        ("GET", "/api/measures", {"category": "类\x00别"}, None),
        ("GET", "/api/measures/1/9223372036854775808", None, None),
        ("DELETE", "/api/admin/synonyms/9223372036854775808", None, None),
    ],
)
def test_values_postgresql_cannot_store_are_a_clear_422(
    postgres_client: tuple[TestClient, Runtime],
    method: str,
    path: str,
    params: dict[str, str] | None,
    body: dict[str, str] | None,
) -> None:
    """Found by this run's ids and strings: NUL characters and 65-bit ids were a 500 on PostgreSQL."""
    client, runtime = postgres_client
    headers = {**admin_headers(runtime), "If-Match": "1"}
    response = client.request(method, path, params=params, json=body, headers=headers)
    assert response.status_code == 422 and response.json()["detail"], response.text
