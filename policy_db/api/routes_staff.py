"""The staff console's endpoints under /api/staff: search with a section filter, CSV and Excel export.

They take the query parameters of `GET /api/measures` and answer with the same matcher; a staff
or admin token is required (an export hands out the whole catalogue at once).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from policy_db.api.deps import RuntimeDep, SessionDep
from policy_db.api.routes_public import search_measures
from policy_db.api.schemas import MeasureList, MeasurePublic
from policy_db.api.security import AuthenticatedRoute, require_staff
from policy_db.catalog import MeasureView
from policy_db.errors import NotFound
from policy_db.models import Section
from policy_db.runtime import Runtime

router = APIRouter(prefix="/api/staff", tags=["staff"], dependencies=[Depends(require_staff)],
                   route_class=AuthenticatedRoute)
MAX_EXPORT = 10_000
MAX_RANKED = 1_000_000  # "all of them", for narrowing by section after ranking
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMNS = [("文件", 28), ("编号", 6), ("简称", 22), ("措施内容", 70), ("章", 18), ("类别", 24),
           ("责任单位", 30), ("牵头单位", 14), ("标签", 16), ("状态", 6), ("版本", 6)]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class MeasureQuery:
    """The filters of a staff search or export (those of GET /api/measures, plus `section`)."""

    q: str = ""
    unit: str | None = None
    category: str | None = None
    section: str | None = None
    document_id: int | None = None


def measure_query(
    q: Annotated[str, Query(max_length=500, description="问题或关键词")] = "",
    unit: Annotated[str | None, Query(max_length=100, description="单位名称或别名")] = None,
    category: Annotated[str | None, Query(max_length=300, description="类别标题")] = None,
    section: Annotated[str | None, Query(max_length=300, description="章标题")] = None,
    document_id: Annotated[int | None, Query(ge=1)] = None,
) -> MeasureQuery:
    """The filters from the query string."""
    return MeasureQuery(q, unit, category, section, document_id)


QueryDep = Annotated[MeasureQuery, Depends(measure_query)]


@dataclass(frozen=True)
class Found:
    """A page of search results as views (cheap to turn into rows), and how the question was read."""

    views: list[MeasureView]
    total: int
    kind: str
    unit: str | None
    terms: list[str]


def find_measures(runtime: Runtime, session: Session, query: MeasureQuery, *, limit: int,
                  offset: int) -> Found:
    """The public search's results, narrowed to a section when one is given (404 for unknown filters)."""
    # The public endpoint checks the filters (404s); one extra ranking is cheap next to the export.
    search_measures(runtime, session, q=query.q, unit=query.unit, category=query.category,
                    document_id=query.document_id, limit=1, offset=0)
    if query.section and session.scalar(
            select(Section.id).where(Section.title == query.section).limit(1)) is None:
        raise NotFound(f"没有名为“{query.section}”的章")
    # The matcher has no section filter: rank everything the other filters allow, then narrow.
    wide = bool(query.section)
    result = runtime.search.search(query.q, unit=query.unit, category=query.category,
                                   document_id=query.document_id, limit=MAX_RANKED if wide else limit,
                                   offset=0 if wide else offset)
    matches, total = result.matches, result.total
    if wide:
        matches = [m for m in matches if m.measure.section == query.section]
        matches, total = matches[offset:offset + limit], len(matches)
    views = [replace(m.measure, score=round(m.score, 4)) for m in matches]
    return Found(views, total, result.kind, result.unit, result.terms)


@router.get("/measures", response_model=MeasureList)
def staff_search(runtime: RuntimeDep, session: SessionDep, query: QueryDep,
                 limit: Annotated[int, Query(ge=1, le=100)] = 20,
                 offset: Annotated[int, Query(ge=0, le=100_000)] = 0) -> MeasureList:
    """Ranked search as GET /api/measures, with an extra `section` filter."""
    found = find_measures(runtime, session, query, limit=limit, offset=offset)
    return MeasureList(items=[MeasurePublic.model_validate(v.payload()) for v in found.views],
                       total=found.total, kind=found.kind, unit=found.unit, terms=found.terms)


ExportLimit = Annotated[int, Query(ge=1, le=MAX_EXPORT, description="最多导出条数")]


@router.get("/measures.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "UTF-8（带 BOM）CSV"}})
def export_csv(runtime: RuntimeDep, session: SessionDep, query: QueryDep,
               limit: ExportLimit = MAX_EXPORT) -> Response:
    """The search's results as CSV (UTF-8 with BOM, so Excel reads the Chinese text)."""
    found = find_measures(runtime, session, query, limit=limit, offset=0)
    rows = [measure_row(m) for m in found.views]
    return csv_response([name for name, _ in COLUMNS], rows, filename=_filename("csv"))


@router.get("/measures.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "Excel 工作簿"}})
def export_xlsx(runtime: RuntimeDep, session: SessionDep, query: QueryDep,
                limit: ExportLimit = MAX_EXPORT) -> Response:
    """The search's results as an Excel workbook, one row per measure."""
    found = find_measures(runtime, session, query, limit=limit, offset=0)
    content = xlsx_bytes("政策措施", COLUMNS, [measure_row(m) for m in found.views])
    return Response(content, media_type=XLSX,
                    headers={"Content-Disposition": _disposition(_filename("xlsx"))})


def measure_row(measure: MeasureView) -> list[Any]:
    """A measure as a spreadsheet row, in the order of COLUMNS."""
    return [measure.document_title, measure.number, measure.title, measure.text, measure.section,
            measure.category, "、".join(measure.units), measure.units[0] if measure.units else "",
            "、".join(measure.tags), "有效" if measure.status == "active" else "停用",
            measure.version]


def safe_cell(value: Any) -> Any:
    """A value that a spreadsheet shows as text, never runs as a formula (CSV/formula injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], *, filename: str) -> Response:
    """A downloadable UTF-8 CSV with a BOM (Excel otherwise guesses GBK and garbles Chinese)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return Response(("\ufeff" + buffer.getvalue()).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": _disposition(filename)})


def xlsx_bytes(title: str, columns: Sequence[tuple[str, int]], rows: Iterable[Sequence[Any]]) -> bytes:
    """A one-sheet workbook with a bold, frozen header row; every string stays text."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    for index, (_, width) in enumerate(columns):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([_cell(sheet, name, font=bold) for name, _ in columns])
    for row in rows:
        # A worksheet cannot hold control characters (openpyxl raises): drop them, not the export.
        values = [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row]
        # Plain values are openpyxl's fast path; only text it would take for a formula is wrapped.
        sheet.append([_cell(sheet, v) if isinstance(v, str) and v.startswith("=") else v for v in values])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(sheet: Any, value: Any, **style: Any) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would store "=..." as a formula
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def _filename(extension: str) -> str:
    return f"policy-measures-{dt.date.today():%Y%m%d}.{extension}"


def _disposition(filename: str) -> str:
    return f'attachment; filename="{filename}"'
