"""Reporting the pacing benchmark: the console table, the JSON, and the grid's markdown and plots.

Theory of operation
-------------------
Everything here reads the summaries ``harness.summarise`` builds (PACING.md's JSON: per
policy the mean and the worst seed of each metric) and writes them out; nothing is
simulated. ``table`` formats one scenario's summary as text or markdown. ``write_grid``
writes, under ``out``, ``pacing.md`` — a table per scenario, then the goals of PACING.md,
each checked against the figures and marked met or NOT MET — and, under ``out/pacing/``,
each scenario's JSON and a plot of talk utilisation against abandon rate, one labelled
point per policy, with the cap as a vertical line.

Pooled abandon rates are the mean abandons over the mean live answers (the same seeds,
so the ratio of the totals). ``nan`` (``gap_closed`` with no room above progressive) is
written as JSON ``null``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dialer.sim.harness import bound_utilisation
from dialer.sim.scenario import Scenario

OURS = "predictive"
# PACING.md: the predictive policy's share of the bound by (agents, live share); None:
# "never below progressive".
GOAL_SHARE: dict[tuple[int, float], float | None] = {
    (100, 0.10): 0.90,
    (100, 0.25): 0.90,
    (100, 0.50): 0.92,
    (20, 0.10): 0.82,
    (20, 0.25): 0.84,
    (20, 0.50): 0.87,
    (5, 0.10): 0.68,
    (5, 0.25): 0.74,
    (5, 0.50): None,
}
ABOVE_VICIDIAL_POINTS = 10.0
RECOVERY_GOAL_MIN = 10.0
WORST_DAY_MARGIN = 0.01  # worst day <= cap + 1 point (4 % under the 3 % cap)
DAY_WALL_GOAL_S = 30.0


@dataclass(frozen=True)
class Entry:
    scenario: Scenario
    summary: dict[str, Any]  # harness.summarise

    @property
    def bound(self) -> float:
        return bound_utilisation(self.scenario)

    def mean(self, policy: str, metric: str) -> float:
        return float(self.summary["policies"][policy]["mean"][metric])

    def worst(self, policy: str, metric: str) -> float:
        return float(self.summary["policies"][policy]["worst"][metric])

    def pooled_abandon(self, policy: str) -> float:
        answers = self.mean(policy, "live_answers")
        return self.mean(policy, "abandons") / answers if answers else 0.0

    def has(self, policy: str) -> bool:
        return policy in self.summary["policies"]


# --- JSON ----------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """``value`` with every nan replaced by None, so the JSON stays standard."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def write_json(summary: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(jsonable(summary), indent=2, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")


# --- tables --------------------------------------------------------------------------

COLUMNS = (
    ("policy", ""),
    ("talk util", "talk_utilisation"),
    ("% of bound", ""),
    ("gap closed", "gap_closed"),
    ("abandon", ""),
    ("worst day", "worst_day_abandon"),
    ("occupancy", "occupancy"),
    ("dials/agent-h", "dials_per_agent_hour"),
    ("live/agent-h", "live_per_agent_hour"),
    ("idle mean/p90 s", ""),
    ("silent", "silent_calls"),
    ("early", "early_hangups"),
    ("72h redials", "redials_within_72h_of_abandon"),
    ("recovery min", "recovery_min"),
    ("wall s", "wall_s"),
)


def _pct(x: float) -> str:
    return "–" if math.isnan(x) else f"{100 * x:.1f} %"


def _row(entry: Entry, policy: str) -> list[str]:
    m = entry.summary["policies"][policy]["mean"]
    w = entry.summary["policies"][policy]["worst"]
    seeds = entry.summary["seeds"]
    util = m["talk_utilisation"]
    return [
        policy,
        f"{util:.3f}",
        _pct(util / entry.bound),
        _pct(m["gap_closed"]),
        _pct(entry.pooled_abandon(policy)),
        _pct(w["worst_day_abandon"]),
        f"{m['occupancy']:.3f}",
        f"{m['dials_per_agent_hour']:.1f}",
        f"{m['live_per_agent_hour']:.1f}",
        f"{m['mean_idle_s']:.1f} / {m['p90_idle_s']:.1f}",
        f"{round(m['silent_calls'] * seeds)}",
        f"{round(m['early_hangups'] * seeds)}",
        f"{round(m['redials_within_72h_of_abandon'] * seeds)}",
        f"{w['recovery_min']:.1f}",
        f"{w['wall_s']:.1f}",
    ]


def table(entry: Entry, *, markdown: bool = False) -> str:
    """One scenario's policies; abandon is pooled over the seeds, worst day the worst seed."""
    policies = list(entry.summary["policies"])
    columns = [c for c in COLUMNS if c[0] != "recovery min" or entry.scenario.shocks]
    keep = [i for i, c in enumerate(COLUMNS) if c in columns]
    rows = [[c[0] for c in columns]]
    rows += [[r[i] for i in keep] for r in (_row(entry, p) for p in policies)]
    if markdown:
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * len(rows[0])]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows[1:]])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(_fit(r, widths)) for r in rows)


def _fit(row: Sequence[str], widths: Sequence[int]) -> list[str]:
    """The first cell to the left, the others to the right."""
    rest = zip(row[1:], widths[1:], strict=True)
    return [row[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in rest]


# --- goals ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Goal:
    text: str
    met: bool
    figures: str


def grid_cell(scenario: Scenario) -> tuple[int, float] | None:
    """The (agents, live) cell of PACING.md's goal table a plain scenario stands for."""
    sc = scenario
    plain = not (sc.breaks or sc.shocks or sc.amd.enabled or sc.answer.by_hour)
    key = (sc.agents, round(sc.answer.live, 4))
    if plain and sc.rules.window == "30d" and key in GOAL_SHARE:
        return key
    return None


def goals(entries: Sequence[Entry]) -> list[Goal]:
    ours = [e for e in entries if e.has(OURS)]
    out = [_cell_goal(ours, cell, share) for cell, share in GOAL_SHARE.items()]
    out += [
        _abandon_goal(ours),
        _worst_day_goal(ours),
        *(_zero_goal(ours, metric, text) for metric, text in _ZEROS),
        _vicidial_goal(ours),
        _progressive_goal(ours),
        _recovery_goal(ours),
        _speed_goal(ours),
    ]
    return out


_ZEROS = (
    ("silent_calls", "zero silent calls"),
    ("early_hangups", "zero early hang-ups (no answer given up before 15 s)"),
    ("redials_within_72h_of_abandon", "zero redials within 72 h of an abandon"),
)


def _cell_goal(ours: Sequence[Entry], cell: tuple[int, float], share: float | None) -> Goal:
    agents, live = cell
    wanted = f"≥ {share:.0%} of bound" if share is not None else "never below progressive"
    text = f"{agents} agents, live {live:.0%}: predictive {wanted}"
    found = [e for e in ours if grid_cell(e.scenario) == cell]
    if not found:
        return Goal(text, False, "not run")
    e = found[0]
    util, prog = e.mean(OURS, "talk_utilisation"), e.mean("progressive", "talk_utilisation")
    figures = (
        f"{e.scenario.name}: {util:.3f} = {util / e.bound:.1%} of bound {e.bound:.3f} "
        f"(progressive {prog:.3f} = {prog / e.bound:.1%}; worst seed "
        f"{e.worst(OURS, 'talk_utilisation') / e.bound:.1%})"
    )
    met = util >= prog if share is None else util / e.bound >= share
    return Goal(text, met, figures)


def _listing(items: Iterable[tuple[str, float]], fmt: str) -> str:
    return ", ".join(f"{name} {fmt.format(v)}" for name, v in items)


def _abandon_goal(ours: Sequence[Entry]) -> Goal:
    rates = [(e.scenario.name, e.pooled_abandon(OURS), e.scenario.rules.abandon_cap) for e in ours]
    bad = [(n, r) for n, r, cap in rates if r > cap]
    top = max(rates, key=lambda x: x[1], default=("–", 0.0, 0.0))
    figures = f"highest {top[1]:.2%} ({top[0]}) over {len(rates)} scenarios"
    if bad:
        figures += "; over the cap: " + _listing(bad, "{:.2%}")
    return Goal("pooled abandon rate ≤ the cap (3 %) in every scenario", not bad, figures)


def _worst_day_goal(ours: Sequence[Entry]) -> Goal:
    days = [
        (e.scenario.name, e.worst(OURS, "worst_day_abandon"), e.scenario.rules.abandon_cap)
        for e in ours
    ]
    bad = [(n, r) for n, r, cap in days if r > cap + WORST_DAY_MARGIN + 1e-12]
    top = max(days, key=lambda x: x[1], default=("–", 0.0, 0.0))
    figures = f"worst {top[1]:.2%} ({top[0]})"
    if bad:
        figures += "; over: " + _listing(bad, "{:.2%}")
    return Goal("worst day ≤ the cap + 1 point (4 %) in every scenario", not bad, figures)


def _zero_goal(ours: Sequence[Entry], metric: str, text: str) -> Goal:
    counts = [(e.scenario.name, e.mean(OURS, metric) * e.summary["seeds"]) for e in ours]
    bad = [(n, c) for n, c in counts if c > 0]
    total = sum(c for _n, c in counts)
    figures = f"{total:.0f} in all runs" + (": " + _listing(bad, "{:.0f}") if bad else "")
    return Goal(text, not bad, figures)


def _vicidial_goal(ours: Sequence[Entry]) -> Goal:
    gaps = [
        (
            e.scenario.name,
            100
            * (e.mean(OURS, "talk_utilisation") - e.mean("vicidial-hard", "talk_utilisation"))
            / e.bound,
        )
        for e in ours
        if e.scenario.agents >= 20 and e.has("vicidial-hard")
    ]
    if not gaps:
        return Goal("≥ 10 points of bound above vicidial-hard at 20+ agents", False, "not run")
    bad = [(n, g) for n, g in gaps if g < ABOVE_VICIDIAL_POINTS]
    low = min(gaps, key=lambda x: x[1])
    figures = f"smallest lead {low[1]:+.1f} points ({low[0]}) over {len(gaps)} scenarios"
    if bad:
        figures += "; short: " + _listing(bad, "{:+.1f}")
    return Goal("≥ 10 points of bound above vicidial-hard at 20+ agents", not bad, figures)


def _progressive_goal(ours: Sequence[Entry]) -> Goal:
    diffs = [
        (
            e.scenario.name,
            e.mean(OURS, "talk_utilisation") - e.mean("progressive", "talk_utilisation"),
        )
        for e in ours
    ]
    bad = [(n, d) for n, d in diffs if d < 0]
    low = min(diffs, key=lambda x: x[1], default=("–", 0.0))
    figures = f"smallest lead {low[1]:+.3f} utilisation ({low[0]})"
    if bad:
        figures += "; below: " + _listing(bad, "{:+.3f}")
    return Goal("never below progressive (every scenario, mean over seeds)", not bad, figures)


def _recovery_goal(ours: Sequence[Entry]) -> Goal:
    shocks = [(e.scenario.name, e.worst(OURS, "recovery_min")) for e in ours if e.scenario.shocks]
    text = "back under the cap within 10 min of a shock (rolling 10-min rate, worst seed)"
    if not shocks:
        return Goal(text, False, "no shock scenario run")
    bad = [(n, r) for n, r in shocks if r > RECOVERY_GOAL_MIN]
    return Goal(text, not bad, _listing(shocks, "{:.1f} min"))


def _speed_goal(ours: Sequence[Entry]) -> Goal:
    days = [
        (e.scenario.name, e.worst(OURS, "wall_s"), e.worst(OURS, "cpu_s"))
        for e in ours
        if e.scenario.agents == 100 and e.scenario.hours == 8
    ]
    text = "an 8-hour day of 100 agents simulated in < 30 s (wall time, slowest run)"
    if not days:
        return Goal(text, False, "not run")
    slow = max(days, key=lambda x: x[1])
    figures = ", ".join(f"{n} {w:.1f} s (cpu {c:.1f} s)" for n, w, c in days)
    return Goal(text, slow[1] < DAY_WALL_GOAL_S, figures)


def goals_markdown(found: Sequence[Goal]) -> str:
    lines = ["| goal | status | figures |", "| --- | --- | --- |"]
    lines += [f"| {g.text} | {'met' if g.met else '**NOT MET**'} | {g.figures} |" for g in found]
    return "\n".join(lines)


# --- the grid's files ----------------------------------------------------------------


def plot(entry: Entry, path: Path) -> None:
    """Talk utilisation against abandon rate, one labelled point per policy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    cap = entry.scenario.rules.abandon_cap
    ax.axvline(100 * cap, color="red", linestyle="--", linewidth=1, label=f"cap {cap:.0%}")
    ax.axhline(100 * entry.bound, color="grey", linestyle=":", linewidth=1, label="bound")
    points: dict[tuple[float, float], list[str]] = {}
    for policy in entry.summary["policies"]:
        x = round(100 * entry.pooled_abandon(policy), 3)
        y = round(100 * entry.mean(policy, "talk_utilisation"), 3)
        points.setdefault((x, y), []).append(policy)
    right = max(100 * cap, *(x for x, _y in points)) * 1.15 + 0.1
    ax.set_xlim(-0.2, right)
    for (x, y), names in points.items():  # policies that coincide share one label
        ax.scatter([x], [y], s=30, color="tab:green" if OURS in names else "tab:blue")
        left = x > 0.6 * right  # labels near the right edge go to the left of their point
        ax.annotate(
            ", ".join(names),
            (x, y),
            textcoords="offset points",
            xytext=(-5 if left else 5, 4),
            ha="right" if left else "left",
            fontsize=8,
        )
    ax.set_xlabel("abandon rate, pooled over seeds (%)")
    ax.set_ylabel("talk utilisation (%)")
    sc, seeds = entry.scenario, entry.summary["seeds"]
    ax.set_title(f"{sc.name}: {sc.agents} agents, live {sc.answer.live:.0%}, {seeds} seed(s)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_grid(entries: Sequence[Entry], out: Path, *, header: Sequence[str]) -> Path:
    """Write ``out/pacing.md`` and, per scenario, ``out/pacing/NAME.json`` and ``.png``."""
    sub = out / "pacing"
    parts = ["# Pacing benchmark", "", *header, ""]
    found = goals(entries)
    parts += ["## Goals", "", goals_markdown(found), ""]
    for entry in entries:
        name = entry.scenario.name
        write_json(entry.summary, sub / f"{name}.json")
        plot(entry, sub / f"{name}.png")
        sc = entry.scenario
        parts += [
            f"## {name}",
            "",
            f"{sc.agents} agents, {sc.hours:g} h, live {sc.answer.live:.0%}, machine "
            f"{sc.answer.machine:.0%}; bound {entry.bound:.3f}. "
            f"[JSON](pacing/{name}.json)",
            "",
            table(entry, markdown=True),
            "",
            f"![{name}: utilisation against abandon rate](pacing/{name}.png)",
            "",
        ]
    path = out / "pacing.md"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
