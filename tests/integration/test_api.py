"""The staff API over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import build_app
from policy_db.runtime import Runtime


@pytest.fixture(scope="module")
def client(shared_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(build_app(shared_runtime, prepare=False)) as test_client:
        yield test_client


def test_health(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["measures"] == 100


def test_search_returns_the_contract_fields(client: TestClient) -> None:
    body = client.get("/api/measures", params={"q": "留抵退税"}).json()
    first = body["items"][0]
    assert first["number"] == 25 and first["units"] == ["区税务局"] and body["total"] >= 1
    assert {"document_id", "number", "title", "text", "category", "units", "score"} <= first.keys()


def test_filters_and_limit(client: TestClient) -> None:
    body = client.get("/api/measures", params={"unit": "区法院", "limit": 3}).json()
    assert len(body["items"]) == 3 and body["total"] == 6
    assert all("区法院" in m["units"] for m in body["items"])


def test_one_measure_with_version(client: TestClient) -> None:
    body = client.get("/api/measures/1/17").json()
    assert body["units"][0] == "区科委" and body["version"] == 1


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/measures?limit=0", 422),
        ("/api/measures?limit=abc", 422),
        ("/api/measures?document_id=-1", 422),
        ("/api/measures?unit=不存在的局", 404),
        ("/api/measures?category=不存在", 404),
        ("/api/measures?document_id=42", 404),
        ("/api/measures/1/999", 404),
        ("/api/measures/1/abc", 422),
    ],
)
def test_bad_parameters_get_a_clear_4xx(client: TestClient, url: str, status: int) -> None:
    response = client.get(url)
    assert response.status_code == status and response.json()["detail"]


def test_units_and_categories(client: TestClient) -> None:
    units = {u["name"]: u for u in client.get("/api/units").json()}
    assert "税务局" in units["区税务局"]["aliases"] and 25 in units["区税务局"]["measures"]
    categories = client.get("/api/categories").json()
    assert len(categories) == 23 and categories[0]["measures"] == [1, 2, 3, 4, 5, 6, 7]


def test_openapi_docs(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert "/api/measures" in client.get("/openapi.json").json()["paths"]


def test_health_reports_redis_down_as_degraded(shared_runtime: Runtime) -> None:
    shared_runtime.settings.redis_url = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        with TestClient(build_app(shared_runtime, prepare=False)) as client:
            body = client.get("/health").json()
    finally:
        shared_runtime.settings.redis_url = None
    assert body["status"] == "degraded" and body["redis"] == "down" and body["database"] == "ok"


def test_database_down_answers_503(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from policy_db.config import Settings
    from policy_db.runtime import build_runtime

    broken = build_runtime(
        Settings(
            database_url="postgresql+psycopg://nobody@127.0.0.1:1/none", dictionary_path=tmp_path / "d.txt"
        )
    )
    app = build_app(broken, prepare=False)
    app.state.runtime = broken
    client = TestClient(app, raise_server_exceptions=False)  # no lifespan: the database is down
    for url in ("/health", "/api/measures?q=留抵退税", "/api/units"):
        response = client.get(url)
        assert response.status_code == 503 and "数据库" in response.json()["detail"]
