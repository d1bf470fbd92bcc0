"""Workbooks (.xlsx, .xls, and WPS .et in Excel's binary format): read with python-calamine.

python-calamine binds calamine, a Rust reader of every Excel format (MIT): one library for
.xlsx and the BIFF8 .xls that most disclosure sites still post (and that WPS Office writes
for .et spreadsheets), some 10 times faster than openpyxl, without lxml. Each sheet becomes
a line with its name in brackets, then a line per row with its cells joined by `` | ``
(trailing empty cells dropped, empty rows skipped); numbers as Excel shows them (``100``,
not ``100.0``), dates in ISO 8601.

Two bombs are defused before calamine sees an .xlsx, since what it allocates cannot be
bounded from Python once it runs (an out-of-memory abort ends the whole process, which no
``except`` catches): members that inflate past :data:`~scraper.extract.zipbounds.
MAX_INFLATED` (:mod:`~scraper.extract.zipbounds`, actual sizes, as calamine's zip reader
trusts no declared size), and a sheet whose cells lie far apart: calamine makes each sheet
one dense rows × columns grid, so two cells at A1 and XFD1048576 in a 1 KB file would ask
for 550 GB. The grid a sheet asks for is computed from its cell references first and
refused past :data:`MAX_SHEET_CELLS`. (A .xls grid is at most 65,536 × 256 cells by its
format, some 0.5 GB at worst; not checked.) Pure.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from functools import cache

from scraper.extract.result import Reading, tidy_lines
from scraper.extract.zipbounds import zip_problem

#: The largest grid (rows × columns, from the first used cell to the last) of one sheet.
MAX_SHEET_CELLS = 10_000_000

# A cell element with a value (calamine skips cells without one), and its reference.
_VALUED_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*>\s*<(?:\w+:)?(?:v|is|f)\b")
_VALUED_REFERENCE = re.compile(
    rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"[^>]*>\s*<(?:\w+:)?(?:v|is|f)\b'
)
_ROW = re.compile(rb"<(?:\w+:)?row\b")
_ROW_NUMBER = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="([0-9]{1,7})"')
# The quick look: every cell reference in the XML, valued or not (row numbers have no letters).
_ANY_REFERENCE = re.compile(rb' r="([A-Z]{1,3})([0-9]{1,7})"')


@cache
def workbook_reader_name() -> str:
    """What reads workbooks, with its version: ``python-calamine 0.9.1``."""
    from importlib.metadata import version

    return f"python-calamine {version('python-calamine')}"


def read_workbook(data: bytes, *, zipped: bool) -> Reading:
    """Return the text of a workbook, sheet after sheet. ``zipped``: an .xlsx (checked for
    bombs first). Never raises."""
    if zipped:
        problem = _xlsx_problem(data)
        if problem is not None:
            return Reading("", problem)
    import python_calamine

    lines: list[str] = []
    rows = 0
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        for name in workbook.sheet_names:
            lines.append(f"[{name}]")
            for row in workbook.get_sheet_by_name(name).iter_rows():
                cells = [value if type(value) is str else _cell(value) for value in row]
                while cells and not cells[-1]:
                    cells.pop()
                if cells:
                    lines.append(" | ".join(cells))
                    rows += 1
    except python_calamine.PasswordError:
        return Reading("", "an encrypted workbook that needs a password")
    # calamine reports broken files as CalamineError, XmlError, ZipError …, and the
    # binding as ValueError or TypeError; none may stop a crawl.
    except Exception as exc:
        return Reading("", f"a workbook that cannot be read ({type(exc).__name__}: {exc})")
    if not rows:
        return Reading("", "an empty workbook")
    return Reading(tidy_lines(lines))


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.15g}"
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def _xlsx_problem(data: bytes) -> str | None:
    """Why an .xlsx may not be handed to calamine, or None."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            problem = zip_problem(archive, data, actual=True)
            if problem is not None:
                return problem
            for info in archive.infolist():
                if not info.filename.endswith(".xml"):
                    continue
                xml = archive.read(info)
                if b"sheetData" in xml and (cells := _grid_cells(xml)) > MAX_SHEET_CELLS:
                    return (
                        f"a sheet ({info.filename}) spans {cells} cells from its first to its"
                        f" last (more than {MAX_SHEET_CELLS})"
                    )
    except Exception as exc:
        return f"a workbook that cannot be read ({type(exc).__name__}: {exc})"
    return None


def _grid_cells(xml: bytes) -> int:
    """The most cells the dense grid of a worksheet's XML can have: from its lowest row and
    column to its highest, counting each cell or row without a reference as one more.

    The common case is quick: cells without a namespace prefix, each with its reference;
    then the box of every reference (valued cells or not, so never less than calamine's
    grid) is the answer, if it is under the cap. Otherwise the slower exact count."""
    if b":c " not in xml and b":c>" not in xml:
        references = _ANY_REFERENCE.findall(xml)
        if len(references) == xml.count(b"<c ") + xml.count(b"<c>"):
            cells = _box(references, [], 0, 0)
            if cells <= MAX_SHEET_CELLS:
                return cells
    references = _VALUED_REFERENCE.findall(xml)
    unnumbered_cells = len(_VALUED_CELL.findall(xml)) - len(references)
    row_numbers = _ROW_NUMBER.findall(xml)
    unnumbered_rows = len(_ROW.findall(xml)) - len(row_numbers)
    return _box(references, row_numbers, unnumbered_cells, unnumbered_rows)


def _box(
    references: list[tuple[bytes, bytes]],
    row_numbers: list[bytes],
    unnumbered_cells: int,
    unnumbered_rows: int,
) -> int:
    rows = [int(number) for _, number in references] + [int(n) for n in row_numbers]
    columns = {letters for letters, _ in references}
    if not rows and not columns and not unnumbered_cells:
        return 0
    numbers = [_column_number(c) for c in columns] or [1]
    low_row = min(rows) if rows and not unnumbered_rows else 1
    low_column = min(numbers) if not unnumbered_cells else 1
    high_row = max(rows, default=1) + unnumbered_rows
    high_column = max(numbers) + unnumbered_cells
    return (high_row - low_row + 1) * (high_column - low_column + 1)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number
