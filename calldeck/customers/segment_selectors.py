"""Reads of segments for a user, and what the segment editor offers to choose from.

Every page or answer that shows a segment fetches it through ``segments_for_user`` or
``segment_get_for_user``: segments are kept apart by client here and nowhere else.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from calldeck.accounts import access
from calldeck.accounts.models import User
from calldeck.campaigns.models import Campaign, Offer
from calldeck.customers.models import Customer, PhoneNumber, Segment

SAMPLE_SIZE = 10
# How many recently changed customers are read for the attribute names they use.
ATTRIBUTE_SAMPLE = 200


def segments_for_user(user: User) -> QuerySet[Segment]:
    """The segments of the clients ``user`` works for, if their role reads customers."""
    if not access.has_role(user, access.CUSTOMER_READERS):
        return Segment.objects.none()
    return access.scoped(Segment.objects.all(), user)


def segment_get_for_user(user: User, pk: int) -> Segment:
    """One segment ``user`` may see; Http404 otherwise, so that its existence stays hidden."""
    return get_object_or_404(segments_for_user(user).select_related("client", "created_by"), pk=pk)


def customers_sample(customers: QuerySet[Customer], size: int = SAMPLE_SIZE) -> list[Customer]:
    """The first ``size`` customers by id, each with their numbers (in their order)."""
    phones = PhoneNumber.objects.order_by("position", "id")
    return list(
        customers.order_by("pk").prefetch_related(Prefetch("phones", queryset=phones))[:size]
    )


def attribute_keys(client_id: int) -> list[str]:
    """Free attribute names in use, read from the client's most recently changed customers.

    A hint for the editor, not a census: reading every customer's attributes of a
    large client would cost more than the page is worth.
    """
    rows = (
        Customer.objects.filter(client_id=client_id)
        .order_by("-updated_at")
        .values_list("attributes", flat=True)[:ATTRIBUTE_SAMPLE]
    )
    keys: set[str] = set()
    for attributes in rows:
        if isinstance(attributes, dict):
            keys.update(str(key) for key in attributes)
    return sorted(keys)


def offers_for_client(client_id: int) -> list[Offer]:
    return list(Offer.objects.filter(client_id=client_id).order_by("code").only("code", "name"))


def campaigns_for_client(client_id: int) -> list[Campaign]:
    return list(
        Campaign.objects.filter(client_id=client_id).order_by("-created_at").only("pk", "name")
    )
