"""Small helpers for .xlsx files we write: formula neutralizing, a styled table, bytes out.

Kept free of app imports so every export (registers, rankings, bulletins) can share them.
"""

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

CellValue = str | int | float | bool | dt.date | dt.datetime | None

# A text cell starting with one of these is read by Excel (or LibreOffice) as a formula or a
# DDE command; prefixing an apostrophe keeps it inert text (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: CellValue) -> CellValue:
    """Text that Excel could evaluate gets a leading apostrophe; numbers and dates pass through."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def unneutralize(value: str) -> str:
    """Undo `neutralize` on text read back from one of our own exports."""
    if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def write_table(
    ws: Any,
    headers: Sequence[str],
    rows: Iterable[Sequence[CellValue]],
    widths: Sequence[int] | None = None,
    date_format: str = "yyyy-mm-dd",
) -> None:
    """Bold header row frozen on top, neutralized cells, readable column widths."""
    ws.append(list(headers))
    bold = Font(bold=True)
    for cell in ws[1]:
        cell.font = bold
    for row in rows:
        ws.append([neutralize(value) for value in row])
    for index, header in enumerate(headers, start=1):
        width = widths[index - 1] if widths else max(10, len(header) * 2 + 4)
        ws.column_dimensions[get_column_letter(index)].width = width
    for column in ws.iter_cols(min_row=2):
        for cell in column:
            if isinstance(cell.value, dt.date):
                cell.number_format = date_format
    ws.freeze_panes = "A2"


def workbook_bytes(wb: Any) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
