"""The benchmark's measures, taken from what really happened to each call (``CallTruth``).

Theory of operation
-------------------
Nothing here asks the engine or the policy: ``call_stats`` walks the simulated world's
ground truth once, in dial order, and counts by the legal definitions of PACING.md.

* A *live answer* is a call a person answered (``fate.outcome`` ANSWERED, ``answered_at``
  set — with detection, the end of the greeting). It is *abandoned* when it was never
  joined to an agent or joined more than ``connect_limit_s`` after the answer. An
  answering-machine false positive (a person sent the message) is therefore abandoned,
  as Ofcom counts it. A *silent call* is an abandoned one that never heard the message.
* An *early hang-up* is a dial that rang out — not busy, not invalid — and was given up
  after less than 15 s of ringing (``unanswered_after_s`` minus the network set-up).
* A *redial within 72 h* is a dial to a number less than 72 h after a live answer on that
  number was abandoned.
* Talk is counted from the bridge to the hang-up, cut at the end of the day; the time an
  agent spends joined to a machine is counted apart (for occupancy).

Only calls dialed before the end of the day count (calls still running then play out).
``recovery_min`` measures how long the rolling 10-minute abandon rate stays over the cap
after a change in the live share (the harness asks it for each shock's start and end:
a drop in answers is safe while it lasts and dangerous when it ends; a rise is
dangerous when it starts).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from dialer.compliance import ABANDON_HOLD_S, MIN_RING_S
from dialer.events import Outcome
from dialer.telephony.sim import CallTruth

EPS = 1e-6  # float noise: a bridge at exactly the connect limit is in time


@dataclass
class CallStats:
    dials: int = 0
    live_answers: int = 0
    abandons: int = 0
    silent: int = 0
    early: int = 0
    redials: int = 0
    talk_s: float = 0.0
    machine_s: float = 0.0  # agents joined to answering machines
    answers: list[tuple[float, bool]] = field(default_factory=list)  # (answered at, abandoned)


def is_live(t: CallTruth) -> bool:
    return t.fate.outcome is Outcome.ANSWERED and t.answered_at is not None


def is_abandoned(t: CallTruth, connect_limit_s: float) -> bool:
    """A person answered and no agent was on the line within the connect limit."""
    if not is_live(t):
        return False
    assert t.answered_at is not None
    return t.bridged_at is None or t.bridged_at - t.answered_at > connect_limit_s + EPS


def is_early_hangup(t: CallTruth, setup_s: float) -> bool:
    """Rang out (not busy, not invalid) and given up after less than 15 s of ringing."""
    if t.unanswered_after_s is None or t.fate.outcome in (Outcome.BUSY, Outcome.INVALID):
        return False
    return t.unanswered_after_s - setup_s < MIN_RING_S - EPS


def call_stats(
    truths: Iterable[CallTruth], *, day_end: float, connect_limit_s: float, setup_s: float
) -> CallStats:
    """Count the calls dialed before ``day_end``; ``truths`` in dial order."""
    s = CallStats()
    last_abandon: dict[str, float] = {}
    for t in truths:
        if t.dialed_at >= day_end:
            continue
        s.dials += 1
        held = last_abandon.get(t.number)
        if held is not None and 0 <= t.dialed_at - held < ABANDON_HOLD_S:
            s.redials += 1
        if t.bridged_at is not None:
            end = t.ended_at if t.ended_at is not None else day_end
            joined = max(0.0, min(end, day_end) - t.bridged_at)
            if t.fate.outcome is Outcome.ANSWERED:
                s.talk_s += joined
            else:
                s.machine_s += joined
        if is_live(t):
            assert t.answered_at is not None
            abandoned = is_abandoned(t, connect_limit_s)
            s.live_answers += 1
            s.answers.append((t.answered_at, abandoned))
            if abandoned:
                s.abandons += 1
                s.silent += t.played_at is None
                last_abandon[t.number] = t.answered_at
        elif is_early_hangup(t, setup_s):
            s.early += 1
    return s


def rolling_rates(
    answers: Sequence[tuple[float, bool]], at: np.ndarray, window_s: float
) -> np.ndarray:
    """Abandons / live answers over ``(t - window_s, t]`` for each ``t`` in ``at`` (0 if none)."""
    ordered = sorted(answers)
    times = np.fromiter((a for a, _ab in ordered), dtype=np.float64, count=len(ordered))
    cum = np.concatenate(([0], np.cumsum([ab for _a, ab in ordered], dtype=np.int64)))
    hi = np.searchsorted(times, at, side="right")
    lo = np.searchsorted(times, at - window_s, side="right")
    n = hi - lo
    return np.where(n > 0, (cum[hi] - cum[lo]) / np.maximum(n, 1), 0.0)


def recovery_min(
    answers: Sequence[tuple[float, bool]],
    *,
    shock_end: float,
    day_end: float,
    cap: float,
    window_s: float = 600.0,
    step_s: float = 10.0,
) -> float:
    """Minutes from ``shock_end`` (any change) until the rolling abandon rate is back under ``cap``.

    The rate is looked at every ``step_s``. An excursion over the cap counts if it is
    under way at ``shock_end`` or starts within one window after it; then the recovery is
    the first moment after its start that the rate is at or under the cap (the rest of
    the day if never). No such excursion: 0. In a 10-minute window of a small team a
    few abandons are already over the cap, so part of any figure is noise.
    """
    if shock_end >= day_end:
        return 0.0
    grid = np.arange(shock_end, day_end + step_s / 2, step_s)
    over = rolling_rates(answers, grid, window_s) > cap + 1e-12
    soon = over & (grid <= shock_end + window_s)
    if not soon.any():
        return 0.0
    start = int(np.argmax(soon))
    back = np.flatnonzero(~over[start:])
    at = grid[start + back[0]] if len(back) else day_end
    return float(at - shock_end) / 60.0
