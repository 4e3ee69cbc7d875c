"""Importing do-not-call lists, blacklists and consent records.

A do-not-call or blacklist row blocks a number (whoever it belongs to) and, when it
names a customer id, that customer on every number. A block may expire: the row's own
expiry, else the one chosen for the whole file, else never. A number already blocked the
same way is left alone, or has its expiry changed to the file's (counted as updated);
the same number twice in the file is merged.

A consent row records a grant or a withdrawal for the customer found by id or by number,
with its source and time (the row's, else the file's source and the import time). The
customer's current consent follows the newest event, so an old record imported late
never overrides a newer withdrawal. An event already recorded is not recorded again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from calldeck.accounts.models import Client, User
from calldeck.customers.importing import values as v
from calldeck.customers.importing.reader import ImportFileError
from calldeck.customers.models import (
    BlockKind,
    ConsentEvent,
    ContactBlock,
    Customer,
    ImportKind,
    PhoneNumber,
    active_blocks_q,
)

if TYPE_CHECKING:
    from calldeck.customers.importing.cleaning import Plan
    from calldeck.customers.importing.engine import Report

REASON_LENGTH = 300
SOURCE_LENGTH = 100


class ListImporter:
    def __init__(
        self,
        *,
        client: Client,
        kind: str,
        plan: Plan,
        report: Report,
        actor: User | None,
        source: str,
        now: dt.datetime,
        options: dict[str, Any],
    ) -> None:
        self.client = client
        self.kind = kind
        self.plan = plan
        self.report = report
        self.actor = actor
        self.source = source
        self.now = now
        self.options = options
        self.tz = timezone.get_current_timezone()
        self.read = 0
        self.created = 0
        self.updated = 0
        self.unchanged = 0
        self.merged = 0
        self.rejected: Counter[str] = Counter()
        self.warnings: Counter[str] = Counter()
        self.touched: dict[int, None] = {}
        self.seen: set[tuple[object, ...]] = set()
        self.default_expiry = self._default_expiry()

    def _default_expiry(self) -> dt.datetime | None:
        raw = self.options.get("expires_at")
        if not raw:
            return None
        try:
            moment = raw if isinstance(raw, dt.datetime) else v.datetime_parse(str(raw), self.tz)
        except v.BadValue:
            raise ImportFileError(
                gettext("The expiry “%(value)s” is not a date.") % {"value": raw}
            ) from None
        if moment <= self.now:
            raise ImportFileError(gettext("The expiry chosen for the list has already passed."))
        return moment

    def summary(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "merged": self.merged,
            "rejected": dict(sorted(self.rejected.items())),
            "warnings": dict(sorted(self.warnings.items())),
        }

    def _reject(self, line: int, column: str, value: str, reason: str) -> None:
        self.rejected[reason] += 1
        self.report.add(line, column, value, reason)

    def _warn(self, line: int, column: str, value: str, reason: str) -> None:
        self.warnings[reason] += 1
        self.report.add(line, column, value, reason)

    def _cells(self, cells: list[str]) -> dict[str, tuple[str, str]]:
        """field → (header, raw value) of the row's non-empty mapped cells."""
        out: dict[str, tuple[str, str]] = {}
        for index, name, header in self.plan.cells:
            raw = cells[index].strip() if index < len(cells) else ""
            if raw and name not in out:
                out[name] = (header, raw)
        return out

    def process(self, chunk: list[tuple[int, list[str]]]) -> None:
        self.read += len(chunk)
        rows = [(line, self._cells(cells)) for line, cells in chunk]
        keys = {r["customer_key"][1] for _l, r in rows if "customer_key" in r}
        by_key = dict(
            Customer.objects.filter(client=self.client, customer_key__in=keys).values_list(
                "customer_key", "pk"
            )
        )
        if self.kind == ImportKind.CONSENT:
            self._consents(rows, by_key)
        else:
            self._blocks(rows, by_key)

    # --- do-not-call and blacklist ---------------------------------------------------

    def _blocks(
        self, rows: list[tuple[int, dict[str, tuple[str, str]]]], by_key: dict[str, int]
    ) -> None:
        kind = BlockKind.DO_NOT_CALL if self.kind == ImportKind.DO_NOT_CALL else BlockKind.BLACKLIST
        wanted: list[tuple[int, str, object, dt.datetime | None, str]] = []
        for line, cells in rows:
            targets: list[tuple[str, object]] = []
            number = cells.get("number")
            if number:
                for parsed in v.phones_parse(number[1]):
                    if isinstance(parsed, v.BadValue):
                        self._warn(line, number[0], number[1], parsed.reason)
                    else:
                        targets.append(("e164", parsed.e164))
            key = cells.get("customer_key")
            if key:
                if key[1] in by_key:
                    targets.append(("customer", by_key[key[1]]))
                elif number:
                    self._warn(line, key[0], key[1], "customer_not_found")
                else:
                    self._reject(line, key[0], key[1], "customer_not_found")
                    continue
            if not targets:
                if number:
                    self._reject(line, number[0], number[1], "no_valid_number")
                else:
                    column = self.plan.header_of.get("number", "")
                    self._reject(line, column, "", "no_identifier")
                continue
            expires = self.default_expiry
            if "expires" in cells:
                header, raw = cells["expires"]
                try:
                    expires = v.datetime_parse(raw, self.tz)
                except v.BadValue as bad:
                    self._reject(line, header, raw, bad.reason)
                    continue
                if expires <= self.now:
                    self._reject(line, header, raw, "expiry_in_past")
                    continue
            reason = (
                cells["reason"][1]
                if "reason" in cells
                else self.options.get("reason") or self.source
            )[:REASON_LENGTH]
            for target in targets:
                seen_key = (target[0], target[1])
                if seen_key in self.seen:
                    self.merged += 1
                    self.report.add(line, "", str(target[1]), "duplicate_merged")
                    continue
                self.seen.add(seen_key)
                wanted.append((line, target[0], target[1], expires, reason))
        if not wanted:
            return
        numbers = [t[2] for t in wanted if t[1] == "e164"]
        customers = [t[2] for t in wanted if t[1] == "customer"]
        current: dict[tuple[str, object], ContactBlock] = {}
        active = ContactBlock.objects.filter(client=self.client, kind=kind).filter(
            active_blocks_q(self.now)
        )
        for block in active.filter(
            Q(customer__isnull=True, e164__in=numbers) | Q(customer_id__in=customers)
        ).order_by("pk"):
            target = ("customer", block.customer_id) if block.customer_id else ("e164", block.e164)
            current.setdefault(target, block)
        new: list[ContactBlock] = []
        changed: list[ContactBlock] = []
        for _line, field, value, expires, reason in wanted:
            found = current.get((field, value))
            if found is None:
                new.append(
                    ContactBlock(
                        client=self.client,
                        kind=kind,
                        reason=reason,
                        expires_at=expires,
                        source=self.source[:SOURCE_LENGTH],
                        created_at=self.now,
                        created_by=self.actor,
                        **({"customer_id": value} if field == "customer" else {"e164": value}),
                    )
                )
            elif found.expires_at != expires:
                found.expires_at = expires
                changed.append(found)
            else:
                self.unchanged += 1
            if field == "customer":
                self.touched[int(value)] = None  # type: ignore[call-overload]
        ContactBlock.objects.bulk_create(new, batch_size=2000)
        ContactBlock.objects.bulk_update(changed, ["expires_at"], batch_size=500)
        self.created += len(new)
        self.updated += len(changed)

    # --- consent ---------------------------------------------------------------------

    def _consents(
        self, rows: list[tuple[int, dict[str, tuple[str, str]]]], by_key: dict[str, int]
    ) -> None:
        numbers: dict[int, str] = {}
        for line, cells in rows:
            if "customer_key" not in cells and "number" in cells:
                with contextlib.suppress(v.BadValue):
                    numbers[line] = v.phone_parse(cells["number"][1]).e164
        owners: dict[str, int] = {}
        for e164, owner in (
            PhoneNumber.objects.filter(customer__client=self.client, e164__in=set(numbers.values()))
            .order_by("customer_id")
            .values_list("e164", "customer_id")
        ):
            owners.setdefault(e164, owner)
        events: list[tuple[int, bool, dt.datetime, str]] = []
        for line, cells in rows:
            customer_id: int | None = None
            if "customer_key" in cells:
                header, raw = cells["customer_key"]
                customer_id = by_key.get(raw)
                if customer_id is None:
                    self._reject(line, header, raw, "customer_not_found")
                    continue
            elif "number" in cells:
                header, raw = cells["number"]
                if line not in numbers:
                    try:
                        v.phone_parse(raw)
                    except v.BadValue as bad:
                        self._reject(line, header, raw, bad.reason)
                        continue
                customer_id = owners.get(numbers[line])
                if customer_id is None:
                    self._reject(line, header, raw, "customer_not_found")
                    continue
            else:
                self._reject(line, self.plan.header_of.get("customer_key", ""), "", "no_identifier")
                continue
            if "granted" not in cells:
                self._reject(line, self.plan.header_of.get("granted", ""), "", "yes_no_unknown")
                continue
            try:
                granted = v.yes_no_parse(cells["granted"][1])
            except v.BadValue as bad:
                self._reject(line, cells["granted"][0], cells["granted"][1], bad.reason)
                continue
            at = self.now
            if "at" in cells:
                try:
                    at = v.datetime_parse(cells["at"][1], self.tz)
                except v.BadValue as bad:
                    self._reject(line, cells["at"][0], cells["at"][1], bad.reason)
                    continue
                if at > self.now:
                    self._reject(line, cells["at"][0], cells["at"][1], "date_out_of_range")
                    continue
            source = (
                cells["source"][1]
                if "source" in cells
                else self.options.get("source") or self.source
            )[:SOURCE_LENGTH]
            key = (customer_id, granted, at, source)
            if key in self.seen:
                self.merged += 1
                self.report.add(line, "", str(customer_id), "duplicate_merged")
                continue
            self.seen.add(key)
            events.append((customer_id, granted, at, source))
        if not events:
            return
        ids = {e[0] for e in events}
        recorded = set(
            ConsentEvent.objects.filter(customer_id__in=ids).values_list(
                "customer_id", "granted", "at", "source"
            )
        )
        fresh = [e for e in events if e not in recorded]
        self.unchanged += len(events) - len(fresh)
        ConsentEvent.objects.bulk_create(
            [
                ConsentEvent(customer_id=c, granted=g, at=at, source=s, recorded_by=self.actor)
                for c, g, at, s in fresh
            ],
            batch_size=2000,
        )
        self.created += len(fresh)
        latest: dict[int, tuple[dt.datetime, bool, str]] = {}
        for c, g, at, s in fresh:
            if c not in latest or at >= latest[c][0]:
                latest[c] = (at, g, s)
        customers = Customer.objects.filter(pk__in=list(latest)).only(
            "pk", "consent_marketing", "consent_updated_at", "consent_source"
        )
        changed = []
        for customer in customers:
            at, granted, source = latest[customer.pk]
            self.touched[customer.pk] = None
            if customer.consent_updated_at is None or at >= customer.consent_updated_at:
                customer.consent_marketing = granted
                customer.consent_updated_at = at
                customer.consent_source = source
                changed.append(customer)
        Customer.objects.bulk_update(
            changed, ["consent_marketing", "consent_updated_at", "consent_source"], batch_size=500
        )
