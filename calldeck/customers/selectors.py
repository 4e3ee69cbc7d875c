"""Reads of customers for a user: who may see which customer, search, the profile.

Every page or answer that shows a customer fetches it through ``customers_for_user`` or
``customer_get_for_user``: client scoping and the agent's "the customer I am working on"
rule live here. Numbers leave through ``access.number_for_user`` and e-mail addresses
through ``email_for_user``, so an agent never receives either in full.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from calldeck.accounts import access
from calldeck.accounts.models import Role, User
from calldeck.calls.models import AgentPresence, Call, Sale
from calldeck.campaigns.models import CampaignLead, LeadStatus
from calldeck.customers.importing import values
from calldeck.customers.models import (
    ContactBlock,
    ContactSource,
    Customer,
    Holding,
    PhoneNumber,
)

# Contact history on the profile and on the desk: the newest calls, with the total count.
CALLS_LIMIT = 100


# --- masking -------------------------------------------------------------------------


def mask_email(address: str) -> str:
    """z***@example.com: the first character of the local part and the domain."""
    local, at, domain = address.rpartition("@")
    if not at:
        return address[:1] + "***" if address else ""
    return f"{local[:1]}***@{domain}"


def email_for_user(user: User, address: str) -> str:
    """An e-mail address as ``user`` may see it: in full for those who see full numbers."""
    return address if access.sees_full_numbers(user) else mask_email(address)


def source_label(value: str) -> str:
    """A ``ContactSource`` value by its label; any other text (a file name) as it is."""
    if value in ContactSource.values:
        return str(ContactSource(value).label)
    return value


# --- who may see which customer ------------------------------------------------------


def customer_ids_held_by(agent: User) -> set[int]:
    """The customers ``agent`` works on now: on their desk, in their call, or claimed."""
    held = set(
        CampaignLead.objects.filter(claimed_by=agent, status=LeadStatus.CLAIMED).values_list(
            "customer_id", flat=True
        )
    )
    presence = (
        AgentPresence.objects.filter(agent=agent)
        .values_list("lead__customer_id", "call__customer_id")
        .first()
    )
    if presence is not None:
        held.update(pk for pk in presence if pk is not None)
    return held


def customer_held_by(agent: User, customer: Customer) -> bool:
    return customer.pk in customer_ids_held_by(agent)


def customers_for_user(user: User) -> QuerySet[Customer]:
    """The customers ``user`` may see.

    Customer readers (``access.CUSTOMER_READERS``) see every customer of their clients.
    An agent sees the customers they work on now and those they have called; every
    other role sees none.
    """
    if not user.is_authenticated or not user.is_active:
        return Customer.objects.none()
    customers = access.scoped(Customer.objects.all(), user)
    if access.has_role(user, access.CUSTOMER_READERS):
        return customers
    if user.role == Role.AGENT:
        called = Call.objects.filter(agent=user, customer__isnull=False).values("customer_id")
        return customers.filter(Q(pk__in=customer_ids_held_by(user)) | Q(pk__in=called))
    return Customer.objects.none()


def customer_get_for_user(user: User, pk: int) -> Customer:
    """One customer ``user`` may see; Http404 otherwise, so that its existence stays hidden."""
    return get_object_or_404(
        customers_for_user(user).select_related("client", "account_manager"), pk=pk
    )


def customer_search(user: User, q: str) -> QuerySet[Customer]:
    """Customers by customer id, name, or number, for customer readers (agents never search).

    A query that reads as a phone number (in any form ``importing.values.phone_parse``
    reads) matches the customers with that number, compared in E.164.
    """
    if not access.has_role(user, access.CUSTOMER_READERS):
        return Customer.objects.none()
    customers = customers_for_user(user)
    text = q.strip()
    if not text:
        return customers.order_by("-updated_at", "-pk")
    match = Q(customer_key__iexact=text) | Q(name__icontains=text)
    try:
        e164 = values.phone_parse(text).e164
    except values.BadValue:
        pass
    else:
        match |= Q(pk__in=PhoneNumber.objects.filter(e164=e164).values("customer_id"))
    return customers.filter(match).order_by("name", "pk")


# --- the profile ---------------------------------------------------------------------


@dataclass(frozen=True)
class PhoneRow:
    id: int
    number: str  # as the user may see it
    extension: str
    kind: str
    is_valid: bool
    invalid_reason: str
    invalid_since: dt.datetime | None
    source: str
    added_by: str
    added_at: dt.datetime | None


@dataclass(frozen=True)
class EmailRow:
    address: str  # as the user may see it
    is_primary: bool
    source: str
    added_by: str
    added_at: dt.datetime | None


@dataclass(frozen=True)
class ConsentRow:
    granted: bool
    at: dt.datetime
    source: str
    recorded_by: str
    note: str


@dataclass(frozen=True)
class BlockRow:
    id: int
    kind: str
    kind_label: str
    target: str  # "whole customer" or the number as the user may see it
    reason: str
    source: str
    since: dt.datetime
    created_by: str
    expires_at: dt.datetime | None
    lifted_at: dt.datetime | None
    active: bool
    state: str  # active, lifted, expired
    # Of this customer or of a number alone; else another customer's entry that also
    # names one of these numbers (it blocks them too, and is changed on that customer).
    own: bool


@dataclass(frozen=True)
class CallRow:
    at: dt.datetime
    campaign: str
    agent: str
    direction: str
    number: str  # as the user may see it
    outcome: str
    disposition: str
    talk_seconds: int
    notes: str


@dataclass(frozen=True)
class SaleRow:
    at: dt.datetime
    campaign: str
    offer: str
    amount: Decimal
    status: str
    agent: str


@dataclass(frozen=True)
class CustomerProfile:
    customer: Customer
    full_numbers: bool
    phones: list[PhoneRow]
    emails: list[EmailRow]
    holdings: list[Holding]
    consents: list[ConsentRow]
    blocks_active: list[BlockRow]
    blocks_past: list[BlockRow]
    calls: list[CallRow]
    calls_total: int
    sales: list[SaleRow]


def _who(user: User | None) -> str:
    return user.label if user is not None else ""


def customer_calls(
    user: User, customer: Customer, limit: int = CALLS_LIMIT
) -> tuple[list[CallRow], int]:
    """The customer's calls across campaigns, newest first: at most ``limit``, and the total."""
    calls = Call.objects.filter(customer=customer)
    rows = [
        CallRow(
            at=call.dialed_at,
            campaign=call.campaign.name if call.campaign else "",
            agent=_who(call.agent),
            direction=call.get_direction_display(),
            number=access.number_for_user(user, call.number),
            outcome=call.get_outcome_display() if call.outcome else "",
            disposition=call.disposition.name if call.disposition else "",
            talk_seconds=call.talk_seconds,
            notes=call.notes,
        )
        for call in calls.select_related("campaign", "agent", "disposition").order_by(
            "-dialed_at", "-pk"
        )[:limit]
    ]
    total = len(rows) if len(rows) < limit else calls.count()
    return rows, total


def customer_blocks(user: User, customer: Customer) -> list[BlockRow]:
    """Blocks of the customer or of one of their numbers, in force first, newest first."""
    now = timezone.now()
    numbers = list(customer.phones.values_list("e164", flat=True))
    blocks = (
        ContactBlock.objects.filter(client_id=customer.client_id)
        .filter(Q(customer=customer) | Q(e164__in=numbers))
        .select_related("created_by")
        .order_by("-created_at", "-pk")
    )
    rows = []
    for block in blocks:
        expired = block.expires_at is not None and block.expires_at <= now
        state = "lifted" if block.lifted_at else ("expired" if expired else "active")
        rows.append(
            BlockRow(
                id=block.pk,
                kind=block.kind,
                kind_label=block.get_kind_display(),
                target=(
                    access.number_for_user(user, block.e164) if block.e164 else _("Whole customer")
                ),
                reason=block.reason,
                source=source_label(block.source),
                since=block.created_at,
                created_by=_who(block.created_by),
                expires_at=block.expires_at,
                lifted_at=block.lifted_at,
                active=state == "active",
                state=state,
                own=block.customer_id in (None, customer.pk),
            )
        )
    return rows


def customer_block_get(customer: Customer, pk: int) -> ContactBlock:
    """A block of ``customer`` or of one of their numbers (as the profile lists); else 404."""
    numbers = customer.phones.values_list("e164", flat=True)
    blocks = ContactBlock.objects.filter(client_id=customer.client_id).filter(
        Q(customer=customer) | Q(customer__isnull=True, e164__in=numbers)
    )
    return get_object_or_404(blocks.select_related("customer"), pk=pk)


def customer_phones(user: User, customer: Customer) -> list[PhoneRow]:
    return [
        PhoneRow(
            id=phone.pk,
            number=access.number_for_user(user, phone.e164),
            extension=phone.extension,
            kind=phone.get_kind_display(),
            is_valid=phone.is_valid,
            invalid_reason=phone.invalid_reason,
            invalid_since=phone.invalid_since,
            source=source_label(phone.source),
            added_by=_who(phone.added_by),
            added_at=phone.added_at,
        )
        for phone in customer.phones.select_related("added_by").order_by("position", "pk")
    ]


def customer_emails(user: User, customer: Customer) -> list[EmailRow]:
    return [
        EmailRow(
            address=email_for_user(user, email.address),
            is_primary=email.is_primary,
            source=source_label(email.source),
            added_by=_who(email.added_by),
            added_at=email.added_at,
        )
        for email in customer.emails.select_related("added_by").order_by("-is_primary", "pk")
    ]


def customer_profile(user: User, customer: Customer) -> CustomerProfile:
    """Everything the profile page shows, with numbers and addresses as ``user`` may see them.

    ``customer`` must come from ``customer_get_for_user``.
    """
    blocks = customer_blocks(user, customer)
    calls, calls_total = customer_calls(user, customer)
    return CustomerProfile(
        customer=customer,
        full_numbers=access.sees_full_numbers(user),
        phones=customer_phones(user, customer),
        emails=customer_emails(user, customer),
        holdings=list(customer.holdings.order_by("product")),
        consents=[
            ConsentRow(
                granted=event.granted,
                at=event.at,
                source=source_label(event.source),
                recorded_by=_who(event.recorded_by),
                note=event.note,
            )
            for event in customer.consents.select_related("recorded_by").order_by("-at", "-pk")
        ],
        blocks_active=[b for b in blocks if b.active],
        blocks_past=[b for b in blocks if not b.active],
        calls=calls,
        calls_total=calls_total,
        sales=[
            SaleRow(
                at=sale.created_at,
                campaign=sale.campaign.name if sale.campaign else "",
                offer=sale.offer.name if sale.offer else "",
                amount=sale.amount,
                status=sale.get_status_display(),
                agent=_who(sale.agent),
            )
            for sale in Sale.objects.filter(customer=customer)
            .select_related("campaign", "offer", "agent")
            .order_by("-created_at", "-pk")
        ],
    )


@dataclass(frozen=True)
class CustomerListRow:
    customer: Customer
    numbers: list[str]  # valid numbers as the user may see them


def customer_list_rows(user: User, customers: list[Customer]) -> list[CustomerListRow]:
    """A page of customers with their valid numbers, in one query for the numbers."""
    by_customer: dict[int, list[str]] = {c.pk: [] for c in customers}
    phones = PhoneNumber.objects.filter(customer__in=customers, is_valid=True).order_by(
        "position", "pk"
    )
    for customer_id, e164 in phones.values_list("customer_id", "e164"):
        by_customer[customer_id].append(access.number_for_user(user, e164))
    return [CustomerListRow(c, by_customer[c.pk]) for c in customers]
