"""The rules no pacing policy can bend: calling hours, contact limits, abandons.

Theory of operation
-------------------
The engine asks ``Compliance.refusal`` before every dial and ``abandon_budget`` before
every pacing decision. Whatever the policy wants, a lead is not dialed

* outside the campaign's calling windows in the customer's local time — windows are per
  weekday; a statutory holiday is closed and a make-up workday uses Monday's windows
  (``Holidays``, the Chinese calendar copied into data);
* more than ``daily_contact_limit`` times per customer per local day, across campaigns;
* within 72 hours after the customer was abandoned;

and the campaign's lines beyond one per ready agent are limited so that, even if every
surplus line were answered at the live-answer rate's upper bound with no agent free, the
abandon rate over the rolling window (``AbandonWindow``) would stay under the cap.

Pure: no clock of its own, no I/O; times are epoch seconds handed in by the engine.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

HOUR = 3600.0
DAY = 24 * HOUR
ABANDON_HOLD_S = 72 * HOUR
MIN_RING_S = 15.0

# (start, end) in minutes after local midnight, end exclusive.
Span = tuple[int, int]


def _span(start: str, end: str) -> Span:
    sh, sm = (int(x) for x in start.split(":"))
    eh, em = (int(x) for x in end.split(":"))
    return (sh * 60 + sm, eh * 60 + em)


DEFAULT_WINDOWS: Mapping[int, tuple[Span, ...]] = {d: (_span("08:00", "21:00"),) for d in range(7)}


@dataclass(frozen=True)
class Holidays:
    """Statutory rest days and make-up workdays (a weekend day that is worked)."""

    rest: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()

    def windows_weekday(self, day: dt.date) -> int | None:
        """Which weekday's windows apply on ``day``; None if it is a holiday (closed)."""
        if day in self.rest:
            return None
        if day in self.workdays and day.weekday() >= 5:
            return 0
        return day.weekday()


@dataclass(frozen=True)
class CallingHours:
    windows: Mapping[int, tuple[Span, ...]] = field(default_factory=lambda: DEFAULT_WINDOWS)
    tz: str = "Asia/Shanghai"
    holidays: Holidays = Holidays()
    # tz -> (from, until, open): the last answer, valid until the next minute boundary.
    _memo: dict[str | None, tuple[float, float, int]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def local(self, now: float, tz: str | None = None) -> dt.datetime:
        return dt.datetime.fromtimestamp(now, ZoneInfo(tz or self.tz))

    def is_open(self, now: float, tz: str | None = None) -> bool:
        memo = self._memo.get(tz)
        if memo is not None and memo[0] <= now < memo[1]:
            return bool(memo[2])
        answer = self._is_open(now, tz)
        start = now - now % 60.0  # windows are set in whole minutes
        self._memo[tz] = (start, start + 60.0, int(answer))
        return answer

    def _is_open(self, now: float, tz: str | None) -> bool:
        local = self.local(now, tz)
        weekday = self.holidays.windows_weekday(local.date())
        if weekday is None:
            return False
        minute = local.hour * 60 + local.minute + local.second / 60
        return any(a <= minute < b for a, b in self.windows.get(weekday, ()))

    def next_open(self, now: float, tz: str | None = None, horizon_days: int = 14) -> float | None:
        """The first moment at or after ``now`` inside a window, or None within the horizon."""
        zone = ZoneInfo(tz or self.tz)
        local = dt.datetime.fromtimestamp(now, zone)
        for offset in range(horizon_days + 1):
            day = local.date() + dt.timedelta(days=offset)
            weekday = self.holidays.windows_weekday(day)
            if weekday is None:
                continue
            for a, b in sorted(self.windows.get(weekday, ())):
                start = dt.datetime.combine(day, dt.time(a // 60, a % 60), zone)
                end = dt.datetime.combine(day, dt.time(0), zone) + dt.timedelta(minutes=b)
                if end.timestamp() <= now:
                    continue
                return max(now, start.timestamp())
        return None

    def close_at(self, now: float, tz: str | None = None) -> float | None:
        """When the window open at ``now`` ends; None when closed now."""
        local = self.local(now, tz)
        weekday = self.holidays.windows_weekday(local.date())
        if weekday is None:
            return None
        minute = local.hour * 60 + local.minute + local.second / 60
        for a, b in self.windows.get(weekday, ()):
            if a <= minute < b:
                midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
                return (midnight + dt.timedelta(minutes=b)).timestamp()
        return None

    def next_local_midnight(self, now: float, tz: str | None = None) -> float:
        zone = ZoneInfo(tz or self.tz)
        local = dt.datetime.fromtimestamp(now, zone)
        tomorrow = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0), zone)
        return tomorrow.timestamp()

    def local_day(self, now: float, tz: str | None = None) -> dt.date:
        key = f"day:{tz}"
        memo = self._memo.get(key)
        if memo is not None and memo[0] <= now < memo[1]:
            return dt.date.fromordinal(memo[2])
        local = self.local(now, tz)
        day = local.date()
        start = local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
        self._memo[key] = (start, self.next_local_midnight(now, tz), day.toordinal())
        return day


class AbandonWindow:
    """Live answers and abandons over a rolling window ("30d" or "24h").

    Counts are weights, not only whole calls: an answering-machine verdict that may have
    been a person adds the probability that it was one, as an answer and an abandon.
    """

    def __init__(self, window: str = "30d", history: Iterable[tuple[float, bool]] = ()) -> None:
        if window not in ("30d", "24h"):
            raise ValueError(f"abandon window must be '30d' or '24h', not {window!r}")
        self.span_s = 30 * DAY if window == "30d" else DAY
        # A heap by time: an answer is added when bridged and taken back at wrap-up, both
        # dated when the customer answered, so events do not arrive in time order.
        self._events: list[tuple[float, float, float]] = [
            (t, 1.0, 1.0 if a else 0.0) for t, a in sorted(history)
        ]
        self.answers = float(len(self._events))
        self.abandons = sum(e[2] for e in self._events)

    def add(self, at: float, abandoned: bool, weight: float = 1.0) -> None:
        heapq.heappush(self._events, (at, weight, weight if abandoned else 0.0))
        self.answers += weight
        self.abandons += weight if abandoned else 0.0

    def retract(self, at: float) -> None:
        """Take back one answer (not abandoned) counted at ``at``: it was a machine."""
        taken = min(1.0, self.answers)
        heapq.heappush(self._events, (at, -taken, 0.0))
        self.answers -= taken

    def expire(self, now: float) -> None:
        edge = now - self.span_s
        events = self._events
        while events and events[0][0] <= edge:
            _t, answers, abandons = heapq.heappop(events)
            self.answers -= answers
            self.abandons -= abandons

    @property
    def rate(self) -> float:
        return self.abandons / self.answers if self.answers > 0 else 0.0


def wilson_upper(successes: int, trials: int, z: float = 2.33) -> float:
    """Upper confidence bound of a proportion (z = 2.33: one-sided 99 %)."""
    if trials <= 0:
        return 1.0
    p = successes / trials
    denom = 1 + z * z / trials
    centre = p + z * z / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return min(1.0, (centre + spread) / denom)


@dataclass(frozen=True)
class CampaignRules:
    hours: CallingHours = CallingHours()
    abandon_cap: float = 0.03
    abandon_target: float = 0.025
    connect_limit_s: float = 2.0
    ring_timeout_s: float = 25.0
    abandon_window: str = "30d"
    daily_contact_limit: int = 3
    abandon_message: str = "abandon"

    def __post_init__(self) -> None:
        if not 0 <= self.abandon_target <= self.abandon_cap <= 1:
            raise ValueError("abandon target must lie between 0 and the cap, the cap below 100 %")
        if self.connect_limit_s <= 0:
            raise ValueError("the connect limit must be positive")
        if self.daily_contact_limit < 1:
            raise ValueError("the daily contact limit must be at least 1")
        if self.abandon_window not in ("30d", "24h"):
            raise ValueError("the abandon window is '30d' or '24h'")

    @property
    def ring_s(self) -> float:
        """Unanswered calls ring at least 15 s, whatever is configured."""
        return max(MIN_RING_S, self.ring_timeout_s)


class ContactLedger:
    """Dials per customer per local day and the last abandon per customer, across campaigns."""

    def __init__(self) -> None:
        self._dials: dict[str, tuple[dt.date, int]] = {}
        self._abandoned: dict[str, float] = {}

    def dialed(self, customer: str, day: dt.date) -> None:
        seen_day, count = self._dials.get(customer, (day, 0))
        self._dials[customer] = (day, count + 1 if seen_day == day else 1)

    def dials_on(self, customer: str, day: dt.date) -> int:
        seen_day, count = self._dials.get(customer, (day, 0))
        return count if seen_day == day else 0

    def abandoned(self, customer: str, at: float) -> None:
        self._abandoned[customer] = at

    def last_abandon(self, customer: str) -> float | None:
        return self._abandoned.get(customer)


@dataclass(frozen=True)
class Refusal:
    reason: str  # outside_window, contact_limit, abandon_hold
    not_before: float | None


def dial_refusal(
    rules: CampaignRules,
    ledger: ContactLedger,
    *,
    customer: str,
    tz: str | None,
    contacts_today: int,
    last_abandon_at: float | None,
    now: float,
) -> Refusal | None:
    """Why this customer may not be dialed now under the campaign's rules, or None."""
    hours = rules.hours
    if not hours.is_open(now, tz):
        return Refusal("outside_window", hours.next_open(now, tz))
    abandons = [t for t in (last_abandon_at, ledger.last_abandon(customer)) if t is not None]
    if abandons and now < max(abandons) + ABANDON_HOLD_S:
        return Refusal("abandon_hold", max(abandons) + ABANDON_HOLD_S)
    day = hours.local_day(now, tz)
    # The lead source's count may already include this engine's own dials: take the larger.
    if max(contacts_today, ledger.dials_on(customer, day)) >= rules.daily_contact_limit:
        return Refusal("contact_limit", hours.next_local_midnight(now, tz))
    return None


def surplus_allowed(window: AbandonWindow, cap: float, p_live_upper: float) -> float:
    """How many lines beyond the agents able to take them the campaign may have out.

    Every surplus line might become an abandon with probability ``p_live_upper``; the
    expected abandons must keep the window's rate under the cap.
    """
    budget = cap * window.answers - window.abandons
    if budget <= 0:
        return 0.0
    return budget / max(p_live_upper, 1e-3)
