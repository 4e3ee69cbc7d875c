"""The supervisors' assignment page: a day's dialable campaigns, assign and remove."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from calldeck.accounts.models import Role, User
from calldeck.campaigns.models import CampaignAssignment, CampaignStatus
from tests import factories as f
from tests.campaigns.builders import make_supervisor, make_team_of
from tests.conftest import Centre


def browser(user: User, **headers: str) -> HttpClient:
    client = HttpClient(headers=headers)
    client.force_login(user)
    return client


def test_it_lists_the_dialable_campaigns_of_the_day(centre: Centre):
    f.make_campaign(centre.bank, name="进行中")
    f.make_campaign(centre.bank, name="试点中", status=CampaignStatus.PILOT)
    f.make_campaign(centre.bank, name="草稿中", status=CampaignStatus.DRAFT)
    f.make_campaign(centre.insurer, name="保险续保")

    response = browser(centre.carol).get(reverse("calldeck-assignments"))

    assert response.status_code == 200
    names = {card["campaign"].name for card in response.context["cards"]}
    assert names == {"进行中", "试点中"}
    assert response.context["day"] == timezone.localdate()


def test_it_offers_a_supervisor_their_teams_and_a_manager_all(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    team_b = make_team_of(
        f.make_user(Role.AGENT, clients=[centre.bank]), supervisor=make_supervisor(centre.bank)
    )

    def offered(user: User) -> set[str]:
        [card] = browser(user).get(reverse("calldeck-assignments")).context["cards"]
        assert card["campaign"] == campaign
        return {
            value
            for group, options in card["form"].fields["assignee"].choices[1:]
            for value, _label in options
        }

    carol_sees = offered(centre.carol)
    assert f"team:{centre.team_a.pk}" in carol_sees
    assert f"team:{team_b.pk}" not in carol_sees
    assert {f"agent:{centre.alice.pk}", f"agent:{centre.bob.pk}"} <= carol_sees
    assert f"team:{team_b.pk}" in offered(centre.dave)


def test_it_assigns_a_team_by_a_plain_post(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    day = timezone.localdate() + dt.timedelta(days=1)

    response = browser(centre.carol).post(
        reverse("calldeck-assignment-set", kwargs={"pk": campaign.pk}),
        {
            "day": day.isoformat(),
            "assignee": f"team:{centre.team_a.pk}",
            "priority": "2",
            "daily_target": "150",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('calldeck-assignments')}?day={day.isoformat()}"
    assignment = CampaignAssignment.objects.get()
    assert (assignment.team, assignment.day, assignment.priority) == (centre.team_a, day, 2)
    assert assignment.daily_target == 150


def test_it_assigns_an_agent_with_htmx_and_answers_with_the_card(centre: Centre):
    campaign = f.make_campaign(centre.bank)

    response = browser(centre.carol, HX_Request="true").post(
        reverse("calldeck-assignment-set", kwargs={"pk": campaign.pk}),
        {
            "day": timezone.localdate().isoformat(),
            "assignee": f"agent:{centre.alice.pk}",
            "priority": "1",
        },
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="campaign-{campaign.pk}"' in body and "<html" not in body
    assert CampaignAssignment.objects.get().agent == centre.alice


def test_it_refuses_another_supervisors_team_posted_by_hand(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    team_b = make_team_of(
        f.make_user(Role.AGENT, clients=[centre.bank]), supervisor=make_supervisor(centre.bank)
    )

    response = browser(centre.carol).post(
        reverse("calldeck-assignment-set", kwargs={"pk": campaign.pk}),
        {"day": timezone.localdate().isoformat(), "assignee": f"team:{team_b.pk}", "priority": "1"},
    )

    # Not among Carol's choices: the form refuses it and shows the page again.
    assert response.status_code == 200
    assert not CampaignAssignment.objects.exists()


@pytest.mark.parametrize("priority", ["0", "100", ""])
def test_it_refuses_a_bad_priority(centre: Centre, priority: str):
    campaign = f.make_campaign(centre.bank)

    response = browser(centre.carol, HX_Request="true").post(
        reverse("calldeck-assignment-set", kwargs={"pk": campaign.pk}),
        {
            "day": timezone.localdate().isoformat(),
            "assignee": f"team:{centre.team_a.pk}",
            "priority": priority,
        },
    )

    assert response.status_code == 422
    assert not CampaignAssignment.objects.exists()


def test_it_removes_an_assignment(centre: Centre):
    assignment = f.assign(f.make_campaign(centre.bank), team=centre.team_a)

    response = browser(centre.carol).post(
        reverse("calldeck-assignment-remove", kwargs={"pk": assignment.pk})
    )

    assert response.status_code == 302
    assert not CampaignAssignment.objects.exists()


def test_it_hides_the_remove_button_of_other_supervisors_assignments(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    team_b = make_team_of(
        f.make_user(Role.AGENT, clients=[centre.bank]), supervisor=make_supervisor(centre.bank)
    )
    f.assign(campaign, team=team_b)
    mine = f.assign(campaign, team=centre.team_a)

    [card] = browser(centre.carol).get(reverse("calldeck-assignments")).context["cards"]

    assert {a.pk: may for a, may in card["assignments"]} == {
        mine.pk: True,
        CampaignAssignment.objects.get(team=team_b).pk: False,
    }


def test_it_hides_assignments_of_another_clients_campaign(centre: Centre):
    insurer_assignment = f.assign(f.make_campaign(centre.insurer), team=centre.team_a)

    response = browser(centre.carol).post(
        reverse("calldeck-assignment-remove", kwargs={"pk": insurer_assignment.pk})
    )

    assert response.status_code == 404
    assert CampaignAssignment.objects.filter(pk=insurer_assignment.pk).exists()


@pytest.mark.parametrize("persona", ["alice", "erin", "quinn"])
def test_it_refuses_the_assignment_pages_to_other_roles(centre: Centre, persona: str):
    campaign = f.make_campaign(centre.bank)
    assignment = f.assign(campaign, team=centre.team_a)
    client = browser(getattr(centre, persona))

    assert client.get(reverse("calldeck-assignments")).status_code == 403
    set_url = reverse("calldeck-assignment-set", kwargs={"pk": campaign.pk})
    assert client.post(set_url, {"assignee": f"team:{centre.team_a.pk}"}).status_code == 403
    remove_url = reverse("calldeck-assignment-remove", kwargs={"pk": assignment.pk})
    assert client.post(remove_url).status_code == 403
    assert CampaignAssignment.objects.count() == 1
