"""Simulated telephony: a world of customers who answer, refuse, ring out and hang up.

Theory of operation
-------------------
Every call has a ``Fate``: who answers (a person, a machine, nobody; or busy, or an
invalid number), after how many seconds of ringing, and how long the person talks once
joined to an agent. ``SimTelephony`` asks its fate source for the call's fate when it is
dialed — by default ``draw_fate`` from a ``SimWorld``, seeded by (world seed, call ref),
so the same call always ends the same way; the pacing benchmark hands in the fates of its
list records instead — and plays it out on the injected clock:

* ringing after a short network set-up, then an answer, a busy or invalid signal, or a
  ring-out that our side cancels at the ring timeout;
* with answering-machine detection (``amd_delay_s`` > 0) the answer is reported when the
  greeting ends, with the detector's verdict (which may be wrong: the fate says);
* ``connect`` joins the agent after ``bridge_s``; a person then talks for the fate's talk
  time and hangs up; a machine's greeting runs ``machine_talk_s`` and it hangs up;
* ``play`` plays the message for ``message_s`` and hangs up.

``truth`` keeps what really happened to every call (the benchmark measures from it, never
from the engine's counters). ``speed`` divides every delay, so a demo runs faster than life.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from dialer.events import (
    CallAnswered,
    CallBridged,
    CallBridgeFailed,
    CallHungUp,
    CallNotConnected,
    CallRinging,
    Outcome,
    Party,
    TelephonyEvent,
)
from dialer.ports import Clock, EventHandler, Timer


@dataclass(frozen=True)
class SimWorld:
    seed: int = 0
    speed: float = 1.0
    answer_rate: float = 0.55  # answered by a person
    machine_rate: float = 0.05
    busy_rate: float = 0.10
    invalid_rate: float = 0.05
    # The rest rings out. Times in seconds of world time.
    ring_min_s: float = 2.0
    ring_max_s: float = 12.0
    patience_min_s: float = 90.0
    patience_max_s: float = 420.0

    def __post_init__(self) -> None:
        shares = (self.answer_rate, self.machine_rate, self.busy_rate, self.invalid_rate)
        if any(s < 0 for s in shares) or sum(shares) > 1.0 + 1e-9:
            raise ValueError("SimWorld: outcome rates must be non-negative and sum to at most 1")
        if self.speed <= 0:
            raise ValueError("SimWorld: speed must be positive")
        if not 0 < self.ring_min_s <= self.ring_max_s:
            raise ValueError("SimWorld: ring times must satisfy 0 < min <= max")
        if not 0 < self.patience_min_s <= self.patience_max_s:
            raise ValueError("SimWorld: patience must satisfy 0 < min <= max")


@dataclass(frozen=True)
class Fate:
    outcome: Outcome  # ANSWERED (a person), MACHINE, BUSY, INVALID or NO_ANSWER
    ring_s: float
    talk_s: float  # how long a person talks once joined to an agent
    amd_says_machine: bool | None = None  # the detector's verdict; None without detection


def draw_fate(world: SimWorld, ref: str) -> Fate:
    rng = random.Random(zlib.crc32(f"{world.seed}:{ref}".encode()))
    u = rng.random()
    ring = rng.uniform(world.ring_min_s, world.ring_max_s)
    patience = rng.uniform(world.patience_min_s, world.patience_max_s)
    bands = (
        (world.answer_rate, Outcome.ANSWERED),
        (world.machine_rate, Outcome.MACHINE),
        (world.busy_rate, Outcome.BUSY),
        (world.invalid_rate, Outcome.INVALID),
    )
    for share, outcome in bands:
        if u < share:
            return Fate(outcome, ring, patience)
        u -= share
    return Fate(Outcome.NO_ANSWER, ring, patience)


FateSource = Callable[[str, str], Fate]  # (ref, number) -> fate


@dataclass(slots=True)
class CallTruth:
    """What really happened to one call, in world seconds."""

    number: str
    fate: Fate
    dialed_at: float
    answered_at: float | None = None  # the greeting ended: the legal 2 s start here
    bridged_at: float | None = None
    played_at: float | None = None
    ended_at: float | None = None
    unanswered_after_s: float | None = None  # rang out or cancelled after this long
    cancelled_by_us: bool = False


_SIP_CODES = {Outcome.BUSY: 486, Outcome.INVALID: 404, Outcome.NO_ANSWER: 487}


class SimTelephony:
    def __init__(
        self,
        clock: Clock,
        world: SimWorld | None = None,
        *,
        fates: FateSource | None = None,
        setup_s: float = 0.5,
        bridge_s: float = 0.5,
        message_s: float = 6.0,
        machine_talk_s: float = 20.0,
        amd_delay_s: float = 0.0,
        keep_truth: bool = False,
    ) -> None:
        self.clock = clock
        self.world = world or SimWorld()
        self._fates: FateSource = fates or (lambda ref, _number: draw_fate(self.world, ref))
        self.setup_s = setup_s
        self.bridge_s = bridge_s
        self.message_s = message_s
        self.machine_talk_s = machine_talk_s
        self.amd_delay_s = amd_delay_s
        self.keep_truth = keep_truth
        self.truth: dict[str, CallTruth] = {}
        self._timers: dict[str, list[Timer]] = {}
        self._handlers: dict[str, EventHandler] = {}
        self._calls: dict[str, CallTruth] = {}
        self._agent_on_line: set[str] = set()

    # --- the port --------------------------------------------------------------------

    def originate(
        self,
        ref: str,
        number: str,
        *,
        ring_timeout_s: float,
        agent_uri: str | None,
        on_event: EventHandler,
    ) -> None:
        if ref in self._handlers:
            raise ValueError(f"call {ref} is already in progress")
        fate = self._fates(ref, number)
        truth = CallTruth(number, fate, self.clock.now())
        self._calls[ref] = truth
        if self.keep_truth:
            self.truth[ref] = truth
        self._handlers[ref] = on_event
        self._timers[ref] = []
        if agent_uri is not None:
            self._agent_on_line.add(ref)
        setup = self.setup_s
        if fate.outcome is Outcome.INVALID:
            self._at(ref, setup, lambda: self._not_connected(ref, Outcome.INVALID))
            return
        self._at(ref, setup, lambda: self._emit(ref, CallRinging(ref, self.clock.now())))
        if fate.outcome is Outcome.BUSY:
            self._at(ref, setup + 1.5, lambda: self._not_connected(ref, Outcome.BUSY))
        elif fate.outcome is Outcome.NO_ANSWER or fate.ring_s >= ring_timeout_s:
            self._at(
                ref, setup + ring_timeout_s, lambda: self._not_connected(ref, Outcome.NO_ANSWER)
            )
        else:
            self._at(ref, setup + fate.ring_s + self.amd_delay_s, lambda: self._answer(ref))

    def connect(self, ref: str, agent_uri: str) -> None:
        truth = self._calls.get(ref)
        if truth is None or truth.answered_at is None or truth.played_at is not None:
            return
        self._cancel_timers(ref)
        self._at(ref, self.bridge_s, lambda: self._bridged(ref))

    def play(self, ref: str, media: str) -> None:
        truth = self._calls.get(ref)
        if truth is None or truth.answered_at is None:
            return
        self._cancel_timers(ref)
        truth.played_at = self.clock.now()
        self._at(ref, self.message_s, lambda: self._hungup(ref, Party.SYSTEM))

    def hangup(self, ref: str) -> None:
        truth = self._calls.get(ref)
        if truth is None:
            return
        if truth.answered_at is not None:
            self._finish(ref, CallHungUp(ref, self.clock.now(), Party.AGENT))
        else:
            truth.cancelled_by_us = True
            truth.unanswered_after_s = self.clock.now() - truth.dialed_at
            self._finish(ref, CallNotConnected(ref, self.clock.now(), Outcome.NO_ANSWER, 487))

    def active_calls(self) -> int:
        return len(self._handlers)

    # --- playing the fate out ----------------------------------------------------------

    def _at(self, ref: str, world_seconds: float, action: Callable[[], None]) -> None:
        self._timers[ref].append(self.clock.call_later(world_seconds / self.world.speed, action))

    def _cancel_timers(self, ref: str) -> None:
        for timer in self._timers.get(ref, []):
            timer.cancel()
        self._timers[ref] = []

    def _emit(self, ref: str, event: TelephonyEvent) -> None:
        handler = self._handlers.get(ref)
        if handler is not None:
            handler(event)

    def _answer(self, ref: str) -> None:
        truth = self._calls.get(ref)
        if truth is None:
            return
        truth.answered_at = self.clock.now()
        fate = truth.fate
        person = fate.outcome is Outcome.ANSWERED
        verdict = fate.amd_says_machine if self.amd_delay_s > 0 else None
        machine = bool(verdict) if verdict is not None else False
        if ref in self._agent_on_line:
            truth.bridged_at = truth.answered_at
            self._after_bridge(ref, person)
        else:
            # Unattended: a machine's greeting ends and it hangs up; a person gives up later.
            self._at(ref, 30.0 if not person else max(60.0, fate.talk_s), lambda: self._gone(ref))
        self._emit(ref, CallAnswered(ref, self.clock.now(), machine=machine))

    def _gone(self, ref: str) -> None:
        self._hungup(ref, Party.CUSTOMER)

    def _bridged(self, ref: str) -> None:
        truth = self._calls.get(ref)
        if truth is None:
            return
        truth.bridged_at = self.clock.now()
        self._after_bridge(ref, truth.fate.outcome is Outcome.ANSWERED)
        self._emit(ref, CallBridged(ref, self.clock.now()))

    def _after_bridge(self, ref: str, person: bool) -> None:
        truth = self._calls[ref]
        if person:
            self._at(ref, truth.fate.talk_s, lambda: self._hungup(ref, Party.CUSTOMER))
        else:
            self._at(ref, self.machine_talk_s, lambda: self._hungup(ref, Party.CUSTOMER))

    def bridge_fails(self, ref: str) -> None:
        """Test hook: the agent's phone does not answer."""
        truth = self._calls.get(ref)
        if truth is None:
            return
        self._cancel_timers(ref)  # the bridge connect() set up never completes
        if truth.answered_at is not None and ref not in self._agent_on_line:
            person = truth.fate.outcome is Outcome.ANSWERED
            self._at(ref, max(60.0, truth.fate.talk_s) if person else 30.0, lambda: self._gone(ref))
        self._emit(ref, CallBridgeFailed(ref, self.clock.now()))

    def _not_connected(self, ref: str, outcome: Outcome) -> None:
        truth = self._calls.get(ref)
        if truth is None:
            return
        if outcome is Outcome.NO_ANSWER:
            truth.unanswered_after_s = self.clock.now() - truth.dialed_at
        self._finish(ref, CallNotConnected(ref, self.clock.now(), outcome, _SIP_CODES.get(outcome)))

    def _hungup(self, ref: str, by: Party) -> None:
        if ref in self._handlers:
            self._finish(ref, CallHungUp(ref, self.clock.now(), by))

    def _finish(self, ref: str, event: CallNotConnected | CallHungUp) -> None:
        for timer in self._timers.pop(ref, []):
            timer.cancel()
        truth = self._calls.pop(ref)
        truth.ended_at = self.clock.now()
        self._agent_on_line.discard(ref)
        handler = self._handlers.pop(ref)
        handler(event)
