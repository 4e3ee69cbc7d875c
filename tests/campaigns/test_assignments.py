"""Giving campaigns to teams and agents for a day: who may, what is refused, what is audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from calldeck.accounts.models import Role
from calldeck.audit.models import AuditEntry
from calldeck.campaigns import assignments
from calldeck.campaigns.models import CampaignAssignment, CampaignStatus
from tests import factories as f
from tests.campaigns.builders import make_supervisor, make_team_of
from tests.conftest import Centre


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


def test_it_lets_a_supervisor_assign_their_team(centre: Centre, today: dt.date):
    campaign = f.make_campaign(centre.bank)

    assignment = assignments.assignment_set(
        actor=centre.carol,
        campaign=campaign,
        day=today,
        team=centre.team_a,
        priority=2,
        daily_target=120,
    )

    assert (assignment.team, assignment.agent, assignment.priority) == (centre.team_a, None, 2)
    assert assignment.daily_target == 120
    assert assignment.created_by == centre.carol
    entry = AuditEntry.objects.get(action="assignment.set")
    assert entry.client_id == centre.bank.pk
    assert entry.changes["team"] == centre.team_a.pk
    assert entry.changes["priority"] == [None, 2]


def test_it_lets_a_supervisor_assign_an_agent_of_their_team(centre: Centre, today: dt.date):
    campaign = f.make_campaign(centre.bank)

    assignment = assignments.assignment_set(
        actor=centre.carol, campaign=campaign, day=today, agent=centre.alice, priority=1
    )

    assert assignment.agent == centre.alice


def test_it_updates_an_existing_assignment_instead_of_adding_one(centre: Centre, today: dt.date):
    campaign = f.make_campaign(centre.bank)
    assignments.assignment_set(
        actor=centre.carol, campaign=campaign, day=today, team=centre.team_a, priority=5
    )

    assignments.assignment_set(
        actor=centre.carol, campaign=campaign, day=today, team=centre.team_a, priority=1
    )

    assert CampaignAssignment.objects.get().priority == 1
    last = AuditEntry.objects.filter(action="assignment.set").order_by("-pk").first()
    assert last is not None
    assert last.changes["priority"] == [5, 1]


def test_it_refuses_a_team_the_supervisor_does_not_supervise(centre: Centre, today: dt.date):
    other_supervisor = make_supervisor(centre.bank)
    bank_agent = f.make_user(Role.AGENT, clients=[centre.bank])
    team_b = make_team_of(bank_agent, supervisor=other_supervisor)
    campaign = f.make_campaign(centre.bank)

    with pytest.raises(PermissionDenied):
        assignments.assignment_set(
            actor=centre.carol, campaign=campaign, day=today, team=team_b, priority=1
        )
    with pytest.raises(PermissionDenied):
        assignments.assignment_set(
            actor=centre.carol, campaign=campaign, day=today, agent=bank_agent, priority=1
        )
    assert not CampaignAssignment.objects.exists()


def test_it_lets_a_campaign_manager_assign_any_team_and_agent(centre: Centre, today: dt.date):
    bank_agent = f.make_user(Role.AGENT, clients=[centre.bank])
    team_b = make_team_of(bank_agent, supervisor=make_supervisor(centre.bank))
    campaign = f.make_campaign(centre.bank)

    assignments.assignment_set(
        actor=centre.dave, campaign=campaign, day=today, team=team_b, priority=1
    )
    assignments.assignment_set(
        actor=centre.dave, campaign=campaign, day=today, agent=bank_agent, priority=3
    )

    assert CampaignAssignment.objects.count() == 2


@pytest.mark.parametrize("persona", ["erin", "quinn", "alice"])
def test_it_refuses_assignments_by_other_roles(centre: Centre, today: dt.date, persona: str):
    campaign = f.make_campaign(centre.bank)

    with pytest.raises(PermissionDenied):
        assignments.assignment_set(
            actor=getattr(centre, persona),
            campaign=campaign,
            day=today,
            team=centre.team_a,
            priority=1,
        )


def test_it_refuses_assigning_another_clients_campaign(centre: Centre, today: dt.date):
    campaign = f.make_campaign(centre.insurer)

    with pytest.raises(PermissionDenied):
        assignments.assignment_set(
            actor=centre.carol, campaign=campaign, day=today, team=centre.team_a, priority=1
        )


def test_it_refuses_a_team_with_no_agent_of_the_campaigns_client(centre: Centre, today: dt.date):
    insurer_team = make_team_of(centre.mallory, supervisor=centre.carol)
    campaign = f.make_campaign(centre.bank)

    with pytest.raises(ValidationError) as exc:
        assignments.assignment_set(
            actor=centre.carol, campaign=campaign, day=today, team=insurer_team, priority=1
        )

    assert exc.value.message_dict["team"] == [str(assignments.TEAM_OTHER_CLIENT)]


def test_it_refuses_an_agent_who_does_not_work_for_the_client(centre: Centre, today: dt.date):
    # Dave manages both clients; Mallory works for the insurer only.
    centre.dave.clients.add(centre.insurer)
    campaign = f.make_campaign(centre.bank)

    with pytest.raises(ValidationError) as exc:
        assignments.assignment_set(
            actor=centre.dave, campaign=campaign, day=today, agent=centre.mallory, priority=1
        )

    assert exc.value.message_dict["agent"] == [str(assignments.AGENT_OTHER_CLIENT)]


def test_it_refuses_assigning_a_user_who_is_not_an_agent(centre: Centre, today: dt.date):
    campaign = f.make_campaign(centre.bank)

    with pytest.raises(ValidationError) as exc:
        assignments.assignment_set(
            actor=centre.dave, campaign=campaign, day=today, agent=centre.erin, priority=1
        )

    assert exc.value.message_dict["agent"] == [str(assignments.AGENT_NOT_AGENT)]


def test_it_needs_exactly_one_of_team_and_agent(centre: Centre, today: dt.date):
    campaign = f.make_campaign(centre.bank)

    with pytest.raises(ValidationError):
        assignments.assignment_set(actor=centre.dave, campaign=campaign, day=today, priority=1)
    with pytest.raises(ValidationError):
        assignments.assignment_set(
            actor=centre.dave,
            campaign=campaign,
            day=today,
            team=centre.team_a,
            agent=centre.alice,
            priority=1,
        )


@pytest.mark.parametrize("priority", [0, 100])
def test_it_refuses_a_priority_outside_1_to_99(centre: Centre, today: dt.date, priority: int):
    campaign = f.make_campaign(centre.bank)

    with pytest.raises(ValidationError) as exc:
        assignments.assignment_set(
            actor=centre.carol, campaign=campaign, day=today, team=centre.team_a, priority=priority
        )

    assert "priority" in exc.value.message_dict


def test_it_refuses_a_day_that_has_passed(centre: Centre, today: dt.date):
    campaign = f.make_campaign(centre.bank)

    with pytest.raises(ValidationError) as exc:
        assignments.assignment_set(
            actor=centre.carol,
            campaign=campaign,
            day=today - dt.timedelta(days=1),
            team=centre.team_a,
            priority=1,
        )

    assert exc.value.message_dict["day"] == [str(assignments.DAY_PAST)]


def test_it_refuses_a_day_outside_the_campaigns_dates(centre: Centre, today: dt.date):
    campaign = f.make_campaign(centre.bank, ends_on=today + dt.timedelta(days=1))

    with pytest.raises(ValidationError) as exc:
        assignments.assignment_set(
            actor=centre.carol,
            campaign=campaign,
            day=today + dt.timedelta(days=2),
            team=centre.team_a,
            priority=1,
        )

    assert "day" in exc.value.message_dict


@pytest.mark.parametrize("status", [CampaignStatus.COMPLETED, CampaignStatus.ARCHIVED])
def test_it_refuses_assigning_a_finished_campaign(centre: Centre, today: dt.date, status: str):
    campaign = f.make_campaign(centre.bank, status=status)

    with pytest.raises(ValidationError):
        assignments.assignment_set(
            actor=centre.carol, campaign=campaign, day=today, team=centre.team_a, priority=1
        )
    assert not CampaignAssignment.objects.exists()


def test_it_removes_an_assignment_and_audits_it(centre: Centre, today: dt.date):
    campaign = f.make_campaign(centre.bank)
    assignment = f.assign(campaign, team=centre.team_a, priority=4)
    pk = assignment.pk

    assignments.assignment_remove(actor=centre.carol, assignment=assignment)

    assert not CampaignAssignment.objects.exists()
    entry = AuditEntry.objects.get(action="assignment.remove")
    assert entry.object_id == str(pk)
    assert entry.changes["priority"] == 4


def test_it_refuses_removing_another_supervisors_assignment(centre: Centre):
    team_b = make_team_of(
        f.make_user(Role.AGENT, clients=[centre.bank]), supervisor=make_supervisor(centre.bank)
    )
    assignment = f.assign(f.make_campaign(centre.bank), team=team_b)

    with pytest.raises(PermissionDenied):
        assignments.assignment_remove(actor=centre.carol, assignment=assignment)
    assert CampaignAssignment.objects.filter(pk=assignment.pk).exists()


def test_it_keeps_past_assignments_as_history(centre: Centre, today: dt.date):
    assignment = f.assign(
        f.make_campaign(centre.bank), team=centre.team_a, day=today - dt.timedelta(days=1)
    )

    with pytest.raises(ValidationError):
        assignments.assignment_remove(actor=centre.carol, assignment=assignment)
    assert CampaignAssignment.objects.filter(pk=assignment.pk).exists()
