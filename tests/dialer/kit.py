"""Small in-test fakes for the engine's ports, and a rig that wires them to the engine.

The engine runs on a ``ManualClock`` against ``SimTelephony`` (fates given per number,
truth kept); the lead source, result sink and agent channel are the fakes below.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from dialer.clock import ManualClock
from dialer.compliance import CampaignRules
from dialer.engine import Engine
from dialer.events import (
    AgentChanged,
    DialAnswered,
    DialEnded,
    DialPlaced,
    EngineRecord,
    Outcome,
    Party,
)
from dialer.pacing import PacingSnapshot, Progressive
from dialer.ports import Lead, NoLeads, Offer
from dialer.telephony.sim import Fate, SimTelephony

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = 3600.0

R = TypeVar("R")


def at(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0, tz: str = "") -> float:
    """Epoch seconds of a wall time (Asia/Shanghai unless ``tz``)."""
    zone = ZoneInfo(tz) if tz else SHANGHAI
    return dt.datetime(y, m, d, h, mi, s, tzinfo=zone).timestamp()


# Tuesday 2026-11-24, 10:00 in Shanghai: a workday, inside the default 08:00-21:00 window.
TUESDAY_10 = at(2026, 11, 24, 10)

PERSON = Fate(Outcome.ANSWERED, ring_s=3.0, talk_s=1000.0)
NOBODY = Fate(Outcome.NO_ANSWER, ring_s=60.0, talk_s=0.0)
BUSY = Fate(Outcome.BUSY, ring_s=1.0, talk_s=0.0)
MACHINE = Fate(Outcome.MACHINE, ring_s=3.0, talk_s=0.0)


def lead(
    ref: str,
    *,
    campaign: str = "c",
    customer: str | None = None,
    number: str | None = None,
    **kw: Any,
) -> Lead:
    """A lead whose customer and number default to its ref."""
    return Lead(ref, campaign, customer or ref, number or ref, **kw)


class Leads:
    """LeadSource: hands out its list in order; ``check`` says "dnc" for the DNC numbers.

    ``fresh`` makes a new lead (from a running number) whenever the list is empty. With
    ``requeue_s`` a lead comes back that long after its call ended, and a released lead at
    its ``not_before`` (or ``requeue_s`` later when None): an endless, realistic list.
    """

    def __init__(
        self,
        leads: Iterable[Lead] = (),
        *,
        dnc: Iterable[str] = (),
        fresh: Callable[[int], Lead] | None = None,
        requeue_s: float | None = None,
    ) -> None:
        self.queue: list[tuple[float, Lead]] = [(-1e18, x) for x in leads]
        self.dnc = set(dnc)
        self.fresh = fresh
        self.requeue_s = requeue_s
        self.made = 0
        self.claims: list[tuple[float, Lead]] = []
        self.checks: list[tuple[float, Lead]] = []
        self.released: list[tuple[Lead, str, float | None]] = []
        self._out: dict[str, Lead] = {}  # call ref -> lead
        self.clock: ManualClock | None = None  # set by make_rig

    def add(self, *leads: Lead) -> None:
        self.queue.extend((-1e18, x) for x in leads)

    def claim(self, campaign: str, now: float) -> Lead | NoLeads:
        for i, (due, x) in enumerate(self.queue):
            if x.campaign == campaign and due <= now:
                del self.queue[i]
                self.claims.append((now, x))
                return x
        if self.fresh is not None:
            self.made += 1
            x = self.fresh(self.made)
            self.claims.append((now, x))
            return x
        return NoLeads("no_leads", "the list is empty")

    def check(self, lead: Lead, now: float) -> str | None:
        self.checks.append((now, lead))
        return "dnc" if lead.number in self.dnc else None

    def release(self, lead: Lead, reason: str, not_before: float | None) -> None:
        self.released.append((lead, reason, not_before))
        if self.requeue_s is not None:
            now = self.clock.now() if self.clock is not None else 0.0
            due = not_before if not_before is not None else now + self.requeue_s
            self.queue.append((due, lead))

    # Told by the sink (the real lead sources learn the same from the records).
    def placed(self, record: DialPlaced) -> None:
        for _t, x in reversed(self.claims):
            if x.ref == record.lead:
                self._out[record.ref] = x
                break

    def ended(self, record: DialEnded) -> None:
        x = self._out.pop(record.ref, None)
        if x is not None and self.requeue_s is not None:
            self.queue.append((record.at + self.requeue_s, x))


class Sink:
    """ResultSink: keeps every record; ``watch`` callbacks see each one as it comes."""

    def __init__(self, leads: Leads | None = None) -> None:
        self.records: list[EngineRecord] = []
        self.watch: list[Callable[[EngineRecord], None]] = []
        self.leads = leads

    def record(self, record: EngineRecord) -> None:
        self.records.append(record)
        if self.leads is not None:
            if isinstance(record, DialPlaced):
                self.leads.placed(record)
            elif isinstance(record, DialEnded):
                self.leads.ended(record)
        for fn in self.watch:
            fn(record)

    def of(self, kind: type[R]) -> list[R]:
        return [r for r in self.records if isinstance(r, kind)]

    def agent_states(self, agent: str) -> list[str]:
        return [r.state for r in self.of(AgentChanged) if r.agent == agent]


class Desk:
    """AgentChannel: records offers and ends; with ``auto_wrap_s`` saves the wrap-up itself."""

    def __init__(self, clock: ManualClock, auto_wrap_s: float | None = None) -> None:
        self.clock = clock
        self.auto_wrap_s = auto_wrap_s
        self.offers: list[tuple[str, Offer]] = []
        self.ends: list[tuple[str, str, Party]] = []
        self.engine: Engine | None = None

    def offer(self, agent: str, offer: Offer) -> None:
        self.offers.append((agent, offer))

    def ended(self, agent: str, ref: str, by: Party) -> None:
        self.ends.append((agent, ref, by))
        engine = self.engine
        if self.auto_wrap_s is not None and engine is not None:
            self.clock.call_later(self.auto_wrap_s, lambda: engine.agent_ready(agent))


class Scripted:
    """A pacing policy that dials exactly what the test asks for, once."""

    name = "scripted"

    def __init__(self) -> None:
        self.pending = 0
        self.seen: list[PacingSnapshot] = []

    def dials(self, snap: PacingSnapshot) -> int:
        self.seen.append(snap)
        n, self.pending = self.pending, 0
        return n

    def observe_dial(self, resolved_after_s: float, kind: str) -> None:
        return None

    def observe_service(self, talk_s: float, wrap_s: float) -> None:
        return None


@dataclass
class Rig:
    clock: ManualClock
    tel: SimTelephony
    leads: Leads
    sink: Sink
    desk: Desk
    engine: Engine
    fates: dict[str, Fate] = field(default_factory=dict)

    def run(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def placed(self) -> list[DialPlaced]:
        return self.sink.of(DialPlaced)

    def ref_of(self, lead_ref: str) -> str:
        """The call ref of the (last) dial of lead ``lead_ref``."""
        return [p.ref for p in self.placed() if p.lead == lead_ref][-1]

    def answered_at(self, call: str) -> float:
        return next(r.at for r in self.sink.of(DialAnswered) if r.ref == call)


def make_rig(
    *,
    start: float = TUESDAY_10,
    leads: Leads | None = None,
    fates: Mapping[str, Fate] | None = None,
    default_fate: Fate = NOBODY,
    auto_wrap_s: float | None = None,
    amd_delay_s: float = 0.0,
    **engine_kw: Any,
) -> Rig:
    clock = ManualClock(start)
    table = dict(fates or {})
    tel = SimTelephony(
        clock,
        fates=lambda _ref, number: table.get(number, default_fate),
        amd_delay_s=amd_delay_s,
        keep_truth=True,
    )
    source = leads if leads is not None else Leads()
    source.clock = clock
    sink = Sink(source)
    desk = Desk(clock, auto_wrap_s)
    engine = Engine(clock=clock, telephony=tel, leads=source, sink=sink, agents=desk, **engine_kw)
    desk.engine = engine
    return Rig(clock, tel, source, sink, desk, engine, table)


def start_campaign(
    rig: Rig,
    campaign: str = "c",
    *,
    mode: str = "progressive",
    rules: CampaignRules | None = None,
    policy: Any = None,
    history: Iterable[tuple[float, bool]] = (),
) -> None:
    rig.engine.campaign_start(
        campaign,
        mode=mode,
        rules=rules or CampaignRules(),
        policy=policy if policy is not None else Progressive(),
        history=history,
    )


def clean_history(now: float, answers: int = 1000) -> list[tuple[float, bool]]:
    """Recent live answers, none abandoned: past the warm-up, far from the cap."""
    return [(now - 3600 + i * 0.1, False) for i in range(answers)]
