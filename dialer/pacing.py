"""Pacing policies: how many lines a campaign dials now.

Theory of operation
-------------------
Each tick the engine hands the policy a ``PacingSnapshot`` of the campaign (agents ready,
talking for how long, in wrap-up for how long, lines ringing and for how long, answered
calls waiting, live answers and abandons in the rolling window) and dials what it
returns, within the compliance limits it enforces itself. The policy learns from the
calls as they resolve (``observe_dial``: seconds from dial to the first answer or failure,
and whether a person answered) and from each finished service (``observe_service``: talk
and wrap-up seconds).

``Predictive`` is ours. From the campaign's recent calls it keeps empirical distributions
of (a) when, after dialing, a person answers, (b) talk time and (c) wrap-up time; nothing
of the scenario is handed to it. For every second t of the coming half minute it compares
the answers expected by t — from the calls waiting, the lines ringing given their age,
and n new lines — with the agents expected free by t plus the connect limit — the ready
ones, and each busy agent given how long they have talked or wrapped up. The shortfall is
a sum of independent Bernoulli variables, taken as normal; its expected positive part is
the expected number of abandons. The policy dials the largest n whose expected abandons
stay under the target share of the expected answers, never fewer than progressive. A slow
feedback loop moves its working target so the measured rate meets the campaign's target.
It dials progressively while it has too few observations, when the team is too small for
pooling to gain, and when the measured rate nears the cap.

The baselines are ``Progressive`` (one line per ready agent), ``Ratio`` (a fixed dial level)
and ``VicidialAdaptive``, VICIdial's ``AST_VDadapt.pl`` as PACING.md describes it, with the
HARD_LIMIT or TAPERED drop rule.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PacingSnapshot:
    now: float
    agents: int  # logged in, not paused, counted for this campaign
    ready: int
    talking: tuple[float, ...]  # seconds each talking agent has talked
    wrapping: tuple[float, ...]  # seconds each agent has been in wrap-up
    ringing: Sequence[float] | Array  # age in seconds of each line not answered yet
    waiting: int  # answered, waiting for an agent
    answers: float  # live answers in the rolling window (weights: see AbandonWindow)
    abandons: float
    cap: float
    target: float
    connect_limit_s: float
    closes_in_s: float = math.inf  # until the calling window ends

    @property
    def progressive(self) -> int:
        return max(0, self.ready - len(self.ringing) - self.waiting)


class PacingPolicy(Protocol):
    name: str

    def dials(self, snap: PacingSnapshot) -> int: ...

    def observe_dial(self, resolved_after_s: float, kind: str) -> None:
        """``kind``: "human", "machine" or "other" (busy, invalid, no answer, failed)."""
        ...

    def observe_service(self, talk_s: float, wrap_s: float) -> None: ...


class _Quiet:
    def observe_dial(self, resolved_after_s: float, kind: str) -> None:
        return None

    def observe_service(self, talk_s: float, wrap_s: float) -> None:
        return None


class Progressive(_Quiet):
    name = "progressive"

    def dials(self, snap: PacingSnapshot) -> int:
        return snap.progressive


class Ratio(_Quiet):
    """A fixed dial level: ``level`` lines per agent ready or talking."""

    def __init__(self, level: float) -> None:
        if not 0 < level <= 10:
            raise ValueError("ratio: the dial level must be above 0 and at most 10")
        self.level = level
        self.name = f"ratio:{level:g}"

    def dials(self, snap: PacingSnapshot) -> int:
        target = round(self.level * (snap.ready + len(snap.talking)))
        return max(0, target - len(snap.ringing) - snap.waiting)


class VicidialAdaptive(_Quiet):
    """VICIdial's adaptive dial level (``AST_VDadapt.pl``), as PACING.md describes it."""

    def __init__(self, drop_rule: str = "hard", intensity: float = 0.0) -> None:
        if drop_rule not in ("hard", "tapered", "average"):
            raise ValueError("vicidial: the drop rule is hard, tapered or average")
        self.drop_rule = drop_rule
        self.name = f"vicidial-{drop_rule}"
        self.k = 1 + intensity / 100
        self.level = 1.0
        self._samples: list[tuple[int, int, int]] = []  # ready, waiting, agents
        self._next_adapt = -math.inf
        self._next_drop = -math.inf
        self._day: int | None = None
        self._base = (0.0, 0.0)  # answers, abandons at midnight
        self._minute: deque[tuple[float, float, float]] = deque()

    def dials(self, snap: PacingSnapshot) -> int:
        now = snap.now
        day = int(now // 86400)
        if day != self._day:
            self._day, self._base = day, (snap.answers, snap.abandons)
        self._samples.append((snap.ready, snap.waiting, snap.agents))
        self._minute.append((now, snap.answers, snap.abandons))
        while self._minute and self._minute[0][0] < now - 60:
            self._minute.popleft()
        if now >= self._next_adapt:
            if self._next_adapt > -math.inf and self._samples:
                n = len(self._samples)
                avg_ready = sum(s[0] for s in self._samples) / n
                avg_waiting = sum(s[1] for s in self._samples) / n
                avg_agents = max(1e-9, sum(s[2] for s in self._samples) / n)
                self.level *= 1 + self.k * (avg_ready - avg_waiting) / avg_agents
                self.level = min(3.0, max(1.0, self.level))
            self._samples = []
            self._next_adapt = now + 15
        if now >= self._next_drop:
            self._next_drop = now + 60
            answers = snap.answers - self._base[0]
            drops = snap.abandons - self._base[1]
            if answers > 50 and drops / answers > snap.cap:
                if self.drop_rule == "hard":
                    self.level = 1.0
                elif self.drop_rule == "average":
                    self.level = max(1.0, self.level / 2)
                else:
                    self.level = max(1.0, self.level * min(1.0, snap.closes_in_s / 3600 / 10))
        if self._minute:
            _t0, a0, d0 = self._minute[0]
            recent_answers, recent_drops = snap.answers - a0, snap.abandons - d0
            if recent_answers > 20 and recent_drops > recent_answers / 2:
                self.level = max(1.0, self.level / 2)
        target = round(self.level * (snap.ready + len(snap.talking)))
        return max(0, target - len(snap.ringing) - snap.waiting)


class _Ring:
    """The last ``size`` observations, in a numpy buffer."""

    def __init__(self, size: int) -> None:
        self._buf = np.zeros(size)
        self._n = 0

    def append(self, value: float) -> None:
        self._buf[self._n % len(self._buf)] = value
        self._n += 1

    def __len__(self) -> int:
        return min(self._n, len(self._buf))

    def values(self) -> Array:
        return self._buf[: len(self)]


def _norm_cdf(x: Array) -> Array:
    # Abramowitz & Stegun 7.1.26 for erf; error below 1.5e-7.
    z = np.abs(x) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf = 1.0 - poly * np.exp(-z * z)
    return np.asarray(0.5 * (1.0 + np.sign(x) * erf), dtype=np.float64)


def _expected_positive(mu: Array, var: Array) -> Array:
    """E[max(X, 0)] for X ~ Normal(mu, var), elementwise."""
    sd = np.sqrt(np.maximum(var, 1e-9))
    z = mu / sd
    pdf = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return np.asarray(mu * _norm_cdf(z) + sd * pdf, dtype=np.float64)


class Predictive:
    """Our policy: expected abandons from learnt answer, talk and wrap-up distributions."""

    name = "predictive"

    HORIZON_S = 30  # seconds ahead compared, one column per second
    MAX_AGE_S = 90  # line ages kept in the answer table
    MAX_ELAPSED_S = 3600  # talk / wrap elapsed kept in the freeing tables
    MAX_NEW_PER_TICK = 400

    def __init__(
        self,
        *,
        min_dials: int = 150,
        min_services: int = 15,
        min_agents: int = 5,
        brake: float = 0.002,
        memory_dials: int = 3000,
        memory_services: int = 600,
        refresh_s: float = 60.0,
        gain_step: float = 0.25,
        recent_dials: int = 200,
    ) -> None:
        self.gain_step = gain_step
        self.min_dials = min_dials
        self.min_services = min_services
        self.min_agents = min_agents
        self.brake = brake
        self.refresh_s = refresh_s
        self._dials = _Ring(memory_dials)
        self._human = _Ring(memory_dials)
        self._recent = _Ring(recent_dials)
        self._talk = _Ring(memory_services)
        self._wrap = _Ring(memory_services)
        self._fresh = 0
        self._built_at = -math.inf
        self._seen = (0.0, 0.0)
        self.gain = 0.7  # working marginal threshold = campaign target x gain
        self.ready_model = False
        self._hz = np.arange(self.HORIZON_S + 1, dtype=np.float64)
        # Tables, built by _rebuild.
        self._answer = np.zeros((self.MAX_AGE_S + 1, self.HORIZON_S + 1))
        self._new = np.zeros(self.HORIZON_S + 1)
        self._free_talk = np.zeros((self.MAX_ELAPSED_S + 1, self.HORIZON_S + 1))
        self._free_wrap = np.zeros((self.MAX_ELAPSED_S + 1, self.HORIZON_S + 1))
        self._p_answer = 0.0
        self._slack = 1
        self._talk_by_t = self._free_talk
        self._wrap_by_t = self._free_wrap

    # --- learning --------------------------------------------------------------------

    def observe_dial(self, resolved_after_s: float, kind: str) -> None:
        self._dials.append(resolved_after_s)
        self._human.append(1.0 if kind == "human" else 0.0)
        self._recent.append(1.0 if kind == "human" else 0.0)
        self._fresh += 1

    def observe_service(self, talk_s: float, wrap_s: float) -> None:
        self._talk.append(talk_s)
        self._wrap.append(wrap_s)
        self._fresh += 1

    def _rebuild(self) -> None:
        times = self._dials.values()
        human = self._human.values() > 0.5
        n = len(times)
        all_sorted = np.sort(times)
        human_sorted = np.sort(times[human])
        self._p_answer = len(human_sorted) / max(1, n)
        ages = np.arange(self.MAX_AGE_S + 1, dtype=np.float64)
        ends = ages[:, None] + self._hz[None, :]
        # P(a person answers within (a, a+t] | the line is still unresolved at age a)
        alive = n - np.searchsorted(all_sorted, ages, side="right")
        got = (
            np.searchsorted(human_sorted, ends, side="right")
            - np.searchsorted(human_sorted, ages, side="right")[:, None]
        )
        self._answer = np.where(alive[:, None] > 0, got / np.maximum(alive[:, None], 1), 0.0)
        self._new = np.searchsorted(human_sorted, self._hz, side="right") / max(1, n)
        talk = np.sort(self._talk.values())
        wrap = np.sort(self._wrap.values())
        mean_wrap = float(wrap.mean()) if len(wrap) else 0.0
        self._free_talk = self._freeing(talk, shift=mean_wrap)
        self._free_wrap = self._freeing(wrap, shift=0.0)
        self._fresh = 0
        self._shift_tables()

    def _live_scale(self) -> float:
        """The live-answer share of the last few hundred dials against the longer memory's,
        shrunk towards 1 while the recent sample is small: a change in who answers (time of
        day, a list of another quality) reaches the model within minutes."""
        if self._p_answer <= 0:
            return 1.0
        recent = self._recent.values()
        prior = 50.0
        p_recent = (float(recent.sum()) + prior * self._p_answer) / (len(recent) + prior)
        return p_recent / self._p_answer

    def _shift_tables(self) -> None:
        """Supply at t counts the agents free by t + slack (an answer may wait that long)."""
        cols = np.minimum(np.arange(self.HORIZON_S + 1) + self._slack, self.HORIZON_S)
        self._talk_by_t = np.ascontiguousarray(self._free_talk[:, cols])
        self._wrap_by_t = np.ascontiguousarray(self._free_wrap[:, cols])

    def _freeing(self, samples: Array, *, shift: float) -> Array:
        """P(done by elapsed e + t - shift | not done at e), for e by second and t in the horizon.

        Rows stop just past the longest sample; later elapsed times use the last row.
        """
        longest = int(samples[-1]) + 2 if len(samples) else 1
        elapsed = np.arange(min(self.MAX_ELAPSED_S, longest) + 1, dtype=np.float64)
        m = len(samples)
        if m == 0:
            return np.zeros((len(elapsed), len(self._hz)))
        over = m - np.searchsorted(samples, elapsed, side="right")
        ends = elapsed[:, None] + self._hz[None, :] - shift
        done = np.searchsorted(samples, ends, side="right") - (m - over)[:, None]
        table = np.clip(done, 0, None) / np.maximum(over, 1)[:, None]
        # Past the longest sample seen: assume it ends at the mean remaining time's pace.
        table[over == 0] = np.clip((self._hz - shift) / max(1.0, float(samples.mean())), 0, 1)
        return np.asarray(table, dtype=np.float64)

    # --- deciding --------------------------------------------------------------------

    def dials(self, snap: PacingSnapshot) -> int:
        progressive = snap.progressive
        self.ready_model = (
            len(self._dials) >= self.min_dials and len(self._talk) >= self.min_services
        )
        if not self.ready_model or snap.agents < self.min_agents:
            return progressive
        rate = snap.abandons / snap.answers if snap.answers else 0.0
        if snap.answers >= 50 and rate >= snap.cap - self.brake:
            return progressive
        if snap.now - self._built_at >= self.refresh_s:
            self._rebuild()
            self._built_at = snap.now
        self._feedback(snap, rate)
        n = self._best_n(snap, snap.target * self.gain)
        return max(progressive, n)

    def _feedback(self, snap: PacingSnapshot, rate: float) -> None:
        """Stochastic approximation: every answer nudges the threshold up, every abandon down.

        The set point is the campaign's target, lowered by however far the window's rate
        already stands above it, so the window's rate converges to the target.
        """
        # Signed: answers found to be machines are taken back, and expiry removes both.
        answers = snap.answers - self._seen[0]
        abandons = snap.abandons - self._seen[1]
        self._seen = (snap.answers, snap.abandons)
        if not answers and not abandons:
            return
        set_point = snap.target
        if snap.answers >= 100:
            set_point = max(snap.target / 4, snap.target - max(0.0, rate - snap.target))
        # Small teams see few answers an hour: they take bigger steps to converge in time.
        step = self.gain_step / math.sqrt(max(1, snap.agents)) * (answers * set_point - abandons)
        self.gain = min(10.0, max(0.1, self.gain * math.exp(step)))

    def _best_n(self, snap: PacingSnapshot, threshold: float) -> int:
        hz = self.HORIZON_S
        slack = max(0, int(snap.connect_limit_s - 0.5))
        scale = self._live_scale()
        if slack != self._slack:
            self._slack = slack
            self._shift_tables()
        s_mean = np.full(hz + 1, float(snap.ready))
        s_var = np.zeros(hz + 1)
        if snap.talking:
            idx = np.minimum(np.asarray(snap.talking, dtype=np.int64), len(self._free_talk) - 1)
            p = self._talk_by_t[idx]
            s_mean += p.sum(axis=0)
            s_var += (p * (1 - p)).sum(axis=0)
        if snap.wrapping:
            idx = np.minimum(np.asarray(snap.wrapping, dtype=np.int64), len(self._free_wrap) - 1)
            p = self._wrap_by_t[idx]
            s_mean += p.sum(axis=0)
            s_var += (p * (1 - p)).sum(axis=0)
        # Demand: answers by t from the waiting calls and the ringing lines.
        d_mean = np.full(hz + 1, float(snap.waiting))
        d_var = np.zeros(hz + 1)
        if len(snap.ringing):
            idx = np.minimum(np.asarray(snap.ringing, dtype=np.int64), self.MAX_AGE_S)
            q = np.minimum(self._answer[idx] * scale, 1.0)
            d_mean += q.sum(axis=0)
            d_var += (q * (1 - q)).sum(axis=0)
        new = self._new * scale
        base_mu = d_mean - s_mean
        base_var = d_var + s_var
        per_line = max(float(new[-1]), 1e-6)
        new_var = new * (1 - new)
        # Candidates n = lo..hi at once (rows), the horizon in columns; a small batch first,
        # since most ticks dial a few lines.
        lo, last = 0, None
        hi_cap = min(self.MAX_NEW_PER_TICK, max(4, 2 * snap.agents))
        for hi in (min(15, hi_cap), hi_cap):
            ns = np.arange(lo, hi + 2, dtype=np.float64)[:, None]
            abandons = _expected_positive(
                base_mu[None, :] + ns * new[None, :], base_var[None, :] + ns * new_var[None, :]
            ).max(axis=1)
            if last is not None:
                abandons = np.concatenate(([last], abandons[1:]))
            # Dial the n-th line while its marginal expected abandons, per expected answer
            # it brings, stay under the working threshold.
            over = np.nonzero(np.diff(abandons) / per_line > threshold)[0]
            if len(over):
                return lo + int(over[0])
            if hi == hi_cap:
                break
            lo, last = hi + 1, float(abandons[-1])
        return hi_cap + 1


def policy_from_name(name: str) -> PacingPolicy:
    """progressive, predictive, ratio:L, vicidial-hard, vicidial-tapered, vicidial-average."""
    if name == "progressive":
        return Progressive()
    if name == "predictive":
        return Predictive()
    if name.startswith("ratio:"):
        try:
            level = float(name.split(":", 1)[1])
        except ValueError:
            raise ValueError(f"{name!r}: the dial level after 'ratio:' must be a number") from None
        return Ratio(level)
    if name.startswith("vicidial-"):
        return VicidialAdaptive(name.removeprefix("vicidial-"))
    raise ValueError(
        f"unknown pacing policy {name!r}: use progressive, predictive, ratio:L, "
        "vicidial-hard or vicidial-tapered"
    )
