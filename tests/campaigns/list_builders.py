"""Builders for the list, pilot and daily-list tests: blocks, calls and loaded lists."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from calldeck.accounts.models import Client
from calldeck.calls.models import Call, Direction
from calldeck.campaigns.models import Campaign, CampaignLead, LeadPhase
from calldeck.customers.models import BlockKind, ContactBlock, Customer
from tests import factories as f


def block(customer: Customer, kind: str = BlockKind.DO_NOT_CALL, **kw: Any) -> ContactBlock:
    """A block in force on the customer (``on_number=True``: on their first number only)."""
    on_number = kw.pop("on_number", False)
    if on_number:
        kw.setdefault("e164", customer.phones.first().e164)  # type: ignore[union-attr]
    else:
        kw.setdefault("customer", customer)
    return ContactBlock.objects.create(client_id=customer.client_id, kind=kind, reason="测试", **kw)


def call_to(customer: Customer, *, days_ago: float, **kw: Any) -> Call:
    kw.setdefault("direction", Direction.OUTBOUND)
    return Call.objects.create(
        client_id=customer.client_id,
        customer=customer,
        number="+8613800000000",
        dialed_at=timezone.now() - dt.timedelta(days=days_ago),
        **kw,
    )


def customers(client: Client, n: int, **kw: Any) -> list[Customer]:
    return [f.make_customer(client, **kw) for _ in range(n)]


def new_leads(campaign: Campaign, n: int) -> list[CampaignLead]:
    """``n`` new, never-dialed main leads, each with a fresh customer."""
    return [f.make_lead(campaign, phase=LeadPhase.MAIN) for _ in range(n)]


def phases(campaign: Campaign) -> dict[str, int]:
    counts: dict[str, int] = {}
    for phase in CampaignLead.objects.filter(campaign=campaign).values_list("phase", flat=True):
        counts[phase] = counts.get(phase, 0) + 1
    return counts
