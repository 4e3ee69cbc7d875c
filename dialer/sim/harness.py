"""The pacing benchmark's harness: one simulated day of one policy, measured from the truth.

Theory of operation
-------------------
``run(scenario, policy, seed)`` wires the real ``Engine`` to a ``ManualClock`` that
starts on Tuesday 2026-11-24 at 09:00 Asia/Shanghai (a workday), to ``SimTelephony``
playing out the list records' fates (``dialer.sim.world``), and to ``_Desk``, which is
the result sink and the agent channel at once. Then it advances the clock through the
day, stops the engine, lets the calls still running play out (at most
``DRAIN_MAX_S``) and measures the truth (``dialer.sim.metrics``).

* The campaign's calling window is 09:00 to 09:00 + ``hours`` every weekday; the abandon
  cap, connect limit and window come from ``[rules]``, the ring timeout from
  ``no_answer_timeout_s``. The abandon target handed to the policy is five sixths of the
  cap (2.5 % under the usual 3 %), as a campaign's default is.
* Agents ``a0`` ... log in at 09:00 and stay. After each call the desk keeps the agent in
  wrap-up for the record's drawn wrap time (a machine: ``MACHINE_WRAP_S``, 3 s), then
  calls ``Engine.agent_ready``. A person joined to an agent talks for the drawn talk
  time; an answering machine joined to an agent (no detection, or a false negative) is
  recognised and hung up after ``MACHINE_CONNECTED_S``, 5 s.
* Breaks: each ``[[breaks]]`` sends ``share`` of the agents (in rotation, so the next
  break takes the next agents) on break for ``minutes``; staggered starts are spread
  evenly over twice the break length. The desk calls ``Engine.agent_pause``; an agent on
  a call pauses after the wrap-up. The break lasts ``minutes`` from the moment the agent
  actually paused (seen in the ``AgentChanged`` records), then ``Engine.agent_ready``.
* Policies: ``preview`` is the engine's preview mode (10 s preview per lead);
  ``progressive`` its progressive mode; the others (``ratio:L``, ``vicidial-hard``,
  ``vicidial-tapered``, ``predictive``) its predictive mode with
  ``dialer.pacing.policy_from_name``. ``bound`` is not simulated: it is
  ``bound_utilisation``, the non-break share of logged-in time times
  E[talk] / (E[talk] + E[wrap] + the bridge time).

Counting: logged-in time is the day (``agents`` x ``hours``), breaks included. Only calls
dialed during the day count, and talk, wrap-up and machine time only inside the day, so
the calls that spill past the end neither help nor hurt. The metric names and
definitions are PACING.md's; ``gap_closed`` needs the progressive run of the same seed
and is added by ``summarise``. ``recovery_min`` is the worst, over each shock's start and
end, of ``metrics.recovery_min``. Beyond PACING.md each run also reports its
``abandons`` and ``live_answers`` (for pooled rates), ``engine_abandon_rate`` (the
engine's own window, for comparison only), ``wall_s`` and ``cpu_s``.

Cost: the desk keeps one float per ready spell and one pair per live answer; everything
else is counted on the fly, and the truth is walked once at the end.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from dialer.clock import ManualClock
from dialer.compliance import CallingHours, CampaignRules
from dialer.engine import Engine
from dialer.events import AgentChanged, DialEnded, DialPlaced, EngineRecord, Party
from dialer.pacing import PacingPolicy, Progressive, policy_from_name
from dialer.ports import Offer
from dialer.sim import metrics
from dialer.sim.scenario import DAY_OPENS_MIN, Scenario
from dialer.sim.world import ListLeads, World
from dialer.telephony.sim import CallTruth, SimTelephony

START = dt.datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
CAMPAIGN = "bench"
SETUP_S = 0.5  # SimTelephony's network set-up before ringing
BRIDGE_S = 0.5  # and the time it takes to join an agent: the bound's connect latency
MACHINE_CONNECTED_S = 5.0
PREVIEW_S = 10.0
DRAIN_MAX_S = 4 * 3600.0
TARGET_SHARE_OF_CAP = 5 / 6

BOUND = "bound"
Metrics = dict[str, float]

# Higher is better for these; for every other metric lower is better.
HIGHER_IS_BETTER = frozenset(
    {
        "talk_utilisation",
        "occupancy",
        "talk_min_per_agent_hour",
        "dials_per_agent_hour",
        "live_per_agent_hour",
        "live_answers",
        "gap_closed",
    }
)


# --- set-up --------------------------------------------------------------------------


def campaign_rules(scenario: Scenario) -> CampaignRules:
    minutes = round(scenario.hours * 60)
    window = ((DAY_OPENS_MIN, DAY_OPENS_MIN + minutes),)
    cap = scenario.rules.abandon_cap
    return CampaignRules(
        hours=CallingHours(windows={weekday: window for weekday in range(5)}),
        abandon_cap=cap,
        abandon_target=cap * TARGET_SHARE_OF_CAP,
        connect_limit_s=scenario.rules.connect_limit_s,
        ring_timeout_s=scenario.ring.no_answer_timeout_s,
        abandon_window=scenario.rules.window,
    )


def engine_policy(policy: str) -> tuple[str, PacingPolicy]:
    """(engine dial mode, pacing policy) for a benchmark policy name."""
    if policy == "preview":
        return "preview", Progressive()
    if policy == "progressive":
        return "progressive", Progressive()
    return "predictive", policy_from_name(policy)


def break_plan(scenario: Scenario) -> list[tuple[int, float, float]]:
    """(agent index, start s into the day, length s) of every agent's break."""
    plan: list[tuple[int, float, float]] = []
    offset = 0
    for brk in scenario.breaks:
        n = int(brk.share * scenario.agents + 0.5)
        spread = 2 * brk.minutes * 60 if brk.staggered else 0.0
        for j in range(n):
            start = brk.at_h * 3600 + spread * j / n
            if start < scenario.day_s:
                plan.append(((offset + j) % scenario.agents, start, brk.minutes * 60))
        offset += n
    return plan


def non_break_share(scenario: Scenario) -> float:
    """The share of logged-in agent time not planned as a break."""
    day = scenario.day_s
    lost = sum(min(length, day - start) for _agent, start, length in break_plan(scenario))
    return 1.0 - lost / (scenario.agents * day)


def bound_utilisation(scenario: Scenario) -> float:
    talk = scenario.talk.expected_s
    return non_break_share(scenario) * talk / (talk + scenario.wrap.mean_s + BRIDGE_S)


def bound_metrics(scenario: Scenario) -> Metrics:
    """The physical bound in the shape of a run's metrics (no abandons, no idle time)."""
    util = bound_utilisation(scenario)
    talk, wrap = scenario.talk.expected_s, scenario.wrap.mean_s
    served_per_hour = non_break_share(scenario) * 3600 / (talk + wrap + BRIDGE_S)
    day = scenario.day_s
    mean_live = np.mean([scenario.live_share(t) for t in np.arange(0, day, 60.0)])
    out: Metrics = dict.fromkeys(METRIC_KEYS, 0.0)
    out |= {
        "talk_utilisation": util,
        "occupancy": util * (talk + wrap) / talk,
        "talk_min_per_agent_hour": util * 60,
        "dials_per_agent_hour": served_per_hour / max(float(mean_live), 1e-9),
        "live_per_agent_hour": served_per_hour,
        "live_answers": served_per_hour * scenario.agents * scenario.hours,
        "gap_closed": 1.0,
    }
    return out


METRIC_KEYS = (
    "talk_utilisation",
    "occupancy",
    "talk_min_per_agent_hour",
    "abandon_rate",
    "worst_day_abandon",
    "dials_per_agent_hour",
    "live_per_agent_hour",
    "mean_idle_s",
    "p90_idle_s",
    "silent_calls",
    "early_hangups",
    "redials_within_72h_of_abandon",
    "recovery_min",
    "abandons",
    "live_answers",
    "engine_abandon_rate",
    "wall_s",
    "cpu_s",
)


# --- one run -------------------------------------------------------------------------


class _Desk:
    """The result sink and the agent channel: agents wrap up, take breaks, are measured."""

    def __init__(self, clock: ManualClock, world: World, leads: ListLeads, day_end: float):
        self.clock = clock
        self.world = world
        self.leads = leads
        self.day_end = day_end
        self.ready_agent: Callable[..., None] = _unset
        self.wrap_s = 0.0
        self.idle: list[float] = []
        self._ready_since: dict[str, float] = {}
        self._break_s: dict[str, float] = {}

    # ResultSink
    def record(self, record: EngineRecord) -> None:
        if isinstance(record, AgentChanged):
            self._agent_changed(record)
        elif isinstance(record, DialPlaced):
            self.leads.placed(record.ref, record.lead)
        elif isinstance(record, DialEnded):
            self.leads.ended(record.ref, record.outcome, record.at)

    def _agent_changed(self, r: AgentChanged) -> None:
        since = self._ready_since.pop(r.agent, None)
        if since is not None and since < self.day_end:
            self.idle.append(min(r.at, self.day_end) - since)
        if r.state == "ready":
            self._ready_since[r.agent] = r.at
        elif r.state == "paused":
            length = self._break_s.pop(r.agent, None)
            if length is not None:
                self.clock.call_later(length, functools.partial(self.ready_agent, r.agent))

    def close_spells(self) -> None:
        for since in self._ready_since.values():
            if since < self.day_end:
                self.idle.append(self.day_end - since)
        self._ready_since.clear()

    # AgentChannel
    def offer(self, agent: str, offer: Offer) -> None:
        return None

    def ended(self, agent: str, ref: str, by: Party) -> None:
        person = self.world.was_person(ref)
        wrap = self.world.wrap_s(ref)
        left = self.day_end - self.clock.now()
        if left > 0:
            self.wrap_s += min(wrap, left)
        # The agent's wrap-up records what they heard: a person or an answering machine.
        self.clock.call_later(wrap, functools.partial(self.ready_agent, agent, machine=not person))

    def start_break(self, agent: str, length_s: float, pause: Callable[[str], None]) -> None:
        self._break_s[agent] = length_s
        pause(agent)


def _unset(agent: str, **_: object) -> None:
    raise RuntimeError("the desk has no engine yet")


class Day:
    """One simulated day of one policy on the customers of one seed, wired and ready."""

    def __init__(self, scenario: Scenario, policy: str, seed: int) -> None:
        self.scenario = scenario
        self.clock = ManualClock(START)
        self.day_end = START + scenario.day_s
        self.world = World(scenario, seed, self.clock, START)
        self.tel = SimTelephony(
            self.clock,
            fates=self.world.fate,
            setup_s=SETUP_S,
            bridge_s=BRIDGE_S,
            machine_talk_s=MACHINE_CONNECTED_S,
            amd_delay_s=scenario.amd.delay_s if scenario.amd.enabled else 0.0,
            keep_truth=True,
        )
        self.leads = ListLeads(self.day_end)
        self.desk = _Desk(self.clock, self.world, self.leads, self.day_end)
        self.engine = Engine(
            clock=self.clock,
            telephony=self.tel,
            leads=self.leads,
            sink=self.desk,
            agents=self.desk,
            preview_s=PREVIEW_S,
        )
        self.desk.ready_agent = self.engine.agent_ready
        mode, pacing = engine_policy(policy)
        rules = campaign_rules(scenario)
        self.engine.campaign_start(CAMPAIGN, mode=mode, rules=rules, policy=pacing)
        self.agents = [f"a{n}" for n in range(scenario.agents)]
        for agent in self.agents:
            self.engine.agent_login(agent, campaigns={CAMPAIGN: 1})
        for index, start, length in break_plan(scenario):
            pause = functools.partial(
                self.desk.start_break, self.agents[index], length, self.engine.agent_pause
            )
            self.clock.call_later(start, pause)

    def play(self) -> None:
        """Dial through the day, stop, and let the calls still running play out."""
        self.engine.start()
        self.clock.advance(self.day_end - self.clock.now())
        self.engine.stop()
        self.desk.close_spells()
        drained = 0.0
        while self.tel.active_calls() and drained < DRAIN_MAX_S:
            self.clock.advance(600.0)
            drained += 600.0

    def measure(self) -> Metrics:
        out = measure(self.scenario, self.tel.truth.values(), self.desk, self.day_end)
        answers, abandons = self.engine.abandon_rate(CAMPAIGN)
        out["engine_abandon_rate"] = abandons / answers if answers else 0.0
        return out


def run(scenario: Scenario, policy: str, seed: int) -> Metrics:
    """Simulate one day of ``policy`` on the customers of ``seed``; ``bound`` is computed."""
    if policy == BOUND:
        return bound_metrics(scenario)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    day = Day(scenario, policy, seed)
    day.play()
    out = day.measure()
    out["wall_s"] = time.perf_counter() - wall0
    out["cpu_s"] = time.process_time() - cpu0
    return out


def measure(
    scenario: Scenario, truths: Iterable[CallTruth], desk: _Desk, day_end: float
) -> Metrics:
    """PACING.md's metrics of one run (all but ``gap_closed`` and the timings)."""
    limit = scenario.rules.connect_limit_s
    s = metrics.call_stats(truths, day_end=day_end, connect_limit_s=limit, setup_s=SETUP_S)
    logged = scenario.agents * scenario.day_s
    agent_hours = logged / 3600
    rate = s.abandons / s.live_answers if s.live_answers else 0.0
    idle = np.asarray(desk.idle, dtype=np.float64)
    recovery = max(
        (
            metrics.recovery_min(
                s.answers, shock_end=START + edge, day_end=day_end, cap=scenario.rules.abandon_cap
            )
            for shock in scenario.shocks
            for edge in (shock.start_s, shock.end_s)
        ),
        default=0.0,
    )
    return {
        "talk_utilisation": s.talk_s / logged,
        "occupancy": (s.talk_s + desk.wrap_s + s.machine_s) / logged,
        "talk_min_per_agent_hour": s.talk_s / 60 / agent_hours,
        "abandon_rate": rate,
        "worst_day_abandon": rate,  # one run is one day
        "dials_per_agent_hour": s.dials / agent_hours,
        "live_per_agent_hour": s.live_answers / agent_hours,
        "mean_idle_s": float(idle.mean()) if len(idle) else 0.0,
        "p90_idle_s": float(np.percentile(idle, 90)) if len(idle) else 0.0,
        "silent_calls": float(s.silent),
        "early_hangups": float(s.early),
        "redials_within_72h_of_abandon": float(s.redials),
        "recovery_min": recovery,
        "abandons": float(s.abandons),
        "live_answers": float(s.live_answers),
    }


# --- many runs -----------------------------------------------------------------------

Task = tuple[Scenario, str, int]
Done = tuple[Scenario, str, int, Metrics]
ProgressFn = Callable[[Done], None]


def _run_task(task: Task) -> Done:
    scenario, policy, seed = task
    return scenario, policy, seed, run(scenario, policy, seed)


def run_tasks(
    tasks: Sequence[Task], jobs: int = 1, progress: ProgressFn | None = None
) -> list[Done]:
    """Run every (scenario, policy, seed), the longest first, on ``jobs`` processes."""
    order = sorted(tasks, key=_cost, reverse=True)
    done: list[Done] = []
    if jobs <= 1:
        results: Iterable[Done] = map(_run_task, order)
        for item in results:
            done.append(item)
            if progress:
                progress(item)
        return done
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for item in pool.map(_run_task, order):
            done.append(item)
            if progress:
                progress(item)
    return done


def _cost(task: Task) -> float:
    scenario, policy, _seed = task
    if policy == BOUND:
        return 0.0
    weight = 0.5 if policy in ("preview", "progressive") else 1.0
    return scenario.agents * scenario.hours * weight


def seeds_of(scenario: Scenario, count: int) -> list[int]:
    return [scenario.seed + n for n in range(count)]


def tasks_for(scenario: Scenario, policies: Iterable[str], seeds: int) -> list[Task]:
    """The runs a report of ``policies`` needs: progressive and bound too, for gap_closed."""
    wanted = dict.fromkeys([*policies, "progressive", BOUND])
    return [(scenario, p, s) for p in wanted for s in seeds_of(scenario, seeds)]


def summarise(
    scenario: Scenario, policies: Sequence[str], seeds: int, done: Iterable[Done]
) -> dict[str, Any]:
    """The JSON of PACING.md: mean and worst seed of each metric, per requested policy."""
    by: dict[tuple[str, int], Metrics] = {}
    for sc, policy, seed, result in done:
        if sc == scenario:
            by[(policy, seed)] = result
    bound = bound_utilisation(scenario)
    out: dict[str, Any] = {}
    for policy in policies:
        runs = []
        for seed in seeds_of(scenario, seeds):
            result = dict(by[(policy, seed)])
            result["gap_closed"] = gap_closed(
                result["talk_utilisation"], by[("progressive", seed)]["talk_utilisation"], bound
            )
            runs.append(result)
        out[policy] = {"mean": _mean(runs), "worst": _worst(runs)}
    return {"scenario": scenario.name, "seeds": seeds, "policies": out}


def gap_closed(util: float, progressive: float, bound: float) -> float:
    """(policy - progressive) / (bound - progressive) on talk utilisation."""
    room = bound - progressive
    if room <= 1e-12:
        return math.nan
    return (util - progressive) / room


def _mean(runs: Sequence[Mapping[str, float]]) -> Metrics:
    return {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}


def _worst(runs: Sequence[Mapping[str, float]]) -> Metrics:
    pick = {True: min, False: max}
    return {k: pick[k in HIGHER_IS_BETTER](r[k] for r in runs) for k in runs[0]}
