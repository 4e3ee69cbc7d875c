"""The preview flow at the desk, on virtual time: next, dial, ring, talk, hang up, wrap up."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from calldeck.calls.models import AgentState, AgentStateLog, Call, CallOutcome, Sale
from calldeck.campaigns.models import (
    Callback,
    CallbackScope,
    CampaignLead,
    Disposition,
    LeadDoneReason,
    LeadStatus,
)
from calldeck.customers.models import BlockKind, ContactBlock
from calldeck.desk import services as desk
from calldeck.desk.selectors import desk_state
from calldeck.dialing import runtime
from tests import factories as f


@pytest.fixture
def campaign(centre):  # type: ignore[no-untyped-def]
    campaign = f.make_campaign(centre.bank, script_text="您好,{{ customer.name }},{{ offer.name }}")
    f.assign(campaign, team=centre.team_a)
    return campaign


def disposition(campaign, code: str) -> Disposition:  # type: ignore[no-untyped-def]
    return campaign.disposition_set.dispositions.get(code=code)


def test_it_works_a_lead_from_next_to_sale(centre, campaign, inline):  # type: ignore[no-untyped-def]
    lead = f.make_lead(campaign)
    desk.desk_login(agent=centre.alice)
    desk.desk_next(agent=centre.alice)
    state = desk_state(centre.alice)
    assert state.state == AgentState.PREVIEW
    assert state.lead is not None and state.lead.lead_id == lead.pk
    # The script has the customer's name substituted.
    assert lead.customer.name in state.lead.script_html
    # Agents see masked numbers only.
    assert "****" in state.lead.phones[0].number

    call = desk.desk_dial(agent=centre.alice)
    assert desk_state(centre.alice).state == AgentState.DIALING
    inline.clock.advance(1)
    call.refresh_from_db()
    assert call.ringing_at is not None
    inline.clock.advance(5)
    call.refresh_from_db()
    assert call.outcome == CallOutcome.ANSWERED and call.agent_connected_at is not None
    assert desk_state(centre.alice).state == AgentState.TALKING

    desk.desk_hangup(agent=centre.alice)
    assert desk_state(centre.alice).state == AgentState.WRAPUP
    desk.desk_wrapup(
        agent=centre.alice, disposition_id=disposition(campaign, "sale").pk, notes="办理12期"
    )
    call.refresh_from_db()
    assert call.wrapup_saved_at is not None and call.disposition.code == "sale"
    sale = Sale.objects.get(call=call)
    assert sale.amount == Decimal("3000.00") and sale.agent == centre.alice
    lead.refresh_from_db()
    assert (lead.status, lead.done_reason, lead.attempts) == (
        LeadStatus.DONE,
        LeadDoneReason.SUCCESS,
        1,
    )
    assert desk_state(centre.alice).state == AgentState.READY


def test_it_refuses_next_until_wrapup_is_saved(centre, campaign, inline):  # type: ignore[no-untyped-def]
    f.make_lead(campaign)
    f.make_lead(campaign)
    desk.desk_next(agent=centre.alice)
    desk.desk_dial(agent=centre.alice)
    inline.clock.advance(5)
    desk.desk_hangup(agent=centre.alice)
    # The rule: no next customer while the outcome is not recorded, whoever asks.
    with pytest.raises(desk.DeskRefused) as refused:
        desk.desk_next(agent=centre.alice)
    assert refused.value.code == "wrapup_required"
    with pytest.raises(desk.DeskRefused):
        desk.desk_pause(agent=centre.alice, code="break")
    desk.desk_wrapup(agent=centre.alice, disposition_id=disposition(campaign, "not_interested").pk)
    desk.desk_next(agent=centre.alice)
    assert desk_state(centre.alice).state == AgentState.PREVIEW


def test_it_schedules_a_retry_when_busy(centre, campaign):  # type: ignore[no-untyped-def]
    rt = runtime.install_inline(f.sim_world(busy_rate=1.0))
    try:
        lead = f.make_lead(campaign)
        desk.desk_next(agent=centre.alice)
        call = desk.desk_dial(agent=centre.alice)
        rt.clock.advance(10)
    finally:
        runtime.install(None)
    call.refresh_from_db()
    lead.refresh_from_db()
    assert (call.outcome, call.sip_code) == (CallOutcome.BUSY, 486)
    # Nobody reached: no wrap-up is asked, the agent is ready, the lead comes back in 30 min.
    assert call.wrapup_saved_at is not None
    assert lead.status == LeadStatus.RETRY
    assert lead.next_attempt_at - call.ended_at == dt.timedelta(minutes=30)
    state = desk_state(centre.alice)
    assert state.state == AgentState.READY
    # The agent is told what happened and when the customer comes back.
    retry_at = timezone.localtime(lead.next_attempt_at).strftime("%H:%M")
    assert "Busy" in state.notice and retry_at in state.notice


def test_it_cancels_after_the_ring_timeout(centre, campaign):  # type: ignore[no-untyped-def]
    rt = runtime.install_inline(f.sim_world())  # nobody answers
    try:
        lead = f.make_lead(campaign)
        desk.desk_next(agent=centre.alice)
        call = desk.desk_dial(agent=centre.alice)
        rt.clock.advance(campaign.ring_timeout_s)
        call.refresh_from_db()
        assert call.ended_at is None  # still ringing just before the timeout
        rt.clock.advance(1)
    finally:
        runtime.install(None)
    call.refresh_from_db()
    lead.refresh_from_db()
    assert call.outcome == CallOutcome.NO_ANSWER
    assert lead.status == LeadStatus.RETRY


def test_it_marks_an_invalid_number_and_finishes_a_lead_without_numbers(centre, campaign):  # type: ignore[no-untyped-def]
    rt = runtime.install_inline(f.sim_world(invalid_rate=1.0))
    try:
        lead = f.make_lead(campaign)
        desk.desk_next(agent=centre.alice)
        desk.desk_dial(agent=centre.alice)
        rt.clock.advance(5)
    finally:
        runtime.install(None)
    lead.refresh_from_db()
    assert not lead.customer.phones.get().is_valid
    assert (lead.status, lead.done_reason) == (LeadStatus.DONE, LeadDoneReason.NO_VALID_NUMBER)


def test_it_stops_after_max_attempts(centre, campaign):  # type: ignore[no-untyped-def]
    campaign.max_attempts = 2
    campaign.save()
    rt = runtime.install_inline(f.sim_world(busy_rate=1.0))
    lead = f.make_lead(campaign)
    try:
        for _ in range(2):
            CampaignLead.objects.filter(pk=lead.pk).update(next_attempt_at=timezone.now())
            desk.desk_next(agent=centre.alice)
            desk.desk_dial(agent=centre.alice)
            rt.clock.advance(10)
    finally:
        runtime.install(None)
    lead.refresh_from_db()
    assert (lead.status, lead.done_reason, lead.attempts) == (
        LeadStatus.DONE,
        LeadDoneReason.MAX_ATTEMPTS,
        2,
    )


def test_it_asks_a_callback_for_a_time_and_an_owner(centre, campaign, inline):  # type: ignore[no-untyped-def]
    lead = f.make_lead(campaign)
    desk.desk_next(agent=centre.alice)
    desk.desk_dial(agent=centre.alice)
    inline.clock.advance(5)
    desk.desk_hangup(agent=centre.alice)
    cb = disposition(campaign, "callback")
    with pytest.raises(ValidationError) as missing:
        desk.desk_wrapup(agent=centre.alice, disposition_id=cb.pk)
    assert "callback_at" in missing.value.message_dict
    with pytest.raises(ValidationError):
        desk.desk_wrapup(
            agent=centre.alice,
            disposition_id=cb.pk,
            callback_at=timezone.now() - dt.timedelta(minutes=1),
        )
    due = timezone.now() + dt.timedelta(hours=2)
    desk.desk_wrapup(
        agent=centre.alice, disposition_id=cb.pk, callback_at=due, callback_scope=CallbackScope.OWN
    )
    lead.refresh_from_db()
    assert (lead.status, lead.assigned_agent, lead.next_attempt_at) == (
        LeadStatus.CALLBACK,
        centre.alice,
        due,
    )
    assert Callback.objects.get(lead=lead).owner == centre.alice
    # Bob cannot take Alice's own callback, even when it is due.
    CampaignLead.objects.filter(pk=lead.pk).update(next_attempt_at=timezone.now())
    with pytest.raises(desk.DeskRefused) as none:
        desk.desk_next(agent=centre.bob)
    assert none.value.code == "no_lead"
    desk.desk_next(agent=centre.alice)
    assert desk_state(centre.alice).lead.lead_id == lead.pk


def test_it_excludes_a_blocked_customer_at_claim_time(centre, campaign, inline):  # type: ignore[no-untyped-def]
    blocked = f.make_lead(campaign, priority=10)
    ContactBlock.objects.create(
        client=centre.bank, customer=blocked.customer, kind=BlockKind.DO_NOT_CALL, reason="投诉"
    )
    fine = f.make_lead(campaign)
    desk.desk_next(agent=centre.alice)
    assert desk_state(centre.alice).lead.lead_id == fine.pk
    blocked.refresh_from_db()
    assert (blocked.status, blocked.done_reason) == (LeadStatus.EXCLUDED, LeadDoneReason.BLOCKED)


def test_it_records_do_not_call_from_a_wrapup(centre, campaign, inline):  # type: ignore[no-untyped-def]
    lead = f.make_lead(campaign)
    desk.desk_next(agent=centre.alice)
    desk.desk_dial(agent=centre.alice)
    inline.clock.advance(5)
    desk.desk_hangup(agent=centre.alice)
    desk.desk_wrapup(agent=centre.alice, disposition_id=disposition(campaign, "dnc").pk)
    assert ContactBlock.objects.filter(customer=lead.customer, kind=BlockKind.DO_NOT_CALL).exists()


def test_it_logs_pauses_with_their_reason(centre, campaign, inline):  # type: ignore[no-untyped-def]
    desk.desk_login(agent=centre.alice)
    desk.desk_pause(agent=centre.alice, code="training")
    assert desk_state(centre.alice).pause_code == "training"
    with pytest.raises(desk.DeskRefused) as paused:
        desk.desk_next(agent=centre.alice)
    assert paused.value.code == "paused"
    desk.desk_resume(agent=centre.alice)
    states = list(
        AgentStateLog.objects.filter(agent=centre.alice).values_list("state", "pause_code")
    )
    assert states[-1] == ("paused", "training")


def test_it_says_why_there_is_no_lead(centre, campaign, inline):  # type: ignore[no-untyped-def]
    with pytest.raises(desk.DeskRefused) as none:
        desk.desk_next(agent=centre.mallory)  # no assignment for the insurer's agent
    assert none.value.code == "no_lead"
    campaign.windows.all().delete()
    with pytest.raises(desk.DeskRefused) as closed:
        desk.desk_next(agent=centre.alice)
    assert "calling hours" in closed.value.message


def test_it_never_gives_one_lead_to_two_agents(centre, campaign, inline):  # type: ignore[no-untyped-def]
    only = f.make_lead(campaign)
    desk.desk_next(agent=centre.alice)
    with pytest.raises(desk.DeskRefused):
        desk.desk_next(agent=centre.bob)
    only.refresh_from_db()
    assert only.claimed_by == centre.alice


def test_it_ends_the_call_when_the_customer_hangs_up(centre, campaign, inline):  # type: ignore[no-untyped-def]
    f.make_lead(campaign)
    desk.desk_next(agent=centre.alice)
    call = desk.desk_dial(agent=centre.alice)
    inline.clock.advance(500)
    call.refresh_from_db()
    assert call.hangup_by == "customer" and call.talk_seconds >= 0
    assert desk_state(centre.alice).state == AgentState.WRAPUP


def test_it_recovers_calls_left_open_by_a_stopped_process(centre, campaign, inline):  # type: ignore[no-untyped-def]
    f.make_lead(campaign)
    desk.desk_next(agent=centre.alice)
    call = desk.desk_dial(agent=centre.alice)
    runtime.install_inline()  # the old runtime and its call are gone
    assert desk.calls_recover_orphans() == 1
    call.refresh_from_db()
    assert call.outcome == CallOutcome.FAILED
    assert desk_state(centre.alice).state == AgentState.READY
    assert Call.objects.filter(ended_at__isnull=True).count() == 0
