"""The dial-time rules as plain functions: windows with holidays, and a customer's holds."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from calldeck.dialing import compliance as c

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NINE, SIX_PM, EIGHT_PM = dt.time(9), dt.time(18), dt.time(20)
# Monday 09:00–18:00, Tuesday to Friday 09:00–20:00, nothing at the weekend.
WINDOWS: list[c.Window] = [(0, NINE, SIX_PM)] + [(d, NINE, EIGHT_PM) for d in range(1, 5)]
# The National Day week of 2026 as the holiday table has it: 1–7 October off, the
# Sunday before and the Saturday after worked in lieu.
GOLDEN_WEEK = {
    **{dt.date(2026, 10, d): c.HOLIDAY for d in range(1, 8)},
    dt.date(2026, 9, 20): c.WORKDAY,
    dt.date(2026, 10, 10): c.WORKDAY,
}


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


def test_a_holiday_has_no_windows_whatever_its_weekday():
    national_day = dt.date(2026, 10, 1)  # a Thursday
    assert c.windows_weekday(national_day, c.HOLIDAY) is None
    assert c.windows_on(WINDOWS, national_day, c.HOLIDAY) == []
    assert not c.window_is_open(WINDOWS, at(national_day, 10), c.HOLIDAY)
    assert c.window_is_open(WINDOWS, at(national_day, 10), None)


def test_a_weekend_make_up_workday_takes_mondays_windows():
    sunday = dt.date(2026, 9, 20)
    assert c.windows_weekday(sunday, c.WORKDAY) == 0
    assert c.window_is_open(WINDOWS, at(sunday, 10), c.WORKDAY)
    # Monday's windows end at 18:00, not the 20:00 of the other weekdays.
    assert not c.window_is_open(WINDOWS, at(sunday, 19), c.WORKDAY)
    # Without the row it is an ordinary Sunday: no window.
    assert not c.window_is_open(WINDOWS, at(sunday, 10), None)


def test_a_workday_row_on_a_weekday_changes_nothing():
    wednesday = dt.date(2026, 9, 23)
    assert c.windows_weekday(wednesday, c.WORKDAY) == 2
    assert c.window_is_open(WINDOWS, at(wednesday, 19), c.WORKDAY)


def test_a_window_includes_its_start_and_excludes_its_end():
    tuesday = dt.date(2026, 9, 22)
    assert c.window_is_open(WINDOWS, at(tuesday, 9), None)
    assert not c.window_is_open(WINDOWS, at(tuesday, 20), None)
    assert not c.window_is_open(WINDOWS, at(tuesday, 8, 59), None)


def test_the_next_opening_skips_the_weekend_and_the_holidays():
    kind_of = GOLDEN_WEEK.get
    friday_evening = at(dt.date(2026, 9, 18), 21)
    # Saturday is off, Sunday the 20th is worked like a Monday.
    assert c.window_next_open(WINDOWS, friday_evening, kind_of) == at(dt.date(2026, 9, 20), 9)
    eve = at(dt.date(2026, 9, 30), 20, 30)
    assert c.window_next_open(WINDOWS, eve, kind_of) == at(dt.date(2026, 10, 8), 9)
    # Inside a window the next opening is now.
    inside = at(dt.date(2026, 10, 8), 11)
    assert c.window_next_open(WINDOWS, inside, kind_of) == inside


def test_there_is_no_next_opening_without_windows():
    assert c.window_next_open([], at(dt.date(2026, 9, 22), 10), GOLDEN_WEEK.get) is None


def test_an_abandon_holds_the_customer_72_hours():
    abandoned = at(dt.date(2026, 9, 22), 10)
    hold = c.abandon_hold_until([abandoned - dt.timedelta(days=5), abandoned], abandoned)
    assert hold == c.Hold(abandoned + dt.timedelta(hours=72), c.HOLD_ABANDON)
    assert c.abandon_hold_until([abandoned], abandoned + dt.timedelta(hours=72)) is None
    assert c.abandon_hold_until([], abandoned) is None


def test_the_daily_limit_holds_the_customer_until_the_next_day():
    tomorrow = at(dt.date(2026, 9, 23), 0)
    assert c.contact_limit_hold(2, limit=3, next_day_starts=tomorrow) is None
    assert c.contact_limit_hold(3, limit=3, next_day_starts=tomorrow) == c.Hold(
        tomorrow, c.HOLD_CONTACT_LIMIT
    )


def test_the_longer_hold_wins():
    now = at(dt.date(2026, 9, 22), 15)
    tomorrow = at(dt.date(2026, 9, 23), 0)
    both = c.customer_hold(
        dialed_today=3, abandoned_at=[now], now=now, limit=3, next_day_starts=tomorrow
    )
    assert both is not None and both.why == c.HOLD_ABANDON
    limit_only = c.customer_hold(
        dialed_today=3, abandoned_at=[], now=now, limit=3, next_day_starts=tomorrow
    )
    assert limit_only == c.Hold(tomorrow, c.HOLD_CONTACT_LIMIT)
    assert (
        c.customer_hold(dialed_today=0, abandoned_at=[], now=now, limit=3, next_day_starts=tomorrow)
        is None
    )
