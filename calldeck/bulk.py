"""Bulk inserts of plain rows: ``executemany`` on SQLite, ``COPY`` on PostgreSQL.

For hundreds of thousands of rows the ORM's ``bulk_create`` spends most of its time
building model instances and preparing each value; these write tuples as they are.
Values must already be what the database reads: dates and datetimes as the backend
adapts them (``connection.ops.adapt_datetimefield_value``), JSON as text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models


def bulk_insert(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    rows = list(rows)
    if not rows:
        return
    qn = connection.ops.quote_name
    # Table and column names come from the models, never from user input.
    table, names = qn(model._meta.db_table), ", ".join(qn(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        placeholders = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", rows)  # noqa: S608
