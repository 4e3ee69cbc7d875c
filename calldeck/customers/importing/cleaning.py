"""Cleaning the rows of a customer file, in this process or in a helper process.

Cleaning is pure computation on text (``values``), so for a large file it runs in a
second process while this one matches and writes: the file is read and cleaned there,
and chunks of cleaned rows come back through a bounded queue. The two processes share
nothing else; the database is only touched here, by the caller. This module imports no
models so that the helper process can load it before Django's apps are set up.

A cleaned row (``Cleaned``) is a named tuple of plain values: it crosses the process
boundary cheaply, and it is what the engine's matching reads.
"""

from __future__ import annotations

import datetime as dt
import itertools
import multiprocessing
import queue
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from calldeck.customers.importing import values as v
from calldeck.customers.importing.fields import ATTRIBUTE, IGNORE

CHUNK = 5000
KEY_LENGTH = 64
PRODUCT_LENGTH = 60
# Customer columns an import sets, with their model field lengths (None: not free text).
SCALARS: dict[str, int | None] = {
    "name": 100,
    "gender": None,
    "birthday": None,
    "region": 60,
    "city": 60,
    "value_tier": None,
    "vip_level": None,
    "customer_since": None,
    "wechat_id": 64,
    "timezone": 64,
}
# ``PhoneKind`` values (customers.models).
MOBILE, HOME, WORK, OTHER = "mobile", "home", "work", "other"

# A file larger than this is cleaned in a helper process.
PARALLEL_MIN_BYTES = 8 * 1024 * 1024
QUEUE_CHUNKS = 6

Reject = tuple[int, str, str, str]  # (row, column, value, reason)


SCALAR_NAMES = tuple(SCALARS)
SCALAR_INDEX = {name: i for i, name in enumerate(SCALAR_NAMES)}
DATES = frozenset({"birthday", "customer_since"})


class Cleaned(NamedTuple):
    """A cleaned row, in plain values (dates as ISO strings) so it pickles cheaply."""

    line: int
    key: str
    mobile: str  # the first valid mobile number, "" if none
    scalars: tuple[str | None, ...]  # in SCALAR_NAMES order; None where the cell is empty
    phones: tuple[tuple[str, str, str], ...]  # (e164, extension, PhoneKind), no repeats
    emails: tuple[str, ...]
    products: tuple[str, ...]
    attributes: dict[str, str]
    consent: bool | None
    warnings: tuple[tuple[str, str, str], ...]  # (column, value, reason)


@dataclass(slots=True)
class _Row:
    """A row while it is being cleaned."""

    line: int
    key: str = ""
    scalars: dict[str, Any] = field(default_factory=dict)
    phones: list[tuple[str, str, str]] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    consent: bool | None = None
    warnings: list[tuple[str, str, str]] = field(default_factory=list)

    def done(self) -> Cleaned:
        phones = self.phones
        if len(phones) > 1:
            seen: dict[str, tuple[str, str, str]] = {}
            for phone in phones:
                seen.setdefault(phone[0], phone)
            phones = list(seen.values())
        mobile = next((e164 for e164, _ext, kind in phones if kind == MOBILE), "")
        scalars = self.scalars
        return Cleaned(
            self.line,
            self.key,
            mobile,
            tuple(scalars.get(name) for name in SCALAR_NAMES) if scalars else _NO_SCALARS,
            tuple(phones),
            tuple(dict.fromkeys(self.emails)),
            tuple(dict.fromkeys(self.products)),
            self.attributes,
            self.consent,
            tuple(self.warnings),
        )


_NO_SCALARS: tuple[str | None, ...] = (None,) * len(SCALARS)


class Plan:
    """Which cell of a row goes to which field, decided once from the mapping."""

    def __init__(self, headers: list[str], columns: dict[str, str], kind: str) -> None:
        self.headers = headers
        self.columns = columns
        self.kind = kind
        self.cells: list[tuple[int, str, str]] = []  # (index, field, header)
        for index, header in enumerate(headers):
            name = columns.get(header, IGNORE)
            if name != IGNORE:
                self.cells.append((index, name, header))
        self.header_of: dict[str, str] = {}
        for _i, name, header in self.cells:
            self.header_of.setdefault(name, header)
        self.width = len(headers)
        # For customer files: the cells in file order with their cleaning handler.
        self.handlers = [
            (index, name, header, HANDLERS[name])
            for index, name, header in self.cells
            if name in HANDLERS
        ]


def _phone_kind(phone: v.Phone, column: str) -> str:
    if phone.kind == v.MOBILE:
        return MOBILE
    if column == "work_phone":
        return WORK
    if column == "phone" and phone.kind == v.LANDLINE:
        return HOME
    return OTHER


def _set_key(row: _Row, raw: str, header: str, name: str, today: dt.date) -> None:
    if len(raw) > KEY_LENGTH:
        raise v.BadValue("too_long")
    row.key = raw


def _add_phones(row: _Row, raw: str, header: str, name: str, today: dt.date) -> None:
    fast = v.mobile_fast(raw)
    if fast is not None:
        row.phones.append((fast.e164, "", MOBILE))
        return
    for parsed in v.phones_parse(raw):
        if isinstance(parsed, v.BadValue):
            row.warnings.append((header, raw, parsed.reason))
        else:
            row.phones.append((parsed.e164, parsed.extension, _phone_kind(parsed, name)))


def _add_emails(row: _Row, raw: str, header: str, name: str, today: dt.date) -> None:
    for part in v.SPLIT_MANY.split(raw):
        if part.strip():
            try:
                row.emails.append(v.email_parse(part))
            except v.BadValue as bad:
                row.warnings.append((header, part, bad.reason))


def _set_date(row: _Row, raw: str, header: str, name: str, today: dt.date) -> None:
    row.scalars[name] = v.date_parse(raw, today=today).isoformat()


def _set_gender(row: _Row, raw: str, header: str, name: str, today: dt.date) -> None:
    row.scalars[name] = v.gender_parse(raw)


def _set_tier(row: _Row, raw: str, header: str, name: str, today: dt.date) -> None:
    row.scalars[name] = v.tier_parse(raw)


def _set_vip(row: _Row, raw: str, header: str, name: str, today: dt.date) -> None:
    row.scalars[name] = v.vip_parse(raw)


def _set_consent(row: _Row, raw: str, header: str, name: str, today: dt.date) -> None:
    row.consent = v.yes_no_parse(raw)


def _set_timezone(row: _Row, raw: str, header: str, name: str, today: dt.date) -> None:
    try:
        zoneinfo.ZoneInfo(raw)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise v.BadValue("timezone_unknown") from None
    row.scalars[name] = raw


def _add_products(row: _Row, raw: str, header: str, name: str, today: dt.date) -> None:
    for part in v.SPLIT_MANY.split(raw):
        product = part.strip()
        if product:
            if len(product) > PRODUCT_LENGTH:
                raise v.BadValue("too_long")
            row.products.append(product)


def _set_attribute(row: _Row, raw: str, header: str, name: str, today: dt.date) -> None:
    row.attributes[header] = raw


def _set_text(row: _Row, raw: str, header: str, name: str, today: dt.date) -> None:
    limit = SCALARS[name]
    if limit is not None and len(raw) > limit:
        raise v.BadValue("too_long")
    row.scalars[name] = raw


_Handler = Callable[[_Row, str, str, str, dt.date], None]
HANDLERS: dict[str, _Handler] = {
    "customer_key": _set_key,
    "mobile": _add_phones,
    "phone": _add_phones,
    "work_phone": _add_phones,
    "email": _add_emails,
    "birthday": _set_date,
    "customer_since": _set_date,
    "gender": _set_gender,
    "value_tier": _set_tier,
    "vip_level": _set_vip,
    "consent": _set_consent,
    "timezone": _set_timezone,
    "products": _add_products,
    ATTRIBUTE: _set_attribute,
    "name": _set_text,
    "region": _set_text,
    "city": _set_text,
    "wechat_id": _set_text,
}


def clean_row(line: int, cells: list[str], plan: Plan, today: dt.date) -> Cleaned | Reject:
    """The cleaned row, or why it is rejected as (row, column, value, reason)."""
    row = _Row(line)
    width = len(cells)
    if width > plan.width and any(c.strip() for c in cells[plan.width :]):
        return line, "", ",".join(cells[plan.width :])[:200], "wrong_column_count"
    for index, name, header, handler in plan.handlers:
        if index >= width:
            break
        raw = cells[index].strip()
        if not raw:
            continue
        if "\ufffd" in raw:
            row.warnings.append((header, raw, "encoding_error"))
            continue
        try:
            handler(row, raw, header, name, today)
        except v.BadValue as bad:
            if name == "customer_key":
                return line, header, raw, bad.reason
            row.warnings.append((header, raw, bad.reason))
    return row.done()


@dataclass
class CleanChunk:
    read: int
    rows: list[Cleaned]
    rejects: list[Reject]
    bytes_done: int


def clean_chunk(
    chunk: list[tuple[int, list[str]]], plan: Plan, today: dt.date
) -> tuple[list[Cleaned], list[Reject]]:
    rows: list[Cleaned] = []
    rejects: list[Reject] = []
    for line, cells in chunk:
        out = clean_row(line, cells, plan, today)
        if isinstance(out, Cleaned):
            rows.append(out)
        else:
            rejects.append(out)
    return rows, rejects


def chunks(
    rows: Iterable[tuple[int, list[str]]], size: int = CHUNK
) -> Iterator[list[tuple[int, list[str]]]]:
    it = iter(rows)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


# --- the helper process ---------------------------------------------------------------


def _child(
    path: str,
    encoding: str | None,
    headers: list[str],
    columns: dict[str, str],
    kind: str,
    today: dt.date,
    language: str,
    out: Any,
) -> None:
    """Read and clean ``path`` chunk by chunk into ``out``; runs in the helper process.

    The process is forked, so Django is already set up in it. It never touches the
    database connections it inherited, and multiprocessing ends it with ``os._exit``,
    so they are not closed behind the parent's back either.
    """
    import gc

    from django.utils import translation

    from calldeck.customers.importing.reader import ImportFileError, open_table

    gc.disable()  # short-lived rows without cycles: reference counting frees them
    translation.activate(language)
    plan = Plan(headers, columns, kind)
    try:
        with open_table(path, encoding=encoding) as table:
            for chunk in chunks(table.rows):
                rows, rejects = clean_chunk(chunk, plan, today)
                out.put(("chunk", CleanChunk(len(chunk), rows, rejects, table.bytes_done())))
        out.put(("end", None))
    except ImportFileError as err:
        out.put(("error", str(err)))
    except Exception as err:
        out.put(("crash", f"{type(err).__name__}: {err}"))


def cleaned_chunks_parallel(
    path: str | Path, encoding: str | None, plan: Plan, today: dt.date
) -> Iterator[CleanChunk]:
    """The file's cleaned chunks, read and cleaned by a helper process."""
    from django.utils import translation

    from calldeck.customers.importing.reader import ImportFileError

    # Fork: the helper starts at once with Django loaded, and nothing re-runs the parent's
    # main module (which spawn and forkserver would do).
    context = multiprocessing.get_context("fork")
    out = context.Queue(maxsize=QUEUE_CHUNKS)
    child = context.Process(
        target=_child,
        args=(
            str(path),
            encoding,
            list(plan.headers),
            plan.columns,
            str(plan.kind),
            today,
            translation.get_language() or "en",
            out,
        ),
        daemon=True,
        name="calldeck-import-cleaner",
    )
    child.start()
    try:
        while True:
            try:
                what, payload = out.get(timeout=5)
            except queue.Empty:
                if not child.is_alive():
                    raise RuntimeError(
                        f"the import's cleaning process ended ({child.exitcode})"
                    ) from None
                continue
            if what == "chunk":
                yield payload
            elif what == "end":
                break
            elif what == "error":
                raise ImportFileError(payload)
            else:
                raise RuntimeError(f"the import's cleaning process failed: {payload}")
    finally:
        if child.is_alive():
            child.terminate()
        child.join(timeout=5)
        out.close()
