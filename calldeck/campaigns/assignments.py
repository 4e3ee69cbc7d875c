"""Who works which campaign on which day, with what priority (seed 004 任务分配).

Supervisors assign the teams they supervise and those teams' agents; campaign managers
assign any team and any agent of their clients. Like every campaign change, an
assignment first takes the campaign's row lock and writes one audit entry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calldeck.accounts import access
from calldeck.accounts.models import Role, Team, User
from calldeck.audit.services import audit_record
from calldeck.campaigns import selectors
from calldeck.campaigns.models import Campaign, CampaignAssignment, CampaignStatus
from calldeck.campaigns.services import NOT_ALLOWED, _lock, _require

S = CampaignStatus

ASSIGNEE_REQUIRED = _("Choose either a team or an agent.")
AGENT_NOT_AGENT = _("Only agents can be assigned to a campaign.")
AGENT_OTHER_CLIENT = _("This agent does not work for the campaign's client.")
TEAM_OTHER_CLIENT = _("No agent of this team works for the campaign's client on that day.")
DAY_PAST = _("Assignments cannot be changed for a day that has passed.")
DAY_OUTSIDE_CAMPAIGN = _("The campaign does not run on that day (%(starts)s – %(ends)s).")
CAMPAIGN_CLOSED = _("A campaign in status “%(status)s” cannot be assigned.")
PRIORITY_OUT_OF_RANGE = _("Priority must be between 1 and 99.")

# Statuses whose campaigns may still be given to agents.
ASSIGNABLE_STATUSES = frozenset({S.DRAFT, S.PILOT, S.ACTIVE, S.PAUSED})


def assignee_may_manage(
    actor: User, *, team: Team | None = None, agent: User | None = None, day: dt.date
) -> bool:
    """Whether ``actor`` may give work to, or take it from, this team or agent."""
    if team is not None:
        return selectors.teams_assignable_by(actor).filter(pk=team.pk).exists()
    if agent is not None:
        return selectors.agents_assignable_by(actor, day=day).filter(pk=agent.pk).exists()
    return False


def _assignee_errors(
    *, campaign: Campaign, day: dt.date, team: Team | None, agent: User | None
) -> dict[str, ValidationError]:
    """What makes no sense about giving ``campaign`` to this team or agent on ``day``."""
    if (team is None) == (agent is None):
        return {NON_FIELD_ERRORS: ValidationError(ASSIGNEE_REQUIRED, code="assignee")}
    errors: dict[str, ValidationError] = {}
    if agent is not None:
        if agent.role != Role.AGENT:
            errors["agent"] = ValidationError(AGENT_NOT_AGENT, code="not_agent")
        elif not agent.is_active or not agent.clients.filter(pk=campaign.client_id).exists():
            errors["agent"] = ValidationError(AGENT_OTHER_CLIENT, code="other_client")
    if team is not None and not selectors.team_has_client_agent(
        team, client_id=campaign.client_id, day=day
    ):
        errors["team"] = ValidationError(TEAM_OTHER_CLIENT, code="other_client")
    return errors


def _refuse_past(day: dt.date) -> None:
    if day < timezone.localdate():
        raise ValidationError({"day": ValidationError(DAY_PAST, code="past")})


@transaction.atomic
def assignment_set(
    *,
    actor: User,
    campaign: Campaign,
    day: dt.date,
    team: Team | None = None,
    agent: User | None = None,
    priority: int,
    daily_target: int | None = None,
) -> CampaignAssignment:
    """Give ``campaign`` to a team or an agent for ``day``, or change that assignment.

    Supervisors assign only the teams they supervise and those teams' agents; campaign
    managers assign any team and any agent of their clients. Setting an existing
    assignment again updates its priority and daily target.
    """
    _require(actor, access.ASSIGNERS, campaign.client_id)
    errors = _assignee_errors(campaign=campaign, day=day, team=team, agent=agent)
    if errors:
        raise ValidationError(errors)
    if not assignee_may_manage(actor, team=team, agent=agent, day=day):
        raise PermissionDenied(NOT_ALLOWED)
    _refuse_past(day)
    campaign = _lock(campaign)
    if campaign.status not in ASSIGNABLE_STATUSES:
        errors[NON_FIELD_ERRORS] = ValidationError(
            CAMPAIGN_CLOSED, code="closed", params={"status": campaign.get_status_display()}
        )
    if (campaign.starts_on and day < campaign.starts_on) or (
        campaign.ends_on and day > campaign.ends_on
    ):
        errors["day"] = ValidationError(
            DAY_OUTSIDE_CAMPAIGN,
            code="outside",
            params={"starts": campaign.starts_on or "…", "ends": campaign.ends_on or "…"},
        )
    if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 99:
        errors["priority"] = ValidationError(PRIORITY_OUT_OF_RANGE, code="out_of_range")
    if errors:
        raise ValidationError(errors)

    assignment = (
        CampaignAssignment.objects.select_for_update()
        .filter(campaign=campaign, day=day, team=team, agent=agent)
        .first()
    )
    if assignment is None:
        assignment = CampaignAssignment(
            campaign=campaign, day=day, team=team, agent=agent, created_by=actor
        )
        before: dict[str, Any] = {}
    else:
        before = {"priority": assignment.priority, "daily_target": assignment.daily_target}
    after = {"priority": priority, "daily_target": daily_target}
    if before == after:
        return assignment
    assignment.priority = priority
    assignment.daily_target = daily_target
    assignment.full_clean()
    assignment.save()
    audit_record(
        actor=actor,
        action="assignment.set",
        obj=assignment,
        client_id=campaign.client_id,
        changes={
            "campaign": campaign.pk,
            "day": day.isoformat(),
            "team": team.pk if team else None,
            "agent": agent.pk if agent else None,
            **{name: [before.get(name), value] for name, value in after.items()},
        },
    )
    return assignment


@transaction.atomic
def assignment_remove(*, actor: User, assignment: CampaignAssignment) -> None:
    """Take a campaign away from a team or agent for the assignment's day."""
    campaign = assignment.campaign
    _require(actor, access.ASSIGNERS, campaign.client_id)
    if not assignee_may_manage(
        actor, team=assignment.team, agent=assignment.agent, day=assignment.day
    ):
        raise PermissionDenied(NOT_ALLOWED)
    _refuse_past(assignment.day)
    audit_record(
        actor=actor,
        action="assignment.remove",
        obj=assignment,
        client_id=campaign.client_id,
        changes={
            "campaign": campaign.pk,
            "day": assignment.day.isoformat(),
            "team": assignment.team_id,
            "agent": assignment.agent_id,
            "priority": assignment.priority,
            "daily_target": assignment.daily_target,
        },
    )
    assignment.delete()
