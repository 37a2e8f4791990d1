"""Tokens and roles: who may call which endpoint (anonymous / staff / admin × every route)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from app import cli
from policy_db.auth import issue_token
from policy_db.config import get_settings
from tests.integration.admin_support import BOOTSTRAP, AdminApi, admin_api, bearer, seeded_runtime_of

NEW_PLAN = "矩阵测试方案\n一、办事\n(一)线上服务。具体措施:\n1.推进网办。(责任单位:区府办)\n"
SEED_EXAMPLE = "seed"  # placeholder resolved by the fixture: an example id of measure 1

# (method, route path) → the request the admin column sends and the status an admin gets.
# Requests run in this order for the admin; "{name}" parts come from earlier answers ("save").
MATRIX: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/health"): {"public": True},
    ("GET", "/api/privacy"): {"public": True},
    ("GET", "/api/measures"): {"public": True, "url": "/api/measures?q=留抵退税"},
    ("GET", "/api/measures/{document_id}/{number}"): {"public": True, "url": "/api/measures/1/25"},
    ("GET", "/api/units"): {"public": True},
    ("GET", "/api/categories"): {"public": True},
    ("GET", "/api/documents"): {"public": True},
    ("GET", "/api/admin/whoami"): {"staff": 200},
    ("GET", "/api/admin/tokens"): {},
    ("POST", "/api/admin/tokens"): {"json": {"name": "矩阵", "role": "staff"}, "expect": 201},
    ("DELETE", "/api/admin/tokens/{token_id}"): {"expect": 204},
    ("POST", "/api/admin/measures"): {
        "expect": 201,
        "json": {
            "document_id": 1,
            "number": 101,
            "category": 1,
            "text": "矩阵测试措施。",
            "units": ["区府办"],
        },
    },
    ("PATCH", "/api/admin/measures/{document_id}/{number}"): {
        "url": "/api/admin/measures/1/101",
        "json": {"title": "矩阵"},
        "if_match": "1",
    },
    ("POST", "/api/admin/measures/{document_id}/{number}/retire"): {
        "url": "/api/admin/measures/1/101/retire",
        "if_match": "2",
    },
    ("POST", "/api/admin/measures/{document_id}/{number}/restore"): {
        "url": "/api/admin/measures/1/101/restore",
        "if_match": "3",
    },
    ("GET", "/api/admin/measures/{document_id}/{number}/examples"): {
        "url": "/api/admin/measures/1/1/examples"
    },
    ("POST", "/api/admin/measures/{document_id}/{number}/examples"): {
        "url": "/api/admin/measures/1/101/examples",
        "json": {"text": "矩阵例句"},
        "expect": 201,
        "save": ("example_id", "id"),
    },
    ("DELETE", "/api/admin/measures/{document_id}/{number}/examples/{example_id}"): {
        "url": "/api/admin/measures/1/101/examples/{example_id}",
        "expect": 204,
    },
    ("POST", "/api/admin/units"): {"json": {"name": "矩阵局", "aliases": ["矩阵"]}, "expect": 201},
    ("PATCH", "/api/admin/units/{name}"): {"url": "/api/admin/units/矩阵局", "json": {"phone": "1"}},
    ("DELETE", "/api/admin/units/{name}"): {"url": "/api/admin/units/矩阵局", "expect": 204},
    ("GET", "/api/admin/categories"): {"url": "/api/admin/categories?document_id=1"},
    ("POST", "/api/admin/categories"): {
        "expect": 201,
        "save": ("ordinal", "ordinal"),
        "json": {"document_id": 1, "section": 5, "title": "矩阵类别"},
    },
    ("PATCH", "/api/admin/categories/{document_id}/{ordinal}"): {
        "url": "/api/admin/categories/1/{ordinal}",
        "json": {"lead": "矩阵"},
    },
    ("POST", "/api/admin/documents"): {"json": {"text": NEW_PLAN, "slug": "matrix-plan"}},
    ("POST", "/api/admin/documents/upload"): {
        "files": {"file": ("matrix-plan.txt", NEW_PLAN.encode(), "text/plain")}
    },
    ("PATCH", "/api/admin/documents/{document_id}"): {
        "url": "/api/admin/documents/1",
        "json": {"document_number": "普府办〔2021〕12号"},
    },
    ("POST", "/api/admin/documents/{document_id}/retire"): {"url": "/api/admin/documents/1/retire"},
    ("POST", "/api/admin/documents/{document_id}/restore"): {"url": "/api/admin/documents/1/restore"},
    ("GET", "/api/admin/synonyms"): {},
    ("POST", "/api/admin/synonyms"): {
        "json": {"term": "融资", "variant": "矩阵钱"},
        "expect": 201,
        "save": ("synonym_id", "id"),
    },
    ("DELETE", "/api/admin/synonyms/{synonym_id}"): {"expect": 204},
    ("GET", "/api/admin/audit"): {"url": "/api/admin/audit?entity=measure&limit=5"},
    ("GET", "/api/admin/export"): {"save": ("export", None)},
    ("POST", "/api/admin/import"): {"url": "/api/admin/import?replace=true", "json": "{export}"},
    ("GET", "/api/staff/measures"): {
        "staff": 200,
        "url": "/api/staff/measures?q=退税&section=让企业办事更省心",
    },
    ("GET", "/api/staff/measures.csv"): {"staff": 200, "url": "/api/staff/measures.csv?unit=税务局"},
    ("GET", "/api/staff/measures.xlsx"): {"staff": 200, "url": "/api/staff/measures.xlsx?q=融资"},
    ("GET", "/api/admin/insights"): {"url": "/api/admin/insights?days=7"},
    ("GET", "/api/admin/insights.csv"): {},
    ("DELETE", "/api/admin/people/{sender_id}"): {"url": "/api/admin/people/matrix-sender-0001"},
    ("GET", "/api/admin/push/preview"): {
        "url": "/api/admin/push/preview?document_id=1&number=5&tags=科技企业"
    },
    ("GET", "/api/admin/push/outbox"): {"url": "/api/admin/push/outbox?state=pending"},
    ("GET", "/api/admin/push/changes"): {},
    ("GET", "/api/admin/push/changes/{change_id}"): {"url": "/api/admin/push/changes/1"},
    ("GET", "/api/admin/push/subscriptions"): {},
    ("GET", "/api/admin/push/activity"): {"url": "/api/admin/push/activity?days=30&window=7"},
}
PLACEHOLDERS = {"token_id": 1, "example_id": 1, "ordinal": 1, "synonym_id": 1, "export": {}}
# Bodies no endpoint accepts: checking them must not come before checking the token.
MALFORMED = {
    "json": (b'{"name": "\xe7\x9f\xa9', "application/json"),
    "files": (b'--x\r\nContent-Disposition: form-data; name="file"\r\n', "multipart/form-data; boundary=x"),
}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdminApi]:
    """One seeded database per backend."""
    with (
        seeded_runtime_of(str(request.param), tmp_path_factory.mktemp("auth")) as runtime,
        admin_api(runtime) as admin,
    ):
        yield admin


def _request(
    api: AdminApi,
    key: tuple[str, str],
    headers: dict[str, str],
    values: dict[str, Any],
    *,
    malformed: bool = False,
):  # type: ignore[no-untyped-def]
    spec = MATRIX[key]
    url = spec.get("url", key[1]).format(**{k: v for k, v in values.items() if k != "export"})
    body = values["export"] if spec.get("json") == "{export}" else spec.get("json")
    if "if_match" in spec:
        headers = {**headers, "If-Match": spec["if_match"]}
    if malformed:  # every route gets a broken body, even those that take none
        content, content_type = MALFORMED["files" if "files" in spec else "json"]
        return api.client.request(
            key[0], url, content=content, headers={**headers, "Content-Type": content_type}
        )
    return api.client.request(key[0], url, json=body, files=spec.get("files"), headers=headers)


def test_every_route_has_a_matrix_entry(api: AdminApi) -> None:
    # Every endpoint of the API, from the app itself (FastAPI nests included routers).
    # The widget's chat endpoints (public, answered by Rasa) are covered by test_chat_api.py.
    routes = {
        (method.upper(), path)
        for path, operations in api.app.openapi()["paths"].items()
        for method in operations
        # The company's own routes (chat, profile, inbox) are keyed by its client id, not a token.
        if not path.startswith(("/api/chat", "/api/profile", "/api/inbox"))
    }
    assert routes == set(MATRIX), "add the new endpoint to MATRIX"


@pytest.mark.parametrize("body", ["as documented", "malformed"])
@pytest.mark.parametrize("who", ["anonymous", "invalid", "revoked", "staff"])
def test_who_may_not_call_admin_endpoints(api: AdminApi, who: str, body: str) -> None:
    # 401 or 403 whatever the body: the token is checked before the body is read or validated.
    headers = {
        "anonymous": {},
        "invalid": bearer("not-a-token"),
        "staff": api.staff,
        "revoked": bearer(_revoked_token(api)),
    }[who]
    wrong = {}
    for key, spec in MATRIX.items():
        expected = 200 if spec.get("public") else (spec.get("staff", 403) if who == "staff" else 401)
        response = _request(
            api, key, headers, {**PLACEHOLDERS, "token_id": 999_999}, malformed=body == "malformed"
        )
        if response.status_code != expected:
            wrong[key] = (response.status_code, response.text[:120])
        elif expected == 401:
            assert response.headers["WWW-Authenticate"] == "Bearer"
            assert "令牌" in response.json()["detail"]
    assert not wrong


def _revoked_token(api: AdminApi) -> str:
    with api.runtime.database.session() as session:
        token, secret = issue_token(session, name="已吊销", role="admin")
        token.revoked = True
    return secret


def test_admin_may_call_every_endpoint(api: AdminApi) -> None:
    with api.runtime.database.session() as session:
        doomed, _ = issue_token(session, name="待吊销", role="staff")
    values: dict[str, Any] = {**PLACEHOLDERS, "token_id": doomed.id}
    wrong = {}
    for key, spec in MATRIX.items():
        response = _request(api, key, api.admin, values)
        if response.status_code != spec.get("expect", 200):
            wrong[key] = (response.status_code, response.text[:200])
        elif "save" in spec:
            name, field = spec["save"]
            values[name] = response.json()[field] if field else response.json()
    assert not wrong


def test_whoami_and_token_management(api: AdminApi) -> None:
    assert api.client.get("/api/admin/whoami", headers=api.staff).json()["role"] == "staff"
    created = api.client.post(
        "/api/admin/tokens", json={"name": "窗口二号", "role": "admin"}, headers=api.admin
    )
    assert created.status_code == 201 and len(created.json()["token"]) >= 40
    new = bearer(created.json()["token"])
    me = api.client.get("/api/admin/whoami", headers=new).json()
    assert me == {"name": "窗口二号", "role": "admin", "token_id": created.json()["id"]}
    listed = {t["id"]: t for t in api.client.get("/api/admin/tokens", headers=api.admin).json()}
    entry = listed[created.json()["id"]]
    assert "token" not in entry and "token_hash" not in entry and entry["last_used_at"] is not None
    assert api.client.delete(f"/api/admin/tokens/{entry['id']}", headers=api.admin).status_code == 204
    assert api.client.get("/api/admin/whoami", headers=new).status_code == 401
    assert api.client.delete("/api/admin/tokens/999999", headers=api.admin).status_code == 404
    bad_role = api.client.post("/api/admin/tokens", json={"name": "x", "role": "root"}, headers=api.admin)
    assert bad_role.status_code == 422 and "role" in bad_role.json()["detail"]


def test_the_bootstrap_token_is_an_admin(api: AdminApi) -> None:
    me = api.client.get("/api/admin/whoami", headers=bearer(BOOTSTRAP)).json()
    assert me == {"name": "bootstrap", "role": "admin", "token_id": None}
    response = api.client.post(
        "/api/admin/synonyms", json={"term": "融资", "variant": "引导令牌"}, headers=bearer(BOOTSTRAP)
    )
    assert response.status_code == 201
    audit = api.client.get("/api/admin/audit?actor=bootstrap", headers=api.admin).json()["items"]
    assert audit[0]["entity"] == "synonym" and audit[0]["token_id"] is None
    settings = api.runtime.settings
    api.runtime.settings = settings.model_copy(update={"admin_bootstrap_token": "short"})
    try:  # a guessable bootstrap token is ignored
        assert api.client.get("/api/admin/whoami", headers=bearer("short")).status_code == 401
    finally:
        api.runtime.settings = settings


def test_cli_prints_a_working_token_as_its_last_line(api: AdminApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", api.runtime.settings.database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli.app, ["admin-token", "--name", "值班", "--role", "staff"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    me = api.client.get("/api/admin/whoami", headers=bearer(secret)).json()
    assert me["name"] == "值班" and me["role"] == "staff"
    refused = CliRunner().invoke(cli.app, ["admin-token", "--role", "root"])
    assert refused.exit_code != 0
