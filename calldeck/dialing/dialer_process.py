"""A dialer process: leases on auto-dialed campaigns, the engine that dials them, and the
agents who take the calls.

Theory of operation
-------------------
Each progressive or predictive campaign that can be dialed is worked by one dialer
process at a time, through its ``DialerLease`` row. Every ``lease_s / 3`` seconds a
process

* renews its leases (an UPDATE where the owner is itself: a lease it lost is no longer
  renewed, and the campaign stops);
* stops campaigns no longer dialable (paused, finished, back to preview) and gives their
  leases and undialed leads back;
* takes free or lapsed leases (``expires_at`` in the past) with a conditional UPDATE on
  the owner and expiry it read, so of two processes only one wins. A lease taken over
  from another owner — a process that crashed or was killed — first ends that owner's
  open calls of the campaign (``engine_ports.calls_end_for_dialer``) and gives back the
  leads it held undialed (``leads.leads_release_for_dialer``); then the engine starts the
  campaign with rules built from the database.

Every ``sync_s`` seconds it brings the engine's agents in line with the desk: an agent
whose presence is READY and who is assigned today to a campaign this process holds is
logged in to the engine (or made ready after a wrap-up or a pause); a paused or previewing
agent is paused; a logged-out one, or one no longer assigned, logged out. An agent who
hung up at the desk has the engine's call hung up. Desk actions in the same process
``poke`` the sync so it runs at once. (Assignments are read again every 30 seconds.)

All of it runs on the engine's clock and loop; database work goes through the ports'
``DbThread``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from calldeck.accounts.models import User
from calldeck.calls.models import AgentPresence, AgentState, Call, CallOutcome
from calldeck.campaigns.models import DIALABLE_STATUSES, Campaign, Holiday, HolidayKind
from calldeck.dialing import leads
from calldeck.dialing.engine_ports import (
    DbAgentChannel,
    DbLeadSource,
    DbResultSink,
    DbThread,
    calls_end_for_dialer,
    ref_prefix,
    to_dt,
)
from calldeck.dialing.models import DialerLease
from dialer import states
from dialer.compliance import CallingHours, CampaignRules, Holidays
from dialer.engine import Engine
from dialer.pacing import policy_from_name
from dialer.ports import Clock, Telephony, Timer

log = logging.getLogger(__name__)

A = states.AgentState
AUTO_MODES = tuple(str(m) for m in leads.AUTO_DIAL_MODES)
# How long the agent sync trusts an agent's assignments of the day before reading them again.
ASSIGNMENTS_TTL_S = 30.0


def default_owner(prefix: str = "dialer") -> str:
    return f"{prefix}-{socket.gethostname()}-{os.getpid()}"[: leads.DIALER_OWNER_MAX]


# --- rules from the database ----------------------------------------------------------


def _minutes(t: dt.time, *, end: bool = False) -> int:
    m = t.hour * 60 + t.minute
    # A window ending 23:59:59 ends at midnight: the engine counts whole minutes.
    return m + 1 if end and (t.second or t.microsecond) else m


def campaign_rules(campaign: Campaign, now: dt.datetime) -> CampaignRules:
    """The engine's rules for ``campaign``: windows, holidays, abandon cap, limits."""
    windows: dict[int, list[tuple[int, int]]] = {d: [] for d in range(7)}
    for w in campaign.windows.all():
        windows[w.weekday].append((_minutes(w.start), _minutes(w.end, end=True)))
    today = now.date()
    days = Holiday.objects.filter(
        day__gte=today - dt.timedelta(days=2), day__lte=today + dt.timedelta(days=40)
    )
    holidays = Holidays(
        rest=frozenset(h.day for h in days if h.kind == HolidayKind.HOLIDAY),
        workdays=frozenset(h.day for h in days if h.kind == HolidayKind.WORKDAY),
    )
    return CampaignRules(
        hours=CallingHours(
            windows={d: tuple(sorted(spans)) for d, spans in windows.items()},
            tz=settings.TIME_ZONE,
            holidays=holidays,
        ),
        abandon_cap=float(campaign.abandon_cap_pct) / 100,
        abandon_target=float(campaign.abandon_target_pct) / 100,
        connect_limit_s=float(campaign.connect_limit_s),
        ring_timeout_s=float(campaign.ring_timeout_s),
        abandon_window=campaign.abandon_window,
        daily_contact_limit=settings.CALLDECK_DAILY_CONTACT_LIMIT,
    )


def _window_answers(campaign: Campaign, now: dt.datetime) -> QuerySet[Call]:
    """The campaign's answered and abandoned calls in its rolling abandon window."""
    span = dt.timedelta(days=30) if campaign.abandon_window == "30d" else dt.timedelta(days=1)
    return Call.objects.filter(
        campaign=campaign,
        answered_at__gt=now - span,
        answered_at__lte=now,
        outcome__in=[CallOutcome.ANSWERED, CallOutcome.ABANDONED],
    )


def campaign_history(campaign: Campaign, now: dt.datetime) -> list[tuple[float, bool]]:
    """(answered at, abandoned) of the campaign's live answers in its abandon window."""
    rows = _window_answers(campaign, now).values_list("answered_at", "outcome")
    return [(at.timestamp(), outcome == CallOutcome.ABANDONED) for at, outcome in rows if at]


@dataclass(frozen=True)
class AbandonRate:
    """The campaign's live answers and abandons in its rolling window, against its cap."""

    window: str
    answers: int
    abandons: int
    cap_pct: float

    @property
    def rate_pct(self) -> float | None:
        return 100.0 * self.abandons / self.answers if self.answers else None

    @property
    def over_cap(self) -> bool:
        rate = self.rate_pct
        return rate is not None and rate > self.cap_pct


def campaign_abandon_rate(campaign: Campaign, now: dt.datetime) -> AbandonRate:
    """What the engine measures, from the call records (machines found by agents excluded)."""
    calls = _window_answers(campaign, now).exclude(disposition__code=MACHINE_DISPOSITION)
    counts = calls.aggregate(
        answers=Count("pk"), abandons=Count("pk", filter=Q(outcome=CallOutcome.ABANDONED))
    )
    return AbandonRate(
        str(campaign.get_abandon_window_display()),
        counts["answers"],
        counts["abandons"],
        float(campaign.abandon_cap_pct),
    )


@dataclass(frozen=True)
class _Start:
    campaign: str
    mode: str
    rules: CampaignRules
    history: list[tuple[float, bool]]


@dataclass
class _LeasePlan:
    start: list[_Start] = field(default_factory=list)
    stop: list[str] = field(default_factory=list)


# The standard disposition an agent records for an answering machine (campaigns.defaults).
MACHINE_DISPOSITION = "voicemail"


@dataclass(frozen=True)
class _AgentRow:
    agent: str
    state: str
    campaigns: dict[str, int]
    uri: str


# --- the process ------------------------------------------------------------------------


class DialerProcess:
    def __init__(
        self,
        owner: str,
        clock: Clock,
        telephony: Telephony,
        *,
        lease_s: float = 15.0,
        sync_s: float = 1.0,
        db: DbThread | None = None,
        inline: bool = False,
        tick_s: float = 1.0,
    ) -> None:
        if not 0 < len(owner) <= leads.DIALER_OWNER_MAX:
            raise ValueError(f"a dialer owner is 1 to {leads.DIALER_OWNER_MAX} characters")
        self.owner = owner
        self.clock = clock
        self.telephony = telephony
        self.lease_s = lease_s
        self.sync_s = sync_s
        self.db = db or DbThread(inline=inline)
        self.lead_source = DbLeadSource(owner, self.db, clock)
        self.sink = DbResultSink(owner, self.db)
        self.channel = DbAgentChannel(owner, self.db, clock)
        # The owner's name leads every ref (a takeover finds the calls by it); the boot
        # time keeps refs of a restarted process with the same name apart.
        boot = f"{int(clock.now() * 1000) % 10**10:x}"
        refs = (f"{ref_prefix(owner)}{boot}.{n}" for n in itertools.count(1))
        self.engine = Engine(
            clock=clock,
            telephony=telephony,
            leads=self.lead_source,
            sink=self.sink,
            agents=self.channel,
            tick_s=tick_s,
            refs=refs,
        )
        self.held: dict[str, str] = {}  # campaign -> mode
        self._agents: dict[str, dict[str, int]] = {}  # logged in to the engine
        self._timers: dict[str, Timer] = {}
        self._assignments: dict[int, tuple[float, dict[str, int]]] = {}  # agent -> (until, ...)
        self._machines: set[str] = set()  # refs whose wrap-up said answering machine
        self.running = False
        self.dialing = False

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Start dialing; on the engine's loop."""
        self.running = True
        self.dialing = True
        self.engine.start()
        self._every("leases", self.lease_s / 3, self.poll_leases)
        self._every("agents", self.sync_s, self.sync_agents)

    def stop_dialing(self) -> None:
        """Place no more calls; calls in progress play out and agents finish them."""
        self.dialing = False
        self.engine.stop()
        for campaign in self.held:
            self.engine.campaign_stop(campaign)

    def finish(self) -> None:
        """Give everything back: end the calls still open, release leads and leases."""
        self.stop_dialing()
        self.running = False
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self.db.run(self._release_all, self.clock.now())
        self.held.clear()

    def active_calls(self) -> int:
        count = getattr(self.telephony, "active_calls", None)
        return int(count()) if callable(count) else 0

    def poke(self) -> None:
        """Sync the agents soon (a desk action in this process changed one)."""
        if self.running:
            self.clock.call_later(0, self._safe(self.sync_agents))

    def _safe(self, fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except Exception:
                log.exception("dialer %s: %s failed", self.owner, fn.__name__)

        return run

    def _every(self, name: str, seconds: float, fn: Callable[[], None]) -> None:
        def run() -> None:
            if not self.running:
                return
            self._safe(fn)()
            if self.running:
                self._timers[name] = self.clock.call_later(seconds, run)

        run()

    # --- leases ------------------------------------------------------------------------

    def poll_leases(self) -> None:
        plan = self.db.run(self._lease_job, self.clock.now(), dict(self.held), self.dialing)
        for campaign in plan.stop:
            log.info("dialer %s: stops campaign %s", self.owner, campaign)
            self.engine.campaign_stop(campaign)
            self.held.pop(campaign, None)
        for start in plan.start:
            log.info("dialer %s: dials campaign %s (%s)", self.owner, start.campaign, start.mode)
            self.engine.campaign_start(
                start.campaign,
                mode=start.mode,
                rules=start.rules,
                policy=policy_from_name(start.mode),
                history=start.history,
            )
            self.held[start.campaign] = start.mode
        if plan.start or plan.stop:
            self.sync_agents()

    def _lease_job(self, now_s: float, held: dict[str, str], dialing: bool) -> _LeasePlan:
        now = to_dt(now_s)
        until = now + dt.timedelta(seconds=self.lease_s)
        plan = _LeasePlan()
        mine = DialerLease.objects.filter(owner=self.owner, campaign_id__in=[int(c) for c in held])
        mine.update(expires_at=until, renewed_at=now)
        kept = {str(pk) for pk in mine.values_list("campaign_id", flat=True)}
        campaigns = {str(c.pk): c for c in Campaign.objects.filter(pk__in=[int(c) for c in held])}
        for cid, mode in held.items():
            campaign = campaigns.get(cid)
            if cid not in kept:
                log.warning("dialer %s: lost the lease of campaign %s", self.owner, cid)
                plan.stop.append(cid)
            elif (
                campaign is None or not campaign.is_dialable or campaign.dial_mode not in AUTO_MODES
            ):
                plan.stop.append(cid)
                self._give_back(int(cid), now)
            elif campaign.dial_mode != mode:
                plan.start.append(self._start_of(campaign, now))
        if not dialing:  # stopping: keep the leases until the calls in progress are over
            return plan
        candidates = (
            Campaign.objects.filter(status__in=DIALABLE_STATUSES, dial_mode__in=AUTO_MODES)
            .exclude(pk__in=[int(c) for c in held])
            .order_by("pk")
        )
        for campaign in candidates:
            lease = self._lease_row(campaign, now)
            if lease is None:
                continue
            previous = lease.owner
            if previous and previous != self.owner and lease.expires_at >= now:
                continue  # another process holds it
            won = DialerLease.objects.filter(
                pk=lease.pk, owner=previous, expires_at=lease.expires_at
            ).update(
                owner=self.owner, expires_at=until, renewed_at=now, idle_reason="", idle_message=""
            )
            if not won:
                continue
            if previous:
                # Its owner stopped without ending its calls or giving its leads back.
                ended = calls_end_for_dialer(campaign_id=campaign.pk, owner=previous, now=now)
                released = leads.leads_release_for_dialer(
                    campaign=campaign, owner=previous, now=now
                )
                log.warning(
                    "dialer %s: took campaign %s over from %s (%s calls ended, %s leads back)",
                    self.owner,
                    campaign.pk,
                    previous,
                    ended,
                    released,
                )
            plan.start.append(self._start_of(campaign, now))
        return plan

    def _lease_row(self, campaign: Campaign, now: dt.datetime) -> DialerLease | None:
        lease = DialerLease.objects.filter(campaign=campaign).first()
        if lease is not None:
            return lease
        try:
            with transaction.atomic():
                return DialerLease.objects.create(campaign=campaign, owner="", expires_at=now)
        except IntegrityError:
            return DialerLease.objects.filter(campaign=campaign).first()

    def _start_of(self, campaign: Campaign, now: dt.datetime) -> _Start:
        return _Start(
            str(campaign.pk),
            campaign.dial_mode,
            campaign_rules(campaign, now),
            campaign_history(campaign, now),
        )

    def _give_back(self, campaign_id: int, now: dt.datetime) -> None:
        """Release the lease and the undialed leads of a campaign this process stops."""
        DialerLease.objects.filter(campaign_id=campaign_id, owner=self.owner).update(
            owner="", expires_at=now
        )
        campaign = Campaign.objects.filter(pk=campaign_id).first()
        if campaign is not None:
            leads.leads_release_for_dialer(campaign=campaign, owner=self.owner, now=now)

    def _release_all(self, now_s: float) -> None:
        now = to_dt(now_s)
        for lease in DialerLease.objects.filter(owner=self.owner):
            calls_end_for_dialer(campaign_id=lease.campaign_id, owner=self.owner, now=now)
            self._give_back(lease.campaign_id, now)

    # --- agents ------------------------------------------------------------------------

    def sync_agents(self) -> None:
        current = dict(self.channel.current)
        rows, ended = self.db.run(
            self._agents_job, self.clock.now(), list(self.held), list(current.values())
        )
        seen: set[str] = set()
        for row in rows:
            seen.add(row.agent)
            self._sync_agent(row, current.get(row.agent) in ended)
        for agent in list(self._agents):
            if agent not in seen:
                self._logout(agent)

    def _logout(self, agent: str) -> None:
        if self.engine.agent_state(agent) is not A.LOGGED_OUT:
            self.engine.agent_logout(agent)
        if self.engine.agent_state(agent) is A.LOGGED_OUT:
            self._agents.pop(agent, None)

    def _sync_agent(self, row: _AgentRow, call_ended_at_desk: bool) -> None:
        engine = self.engine
        aid = row.agent
        known = aid in self._agents
        state = engine.agent_state(aid) if known else A.LOGGED_OUT
        if state is A.TALKING and call_ended_at_desk:
            # The agent hung up at the desk: the engine ends the call on the line.
            engine.agent_hangup(aid)
            state = engine.agent_state(aid)
        if not row.campaigns:
            if known:
                self._logout(aid)
            return
        if row.state == AgentState.READY:
            if state is A.LOGGED_OUT or self._agents.get(aid) != row.campaigns:
                engine.agent_login(aid, campaigns=row.campaigns, uri=row.uri)
                self._agents[aid] = dict(row.campaigns)
                state = engine.agent_state(aid)
            if state is A.WRAPUP:
                engine.agent_ready(aid, machine=self.channel.current.get(aid) in self._machines)
            elif state is A.PAUSED:
                engine.agent_ready(aid)
        elif row.state in (AgentState.PAUSED, AgentState.PREVIEW, AgentState.DIALING):
            if state in (A.READY, A.TALKING):
                engine.agent_pause(aid)
            elif state is A.WRAPUP:
                engine.agent_pause(aid)  # pending: paused once the wrap-up is done
                engine.agent_ready(aid)

    def _agents_job(
        self, now_s: float, held: list[str], refs: list[str]
    ) -> tuple[list[_AgentRow], set[str]]:
        now = to_dt(now_s)
        rows: list[_AgentRow] = []
        held_ids = set(held)
        presences = (
            AgentPresence.objects.exclude(state=AgentState.LOGGED_OUT)
            .select_related("agent")
            .order_by("agent_id")
        )
        for presence in presences if held_ids else []:
            agent: User = presence.agent
            cached = self._assignments.get(agent.pk)
            if cached is None or cached[0] <= now_s:
                # Assignments change seldom: read again every ASSIGNMENTS_TTL_S seconds.
                todays = {str(c.pk): prio for c, prio in leads.todays_campaigns(agent, now)}
                cached = (now_s + ASSIGNMENTS_TTL_S, todays)
                self._assignments[agent.pk] = cached
            campaigns = {c: prio for c, prio in cached[1].items() if c in held_ids}
            rows.append(
                _AgentRow(
                    str(agent.pk),
                    presence.state,
                    campaigns,
                    agent.sip_uri or f"sip:{agent.username}@agents.local",
                )
            )
        ended = set(
            Call.objects.filter(telephony_ref__in=refs, ended_at__isnull=False).values_list(
                "telephony_ref", flat=True
            )
        )
        # Wrap-ups that say "answering machine": the engine takes the answer back out of
        # the campaign's abandon window (a machine is no live answer).
        self._machines = set(
            Call.objects.filter(
                telephony_ref__in=refs, disposition__code=MACHINE_DISPOSITION
            ).values_list("telephony_ref", flat=True)
        )
        return rows, ended


# --- the dialer inside the web process (`make demo`) -----------------------------------

_embedded: DialerProcess | None = None
_lock = threading.Lock()


def start_embedded(clock: Clock, telephony: Telephony, call_soon: Callable[..., Any]) -> None:
    """Start one dialer process in this (web) process, on the runtime's loop."""
    global _embedded
    with _lock:
        if _embedded is not None:
            return
        _embedded = DialerProcess(default_owner("web"), clock, telephony)
        call_soon(_embedded.start)
        log.info("embedded dialer %s started", _embedded.owner)


def embedded() -> DialerProcess | None:
    return _embedded


def install_embedded(process: DialerProcess | None) -> None:
    """Tests: make ``process`` the one desk actions poke."""
    global _embedded
    with _lock:
        _embedded = process


def poke() -> None:
    """A desk action changed an agent: the dialer of this process syncs at once."""
    process = _embedded
    if process is not None:
        process.poke()


def waiting_message() -> str:
    return _("Waiting for the next call…")
