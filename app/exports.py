"""Downloads: CSV (UTF-8 with BOM) and Excel responses, safe against formula injection."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "UTF-8（带 BOM）CSV"}
}
XLSX_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {XLSX: {}}, "description": "Excel 工作簿"}}


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
    return Response(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition(filename)},
    )


def xlsx_response(
    title: str, columns: Sequence[tuple[str, int]], rows: Iterable[Sequence[Any]], *, filename: str
) -> Response:
    """A downloadable one-sheet workbook."""
    return Response(
        xlsx_bytes(title, columns, rows),
        media_type=XLSX,
        headers={"Content-Disposition": disposition(filename)},
    )


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


def dated_filename(stem: str, extension: str) -> str:
    """`stem-YYYYMMDD.extension` (today)."""
    return f"{stem}-{dt.date.today():%Y%m%d}.{extension}"


def disposition(filename: str) -> str:
    """A Content-Disposition header value for a download."""
    return f'attachment; filename="{filename}"'
