"""Admin edits of units, categories, synonyms and documents, and the audit trail they leave."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import event

from tests.integration.admin_support import AdminApi, admin_api, seeded_runtime_of

NEW_PLAN = (
    "普陀区低空经济服务方案\n一、优化服务\n(一)低空服务。具体措施:\n"
    "1.推行无人机航拍巡检备案一次办结。(责任单位:区府办、区科委)\n"
    "2.建设低空飞行服务站。(责任单位:区低空办)\n"
)
MALFORMED = "一、办事\n(一)线上服务。具体措施:\n1.推进网办。(责任单位:区府办)\n2.没有单位的措施。\n"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdminApi]:
    """One seeded database per backend; each test edits its own units, categories and documents."""
    with (
        seeded_runtime_of(str(request.param), tmp_path_factory.mktemp("catalogue")) as runtime,
        admin_api(runtime) as admin,
    ):
        yield admin


def test_units_create_update_and_delete_only_when_unused(api: AdminApi) -> None:
    body = {
        "name": "区数据局",
        "full_name": "上海市普陀区数据局",
        "aliases": ["数据局", "数局"],
        "phone": "021-1234",
        "address": "大渡河路1668号",
    }
    created = api.client.post("/api/admin/units", json=body, headers=api.admin)
    assert created.status_code == 201 and created.json()["kind"] == "district_department"
    assert api.search("", unit="数局", limit=1) == []  # the alias resolves; no measures yet
    renamed = api.client.patch(
        "/api/admin/units/区数据局", json={"aliases": ["数据局"], "phone": "021-5678"}, headers=api.admin
    )
    assert renamed.json()["aliases"] == ["数据局"] and renamed.json()["phone"] == "021-5678"
    assert api.patch(20, {"units": ["区府办", "数据局"]}).status_code == 200
    in_use = api.client.delete("/api/admin/units/区数据局", headers=api.admin)
    assert in_use.status_code == 409 and "第20条" in in_use.json()["detail"]
    assert api.patch(20, {"units": ["区府办"]}).status_code == 200
    assert api.client.delete("/api/admin/units/区数据局", headers=api.admin).status_code == 204
    names = [u["name"] for u in api.client.get("/api/units").json()]
    assert "区数据局" not in names
    assert api.client.delete("/api/admin/units/区数据局", headers=api.admin).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"name": "区税务局"}, 409, "区税务局"),
        ({"name": "区新税务局", "aliases": ["税务局"]}, 409, "税务局（已属于区税务局）"),
        ({"name": "区新局", "aliases": ["工商"]}, 409, "区市场监管局"),
        ({"name": "区新局", "kind": "ministry"}, 422, "kind：应为以下之一"),
        ({"name": ""}, 422, "name：不能为空"),
        ({"name": "区新局", "aliases": [" "]}, 422, "别名不能为空"),
    ],
)
def test_unit_names_and_aliases_stay_unique(
    api: AdminApi,
    body: dict,
    status: int,  # type: ignore[type-arg]
    message: str,
) -> None:
    response = api.client.post("/api/admin/units", json=body, headers=api.admin)
    assert response.status_code == status and message in response.json()["detail"], response.text


def test_renaming_onto_another_unit_is_a_conflict(api: AdminApi) -> None:
    response = api.client.patch("/api/admin/units/区法院", json={"name": "区税务局"}, headers=api.admin)
    assert response.status_code == 409
    assert "区法院" in [u["name"] for u in api.client.get("/api/units").json()]


def test_categories_create_and_update(api: AdminApi) -> None:
    created = api.client.post(
        "/api/admin/categories",
        headers=api.admin,
        json={"document_id": 1, "section": 5, "title": "推进低空经济服务", "lead": "支持低空经济发展。"},
    )
    assert created.status_code == 201 and created.json()["ordinal"] == 24
    assert created.json()["section"] == 5
    taken = api.client.post(
        "/api/admin/categories",
        headers=api.admin,
        json={"document_id": 1, "section": 5, "ordinal": 24, "title": "重复"},
    )
    assert taken.status_code == 409
    no_section = api.client.post(
        "/api/admin/categories",
        headers=api.admin,
        json={"document_id": 1, "section": 9, "title": "没有这一章"},
    )
    assert no_section.status_code == 422 and "第9章" in no_section.json()["detail"]
    updated = api.client.patch(
        "/api/admin/categories/1/24", json={"title": "发展低空经济"}, headers=api.admin
    )
    assert updated.status_code == 200 and updated.json()["lead"] == "支持低空经济发展。"
    assert api.patch(99, {"category": 24}).status_code == 200
    assert [m["number"] for m in api.search("", category="发展低空经济")] == [99]
    assert (
        api.client.patch("/api/admin/categories/1/77", json={"title": "x"}, headers=api.admin).status_code
        == 404
    )


def test_a_synonym_changes_the_answers_at_once(api: AdminApi) -> None:
    assert api.search("怎么搞钱") == []
    created = api.client.post(
        "/api/admin/synonyms", json={"term": "融资", "variant": "搞钱"}, headers=api.admin
    )
    assert created.status_code == 201
    assert api.search("怎么搞钱")[0]["category"] == "推进企业融资服务"
    assert (
        api.client.post(
            "/api/admin/synonyms", json={"term": "融资", "variant": "搞钱"}, headers=api.admin
        ).status_code
        == 409
    )
    listed = api.client.get("/api/admin/synonyms", headers=api.admin).json()
    assert created.json() in listed
    url = f"/api/admin/synonyms/{created.json()['id']}"
    assert api.client.delete(url, headers=api.admin).status_code == 204
    assert api.search("怎么搞钱") == []
    assert api.client.delete(url, headers=api.admin).status_code == 404


def _documents(api: AdminApi) -> list[dict]:  # type: ignore[type-arg]
    return api.client.get("/api/documents").json()  # type: ignore[no-any-return]


def test_a_document_preview_writes_nothing_and_a_commit_imports(api: AdminApi) -> None:
    before, revision = _documents(api), api.client.get("/health").json()["revision"]
    preview = api.client.post(
        "/api/admin/documents", json={"text": NEW_PLAN, "slug": "putuo-low-altitude"}, headers=api.admin
    )
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["committed"] is False and body["report"]["document_id"] is None
    assert body["summary"] == {
        "title": "普陀区低空经济服务方案",
        "issuers": [],
        "issued_on": None,
        "sections": 1,
        "categories": 1,
        "measures": 2,
        "units": ["区府办", "区科委", "区低空办"],
        "shape": "sections-categories-measures",
        "shape_label": "章节→类别→措施",
        "document_number": None,
        "effective_on": None,
        "expires_on": None,
    }
    assert body["report"]["created"] == [1, 2] and body["report"]["new_units"] == ["区低空办"]
    assert _documents(api) == before and api.client.get("/health").json()["revision"] == revision
    committed = api.client.post(
        "/api/admin/documents",
        headers=api.admin,
        json={"text": NEW_PLAN, "slug": "putuo-low-altitude", "commit": True},
    )
    assert committed.status_code == 200 and committed.json()["committed"] is True
    document_id = committed.json()["report"]["document_id"]
    assert len(_documents(api)) == len(before) + 1
    first = api.search("无人机航拍巡检")[0]
    assert (first["document_id"], first["number"]) == (document_id, 1)
    again = api.client.post(
        "/api/admin/documents",
        headers=api.admin,
        json={"text": NEW_PLAN, "slug": "putuo-low-altitude", "commit": False},
    )
    assert again.json()["report"]["unchanged"] == [1, 2]


def test_a_malformed_document_is_rejected_with_its_line(api: AdminApi) -> None:
    before, revision = _documents(api), api.client.get("/health").json()["revision"]
    response = api.client.post(
        "/api/admin/documents",
        headers=api.admin,
        json={"text": MALFORMED, "slug": "broken-plan", "commit": True},
    )
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert any(p["line"] == 4 and "责任单位" in p["message"] for p in problems)
    assert _documents(api) == before and api.client.get("/health").json()["revision"] == revision


def test_document_upload_limits_and_slugs(api: AdminApi) -> None:
    url = "/api/admin/documents/upload"
    upload = api.client.post(
        url,
        headers=api.admin,
        data={"commit": "false"},
        files={"file": ("Putuo-Upload.txt", NEW_PLAN.encode(), "text/plain")},
    )
    assert upload.status_code == 200 and upload.json()["report"]["slug"] == "putuo-upload"
    big = ("x" * 1_000_001).encode()
    assert api.client.post(url, headers=api.admin, files={"file": ("big.txt", big)}).status_code == 413
    too_long = api.client.post(
        "/api/admin/documents", headers=api.admin, json={"text": "一" * 400_000, "slug": "big"}
    )
    assert too_long.status_code == 413 and "1 MB" in too_long.json()["detail"]
    # Chinese Windows saves text as GBK ("ANSI"): it is read as such, not refused.
    gbk = api.client.post(url, headers=api.admin, files={"file": ("gbk.txt", NEW_PLAN.encode("gbk"))})
    assert gbk.status_code == 200 and gbk.json()["summary"] == upload.json()["summary"]
    binary = api.client.post(url, headers=api.admin, files={"file": ("notes.txt", b"\x00\x01PK\x00" * 50)})
    assert binary.status_code in (415, 422) and "文件" in binary.json()["detail"]
    bad_slug = api.client.post(
        "/api/admin/documents", headers=api.admin, json={"text": NEW_PLAN, "slug": "Bad Slug!"}
    )
    assert bad_slug.status_code == 422 and "文件标识" in bad_slug.json()["detail"]


def test_retiring_a_document_takes_its_measures_out_of_the_answers(api: AdminApi) -> None:
    assert api.search("留抵退税")[0]["number"] == 25
    retired = api.client.post("/api/admin/documents/1/retire", headers=api.admin)
    assert retired.status_code == 200 and retired.json()["status"] == "retired"
    assert all(m["document_id"] != 1 for m in api.search("留抵退税"))
    restored = api.client.post("/api/admin/documents/1/restore", headers=api.admin)
    assert restored.json()["status"] == "active" and api.search("留抵退税")[0]["number"] == 25
    assert api.client.post("/api/admin/documents/42/retire", headers=api.admin).status_code == 404


def test_the_audit_trail_records_who_what_before_and_after(api: AdminApi) -> None:
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    api.client.post("/api/admin/units", json={"name": "区审计测试办"}, headers=api.admin)
    api.client.patch("/api/admin/units/区审计测试办", json={"phone": "110"}, headers=api.admin)
    audit = "/api/admin/audit"
    items = api.client.get(
        audit, params={"entity": "unit", "since": start.isoformat()}, headers=api.admin
    ).json()["items"]
    assert [(e["action"], e["key"]) for e in items] == [
        ("update", "区审计测试办"),
        ("create", "区审计测试办"),
    ]
    update = items[0]
    assert update["actor"] == "测试管理员" and update["token_id"] is not None
    assert update["before"]["phone"] == "" and update["after"]["phone"] == "110"
    assert items[1]["before"] is None and items[1]["after"]["name"] == "区审计测试办"
    only = api.client.get(
        audit, params={"action": "update", "entity": "unit", "limit": 1}, headers=api.admin
    ).json()["items"]
    assert len(only) == 1 and only[0]["id"] == update["id"]
    future = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)).isoformat()
    assert api.client.get(audit, params={"since": future}, headers=api.admin).json()["items"] == []
    assert api.client.get(audit, params={"actor": "无此人"}, headers=api.admin).json()["items"] == []
    wrong = api.client.get(audit, params={"entity": "planet"}, headers=api.admin)
    assert wrong.status_code == 422 and "entity：应为以下之一" in wrong.json()["detail"]


def test_a_rejected_write_leaves_no_audit_entry(api: AdminApi) -> None:
    count = api.audit_count()
    taken = api.client.post("/api/admin/units", json={"name": "区税务局"}, headers=api.admin)
    assert taken.status_code == 409
    assert api.patch(30, {"units": ["不存在局"]}).status_code == 422
    assert api.audit_count() == count


def _plan(categories: int, per_category: int) -> str:
    lines, number = ["普陀区统计测试方案", "一、测试"], 1
    for ordinal in range(1, categories + 1):
        lines.append(f"({'一二三四五六七八九'[ordinal - 1]})测试类别{ordinal}。具体措施:")
        for _ in range(per_category):
            lines.append(f"{number}.推进第{number}项测试工作。(责任单位:区府办)")
            number += 1
    return "\n".join(lines) + "\n"


def _statements(api: AdminApi, url: str) -> tuple[int, list]:  # type: ignore[type-arg]
    executed: list[str] = []

    def count(*args: object) -> None:
        executed.append(str(args[2]))

    event.listen(api.runtime.database.engine, "before_cursor_execute", count)
    try:
        response = api.client.get(url)
    finally:
        event.remove(api.runtime.database.engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.text
    return len(executed), response.json()


def test_documents_and_categories_are_counted_by_the_database(api: AdminApi) -> None:
    # Loading every measure to count it took seconds at 10,000 measures: the lists must cost
    # the same few statements however many measures there are.
    before = {url: _statements(api, url)[0] for url in ("/api/documents", "/api/categories")}
    imported = api.client.post(
        "/api/admin/documents",
        headers=api.admin,
        json={"text": _plan(3, 60), "slug": "putuo-count-test", "commit": True},
    )
    assert imported.status_code == 200, imported.text
    document_id = imported.json()["report"]["document_id"]
    retired = api.client.post(
        f"/api/admin/measures/{document_id}/2/retire", headers={**api.admin, "If-Match": "1"}
    )
    assert retired.status_code == 200

    statements, documents = _statements(api, "/api/documents")
    assert statements == before["/api/documents"]
    ours = next(d for d in documents if d["id"] == document_id)
    assert ours == {
        "id": document_id,
        "slug": "putuo-count-test",
        "title": "普陀区统计测试方案",
        "issuers": [],
        "issued_on": None,
        "status": "active",
        "measures": 179,
        "document_number": "",
        "effective_on": None,
        "expires_on": None,
        "validity": "in_force",
        "superseded_by": None,
        "superseded_by_title": "",
    }
    statements, categories = _statements(api, "/api/categories")
    assert statements == before["/api/categories"]
    mine = [c for c in categories if c["document_id"] == document_id]
    assert [(c["ordinal"], c["title"], c["section"]) for c in mine] == [
        (1, "测试类别1", "测试"),
        (2, "测试类别2", "测试"),
        (3, "测试类别3", "测试"),
    ]
    assert mine[0]["measures"] == [1, *range(3, 61)] and mine[2]["measures"] == list(range(121, 181))
    overview = api.client.get(f"/api/admin/categories?document_id={document_id}", headers=api.admin)
    assert [c["measures"] for c in overview.json()] == [59, 60, 60]

    retired_document = api.client.post(f"/api/admin/documents/{document_id}/retire", headers=api.admin)
    assert retired_document.json()["measures"] == 179 and retired_document.json()["status"] == "retired"
    assert next(d for d in _documents(api) if d["id"] == document_id)["status"] == "retired"
    assert api.client.get("/api/admin/categories?document_id=999", headers=api.admin).status_code == 404


TEXT_FIELDS = [  # a write with a control character or a line break, and the message naming the field
    ("POST", "/api/admin/units", {"name": "区\x00测试局"}, "name：不能包含控制字符"),
    (
        "POST",
        "/api/admin/units",
        {"name": "区测试局", "aliases": ["测试局", "测\n试"]},
        "aliases：第2项不能换行",
    ),
    ("PATCH", "/api/admin/units/区税务局", {"phone": "021\x0712345"}, "phone：不能包含控制字符"),
    ("PATCH", "/api/admin/measures/1/60", {"title": "标题\n第二行"}, "title：不能换行"),
    ("PATCH", "/api/admin/measures/1/60", {"text": "内容\x1b[31m红字"}, "text：不能包含控制字符"),
    ("PATCH", "/api/admin/measures/1/60", {"tags": ["小微\t企业"]}, "tags：第1项不能包含控制字符"),
    ("PATCH", "/api/admin/measures/1/60", {"units": [{"name": "区府办\r\n"}]}, "units[0].name：不能换行"),
    ("POST", "/api/admin/measures/1/60/examples", {"text": "怎么办\r\n"}, "text：不能换行"),
    (
        "POST",
        "/api/admin/categories",
        {"document_id": 1, "section": 5, "title": "类别\x00"},
        "title：不能包含控制字符",
    ),
    ("PATCH", "/api/admin/categories/1/1", {"lead": "导语\x08"}, "lead：不能包含控制字符"),
    ("POST", "/api/admin/synonyms", {"term": "融资", "variant": "贷\x7f款"}, "variant：不能包含控制字符"),
    ("POST", "/api/admin/tokens", {"name": "窗口\u2028二号"}, "name：不能换行"),
    (
        "POST",
        "/api/admin/documents",
        {"text": NEW_PLAN + "\x00", "slug": "nul-plan"},
        "text：不能包含控制字符",
    ),
    ("POST", "/api/admin/import", {"units": [{"name": "区\x1b局"}]}, "units[0].name：不能包含控制字符"),
]


@pytest.mark.parametrize(("method", "url", "body", "message"), TEXT_FIELDS)
def test_control_characters_are_refused_naming_the_field(
    api: AdminApi, method: str, url: str, body: dict, message: str
) -> None:  # type: ignore[type-arg]
    count, version = api.audit_count(), api.measure(60)["version"]
    response = api.client.request(method, url, json=body, headers={**api.admin, "If-Match": str(version)})
    assert response.status_code == 422 and message in response.json()["detail"], response.text
    assert api.audit_count() == count and api.measure(60)["version"] == version


def test_long_text_keeps_its_line_breaks_and_tabs(api: AdminApi) -> None:
    text = "推进企业服务：\n\t一是线上办；\r\n\t二是就近办。"
    response = api.patch(61, {"text": text})
    assert response.status_code == 200, response.text
    assert api.measure(61)["text"] == text
    created = api.client.post(
        "/api/admin/categories",
        headers=api.admin,
        json={"document_id": 1, "section": 5, "title": "分段导语类别", "lead": "第一段。\n第二段。"},
    )
    assert created.status_code == 201 and created.json()["lead"] == "第一段。\n第二段。"


def test_an_admin_remit_routes_questions_no_measure_answers_at_once(api: AdminApi) -> None:
    question = "密室逃脱的事找谁"  # no plan word or remit in it, even after this module's imports
    before = api.client.get("/api/measures", params={"q": question}).json()
    assert not (before["route"] and before["route"]["unit"] == "区文旅局")
    units = {u["name"]: u for u in api.client.get("/api/units").json()}
    changed = api.client.patch(
        "/api/admin/units/区文旅局",
        headers=api.admin,
        json={"remit": [*units["区文旅局"]["remit"], "密室逃脱"]},
    )
    assert changed.status_code == 200 and "密室逃脱" in changed.json()["remit"]
    after = api.client.get("/api/measures", params={"q": question}).json()
    assert after["outcome"] == "remit" and after["items"] == []
    assert after["route"]["unit"] == "区文旅局" and after["route"]["phrase"] == "密室逃脱"
    bad = api.client.patch("/api/admin/units/区文旅局", headers=api.admin, json={"remit": ["备案\n换行"]})
    assert bad.status_code == 422
