"""Daily lists of the daily-marketing campaigns (seed 004 纪念日营销): birthdays and
anniversaries, built each morning and shared out among the day's agents.

Theory of operation
-------------------
A daily-marketing campaign with a ``DailyListRule`` gets one ``DailyListRun`` per day.
``daily_lists_due`` names the active daily campaigns whose rule's ``build_at`` (centre
time) has passed today and that have no run for today; the task ``daily_lists_build_task``
(``campaigns.tasks``) builds them, and ``daily_lists_enqueue_due``, which the worker loop
calls every minute, queues that task only when something is due and none is queued yet.
A build is idempotent: it takes the campaign's row lock, and the (campaign, day)
constraint settles a race, so a second build of the same day returns the first run.

The day's customers are those whose birthday falls on the day (29 February birthdays
on 28 February in other years) and those who became customers on this day of an earlier
year (at least one full year), within the rule's segment if it has one. They go in
through ``lists.list_load`` (source DAILY), so the exclusions apply and are counted;
with ``reload_done`` a customer whose lead from an earlier day is finished (last year's
birthday) is taken again, while one with an open lead stays as it is.

The new leads are then given to agents (``CampaignLead.assigned_agent``): the agents the
campaign is assigned to that day, directly or through a team (its members that day).
Round robin deals the leads out one by one over all of them; "by team" first splits them
among the teams in proportion to their number of agents (largest remainder), then deals
them out within each team. The first agent and team change from day to day, so the
extra lead of an uneven split does not always go to the same person. An agent's preview
only offers leads assigned to nobody or to them (``dialing.leads._due_leads``), so only
preview campaigns are shared out: the dialer of a progressive or predictive campaign
never dials an assigned lead, and its agents do not preview.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TypeVar

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calldeck.accounts import access
from calldeck.accounts.models import Role, Team, TeamMembership, User
from calldeck.audit.services import audit_record
from calldeck.campaigns.lists import list_load
from calldeck.campaigns.models import (
    Campaign,
    CampaignAssignment,
    CampaignKind,
    CampaignLead,
    CampaignStatus,
    DailyAssignRule,
    DailyListRule,
    DailyListRun,
    DialMode,
    ListSource,
)
from calldeck.campaigns.services import _lock, _require
from calldeck.customers.models import Customer, Segment

logger = logging.getLogger(__name__)

T = TypeVar("T")

# A build that failed is tried again by the worker after this long, not every minute.
RETRY_AFTER = dt.timedelta(minutes=10)
# How many lead ids one UPDATE of the assignment names.
ASSIGN_CHUNK = 5000

NO_RULE = _("This campaign has no daily list rule.")
NOT_DAILY = _("Daily lists are for daily-marketing campaigns only.")
NOTHING_TO_LIST = _("Choose birthdays, anniversaries or both.")
OTHER_CLIENT = _("This belongs to another client.")


# --- the day's customers ---------------------------------------------------------------


def _same_day(field_name: str, day: dt.date) -> Q:
    """``field_name`` falls on the month and day of ``day`` (29 Feb on 28 Feb if not leap)."""
    days = [day.day]
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        days.append(29)
    return Q(**{f"{field_name}__month": day.month, f"{field_name}__day__in": days})


def birthday_q(day: dt.date) -> Q:
    """Customers whose birthday is ``day`` (born before it)."""
    return _same_day("birthday", day) & Q(birthday__lt=day)


def anniversary_q(day: dt.date) -> Q:
    """Customers who became customers on this day of an earlier year (a full year at least)."""
    return _same_day("customer_since", day) & Q(customer_since__lt=dt.date(day.year, 1, 1))


def _rule_customers(
    campaign: Campaign, rule: DailyListRule, now: dt.datetime
) -> QuerySet[Customer]:
    if rule.segment is None:
        return Customer.objects.filter(client_id=campaign.client_id)
    if rule.segment.client_id != campaign.client_id:
        raise ValidationError(OTHER_CLIENT, code="other_client")
    from calldeck.customers.segments import segment_customers

    return segment_customers(rule.segment, now=now)


# --- who gets the leads ----------------------------------------------------------------


@dataclass
class _Group:
    team: Team | None
    agents: list[User] = field(default_factory=list)


def _members_on(day: dt.date, client_id: int) -> QuerySet[TeamMembership]:
    """Memberships valid on ``day`` of active agents working for the client."""
    return (
        TeamMembership.objects.filter(valid_from__lte=day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        .filter(user__role=Role.AGENT, user__is_active=True, user__clients=client_id)
        .select_related("user", "team")
        .order_by("team__name", "team_id", "user__username")
    )


def day_groups(campaign: Campaign, day: dt.date) -> list[_Group]:
    """The agents the campaign is assigned to on ``day``, grouped by team.

    A team assignment brings the team's members that day; an agent assigned directly
    joins the group of their team that day (a group of its own if that team is not
    assigned), or the group without a team. Each agent is in one group only; groups are
    in team name order, the group without a team last.
    """
    assignments = CampaignAssignment.objects.filter(campaign=campaign, day=day)
    team_ids = {a.team_id for a in assignments if a.team_id is not None}
    agent_ids = {a.agent_id for a in assignments if a.agent_id is not None}
    members = _members_on(day, campaign.client_id)
    groups: dict[int | None, _Group] = {}
    placed: set[int] = set()
    for membership in members.filter(team_id__in=team_ids):
        group = groups.setdefault(membership.team_id, _Group(membership.team))
        if membership.user_id not in placed:
            placed.add(membership.user_id)
            group.agents.append(membership.user)
    for membership in members.filter(user_id__in=agent_ids - placed):
        if membership.user_id not in placed:
            placed.add(membership.user_id)
            groups.setdefault(membership.team_id, _Group(membership.team)).agents.append(
                membership.user
            )
    loners = User.objects.filter(
        pk__in=agent_ids - placed, role=Role.AGENT, is_active=True, clients=campaign.client_id
    ).order_by("username")
    for agent in loners:
        groups.setdefault(None, _Group(None)).agents.append(agent)
    ordered = sorted(groups.values(), key=lambda g: (g.team is None, g.team.name if g.team else ""))
    for group in ordered:
        group.agents.sort(key=lambda user: user.username)
    return ordered


def _rotated(items: list[T], offset: int) -> list[T]:
    if not items:
        return items
    k = offset % len(items)
    return items[k:] + items[:k]


def _deal(lead_ids: list[int], agents: list[User], offset: int) -> dict[User, list[int]]:
    """Round robin: lead i to agent (offset + i) mod n."""
    dealt: dict[User, list[int]] = defaultdict(list)
    for i, lead_id in enumerate(lead_ids):
        dealt[agents[(offset + i) % len(agents)]].append(lead_id)
    return dealt


def _shares(total: int, sizes: list[int]) -> list[int]:
    """``total`` split in proportion to ``sizes`` by largest remainder; ties to the first."""
    whole = sum(sizes)
    shares = [total * size // whole for size in sizes]
    left = total - sum(shares)
    by_remainder = sorted(range(len(sizes)), key=lambda i: -(total * sizes[i] % whole))
    for i in by_remainder[:left]:
        shares[i] += 1
    return shares


def assignment_plan(
    *, lead_ids: list[int], groups: list[_Group], rule: str, day: dt.date
) -> dict[User, list[int]]:
    """Which of ``lead_ids`` (in order) each agent gets under ``rule`` on ``day``."""
    offset = day.toordinal()
    groups = [g for g in groups if g.agents]
    if not lead_ids or not groups:
        return {}
    if rule == DailyAssignRule.BY_TEAM:
        rotated = _rotated(groups, offset)
        shares = _shares(len(lead_ids), [len(g.agents) for g in rotated])
        plan: dict[User, list[int]] = {}
        start = 0
        for group, share in zip(rotated, shares, strict=True):
            plan.update(_deal(lead_ids[start : start + share], group.agents, offset))
            start += share
        return plan
    agents = sorted({a for g in groups for a in g.agents}, key=lambda user: user.username)
    return _deal(lead_ids, agents, offset)


# --- building ----------------------------------------------------------------------------


def _failed_key(campaign_id: int, day: dt.date) -> str:
    return f"calldeck:daily-list-failed:{campaign_id}:{day.isoformat()}"


def daily_list_build(
    *, campaign: Campaign, day: dt.date, now: dt.datetime | None = None
) -> DailyListRun:
    """The campaign's list for ``day``: built and shared out now, or the one built before."""
    now = now or timezone.now()
    existing = DailyListRun.objects.filter(campaign=campaign, day=day).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _build(campaign, day, now)
    except IntegrityError:
        # Another builder wrote the day's run first (the constraint on campaign and day).
        return DailyListRun.objects.get(campaign=campaign, day=day)


def _build(campaign: Campaign, day: dt.date, now: dt.datetime) -> DailyListRun:
    campaign = _lock(campaign)
    existing = DailyListRun.objects.filter(campaign=campaign, day=day).first()
    if existing is not None:
        return existing
    rule = DailyListRule.objects.filter(campaign=campaign).select_related("segment").first()
    if rule is None:
        raise ValidationError(NO_RULE, code="no_rule")
    base = _rule_customers(campaign, rule, now)
    birthdays = base.filter(birthday_q(day)).count() if rule.birthdays else 0
    anniversaries = base.filter(anniversary_q(day)).count() if rule.anniversaries else 0
    wanted = Q(pk__in=[])
    if rule.birthdays:
        wanted |= birthday_q(day)
    if rule.anniversaries:
        wanted |= anniversary_q(day)
    load = list_load(
        actor=None,
        campaign=campaign,
        customers=base.filter(wanted),
        source=ListSource.DAILY,
        segment=rule.segment,
        reload_done=True,
        now=now,
    )
    assigned: dict[str, int] = {}
    if campaign.dial_mode == DialMode.PREVIEW:
        lead_ids = list(
            CampaignLead.objects.filter(list_load=load).order_by("pk").values_list("pk", flat=True)
        )
        plan = assignment_plan(
            lead_ids=lead_ids, groups=day_groups(campaign, day), rule=rule.assign_rule, day=day
        )
        for agent, ids in sorted(plan.items(), key=lambda item: item[0].username):
            for start in range(0, len(ids), ASSIGN_CHUNK):
                CampaignLead.objects.filter(pk__in=ids[start : start + ASSIGN_CHUNK]).update(
                    assigned_agent=agent, updated_at=now
                )
            assigned[agent.username] = len(ids)
    run = DailyListRun.objects.create(
        campaign=campaign,
        day=day,
        list_load=load,
        birthdays=birthdays,
        anniversaries=anniversaries,
        assigned=assigned,
        built_at=now,
    )
    audit_record(
        actor=None,
        action="campaign.daily_list",
        obj=run,
        client_id=campaign.client_id,
        changes={
            "campaign": campaign.pk,
            "day": day.isoformat(),
            "birthdays": birthdays,
            "anniversaries": anniversaries,
            "loaded": load.loaded,
            "assign_rule": rule.assign_rule,
            "assigned": assigned,
        },
    )
    return run


def daily_lists_due(now: dt.datetime | None = None) -> list[Campaign]:
    """Active daily campaigns whose build time has passed today and have no run today.

    A campaign whose build failed in the last ``RETRY_AFTER`` is left out until then.
    """
    local = timezone.localtime(now or timezone.now())
    today = local.date()
    campaigns = (
        Campaign.objects.filter(
            kind=CampaignKind.DAILY,
            status=CampaignStatus.ACTIVE,
            daily_rule__build_at__lte=local.time(),
        )
        .filter(Q(starts_on__isnull=True) | Q(starts_on__lte=today))
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .exclude(daily_runs__day=today)
        .order_by("pk")
    )
    return [c for c in campaigns if cache.get(_failed_key(c.pk, today)) is None]


def daily_lists_build_due(now: dt.datetime | None = None) -> list[DailyListRun]:
    """Build every list due now; a campaign that fails is logged and tried again later."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    runs = []
    for campaign in daily_lists_due(now):
        try:
            runs.append(daily_list_build(campaign=campaign, day=today, now=now))
        except Exception:
            logger.exception("Daily list of campaign %s for %s failed", campaign.pk, today)
            cache.set(_failed_key(campaign.pk, today), 1, RETRY_AFTER.total_seconds())
    return runs


def daily_lists_enqueue_due(now: dt.datetime | None = None) -> int:
    """Queue the build task if a list is due and no such task waits yet; how many are due
    (0 when nothing was queued). Safe to call every minute."""
    due = daily_lists_due(now)
    if not due:
        return 0
    from calldeck.campaigns.tasks import daily_lists_build_task, task_waiting

    if task_waiting(daily_lists_build_task):
        return 0
    daily_lists_build_task.enqueue()
    return len(due)


# --- the rule ------------------------------------------------------------------------------


def daily_rule_may_edit(user: User, campaign: Campaign) -> bool:
    """Whether ``user`` may change the campaign's daily list rule (for page buttons)."""
    return (
        campaign.kind == CampaignKind.DAILY
        and campaign.status != CampaignStatus.ARCHIVED
        and access.has_role(user, access.ASSIGNERS)
        and campaign.client_id in access.client_ids_for(user)
    )


@transaction.atomic
def daily_rule_set(
    *,
    actor: User,
    campaign: Campaign,
    birthdays: bool,
    anniversaries: bool,
    segment: Segment | None,
    assign_rule: str,
    build_at: dt.time,
) -> DailyListRule:
    """Create or change the campaign's daily list rule (supervisors, campaign managers)."""
    _require(actor, access.ASSIGNERS, campaign.client_id)
    campaign = _lock(campaign)
    if campaign.kind != CampaignKind.DAILY:
        raise ValidationError(NOT_DAILY, code="not_daily")
    if not birthdays and not anniversaries:
        raise ValidationError(NOTHING_TO_LIST, code="nothing")
    if segment is not None and segment.client_id != campaign.client_id:
        raise ValidationError({"segment": ValidationError(OTHER_CLIENT, code="other_client")})
    rule = DailyListRule.objects.filter(campaign=campaign).first()
    created = rule is None
    rule = rule or DailyListRule(campaign=campaign)
    values = {
        "birthdays": birthdays,
        "anniversaries": anniversaries,
        "segment": segment,
        "assign_rule": assign_rule,
        "build_at": build_at,
    }
    changes = {}
    for name, value in values.items():
        old = getattr(rule, name)
        if created or old != value:
            changes[name] = [_plain(old) if not created else None, _plain(value)]
        setattr(rule, name, value)
    if not changes:
        return rule
    rule.updated_by = actor
    rule.updated_at = timezone.now()
    rule.full_clean()
    rule.save()
    audit_record(actor=actor, action="campaign.daily_rule", obj=campaign, changes=changes)
    return rule


def _plain(value: object) -> object:
    if isinstance(value, Segment):
        return value.pk
    if isinstance(value, dt.time):
        return value.isoformat()
    return value
