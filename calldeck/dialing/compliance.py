"""The dial-time rules as plain functions: calling windows with holidays, and customer holds.

Theory of operation
-------------------
Everything here takes plain data — windows as ``(weekday, start, end)`` tuples, the kind
of a day from the holiday table as a string, the times of a customer's recent calls — and
answers with plain data, so each rule is tested without a database. ``dialing.leads``
loads the data and applies the answers.

Calling windows are local times of the customer, so every rule takes a local datetime
(aware, in the customer's time zone). A day's windows depend on what the holiday table
says of that local date:

- a statutory holiday (``HOLIDAY``): no window at all, whatever the weekday;
- a make-up workday (``WORKDAY``) on a weekend: the windows of Monday, since the day is
  worked like a weekday (a ``WORKDAY`` row on a weekday changes nothing);
- no row: the windows of that weekday.

A window includes its start and excludes its end.

Two holds keep a customer from being dialed for a while, on every campaign of the client,
without taking the lead out of its campaign — the lead is only postponed:

- after an abandoned call (answered, but no agent was free) the customer is not dialed
  again for ``ABANDON_HOLD`` (72 hours), counted from the abandon;
- after ``limit`` dial attempts in one local day of the centre, not before the next day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# Kinds of day in the holiday table (``campaigns.models.HolidayKind``).
HOLIDAY = "holiday"
WORKDAY = "workday"

MONDAY = 0
SATURDAY = 5

# How long a customer whose call was abandoned is left alone.
ABANDON_HOLD = dt.timedelta(hours=72)

# How far ahead ``window_next_open`` looks: longer than any run of holidays (the Spring
# Festival takes nine days), short enough to stay cheap.
NEXT_OPEN_HORIZON_DAYS = 31

# Why a customer is held.
HOLD_ABANDON = "abandon_hold"
HOLD_CONTACT_LIMIT = "contact_limit"

Window = tuple[int, dt.time, dt.time]
KindOf = Callable[[dt.date], str | None]


def windows_weekday(day: dt.date, kind: str | None) -> int | None:
    """Whose windows apply on ``day``: a weekday (0 = Monday), or None on a holiday."""
    if kind == HOLIDAY:
        return None
    if kind == WORKDAY and day.weekday() >= SATURDAY:
        return MONDAY
    return day.weekday()


def windows_on(windows: Iterable[Window], day: dt.date, kind: str | None) -> list[Window]:
    """The windows that apply on ``day``, by start time."""
    weekday = windows_weekday(day, kind)
    if weekday is None:
        return []
    return sorted((w for w in windows if w[0] == weekday), key=lambda w: w[1])


def window_is_open(windows: Iterable[Window], local: dt.datetime, kind: str | None) -> bool:
    """Whether ``local`` (the customer's local time) is inside a window of its day."""
    now = local.time()
    return any(start <= now < end for _wd, start, end in windows_on(windows, local.date(), kind))


def window_next_open(
    windows: Iterable[Window],
    local: dt.datetime,
    kind_of: KindOf,
    *,
    horizon_days: int = NEXT_OPEN_HORIZON_DAYS,
) -> dt.datetime | None:
    """The first moment at or after ``local`` inside a window, in ``local``'s time zone.

    ``kind_of`` gives the holiday kind of a date (None for an ordinary day). None when no
    window opens within ``horizon_days`` (a campaign without windows, say).
    """
    windows = list(windows)
    for offset in range(horizon_days + 1):
        day = local.date() + dt.timedelta(days=offset)
        for _wd, start, end in windows_on(windows, day, kind_of(day)):
            opening = dt.datetime.combine(day, start, tzinfo=local.tzinfo)
            closing = dt.datetime.combine(day, end, tzinfo=local.tzinfo)
            if closing <= local:
                continue
            return max(opening, local)
    return None


@dataclass(frozen=True)
class Hold:
    """A customer may not be dialed before ``until``, because of ``why`` (``HOLD_*``)."""

    until: dt.datetime
    why: str


def abandon_hold_until(abandoned_at: Iterable[dt.datetime], now: dt.datetime) -> Hold | None:
    """The hold after the latest abandoned call, if it has not run out at ``now``."""
    latest = max(abandoned_at, default=None)
    if latest is None or latest + ABANDON_HOLD <= now:
        return None
    return Hold(latest + ABANDON_HOLD, HOLD_ABANDON)


def contact_limit_hold(
    attempts_today: int, *, limit: int, next_day_starts: dt.datetime
) -> Hold | None:
    """The hold until the next local day once the day's ``limit`` of attempts is used."""
    if attempts_today < limit:
        return None
    return Hold(next_day_starts, HOLD_CONTACT_LIMIT)


def customer_hold(
    *,
    dialed_today: int,
    abandoned_at: Iterable[dt.datetime],
    now: dt.datetime,
    limit: int,
    next_day_starts: dt.datetime,
) -> Hold | None:
    """The hold that keeps the customer longest, or None when they may be dialed now."""
    holds = [
        h
        for h in (
            abandon_hold_until(abandoned_at, now),
            contact_limit_hold(dialed_today, limit=limit, next_day_starts=next_day_starts),
        )
        if h is not None
    ]
    return max(holds, key=lambda h: h.until, default=None)
