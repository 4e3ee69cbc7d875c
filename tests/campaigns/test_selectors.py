"""Who sees which campaign: clients for readers, today's assignments for agents."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404
from django.utils import timezone

from calldeck.accounts.models import Role, TeamMembership
from calldeck.campaigns import selectors
from calldeck.campaigns.models import CampaignStatus
from tests import factories as f
from tests.conftest import Centre


def test_it_shows_readers_every_campaign_of_their_clients_only(centre: Centre):
    bank = f.make_campaign(centre.bank, status=CampaignStatus.DRAFT)
    f.make_campaign(centre.insurer)

    for persona in (centre.dave, centre.carol, centre.erin):
        assert list(selectors.campaigns_for_user(persona)) == [bank]


@pytest.mark.parametrize("role", [Role.QA, Role.ACCOUNT_MANAGER, Role.BRANCH_MANAGER])
def test_it_shows_roles_outside_the_readers_nothing(centre: Centre, role: Role):
    campaign = f.make_campaign(centre.bank)
    f.assign(campaign, team=centre.team_a)
    user = f.make_user(role, clients=[centre.bank])

    assert not selectors.campaigns_for_user(user).exists()


def test_it_shows_an_agent_a_campaign_assigned_to_their_team_today(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    f.assign(campaign, team=centre.team_a)
    f.make_campaign(centre.bank)  # not assigned: not shown

    assert list(selectors.campaigns_for_user(centre.alice)) == [campaign]
    assert list(selectors.campaigns_for_user(centre.bob)) == [campaign]


def test_it_shows_an_agent_a_campaign_assigned_to_them_directly(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    f.assign(campaign, agent=centre.alice)

    assert list(selectors.campaigns_for_user(centre.alice)) == [campaign]
    # Bob is in the same team, but the assignment is Alice's own.
    assert not selectors.campaigns_for_user(centre.bob).exists()


def test_it_hides_campaigns_assigned_for_another_day(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    f.assign(campaign, team=centre.team_a, day=timezone.localdate() + dt.timedelta(days=1))
    f.assign(campaign, agent=centre.alice, day=timezone.localdate() - dt.timedelta(days=1))

    assert not selectors.campaigns_for_user(centre.alice).exists()


def test_it_hides_team_campaigns_from_an_agent_who_left_the_team(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    f.assign(campaign, team=centre.team_a)
    TeamMembership.objects.filter(user=centre.bob).update(
        valid_to=timezone.localdate() - dt.timedelta(days=1)
    )

    assert not selectors.campaigns_for_user(centre.bob).exists()


def test_it_hides_an_assigned_campaign_of_a_client_the_agent_lacks(centre: Centre):
    # Mallory works for the insurer; a bank campaign given to her is still not hers to see.
    campaign = f.make_campaign(centre.bank)
    f.assign(campaign, agent=centre.mallory)

    assert not selectors.campaigns_for_user(centre.mallory).exists()


def test_it_raises_404_for_a_campaign_the_user_may_not_see(centre: Centre):
    insurer = f.make_campaign(centre.insurer)
    bank = f.make_campaign(centre.bank)

    with pytest.raises(Http404):
        selectors.campaign_get_for_user(centre.dave, insurer.pk)
    with pytest.raises(Http404):
        selectors.campaign_get_for_user(centre.alice, bank.pk)
    assert selectors.campaign_get_for_user(centre.dave, bank.pk) == bank


def test_it_lists_an_agents_tasks_first_priority_first(centre: Centre):
    main = f.make_campaign(centre.bank, name="主推")
    side = f.make_campaign(centre.bank, name="次要")
    paused = f.make_campaign(centre.bank, name="暂停", status=CampaignStatus.PAUSED)
    f.assign(side, team=centre.team_a, priority=5)
    f.assign(main, agent=centre.alice, priority=1)
    f.assign(paused, agent=centre.alice, priority=1)

    tasks = list(selectors.assignments_for_agent(centre.alice))

    # Paused campaigns are not dialed, so they are no task today.
    assert [t.campaign for t in tasks] == [main, side]


def test_it_counts_leads_by_status_in_one_query(centre: Centre, django_assert_num_queries):
    campaign = f.make_campaign(centre.bank)
    f.make_lead(campaign)
    f.make_lead(campaign, status="done")
    f.make_lead(campaign, status="done")
    empty = f.make_campaign(centre.bank)

    with django_assert_num_queries(1):
        counts = selectors.lead_counts_by_campaign([campaign.pk, empty.pk])

    assert counts[campaign.pk]["new"] == 1
    assert counts[campaign.pk]["done"] == 2
    assert sum(counts[empty.pk].values()) == 0


def test_it_offers_supervisors_only_their_teams_and_agents(centre: Centre):
    other_team = f.make_team(supervisor=None)

    assert list(selectors.teams_assignable_by(centre.carol)) == [centre.team_a]
    assert set(selectors.teams_assignable_by(centre.dave)) == {centre.team_a, other_team}
    assert set(selectors.agents_assignable_by(centre.carol)) == {centre.alice, centre.bob}
    assert set(selectors.agents_assignable_by(centre.dave)) == {centre.alice, centre.bob}
