"""Leads claimed by a dialer process: order, the owner on the lead, races, and release."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from calldeck.calls.models import Call, Direction
from calldeck.campaigns.models import Callback, CallbackScope, CampaignLead, LeadStatus
from calldeck.dialing import leads
from calldeck.dialing.leads import NoLead
from tests import factories as f
from tests.conftest import Centre

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(centre: Centre):  # type: ignore[no-untyped-def]
    return f.make_campaign(centre.bank, dial_mode="predictive")


def claim(campaign, owner: str = "dialer-1", now: dt.datetime | None = None):  # type: ignore[no-untyped-def]
    return leads.lead_claim_for_dialer(campaign=campaign, owner=owner, now=now or timezone.now())


def callback_lead(campaign, *, scope: str, agent=None, **kw):  # type: ignore[no-untyped-def]
    due = timezone.now() - dt.timedelta(minutes=10)
    lead = f.make_lead(
        campaign,
        status=LeadStatus.CALLBACK,
        attempts=1,
        next_attempt_at=due,
        assigned_agent=agent if scope == CallbackScope.OWN else None,
        **kw,
    )
    Callback.objects.create(lead=lead, due_at=due, scope=scope, owner=agent, created_by=agent)
    return lead


def test_it_records_the_dialer_as_the_holder(campaign):  # type: ignore[no-untyped-def]
    lead = f.make_lead(campaign)
    got = claim(campaign, "dialer-7")
    assert got == lead
    assert (got.status, got.claimed_by_dialer, got.claimed_by) == (
        LeadStatus.CLAIMED,
        "dialer-7",
        None,
    )
    assert got.claimed_at is not None


def test_it_takes_team_callbacks_first_then_priority_then_due_time(centre: Centre, campaign):  # type: ignore[no-untyped-def]
    now = timezone.now()
    late_high = f.make_lead(campaign, priority=5, next_attempt_at=now - dt.timedelta(minutes=1))
    early_high = f.make_lead(campaign, priority=5, next_attempt_at=now - dt.timedelta(hours=1))
    low = f.make_lead(campaign, priority=0)
    own = callback_lead(campaign, scope=CallbackScope.OWN, agent=centre.alice, priority=9)
    team = callback_lead(campaign, scope=CallbackScope.TEAM, agent=centre.alice)
    f.make_lead(campaign, priority=9, next_attempt_at=now + dt.timedelta(hours=1))  # not due

    order = [claim(campaign, now=now) for _ in range(4)]

    assert order == [team, early_high, late_high, low]
    # Alice's own callback waits for her preview.
    assert isinstance(claim(campaign, now=now), NoLead)
    own.refresh_from_db()
    assert own.status == LeadStatus.CALLBACK
    assert leads.lead_claim_next(agent=centre.alice, now=now) is not None


def test_two_processes_never_claim_the_same_lead(campaign, monkeypatch):  # type: ignore[no-untyped-def]
    only = f.make_lead(campaign)
    real_hold = leads.customer_dial_hold
    rival: list[object] = []

    def rival_claims_first(**kw):  # type: ignore[no-untyped-def]
        # Between dialer-1 reading the lead and its UPDATE, dialer-2 claims it.
        if not rival:
            rival.append(None)
            rival[0] = claim(campaign, "dialer-2")
        return real_hold(**kw)

    monkeypatch.setattr(leads, "customer_dial_hold", rival_claims_first)
    result = claim(campaign, "dialer-1")

    assert rival == [only]
    assert isinstance(result, NoLead)
    only.refresh_from_db()
    assert (only.status, only.claimed_by_dialer) == (LeadStatus.CLAIMED, "dialer-2")


def test_the_loser_of_a_race_takes_the_next_lead(campaign, monkeypatch):  # type: ignore[no-untyped-def]
    first = f.make_lead(campaign, priority=2)
    second = f.make_lead(campaign, priority=1)
    real_hold = leads.customer_dial_hold
    rival: list[object] = []

    def rival_claims_first(**kw):  # type: ignore[no-untyped-def]
        if not rival:
            rival.append(None)
            rival[0] = claim(campaign, "dialer-2")
        return real_hold(**kw)

    monkeypatch.setattr(leads, "customer_dial_hold", rival_claims_first)
    assert claim(campaign, "dialer-1") == second
    assert rival == [first]


def test_an_agent_and_the_dialer_never_share_a_lead(centre: Centre, campaign):  # type: ignore[no-untyped-def]
    f.assign(campaign, agent=centre.alice)
    only = f.make_lead(campaign)
    assert claim(campaign) == only
    assert isinstance(leads.lead_claim_next(agent=centre.alice), NoLead)


def test_it_refuses_an_owner_name_the_lead_cannot_hold(campaign):  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="owner"):
        claim(campaign, "")
    with pytest.raises(ValueError, match="owner"):
        claim(campaign, "x" * 65)


def test_a_paused_campaign_stops_the_dialer_at_its_next_claim(campaign):  # type: ignore[no-untyped-def]
    f.make_lead(campaign)
    type(campaign).objects.filter(pk=campaign.pk).update(status="paused")
    result = claim(campaign)  # the dialer's copy of the campaign still says active
    assert isinstance(result, NoLead) and result.code == leads.DialCode.NOT_RUNNING


def test_a_taken_over_lease_gives_back_the_undialed_leads(centre: Centre, campaign):  # type: ignore[no-untyped-def]
    now = timezone.now()
    fresh = f.make_lead(campaign)
    retried = f.make_lead(campaign, attempts=2)
    callback = callback_lead(campaign, scope=CallbackScope.TEAM, agent=centre.alice)
    in_call = f.make_lead(campaign)
    others = f.make_lead(campaign)
    for lead in (fresh, retried, callback, in_call):
        CampaignLead.objects.filter(pk=lead.pk).update(
            status=LeadStatus.CLAIMED, claimed_by_dialer="dialer-1", claimed_at=now
        )
    CampaignLead.objects.filter(pk=others.pk).update(
        status=LeadStatus.CLAIMED, claimed_by_dialer="dialer-2", claimed_at=now
    )
    # The old process left a call ringing for one of them; its end will settle that lead.
    Call.objects.create(
        client=centre.bank,
        campaign=campaign,
        lead=in_call,
        customer=in_call.customer,
        direction=Direction.OUTBOUND,
        number=in_call.customer.phones.get().e164,
    )
    # An ended call does not keep a lead.
    Call.objects.create(
        client=centre.bank,
        campaign=campaign,
        lead=fresh,
        customer=fresh.customer,
        direction=Direction.OUTBOUND,
        number=fresh.customer.phones.get().e164,
        ended_at=now - dt.timedelta(days=1),
    )

    released = leads.leads_release_for_dialer(campaign=campaign, owner="dialer-1", now=now)

    assert released == 3
    status = dict(CampaignLead.objects.filter(campaign=campaign).values_list("pk", "status"))
    assert status == {
        fresh.pk: LeadStatus.NEW,
        retried.pk: LeadStatus.RETRY,
        callback.pk: LeadStatus.CALLBACK,
        in_call.pk: LeadStatus.CLAIMED,
        others.pk: LeadStatus.CLAIMED,
    }
    fresh.refresh_from_db()
    assert (fresh.claimed_by_dialer, fresh.claimed_at) == ("", None)
    assert leads.leads_release_for_dialer(campaign=campaign, owner="dialer-1", now=now) == 0


def test_an_outcome_clears_the_dialer_holder(campaign):  # type: ignore[no-untyped-def]
    f.make_lead(campaign)
    lead = claim(campaign)
    lead = leads.lead_apply_system_outcome(
        lead=lead, outcome="no_answer", phone=None, now=timezone.now()
    )
    lead.refresh_from_db()
    assert (lead.status, lead.claimed_by_dialer) == (LeadStatus.RETRY, "")
