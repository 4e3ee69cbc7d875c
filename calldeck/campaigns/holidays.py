"""The holiday table: loading it from ``chinesecalendar``, reading it, and noticing gaps.

Theory of operation
-------------------
The State Council publishes each year's rest days and make-up workdays late in the year
before; the ``chinesecalendar`` package carries them once a release follows. The app does
not read the package at dial time: ``holidays_load`` copies its data into ``Holiday``
rows (``manage.py load_holidays``, and ``load_demo``), where an administrator can correct
or add days in the Django admin before a package release has them. Loading again adds
the days that are missing and leaves every existing row as it is, so an administrator's
edit is never overwritten.

A year without any row is a year the calling windows would treat as if it had no
holidays; ``holiday_years_missing`` names the current and the coming year when that is so,
and the campaign page shows it as a warning.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from calldeck.campaigns.models import Holiday, HolidayKind


@dataclass(frozen=True)
class HolidaysLoaded:
    added: int
    kept: int
    years: tuple[int, ...]


def _package_days(year: int | None) -> list[Holiday]:
    from chinese_calendar import constants

    def name(english: str) -> str:
        # The package keys its days by the English name; the centre calls them by the
        # Chinese one (国庆节), which the enum carries too.
        try:
            return str(constants.Holiday(english).chinese)
        except ValueError:
            return english

    rows = []
    for kind, table in (
        (HolidayKind.HOLIDAY, constants.holidays),
        (HolidayKind.WORKDAY, constants.workdays),
    ):
        for day, english in table.items():
            if year is None or day.year == year:
                rows.append(Holiday(day=day, kind=kind, name=name(english)))
    return sorted(rows, key=lambda h: h.day)


@transaction.atomic
def holidays_load(*, year: int | None = None) -> HolidaysLoaded:
    """Copy the package's days of ``year`` (all years if None) that the table lacks."""
    rows = _package_days(year)
    days = [h.day for h in rows]
    existing = set(Holiday.objects.filter(day__in=days).values_list("day", flat=True))
    new = [h for h in rows if h.day not in existing]
    Holiday.objects.bulk_create(new)
    return HolidaysLoaded(
        added=len(new), kept=len(existing), years=tuple(sorted({d.year for d in days}))
    )


def holiday_data_missing(year: int) -> bool:
    """Whether the table has no day at all in ``year``."""
    return not Holiday.objects.filter(day__year=year).exists()


def holiday_years_missing(today: dt.date) -> list[int]:
    """The current and the coming year, those of them without holiday data."""
    return [year for year in (today.year, today.year + 1) if holiday_data_missing(year)]


def holidays_between(first: dt.date, last: dt.date) -> dict[dt.date, Holiday]:
    """The table's rows from ``first`` to ``last`` (both included), by day."""
    return {h.day: h for h in Holiday.objects.filter(day__range=(first, last))}
