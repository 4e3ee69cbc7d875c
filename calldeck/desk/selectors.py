"""What the agent's desk shows, as plain data: the page and ``/api/v1/desk/state`` both use it.

Numbers pass through ``access.number_for_user`` and e-mail addresses through
``customers.selectors.email_for_user``, so an agent never receives a full customer
number or address here, in HTML or in JSON.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from calldeck.accounts.access import number_for_user
from calldeck.accounts.models import User
from calldeck.calls.models import AgentPresence, AgentState, Call, CallOutcome, Direction, Sale
from calldeck.callscripts.rendering import script_render
from calldeck.campaigns.models import (
    PREVIEW_FIELD_CHOICES,
    Callback,
    CallbackStatus,
    Campaign,
    CampaignLead,
    LeadStatus,
)
from calldeck.customers.selectors import email_for_user
from calldeck.dialing.leads import agent_auto_dials, todays_campaigns
from dialer import states
from dialer.states import agent_allowed_events

HISTORY_LIMIT = 10


@dataclass
class PhoneView:
    id: int
    number: str
    kind: str


@dataclass
class HistoryItem:
    at: dt.datetime
    campaign: str
    agent: str
    outcome: str
    disposition: str
    notes: str


@dataclass
class LeadView:
    lead_id: int
    campaign_id: int
    campaign: str
    customer_id: int
    customer_name: str
    customer_key: str
    attempts: int
    max_attempts: int
    phones: list[PhoneView]
    emails: list[str]  # as the agent may see them (masked)
    fields: list[tuple[str, str]]
    offer: str
    offer_price: str
    script_html: str
    callback_note: str
    history: list[HistoryItem]


@dataclass
class CallView:
    id: int
    number: str
    phase: str  # dialing, ringing, talking, ended
    dialed_at: dt.datetime
    connected_at: dt.datetime | None
    machine: bool


@dataclass
class DispositionView:
    id: int
    name: str
    cls: str
    hotkey: str


@dataclass
class TaskView:
    campaign_id: int
    campaign: str
    priority: int
    due: int
    callbacks_due: int
    status: str


@dataclass
class CallbackView:
    due_at: dt.datetime
    customer: str
    campaign: str


@dataclass
class DeskState:
    state: str
    state_label: str
    since: dt.datetime
    pause_code: str
    notice: str
    lead: LeadView | None
    call: CallView | None
    dispositions: list[DispositionView]
    tasks: list[TaskView]
    calls_today: int
    handled_today: int
    sales_today: int
    callbacks: list[CallbackView] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)
    # A dialer process brings this agent's calls (progressive / predictive campaign today).
    auto_dial: bool = False


def _field_value(customer: Any, name: str) -> str:
    value = getattr(customer, name, None)
    display = getattr(customer, f"get_{name}_display", None)
    if display is not None:
        value = display()
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def _lead_view(agent: User, lead: CampaignLead) -> LeadView:
    customer = lead.customer
    campaign = lead.campaign
    labels = dict(PREVIEW_FIELD_CHOICES)
    fields = [
        (str(labels[name]), _field_value(customer, name))
        for name in campaign.preview_fields
        if name in labels
    ]
    phones = [
        PhoneView(p.pk, number_for_user(agent, p.e164), p.get_kind_display())
        for p in customer.phones.all()
        if p.is_valid
    ]
    offer = campaign.offer
    version = campaign.script.current_version() if campaign.script else None
    values = {
        "customer": {
            "name": customer.name,
            "city": customer.city,
            "region": customer.region,
            "phone": phones[0].number if phones else "",
        },
        "offer": {
            "name": offer.name if offer else "",
            "price": f"{offer.price:,.2f}" if offer else "",
        },
        "agent": {"name": agent.label},
    }
    history = [
        HistoryItem(
            at=c.dialed_at,
            campaign=c.campaign.name if c.campaign else "",
            agent=c.agent.label if c.agent else "",
            outcome=c.get_outcome_display(),
            disposition=c.disposition.name if c.disposition else "",
            notes=c.notes,
        )
        for c in Call.objects.filter(customer=customer, ended_at__isnull=False)
        .select_related("campaign", "agent", "disposition")
        .order_by("-dialed_at")[:HISTORY_LIMIT]
    ]
    callback = lead.callbacks.filter(status=CallbackStatus.PENDING).first()
    return LeadView(
        lead_id=lead.pk,
        campaign_id=campaign.pk,
        campaign=campaign.name,
        customer_id=customer.pk,
        customer_name=customer.name,
        customer_key=customer.customer_key,
        attempts=lead.attempts,
        max_attempts=campaign.max_attempts,
        phones=phones,
        emails=[
            email_for_user(agent, address)
            for address in customer.emails.order_by("-is_primary", "pk").values_list(
                "address", flat=True
            )
        ],
        fields=fields,
        offer=offer.name if offer else "",
        offer_price=f"{offer.price:,.2f}" if offer else "",
        script_html=script_render(version.body, values) if version else "",
        callback_note=callback.note if callback else "",
        history=history,
    )


def _call_view(agent: User, call: Call) -> CallView:
    if call.ended_at is not None:
        phase = "ended"
    elif call.agent_connected_at is not None:
        phase = "talking"
    elif call.ringing_at is not None:
        phase = "ringing"
    else:
        phase = "dialing"
    return CallView(
        id=call.pk,
        number=number_for_user(agent, call.number),
        phase=phase,
        dialed_at=call.dialed_at,
        connected_at=call.agent_connected_at,
        machine=call.outcome == CallOutcome.MACHINE,
    )


def desk_tasks(agent: User, now: dt.datetime) -> list[TaskView]:
    assigned = todays_campaigns(agent, now)
    if not assigned:
        return []
    ids = [campaign.pk for campaign, _prio in assigned]
    due_filter = Q(
        leads__status__in=[LeadStatus.NEW, LeadStatus.RETRY],
        leads__next_attempt_at__lte=now,
        leads__assigned_agent__isnull=True,
    )
    callback_filter = Q(leads__status=LeadStatus.CALLBACK, leads__next_attempt_at__lte=now) & (
        Q(leads__assigned_agent=agent) | Q(leads__assigned_agent__isnull=True)
    )
    counts = {
        row["pk"]: row
        for row in Campaign.objects.filter(pk__in=ids)
        .annotate(due=Count("leads", filter=due_filter), cbs=Count("leads", filter=callback_filter))
        .values("pk", "due", "cbs")
    }
    return [
        TaskView(
            campaign_id=campaign.pk,
            campaign=campaign.name,
            priority=priority,
            due=counts[campaign.pk]["due"],
            callbacks_due=counts[campaign.pk]["cbs"],
            status=campaign.get_status_display(),
        )
        for campaign, priority in assigned
    ]


def desk_state(agent: User) -> DeskState:
    now = timezone.now()
    presence, _created = AgentPresence.objects.select_related(
        "lead__customer", "lead__campaign__offer", "lead__campaign__script", "call"
    ).get_or_create(agent=agent)
    lead_view = _lead_view(agent, presence.lead) if presence.lead else None
    call_view = _call_view(agent, presence.call) if presence.call else None
    dispositions: list[DispositionView] = []
    campaign = presence.lead.campaign if presence.lead else None
    if campaign is not None:
        dispositions = [
            DispositionView(d.pk, d.name, d.cls, d.hotkey)
            for d in campaign.disposition_set.dispositions.filter(is_active=True)
        ]
    day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    mine = Call.objects.filter(agent=agent, dialed_at__gte=day_start, direction=Direction.OUTBOUND)
    callbacks = [
        CallbackView(cb.due_at, cb.lead.customer.name, cb.lead.campaign.name)
        for cb in Callback.objects.filter(owner=agent, status=CallbackStatus.PENDING)
        .select_related("lead__customer", "lead__campaign")
        .order_by("due_at")[:5]
    ]
    return DeskState(
        state=presence.state,
        state_label=str(AgentState(presence.state).label),
        since=presence.since,
        pause_code=presence.pause_code,
        notice=presence.notice,
        lead=lead_view,
        call=call_view,
        dispositions=dispositions,
        tasks=desk_tasks(agent, now),
        calls_today=mine.count(),
        handled_today=mine.filter(agent_connected_at__isnull=False).count(),
        sales_today=Sale.objects.filter(agent=agent, created_at__gte=day_start).count(),
        callbacks=callbacks,
        allowed=sorted(e.value for e in agent_allowed_events(states.AgentState(presence.state))),
        auto_dial=agent_auto_dials(agent, now),
    )
