"""Simulated telephony: a world of customers who answer, refuse, ring out and hang up.

Theory of operation
-------------------
``SimTelephony.originate`` draws the call's fate from ``SimWorld`` with a random stream
seeded by (world seed, call ref), so the same call in the same world always ends the same
way, whatever else happens. The fate is then played out on the injected clock: ringing
after a short network delay, then an answer (by a person or a machine), a busy or invalid
signal, or a ring-out that our side cancels at the ring timeout. A customer who answered
stays on the line for a patience drawn from the world, then hangs up unless our side hangs
up first. ``speed`` divides every delay, so a demo can run faster than life.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from dialer.events import (
    CallAnswered,
    CallHungUp,
    CallNotConnected,
    CallRinging,
    Outcome,
    Party,
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
    outcome: Outcome  # ANSWERED, MACHINE, BUSY, INVALID or NO_ANSWER
    ring_s: float
    patience_s: float


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


_SIP_CODES = {Outcome.BUSY: 486, Outcome.INVALID: 404, Outcome.NO_ANSWER: 487}


class SimTelephony:
    def __init__(self, clock: Clock, world: SimWorld | None = None) -> None:
        self.clock = clock
        self.world = world or SimWorld()
        self._timers: dict[str, list[Timer]] = {}
        self._handlers: dict[str, EventHandler] = {}
        self._answered: set[str] = set()

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
        fate = draw_fate(self.world, ref)
        self._handlers[ref] = on_event
        self._timers[ref] = []
        setup = 0.5
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
            machine = fate.outcome is Outcome.MACHINE
            self._at(ref, setup + fate.ring_s, lambda: self._answer(ref, machine))
            # A machine's greeting ends and it hangs up by itself after a short while.
            patience = 25.0 if machine else fate.patience_s
            self._at(ref, setup + fate.ring_s + patience, lambda: self._customer_hangup(ref))

    def hangup(self, ref: str) -> None:
        if ref not in self._handlers:
            return
        if ref in self._answered:
            self._finish(ref, CallHungUp(ref, self.clock.now(), Party.AGENT))
        else:
            self._finish(ref, CallNotConnected(ref, self.clock.now(), Outcome.NO_ANSWER, 487))

    def active_calls(self) -> int:
        return len(self._handlers)

    def _at(self, ref: str, world_seconds: float, action: Callable[[], None]) -> None:
        self._timers[ref].append(self.clock.call_later(world_seconds / self.world.speed, action))

    def _emit(self, ref: str, event: CallRinging | CallAnswered) -> None:
        handler = self._handlers.get(ref)
        if handler is not None:
            handler(event)

    def _answer(self, ref: str, machine: bool) -> None:
        if ref in self._handlers:
            self._answered.add(ref)
            self._emit(ref, CallAnswered(ref, self.clock.now(), machine=machine))

    def _not_connected(self, ref: str, outcome: Outcome) -> None:
        if ref in self._handlers:
            self._finish(
                ref, CallNotConnected(ref, self.clock.now(), outcome, _SIP_CODES.get(outcome))
            )

    def _customer_hangup(self, ref: str) -> None:
        if ref in self._handlers:
            self._finish(ref, CallHungUp(ref, self.clock.now(), Party.CUSTOMER))

    def _finish(self, ref: str, event: CallNotConnected | CallHungUp) -> None:
        for timer in self._timers.pop(ref, []):
            timer.cancel()
        self._answered.discard(ref)
        handler = self._handlers.pop(ref)
        handler(event)
