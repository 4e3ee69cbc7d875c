"""Reads behind the KPI pages: which slice of the centre a user's KPIs cover, and the
day report built from ``reports.kpi``.

The slice follows the role, on top of the clients granted to the user:

- a supervisor sees the calls of the agents of the teams they supervise
  (``Team.supervisor``), counted by the membership valid on each call's day, and only on
  campaigns of their clients;
- a campaign manager (and an operator, who has every client) sees every call on their
  clients' campaigns, whichever agent made it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _

from calldeck.accounts import access
from calldeck.accounts.models import Role, Team, TeamMembership, User
from calldeck.campaigns.models import DIALABLE_STATUSES, Campaign, CampaignAssignment
from calldeck.reports.kpi import Kpis, KpiScope, kpis_by_agent, kpis_by_campaign, kpis_total


@dataclass(frozen=True)
class KpiLine:
    """One row of a KPI table: who or what it is about, and its figures."""

    row_id: str  # stable id for the row ("agent-12", "campaign-3", "agent-none")
    label: str
    kpis: Kpis


@dataclass(frozen=True)
class KpiDayReport:
    day: dt.date
    scope: KpiScope
    is_team_slice: bool
    agent_lines: list[KpiLine]
    campaign_lines: list[KpiLine]
    totals: Kpis


def supervised_team_ids(user: User) -> list[int]:
    return list(Team.objects.filter(supervisor=user).values_list("pk", flat=True))


def team_agent_ids(team_ids: list[int], *, first_day: dt.date, last_day: dt.date) -> set[int]:
    """Users with a membership of one of ``team_ids`` valid on some day of the period."""
    return set(
        TeamMembership.objects.filter(team_id__in=team_ids, valid_from__lte=last_day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=first_day))
        .values_list("user_id", flat=True)
    )


def _is_team_slice(user: User) -> bool:
    return user.role == Role.SUPERVISOR


def kpi_scope_for_user(*, user: User, start: dt.datetime, end: dt.datetime) -> KpiScope:
    """The scope of the KPIs ``user`` may read for ``[start, end)``."""
    if not access.has_role(user, access.KPI_READERS):
        raise PermissionDenied
    client_ids = tuple(access.client_ids_for(user))
    if _is_team_slice(user):
        team_ids = tuple(supervised_team_ids(user))
        return KpiScope(start=start, end=end, client_ids=client_ids, team_ids=team_ids)
    return KpiScope(start=start, end=end, client_ids=client_ids)


def _agent_lines(scope: KpiScope, listed_agent_ids: set[int]) -> list[KpiLine]:
    grouped = kpis_by_agent(scope)
    ids = listed_agent_ids | {key for key in grouped if key is not None}
    users = User.objects.in_bulk(ids)
    lines = [
        KpiLine(row_id=f"agent-{pk}", label=str(users[pk]), kpis=grouped.get(pk, Kpis(key=pk)))
        for pk in ids
        if pk in users
    ]
    lines.sort(key=lambda line: line.label)
    if None in grouped:
        lines.append(
            KpiLine(row_id="agent-none", label=_("No agent (dialer only)"), kpis=grouped[None])
        )
    return lines


def _campaign_lines(scope: KpiScope, listed_campaign_ids: set[int]) -> list[KpiLine]:
    grouped = kpis_by_campaign(scope)
    ids = listed_campaign_ids | {key for key in grouped if key is not None}
    names = dict(
        Campaign.objects.filter(pk__in=ids, client_id__in=scope.client_ids or ()).values_list(
            "pk", "name"
        )
    )
    lines = [
        KpiLine(
            row_id=f"campaign-{pk}",
            # A call's campaign belongs to the call's client, so a missing name means data
            # out of line; the figures stay so the table still adds up to its total.
            label=names.get(pk, _("Campaign %(id)s") % {"id": pk}),
            kpis=grouped.get(pk, Kpis(key=pk)),
        )
        for pk in ids
    ]
    lines.sort(key=lambda line: line.label)
    if None in grouped:
        lines.append(KpiLine(row_id="campaign-none", label=_("No campaign"), kpis=grouped[None]))
    return lines


def kpi_day_report_for_user(*, user: User, day: dt.date) -> KpiDayReport:
    """The figures of "Today's KPIs" for ``day`` as ``user`` may see them.

    Agents of a supervisor's teams and the campaigns the slice is working that day are
    listed even with no call yet, so an idle agent or a silent campaign shows as zeros.
    """
    bounds = KpiScope.for_day(day)
    scope = kpi_scope_for_user(user=user, start=bounds.start, end=bounds.end)
    client_ids = scope.client_ids or ()
    if scope.team_ids is not None:
        listed_agents = team_agent_ids(list(scope.team_ids), first_day=day, last_day=day)
        listed_campaigns = set(
            CampaignAssignment.objects.filter(
                Q(team_id__in=scope.team_ids) | Q(agent_id__in=listed_agents),
                day=day,
                campaign__client_id__in=client_ids,
            ).values_list("campaign_id", flat=True)
        )
    else:
        listed_agents = set()
        listed_campaigns = set(
            Campaign.objects.filter(
                client_id__in=client_ids, status__in=DIALABLE_STATUSES
            ).values_list("pk", flat=True)
        )
    return KpiDayReport(
        day=day,
        scope=scope,
        is_team_slice=scope.team_ids is not None,
        agent_lines=_agent_lines(scope, listed_agents),
        campaign_lines=_campaign_lines(scope, listed_campaigns),
        totals=kpis_total(scope),
    )
