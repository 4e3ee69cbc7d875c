"""Importing a file of customers: clean each row, merge duplicates, write in one go.

Theory of operation
-------------------
The file is streamed in chunks of ``cleaning.CHUNK`` rows, all inside one transaction: an import
either finishes or leaves the database as it was. For each chunk:

1. Every row is cleaned (``values``). A value that cannot be cleaned is dropped and
   reported (a warning); a row that cannot become a customer is rejected and reported.
   The row report lists both, as ``row,column,value,reason``.
2. Each row is matched to its customer by the stated merge rule: **the customer with the
   same customer id; a row without a customer id, the customer with the same mobile
   number** (its first valid mobile). Otherwise the row is a new customer. Customer ids
   are the bank's or operator's own keys, so two ids are two customers even when they
   share a number (a family line).
3. The first row of a customer in the file updates it: each non-empty cell replaces the
   stored value; an empty cell never erases one. Later rows of the same customer are
   duplicates: they are *merged* — they add numbers, e-mails, products and attributes and
   fill fields still empty, but never overwrite what an earlier row of the file set (the
   conflict is reported). Because of this, importing the same file twice changes
   nothing the second time.
4. New customers, changed fields and new numbers, e-mails, holdings and consent events are
   written with bulk statements; matching uses one query per chunk and kind, never one
   per row. Customers written by earlier chunks are found again by those same queries,
   since they are in the same open transaction.

Memory is bounded by the chunk, plus one integer per customer touched (the ids returned
for loading a campaign list).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from django.db import transaction
from django.utils import timezone

from calldeck.accounts.models import Client, User
from calldeck.bulk import bulk_insert
from calldeck.customers.importing.cleaning import (
    DATES,
    MOBILE,
    PARALLEL_MIN_BYTES,
    SCALAR_INDEX,
    SCALAR_NAMES,
    SCALARS,
    CleanChunk,
    Cleaned,
    Plan,
    chunks,
    clean_chunk,
    cleaned_chunks_parallel,
)
from calldeck.customers.importing.fields import (
    IGNORE,
    auto_mapping,
    mapping_errors,
)
from calldeck.customers.importing.reader import ImportFileError, Table, open_table
from calldeck.customers.importing.sql import ImportSql, no_gc
from calldeck.customers.models import (
    ConsentEvent,
    ContactSource,
    Customer,
    EmailAddress,
    Holding,
    ImportKind,
    PhoneNumber,
    ValueTier,
)

REPORT_HEADER = ("row", "column", "value", "reason")
NAME = SCALAR_INDEX["name"]


@dataclass
class Progress:
    rows: int
    bytes_done: int
    bytes_total: int
    phase: str = "reading"


@dataclass
class ImportResult:
    summary: dict[str, Any]
    customer_ids: list[int] = field(default_factory=list)
    seconds: float = 0.0


class Report:
    """The row report: a CSV of ``row,column,value,reason``."""

    def __init__(self, out: TextIO | None) -> None:
        self.writer = csv.writer(out) if out is not None else None
        if self.writer is not None:
            self.writer.writerow(REPORT_HEADER)

    def add(self, row: int, column: str, value: str, reason: str) -> None:
        if self.writer is not None:
            self.writer.writerow((row, column, value, reason))


# --- matching and merging ------------------------------------------------------------

_STATE_COLUMNS = ("id", "customer_key", *SCALARS, "attributes", "consent_marketing")


class _Customer:
    """A customer as this import sees it: its stored values and what the file adds.

    ``values`` follows ``SCALAR_NAMES`` (dates as ISO strings, None when empty).
    """

    __slots__ = (
        "attributes",
        "changed",
        "consent",
        "consent_event",
        "emails",
        "existed",
        "had_email",
        "id",
        "key",
        "new_emails",
        "new_phones",
        "new_products",
        "phone_count",
        "phones",
        "products",
        "seen",
        "values",
    )

    def __init__(
        self,
        customer_id: int | None,
        key: str,
        values: list[str | None],
        attributes: dict[str, str],
        consent: bool | None,
        *,
        existed: bool,
        seen: bool,
    ) -> None:
        self.id = customer_id
        self.key = key
        self.values = values
        self.attributes = attributes
        self.consent = consent
        self.existed = existed  # in the database before this import
        self.seen = seen  # a row of this file reached it already
        self.changed = False
        self.phones: set[str] = set()
        self.phone_count = 0
        self.emails: set[str] = set()
        self.had_email = False
        self.products: set[str] = set()
        self.new_phones: list[tuple[str, str, str, int]] = []
        self.new_emails: list[str] = []
        self.new_products: list[str] = []
        self.consent_event: bool | None = None


class CustomerImporter:
    def __init__(
        self,
        *,
        client: Client,
        plan: Plan,
        report: Report,
        actor: User | None,
        source: str,
        now: dt.datetime,
    ) -> None:
        self.client = client
        self.plan = plan
        self.report = report
        self.actor = actor
        self.source = source
        self.now = now
        self.today = timezone.localdate(now)
        self.read = 0
        self.created = 0
        self.merged = 0
        self.rejected: Counter[str] = Counter()
        self.warnings: Counter[str] = Counter()
        # Customers this import has reached so far, and those found unchanged (an
        # existing customer may still change through a later duplicate row).
        self.touched: dict[int, None] = {}
        self.created_ids: set[int] = set()
        self.created_keys: set[str] = set()
        self.client_had_customers = Customer.objects.filter(client=client).exists()
        self.unchanged: set[int] = set()
        self.updated: set[int] = set()
        self.sql = ImportSql()

    # The public figures, in the summary's shape.
    def summary(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "created": self.created,
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "merged": self.merged,
            "rejected": dict(sorted(self.rejected.items())),
            "warnings": dict(sorted(self.warnings.items())),
        }

    def _reject(self, line: int, column: str, value: str, reason: str) -> None:
        self.rejected[reason] += 1
        self.report.add(line, column, value, reason)

    def process(self, chunk: CleanChunk) -> None:
        self.read += chunk.read
        for reject in chunk.rejects:
            self._reject(*reject)
        rows = chunk.rows
        found = self._lookup(rows)
        pending_key: dict[str, _Customer] = {}
        pending_mobile: dict[str, _Customer] = {}
        new: list[_Customer] = []
        for row in rows:
            self._apply(row, found, pending_key, pending_mobile, new)
        existing = {id(c): c for c in pending_key.values() if c.id is not None}
        for c in existing.values():
            cid = c.id
            if c.existed and cid is not None:
                if c.changed:
                    self.unchanged.discard(cid)
                    self.updated.add(cid)
                elif cid not in self.updated:
                    self.unchanged.add(cid)
        self._write(new, [c for c in existing.values() if c.changed])
        self.sql.analyze_if_grown(len(self.touched))

    # --- lookups ---------------------------------------------------------------------

    def _lookup(self, rows: list[Cleaned]) -> dict[str, _Customer]:
        """Stored customers the rows may belong to, by ``key:<id>`` and ``tel:<e164>``."""
        sql = self.sql
        keys = list({r.key for r in rows if r.key})
        if not self.client_had_customers:
            # Only customers this import wrote can match: skip the others' lookups.
            keys = [k for k in keys if k in self.created_keys]
        mobiles = list({r.mobile for r in rows if not r.key and r.mobile})
        by_id: dict[int, _Customer] = {}
        found: dict[str, _Customer] = {}
        client = self.client.pk
        for values in sql.select(Customer, _STATE_COLUMNS, "customer_key", keys, client=client):
            c = self._state(values)
            by_id[c.id] = c  # type: ignore[index]
            found["key:" + c.key] = c
        if mobiles:
            owner: dict[str, int] = {}
            for e164, customer_id in sorted(
                sql.select(PhoneNumber, ("e164", "customer_id"), "e164", mobiles),
                key=lambda hit: hit[1],
            ):
                owner.setdefault(e164, customer_id)
            # A number may belong to another client's customer: keep this client's only.
            missing = list(set(owner.values()) - set(by_id))
            for values in sql.select(Customer, _STATE_COLUMNS, "id", missing, client=client):
                c = self._state(values)
                by_id[c.id] = c  # type: ignore[index]
            for e164, customer_id in owner.items():
                if customer_id in by_id:
                    found["tel:" + e164] = by_id[customer_id]
        if by_id:
            ids = list(by_id)
            for customer_id, e164 in sql.select(
                PhoneNumber, ("customer_id", "e164"), "customer_id", ids
            ):
                c = by_id[customer_id]
                c.phones.add(e164)
                c.phone_count += 1
            for customer_id, address in sql.select(
                EmailAddress, ("customer_id", "address"), "customer_id", ids
            ):
                by_id[customer_id].emails.add(address)
                by_id[customer_id].had_email = True
            for customer_id, product in sql.select(
                Holding, ("customer_id", "product"), "customer_id", ids
            ):
                by_id[customer_id].products.add(product)
        return found

    def _state(self, row: tuple[Any, ...]) -> _Customer:
        customer_id, key, *scalars, attributes, consent = row
        values: list[str | None] = [
            (x.isoformat() if isinstance(x, dt.date) else x) or None for x in scalars
        ]
        if isinstance(attributes, str):
            attributes = json.loads(attributes) if attributes != "{}" else {}
        return _Customer(
            customer_id,
            key,
            values,
            dict(attributes or {}),
            bool(consent),
            existed=customer_id not in self.created_ids,
            seen=customer_id in self.touched,
        )

    # --- merging one row into its customer -------------------------------------------

    def _apply(
        self,
        row: Cleaned,
        found: dict[str, _Customer],
        pending_key: dict[str, _Customer],
        pending_mobile: dict[str, _Customer],
        new: list[_Customer],
    ) -> None:
        mobile = row.mobile
        target: _Customer | None
        if row.key:
            target = pending_key.get(row.key) or found.get("key:" + row.key)
        elif mobile:
            target = pending_mobile.get(mobile) or found.get("tel:" + mobile)
        else:
            column = self.plan.header_of.get("customer_key") or self.plan.header_of.get(
                "mobile", ""
            )
            self._reject(row.line, column, "", "no_identifier")
            self._warn(row.line, row.warnings)
            return
        if target is None:
            if not row.scalars[NAME]:
                self._reject(row.line, self.plan.header_of.get("name", ""), "", "name_missing")
                self._warn(row.line, row.warnings)
                return
            target = self._new(row)
            new.append(target)
        elif target.seen:
            self.merged += 1
            self.report.add(
                row.line,
                self.plan.header_of.get("customer_key" if row.key else "mobile", ""),
                row.key or mobile,
                "duplicate_merged",
            )
            self._merge(row, target, overwrite=False)
        else:
            self._merge(row, target, overwrite=True)
            target.seen = True
        pending_key[target.key] = target
        for e164, _ext, kind in row.phones:
            if kind == MOBILE and e164 not in pending_mobile:
                pending_mobile[e164] = target
        if target.id is not None:
            self.touched[target.id] = None
        self._warn(row.line, row.warnings)
        if not target.phones:
            column = self.plan.header_of.get("mobile") or self.plan.header_of.get("phone", "")
            self._warn(row.line, ((column, "", "no_valid_number"),))

    def _new(self, row: Cleaned) -> _Customer:
        """A new customer from its first row: the common case, kept short."""
        self.created += 1
        c = _Customer(
            None,
            row.key or row.mobile,
            list(row.scalars),
            dict(row.attributes),
            row.consent,
            existed=False,
            seen=True,
        )
        c.changed = True
        c.consent_event = row.consent
        c.new_phones = [(e164, ext, kind, i) for i, (e164, ext, kind) in enumerate(row.phones)]
        c.phones = {phone[0] for phone in row.phones}
        c.phone_count = len(row.phones)
        c.new_emails = list(row.emails)
        c.emails = set(row.emails)
        c.new_products = list(row.products)
        c.products = set(row.products)
        return c

    def _warn(self, line: int, warnings: Iterable[tuple[str, str, str]]) -> None:
        for column, value, reason in warnings:
            self.warnings[reason] += 1
            self.report.add(line, column, value, reason)

    def _conflict(self, line: int, column: str, value: str) -> None:
        self._warn(line, ((column, value, "conflict_kept_earlier"),))

    def _merge(self, row: Cleaned, c: _Customer, *, overwrite: bool) -> None:
        values = c.values
        for i, value in enumerate(row.scalars):
            if value is None:
                continue
            current = values[i]
            if current == value:
                continue
            if overwrite or current is None:
                values[i] = value
                c.changed = True
            else:
                name = SCALAR_NAMES[i]
                self._conflict(row.line, self.plan.header_of.get(name, name), value)
        attributes = c.attributes
        for header, value in row.attributes.items():
            current = attributes.get(header)
            if current == value:
                continue
            if overwrite or not current:
                attributes[header] = value
                c.changed = True
            else:
                self._conflict(row.line, header, value)
        if (
            row.consent is not None
            and c.consent != row.consent
            and (overwrite or c.consent_event is None)
        ):
            c.consent = row.consent
            c.consent_event = row.consent
            c.changed = True
        for e164, extension, kind in row.phones:
            if e164 not in c.phones:
                c.phones.add(e164)
                c.new_phones.append((e164, extension, kind, c.phone_count))
                c.phone_count += 1
                c.changed = True
        for address in row.emails:
            if address not in c.emails:
                c.emails.add(address)
                c.new_emails.append(address)
                c.changed = True
        for product in row.products:
            if product not in c.products:
                c.products.add(product)
                c.new_products.append(product)
                c.changed = True

    # --- writing ---------------------------------------------------------------------

    def _write(self, new: list[_Customer], changed: list[_Customer]) -> None:
        sql = self.sql
        now = sql.datetime(self.now)
        source = self.source[:100]
        if new:
            client = self.client.pk
            json_value = sql.json
            rows = []
            ids = sql.reserve_ids(Customer, len(new))
            for c, customer_id in zip(new, ids, strict=True):
                c.id = customer_id
                self.touched[customer_id] = None
                self.created_ids.add(customer_id)
                self.created_keys.add(c.key)
                name, gender, birthday, region, city, tier, vip, since, wechat, tz = c.values
                consent = c.consent
                rows.append(
                    (
                        customer_id,
                        client,
                        c.key,
                        name,
                        gender or "",
                        birthday,
                        region or "",
                        city or "",
                        wechat or "",
                        tier or ValueTier.MEDIUM,
                        vip or "",
                        json_value(c.attributes),
                        consent is not False,
                        None if consent is None else now,
                        "" if consent is None else source,
                        since,
                        now,
                        now,
                        tz or "",
                    )
                )
            bulk_insert(Customer, _CUSTOMER_COLUMNS, rows)
        if changed:
            plain, with_consent = [], []
            for c in changed:
                row: list[Any] = [
                    value if (value is not None or i in _NULLABLE) else _EMPTY[i]
                    for i, value in enumerate(c.values)
                ]
                row += [sql.json(c.attributes), c.consent is not False, now]
                if c.consent_event is not None:
                    with_consent.append((*row, now, source, c.id))
                else:
                    plain.append((*row, c.id))
            sql.update_customers(plain, consent=False)
            sql.update_customers(with_consent, consent=True)
        everyone = [*new, *changed]
        bulk_insert(
            PhoneNumber,
            _PHONE_COLUMNS,
            [
                (c.id, e164, ext, kind, True, "", position, ContactSource.IMPORT, now)
                for c in everyone
                for e164, ext, kind, position in c.new_phones
            ],
        )
        bulk_insert(
            EmailAddress,
            ("customer_id", "address", "is_primary", "source", "added_at"),
            [
                (c.id, address, i == 0 and not c.had_email, ContactSource.IMPORT, now)
                for c in everyone
                for i, address in enumerate(c.new_emails)
            ],
        )
        bulk_insert(
            Holding,
            ("customer_id", "product"),
            [(c.id, p) for c in everyone for p in c.new_products],
        )
        actor = self.actor.pk if self.actor is not None else None
        bulk_insert(
            ConsentEvent,
            ("customer_id", "granted", "source", "at", "recorded_by_id", "note"),
            [
                (c.id, c.consent_event, source, now, actor, "")
                for c in everyone
                if c.consent_event is not None
            ],
        )
        for c in everyone:
            c.changed = False
            c.new_phones, c.new_emails, c.new_products = [], [], []
            c.consent_event = None


_CUSTOMER_COLUMNS = (
    "id",
    "client_id",
    "customer_key",
    "name",
    "gender",
    "birthday",
    "region",
    "city",
    "wechat_id",
    "value_tier",
    "vip_level",
    "attributes",
    "consent_marketing",
    "consent_updated_at",
    "consent_source",
    "customer_since",
    "created_at",
    "updated_at",
    "timezone",
)
# Columns that may be NULL (dates); the others take "" (or the model default) when empty.
_NULLABLE = frozenset(i for i, name in enumerate(SCALAR_NAMES) if name in DATES)
_EMPTY = tuple(ValueTier.MEDIUM if name == "value_tier" else "" for name in SCALAR_NAMES)
_PHONE_COLUMNS = (
    "customer_id",
    "e164",
    "extension",
    "kind",
    "is_valid",
    "invalid_reason",
    "position",
    "source",
    "added_at",
)


# --- entry point ---------------------------------------------------------------------


def import_file(
    *,
    client: Client,
    path: str | Path,
    kind: str = ImportKind.CUSTOMERS,
    columns: dict[str, str] | None = None,
    encoding: str | None = None,
    options: dict[str, Any] | None = None,
    actor: User | None = None,
    report: TextIO | None = None,
    progress: Callable[[Progress], None] | None = None,
    source: str = "",
    now: dt.datetime | None = None,
    parallel: bool | None = None,
) -> ImportResult:
    """Import ``path`` for ``client``; all or nothing. See the module's docstring.

    ``parallel`` cleans the rows in a helper process (default: for files of
    ``PARALLEL_MIN_BYTES`` or more).
    """
    started = time.perf_counter()
    now = now or timezone.now()
    source = source or f"import {Path(path).name}"
    with open_table(path, encoding=encoding) as table:
        mapping = dict(columns) if columns is not None else auto_mapping(table.headers, kind)
        unknown = [h for h in mapping if h not in table.headers]
        if unknown:
            raise ImportFileError(_missing_headers_message(unknown, table.headers))
        errors = mapping_errors({h: mapping.get(h, IGNORE) for h in table.headers}, kind)
        if errors:
            raise ImportFileError(" ".join(errors))
        plan = Plan(table.headers, mapping, kind)
        writer = Report(report)
        if kind == ImportKind.CUSTOMERS:
            importer: Any = CustomerImporter(
                client=client, plan=plan, report=writer, actor=actor, source=source, now=now
            )
        else:
            from calldeck.customers.importing.lists import ListImporter

            importer = ListImporter(
                client=client,
                kind=kind,
                plan=plan,
                report=writer,
                actor=actor,
                source=source,
                now=now,
                options=options or {},
            )
        with transaction.atomic(), no_gc():
            if kind == ImportKind.CUSTOMERS:
                for cleaned in _cleaned(table, path, plan, importer.today, parallel):
                    importer.process(cleaned)
                    if progress is not None:
                        progress(Progress(importer.read, cleaned.bytes_done, table.bytes_total))
            else:
                for chunk in chunks(table.rows):
                    importer.process(chunk)
                    if progress is not None:
                        progress(Progress(importer.read, table.bytes_done(), table.bytes_total))
        summary = importer.summary()
        summary["encoding"] = table.encoding
    return ImportResult(
        summary, list(importer.touched), seconds=round(time.perf_counter() - started, 3)
    )


def _cleaned(
    table: Table, path: str | Path, plan: Plan, today: dt.date, parallel: bool | None
) -> Iterator[CleanChunk]:
    if parallel is None:
        parallel = table.bytes_total >= PARALLEL_MIN_BYTES
    if parallel:
        # The helper process reads the file itself; this one stops reading here.
        yield from cleaned_chunks_parallel(path, table.encoding, plan, today)
        return
    for chunk in chunks(table.rows):
        rows, rejects = clean_chunk(chunk, plan, today)
        yield CleanChunk(len(chunk), rows, rejects, table.bytes_done())


def _missing_headers_message(unknown: list[str], headers: list[str]) -> str:
    from django.utils.translation import gettext

    return gettext(
        "The mapping names columns the file does not have: %(missing)s. "
        "The file's columns are: %(headers)s."
    ) % {"missing": "、".join(unknown), "headers": "、".join(headers)}
