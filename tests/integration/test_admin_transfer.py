"""The catalogue as JSON: a lossless round trip between backends, validated and transactional."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from app import cli
from policy_db.auth import Principal
from policy_db.config import Settings, get_settings
from policy_db.runtime import Runtime, build_runtime
from policy_db.services.backup import export_backup
from policy_db.services.measures import MeasureEdit, add_example, edit_measure
from policy_db.services.synonyms import create_synonym
from policy_db.services.units import create_unit
from tests.integration.admin_support import BOOTSTRAP, admin_api, bearer, empty_runtime_of

ADMIN = Principal("迁移测试", "admin")
NEW_PLAN = "新方案\n一、办事\n(一)线上服务。具体措施:\n1.推进网办。(责任单位:区府办)\n"


def edit_the_catalogue(runtime: Runtime) -> None:
    """Changes beyond the seed: versions, roles, a retired measure, an example, a unit, a synonym."""
    with runtime.database.session() as session:
        edit_measure(
            session,
            actor=ADMIN,
            document_id=1,
            number=25,
            expected_version=1,
            edit=MeasureEdit(
                text="落实留抵退税、研发费用加计扣除等优惠政策。",
                tags=["减税"],
                units=["区税务局", {"name": "区府办", "role": "cooperating"}],
            ),
        )
        edit_measure(
            session,
            actor=ADMIN,
            document_id=1,
            number=100,
            expected_version=1,
            edit=MeasureEdit(status="retired"),
        )
        add_example(session, actor=ADMIN, document_id=1, number=38, text="我们想搞个直播带货的网店")
        create_unit(
            session,
            actor=ADMIN,
            values={
                "name": "区数据局",
                "aliases": ["数据局"],
                "phone": "021-1234",
                "address": "大渡河路1668号",
            },
        )
        create_synonym(session, actor=ADMIN, term="融资", variant="搞钱")


def test_export_then_import_into_the_other_backend_is_lossless(
    runtime: Runtime, backend: str, tmp_path: Path
) -> None:
    edit_the_catalogue(runtime)
    with runtime.database.session() as session:
        exported = export_backup(session)
    measure_25 = next(
        m
        for s in exported["documents"][0]["sections"]
        for c in s["categories"]
        for m in c["measures"]
        if m["number"] == 25
    )
    assert measure_25["number"] == 25 and measure_25["version"] == 2
    assert measure_25["units"] == [
        {"name": "区税务局", "role": "responsible"},
        {"name": "区府办", "role": "cooperating"},
    ]
    remits = {u["name"]: u["remit"] for u in exported["units"]}
    assert "社会保险" in " ".join(remits["区人社局"])  # remits travel with the units
    other = "postgres" if backend == "sqlite" else "sqlite"
    with empty_runtime_of(other, tmp_path / "target") as target, admin_api(target) as api:
        headers = bearer(BOOTSTRAP)
        broken = copy.deepcopy(exported)
        broken["documents"][0]["sections"][0]["categories"][0]["measures"][0]["units"] = [{"name": "火星局"}]
        rejected = api.client.post("/api/admin/import", json=broken, headers=headers)
        assert rejected.status_code == 422 and "火星局" in rejected.json()["detail"]
        assert api.client.get("/api/admin/export", headers=headers).json()["documents"] == []
        imported = api.client.post("/api/admin/import", json=exported, headers=headers)
        assert imported.status_code == 200, imported.text
        assert imported.json()["measures"] == 100
        assert api.client.get("/api/admin/export", headers=headers).json() == exported
        assert api.client.post("/api/admin/import", json=exported, headers=headers).status_code == 409
        replaced = api.client.post("/api/admin/import?replace=true", json=exported, headers=headers)
        assert replaced.status_code == 200
        assert api.client.get("/api/admin/export", headers=headers).json() == exported
        assert api.search("留抵退税")[0]["units"] == ["区税务局", "区府办"]
        assert api.search("第100条") == []
        new_document = api.client.post(
            "/api/admin/documents",
            headers=headers,
            json={"text": NEW_PLAN, "slug": "new-plan", "commit": True},
        )
        assert new_document.json()["report"]["document_id"] == 2  # ids continue after the import


BROKEN = [  # where to change an export, to what, and the message the import must answer
    (("documents", 0, "sections", 0, "categories", 1, "measures", 0, "number"), 1, "措施编号重复：1"),
    (("units", 1, "aliases"), ["税务局"], "单位名称或别名重复：税务局"),
    (("documents", 0, "status"), "deleted", "documents[0].status：应为以下之一"),
    (("synonyms",), [{"term": "融资", "variant": "贷款", "note": "x"}], "synonyms[0].note：不认识的字段"),
]


def test_an_inconsistent_export_is_rejected_and_nothing_written(seeded_runtime: Runtime) -> None:
    with seeded_runtime.database.session() as session:
        original = export_backup(session)
    with admin_api(seeded_runtime) as api:
        for path, value, message in BROKEN:
            data = copy.deepcopy(original)
            target = data
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = value
            response = api.client.post("/api/admin/import?replace=true", json=data, headers=api.admin)
            assert response.status_code == 422 and message in response.json()["detail"], response.text
    with seeded_runtime.database.session() as session:
        assert export_backup(session) == original


def test_cli_export_and_import(
    seeded_runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, url = tmp_path / "catalogue.json", f"sqlite:///{tmp_path / 'restored.db'}"
    monkeypatch.setenv("DICTIONARY_PATH", str(tmp_path / "dict.txt"))
    exported = run_cli(monkeypatch, seeded_runtime.settings.database_url, "export-json", str(path))
    assert exported.exit_code == 0, exported.output
    imported = run_cli(monkeypatch, url, "import-json", str(path))
    assert imported.exit_code == 0 and "100 measures" in imported.output, imported.output
    again = run_cli(monkeypatch, url, "import-json", str(path))
    assert again.exit_code == 1 and "replace" in again.output
    restored = build_runtime(Settings(database_url=url))
    with restored.database.session() as session:
        assert export_backup(session) == json.loads(path.read_text(encoding="utf-8"))
    restored.database.dispose()


def run_cli(monkeypatch: pytest.MonkeyPatch, database_url: str, *args: str) -> Result:
    """Run `policybot` in this process against `database_url`."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli.app, list(args))
    finally:
        get_settings.cache_clear()
