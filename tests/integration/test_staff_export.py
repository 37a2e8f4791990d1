"""The staff console's search with a section filter, and CSV / Excel export, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import openpyxl
import pytest

from app.exports import csv_response, xlsx_bytes
from app.routes.staff import COLUMNS
from tests.integration.admin_support import AdminApi, admin_api, seeded_runtime_of

HEADER = [name for name, _ in COLUMNS]
EXPORTS = ["/api/staff/measures.csv", "/api/staff/measures.xlsx", "/api/staff/measures"]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdminApi]:
    """One seeded database per backend, only read by these tests."""
    with (
        seeded_runtime_of(str(request.param), tmp_path_factory.mktemp("export")) as runtime,
        admin_api(runtime) as admin,
    ):
        yield admin


def csv_rows(content: bytes) -> list[list[str]]:
    """The rows of a UTF-8 CSV that must start with a BOM."""
    assert content.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def sheet_rows(content: bytes) -> list[list[object]]:
    """The rows of the first sheet of a workbook."""
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


@pytest.mark.parametrize("url", EXPORTS)
def test_exports_need_a_staff_or_admin_token(api: AdminApi, url: str) -> None:
    anonymous = api.client.get(url)
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"] == "Bearer"
    assert api.client.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert api.client.get(url, headers=api.staff).status_code == 200
    assert api.client.get(url, headers=api.admin).status_code == 200


def test_csv_has_the_search_results_in_ranked_order(api: AdminApi) -> None:
    ranked = api.client.get("/api/measures", params={"q": "留抵退税", "limit": 100}).json()
    response = api.client.get("/api/staff/measures.csv", params={"q": "留抵退税"}, headers=api.staff)
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="policy-measures-' in response.headers["content-disposition"]
    header, *rows = csv_rows(response.content)
    assert header == HEADER
    assert [int(row[1]) for row in rows] == [m["number"] for m in ranked["items"]]
    first = dict(zip(header, rows[0], strict=True))
    assert first["编号"] == "25" and "留抵退税" in first["措施内容"]
    assert first["责任单位"] == "区税务局" and first["牵头单位"] == "区税务局" and first["状态"] == "有效"
    assert first["文件"] == "普陀区深化推进一流营商环境建设行动方案"


def test_csv_of_a_unit_lists_every_unit_in_order(api: AdminApi) -> None:
    total = api.client.get("/api/measures", params={"unit": "税务局"}).json()["total"]
    header, *rows = csv_rows(
        api.client.get("/api/staff/measures.csv", params={"unit": "税务局"}, headers=api.staff).content
    )
    assert len(rows) == total > 3
    units = [row[header.index("责任单位")].split("、") for row in rows]
    assert all("区税务局" in names for names in units)
    measure_21 = next(u for row, u in zip(rows, units, strict=True) if row[1] == "21")
    assert measure_21 == api.measure(21)["units"] and measure_21[0] == "区市场监管局"


def test_xlsx_opens_and_has_the_rows(api: AdminApi) -> None:
    measures = api.client.get("/api/measures", params={"category": "改善企业纳税环境", "limit": 100}).json()
    response = api.client.get(
        "/api/staff/measures.xlsx", params={"category": "改善企业纳税环境"}, headers=api.admin
    )
    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    header, *rows = sheet_rows(response.content)
    assert list(header) == HEADER
    assert [(row[1], row[2]) for row in rows] == [(m["number"], m["title"]) for m in measures["items"]]
    assert all(row[5] == "改善企业纳税环境" and row[4] == "让企业办事更省心" for row in rows)
    assert len(rows) == measures["total"] > 0


def test_everything_exports_without_a_query(api: AdminApi) -> None:
    _, *rows = csv_rows(api.client.get("/api/staff/measures.csv", headers=api.staff).content)
    assert [int(row[1]) for row in rows] == list(range(1, 101))
    limited = csv_rows(api.client.get("/api/staff/measures.csv?limit=5", headers=api.staff).content)
    assert len(limited) == 6


def test_the_section_filter_keeps_only_that_section(api: AdminApi) -> None:
    categories = api.client.get("/api/categories").json()
    section = categories[-1]["section"]
    expected = sorted(n for c in categories if c["section"] == section for n in c["measures"])
    response = api.client.get(
        "/api/staff/measures", params={"section": section, "limit": 100}, headers=api.staff
    ).json()
    assert sorted(m["number"] for m in response["items"]) == expected
    assert response["total"] == len(expected) and all(m["section"] == section for m in response["items"])
    page = api.client.get(
        "/api/staff/measures", params={"section": section, "limit": 2, "offset": 2}, headers=api.staff
    ).json()
    assert [m["number"] for m in page["items"]] == expected[2:4] and page["total"] == len(expected)
    searched = api.client.get(
        "/api/staff/measures", params={"section": section, "q": "知识产权"}, headers=api.staff
    ).json()
    assert searched["terms"] and all(m["section"] == section for m in searched["items"])


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"section": "没有这一章"}, 404),
        ({"unit": "不存在的局"}, 404),
        ({"category": "没有这类"}, 404),
        ({"document_id": 0}, 422),
        ({"limit": 0}, 422),
        ({"limit": 10_001}, 422),
    ],
)
def test_bad_filters_are_refused(api: AdminApi, params: dict[str, object], status: int) -> None:
    response = api.client.get("/api/staff/measures.csv", params=params, headers=api.staff)
    assert response.status_code == status, response.text


def test_cells_that_look_like_formulas_stay_text() -> None:
    rows = [['=HYPERLINK("http://x")'], ["-1+1"], ["正常文字"]]
    response = csv_response(["问题"], rows, filename="x.csv")
    assert csv_rows(response.body)[1:] == [['\'=HYPERLINK("http://x")'], ["'-1+1"], ["正常文字"]]
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx_bytes("表", [("问题", 10)], [["=1+1"], [3]])))
    cell = workbook.active["A2"]
    assert cell.value == "=1+1" and cell.data_type == "s"
    assert workbook.active["A3"].value == 3


def test_control_characters_are_dropped_from_the_workbook() -> None:
    content = xlsx_bytes("表", [("内容", 10)], [["含\x1b[31m控制\x00字符"], ["=\x07公式"]])
    assert sheet_rows(content)[1:] == [["含[31m控制字符"], ["=公式"]]
