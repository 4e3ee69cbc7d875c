"""The simulated world and the manual clock, on virtual time."""

from __future__ import annotations

import pytest

from dialer.clock import ManualClock
from dialer.events import CallAnswered, CallHungUp, CallNotConnected, CallRinging, Outcome, Party
from dialer.ports import Clock, Telephony
from dialer.telephony.sim import SimTelephony, SimWorld, draw_fate


def _run(world: SimWorld, ref: str = "1", advance: float = 600, timeout: float = 25):  # type: ignore[no-untyped-def]
    clock = ManualClock()
    events: list[object] = []
    SimTelephony(clock, world).originate(
        ref, "+8613800138000", ring_timeout_s=timeout, agent_uri=None, on_event=events.append
    )
    clock.advance(advance)
    return clock, events


def test_it_runs_timers_in_order_at_their_time() -> None:
    clock = ManualClock(start=100)
    seen: list[tuple[str, float]] = []
    clock.call_later(5, lambda: seen.append(("b", clock.now())))
    clock.call_later(2, lambda: seen.append(("a", clock.now())))
    cancelled = clock.call_later(3, lambda: seen.append(("x", clock.now())))
    cancelled.cancel()
    clock.advance(4)
    assert seen == [("a", 102)]
    clock.advance(10)
    assert seen == [("a", 102), ("b", 105)] and clock.now() == 114


def test_it_answers_then_the_customer_hangs_up() -> None:
    world = SimWorld(
        answer_rate=1,
        machine_rate=0,
        busy_rate=0,
        invalid_rate=0,
        patience_min_s=60,
        patience_max_s=60,
    )
    _clock, events = _run(world)
    kinds = [type(e) for e in events]
    assert kinds == [CallRinging, CallAnswered, CallHungUp]
    assert isinstance(events[2], CallHungUp) and events[2].by is Party.CUSTOMER
    assert events[2].at - events[1].at == pytest.approx(60)


def test_it_cancels_a_ring_out_at_the_timeout() -> None:
    world = SimWorld(answer_rate=0, machine_rate=0, busy_rate=0, invalid_rate=0)
    _clock, events = _run(world, timeout=20)
    last = events[-1]
    assert isinstance(last, CallNotConnected) and last.outcome is Outcome.NO_ANSWER
    assert last.at == pytest.approx(20.5)


def test_it_reports_busy_and_invalid_with_sip_codes() -> None:
    busy = SimWorld(answer_rate=0, machine_rate=0, busy_rate=1, invalid_rate=0)
    invalid = SimWorld(answer_rate=0, machine_rate=0, busy_rate=0, invalid_rate=1)
    assert _run(busy)[1][-1] == CallNotConnected("1", 2.0, Outcome.BUSY, 486)
    assert _run(invalid)[1] == [CallNotConnected("1", 0.5, Outcome.INVALID, 404)]


def test_it_lets_our_side_hang_up_first() -> None:
    clock = ManualClock()
    events: list[object] = []
    sim = SimTelephony(clock, SimWorld(answer_rate=1, machine_rate=0, busy_rate=0, invalid_rate=0))
    sim.originate("7", "+8613800138000", ring_timeout_s=25, agent_uri=None, on_event=events.append)
    clock.advance(30)
    sim.hangup("7")
    clock.advance(1000)  # the customer's own hang-up was cancelled
    assert isinstance(events[-1], CallHungUp) and events[-1].by is Party.AGENT
    assert sim.active_calls() == 0 and clock.pending == 0


def test_it_draws_the_same_fate_for_the_same_call() -> None:
    world = SimWorld(seed=42)
    assert draw_fate(world, "abc") == draw_fate(world, "abc")
    shares = [draw_fate(world, str(i)).outcome for i in range(4000)]
    # The world's answer rate shows in the draws (55 % ± 3 %).
    assert abs(shares.count(Outcome.ANSWERED) / 4000 - 0.55) < 0.03


def test_it_scales_time_by_speed() -> None:
    world = SimWorld(answer_rate=0, machine_rate=0, busy_rate=0, invalid_rate=1, speed=10)
    assert _run(world)[1][0].at == pytest.approx(0.05)


def test_it_refuses_impossible_worlds() -> None:
    with pytest.raises(ValueError, match="sum to at most 1"):
        SimWorld(answer_rate=0.9, busy_rate=0.2)
    with pytest.raises(ValueError, match="speed"):
        SimWorld(speed=0)


def test_the_adapters_fit_the_ports() -> None:
    clock: Clock = ManualClock()
    telephony: Telephony = SimTelephony(clock)
    assert telephony is not None
