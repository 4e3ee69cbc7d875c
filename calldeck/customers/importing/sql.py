"""The import engine's SQL: lookups by a chunk's keys, reserved ids, statistics, updates.

Plain SQL rather than the ORM: for a million rows the ORM's per-value preparation costs
more than the database work. Inserts go through ``calldeck.bulk.bulk_insert``.
"""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import Iterator
from typing import Any

from django.db import connection, models

from calldeck.customers.importing.cleaning import SCALAR_NAMES
from calldeck.customers.models import Customer, EmailAddress, Holding, PhoneNumber

# Values per IN (...) list: within SQLite's and PostgreSQL's parameter limits.
IN_BATCH = 5000
# PostgreSQL: first ANALYZE once an import has written this many customers.
ANALYZE_FIRST = 5000


class ImportSql:
    """Bulk statements in plain SQL: the ORM's per-value preparation costs more than the
    database work for a million rows.

    New customers get their ids before they are written (``reserve_ids``): on SQLite the
    next ids after the largest (the import's transaction holds the write lock, so nobody
    else takes them), on PostgreSQL from the table's sequence. Rows are then written
    with ``executemany`` on SQLite and with ``COPY`` on PostgreSQL, where one statement
    per row would cost a round trip each. Values are passed as the database reads them
    (dates as ISO text, JSON as text), so both paths take the same rows.
    """

    def __init__(self) -> None:
        self.ops = connection.ops
        self.postgres = connection.vendor == "postgresql"
        self.analyzed_at = 0
        self.datetime = self.ops.adapt_datetimefield_value

    @staticmethod
    def json(value: dict[str, Any]) -> str:
        return json.dumps(value, ensure_ascii=False) if value else "{}"

    def analyze_if_grown(self, written: int) -> None:
        """On PostgreSQL, refresh the planner's statistics each time the import has
        doubled what it wrote: the tables grow inside one transaction, before autovacuum
        can see them, and with the empty tables' statistics the planner would answer each
        chunk's lookups by scanning a client's whole table."""
        if not self.postgres or written < max(ANALYZE_FIRST, 2 * self.analyzed_at):
            return
        with connection.cursor() as cursor:
            for model in (Customer, PhoneNumber, EmailAddress, Holding):
                cursor.execute(f"ANALYZE {self.ops.quote_name(model._meta.db_table)}")
        self.analyzed_at = written

    def reserve_ids(self, model: type[models.Model], count: int) -> list[int]:
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, count],
                )
                return [row[0] for row in cursor.fetchall()]
            # AUTOINCREMENT never reuses an id, even a deleted row's: start past both.
            cursor.execute(
                f"SELECT MAX(COALESCE((SELECT MAX(id) FROM {self.ops.quote_name(table)}), 0),"  # noqa: S608
                " COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))",
                [table],
            )
            (top,) = cursor.fetchone()
        return list(range(top + 1, top + 1 + count))

    def select(
        self,
        model: type[models.Model],
        columns: tuple[str, ...],
        where: str,
        values: list[Any],
        *,
        client: int | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """Rows whose ``where`` column is one of ``values`` (of ``client`` if given)."""
        if not values:
            return
        qn = self.ops.quote_name
        head = "SELECT {} FROM {} WHERE ".format(  # noqa: S608
            ", ".join(qn(c) for c in columns), qn(model._meta.db_table)
        )
        if client is not None:
            head += f"{qn('client_id')} = %s AND "
        prefix = [client] if client is not None else []
        with connection.cursor() as cursor:
            if self.postgres:
                # One array parameter instead of thousands of placeholders.
                cursor.execute(head + f"{qn(where)} = ANY(%s)", [*prefix, list(values)])
                yield from cursor.fetchall()
                return
            for start in range(0, len(values), IN_BATCH):
                part = values[start : start + IN_BATCH]
                cursor.execute(
                    head + "{} IN ({})".format(qn(where), ", ".join(["%s"] * len(part))),
                    [*prefix, *part],
                )
                yield from cursor.fetchall()

    def update_customers(self, rows: list[tuple[Any, ...]], *, consent: bool) -> None:
        if not rows:
            return
        qn = self.ops.quote_name
        columns = [*SCALAR_NAMES, "attributes", "consent_marketing", "updated_at"]
        if consent:
            columns += ["consent_updated_at", "consent_source"]
        table = qn(Customer._meta.db_table)
        statement = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608
            table, ", ".join(f"{qn(c)} = %s" for c in columns), qn("id")
        )
        # psycopg pipelines executemany, so this is not one round trip per row.
        with connection.cursor() as cursor:
            cursor.executemany(statement, rows)


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """No cyclic garbage collection while importing.

    The import keeps a set of every customer it touched and a chunk of rows at a time;
    none of it forms cycles, so reference counting frees it all. The collector would
    only walk the growing sets again and again, which costs more as the import grows.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
