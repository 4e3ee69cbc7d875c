"""dialer.compliance on its own: the abandon window, calling hours, the bounds and refusals."""

from __future__ import annotations

import datetime as dt

import pytest

from dialer.compliance import (
    ABANDON_HOLD_S,
    DAY,
    AbandonWindow,
    CallingHours,
    CampaignRules,
    ContactLedger,
    Holidays,
    dial_refusal,
    surplus_allowed,
    wilson_upper,
)
from tests.dialer.kit import at

# --- AbandonWindow ---------------------------------------------------------------------


def test_the_window_counts_answers_and_abandons() -> None:
    w = AbandonWindow("24h")
    assert (w.answers, w.abandons, w.rate) == (0.0, 0.0, 0.0)
    for t in range(9):
        w.add(float(t), False)
    w.add(9.0, True)
    assert (w.answers, w.abandons) == (10.0, 1.0)
    assert w.rate == pytest.approx(0.1)


def test_the_window_takes_weights() -> None:
    w = AbandonWindow("24h")
    w.add(0.0, False)
    w.add(1.0, True, weight=0.25)  # a machine verdict that was a person one time in four
    assert (w.answers, w.abandons) == (1.25, 0.25)
    assert w.rate == pytest.approx(0.2)
    w.expire(1.0 + DAY)
    assert (w.answers, w.abandons) == (0.0, 0.0)


def test_a_retracted_answer_leaves_the_window() -> None:
    w = AbandonWindow("24h")
    w.add(0.0, False)
    w.add(0.0, True)
    w.retract(0.0)  # the agent found a machine
    assert (w.answers, w.abandons) == (1.0, 1.0)
    w.expire(DAY)
    assert (w.answers, w.abandons) == (0.0, 0.0)


def test_the_window_expires_by_answer_time_not_by_arrival() -> None:
    w = AbandonWindow("24h")
    w.add(0.0, False)  # answered at 0, bridged: counted
    w.add(60.0, True)  # another call, abandoned at 60
    w.retract(0.0)  # at 120 the first call's agent reports a machine
    assert (w.answers, w.abandons) == (1.0, 1.0)
    w.expire(30.0 + DAY)  # the first call and its retraction are both a day old
    assert (w.answers, w.abandons) == (1.0, 1.0)


def test_a_retraction_of_nothing_adds_no_phantom_answer() -> None:
    w = AbandonWindow("24h")
    w.retract(0.0)
    assert w.answers == 0.0
    w.expire(DAY + 1)
    assert w.answers == 0.0


@pytest.mark.parametrize(("window", "span"), [("24h", DAY), ("30d", 30 * DAY)])
def test_the_window_forgets_exactly_after_its_span(window: str, span: float) -> None:
    w = AbandonWindow(window)
    w.add(1000.0, True)
    w.add(2000.0, False)
    w.expire(1000.0 + span - 0.001)
    assert (w.answers, w.abandons) == (2.0, 1.0)
    w.expire(1000.0 + span)  # an answer exactly one span old is out
    assert (w.answers, w.abandons) == (1.0, 0.0)
    w.expire(2000.0 + span)
    assert (w.answers, w.abandons, w.rate) == (0.0, 0.0, 0.0)


def test_the_window_starts_from_history_in_any_order() -> None:
    w = AbandonWindow("24h", history=[(300.0, True), (100.0, False), (200.0, False)])
    assert (w.answers, w.abandons) == (3.0, 1.0)
    w.expire(200.0 + DAY)
    assert (w.answers, w.abandons) == (1.0, 1.0)


def test_the_window_is_24h_or_30d() -> None:
    with pytest.raises(ValueError, match="'30d' or '24h'"):
        AbandonWindow("7d")


# --- CallingHours ----------------------------------------------------------------------

NIGHT = CallingHours(windows={d: ((0, 120), (20 * 60, 1440)) for d in range(7)})


def test_close_at_and_next_open_across_midnight() -> None:
    assert NIGHT.close_at(at(2026, 11, 24, 23)) == at(2026, 11, 25)
    assert NIGHT.close_at(at(2026, 11, 25, 0, 30)) == at(2026, 11, 25, 2)
    assert NIGHT.close_at(at(2026, 11, 25, 3)) is None
    assert NIGHT.next_open(at(2026, 11, 25, 3)) == at(2026, 11, 25, 20)
    assert NIGHT.next_open(at(2026, 11, 24, 23, 59)) == at(2026, 11, 24, 23, 59)
    assert NIGHT.is_open(at(2026, 11, 24, 23, 59, 59)) and NIGHT.is_open(at(2026, 11, 25))


def test_windows_end_exclusive() -> None:
    hours = CallingHours()
    assert hours.close_at(at(2026, 11, 24, 8)) == at(2026, 11, 24, 21)
    assert hours.close_at(at(2026, 11, 24, 20, 59, 59)) == at(2026, 11, 24, 21)
    assert hours.close_at(at(2026, 11, 24, 21)) is None
    assert not hours.is_open(at(2026, 11, 24, 21))
    assert not hours.is_open(at(2026, 11, 24, 7, 59, 59))
    assert hours.next_open(at(2026, 11, 24, 21)) == at(2026, 11, 25, 8)
    assert hours.next_open(at(2026, 11, 24, 12)) == at(2026, 11, 24, 12)


def test_next_open_skips_holidays_and_gives_up_past_the_horizon() -> None:
    rest = frozenset(dt.date(2026, 10, d) for d in range(1, 9))  # National Day week
    hours = CallingHours(holidays=Holidays(rest=rest))
    assert hours.next_open(at(2026, 9, 30, 22)) == at(2026, 10, 9, 8)
    assert hours.close_at(at(2026, 10, 3, 12)) is None
    assert not hours.is_open(at(2026, 10, 3, 12))
    assert hours.next_open(at(2026, 9, 30, 22), horizon_days=5) is None
    closed = CallingHours(windows={})
    assert closed.next_open(at(2026, 11, 24, 9)) is None


def test_a_make_up_workday_on_a_weekend_uses_mondays_windows() -> None:
    windows = {0: ((9 * 60, 10 * 60),), 2: ((15 * 60, 16 * 60),), 5: ((18 * 60, 19 * 60),)}
    sunday, wednesday = dt.date(2026, 9, 27), dt.date(2026, 9, 30)
    holidays = Holidays(workdays=frozenset({sunday, wednesday}))
    assert holidays.windows_weekday(sunday) == 0
    assert holidays.windows_weekday(wednesday) == 2  # a workday on a weekday is itself
    hours = CallingHours(windows=windows, holidays=holidays)
    assert hours.is_open(at(2026, 9, 27, 9, 30))
    assert hours.close_at(at(2026, 9, 27, 9, 30)) == at(2026, 9, 27, 10)
    assert hours.next_open(at(2026, 9, 26, 20)) == at(2026, 9, 27, 9)
    assert hours.is_open(at(2026, 9, 26, 18, 30))  # a plain Saturday keeps its own


def test_hours_follow_the_customers_zone_through_dst() -> None:
    hours = CallingHours()
    ny = "America/New_York"
    # 2026-03-08: New York springs forward at 02:00; the window still ends at 21:00 local.
    assert hours.close_at(at(2026, 3, 8, 10, tz=ny), ny) == at(2026, 3, 8, 21, tz=ny)
    assert hours.next_open(at(2026, 3, 7, 22, tz=ny), ny) == at(2026, 3, 8, 8, tz=ny)
    # 2026-11-01: back to standard time.
    assert hours.close_at(at(2026, 11, 1, 10, tz=ny), ny) == at(2026, 11, 1, 21, tz=ny)
    assert hours.next_local_midnight(at(2026, 11, 1, 10, tz=ny), ny) == at(2026, 11, 2, tz=ny)
    assert hours.local_day(at(2026, 11, 1, 23, 59, tz=ny), ny) == dt.date(2026, 11, 1)


def test_is_open_asked_out_of_order_and_across_zones() -> None:
    # The per-minute memo must not answer for another minute or another zone.
    hours = CallingHours()
    shanghai_8 = at(2026, 11, 24, 8)
    seq = [shanghai_8 + 30, shanghai_8 - 30, shanghai_8 + 30, shanghai_8 - 1, shanghai_8]
    assert [hours.is_open(t) for t in seq] == [True, False, True, False, True]
    half_past_ten = at(2026, 11, 24, 10, 30)  # 21:30 the day before in New York
    assert hours.is_open(half_past_ten) and not hours.is_open(half_past_ten, "America/New_York")
    assert hours.is_open(half_past_ten, "Asia/Shanghai") and hours.is_open(half_past_ten)


# --- the bounds ------------------------------------------------------------------------


def test_wilson_upper_is_monotone_and_bounded() -> None:
    assert wilson_upper(0, 0) == 1.0
    for n in (1, 5, 20, 100, 1000):
        uppers = [wilson_upper(k, n) for k in range(n + 1)]
        assert uppers == sorted(uppers)  # more successes, higher bound
        assert all(k / n - 1e-12 <= u <= 1.0 for k, u in enumerate(uppers))
    # The same share on more trials: a tighter bound.
    shrinking = [wilson_upper(k, 10 * k) for k in (1, 2, 5, 10, 100, 1000)]
    assert shrinking == sorted(shrinking, reverse=True)
    assert shrinking[-1] == pytest.approx(0.1, abs=0.01)
    assert wilson_upper(3, 30, z=1.0) < wilson_upper(3, 30) < wilson_upper(3, 30, z=3.0)


def test_surplus_allowed_is_the_budget_over_the_live_rate() -> None:
    w = AbandonWindow("24h", history=[(float(t), t < 1) for t in range(200)])
    # 3 % of 200 answers is 6 abandons; 1 used, 5 left; each line answers 25 % at most.
    assert surplus_allowed(w, 0.03, 0.25) == pytest.approx(5 / 0.25)
    assert surplus_allowed(w, 0.005, 0.25) == 0.0  # already over: no surplus
    assert surplus_allowed(AbandonWindow("24h"), 0.03, 0.5) == 0.0  # nothing known yet
    assert surplus_allowed(w, 0.03, 0.0) == pytest.approx(5 / 1e-3)
    assert surplus_allowed(w, 0.03, 0.5) < surplus_allowed(w, 0.03, 0.25)


# --- rules and refusals ----------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"abandon_cap": 0.02, "abandon_target": 0.025},
        {"abandon_cap": 1.5},
        {"connect_limit_s": 0},
        {"daily_contact_limit": 0},
        {"abandon_window": "7d"},
    ],
)
def test_impossible_rules_are_refused(kwargs: dict[str, float | str]) -> None:
    with pytest.raises(ValueError):
        CampaignRules(**kwargs)  # type: ignore[arg-type]


def test_ring_s_is_never_below_15() -> None:
    assert CampaignRules(ring_timeout_s=1).ring_s == 15.0
    assert CampaignRules(ring_timeout_s=40).ring_s == 40.0


def test_the_ledger_counts_per_customer_per_day() -> None:
    ledger = ContactLedger()
    monday, tuesday = dt.date(2026, 11, 23), dt.date(2026, 11, 24)
    ledger.dialed("k", monday)
    ledger.dialed("k", monday)
    assert ledger.dials_on("k", monday) == 2 and ledger.dials_on("other", monday) == 0
    ledger.dialed("k", tuesday)
    assert ledger.dials_on("k", tuesday) == 1 and ledger.dials_on("k", monday) == 0
    assert ledger.last_abandon("k") is None
    ledger.abandoned("k", 5.0)
    assert ledger.last_abandon("k") == 5.0


def test_refusals_come_in_order_window_hold_limit() -> None:
    rules = CampaignRules()
    ledger = ContactLedger()
    now = at(2026, 11, 24, 10)

    def refusal(**kw: object) -> tuple[str, float | None] | None:
        args: dict[str, object] = {
            "customer": "k",
            "tz": None,
            "contacts_today": 0,
            "last_abandon_at": None,
            "now": now,
        }
        r = dial_refusal(rules, ledger, **(args | kw))  # type: ignore[arg-type]
        return (r.reason, r.not_before) if r else None

    assert refusal() is None
    assert refusal(contacts_today=3) == ("contact_limit", at(2026, 11, 25))
    assert refusal(contacts_today=3, last_abandon_at=now - 60) == (
        "abandon_hold",
        now - 60 + ABANDON_HOLD_S,
    )
    assert refusal(contacts_today=3, last_abandon_at=now - 60, now=at(2026, 11, 24, 22)) == (
        "outside_window",
        at(2026, 11, 25, 8),
    )
    assert refusal(last_abandon_at=now - ABANDON_HOLD_S) is None  # exactly 72 h later
    ledger.abandoned("k", now - 3600)  # the later of the two abandons holds
    assert refusal(last_abandon_at=now - 7200) == ("abandon_hold", now - 3600 + ABANDON_HOLD_S)
