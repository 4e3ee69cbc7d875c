"""Reading customer files: CSV in UTF-8 (with or without BOM), GBK or GB18030, and XLSX.

A CSV file is streamed: it is never held in memory whole, so a file of a million rows
costs no more memory than one of a thousand. Its encoding is taken as given, or detected
from the first megabyte: a UTF-8 BOM, else strict UTF-8, else GB18030 if it reads as
such (GB18030 contains GBK and GB2312, so a rare character beyond GBK is not lost), else
``charset-normalizer``'s guess (Big5). A header that does not read in the chosen encoding
stops the import; a cell that does not is reported (``encoding_error``). The delimiter
(comma, tab, semicolon or |) is taken from the header line.

A spreadsheet is read with ``python-calamine`` (its first sheet). Numbers that are whole
(a phone number typed as a number) come out as integers, and dates as ISO dates, so the
cleaning rules see the same text as they would from a CSV.

Row numbers are the file's line numbers (the header is row 1), so the row report points
at the line a user sees in a text editor or in Excel.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes
from django.utils.translation import gettext as _

from calldeck.customers.importing.fields import auto_mapping

SAMPLE_BYTES = 1 << 20
CHINESE = {"gb2312", "gbk", "gb18030", "hz", "cp936"}
ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "gb18030": "gb18030",
    "cp936": "gb18030",
    "big5": "big5",
}
XLSX = "xlsx"
SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}


class ImportFileError(Exception):
    """The file cannot be read as asked; the message says what and where."""


@dataclass
class Table:
    headers: list[str]
    encoding: str
    rows: Iterator[tuple[int, list[str]]]
    bytes_total: int
    position: Callable[[], int]  # bytes read so far

    def bytes_done(self) -> int:
        return self.position()


@dataclass
class Preview:
    headers: list[str]
    rows: list[list[str]]
    encoding: str
    columns: dict[str, str]


def encoding_name(given: str | None) -> str | None:
    if not given:
        return None
    try:
        return ENCODINGS[given.strip().lower()]
    except KeyError:
        raise ImportFileError(
            _("Unknown encoding “%(name)s”; use UTF-8, GBK or GB18030.") % {"name": given}
        ) from None


def detect_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportFileError(_("The file is UTF-16; save it as UTF-8 or GBK and try again."))
    if b"\x00" in sample:
        raise ImportFileError(_("This is not a text file (it holds binary data)."))
    # A sample may end inside a character: judge it up to its last complete line.
    cut = sample.rfind(b"\n")
    whole = sample[: cut + 1] if 0 < cut < len(sample) - 1 else sample
    try:
        whole.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # Mainland files: whatever reads as GB18030 (which contains GBK and GB2312) is taken
    # as such; only what does not is left to charset-normalizer's guess (Big5, ...).
    try:
        whole.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        pass
    best = from_bytes(whole[: 256 * 1024]).best()
    name = best.encoding.replace("_", "").lower() if best is not None else ""
    if name in ("big5", "big5hkscs"):
        return "big5"
    raise ImportFileError(
        _("The file's encoding could not be recognised; choose UTF-8, GBK or GB18030.")
    )


def is_spreadsheet(path: str | Path) -> bool:
    return Path(path).suffix.lower() in SPREADSHEET_SUFFIXES


def _clean_headers(headers: list[str]) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(headers):
        name = str(raw).strip().lstrip("\ufeff").strip() or _("column %(n)d") % {"n": i + 1}
        # Two columns with the same header stay apart: the second is "手机 (2)".
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        out.append(name)
    return out


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


@contextmanager
def open_table(path: str | Path, *, encoding: str | None = None) -> Iterator[Table]:
    """The file's headers and its data rows as (line number, cells)."""
    path = Path(path)
    try:
        size = os.path.getsize(path)
    except OSError as err:
        raise ImportFileError(_("The file cannot be opened: %(err)s") % {"err": err}) from None
    if size == 0:
        raise ImportFileError(_("The file is empty."))
    if is_spreadsheet(path):
        yield _open_spreadsheet(path, size)
        return
    with open(path, "rb") as raw:
        sample = raw.read(SAMPLE_BYTES)
        if sample[:4] == b"PK\x03\x04":
            raise ImportFileError(
                _("This is a spreadsheet (XLSX) with another name; name it .xlsx.")
            )
        chosen = encoding_name(encoding) or detect_encoding(sample)
        if chosen == "utf-8" and sample.startswith(codecs.BOM_UTF8):
            chosen = "utf-8-sig"
        raw.seek(0)
        text = io.TextIOWrapper(raw, encoding=chosen, errors="replace", newline="")
        first = text.readline()
        if not first.strip():
            raise ImportFileError(
                _("The first line of the file is empty; it must hold the headers.")
            )
        dialect = _dialect(first)
        headers = _clean_headers(next(csv.reader([first], dialect)))
        if any("\ufffd" in h for h in headers):
            raise ImportFileError(
                _(
                    "The header line does not read as %(encoding)s; the file is probably "
                    "in another encoding (GBK is common for files saved by Excel)."
                )
                % {"encoding": chosen.upper()}
            )
        reader = csv.reader(text, dialect)

        def rows() -> Iterator[tuple[int, list[str]]]:
            line = 1
            try:
                for cells in reader:
                    start, line = line + 1, reader.line_num + 1
                    if cells and any(c.strip() for c in cells):
                        yield start, cells
            except csv.Error as err:
                raise ImportFileError(
                    _("Line %(line)d cannot be read as CSV: %(err)s")
                    % {"line": line + 1, "err": err}
                ) from None

        yield Table(headers, chosen, rows(), size, raw.tell)


def _dialect(header_line: str) -> type[csv.Dialect]:
    counts = {d: header_line.count(d) for d in (",", "\t", ";", "|")}
    delimiter = max(counts, key=lambda d: counts[d])
    if counts[delimiter] == 0:
        delimiter = ","

    class Dialect(csv.excel):
        pass

    Dialect.delimiter = delimiter
    return Dialect


def _open_spreadsheet(path: Path, size: int) -> Table:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_index(0)
        it = iter(sheet.iter_rows())
        first = next(it, None)
    except (CalamineError, OSError, ValueError) as err:
        raise ImportFileError(_("The spreadsheet cannot be read: %(err)s") % {"err": err}) from None
    if first is None or not any(_cell(c) for c in first):
        raise ImportFileError(_("The first row of the sheet is empty; it must hold the headers."))
    headers = _clean_headers([_cell(c) for c in first])
    done = [0]
    total = max(sheet.total_height or 1, 1)

    def rows() -> Iterator[tuple[int, list[str]]]:
        for index, values in enumerate(it, start=2):
            done[0] = index
            cells = [_cell(v) for v in values]
            if any(cells):
                yield index, cells

    return Table(headers, XLSX, rows(), size, lambda: size * done[0] // total)


def preview(
    path: str | Path, *, encoding: str | None = None, kind: str = "customers", rows: int = 10
) -> Preview:
    with open_table(path, encoding=encoding) as table:
        first: list[list[str]] = []
        for _line, cells in table.rows:
            first.append(cells)
            if len(first) >= rows:
                break
        return Preview(table.headers, first, table.encoding, auto_mapping(table.headers, kind))
