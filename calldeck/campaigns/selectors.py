"""Reads of campaigns and their assignments, restricted to what a user may see.

Every page, export or API answer that shows a campaign fetches it through
``campaigns_for_user`` or ``campaign_get_for_user``: the client scoping and the
agent's "assigned to me today" rule live here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from calldeck.accounts import access
from calldeck.accounts.models import Role, Team, User
from calldeck.callscripts.models import Script
from calldeck.campaigns.models import (
    DIALABLE_STATUSES,
    Campaign,
    CampaignAssignment,
    CampaignLead,
    DispositionSet,
    LeadStatus,
    Offer,
)


def campaigns_for_user(user: User, *, day: dt.date | None = None) -> QuerySet[Campaign]:
    """The campaigns ``user`` may see.

    Campaign readers see every campaign of their clients. An agent sees only the
    campaigns assigned for ``day`` (default today) to them or to a team they belong to
    on that day; every other role sees none.
    """
    if not user.is_authenticated or not user.is_active:
        return Campaign.objects.none()
    campaigns = access.scoped(Campaign.objects.all(), user)
    if access.has_role(user, access.CAMPAIGN_READERS):
        return campaigns
    if user.role == Role.AGENT:
        day = day or timezone.localdate()
        assigned = CampaignAssignment.objects.filter(day=day).filter(
            Q(agent=user) | Q(team_id__in=access.current_team_ids(user, day))
        )
        return campaigns.filter(pk__in=assigned.values("campaign_id"))
    return Campaign.objects.none()


def campaign_get_for_user(user: User, pk: int) -> Campaign:
    """One campaign ``user`` may see; Http404 otherwise, so that its existence stays hidden."""
    return get_object_or_404(
        campaigns_for_user(user).select_related(
            "client", "offer", "script", "disposition_set", "created_by"
        ),
        pk=pk,
    )


def agent_assignments(user: User, *, day: dt.date | None = None) -> QuerySet[CampaignAssignment]:
    """Every assignment of ``day`` to the agent or a team of theirs, whatever the status.

    The campaigns are those the agent may see; the first priority comes first.
    """
    day = day or timezone.localdate()
    return (
        CampaignAssignment.objects.filter(day=day, campaign__in=campaigns_for_user(user, day=day))
        .filter(Q(agent=user) | Q(team_id__in=access.current_team_ids(user, day)))
        .select_related("campaign", "team")
        .order_by("priority", "campaign__name", "id")
    )


def assignments_for_agent(
    user: User, *, day: dt.date | None = None
) -> QuerySet[CampaignAssignment]:
    """The agent's tasks for ``day``: own and team assignments of visible dialable campaigns.

    A campaign assigned both to the agent and to their team appears twice; callers that
    need one row per campaign keep the first (the lowest priority number comes first).
    """
    return agent_assignments(user, day=day).filter(campaign__status__in=DIALABLE_STATUSES)


def assignments_of_day(day: dt.date) -> QuerySet[CampaignAssignment]:
    """All assignments of ``day``, first priority first; narrow it to visible campaigns."""
    return (
        CampaignAssignment.objects.filter(day=day)
        .select_related("team", "agent")
        .order_by("priority", "id")
    )


def assignments_for_campaign(campaign: Campaign, *, day: dt.date) -> QuerySet[CampaignAssignment]:
    return assignments_of_day(day).filter(campaign=campaign)


def lead_counts_by_campaign(campaign_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Leads per status for each campaign, in one query; missing statuses count 0."""
    ids = list(campaign_ids)
    counts: dict[int, dict[str, int]] = {pk: dict.fromkeys(LeadStatus.values, 0) for pk in ids}
    rows = (
        CampaignLead.objects.filter(campaign_id__in=ids)
        .values_list("campaign_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for campaign_id, status, n in rows:
        counts[campaign_id][status] = n
    return counts


def teams_assignable_by(user: User) -> QuerySet[Team]:
    """Teams ``user`` may give work to: campaign managers all, supervisors their own."""
    if access.has_role(user, access.CAMPAIGN_EDITORS):
        return Team.objects.all()
    if access.has_role(user, access.ASSIGNERS):
        return Team.objects.filter(supervisor=user)
    return Team.objects.none()


def agents_assignable_by(user: User, *, day: dt.date | None = None) -> QuerySet[User]:
    """Active agents of ``user``'s clients; for a supervisor, only members of their teams."""
    if not access.has_role(user, access.ASSIGNERS):
        return User.objects.none()
    agents = User.objects.filter(
        role=Role.AGENT, is_active=True, clients__in=access.client_ids_for(user)
    )
    if not access.has_role(user, access.CAMPAIGN_EDITORS):
        day = day or timezone.localdate()
        agents = agents.filter(
            Q(memberships__valid_to__isnull=True) | Q(memberships__valid_to__gte=day),
            memberships__team__supervisor=user,
            memberships__valid_from__lte=day,
        )
    return agents.distinct().order_by("display_name", "username")


def team_has_client_agent(team: Team, *, client_id: int, day: dt.date) -> bool:
    """Whether some member of ``team`` on ``day`` is an agent working for the client."""
    return team.memberships.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=day),
        valid_from__lte=day,
        user__role=Role.AGENT,
        user__is_active=True,
        user__clients=client_id,
    ).exists()


def offers_for_user(user: User, *, client_id: int | None = None) -> QuerySet[Offer]:
    offers = access.scoped(Offer.objects.filter(is_active=True), user).select_related("client")
    if client_id is not None:
        offers = offers.filter(client_id=client_id)
    return offers.order_by("client__name", "name")


def scripts_for_user(user: User, *, client_id: int | None = None) -> QuerySet[Script]:
    scripts = access.scoped(Script.objects.all(), user).select_related("client")
    if client_id is not None:
        scripts = scripts.filter(client_id=client_id)
    return scripts.order_by("client__name", "name")


def disposition_sets_for_user(
    user: User, *, client_id: int | None = None
) -> QuerySet[DispositionSet]:
    sets = access.scoped(DispositionSet.objects.all(), user).select_related("client")
    if client_id is not None:
        sets = sets.filter(client_id=client_id)
    return sets.order_by("client__name", "name")


def assignment_get_for_user(user: User, pk: int) -> CampaignAssignment:
    """An assignment of a campaign ``user`` may see; Http404 otherwise."""
    try:
        return CampaignAssignment.objects.select_related("campaign", "team", "agent").get(
            pk=pk, campaign__in=campaigns_for_user(user)
        )
    except CampaignAssignment.DoesNotExist:
        raise Http404 from None
