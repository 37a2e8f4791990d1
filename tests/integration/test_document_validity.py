"""Several documents and their validity: a 2022 plan replaces the 2021 plan, a notice sits beside it.

Through the admin API (preview, import with `supersedes`, metadata edits), the staff and public
searches, and the bot's actions on the same database: answers come from documents in force and
name their document; a replaced measure asked for by number or matched best is said to be
replaced; staff find both with "include replaced"; an expiry date in the past takes a document
out of the answers; supersession and metadata are audited and survive export and import.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from typer.testing import CliRunner

import actions.base
from actions.policy import ActionAnswerPolicy, ActionMeasureDetail
from app import cli
from policy_db.config import PROJECT_ROOT, get_settings
from policy_db.models import AuditEntry
from tests.integration.admin_support import AdminApi, admin_api, seeded_runtime_of
from tests.integration.test_actions import rendered, tracker

SEED = PROJECT_ROOT / "seeds" / "putuo-2021-business-environment.txt"
OLD_SLUG, NEW_SLUG, NOTICE_SLUG = (
    "putuo-2021-business-environment",
    "putuo-2022-plan",
    "putuo-2022-tax-notice",
)
NEW_TITLE = "普陀区2022年深化推进一流营商环境建设行动方案"
NEW_MEASURE_2 = "2.推行企业登记档案电子化，实现登记档案网上自助查阅打印。(责任单位:区市场监管局)"
NOTICE = """普陀区税务局
2022年4月1日
关于进一步做好增值税留抵退税工作的通知
一、工作要求
(一)加快退税进度。确保留抵退税政策落实到位。具体措施:
1.对符合条件的小微企业增值税增量留抵税额和存量留抵税额，按月全额退还，做到留抵退税应退尽退、快退快享。(责任单位:区税务局)
2.建立留抵退税工作专班，对退税企业开展事后风险核查。(责任单位:区税务局、区财政局)
"""


def plan_2022() -> str:
    """The 2021 plan as the 2022 plan: new title and date, measure 2 replaced by another matter."""
    text = SEED.read_text(encoding="utf-8").replace("2021年3月5日", "2022年2月10日")
    text = text.replace("\n普陀区深化推进一流营商环境建设行动方案\n", f"\n{NEW_TITLE}\n", 1)
    text = re.sub(r"(?m)^2\..*$", NEW_MEASURE_2, text, count=1)
    assert NEW_TITLE in text and NEW_MEASURE_2 in text
    return text


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdminApi]:
    with (
        seeded_runtime_of("sqlite", tmp_path_factory.mktemp("validity")) as runtime,
        admin_api(runtime) as api,
    ):
        yield api


@pytest.fixture(autouse=True)
def bot_runtime(api: AdminApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(actions.base, "get_runtime", lambda: api.runtime)


def import_document(
    api: AdminApi, text: str, slug: str, *, commit: bool = True, **extra: Any
) -> dict[str, Any]:
    response = api.client.post(
        "/api/admin/documents",
        json={"text": text, "slug": slug, "commit": commit, **extra},
        headers=api.admin,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def documents(api: AdminApi) -> dict[str, dict[str, Any]]:
    return {d["slug"]: d for d in api.client.get("/api/documents").json()}


async def say(text: str, intent: str = "ask_policy") -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    action = ActionMeasureDetail() if intent == "ask_measure" else ActionAnswerPolicy()
    entities = []
    if intent == "ask_measure":
        number = re.search(r"第(\d+)条", text)
        assert number
        entities = [{"entity": "measure_number", "value": number[1]}]
    track: Tracker = tracker(text, intent, entities=entities)
    await action.run(dispatcher, track, {})
    return [rendered(m) for m in dispatcher.messages]


def cited(messages: list[dict[str, Any]]) -> list[tuple[str, int]]:
    for message in messages:
        custom = message.get("custom") or {}
        if custom.get("type") == "measures":
            return [(m["document_title"], m["number"]) for m in custom["measures"]]
    return []


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("text") or "") for m in messages)


@pytest.fixture(scope="module")
def replaced(api: AdminApi) -> dict[str, Any]:
    """Import the 2022 plan as replacing the 2021 plan (after a preview that writes nothing)."""
    before = documents(api)
    preview = import_document(
        api,
        plan_2022(),
        NEW_SLUG,
        commit=False,
        supersedes=OLD_SLUG,
        metadata={"document_number": "普府办〔2022〕5号", "effective_on": "2022-03-01"},
    )
    assert preview["supersedes"]["slug"] == OLD_SLUG and preview["supersedes"]["validity"] == "replaced"
    assert preview["metadata"]["document_number"] == "普府办〔2022〕5号"
    assert preview["metadata"]["issued_on"] == "2022-02-10" and preview["metadata"]["title"] == NEW_TITLE
    assert documents(api) == before  # a preview writes nothing
    return import_document(
        api,
        plan_2022(),
        NEW_SLUG,
        supersedes=OLD_SLUG,
        metadata={"document_number": "普府办〔2022〕5号", "effective_on": "2022-03-01"},
    )


def test_the_replaced_plan_is_marked_and_audited(api: AdminApi, replaced: dict[str, Any]) -> None:
    listed = documents(api)
    old, new = listed[OLD_SLUG], listed[NEW_SLUG]
    assert old["validity"] == "replaced" and old["superseded_by"] == new["id"]
    assert old["superseded_by_title"] == NEW_TITLE and old["status"] == "active"
    assert new["validity"] == "in_force" and new["document_number"] == "普府办〔2022〕5号"
    assert new["effective_on"] == "2022-03-01" and new["issued_on"] == "2022-02-10"
    # Measures that say the same keep their curated example questions; the new measure 2 does not.
    inherited = replaced["report"]["inherited"]
    assert 25 in inherited and 2 not in inherited and len(inherited) >= 95
    examples = api.client.get(f"/api/admin/measures/{new['id']}/25/examples", headers=api.admin).json()
    assert examples and all(e["source"] == "inherited" for e in examples)
    with api.runtime.database.session() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.entity == "document")).all()
    assert {(e.action, e.entity_key) for e in entries} >= {("import", NEW_SLUG), ("supersede", OLD_SLUG)}


async def test_a_question_both_plans_answer_cites_the_new_plan(
    api: AdminApi, replaced: dict[str, Any]
) -> None:
    messages = await say("企业增值税留抵退税能应享尽享吗")
    found = cited(messages)
    assert found and found[0] == (NEW_TITLE, 25)
    assert all(title != "普陀区深化推进一流营商环境建设行动方案" for title, _ in found)
    custom = next(m["custom"] for m in messages if m.get("custom"))
    first = custom["measures"][0]
    assert first["document_date"] == "2022-02-10" and first["validity"] == "in_force"
    assert "已被" not in texts(messages)


async def test_asked_by_number_the_old_measure_is_said_to_be_replaced(
    api: AdminApi, replaced: dict[str, Any]
) -> None:
    messages = await say("2021年方案第2条是什么", intent="ask_measure")
    said = texts(messages)
    assert f"已被{NEW_TITLE}替代" in said and "远程身份核验" in said
    assert cited(messages) == [("普陀区深化推进一流营商环境建设行动方案", 2)]
    current = await say("第2条是什么", intent="ask_measure")
    assert cited(current) == [(NEW_TITLE, 2)] and "替代" not in texts(current)


async def test_a_match_only_in_the_old_plan_is_said_to_be_replaced(
    api: AdminApi, replaced: dict[str, Any]
) -> None:
    messages = await say("远程身份核验和电子签章能覆盖企业高频事项吗")
    said = texts(messages)
    assert f"普陀区深化推进一流营商环境建设行动方案第2条与您的问题最相关，但该文件已被{NEW_TITLE}替代" in said
    assert all(title == NEW_TITLE for title, _ in cited(messages))


def test_staff_find_both_plans_only_when_they_ask(api: AdminApi, replaced: dict[str, Any]) -> None:
    def found(**params: Any) -> set[str]:
        response = api.client.get(
            "/api/staff/measures", params={"q": "留抵退税", "limit": 50, **params}, headers=api.staff
        )
        assert response.status_code == 200, response.text
        return {m["document_title"] for m in response.json()["items"]}

    assert found() == {NEW_TITLE}
    assert found(include_outdated="true") == {NEW_TITLE, "普陀区深化推进一流营商环境建设行动方案"}
    old_id = documents(api)[OLD_SLUG]["id"]
    assert found(document_id=old_id) == {"普陀区深化推进一流营商环境建设行动方案"}  # asked for by name
    assert {m["document_title"] for m in api.search("留抵退税")} == {NEW_TITLE}


async def test_two_documents_in_force_are_both_cited_each_with_its_document(
    api: AdminApi, replaced: dict[str, Any]
) -> None:
    import_document(api, NOTICE, NOTICE_SLUG, metadata={"document_number": "普税发〔2022〕8号"})
    messages = await say("小微企业留抵退税能按月全额退还吗")
    titles = {title for title, _ in cited(messages)}
    assert titles == {"关于进一步做好增值税留抵退税工作的通知", NEW_TITLE}
    assert "〔关于进一步做好增值税留抵退税工作的通知〕" in texts(messages)


def test_an_expired_document_leaves_the_answers(api: AdminApi, replaced: dict[str, Any]) -> None:
    notice = documents(api).get(NOTICE_SLUG)
    if notice is None:
        import_document(api, NOTICE, NOTICE_SLUG)
        notice = documents(api)[NOTICE_SLUG]
    yesterday = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    response = api.client.patch(
        f"/api/admin/documents/{notice['id']}",
        json={"effective_on": "2022-04-01", "expires_on": yesterday},
        headers=api.admin,
    )
    assert response.status_code == 200, response.text
    assert response.json()["validity"] == "expired"
    assert "关于进一步做好增值税留抵退税工作的通知" not in {
        m["document_title"] for m in api.search("留抵退税")
    }
    response = api.client.patch(
        f"/api/admin/documents/{notice['id']}", json={"expires_on": None}, headers=api.admin
    )
    assert response.json()["validity"] == "in_force"


def test_bad_metadata_and_loops_of_replacement_are_refused(api: AdminApi, replaced: dict[str, Any]) -> None:
    listed = documents(api)
    old, new = listed[OLD_SLUG]["id"], listed[NEW_SLUG]["id"]
    backwards = api.client.patch(
        f"/api/admin/documents/{new}", json={"expires_on": "2000-01-01"}, headers=api.admin
    )
    assert backwards.status_code == 422 and "失效日期早于施行日期" in backwards.json()["detail"]
    loop = api.client.patch(f"/api/admin/documents/{new}", json={"superseded_by": old}, headers=api.admin)
    assert loop.status_code == 409 and "替代" in loop.json()["detail"]
    itself = api.client.patch(f"/api/admin/documents/{new}", json={"superseded_by": new}, headers=api.admin)
    assert itself.status_code == 422
    missing = api.client.post(
        "/api/admin/documents",
        json={"text": NOTICE, "slug": "another-notice", "supersedes": "no-such-plan"},
        headers=api.admin,
    )
    assert missing.status_code == 404 and "no-such-plan" in missing.json()["detail"]
    no_title = api.client.patch(f"/api/admin/documents/{new}", json={"title": None}, headers=api.admin)
    assert no_title.status_code == 422 and "标题" in no_title.json()["detail"]
    cleared = api.client.patch(
        f"/api/admin/documents/{new}", json={"document_number": None}, headers=api.admin
    )
    assert cleared.status_code == 200 and cleared.json()["document_number"] == ""
    restored = api.client.patch(
        f"/api/admin/documents/{new}", json={"document_number": "普府办〔2022〕5号"}, headers=api.admin
    )
    assert restored.status_code == 200
    staff = api.client.patch(f"/api/admin/documents/{new}", json={"title": "x"}, headers=api.staff)
    assert staff.status_code == 403
    assert documents(api)[NEW_SLUG]["title"] == NEW_TITLE


def test_export_and_import_keep_validity(api: AdminApi, replaced: dict[str, Any], tmp_path: Path) -> None:
    exported = api.client.get("/api/admin/export", headers=api.admin)
    assert exported.status_code == 200, exported.text
    backup = exported.json()
    old = next(d for d in backup["documents"] if d["slug"] == OLD_SLUG)
    new = next(d for d in backup["documents"] if d["slug"] == NEW_SLUG)
    assert old["superseded_by"] == new["id"] and new["document_number"] == "普府办〔2022〕5号"
    restored = api.client.post("/api/admin/import?replace=true", json=backup, headers=api.admin)
    assert restored.status_code == 200, restored.text
    listed = documents(api)
    assert listed[OLD_SLUG]["validity"] == "replaced" and listed[NEW_SLUG]["effective_on"] == "2022-03-01"


def test_the_command_line_imports_with_metadata_and_supersedes(
    api: AdminApi, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", api.runtime.settings.database_url)
    monkeypatch.setenv("DICTIONARY_PATH", str(tmp_path / "userdict.txt"))
    first, second = tmp_path / "CLI-Notice-2022.txt", tmp_path / "cli-notice-2023.txt"
    first.write_text(NOTICE, encoding="utf-8")
    second.write_text(NOTICE.replace("2022年4月1日", "2023年4月1日"), encoding="utf-8")

    def policybot(*args: str) -> tuple[int, str]:
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(cli.app, ["import", *args])
        finally:
            get_settings.cache_clear()
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        return result.exit_code, re.sub(r"\s+", "", result.output)

    assert policybot(str(first))[0] == 0
    code, output = policybot(str(second), "--supersedes", "no-such-notice")
    assert code == 1 and "no-such-notice" in output and "cli-notice-2023" not in documents(api)
    code, output = policybot(
        str(second), "--supersedes", "cli-notice-2022", "--document-number", "普税发〔2023〕2号",
        "--effective-on", "2023-04-15",
    )  # fmt: skip
    assert code == 0 and "replaces:" in output, output
    listed = documents(api)
    assert listed["cli-notice-2022"]["validity"] == "replaced"
    assert listed["cli-notice-2023"]["document_number"] == "普税发〔2023〕2号"
    assert listed["cli-notice-2023"]["effective_on"] == "2023-04-15"
    with api.runtime.database.session() as session:
        actors = {
            e.actor
            for e in session.scalars(select(AuditEntry).where(AuditEntry.entity_key == "cli-notice-2023"))
        }
    assert actors == {"policybot import"}
