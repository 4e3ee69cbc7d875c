"""Changes to segments: create, update, delete.

Every service takes the acting user and refuses with ``PermissionDenied`` unless the
actor edits segments (``access.SEGMENT_EDITORS``) for the segment's client. Rules are
checked with ``segments.rules_validate`` against the client (its campaigns and offers)
and stored cleaned. Each service runs in one transaction and writes one audit entry;
update and delete first take the segment's row lock, so two editors' changes queue
instead of interleaving.

A segment that a daily-marketing campaign builds its list from cannot be deleted: the
rule would silently fall back to every customer of the client.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calldeck.accounts import access
from calldeck.accounts.models import Client, User
from calldeck.audit.services import audit_record
from calldeck.campaigns.models import DailyListRule
from calldeck.customers.models import Segment
from calldeck.customers.segments import rules_validate

NOT_ALLOWED = _("Your role or clients do not allow this change.")
CLIENT_INACTIVE = _("This client is no longer active.")
NAME_TAKEN = _("This client already has a segment named “%(name)s”.")
IN_USE = _("The daily lists of these campaigns are built from this segment: %(campaigns)s.")

UNSET: Any = object()


def _require(actor: User, client_id: int) -> None:
    if not access.has_role(actor, access.SEGMENT_EDITORS) or client_id not in (
        access.client_ids_for(actor)
    ):
        raise PermissionDenied(NOT_ALLOWED)


def segment_may_edit(actor: User, segment: Segment) -> bool:
    """Whether ``actor`` may change or delete ``segment`` (for page buttons)."""
    return access.has_role(actor, access.SEGMENT_EDITORS) and segment.client_id in (
        access.client_ids_for(actor)
    )


def _validate(segment: Segment) -> None:
    """Field rules, the rules' own checks and the unique name, all reported at once."""
    errors: dict[str, list[ValidationError]] = {}
    try:
        segment.full_clean(exclude=["rules"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    try:
        segment.rules = rules_validate(segment.rules, client_id=segment.client_id)
    except ValidationError as exc:
        errors["rules"] = exc.error_list
    if "name" not in errors:
        taken = Segment.objects.filter(client_id=segment.client_id, name=segment.name)
        if segment.pk:
            taken = taken.exclude(pk=segment.pk)
        if taken.exists():
            errors["name"] = [
                ValidationError(NAME_TAKEN, code="name_taken", params={"name": segment.name})
            ]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def segment_create(
    *, actor: User, client: Client, name: str, description: str = "", rules: object
) -> Segment:
    """A new segment of ``client`` with ``rules`` stored cleaned."""
    _require(actor, client.pk)
    if not client.is_active:
        raise ValidationError(CLIENT_INACTIVE, code="client_inactive")
    now = timezone.now()
    segment = Segment(
        client=client,
        name=name.strip(),
        description=description.strip(),
        rules=rules,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    _validate(segment)
    segment.save()
    audit_record(
        actor=actor,
        action="segment.create",
        obj=segment,
        changes={"name": segment.name, "description": segment.description, "rules": segment.rules},
    )
    return segment


@transaction.atomic
def segment_update(
    *,
    actor: User,
    segment: Segment,
    name: str = UNSET,
    description: str = UNSET,
    rules: object = UNSET,
) -> Segment:
    """Change what is given; the audit entry records [old, new] of each changed field."""
    _require(actor, segment.client_id)
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    given = {
        key: value.strip() if isinstance(value, str) else value
        for key, value in (("name", name), ("description", description), ("rules", rules))
        if value is not UNSET
    }
    before = {key: getattr(segment, key) for key in given}
    for key, value in given.items():
        setattr(segment, key, value)
    _validate(segment)
    changes = {
        key: [before[key], getattr(segment, key)]
        for key in given
        if before[key] != getattr(segment, key)
    }
    if not changes:
        return segment
    segment.updated_at = timezone.now()
    segment.save(update_fields=[*changes, "updated_at"])
    audit_record(actor=actor, action="segment.update", obj=segment, changes=changes)
    return segment


def segment_users(segment: Segment) -> list[str]:
    """The campaigns whose daily list is built from ``segment``, by name."""
    return list(
        DailyListRule.objects.filter(segment=segment)
        .order_by("campaign__name")
        .values_list("campaign__name", flat=True)
    )


@transaction.atomic
def segment_delete(*, actor: User, segment: Segment) -> None:
    """Delete the segment; refused while a daily list is built from it."""
    _require(actor, segment.client_id)
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    campaigns = segment_users(segment)
    if campaigns:
        raise ValidationError(IN_USE, code="in_use", params={"campaigns": "、".join(campaigns)})
    audit_record(
        actor=actor,
        action="segment.delete",
        obj=segment,
        changes={"name": segment.name, "description": segment.description, "rules": segment.rules},
    )
    segment.delete()
