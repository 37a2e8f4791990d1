"""An uploaded document (.docx here) takes the same `metadata` corrections and `supersedes` as pasted
text: a preview shows what would be stored and writes nothing, a commit stores it and marks the
replaced document; a `metadata` field that is not JSON, not an object or not valid is refused (422)
with a Chinese message before anything is read or written."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from httpx import Response

from tests.integration.admin_support import AdminApi, admin_api, seeded_runtime_of
from tests.unit.test_formats import docx_bytes

URL = "/api/admin/documents/upload"
OLD_SLUG = "putuo-2021-business-environment"
OLD_TITLE = "普陀区深化推进一流营商环境建设行动方案"
SLUG = "putuo-2022-service-plan"
TITLE = "普陀区2022年企业服务提质行动方案"
PLAN = f"""普府办〔2022〕9号
上海市普陀区人民政府办公室
2022年5月6日
{TITLE}
为进一步优化营商环境，制定本方案。
一、便利企业开办
(一)压缩开办时间。推进企业开办全程网办。具体措施:
1.推行企业开办智能审核，实现营业执照当日领取、印章刻制免费寄递。(责任单位:区市场监管局)
2.推广电子营业执照在银行开户中的应用。(责任单位:区市场监管局、区金融办)
二、优化监管服务
(二)推进包容审慎监管。完善轻微违法免罚清单。具体措施:
3.对首次轻微违法行为实行免罚清单管理，开展柔性执法回访。(责任单位:区市场监管局)
本方案自2022年6月1日起施行，有效期至2025年5月31日。
"""


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdminApi]:
    with (
        seeded_runtime_of("sqlite", tmp_path_factory.mktemp("upload-metadata")) as runtime,
        admin_api(runtime) as admin,
    ):
        yield admin


def upload(api: AdminApi, **form: str) -> Response:
    return api.client.post(
        URL, headers=api.admin, data={"slug": SLUG, **form}, files={"file": ("plan.docx", docx_bytes(PLAN))}
    )


def documents(api: AdminApi) -> dict[str, dict[str, Any]]:
    return {d["slug"]: d for d in api.client.get("/api/documents").json()}


def test_the_preview_reads_the_documents_own_metadata(api: AdminApi) -> None:
    response = upload(api)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["committed"] is False and answer["supersedes"] is None
    assert answer["metadata"] == {
        "title": TITLE,
        "document_number": "普府办〔2022〕9号",
        "issued_on": "2022-05-06",
        "effective_on": "2022-06-01",
        "expires_on": "2025-05-31",
    }
    summary = answer["summary"]
    assert (summary["sections"], summary["categories"], summary["measures"]) == (2, 2, 3)
    assert summary["shape_label"] == "章节→类别→措施"


def test_metadata_and_supersedes_preview_then_commit(api: AdminApi) -> None:
    # The plan states an expiry date now past: the admin corrects it (and the 文号) at import.
    later = (dt.date.today() + dt.timedelta(days=730)).isoformat()
    corrections = json.dumps(
        {"document_number": "普府办〔2022〕10号", "expires_on": later}, ensure_ascii=False
    )
    before = documents(api)
    preview = upload(api, metadata=corrections, supersedes=OLD_SLUG)
    assert preview.status_code == 200, preview.text
    answer = preview.json()
    assert answer["metadata"]["document_number"] == "普府办〔2022〕10号"
    assert answer["metadata"]["expires_on"] == later
    assert answer["metadata"]["effective_on"] == "2022-06-01"  # not corrected: as the document states
    assert answer["supersedes"]["slug"] == OLD_SLUG and answer["supersedes"]["validity"] == "replaced"
    assert documents(api) == before  # a preview writes nothing

    committed = upload(api, metadata=corrections, supersedes=OLD_SLUG, commit="true")
    assert committed.status_code == 200, committed.text
    assert committed.json()["committed"] is True and committed.json()["report"]["created"] == [1, 2, 3]
    listed = documents(api)
    new, old = listed[SLUG], listed[OLD_SLUG]
    assert new["document_number"] == "普府办〔2022〕10号" and new["expires_on"] == later
    assert new["issued_on"] == "2022-05-06" and new["effective_on"] == "2022-06-01"
    assert new["validity"] == "in_force"
    assert old["validity"] == "replaced" and old["superseded_by"] == new["id"]
    assert old["superseded_by_title"] == TITLE

    def found(**params: str) -> list[tuple[str, str]]:
        response = api.client.get("/api/staff/measures", params={"limit": "50", **params}, headers=api.staff)
        assert response.status_code == 200, response.text
        return [(m["document_title"], m["validity"]) for m in response.json()["items"]]

    assert found(q="营业执照当日领取、印章刻制免费寄递")[0] == (TITLE, "in_force")
    assert (OLD_TITLE, "replaced") not in found(q="电子营业执照")
    assert (OLD_TITLE, "replaced") in found(q="电子营业执照", include_outdated="true")


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ("{not json", "metadata 不是有效的 JSON"),
        ("[" * 3000, "metadata 不是有效的 JSON"),
        ('["普府办〔2022〕9号"]', "metadata 应为 JSON 对象"),
        ('{"issued_on": "2022年5月6日"}', "metadata.issued_on"),
        ('{"effective_on": "2022-06-01", "unknown": 1}', "metadata.unknown"),
        ('{"title": ""}', "metadata.title"),
    ],
)
def test_bad_metadata_is_refused_and_writes_nothing(api: AdminApi, metadata: str, message: str) -> None:
    before = documents(api)
    response = upload(api, metadata=metadata, commit="true", slug="putuo-2022-bad-metadata")
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and message in detail
    assert documents(api) == before


def test_an_unknown_supersedes_is_refused(api: AdminApi) -> None:
    before = documents(api)
    response = upload(api, supersedes="no-such-plan", commit="true", slug="putuo-2022-orphan")
    assert response.status_code == 404 and "no-such-plan" in response.json()["detail"]
    assert documents(api) == before
