"""Compliance properties, with hypothesis: whatever the windows, lists and worlds.

(a) no dial outside the calling window in the customer's local time; (b) no dial to a DNC
number; (c) the abandon cap holds in simulation, measured from the simulated world's
truth by the legal definition. The engine runs on virtual time, so a simulated day takes
a fraction of a second; ``DIALER_PROPERTY_EXAMPLES`` raises the number of examples of
(c), the expensive one (the default keeps tests/dialer fast).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, Phase, event, example, given, note, settings
from hypothesis import strategies as st

from dialer.compliance import CallingHours, CampaignRules, Holidays, Span
from dialer.events import LeadRefused, Outcome
from dialer.pacing import PacingPolicy, Predictive, Progressive, Ratio
from dialer.sim import harness
from dialer.sim.scenario import parse
from dialer.telephony.sim import CallTruth, Fate
from tests.dialer.kit import BUSY, NOBODY, Leads, at, lead, make_rig, start_campaign

CAMPAIGN_TZ = "Asia/Shanghai"
ZONES = [
    None,  # the campaign's
    "Asia/Shanghai",
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",  # +05:30
    "Australia/Adelaide",  # +09:30 / +10:30
]
# Start days around DST changes (US 2026-03-08 / 11-01, EU 03-29 / 10-25), a Chinese
# holiday season and an ordinary week.
START_DAYS = [
    dt.date(2026, 3, 7),
    dt.date(2026, 3, 28),
    dt.date(2026, 9, 30),
    dt.date(2026, 10, 24),
    dt.date(2026, 10, 31),
    dt.date(2026, 11, 23),
]

FAST = settings(
    deadline=None,
    max_examples=25,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
# The engine runs are a simulated day each: a failure is reported as found, unshrunk.
NO_SHRINK = settings(FAST, phases=[Phase.explicit, Phase.generate])
PERSON_20 = Fate(Outcome.ANSWERED, ring_s=5.0, talk_s=20.0)


def open_oracle(
    windows: Mapping[int, tuple[Span, ...]], holidays: Holidays, t: float, tz: str | None
) -> bool:
    """Calling hours, written again from the rules (no memo, nothing shared)."""
    local = dt.datetime.fromtimestamp(t, ZoneInfo(tz or CAMPAIGN_TZ))
    day = local.date()
    if day in holidays.rest:
        return False
    weekday = 0 if day in holidays.workdays and day.weekday() >= 5 else day.weekday()
    minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
    return any(a <= minute < b for a, b in windows.get(weekday, ()))


@st.composite
def span_lists(draw: st.DrawFn) -> tuple[Span, ...]:
    spans = []
    for _ in range(draw(st.integers(0, 2))):
        start = draw(st.integers(0, 1439))
        end = draw(st.integers(start + 1, 1440))
        spans.append((start, end))
    return tuple(spans)


@st.composite
def calendars(draw: st.DrawFn) -> tuple[dict[int, tuple[Span, ...]], Holidays, float]:
    """Per-weekday windows, holidays around the start, and the start time."""
    windows = {d: draw(span_lists()) for d in range(7)}
    first = draw(st.sampled_from(START_DAYS))
    near = [first + dt.timedelta(days=n) for n in range(-1, 4)]
    rest = draw(st.frozensets(st.sampled_from(near), max_size=2))
    weekend = [d for d in near if d.weekday() >= 5]
    workdays = draw(st.frozensets(st.sampled_from(weekend), max_size=2)) if weekend else frozenset()
    second = draw(st.floats(0, 86400 - 1, allow_nan=False))
    start = at(first.year, first.month, first.day) + second
    return windows, Holidays(rest=rest, workdays=workdays), start


def _policy(name: str) -> tuple[str, PacingPolicy]:
    policies: dict[str, tuple[str, PacingPolicy]] = {
        "progressive": ("progressive", Progressive()),
        "predictive": ("predictive", Predictive()),
        "ratio:2": ("predictive", Ratio(2.0)),
        "preview": ("preview", Progressive()),
    }
    return policies[name]


POLICIES = st.sampled_from(["progressive", "predictive", "ratio:2", "preview"])


# --- (a) calling windows: CallingHours against the oracle --------------------------------


JITTER = st.one_of(
    st.just(0.0),
    st.sampled_from([-60.0, -1.0, -1e-3, 1e-3, 1.0, 60.0]),
    st.floats(-150.0, 150.0, allow_nan=False),
)


@st.composite
def moments(
    draw: st.DrawFn, calendar: tuple[dict[int, tuple[Span, ...]], Holidays, float]
) -> tuple[float, str | None]:
    """A moment in the first days, in some zone: mostly near an edge of that day's windows."""
    windows, holidays, start = calendar
    tz = draw(st.sampled_from(ZONES))
    zone = ZoneInfo(tz or CAMPAIGN_TZ)
    day = dt.datetime.fromtimestamp(start, zone).date()
    day += dt.timedelta(days=draw(st.integers(0, 3)))
    weekday = holidays.windows_weekday(day)
    spans = windows.get(weekday, ()) if weekday is not None else ()
    edges = sorted({m for span in spans for m in span})
    near_edge = bool(edges) and draw(st.integers(0, 3)) > 0
    minute = draw(st.sampled_from(edges) if near_edge else st.integers(0, 1440))
    midnight = dt.datetime.combine(day, dt.time(0), zone)
    return (midnight + dt.timedelta(minutes=minute)).timestamp() + draw(JITTER), tz


@settings(FAST, max_examples=40)
@given(data=st.data(), calendar=calendars())
def test_is_open_agrees_with_the_rules_whatever_the_order_of_questions(
    data: st.DataObject,
    calendar: tuple[dict[int, tuple[Span, ...]], Holidays, float],
) -> None:
    windows, holidays, _start = calendar
    hours = CallingHours(windows=windows, holidays=holidays)  # one instance: its memo too
    for _ in range(data.draw(st.integers(1, 20))):
        t, tz = data.draw(moments(calendar))
        # Questions a moment apart, before and after the moment: across an edge if near one.
        before = t - data.draw(st.floats(0.0, 70.0, allow_nan=False))
        after = t + data.draw(st.floats(0.0, 70.0, allow_nan=False))
        for x in (before, after, before):
            assert hours.is_open(x, tz) == open_oracle(windows, holidays, x, tz), (x, tz)


def _minute_marks(t: float, until: float) -> Iterable[float]:
    """t, then every whole minute after t, before ``until``."""
    if t < until:
        yield t
    m = t - t % 60 + 60
    while m < until:
        yield m
        m += 60


@settings(FAST, max_examples=40)
@given(data=st.data(), calendar=calendars())
def test_next_open_and_close_at_agree_with_the_rules(
    data: st.DataObject,
    calendar: tuple[dict[int, tuple[Span, ...]], Holidays, float],
) -> None:
    windows, holidays, _start = calendar
    hours = CallingHours(windows=windows, holidays=holidays)
    t, tz = data.draw(moments(calendar))

    def is_open(x: float) -> bool:
        return open_oracle(windows, holidays, x, tz)

    nxt = hours.next_open(t, tz, horizon_days=3)
    if nxt is None:
        assert not any(is_open(m) for m in _minute_marks(t, t + 2 * 86400))
    else:
        assert nxt >= t and is_open(nxt)
        assert not any(is_open(m) for m in _minute_marks(t, nxt))  # none earlier
    close = hours.close_at(t, tz)
    assert (close is not None) == is_open(t)
    if close is not None:
        assert close > t
        assert all(is_open(m) for m in _minute_marks(t, close))
        assert is_open(close - 1e-3)


# --- (a) calling windows: the engine ---------------------------------------------------


@NO_SHRINK
@given(
    calendar=calendars(),
    zones=st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True),
    policy=POLICIES,
    agents=st.integers(1, 3),
    tick_s=st.sampled_from([1.0, 2.5, 7.0]),
    hours=st.integers(24, 40),
)
def test_no_dial_outside_the_customers_window(
    calendar: tuple[dict[int, tuple[Span, ...]], Holidays, float],
    zones: list[str | None],
    policy: str,
    agents: int,
    tick_s: float,
    hours: int,
) -> None:
    windows, holidays, start = calendar
    rules = CampaignRules(hours=CallingHours(windows=windows, holidays=holidays))
    customers = 24
    tz_of = {f"L{i}": zones[i % len(zones)] for i in range(customers)}
    fates = {f"L{i}": (PERSON_20, BUSY, NOBODY)[i % 3] for i in range(customers)}
    leads = Leads((lead(ref, tz=tz) for ref, tz in tz_of.items()), requeue_s=900.0)
    rig = make_rig(start=start, leads=leads, fates=fates, auto_wrap_s=3.0, tick_s=tick_s)
    mode, pacing = _policy(policy)
    start_campaign(rig, mode=mode, rules=rules, policy=pacing)
    for n in range(agents):
        rig.engine.agent_login(f"a{n}", campaigns={"c": 1})
    rig.engine.start()
    rig.run(hours * 3600.0)

    placed = rig.placed()
    note(f"{len(placed)} dials")
    wrong = [
        (
            p.lead,
            tz_of[p.lead],
            dt.datetime.fromtimestamp(p.at, ZoneInfo(tz_of[p.lead] or CAMPAIGN_TZ)),
        )
        for p in placed
        if not open_oracle(windows, holidays, p.at, tz_of[p.lead])
    ]
    assert wrong == []
    # Not vacuous: the first time the campaign and some customer's zone are both open
    # for three minutes, something is dialed.
    first = _first_common_opening(windows, holidays, start, start + hours * 3600.0, zones)
    event("a common opening" if first is not None else "no common opening")
    event("dialed" if placed else "nothing dialed")
    if first is not None:
        assert any(first <= p.at <= first + 180.0 for p in placed), "nothing dialed"


def _first_common_opening(
    windows: Mapping[int, tuple[Span, ...]],
    holidays: Holidays,
    start: float,
    end: float,
    zones: Iterable[str | None],
) -> float | None:
    step = 30.0
    t = start - start % step + step
    run: dict[str | None, int] = {}
    while t < end - 180.0:
        campaign = open_oracle(windows, holidays, t, None)
        for tz in zones:
            both = campaign and open_oracle(windows, holidays, t, tz)
            run[tz] = run.get(tz, 0) + 1 if both else 0
            if run[tz] == 7:  # three minutes in
                return t - 180.0
        t += step
    return None


# --- (b) DNC ---------------------------------------------------------------------------


@FAST
@given(
    dnc=st.frozensets(st.integers(0, 11)),
    policy=POLICIES,
    agents=st.integers(1, 4),
)
def test_no_dial_to_a_dnc_number(dnc: frozenset[int], policy: str, agents: int) -> None:
    numbers = [f"+86138000000{i:02d}" for i in range(12)]
    blocked = {numbers[i] for i in dnc}
    # Two leads per number (two campaigns' worth of the same people), dialed again and again.
    leads = Leads(
        (lead(f"L{i}-{k}", number=numbers[i]) for k in range(2) for i in range(12)),
        dnc=blocked,
        requeue_s=120.0,
    )
    fates = {n: (PERSON_20, BUSY, NOBODY)[i % 3] for i, n in enumerate(numbers)}
    rig = make_rig(leads=leads, fates=fates, auto_wrap_s=2.0)
    mode, pacing = _policy(policy)
    start_campaign(rig, mode=mode, policy=pacing)
    for n in range(agents):
        rig.engine.agent_login(f"a{n}", campaigns={"c": 1})
    rig.engine.start()
    rig.run(2 * 3600.0)
    dialed = {p.number for p in rig.placed()}
    assert not dialed & blocked
    assert dialed == set(numbers) - blocked  # everyone else was dialed
    refused = {r.lead for r in rig.sink.of(LeadRefused) if r.reason == "dnc"}
    assert {x.ref for x, why, _nb in leads.released if why == "dnc"} == refused
    assert {x.number for _t, x in leads.claims if x.ref in refused} == blocked


# --- (c) the abandon cap ---------------------------------------------------------------

EXAMPLES = int(os.environ.get("DIALER_PROPERTY_EXAMPLES", "0"))
CAP = 0.03


def legal_abandon_rate(truths: Iterable[CallTruth], connect_limit_s: float) -> tuple[int, int]:
    """(live answers, abandoned): a person answered and no agent within the limit."""
    live = abandoned = 0
    for t in truths:
        if t.fate.outcome is not Outcome.ANSWERED or t.answered_at is None:
            continue
        live += 1
        late = t.bridged_at is None or t.bridged_at - t.answered_at > connect_limit_s + 1e-6
        abandoned += late
    return live, abandoned


def simulate(
    policy: str, agents: int, live: float, talk_s: int, hours: int, machine: float, seed: int
) -> tuple[int, int, dict[str, Any]]:
    scenario = parse(
        f"hours = {hours}\nagents = {agents}\n"
        f"[answer]\nlive = {live}\nmachine = {machine}\n"
        f"[talk]\nmean_s = {talk_s}\n[wrap]\nmean_s = 5\n"
        f"[rules]\nabandon_cap = {CAP}\nconnect_limit_s = 2.0\n"
    )
    day = harness.Day(scenario, policy, seed)
    day.play()
    answers, abandons = legal_abandon_rate(day.tel.truth.values(), 2.0)
    engine_answers, engine_abandons = day.engine.abandon_rate(harness.CAMPAIGN)
    return answers, abandons, {"engine": (engine_answers, engine_abandons)}


def world_settings(examples: int) -> settings:
    return settings(
        deadline=None,
        max_examples=EXAMPLES or examples,
        derandomize=True,
        # No shrinking: each example is a simulated afternoon; the failure is printed as is.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow],
    )


WORLDS = {
    "agents": st.integers(3, 30),
    "live": st.sampled_from([0.1, 0.2, 0.3, 0.45, 0.6]),
    "talk_s": st.integers(30, 200),
    "hours": st.integers(2, 4),
    "machine": st.sampled_from([0.0, 0.1, 0.3]),
    "seed": st.integers(1, 10_000),
}


def _check_cap(policy: str, **world: Any) -> None:
    answers, abandons, extra = simulate(policy, **world)
    rate = abandons / answers if answers else 0.0
    note(f"{policy} {world}: {abandons}/{answers} = {rate:.4f} (engine {extra['engine']})")
    assert answers > 0
    assert rate <= CAP, f"{policy} {world}: legal abandon rate {rate:.4f} > cap {CAP}"


@world_settings(6)
@given(**WORLDS)
def test_progressive_never_exceeds_the_abandon_cap(**world: Any) -> None:
    _check_cap("progressive", **world)


@world_settings(6)
@example(agents=3, live=0.1, talk_s=30, hours=2, machine=0.1, seed=1)
@example(agents=5, live=0.1, talk_s=30, hours=2, machine=0.1, seed=1)
@given(**WORLDS)
def test_predictive_never_exceeds_the_abandon_cap(**world: Any) -> None:
    _check_cap("predictive", **world)


@pytest.mark.xfail(
    strict=True,
    reason="known limit: the engine's guards (the brake 0.2 points under the cap, lines beyond "
    "the campaign's agents held to the expected abandon budget) bound the expected rate, not "
    "every sample: a policy that keeps many lines out, like vicidial-hard, still has them "
    "out when the brake engages, and in a world of ~400 live answers one abandon is 0.25 "
    "points. Example: 10 agents, live 0.2, talk 169 s, 3 h, seed 1319: 13 of 423 (3.07 %). "
    "The shipped policies (progressive, predictive) hold the cap in every world drawn",
)
@world_settings(6)
@example(agents=10, live=0.2, talk_s=169, hours=3, machine=0.0, seed=1319)
@given(**WORLDS)
def test_vicidial_hard_never_exceeds_the_abandon_cap(**world: Any) -> None:
    _check_cap("vicidial-hard", **world)
