"""The dialer engine against the database, on virtual time: DialerProcess, its leases and
ports, the agents' desks; and a dialer process killed mid-call, taken over by another."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator

import pytest
from django.db.models import Count
from django.utils import timezone

from calldeck.calls.models import AgentPresence, AgentState, Call, CallOutcome
from calldeck.campaigns.models import (
    CampaignLead,
    DialMode,
    LeadStatus,
    RetryRule,
)
from calldeck.desk import services as desk
from calldeck.desk.selectors import desk_state
from calldeck.dialing import dialer_process
from calldeck.dialing.dialer_process import DialerProcess
from calldeck.dialing.models import DialerLease
from dialer.clock import ManualClock
from dialer.telephony.sim import SimTelephony
from tests import factories as f

T0 = float(int(time.time()))


class World:
    """Virtual time for the database too: ``timezone.now`` follows ``clock``."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock.now(), tz=dt.UTC)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    w = World(ManualClock(start=T0))
    monkeypatch.setattr(timezone, "now", w.now)
    yield w
    dialer_process.install_embedded(None)


def auto_campaign(centre, mode: str = DialMode.PROGRESSIVE, retry_minutes: int | None = 1, **kw):  # type: ignore[no-untyped-def]
    campaign = f.make_campaign(
        centre.bank,
        dial_mode=mode,
        script_text="您好,{{ customer.name }},{{ offer.name }}",
        **kw,
    )
    if retry_minutes is not None:
        RetryRule.objects.filter(campaign=campaign).update(delay_minutes=retry_minutes)
    f.assign(campaign, team=centre.team_a)
    return campaign


def process(owner: str, clock: ManualClock, world_params: dict[str, float]) -> DialerProcess:
    telephony = SimTelephony(clock, f.sim_world(**world_params), keep_truth=True)
    return DialerProcess(owner, clock, telephony, inline=True)


def disposition_id(campaign, code: str = "not_interested") -> int:  # type: ignore[no-untyped-def]
    return campaign.disposition_set.dispositions.get(code=code).pk  # type: ignore[no-any-return]


def wrap_up_all(campaign, agents) -> int:  # type: ignore[no-untyped-def]
    done = 0
    for agent in agents:
        if AgentPresence.objects.get(agent=agent).state == AgentState.WRAPUP:
            desk.desk_wrapup(agent=agent, disposition_id=disposition_id(campaign))
            done += 1
    return done


def no_lead_has_two_open_calls() -> None:
    doubled = (
        Call.objects.filter(ended_at__isnull=True)
        .values("lead")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    assert not doubled.exists(), list(doubled)


CHATTY = {
    "answer_rate": 0.6,
    "busy_rate": 0.2,
    "ring_min_s": 2,
    "ring_max_s": 6,
    "patience_min_s": 20,
    "patience_max_s": 40,
}


def test_a_progressive_campaign_runs_to_the_end(centre, world):  # type: ignore[no-untyped-def]
    campaign = auto_campaign(centre, max_attempts=2)
    leads = [f.make_lead(campaign) for _ in range(20)]
    agents = [centre.alice, centre.bob]
    for agent in agents:
        desk.desk_login(agent=agent)
    p = process("dialer-a", world.clock, CHATTY)
    dialer_process.install_embedded(p)
    p.start()
    assert p.held == {str(campaign.pk): "progressive"}

    talks: dict[int, int] = {a.pk: 0 for a in agents}
    hung_up_notices = 0
    shown: set[int] = set()
    for _step in range(1800):
        world.clock.advance(1)
        no_lead_has_two_open_calls()
        for agent in agents:
            presence = AgentPresence.objects.select_related("call").get(agent=agent)
            if (
                presence.state == AgentState.TALKING
                and presence.call.telephony_ref
                and presence.call_id not in shown
            ):
                shown.add(presence.call_id)
                # The panel shows the customer and the script as soon as the call is put through.
                state = desk_state(agent)
                assert state.lead is not None and state.lead.lead_id == presence.lead_id
                assert state.lead.customer_name in state.lead.script_html
                assert state.call is not None and state.call.phase == "talking"
            if presence.state == AgentState.WRAPUP:
                hung_up_notices += presence.notice == "The customer hung up."
                if presence.call_id not in talks:
                    talks[presence.call_id] = 1
                    talks[agent.pk] += 1
        # Agents save their outcome a little after the customer hung up.
        if _step % 3 == 0:
            wrap_up_all(campaign, agents)
        if not CampaignLead.objects.filter(campaign=campaign).exclude(status=LeadStatus.DONE):
            break
    # The end of the day: no more calls, the calls in progress end, the outcomes are saved.
    p.stop_dialing()
    for _ in range(120):
        world.clock.advance(1)
        wrap_up_all(campaign, agents)
    p.finish()

    assert talks[centre.alice.pk] >= 2 and talks[centre.bob.pk] >= 2
    assert hung_up_notices >= 2
    calls = Call.objects.filter(campaign=campaign)
    assert calls.count() >= 20
    assert not calls.filter(ended_at__isnull=True).exists()
    assert not calls.filter(outcome="").exists()
    # Every call that reached an agent was wrapped up; the others needed none.
    assert not calls.filter(wrapup_saved_at__isnull=True).exists()
    assert calls.filter(agent_connected_at__isnull=False).count() >= 4
    assert not calls.filter(agent_connected_at__isnull=False, disposition__isnull=True).exists()
    for lead in leads:
        lead.refresh_from_db()
        assert lead.status in (LeadStatus.DONE, LeadStatus.RETRY, LeadStatus.NEW), lead.status
        assert lead.claimed_by_dialer == ""
        assert lead.attempts == lead.calls.count()
    assert CampaignLead.objects.filter(campaign=campaign, status=LeadStatus.DONE).count() >= 15
    # The agents are ready for more; the lease is given back.
    assert all(desk_state(a).state == AgentState.READY for a in agents)
    assert DialerLease.objects.get(campaign=campaign).owner == ""


def test_an_abandoned_call_hears_the_message_and_is_held_72_hours(centre, world):  # type: ignore[no-untyped-def]
    campaign = auto_campaign(centre, mode=DialMode.PREDICTIVE)
    lead = f.make_lead(campaign)
    desk.desk_login(agent=centre.alice)
    p = process(
        "dialer-a", world.clock, {"answer_rate": 1.0, "patience_min_s": 300, "patience_max_s": 400}
    )
    dialer_process.install_embedded(p)
    p.start()
    for _ in range(5):
        world.clock.advance(1)
        if Call.objects.exists():
            break
    call = Call.objects.get()
    assert call.answered_at is None
    # The only agent goes on a break while the customer's phone rings: nobody to take it.
    desk.desk_pause(agent=centre.alice, code="break")
    p.sync_agents()
    world.clock.advance(20)
    call.refresh_from_db()
    lead.refresh_from_db()
    assert call.outcome == CallOutcome.ABANDONED and call.ended_at is not None
    assert call.agent_id is None and call.hangup_by == "system"
    truth = p.telephony.truth[call.telephony_ref]  # type: ignore[attr-defined]
    assert truth.played_at is not None
    assert lead.status in (LeadStatus.RETRY, LeadStatus.DONE)
    assert lead.next_attempt_at >= call.ended_at + dt.timedelta(hours=72)
    assert lead.claimed_by_dialer == ""
    assert desk_state(centre.alice).state == AgentState.PAUSED


def test_waiting_agents_do_not_preview_and_hang_up_goes_to_the_engine(
    centre, world, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    campaign = auto_campaign(centre)
    f.make_lead(campaign)
    desk.desk_login(agent=centre.alice)
    presence = desk.desk_next(agent=centre.alice)
    assert presence.state == AgentState.READY and presence.lead is None
    assert "Waiting for the next call" in desk_state(centre.alice).notice
    assert desk_state(centre.alice).auto_dial
    p = process(
        "dialer-a", world.clock, {"answer_rate": 1.0, "patience_min_s": 300, "patience_max_s": 400}
    )
    dialer_process.install_embedded(p)
    p.start()
    for _ in range(10):
        world.clock.advance(1)
        if desk_state(centre.alice).state == AgentState.TALKING:
            break
    assert desk_state(centre.alice).state == AgentState.TALKING
    with django_capture_on_commit_callbacks(execute=True):
        call = desk.desk_hangup(agent=centre.alice)
    assert desk_state(centre.alice).state == AgentState.WRAPUP
    world.clock.advance(0)  # the poke: the engine hangs the line up
    assert p.telephony.active_calls() == 0  # type: ignore[attr-defined]
    call.refresh_from_db()
    assert call.hangup_by == "agent" and call.outcome == CallOutcome.ANSWERED
    with django_capture_on_commit_callbacks(execute=True):
        desk.desk_wrapup(agent=centre.alice, disposition_id=disposition_id(campaign))
    world.clock.advance(0)
    assert p.engine.agent_state(str(centre.alice.pk)).value == "ready"


def test_only_one_process_holds_a_campaign(centre, world):  # type: ignore[no-untyped-def]
    campaign = auto_campaign(centre)
    f.make_lead(campaign)
    a = process("dialer-a", world.clock, CHATTY)
    b = process("dialer-b", world.clock, CHATTY)
    a.start()
    b.start()
    world.clock.advance(30)
    holders = [p.owner for p in (a, b) if str(campaign.pk) in p.held]
    assert holders == ["dialer-a"]
    assert DialerLease.objects.get(campaign=campaign).owner == "dialer-a"
    # A paused campaign is given back and stopped.
    campaign.status = "paused"
    campaign.save()
    world.clock.advance(10)
    assert not a.held and not b.held
    assert DialerLease.objects.get(campaign=campaign).owner == ""


def test_a_killed_process_is_taken_over_without_losing_a_call(centre, world):  # type: ignore[no-untyped-def]
    campaign = auto_campaign(centre, retry_minutes=None)  # retries after 30 min or more
    for _ in range(40):
        f.make_lead(campaign)
    agents = [centre.alice, centre.bob]
    for agent in agents:
        desk.desk_login(agent=agent)
    clock_a = ManualClock(start=T0)
    a = process("dialer-a", clock_a, CHATTY)
    b = process("dialer-b", world.clock, CHATTY)
    alive: list[ManualClock] = [clock_a, world.clock]

    def step(check: Callable[[], None] = no_lead_has_two_open_calls) -> None:
        for clock in alive:
            clock.advance(1)
        check()
        wrap_up_all(campaign, agents)

    a.start()
    b.start()
    for _ in range(90):
        step()
    assert str(campaign.pk) in a.held and not b.held
    # A claims one more lead it never gets to dial, and has calls in flight when killed.
    claimed = a.lead_source.claim(str(campaign.pk), clock_a.now())
    assert not hasattr(claimed, "reason")
    undialed = int(claimed.ref)  # type: ignore[union-attr]
    for _ in range(200):
        if Call.objects.filter(
            ended_at__isnull=True, telephony_ref__startswith="dialer-a:"
        ).exists():
            break
        step()
    in_flight = set(
        Call.objects.filter(
            ended_at__isnull=True, telephony_ref__startswith="dialer-a:"
        ).values_list("pk", flat=True)
    )
    assert in_flight
    a_calls = set(
        Call.objects.filter(telephony_ref__startswith="dialer-a:").values_list("pk", flat=True)
    )

    # kill -9: A's clock stops, so none of its timers or telephony ever runs again.
    alive.remove(clock_a)
    killed_at = world.now()
    took_over_at: dt.datetime | None = None
    for _ in range(240):
        step()
        if took_over_at is None and str(campaign.pk) in b.held:
            took_over_at = world.now()
    assert took_over_at is not None
    # The lease lapsed first (15 s after A's last renewal), not before.
    assert took_over_at - killed_at <= dt.timedelta(seconds=25)
    assert DialerLease.objects.get(campaign=campaign).owner == "dialer-b"

    # No call of A was lost or left open: each ended, with an outcome.
    for call in Call.objects.filter(pk__in=a_calls):
        assert call.ended_at is not None and call.outcome, (call.pk, call.outcome)
    for call in Call.objects.filter(pk__in=in_flight):
        assert call.ended_at <= took_over_at + dt.timedelta(seconds=1)
        assert call.hangup_by == "system"
    # The lead A claimed and never dialed went back, and B dialed it at most once.
    lead = CampaignLead.objects.get(pk=undialed)
    assert lead.claimed_by_dialer != "dialer-a"
    assert Call.objects.filter(lead=lead, telephony_ref__startswith="dialer-a:").count() == 0
    assert Call.objects.filter(lead=lead, telephony_ref__startswith="dialer-b:").count() <= 1
    # A lead called by both: B's call came after A's had ended.
    for lead_id in set(Call.objects.filter(pk__in=a_calls).values_list("lead", flat=True)):
        a_end = max(
            c.ended_at
            for c in Call.objects.filter(lead_id=lead_id, telephony_ref__startswith="dialer-a:")
        )
        for c in Call.objects.filter(lead_id=lead_id, telephony_ref__startswith="dialer-b:"):
            assert c.dialed_at >= a_end
    # Calls keep flowing under B, and agents take them.
    b_calls = Call.objects.filter(telephony_ref__startswith="dialer-b:")
    assert b_calls.count() >= 5
    assert b_calls.filter(agent_connected_at__isnull=False).exists()
    assert not CampaignLead.objects.filter(claimed_by_dialer="dialer-a").exists()

    b.stop_dialing()
    for _ in range(120):
        step()
    b.finish()
    assert not Call.objects.filter(ended_at__isnull=True).exists()
    assert not Call.objects.filter(outcome="").exists()
    assert not CampaignLead.objects.filter(status=LeadStatus.CLAIMED).exists()
