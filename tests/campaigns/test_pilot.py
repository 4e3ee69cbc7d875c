"""The pilot sample (seed 004 第三步 4): the seeded draw, what is dialed, the roll-out."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from calldeck.audit.models import AuditEntry
from calldeck.campaigns import services
from calldeck.campaigns.lists import pilot_draw, pilot_open, pilot_roll_out
from calldeck.campaigns.models import (
    Campaign,
    CampaignLead,
    CampaignStatus,
    LeadPhase,
    LeadStatus,
    Pilot,
)
from calldeck.dialing.leads import NoLead, lead_claim_next
from tests import factories as f
from tests.campaigns.list_builders import new_leads, phases
from tests.conftest import Centre

pytestmark = pytest.mark.django_db


def pilot_ids(campaign: Campaign) -> set[int]:
    return set(
        CampaignLead.objects.filter(campaign=campaign, phase=LeadPhase.PILOT).values_list(
            "pk", flat=True
        )
    )


def test_it_draws_a_sample_into_the_pilot_and_the_rest_waits(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.DRAFT)
    new_leads(campaign, 130)

    pilot = pilot_draw(actor=centre.dave, campaign=campaign, size=100, seed=7)

    assert (pilot.seed, pilot.size, pilot.drawn, pilot.rolled_out_at) == (7, 100, 100, None)
    assert phases(campaign) == {LeadPhase.PILOT: 100, LeadPhase.WAITING: 30}
    entry = AuditEntry.objects.get(action="campaign.pilot_draw")
    assert entry.changes["seed"] == 7 and entry.changes["drawn"] == 100


def test_it_the_same_seed_over_the_same_list_draws_the_same_sample(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.DRAFT)
    new_leads(campaign, 140)

    pilot_draw(actor=centre.dave, campaign=campaign, size=100, seed=2024)
    first = pilot_ids(campaign)
    pilot_draw(actor=centre.dave, campaign=campaign, size=100, seed=99)
    other = pilot_ids(campaign)
    pilot_draw(actor=centre.dave, campaign=campaign, size=100, seed=2024)
    again = pilot_ids(campaign)

    assert again == first
    assert other != first
    # A redraw replaces the open pilot: there is one, with the last seed.
    assert list(Pilot.objects.filter(campaign=campaign).values_list("seed", flat=True)) == [2024]


def test_it_the_sample_is_random_sample_over_the_leads_by_id(centre: Centre):
    import random

    campaign = f.make_campaign(centre.bank, status=CampaignStatus.DRAFT)
    leads = new_leads(campaign, 120)

    pilot_draw(actor=centre.dave, campaign=campaign, size=100, seed=5)

    expected = set(random.Random(5).sample(sorted(lead.pk for lead in leads), 100))
    assert pilot_ids(campaign) == expected


def test_it_without_a_seed_one_is_chosen_and_recorded(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.DRAFT)
    new_leads(campaign, 100)

    pilot = pilot_draw(actor=centre.dave, campaign=campaign)

    assert pilot.seed >= 0 and pilot.size == 150 and pilot.drawn == 100


@pytest.mark.parametrize("size", [99, 201, 0])
def test_it_the_sample_size_is_100_to_200(centre: Centre, size: int):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.DRAFT)
    new_leads(campaign, 3)

    with pytest.raises(ValidationError) as caught:
        pilot_draw(actor=centre.dave, campaign=campaign, size=size, seed=1)

    assert "between 100 and 200" in caught.value.messages[0]
    assert not Pilot.objects.exists()


def test_it_a_short_list_is_drawn_whole_and_says_so(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.DRAFT)
    new_leads(campaign, 40)

    pilot = pilot_draw(actor=centre.dave, campaign=campaign, size=200, seed=1)

    assert (pilot.size, pilot.drawn) == (200, 40)
    assert phases(campaign) == {LeadPhase.PILOT: 40}


def test_it_an_empty_list_has_no_pilot(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.DRAFT)

    with pytest.raises(ValidationError, match="load customers first"):
        pilot_draw(actor=centre.dave, campaign=campaign, size=100, seed=1)


@pytest.mark.parametrize("status", [CampaignStatus.ACTIVE, CampaignStatus.PAUSED])
def test_it_a_pilot_is_drawn_only_in_draft_or_pilot(centre: Centre, status: str):
    campaign = f.make_campaign(centre.bank, status=status)
    new_leads(campaign, 100)

    with pytest.raises(ValidationError, match="draft or in pilot"):
        pilot_draw(actor=centre.dave, campaign=campaign, size=100, seed=1)


def test_it_only_list_loaders_draw(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.DRAFT)

    with pytest.raises(PermissionDenied):
        pilot_draw(actor=centre.carol, campaign=campaign, size=100, seed=1)


def test_it_a_redraw_sends_undialed_pilot_leads_back_and_keeps_the_dialed_ones(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.PILOT)
    new_leads(campaign, 100)
    pilot_draw(actor=centre.dave, campaign=campaign, size=100, seed=1)
    dialed = CampaignLead.objects.filter(campaign=campaign).order_by("pk")[0]
    CampaignLead.objects.filter(pk=dialed.pk).update(status=LeadStatus.RETRY, attempts=1)
    more = new_leads(campaign, 30)  # loaded during the pilot: waiting
    CampaignLead.objects.filter(pk__in=[lead.pk for lead in more]).update(phase=LeadPhase.WAITING)

    pilot = pilot_draw(actor=centre.dave, campaign=campaign, size=100, seed=3)

    # 129 never-dialed leads to draw from; the dialed one stays in the pilot with its retry.
    assert pilot.drawn == 100
    assert phases(campaign) == {LeadPhase.PILOT: 101, LeadPhase.WAITING: 29}
    assert CampaignLead.objects.get(pk=dialed.pk).phase == LeadPhase.PILOT
    assert Pilot.objects.filter(campaign=campaign).count() == 1


def test_it_in_pilot_only_the_sample_is_dialed_and_the_rest_after_going_active(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.PILOT)
    f.assign(campaign, agent=centre.alice)
    new_leads(campaign, 105)
    pilot_draw(actor=centre.dave, campaign=campaign, size=100, seed=11)

    claimed = lead_claim_next(agent=centre.alice)
    assert isinstance(claimed, CampaignLead) and claimed.phase == LeadPhase.PILOT

    # With the sample worked through, the waiting leads are still not dialed.
    CampaignLead.objects.filter(campaign=campaign, phase=LeadPhase.PILOT).update(
        status=LeadStatus.DONE
    )
    assert isinstance(lead_claim_next(agent=centre.alice), NoLead)

    services.campaign_transition(
        actor=centre.dave, campaign=campaign, to_status=CampaignStatus.ACTIVE
    )

    after = lead_claim_next(agent=centre.alice)
    assert isinstance(after, CampaignLead) and after.phase == LeadPhase.MAIN
    assert phases(campaign) == {LeadPhase.PILOT: 100, LeadPhase.MAIN: 5}
    assert pilot_open(campaign) is None
    assert Pilot.objects.get(campaign=campaign).rolled_out_at is not None


def test_it_the_roll_out_makes_waiting_leads_main_leads_once(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.PILOT)
    new_leads(campaign, 110)
    pilot_draw(actor=centre.dave, campaign=campaign, size=100, seed=1)

    assert pilot_roll_out(actor=centre.erin, campaign=campaign) == 10
    assert pilot_roll_out(actor=centre.erin, campaign=campaign) == 0

    assert phases(campaign) == {LeadPhase.PILOT: 100, LeadPhase.MAIN: 10}
    assert AuditEntry.objects.filter(action="campaign.pilot_roll_out").count() == 1


def test_it_going_active_without_a_pilot_changes_no_lead(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.DRAFT)
    lead = f.make_lead(campaign)
    before = CampaignLead.objects.get(pk=lead.pk).updated_at

    services.campaign_transition(
        actor=centre.dave, campaign=campaign, to_status=CampaignStatus.ACTIVE
    )

    assert CampaignLead.objects.get(pk=lead.pk).updated_at == before
    assert timezone.now() >= before
