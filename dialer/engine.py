"""The dialing engine: campaigns, agents and calls, paced by a policy, bound by compliance.

Theory of operation
-------------------
The engine owns the campaigns it was given (``campaign_start``) and the agents who log in
to it (``agent_login``). Once a second (``tick_s``, on the injected clock) it asks each
running campaign's pacing policy how many lines to dial, takes that many leads from the
lead source, checks each against the compliance rules (calling window in the customer's
local time, daily contact limit, 72-hour hold after an abandon) and the lead source's
dial-time check (DNC, blacklist, consent), and places the calls through the telephony
port. A lead refused at dial time goes back to the lead source with the reason.

When a call is answered by a person, the longest-waiting ready agent who serves the
campaign is joined to it. Without one, the call waits — at most ``connect_limit_s``
minus the time a bridge takes — for an agent to become ready; then it is abandoned: the
customer hears the recorded message (``Telephony.play``), the abandon counts in the
campaign's rolling window, and the customer is held for 72 hours. An agent who becomes
ready takes the oldest waiting call of the campaign they rank highest (assignment
priority, lower number first).

Whatever the policy asks, the engine never has more lines out than the campaign's
abandon budget allows (``compliance.surplus_allowed``), and it falls back to one line per
ready agent when the window's measured abandon rate is within ``brake_margin`` of the cap.

Agent states follow ``dialer.states``; every change, and every step of every call, is
reported to the result sink. The engine never reads the wall clock: time comes from the
``Clock`` port, so the same code runs live (``LoopClock``) and in the simulator
(``ManualClock``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from dialer import states
from dialer.compliance import (
    AbandonWindow,
    CampaignRules,
    ContactLedger,
    dial_refusal,
    surplus_allowed,
    wilson_upper,
)
from dialer.events import (
    AgentChanged,
    CallAnswered,
    CallBridged,
    CallBridgeFailed,
    CallHungUp,
    CallNotConnected,
    CallRinging,
    CampaignIdle,
    DialAbandoned,
    DialAnswered,
    DialConnected,
    DialEnded,
    DialPlaced,
    DialRinging,
    LeadRefused,
    Outcome,
    Party,
    TelephonyEvent,
)
from dialer.pacing import PacingPolicy, PacingSnapshot
from dialer.ports import (
    AgentChannel,
    Clock,
    Lead,
    LeadSource,
    NoLeads,
    Offer,
    ResultSink,
    Telephony,
    Timer,
)

A = states.AgentState
AE = states.AgentEvent
C = states.CallState
CE = states.CallEvent

MODES = ("preview", "progressive", "predictive")
# Lines beyond ready agents, whatever the policy and the budget say.
MAX_LINES_PER_AGENT = 12


@dataclass(slots=True, eq=False)
class _Agent:
    id: str
    uri: str
    campaigns: dict[str, int]  # campaign -> priority (lower first)
    state: states.AgentState = A.READY
    since: float = 0.0
    call: _Call | None = None
    pause_pending: bool = False
    logout_pending: bool = False
    wrap_started: float = 0.0
    talk_s: float = 0.0


@dataclass(slots=True, eq=False)
class _Call:
    ref: str
    lead: Lead
    campaign: _Campaign
    dialed_at: float
    state: states.CallState = C.DIALING
    agent: _Agent | None = None  # reserved (preview) or joined
    answered_at: float | None = None
    bridged_at: float | None = None
    human: bool = False
    amd_machine: bool = False  # the detector said machine
    abandoned: bool = False
    deadline: Timer | None = None


@dataclass(slots=True, eq=False)
class _Campaign:
    id: str
    mode: str
    rules: CampaignRules
    policy: PacingPolicy
    window: AbandonWindow
    running: bool = True
    lines: dict[str, _Call] = field(default_factory=dict)  # not answered yet
    dialed: dict[str, float] = field(default_factory=dict)  # the same lines: when dialed
    waiting: dict[str, _Call] = field(default_factory=dict)  # answered, no agent yet
    resolved: int = 0  # dials whose first answer / failure is known
    humans: int = 0
    joined: int = 0  # answers taken for a person and joined to an agent
    joined_persons: int = 0  # ... of which the agent found a person
    amd_joined: int = 0  # machine verdicts joined to an agent
    amd_persons: int = 0  # ... of which the agent found a person
    idle_reason: str = ""
    idle_until: float = 0.0
    open_now: bool = True
    closes_at: float = 0.0


class Engine:
    def __init__(
        self,
        *,
        clock: Clock,
        telephony: Telephony,
        leads: LeadSource,
        sink: ResultSink,
        agents: AgentChannel,
        tick_s: float = 1.0,
        bridge_allowance_s: float = 0.5,
        brake_margin: float = 0.002,
        preview_s: float = 10.0,
        warmup_answers: int = 100,
        refs: Iterable[str] | None = None,
    ) -> None:
        self.clock = clock
        self.telephony = telephony
        self.leads = leads
        self.sink = sink
        self.channel = agents
        self.tick_s = tick_s
        self.bridge_allowance_s = bridge_allowance_s
        self.brake_margin = brake_margin
        self.preview_s = preview_s
        self.warmup_answers = warmup_answers
        self.ledger = ContactLedger()
        self._refs = iter(refs) if refs is not None else (f"c{n}" for n in itertools.count(1))
        self._campaigns: dict[str, _Campaign] = {}
        self._agents: dict[str, _Agent] = {}
        self._ready: dict[str, _Agent] = {}  # insertion order = longest waiting first
        self._calls: dict[str, _Call] = {}
        self._timer: Timer | None = None
        self.running = False
        self._serving_key: frozenset[str] | None = None
        self._agents_changed = True
        self._best: dict[str, list[_Agent]] = {}

    # --- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        if not self.running:
            self.running = True
            self._timer = self.clock.call_later(self.tick_s, self._tick)

    def stop(self) -> None:
        """Stop dialing. Calls in progress play out; agents keep their calls."""
        self.running = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # --- campaigns -----------------------------------------------------------------

    def campaign_start(
        self,
        campaign: str,
        *,
        mode: str,
        rules: CampaignRules,
        policy: PacingPolicy,
        history: Iterable[tuple[float, bool]] = (),
    ) -> None:
        """Run ``campaign``; ``history`` is (answered at, abandoned) of its recent live answers."""
        if mode not in MODES:
            raise ValueError(f"dial mode must be one of {', '.join(MODES)}, not {mode!r}")
        existing = self._campaigns.get(campaign)
        if existing is not None:
            existing.mode, existing.rules, existing.policy = mode, rules, policy
            existing.running = True
            return
        self._campaigns[campaign] = _Campaign(
            campaign, mode, rules, policy, AbandonWindow(rules.abandon_window, history)
        )

    def campaign_stop(self, campaign: str) -> None:
        """Stop dialing ``campaign``; its calls in progress play out."""
        camp = self._campaigns.get(campaign)
        if camp is not None:
            camp.running = False

    def campaign_ids(self) -> list[str]:
        return [c.id for c in self._campaigns.values() if c.running]

    def abandon_rate(self, campaign: str) -> tuple[float, float]:
        """(live answers, abandons) in the campaign's rolling window."""
        window = self._campaigns[campaign].window
        window.expire(self.clock.now())
        return window.answers, window.abandons

    # --- agents --------------------------------------------------------------------

    def agent_login(self, agent: str, *, campaigns: Mapping[str, int], uri: str = "") -> None:
        """The agent is ready to take calls of ``campaigns`` (campaign -> priority)."""
        now = self.clock.now()
        self._agents_changed = True
        existing = self._agents.get(agent)
        if existing is not None:
            existing.logout_pending = False
            existing.campaigns = dict(campaigns)
            existing.uri = uri or existing.uri
            if existing.state is A.LOGGED_OUT:
                self._set(existing, AE.LOGIN, now)
                self._became_ready(existing, now)
            return
        a = _Agent(agent, uri or f"sip:{agent}@agents.local", dict(campaigns), A.LOGGED_OUT, now)
        self._agents[agent] = a
        self._set(a, AE.LOGIN, now)
        self._became_ready(a, now)

    def agent_logout(self, agent: str) -> None:
        a = self._agents.get(agent)
        if a is None or a.state is A.LOGGED_OUT:
            return
        if a.state in (A.READY, A.PAUSED, A.PREVIEW):
            self._ready.pop(a.id, None)
            self._set(a, AE.LOGOUT, self.clock.now())
        else:
            a.logout_pending = True  # leaves when the call and wrap-up are done

    def agent_pause(self, agent: str) -> None:
        a = self._agents[agent]
        if a.state is A.READY:
            self._ready.pop(a.id, None)
            self._set(a, AE.PAUSE, self.clock.now())
        elif a.state is not A.PAUSED:
            a.pause_pending = True

    def agent_ready(self, agent: str, *, machine: bool = False) -> None:
        """The agent saved the wrap-up or came back from a pause.

        ``machine``: the wrap-up says the call reached an answering machine, not a person.
        """
        a = self._agents[agent]
        now = self.clock.now()
        if a.state is A.WRAPUP:
            self._wrapup_verdict(a, machine)
            self._finish_wrap(a, now)
        elif a.state is A.PAUSED:
            a.pause_pending = False
            self._set(a, AE.RESUME, now)
            self._became_ready(a, now)

    def agent_hangup(self, agent: str) -> None:
        a = self._agents[agent]
        if a.call is not None and a.state in (A.TALKING, A.DIALING):
            self.telephony.hangup(a.call.ref)

    def agent_state(self, agent: str) -> states.AgentState:
        return self._agents[agent].state

    # --- internals: agents -----------------------------------------------------------

    def _set(self, a: _Agent, event: states.AgentEvent, now: float) -> None:
        a.state = states.agent_next_state(a.state, event)
        a.since = now
        self.sink.record(
            AgentChanged(a.id, now, a.state.value, None, a.call.ref if a.call else None)
        )

    def _wrapup_verdict(self, a: _Agent, machine: bool) -> None:
        """Correct the window with what the agent heard: a machine is no live answer."""
        call = a.call
        if call is None or call.answered_at is None or call.bridged_at is None:
            return  # never bridged: the agent heard no one
        camp = call.campaign
        if call.amd_machine:
            camp.amd_joined += 1
            camp.amd_persons += not machine
            if not machine:
                camp.window.add(call.answered_at, False)
        elif call.human:
            camp.joined += 1
            camp.joined_persons += not machine
            if machine:
                camp.window.retract(call.answered_at)

    def _back_to_work(self, a: _Agent, now: float) -> None:
        if a.logout_pending:
            a.logout_pending = a.pause_pending = False
            self._set(a, AE.LOGOUT, now)
        elif a.pause_pending:
            a.pause_pending = False
            self._set(a, AE.PAUSE, now)
        else:
            self._became_ready(a, now)

    def _finish_wrap(self, a: _Agent, now: float) -> None:
        camp = self._campaigns.get(a.call.campaign.id) if a.call else None
        if camp is not None:
            camp.policy.observe_service(a.talk_s, now - a.wrap_started)
        a.call = None
        self._set(a, AE.WRAPUP_SAVED, now)
        self._back_to_work(a, now)

    def _became_ready(self, a: _Agent, now: float) -> None:
        """Give the agent the oldest waiting call of their best campaign, or queue them."""
        best: _Call | None = None
        best_key: tuple[int, float] | None = None
        for cid, prio in a.campaigns.items():
            camp = self._campaigns.get(cid)
            if camp is None or not camp.waiting:
                continue
            call = next(iter(camp.waiting.values()))
            key = (prio, call.answered_at or 0.0)
            if best_key is None or key < best_key:
                best, best_key = call, key
        if best is not None:
            self._join(best, a, now)
            return
        self._ready[a.id] = a

    def _pick_ready(self, camp: _Campaign) -> _Agent | None:
        """Longest-waiting ready agent serving ``camp``, preferring those who rank it first."""
        fallback: _Agent | None = None
        for a in self._ready.values():
            prio = a.campaigns.get(camp.id)
            if prio is None:
                continue
            if prio == min(a.campaigns.values()):
                return a
            if fallback is None:
                fallback = a
        return fallback

    # --- the tick --------------------------------------------------------------------

    def _tick(self) -> None:
        if not self.running:
            return
        now = self.clock.now()
        try:
            serving = self._serving(now)
            for camp in list(self._campaigns.values()):
                if camp.running:
                    self._pace(camp, serving.get(camp.id, []), now)
        finally:
            if self.running:
                self._timer = self.clock.call_later(self.tick_s, self._tick)

    def _serving(self, now: float) -> dict[str, list[_Agent]]:
        """Each logged-in agent counts for pacing in their best open campaign."""
        open_ids: set[str] = set()
        for camp in self._campaigns.values():
            if camp.running and now >= camp.closes_at:
                # Recomputed when the window it was in has closed (or none was open).
                closes = camp.rules.hours.close_at(now)
                camp.open_now = closes is not None
                camp.closes_at = closes if closes is not None else now + 30.0
            elif not camp.running:
                camp.open_now = False
            if camp.open_now and camp.idle_until <= now:
                open_ids.add(camp.id)
        key = frozenset(open_ids)
        if key != self._serving_key or self._agents_changed:
            self._serving_key = key
            self._agents_changed = False
            self._best = {}
            for a in self._agents.values():
                best: tuple[int, str] | None = None
                for cid, prio in a.campaigns.items():
                    if cid in open_ids and (best is None or prio < best[0]):
                        best = (prio, cid)
                if best is not None:
                    self._best.setdefault(best[1], []).append(a)
        out: dict[str, list[_Agent]] = {}
        for cid, agents in self._best.items():
            out[cid] = [
                a for a in agents if a.state is not A.PAUSED and a.state is not A.LOGGED_OUT
            ]
        return out

    def _pace(self, camp: _Campaign, agents: list[_Agent], now: float) -> None:
        camp.window.expire(now)
        if not camp.open_now:
            self._idle(camp, "outside_window", "", now)
            return
        if camp.idle_until > now or not agents:
            return
        if camp.mode == "preview":
            for a in agents:
                if a.state is A.READY:
                    self._preview(camp, a, now)
            return
        ready = 0
        talking: list[float] = []
        wrapping: list[float] = []
        for a in agents:
            state = a.state
            if state is A.READY:
                ready += 1
            elif state is A.TALKING:
                talking.append(now - a.since)
            elif state is A.WRAPUP:
                wrapping.append(now - a.wrap_started)
        rules = camp.rules
        snap = PacingSnapshot(
            now=now,
            agents=len(agents),
            ready=ready,
            talking=tuple(talking),
            wrapping=tuple(wrapping),
            ringing=now - np.fromiter(camp.dialed.values(), np.float64, len(camp.dialed)),
            waiting=len(camp.waiting),
            answers=camp.window.answers,
            abandons=camp.window.abandons,
            cap=rules.abandon_cap,
            target=rules.abandon_target,
            connect_limit_s=rules.connect_limit_s,
            closes_in_s=camp.closes_at - now,
        )
        wanted = max(0, int(camp.policy.dials(snap)))
        out = len(camp.lines) + len(camp.waiting)
        progressive = max(0, ready - out)
        if camp.mode == "progressive":
            wanted = progressive
        if wanted > progressive:
            if camp.window.rate >= rules.abandon_cap - self.brake_margin:
                wanted = progressive
            elif camp.window.answers < self.warmup_answers:
                # Start of the window: few answers, so a handful of abandons would already
                # break the cap. Lines beyond the ready agents are held to the budget.
                p_upper = wilson_upper(camp.humans, camp.resolved)
                surplus = surplus_allowed(camp.window, rules.abandon_cap, p_upper)
                limit = max(progressive, int(ready + surplus) - out)
                limit = min(limit, MAX_LINES_PER_AGENT * len(agents) - out)
                wanted = max(progressive, min(wanted, limit))
            else:
                # Lines beyond every agent of the campaign: each may be answered (at the
                # measured live share) when no one can take it. Their expected abandons
                # must fit under the cap, so a reckless policy cannot overshoot it.
                p_live = camp.humans / camp.resolved if camp.resolved else 1.0
                budget = (rules.abandon_cap - self.brake_margin) * camp.window.answers
                spare = (budget - camp.window.abandons) / max(p_live, 1e-3)
                limit = min(int(len(agents) + spare) - out, MAX_LINES_PER_AGENT * len(agents) - out)
                wanted = max(progressive, min(wanted, limit))
        for _ in range(wanted):
            if not self._dial_next(camp, None, now):
                break

    def _idle(self, camp: _Campaign, reason: str, message: str, now: float) -> None:
        if camp.idle_reason != reason:
            camp.idle_reason = reason
            self.sink.record(CampaignIdle(camp.id, now, reason, message))

    def _preview(self, camp: _Campaign, a: _Agent, now: float) -> None:
        self._ready.pop(a.id, None)
        self._set(a, AE.NEXT, now)
        lead = self._next_lead(camp, now)
        if lead is None:
            self._set(a, AE.SKIP, now)
            self._ready[a.id] = a
            return

        def dial() -> None:
            if a.state is not A.PREVIEW:  # the agent logged out meanwhile
                self.leads.release(lead, "agent_left", None)
                return
            at = self.clock.now()
            if not (self.running and camp.running):
                self.leads.release(lead, "outside_window", camp.rules.hours.next_open(at, lead.tz))
            elif not self._refused(camp, lead, at):  # checked again, as for every dial
                self._place(camp, lead, a, at)
                return
            self._set(a, AE.SKIP, at)
            self._back_to_work(a, at)

        self.clock.call_later(self.preview_s, dial)

    # --- dialing ---------------------------------------------------------------------

    def _next_lead(self, camp: _Campaign, now: float) -> Lead | None:
        """The next lead that may be dialed now, refusing (and giving back) those that may not."""
        for _ in range(50):
            got = self.leads.claim(camp.id, now)
            if isinstance(got, NoLeads):
                self._idle(camp, got.reason, got.message, now)
                camp.idle_until = now + 15.0
                return None
            if not self._refused(camp, got, now):
                camp.idle_reason = ""
                return got
        return None

    def _refused(self, camp: _Campaign, lead: Lead, now: float) -> bool:
        """Check a lead just before dialing: the engine's rules, then the lead source's
        (DNC, blacklist, consent). A refused lead goes back to the source with the reason."""
        refusal = dial_refusal(
            camp.rules,
            self.ledger,
            customer=lead.customer,
            tz=lead.tz,
            contacts_today=lead.contacts_today,
            last_abandon_at=lead.last_abandon_at,
            now=now,
        )
        reason = refusal.reason if refusal else self.leads.check(lead, now)
        if reason is None:
            return False
        not_before = refusal.not_before if refusal else None
        self.leads.release(lead, reason, not_before)
        self.sink.record(LeadRefused(now, camp.id, lead.ref, reason, not_before))
        return True

    def _dial_next(self, camp: _Campaign, agent: _Agent | None, now: float) -> bool:
        lead = self._next_lead(camp, now)
        if lead is None:
            return False
        self._place(camp, lead, agent, now)
        return True

    def _place(self, camp: _Campaign, lead: Lead, agent: _Agent | None, now: float) -> None:
        ref = next(self._refs)
        call = _Call(ref, lead, camp, now, agent=agent)
        self._calls[ref] = call
        camp.lines[ref] = call
        camp.dialed[ref] = now
        self.ledger.dialed(lead.customer, camp.rules.hours.local_day(now, lead.tz))
        ring_s = camp.rules.ring_s
        self.sink.record(
            DialPlaced(
                ref,
                now,
                camp.id,
                lead.ref,
                lead.customer,
                lead.number,
                agent.id if agent else None,
                ring_s,
            )
        )
        if agent is not None:
            agent.call = call
            self._set(agent, AE.DIAL, now)
        self.telephony.originate(
            ref,
            lead.number,
            ring_timeout_s=ring_s,
            agent_uri=agent.uri if agent else None,
            on_event=self.handle,
        )

    # --- telephony events ------------------------------------------------------------

    def handle(self, event: TelephonyEvent) -> None:
        call = self._calls.get(event.ref)
        if call is None:
            return
        now = self.clock.now()
        if isinstance(event, CallRinging):
            if call.state is C.DIALING:
                call.state = states.call_next_state(call.state, CE.RING)
                self.sink.record(DialRinging(call.ref, now))
        elif isinstance(event, CallAnswered):
            self._answered(call, event.machine, now)
        elif isinstance(event, CallNotConnected):
            self._not_connected(call, event, now)
        elif isinstance(event, CallBridged):
            self._bridged(call, now)
        elif isinstance(event, CallBridgeFailed):
            self._bridge_failed(call, now)
        elif isinstance(event, CallHungUp):
            self._hung_up(call, event.by, now)

    def _resolve(self, call: _Call, kind: str, now: float) -> None:
        camp = call.campaign
        camp.lines.pop(call.ref, None)
        camp.dialed.pop(call.ref, None)
        camp.resolved += 1
        camp.humans += kind == "human"
        camp.policy.observe_dial(now - call.dialed_at, kind)

    def _answered(self, call: _Call, machine: bool, now: float) -> None:
        if call.state not in (C.DIALING, C.RINGING):
            return
        call.state = states.call_next_state(call.state, CE.ANSWER)
        call.answered_at = now
        self.sink.record(DialAnswered(call.ref, now, machine))
        self._resolve(call, "machine" if machine else "human", now)
        camp = call.campaign
        if machine:
            self._machine_verdict(call, now)
            return
        call.human = True
        if call.agent is not None:  # preview: the agent is on the line already
            a = call.agent
            self._set(a, AE.ANSWERED, now)
            call.state = states.call_next_state(call.state, CE.CONNECT)
            call.bridged_at = now
            camp.window.add(now, False)
            self.sink.record(DialConnected(call.ref, now, a.id, 0.0))
            self.channel.offer(a.id, self._offer(call))
            return
        agent = self._pick_ready(camp)
        if agent is not None:
            self._join(call, agent, now)
            return
        camp.waiting[call.ref] = call
        limit = max(0.0, camp.rules.connect_limit_s - self.bridge_allowance_s)
        call.deadline = self.clock.call_later(limit, lambda: self._abandon(call))

    def _machine_verdict(self, call: _Call, now: float) -> None:
        """The detector says machine. It is sometimes a person, so an agent free right now
        takes the call anyway; otherwise the message is left, and the chance that a person
        heard it counts as an abandon (learnt from the verdicts agents did take)."""
        camp = call.campaign
        call.amd_machine = True
        if call.agent is not None:  # preview: the agent is on the line and hears it
            a = call.agent
            self._set(a, AE.ANSWERED, now)
            call.state = states.call_next_state(call.state, CE.CONNECT)
            call.bridged_at = now
            self.sink.record(DialConnected(call.ref, now, a.id, 0.0))
            self.channel.offer(a.id, self._offer(call))
            return
        agent = self._pick_ready(camp)
        if agent is not None:
            self._join(call, agent, now)
            return
        person = (camp.amd_persons + 1) / (camp.amd_joined + 20)
        camp.window.add(now, True, weight=person)
        self.telephony.play(call.ref, camp.rules.abandon_message)

    @staticmethod
    def _person_odds(camp: _Campaign) -> float:
        """How likely an abandoned answer was a person, from what agents found on the
        answers they took (an answering machine is no abandoned customer)."""
        return (camp.joined_persons + 9) / (camp.joined + 10)

    def _offer(self, call: _Call) -> Offer:
        lead = call.lead
        return Offer(call.ref, call.campaign.id, lead.ref, lead.customer, lead.number)

    def _join(self, call: _Call, a: _Agent, now: float) -> None:
        camp = call.campaign
        camp.waiting.pop(call.ref, None)
        if call.deadline is not None:
            call.deadline.cancel()
            call.deadline = None
        self._ready.pop(a.id, None)
        call.agent = a
        a.call = call
        self._set(a, AE.OFFERED, now)
        call.state = states.call_next_state(call.state, CE.CONNECT)
        self.telephony.connect(call.ref, a.uri)
        self.channel.offer(a.id, self._offer(call))

    def _bridged(self, call: _Call, now: float) -> None:
        if call.bridged_at is not None or call.agent is None or call.abandoned:
            return
        call.bridged_at = now
        call.agent.since = now
        wait = now - (call.answered_at or now)
        if not call.amd_machine:
            call.campaign.window.add(call.answered_at or now, False)
        self.sink.record(DialConnected(call.ref, now, call.agent.id, wait))

    def _bridge_failed(self, call: _Call, now: float) -> None:
        a = call.agent
        if a is None or call.bridged_at is not None:
            return
        a.call = None
        self._set(a, AE.UNREACHABLE, now)
        call.agent = None
        call.state = C.ANSWERED
        camp = call.campaign
        waited = now - (call.answered_at or now)
        left = camp.rules.connect_limit_s - self.bridge_allowance_s - waited
        other = self._pick_ready(camp) if left > 0 else None
        if other is not None:
            self._join(call, other, now)
        elif left > 0:
            camp.waiting[call.ref] = call
            call.deadline = self.clock.call_later(left, lambda: self._abandon(call))
        else:
            self._abandon(call)

    def _abandon(self, call: _Call) -> None:
        if call.state is not C.ANSWERED or call.abandoned:
            return
        now = self.clock.now()
        camp = call.campaign
        camp.waiting.pop(call.ref, None)
        call.deadline = None
        self.telephony.play(call.ref, camp.rules.abandon_message)
        self._count_abandon(call, now, message_played=True)

    def _count_abandon(self, call: _Call, now: float, *, message_played: bool) -> None:
        """Count the abandon in the window, hold the customer 72 h, and report it."""
        camp = call.campaign
        call.abandoned = True
        camp.window.add(call.answered_at or now, True, weight=self._person_odds(camp))
        self.ledger.abandoned(call.lead.customer, now)
        self.sink.record(DialAbandoned(call.ref, now, camp.id, call.lead.customer, message_played))

    def _not_connected(self, call: _Call, event: CallNotConnected, now: float) -> None:
        if call.state not in (C.DIALING, C.RINGING):
            return
        call.state = states.call_next_state(call.state, CE.FAIL)
        self._resolve(call, "other", now)
        self._calls.pop(call.ref, None)
        if call.agent is not None:
            self._agent_call_over(call.agent, call, now)
        self.sink.record(
            DialEnded(call.ref, now, event.outcome, Party.SYSTEM, None, 0.0, event.sip_code)
        )

    def _agent_call_over(self, a: _Agent, call: _Call, now: float) -> None:
        """A preview agent's attempt reached no one: back to ready (or to the pending pause)."""
        a.call = None
        call.agent = None
        self._set(a, AE.NOT_CONNECTED, now)
        self._back_to_work(a, now)

    def _hung_up(self, call: _Call, by: Party, now: float) -> None:
        if call.state is C.ENDED:
            return
        camp = call.campaign
        if call.state in (C.DIALING, C.RINGING):  # the caller gave up before any answer
            self._resolve(call, "other", now)
        camp.waiting.pop(call.ref, None)
        if call.deadline is not None:
            call.deadline.cancel()
        waiting = call.state is C.ANSWERED and call.agent is None
        unbridged = call.state is C.CONNECTED and call.bridged_at is None
        if call.human and not call.abandoned and (waiting or unbridged):
            # The customer hung up while waiting for an agent (or for the bridge to one):
            # abandoned, no message heard.
            self._count_abandon(call, now, message_played=False)
        call.state = C.ENDED
        self._calls.pop(call.ref, None)
        a = call.agent
        talk = now - call.bridged_at if call.bridged_at is not None else 0.0
        if call.abandoned:
            outcome = Outcome.ABANDONED
        elif call.human:
            outcome = Outcome.ANSWERED
        else:
            outcome = Outcome.MACHINE
        self.sink.record(DialEnded(call.ref, now, outcome, by, a.id if a else None, talk))
        if a is not None and a.call is call and a.state is A.TALKING:
            a.talk_s = talk
            a.wrap_started = now
            self._set(a, AE.HANGUP, now)
            self.channel.ended(a.id, call.ref, by)
