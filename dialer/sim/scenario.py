"""Benchmark scenarios: the TOML files PACING.md describes, parsed into frozen dataclasses.

Theory of operation
-------------------
``load(path)`` reads a scenario file with ``tomllib`` and ``parse(text, source)`` turns
its text into a ``Scenario``. Every table is read through a ``_Table`` that knows the
file and the table it reads, hands out each key with its type, range and PACING.md
default, and remembers which keys it handed out: what is left over when the table is
done is an unknown key. Whatever is wrong — bad TOML, a missing or unknown key, a wrong
type, a value out of range, shares that add up to more than one — raises ``ValueError``
naming the file, the key and the fault.

One thing is forgiven: ``[ring] no_answer_timeout_s`` below 15 s is raised to 15 s with
a warning, since the harness never rings out a call sooner (the law asks 15 s).

Times in a scenario are hours (``hours``, ``at_h``), minutes (``minutes``) or seconds
(``*_s``) since the start of the simulated day, which opens at 09:00.
"""

from __future__ import annotations

import math
import tomllib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

MIN_NO_ANSWER_S = 15.0
DAY_OPENS_MIN = 9 * 60  # the simulated day starts at 09:00 local time
MAX_HOURS = (24 * 60 - DAY_OPENS_MIN) / 60  # and must end by midnight
RING_CHOICES = ("bimodal", "lognormal")
WINDOW_CHOICES = ("30d", "24h")


@dataclass(frozen=True)
class Answer:
    live: float = 0.25
    machine: float = 0.30
    busy: float = 0.05
    invalid: float = 0.02
    by_hour: tuple[float, ...] = ()

    @property
    def others(self) -> float:
        """The share of dials that end with a machine, busy or invalid: never a person."""
        return self.machine + self.busy + self.invalid


@dataclass(frozen=True)
class Ring:
    distribution: str = "bimodal"
    mean_s: float = 8.0
    sd_s: float = 4.0
    no_answer_timeout_s: float = 25.0


@dataclass(frozen=True)
class Talk:
    mean_s: float = 120.0  # of the ordinary conversations
    cv: float = 1.0
    short_share: float = 0.0  # quick refusals, exponential with mean short_mean_s
    short_mean_s: float = 15.0

    @property
    def expected_s(self) -> float:
        return (1 - self.short_share) * self.mean_s + self.short_share * self.short_mean_s


@dataclass(frozen=True)
class Wrap:
    mean_s: float = 15.0
    cv: float = 0.0


@dataclass(frozen=True)
class Amd:
    enabled: bool = False
    false_positive: float = 0.03
    false_negative: float = 0.10
    delay_s: float = 2.0


@dataclass(frozen=True)
class Rules:
    abandon_cap: float = 0.03
    connect_limit_s: float = 2.0
    window: str = "30d"


@dataclass(frozen=True)
class Break:
    at_h: float
    minutes: float
    share: float = 0.5
    staggered: bool = True


@dataclass(frozen=True)
class Shock:
    at_h: float
    minutes: float
    live_multiplier: float = 0.5

    @property
    def start_s(self) -> float:
        return self.at_h * 3600

    @property
    def end_s(self) -> float:
        return self.at_h * 3600 + self.minutes * 60


@dataclass(frozen=True)
class Scenario:
    name: str
    hours: float = 8.0
    agents: int = 20
    seed: int = 1
    answer: Answer = Answer()
    ring: Ring = Ring()
    talk: Talk = Talk()
    wrap: Wrap = Wrap()
    amd: Amd = Amd()
    rules: Rules = Rules()
    breaks: tuple[Break, ...] = ()
    shocks: tuple[Shock, ...] = ()

    @property
    def day_s(self) -> float:
        return self.hours * 3600

    def live_share(self, t_s: float) -> float:
        """The share of dials a person answers, ``t_s`` seconds into the day."""
        share = self.answer.live
        by_hour = self.answer.by_hour
        if by_hour:
            share *= by_hour[min(len(by_hour) - 1, max(0, int(t_s // 3600)))]
        for shock in self.shocks:
            if shock.start_s <= t_s < shock.end_s:
                share *= shock.live_multiplier
        return share

    def peak_live_share(self) -> float:
        """The highest live share of the day (it changes only at hours and shock edges)."""
        edges = [h * 3600.0 for h in range(math.ceil(self.hours))]
        edges += [s.start_s for s in self.shocks] + [s.end_s for s in self.shocks]
        return max(self.live_share(t) for t in edges if 0 <= t < self.day_s)


# --- reading -------------------------------------------------------------------------


class _Table:
    """One TOML table of a scenario file; every read names the file and the key on error."""

    def __init__(self, source: str, where: str, data: object) -> None:
        self.source = source
        self.where = where
        if not isinstance(data, dict):
            self.fail(None, f"must be a table, not {_show(data)}")
        self.data: dict[str, Any] = data
        self.used: set[str] = set()

    def label(self, key: str | None) -> str:
        if key is None:
            return self.where or "the file"
        return f"{self.where} {key}" if self.where else key

    def fail(self, key: str | None, what: str) -> NoReturn:
        raise ValueError(f"{self.source}: {self.label(key)}: {what}")

    def _get(self, key: str, default: object) -> object:
        self.used.add(key)
        if key in self.data:
            return self.data[key]
        if default is _REQUIRED:
            self.fail(key, "is required")
        return default

    def number(
        self,
        key: str,
        default: float | object = None,
        *,
        lo: float | None = None,
        hi: float | None = None,
        above: float | None = None,
    ) -> float:
        value = self._get(key, _REQUIRED if default is None else default)
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            self.fail(key, f"must be a number, not {_show(value)}")
        number = float(value)
        if lo is not None and number < lo:
            self.fail(key, f"must be at least {lo:g}, not {number:g}")
        if hi is not None and number > hi:
            self.fail(key, f"must be at most {hi:g}, not {number:g}")
        if above is not None and number <= above:
            self.fail(key, f"must be above {above:g}, not {number:g}")
        return number

    def share(self, key: str, default: float | object = None) -> float:
        return self.number(key, default, lo=0.0, hi=1.0)

    def integer(self, key: str, default: int, *, lo: int) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"must be a whole number, not {_show(value)}")
        if value < lo:
            self.fail(key, f"must be at least {lo}, not {value}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false, not {_show(value)}")
        return value

    def text(self, key: str, default: str, choices: tuple[str, ...] = ()) -> str:
        value = self._get(key, default)
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"must be a non-empty string, not {_show(value)}")
        if choices and value not in choices:
            self.fail(key, f"must be one of {', '.join(map(repr, choices))}, not {value!r}")
        return value

    def numbers(self, key: str) -> tuple[float, ...]:
        value = self._get(key, [])
        if not isinstance(value, list):
            self.fail(key, f"must be a list of numbers, not {_show(value)}")
        out: list[float] = []
        for n, item in enumerate(value, 1):
            if isinstance(item, bool) or not isinstance(item, int | float) or item < 0:
                self.fail(key, f"item {n} must be a number of at least 0, not {_show(item)}")
            out.append(float(item))
        return tuple(out)

    def table(self, key: str) -> _Table:
        return _Table(self.source, f"[{key}]", self._get(key, {}))

    def tables(self, key: str) -> list[_Table]:
        value = self._get(key, [])
        if not isinstance(value, list):
            self.fail(key, f"must be an array of tables ([[{key}]]), not {_show(value)}")
        return [_Table(self.source, f"[[{key}]] #{n}", item) for n, item in enumerate(value, 1)]

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            self.fail(unknown[0], "unknown key")


_REQUIRED = object()


def _show(value: object) -> str:
    return f"{type(value).__name__} {value!r}"


def load(path: str | Path) -> Scenario:
    """Read and check the scenario file at ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the scenario: {exc.strerror}") from None
    return parse(text, str(path), default_name=path.stem)


def parse(text: str, source: str = "<scenario>", *, default_name: str = "scenario") -> Scenario:
    """Check the scenario ``text`` (read from ``source``) and build its ``Scenario``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{source}: not valid TOML: {exc}") from None
    top = _Table(source, "", data)
    name = top.text("name", default_name)
    hours = top.number("hours", 8.0, above=0.0, hi=MAX_HOURS)
    if abs(hours * 60 - round(hours * 60)) > 1e-9:
        top.fail("hours", f"must be a whole number of minutes, not {hours:g} h")
    agents = top.integer("agents", 20, lo=1)
    seed = top.integer("seed", 1, lo=0)
    answer = _answer(top.table("answer"), hours)
    ring = _ring(top.table("ring"))
    talk = _talk(top.table("talk"))
    wrap = _wrap(top.table("wrap"))
    amd = _amd(top.table("amd"))
    rules = _rules(top.table("rules"))
    breaks = tuple(_break(t, hours) for t in top.tables("breaks"))
    shocks = tuple(_shock(t, hours) for t in top.tables("shocks"))
    top.done()
    scenario = Scenario(
        name, hours, agents, seed, answer, ring, talk, wrap, amd, rules, breaks, shocks
    )
    peak = scenario.peak_live_share()
    if peak > 1 - answer.others + 1e-9:
        top.fail(
            "[answer] live",
            f"with by_hour and shocks the live share reaches {peak:.3f}, more than the "
            f"{1 - answer.others:.3f} that machine, busy and invalid leave",
        )
    return scenario


def _answer(t: _Table, hours: float) -> Answer:
    answer = Answer(
        t.share("live", 0.25),
        t.share("machine", 0.30),
        t.share("busy", 0.05),
        t.share("invalid", 0.02),
        t.numbers("by_hour"),
    )
    t.done()
    total = answer.live + answer.others
    if total > 1 + 1e-9:
        t.fail(None, f"live + machine + busy + invalid must be at most 1, not {total:g}")
    if answer.by_hour and len(answer.by_hour) != math.ceil(hours):
        t.fail(
            "by_hour",
            f"needs one multiplier per simulated hour ({math.ceil(hours)}), "
            f"not {len(answer.by_hour)}",
        )
    return answer


def _ring(t: _Table) -> Ring:
    distribution = t.text("distribution", "bimodal", RING_CHOICES)
    mean_s = t.number("mean_s", 8.0, above=0.0)
    sd_s = t.number("sd_s", 4.0, lo=0.0)
    timeout = t.number("no_answer_timeout_s", 25.0, above=0.0)
    t.done()
    if timeout < MIN_NO_ANSWER_S:
        warnings.warn(
            f"{t.source}: {t.label('no_answer_timeout_s')}: {timeout:g} s is below "
            f"{MIN_NO_ANSWER_S:g} s; the harness rings {MIN_NO_ANSWER_S:g} s",
            UserWarning,
            stacklevel=3,
        )
        timeout = MIN_NO_ANSWER_S
    return Ring(distribution, mean_s, sd_s, timeout)


def _talk(t: _Table) -> Talk:
    talk = Talk(
        t.number("mean_s", 120.0, above=0.0),
        t.number("cv", 1.0, lo=0.0),
        t.share("short_share", 0.0),
        t.number("short_mean_s", 15.0, above=0.0),
    )
    t.done()
    return talk


def _wrap(t: _Table) -> Wrap:
    wrap = Wrap(t.number("mean_s", 15.0, lo=0.0), t.number("cv", 0.0, lo=0.0))
    t.done()
    return wrap


def _amd(t: _Table) -> Amd:
    amd = Amd(
        t.flag("enabled", False),
        t.share("false_positive", 0.03),
        t.share("false_negative", 0.10),
        t.number("delay_s", 2.0, lo=0.0),
    )
    t.done()
    if amd.enabled and amd.delay_s <= 0:
        t.fail("delay_s", "must be above 0 when detection is enabled")
    return amd


def _rules(t: _Table) -> Rules:
    rules = Rules(
        t.number("abandon_cap", 0.03, above=0.0, hi=1.0),
        t.number("connect_limit_s", 2.0, above=0.0),
        t.text("window", "30d", WINDOW_CHOICES),
    )
    t.done()
    return rules


def _break(t: _Table, hours: float) -> Break:
    brk = Break(
        t.number("at_h", lo=0.0),
        t.number("minutes", above=0.0),
        t.share("share", 0.5),
        t.flag("staggered", True),
    )
    t.done()
    if brk.at_h >= hours:
        t.fail("at_h", f"must fall inside the day (before {hours:g} h), not {brk.at_h:g}")
    return brk


def _shock(t: _Table, hours: float) -> Shock:
    shock = Shock(
        t.number("at_h", lo=0.0),
        t.number("minutes", above=0.0),
        t.number("live_multiplier", 0.5, lo=0.0),
    )
    t.done()
    if shock.at_h >= hours:
        t.fail("at_h", f"must fall inside the day (before {hours:g} h), not {shock.at_h:g}")
    return shock
