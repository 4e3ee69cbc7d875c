"""Builders of calls and sales for KPI tests: each row says only what the test needs.

Timestamps follow the order the telephony layer writes them (dialed, ringing, answered,
agent connected, ended, wrap-up saved), so a built call looks like a real one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from calldeck.accounts.models import User
from calldeck.calls.models import Call, CallOutcome, Direction, Sale, SaleStatus
from calldeck.campaigns.models import Campaign, Disposition
from calldeck.customers.models import Customer
from tests import factories as f

# Outcomes in which a person picked up the phone.
_ANSWERED = (CallOutcome.ANSWERED, CallOutcome.ABANDONED)


def local(day: dt.date, hour: int = 10, minute: int = 0, second: int = 0) -> dt.datetime:
    """An aware time on ``day`` in the centre's zone (settings.TIME_ZONE)."""
    return dt.datetime.combine(
        day, dt.time(hour, minute, second), tzinfo=timezone.get_default_timezone()
    )


def disposition(campaign: Campaign, code: str) -> Disposition:
    return campaign.disposition_set.dispositions.get(code=code)


def make_call(
    campaign: Campaign,
    *,
    at: dt.datetime,
    agent: User | None = None,
    customer: Customer | None = None,
    direction: Direction = Direction.OUTBOUND,
    outcome: CallOutcome = CallOutcome.ANSWERED,
    handled: bool | None = None,
    talk_seconds: int = 0,
    wrapup_seconds: int = 0,
    disposition_code: str | None = None,
) -> Call:
    """A finished call. ``handled`` defaults to: answered and an agent took it."""
    if handled is None:
        handled = outcome == CallOutcome.ANSWERED and agent is not None
    customer = customer or f.make_customer(campaign.client)
    phone = customer.phones.first()
    answered_at = at + dt.timedelta(seconds=8) if outcome in _ANSWERED else None
    connected_at = at + dt.timedelta(seconds=9) if handled else None
    ended_at = (connected_at or answered_at or at + dt.timedelta(seconds=20)) + dt.timedelta(
        seconds=talk_seconds
    )
    return Call.objects.create(
        client=campaign.client,
        campaign=campaign,
        customer=customer,
        agent=agent,
        direction=direction,
        phone=phone,
        number=phone.e164 if phone else "",
        dialed_at=at,
        ringing_at=at + dt.timedelta(seconds=2),
        answered_at=answered_at,
        agent_connected_at=connected_at,
        ended_at=ended_at,
        wrapup_saved_at=ended_at + dt.timedelta(seconds=wrapup_seconds) if handled else None,
        outcome=outcome,
        talk_seconds=talk_seconds,
        wrapup_seconds=wrapup_seconds,
        disposition=disposition(campaign, disposition_code) if disposition_code else None,
    )


def make_sale(
    call: Call, *, status: SaleStatus = SaleStatus.PHONE_DEAL, amount: str = "3000.00"
) -> Sale:
    assert call.agent is not None, "a sale is committed by the agent on the call"
    return Sale.objects.create(
        client=call.client,
        call=call,
        campaign=call.campaign,
        customer=call.customer,
        agent=call.agent,
        offer=call.campaign.offer if call.campaign else None,
        amount=Decimal(amount),
        status=status,
        created_at=call.ended_at or call.dialed_at,
    )
