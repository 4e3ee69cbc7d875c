"""The customers of a benchmark run: each list record's fate, and the list that hands them out.

Theory of operation
-------------------
The calling list is endless: records ``r1``, ``r2``, ... each with its own customer key
and number (``f"r{i}"``, the campaign's time zone). Nothing about a record depends on
the policy that dials it, so every policy faces the same customers (common random
numbers):

* ``draw(scenario, seed, record, attempt)`` seeds a ``random.Random`` with the exact
  integer ``(seed, record, attempt)`` (no hash, so two records never share a stream) and
  draws, always in the same order: a uniform ``u`` for the outcome, the ring time, the
  talk time, the wrap-up time and a uniform for the answering-machine detector.
* The outcome is read off ``u`` at the moment of dialing: machine, busy and invalid take
  the first bands, then comes the live share in force at that moment (``live`` times the
  hour's ``by_hour`` multiplier times any shock's ``live_multiplier``), and the rest
  rings out. A shock therefore only turns people into no-answers or back, and a policy
  that dials record i a minute later than another sees the same customer unless the live
  share changed in between.
* Ring time: ``bimodal`` is uniform on 6–10 s or 18–22 s with equal odds; ``lognormal``
  has the given mean and standard deviation. Talk time: with probability ``short_share``
  a quick refusal, exponential with mean ``short_mean_s``; otherwise lognormal with mean
  ``mean_s`` and coefficient of variation ``cv`` (``cv = 0``: exactly ``mean_s``).
  Wrap-up: lognormal with ``mean_s`` and ``cv`` the same way.
* With detection enabled, a person is taken for a machine when the detector's uniform
  falls under ``false_positive``; a machine is passed on as a person when it falls under
  ``false_negative``.

``World.fate`` is the ``SimTelephony`` fate source: it counts the dials of each number
(the n-th dial of a record is its attempt n) and keeps the drawn wrap-up of each call a
person answered, for the agent channel (``World.wrap_s``; a machine gets
``MACHINE_WRAP_S``).

``ListLeads`` is the lead source. It re-queues a record by how its dial ended (busy:
15 min, no answer: 2 h, abandoned: 1 h, failed: 15 min; answered, machine and invalid:
done, a machine being "next day", outside the run). The 1 h after an abandon is
deliberately too soon: the engine must refuse the redial (72-hour hold) and give the
record back with ``release``, and a record given back for later than the end of the day
is dropped. It never refuses anything itself (``check``), and it hands out no
``contacts_today`` or ``last_abandon_at``: the engine's own ledger is what is tested.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import Counter
from typing import NamedTuple

from dialer.events import Outcome
from dialer.ports import Clock, Lead, NoLeads
from dialer.sim.scenario import Answer, Scenario
from dialer.telephony.sim import Fate

MACHINE_WRAP_S = 3.0  # an agent who reached a machine saves the outcome in 3 s
RETRY_AFTER_S: dict[Outcome, float] = {
    Outcome.BUSY: 15 * 60.0,
    Outcome.NO_ANSWER: 2 * 3600.0,
    Outcome.ABANDONED: 3600.0,  # too soon on purpose: the engine's 72-hour hold refuses it
    Outcome.FAILED: 15 * 60.0,
}


class Draw(NamedTuple):
    """What is drawn once for one attempt on one record, whatever policy dials it."""

    u: float  # where the dial falls among the outcome bands
    ring_s: float
    talk_s: float
    wrap_s: float
    amd_u: float


def stream_seed(seed: int, record: int, attempt: int) -> int:
    """A distinct integer seed for each (seed, record, attempt)."""
    return (seed << 56) | (record << 16) | (attempt & 0xFFFF)


def lognormal(rng: random.Random, mean: float, cv: float) -> float:
    """A lognormal draw with the given mean and coefficient of variation (cv 0: the mean)."""
    if cv <= 0 or mean <= 0:
        return mean
    s2 = math.log1p(cv * cv)
    return rng.lognormvariate(math.log(mean) - s2 / 2, math.sqrt(s2))


def draw(scenario: Scenario, seed: int, record: int, attempt: int) -> Draw:
    rng = random.Random(stream_seed(seed, record, attempt))
    u = rng.random()
    ring = scenario.ring
    if ring.distribution == "bimodal":
        ring_s = rng.uniform(6.0, 10.0) if rng.random() < 0.5 else rng.uniform(18.0, 22.0)
    else:
        ring_s = lognormal(rng, ring.mean_s, ring.sd_s / ring.mean_s)
    talk = scenario.talk
    if talk.short_share > 0 and rng.random() < talk.short_share:
        talk_s = rng.expovariate(1.0 / talk.short_mean_s)
    else:
        talk_s = lognormal(rng, talk.mean_s, talk.cv)
    wrap_s = lognormal(rng, scenario.wrap.mean_s, scenario.wrap.cv)
    return Draw(u, ring_s, talk_s, wrap_s, rng.random())


def outcome_of(answer: Answer, u: float, live: float) -> Outcome:
    """Machine, busy and invalid bands first, then ``live``; the rest rings out."""
    if u < answer.machine:
        return Outcome.MACHINE
    u -= answer.machine
    if u < answer.busy:
        return Outcome.BUSY
    u -= answer.busy
    if u < answer.invalid:
        return Outcome.INVALID
    u -= answer.invalid
    return Outcome.ANSWERED if u < live else Outcome.NO_ANSWER


def fate_of(scenario: Scenario, d: Draw, live: float) -> Fate:
    outcome = outcome_of(scenario.answer, d.u, live)
    verdict: bool | None = None
    amd = scenario.amd
    if amd.enabled and outcome is Outcome.ANSWERED:
        verdict = d.amd_u < amd.false_positive
    elif amd.enabled and outcome is Outcome.MACHINE:
        verdict = d.amd_u >= amd.false_negative
    return Fate(outcome, d.ring_s, d.talk_s, verdict)


def record_of(key: str) -> int:
    """``"r17"`` -> 17."""
    return int(key[1:])


class World:
    """The fate source of one run: record fates at the live share of the moment of dialing."""

    def __init__(self, scenario: Scenario, seed: int, clock: Clock, start: float) -> None:
        self.scenario = scenario
        self.seed = seed
        self.clock = clock
        self.start = start
        self._dials: dict[int, int] = {}
        self._wraps: dict[str, float] = {}

    def fate(self, ref: str, number: str) -> Fate:
        record = record_of(number)
        attempt = self._dials.get(record, 0) + 1
        self._dials[record] = attempt
        d = draw(self.scenario, self.seed, record, attempt)
        fate = fate_of(self.scenario, d, self.scenario.live_share(self.clock.now() - self.start))
        if fate.outcome is Outcome.ANSWERED:
            self._wraps[ref] = d.wrap_s
        return fate

    def was_person(self, ref: str) -> bool:
        """Whether call ``ref`` was answered by a person (asked before ``wrap_s``)."""
        return ref in self._wraps

    def wrap_s(self, ref: str) -> float:
        """The wrap-up after call ``ref``: drawn for a person, ``MACHINE_WRAP_S`` for a machine."""
        return self._wraps.pop(ref, MACHINE_WRAP_S)


class ListLeads:
    """The lead source: an endless list, with retries by outcome within the day."""

    def __init__(self, ends_at: float) -> None:
        self.ends_at = ends_at
        self._fresh = 0
        self._due: list[tuple[float, int, int]] = []  # heap of (not before, record, attempt)
        self._attempt: dict[int, int] = {}  # record -> attempt claimed last
        self._out: dict[str, int] = {}  # call ref -> record, until the call ends
        self.dropped: Counter[str] = Counter()  # records given back for after the day

    def claim(self, campaign: str, now: float) -> Lead | NoLeads:
        due = self._due
        if due and due[0][0] <= now:
            _at, record, attempt = heapq.heappop(due)
        else:
            self._fresh += 1
            record, attempt = self._fresh, 1
        self._attempt[record] = attempt
        key = f"r{record}"
        return Lead(key, campaign, key, key, None, attempt)

    def check(self, lead: Lead, now: float) -> str | None:
        return None

    def release(self, lead: Lead, reason: str, not_before: float | None) -> None:
        if not_before is None or not_before >= self.ends_at:
            self.dropped[reason] += 1
            return
        heapq.heappush(self._due, (not_before, record_of(lead.ref), lead.attempt))

    def placed(self, ref: str, lead: str) -> None:
        self._out[ref] = record_of(lead)

    def ended(self, ref: str, outcome: Outcome, at: float) -> None:
        record = self._out.pop(ref, None)
        delay = RETRY_AFTER_S.get(outcome)
        if record is None or delay is None or at + delay >= self.ends_at:
            return
        heapq.heappush(self._due, (at + delay, record, self._attempt[record] + 1))
