"""The staff console's endpoints under /api/staff: search with a section filter, CSV and Excel export.

They take the query parameters of `GET /api/measures` and answer with the same lookup; a staff
or admin token is required (an export hands out the whole catalogue at once).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from app.deps import RuntimeDep, SessionDep
from app.exports import CSV_RESPONSE, XLSX_RESPONSE, csv_response, dated_filename, xlsx_response
from app.schemas.public import MeasureList
from app.security import AuthenticatedRoute, require_staff
from policy_db.catalogue import MeasureView
from policy_db.kinds import STATUS_LABELS, VALIDITY_LABELS
from policy_db.lookup import MeasureQuery, find_measures

router = APIRouter(
    prefix="/api/staff", tags=["staff"], dependencies=[Depends(require_staff)], route_class=AuthenticatedRoute
)
MAX_EXPORT = 10_000
FILE_STEM = "policy-measures"
COLUMNS = [
    ("文件", 28),
    ("编号", 6),
    ("简称", 22),
    ("措施内容", 70),
    ("章", 18),
    ("类别", 24),
    ("责任单位", 30),
    ("牵头单位", 14),
    ("标签", 16),
    ("状态", 6),
    ("版本", 6),
    ("文件效力", 8),
]


def measure_query(
    q: Annotated[str, Query(max_length=500, description="问题或关键词")] = "",
    unit: Annotated[str | None, Query(max_length=100, description="单位名称或别名")] = None,
    category: Annotated[str | None, Query(max_length=300, description="类别标题")] = None,
    section: Annotated[str | None, Query(max_length=300, description="章标题")] = None,
    document_id: Annotated[int | None, Query(ge=1)] = None,
    include_outdated: Annotated[bool, Query(description="也查已失效、已被替代的文件")] = False,
) -> MeasureQuery:
    """The filters from the query string."""
    return MeasureQuery(q, unit, category, section, document_id, include_outdated)


QueryDep = Annotated[MeasureQuery, Depends(measure_query)]


@router.get("/measures", response_model=MeasureList)
def staff_search(
    runtime: RuntimeDep,
    session: SessionDep,
    query: QueryDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> MeasureList:
    """Ranked search as GET /api/measures, with an extra `section` filter."""
    return find_measures(runtime.search, session, query, limit=limit, offset=offset)


ExportLimit = Annotated[int, Query(ge=1, le=MAX_EXPORT, description="最多导出条数")]


@router.get("/measures.csv", response_class=Response, responses=CSV_RESPONSE)
def export_csv(
    runtime: RuntimeDep, session: SessionDep, query: QueryDep, limit: ExportLimit = MAX_EXPORT
) -> Response:
    """The search's results as CSV (UTF-8 with BOM, so Excel reads the Chinese text)."""
    page = find_measures(runtime.search, session, query, limit=limit)
    rows = [measure_row(m) for m in page.items]
    return csv_response([name for name, _ in COLUMNS], rows, filename=dated_filename(FILE_STEM, "csv"))


@router.get("/measures.xlsx", response_class=Response, responses=XLSX_RESPONSE)
def export_xlsx(
    runtime: RuntimeDep, session: SessionDep, query: QueryDep, limit: ExportLimit = MAX_EXPORT
) -> Response:
    """The search's results as an Excel workbook, one row per measure."""
    page = find_measures(runtime.search, session, query, limit=limit)
    return xlsx_response(
        "政策措施", COLUMNS, [measure_row(m) for m in page.items], filename=dated_filename(FILE_STEM, "xlsx")
    )


def measure_row(measure: MeasureView) -> list[Any]:
    """A measure as a spreadsheet row, in the order of COLUMNS."""
    return [
        measure.document_title,
        measure.number,
        measure.title,
        measure.text,
        measure.section,
        measure.category,
        "、".join(measure.units),
        measure.units[0] if measure.units else "",
        "、".join(measure.tags),
        STATUS_LABELS.get(measure.status, measure.status),  # type: ignore[call-overload]
        measure.version,
        VALIDITY_LABELS[measure.validity],
    ]
