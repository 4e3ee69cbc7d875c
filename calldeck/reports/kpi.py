"""The KPI module: the one place where the formulas of KPIS.md (the spec) are computed.

Theory of operation. A ``KpiScope`` names a half-open period ``[start, end)`` of call
``dialed_at`` times and optional filters (clients, campaigns, agents, teams, direction).
Each public function turns the scope into one filtered ``Call`` queryset and runs a single
aggregate query over it, grouped by agent, by campaign or not at all; nothing iterates
over calls in Python, so the cost stays in the database as volumes grow. The counts come
back as ``Kpis`` objects whose properties derive the rates. A rate whose denominator is
zero is ``None`` (shown "—"), never 0, because "no calls" and "no success" are different
facts.

Counting rules (KPIS.md is the law; these are the points where a reading was needed):

- A call is in the period when its ``dialed_at`` is; a sale is in scope when its call is,
  whenever the sale itself was recorded or later changed status. A sale is grouped under
  the agent and campaign of its call.
- Attempts, human answers, customers dialed and customers connected are outbound only,
  whatever ``scope.direction`` says; handled calls, contacts, deals and times count both
  directions unless the scope names one.
- A human answer is an outbound call with outcome ``answered`` or ``abandoned``: an
  abandoned call is a person who answered and found no agent, so it counts as an answer
  but not as a handled call. A machine, busy line, no answer, invalid number or failure
  is not a human answer.
- A customer is the pair (campaign, customer): the same person in two campaigns is two
  customers dialed. Calls whose customer row is gone (``customer`` null) still count as
  attempts and answers but cannot be counted as distinct customers.
- A phone deal is any ``Sale`` on a call in scope, whatever its status now: a deal later
  cancelled or whose payment failed was still committed on the phone. A final deal is a
  sale in status ``final``.
- Talk and ACW seconds are summed over handled calls only, so that the averages divide
  like by like.
- Team scope: a call belongs to a team when its agent held a ``TeamMembership`` of that
  team valid on the call's local day (in ``settings.TIME_ZONE``). An agent who moved teams
  is counted for each team on the days spent in it, also within a multi-day period.
  Calls without an agent (a predictive dial nobody took) belong to no team.
- ``client_ids=None`` means every client. Code that serves a user must always pass the
  user's clients (``access.client_ids_for``); an empty tuple then correctly yields nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from django.db.models import CharField, Count, Exists, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast, Coalesce, Concat, TruncDate
from django.utils import timezone

from calldeck.accounts.models import TeamMembership
from calldeck.calls.models import Call, CallOutcome, Direction, SaleStatus

# Outcomes of an outbound call that a person answered (see the module docstring).
HUMAN_ANSWER_OUTCOMES = (CallOutcome.ANSWERED, CallOutcome.ABANDONED)

# Shown for a rate or average whose denominator is zero.
NOT_APPLICABLE = "—"


def _ids(values: Iterable[int] | None) -> tuple[int, ...] | None:
    return None if values is None else tuple(sorted({int(v) for v in values}))


@dataclass(frozen=True)
class KpiScope:
    """The calls a KPI is computed over: ``start <= dialed_at < end`` and the filters.

    Each filter is ``None`` (no restriction) or a collection of ids; an empty collection
    matches nothing. Collections are normalised to sorted tuples so that equal scopes
    compare and hash equal (usable as cache keys).
    """

    start: dt.datetime
    end: dt.datetime
    client_ids: tuple[int, ...] | None = None
    campaign_ids: tuple[int, ...] | None = None
    agent_ids: tuple[int, ...] | None = None
    team_ids: tuple[int, ...] | None = None
    direction: Direction | None = None

    def __post_init__(self) -> None:
        if timezone.is_naive(self.start) or timezone.is_naive(self.end):
            raise ValueError("KpiScope needs timezone-aware start and end.")
        if self.end <= self.start:
            raise ValueError("KpiScope end must be after start.")
        for name in ("client_ids", "campaign_ids", "agent_ids", "team_ids"):
            object.__setattr__(self, name, _ids(getattr(self, name)))
        if self.direction is not None:
            object.__setattr__(self, "direction", Direction(self.direction))

    @classmethod
    def for_day(cls, day: dt.date, *, tz: dt.tzinfo | None = None, **filters: Any) -> KpiScope:
        """The local calendar day ``day`` in ``tz`` (default ``settings.TIME_ZONE``)."""
        start, end = day_bounds(day, tz=tz)
        return cls(start=start, end=end, **filters)


def day_bounds(day: dt.date, *, tz: dt.tzinfo | None = None) -> tuple[dt.datetime, dt.datetime]:
    """Aware start of ``day`` and of the day after, in ``tz`` (default the centre's zone)."""
    zone = tz or timezone.get_default_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end


def _ratio(numerator: int | float, denominator: int | float) -> float | None:
    return None if not denominator else numerator / denominator


@dataclass(frozen=True, kw_only=True)
class Kpis:
    """Counts of one group (or of the whole scope) and the rates derived from them.

    ``key`` is the agent id or campaign id of the group; ``None`` for the ungrouped
    totals and for the group of calls with no agent (or no campaign).
    """

    key: int | None = None
    attempts: int = 0
    customers_dialed: int = 0
    human_answers: int = 0
    customers_connected: int = 0
    handled_calls: int = 0
    contacts: int = 0
    phone_deals: int = 0
    outbound_phone_deals: int = 0
    final_deals: int = 0
    talk_seconds: int = 0
    acw_seconds: int = 0

    @property
    def outbound_connect_rate(self) -> float | None:
        """呼出接通率: customers connected / customers dialed."""
        return _ratio(self.customers_connected, self.customers_dialed)

    @property
    def attempt_answer_rate(self) -> float | None:
        """接通率: human answers / attempts."""
        return _ratio(self.human_answers, self.attempts)

    @property
    def outbound_success_rate(self) -> float | None:
        """呼出成功率: outbound phone deals / customers connected."""
        return _ratio(self.outbound_phone_deals, self.customers_connected)

    @property
    def average_talk_seconds(self) -> float | None:
        """平均通话时长: talk seconds / handled calls."""
        return _ratio(self.talk_seconds, self.handled_calls)

    @property
    def average_acw_seconds(self) -> float | None:
        """平均通话后处理时长: ACW seconds / handled calls."""
        return _ratio(self.acw_seconds, self.handled_calls)

    @property
    def effective_talk_rate(self) -> float | None:
        """有效通话率: contacts / handled calls."""
        return _ratio(self.contacts, self.handled_calls)


_COUNT_FIELDS = tuple(f.name for f in fields(Kpis) if f.name != "key")


class KpiGrouping(enum.Enum):
    """What a grouped result is keyed by, and the ``Call`` column that holds it."""

    AGENT = "agent_id"
    CAMPAIGN = "campaign_id"


def _customer_key() -> Concat:
    # The (campaign, customer) pair as one value, so that COUNT(DISTINCT ...) works on
    # SQLite, which has no multi-column DISTINCT inside an aggregate.
    return Concat(
        Cast("campaign_id", CharField()),
        Value(":"),
        Cast("customer_id", CharField()),
        output_field=CharField(),
    )


def _aggregates() -> dict[str, Any]:
    outbound = Q(direction=Direction.OUTBOUND)
    human = outbound & Q(outcome__in=HUMAN_ANSWER_OUTCOMES)
    known_customer = Q(customer_id__isnull=False)
    handled = Q(agent_connected_at__isnull=False)
    return {
        "attempts": Count("pk", filter=outbound),
        "customers_dialed": Count(_customer_key(), filter=outbound & known_customer, distinct=True),
        "human_answers": Count("pk", filter=human),
        "customers_connected": Count(_customer_key(), filter=human & known_customer, distinct=True),
        "handled_calls": Count("pk", filter=handled),
        "contacts": Count("pk", filter=handled & Q(disposition__counts_as_contact=True)),
        # Sale is one-to-one with Call, so the LEFT JOIN adds no rows to count twice.
        "phone_deals": Count("sale"),
        "outbound_phone_deals": Count("sale", filter=outbound),
        "final_deals": Count("sale", filter=Q(sale__status=SaleStatus.FINAL)),
        "talk_seconds": Coalesce(Sum("talk_seconds", filter=handled), 0),
        "acw_seconds": Coalesce(Sum("wrapup_seconds", filter=handled), 0),
    }


def calls_in_scope(scope: KpiScope) -> QuerySet[Call]:
    """The calls ``scope`` covers; every KPI of this module is an aggregate over them."""
    qs = Call.objects.filter(dialed_at__gte=scope.start, dialed_at__lt=scope.end)
    if scope.client_ids is not None:
        qs = qs.filter(client_id__in=scope.client_ids)
    if scope.campaign_ids is not None:
        qs = qs.filter(campaign_id__in=scope.campaign_ids)
    if scope.agent_ids is not None:
        qs = qs.filter(agent_id__in=scope.agent_ids)
    if scope.direction is not None:
        qs = qs.filter(direction=scope.direction)
    if scope.team_ids is not None:
        member_that_day = TeamMembership.objects.filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=OuterRef("call_day")),
            user_id=OuterRef("agent_id"),
            team_id__in=scope.team_ids,
            valid_from__lte=OuterRef("call_day"),
        )
        qs = qs.alias(
            call_day=TruncDate("dialed_at", tzinfo=timezone.get_default_timezone())
        ).filter(Exists(member_that_day))
    return qs.order_by()


def _kpis(key: int | None, row: dict[str, Any]) -> Kpis:
    return Kpis(key=key, **{name: int(row[name] or 0) for name in _COUNT_FIELDS})


def kpis_total(scope: KpiScope) -> Kpis:
    """The KPIs of the whole scope, in one query (``key`` is ``None``).

    Distinct counts (customers dialed, customers connected) are counted over the whole
    scope, so they may be smaller than the sum over groups: a customer dialed by two
    agents is one customer of the campaign.
    """
    return _kpis(None, calls_in_scope(scope).aggregate(**_aggregates()))


def kpis_grouped(scope: KpiScope, by: KpiGrouping) -> dict[int | None, Kpis]:
    """The KPIs of each agent or campaign with at least one call in scope, in one query.

    Keyed by agent or campaign id; the ``None`` key holds calls without one. Groups with
    no call in scope are absent: callers that list every member of a team fill the gaps
    with ``Kpis(key=id)``.
    """
    column = by.value
    rows = calls_in_scope(scope).values(column).annotate(**_aggregates()).order_by(column)
    return {row[column]: _kpis(row[column], row) for row in rows}


def kpis_by_agent(scope: KpiScope) -> dict[int | None, Kpis]:
    return kpis_grouped(scope, KpiGrouping.AGENT)


def kpis_by_campaign(scope: KpiScope) -> dict[int | None, Kpis]:
    return kpis_grouped(scope, KpiGrouping.CAMPAIGN)


# Formatting for pages and exports. Kept here so that a rate reads the same everywhere.


def format_rate(rate: float | None) -> str:
    """``0.1234`` → ``"12.3%"``; ``None`` → ``"—"``."""
    if rate is None:
        return NOT_APPLICABLE
    return f"{rate * 100:.1f}%"


def format_duration(seconds: float | None) -> str:
    """Seconds as ``m:ss`` (minutes not wrapped into hours: ``75:03``); ``None`` → ``"—"``."""
    if seconds is None:
        return NOT_APPLICABLE
    whole = int(seconds + 0.5)  # round half up; durations are never negative
    minutes, secs = divmod(whole, 60)
    return f"{minutes}:{secs:02d}"


__all__ = [
    "HUMAN_ANSWER_OUTCOMES",
    "NOT_APPLICABLE",
    "KpiGrouping",
    "KpiScope",
    "Kpis",
    "calls_in_scope",
    "day_bounds",
    "format_duration",
    "format_rate",
    "kpis_by_agent",
    "kpis_by_campaign",
    "kpis_grouped",
    "kpis_total",
]
