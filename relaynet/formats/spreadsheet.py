"""Spreadsheets (.xlsx, .xlsm, .xls, .xlsb, .ods) read with python-calamine.

One reader for every spreadsheet format planners receive (calamine reads Excel 97–2003,
2007+ and OpenDocument alike, without formulas being run: cells hold their cached values).
The first sheet is read unless ``layer=`` names another one; the header is the first
non-empty row and rows keep their sheet row number (1-based, as Excel shows it).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..errors import InputError
from ..io import one_line


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def sheet_names(path: str | Path) -> list[str]:
    """Names of the sheets of a spreadsheet, in workbook order."""
    return list(_workbook(Path(path)).sheet_names)


def _workbook(path: Path):
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several types for damaged files
        raise InputError(f"{path}: cannot read as a spreadsheet ({one_line(exc)})") from None


def read_sheet(
    path: str | Path, sheet: str | None = None, *, header_only: bool = False
) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, data rows (cells as text) and sheet row numbers of one sheet.

    ``header_only`` accepts a sheet without data rows (format detection reads headers).

    Integral numbers read back without ``.0`` (``75001``, not ``75001.0``); dates as ISO
    text. Empty rows at the end are not rows; empty rows between data rows are.
    """
    path = Path(path)
    book = _workbook(path)
    names = list(book.sheet_names)
    if not names:
        raise InputError(f"{path}: spreadsheet has no sheets")
    if sheet is not None and sheet not in names:
        raise InputError(f"{path}: no sheet named {sheet!r}; sheets are {names}")
    try:
        rows = book.get_sheet_by_name(sheet or names[0]).to_python(skip_empty_area=False)
    except Exception as exc:
        raise InputError(f"{path}: cannot read sheet ({one_line(exc)})") from None
    cells = [[_cell(v) for v in row] for row in rows]
    first = next((i for i, row in enumerate(cells) if any(row)), None)
    if first is None:
        raise InputError(f"{path}: sheet {sheet or names[0]!r} is empty")
    header = cells[first]
    while header and not header[-1]:
        header.pop()
    body = cells[first + 1 :]
    numbers = list(range(first + 2, first + 2 + len(body)))
    while body and not any(body[-1]):
        body.pop()
        numbers.pop()
    if not body and not header_only:
        raise InputError(f"{path}: sheet {sheet or names[0]!r} has a header but no data rows")
    return header, body, numbers
