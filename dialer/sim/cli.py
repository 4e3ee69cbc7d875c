"""``python -m dialer.sim``: run the pacing benchmark of PACING.md.

Theory of operation
-------------------
``run SCENARIO.toml --policy NAME [--policy NAME ...] --seeds N [--json OUT.json]``
simulates each policy on seeds ``seed`` ... ``seed + N - 1`` of the scenario, prints a
table and writes PACING.md's JSON. ``gap_closed`` needs the progressive run of every
seed: it is run too when not asked for, but only the policies asked for are shown.

``grid DIR --seeds N --out bench/results`` runs every ``*.toml`` of ``DIR`` with all the
policies of ``GRID_POLICIES`` and writes ``pacing.md``, and per scenario a JSON and a
plot, through ``dialer.sim.report``.

Both take ``--jobs J`` (default 1): runs are spread over J processes, the longest first.
Progress goes to stderr, one line per finished run. A bad scenario or policy name ends
the command with status 2 and the reason.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from dialer.sim import harness, report
from dialer.sim.scenario import Scenario, load

GRID_POLICIES = (
    "preview",
    "progressive",
    "ratio:1.5",
    "ratio:3",
    "vicidial-hard",
    "vicidial-tapered",
    "predictive",
    "bound",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dialer.sim", description="The predictive-dialing benchmark (PACING.md)."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run policies on one scenario")
    run.add_argument("scenario", type=Path)
    run.add_argument("--policy", dest="policies", action="append", required=True, metavar="NAME")
    run.add_argument("--seeds", type=int, default=1)
    run.add_argument("--json", type=Path, metavar="OUT.json")
    run.add_argument("--jobs", type=int, default=1)
    grid = commands.add_parser("grid", help="run every scenario of a directory with all policies")
    grid.add_argument("directory", type=Path)
    grid.add_argument("--seeds", type=int, default=1)
    grid.add_argument("--out", type=Path, default=Path("bench/results"))
    grid.add_argument("--jobs", type=int, default=1)
    return parser


def _check_policies(policies: Sequence[str]) -> None:
    for policy in policies:
        if policy != harness.BOUND:
            harness.engine_policy(policy)  # raises ValueError on an unknown name


def _progress(total: int) -> harness.ProgressFn:
    count = 0

    def show(done: harness.Done) -> None:
        nonlocal count
        count += 1
        scenario, policy, seed, m = done
        print(
            f"[{count}/{total}] {scenario.name} {policy} seed {seed}: "
            f"util {m['talk_utilisation']:.3f} abandon {m['abandon_rate']:.2%} "
            f"({m['wall_s']:.1f} s)",
            file=sys.stderr,
            flush=True,
        )

    return show


def cmd_run(args: argparse.Namespace) -> int:
    try:
        scenario = load(args.scenario)
        policies = list(dict.fromkeys(args.policies))
        _check_policies(policies)
    except ValueError as exc:
        return _fail(str(exc))
    tasks = harness.tasks_for(scenario, policies, args.seeds)
    done = harness.run_tasks(tasks, args.jobs, _progress(len(tasks)))
    summary = harness.summarise(scenario, policies, args.seeds, done)
    print(f"{scenario.name}: {args.seeds} seed(s), bound {harness.bound_utilisation(scenario):.3f}")
    print(report.table(report.Entry(scenario, summary)))
    if args.json:
        report.write_json(summary, args.json)
    return 0


def _grid_scenarios(directory: Path) -> list[Scenario]:
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise ValueError(f"{directory}: no scenario files (*.toml)")
    scenarios = [load(f) for f in files]
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"{directory}: two scenarios share a name")
    return scenarios


def cmd_grid(args: argparse.Namespace) -> int:
    try:
        scenarios = _grid_scenarios(args.directory)
    except ValueError as exc:
        return _fail(str(exc))
    tasks = [t for s in scenarios for t in harness.tasks_for(s, GRID_POLICIES, args.seeds)]
    started = time.perf_counter()
    done = harness.run_tasks(tasks, args.jobs, _progress(len(tasks)))
    elapsed = time.perf_counter() - started
    entries = [
        report.Entry(s, harness.summarise(s, GRID_POLICIES, args.seeds, done)) for s in scenarios
    ]
    header = [
        f"`python -m dialer.sim grid {args.directory} --seeds {args.seeds} --jobs {args.jobs}`: "
        f"{len(scenarios)} scenarios x {len(GRID_POLICIES)} policies x {args.seeds} seed(s), "
        f"{elapsed / 60:.1f} min wall time.",
        "",
        "Abandon is pooled over the seeds (abandons / live answers by the legal rule), "
        "worst day is the worst seed; silent, early and 72h redials are totals over the "
        "seeds; wall s is the slowest seed. Targets are checked on the predictive policy.",
    ]
    path = report.write_grid(entries, args.out, header=header)
    print(report.goals_markdown(report.goals(entries)))
    print(f"wrote {path}", file=sys.stderr)
    return 0


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.seeds < 1 or args.jobs < 1:
        return _fail("--seeds and --jobs must be at least 1")
    return cmd_run(args) if args.command == "run" else cmd_grid(args)
