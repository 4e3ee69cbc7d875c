"""Changes to one customer: numbers, e-mail addresses, contact blocks and consent.

Who may change what (``_require_*``):

- An agent works on the customer they hold now: the customer of the lead on their desk
  or of their call (``selectors.customer_held_by``). They may add a number or an e-mail
  address told during the call, and record that the customer withdraws consent to
  marketing. Nothing else, and nobody else's customer.
- Data admins and supervisors change any customer of their clients: numbers, e-mail
  addresses, blocks and consent both ways. Account managers do the same for the
  customers they manage. Operators (superusers) may do everything.

Blocks are never deleted: lifting sets ``lifted_at``, and an entry with an expiry stops
blocking by itself once it passes (``models.active_blocks_q``), which is what the dial-time
check (``dialing.leads.block_reason``) reads. Consent is a history of events; the
customer's current state follows the latest of them by its time, so an old event recorded
late (an import of last month's forms) never overrides a newer withdrawal.

Every service runs in one transaction and writes one audit entry (numbers in it masked:
the audit log is read by more people than see numbers). A change of a customer first
takes the customer's row lock, so two people adding the same number queue instead of
colliding, and two consent events are compared with the state the other one left.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calldeck.accounts import access
from calldeck.accounts.models import Client, Role, User
from calldeck.audit.services import audit_record
from calldeck.customers import selectors
from calldeck.customers.importing import values
from calldeck.customers.models import (
    BlockKind,
    ConsentEvent,
    ContactBlock,
    ContactSource,
    Customer,
    EmailAddress,
    PhoneKind,
    PhoneNumber,
    active_blocks_q,
)

NOT_ALLOWED = _("Your role or clients do not allow this change.")
NOT_HELD = _("You can change only the customer you are working on now.")
PHONE_REQUIRED = _("Enter the phone number.")
PHONE_INVALID = _(
    "“%(value)s” is not a valid phone number. Enter a mobile (13800138000) or a landline "
    "with its area code (010-65529988), optionally with an extension after 转, ext, x or #."
)
PHONE_NO_AREA_CODE = _(
    "“%(value)s” has no area code. Enter a landline with its area code, e.g. 010-65529988."
)
PHONE_DAMAGED = _(
    "“%(value)s” was damaged by a spreadsheet (scientific notation): digits are lost."
)
PHONE_DUPLICATE = _("This customer already has the number %(number)s.")
PHONE_BAD_KIND = _("Unknown number type: %(kind)s.")
EXTENSION_INVALID = _("An extension is 1 to 10 digits.")
EMAIL_REQUIRED = _("Enter the e-mail address.")
EMAIL_DUPLICATE = _("This customer already has the e-mail address %(address)s.")
BAD_SOURCE = _("Unknown source: %(source)s.")
BLOCK_BAD_KIND = _("Unknown kind of block: %(kind)s.")
BLOCK_NO_TARGET = _("A block needs a customer or a number.")
BLOCK_OTHER_CLIENT = _("This customer belongs to another client.")
BLOCK_EXPIRY_PAST = _("The expiry must be in the future.")
BLOCK_DUPLICATE = _(
    "The same block is already in force (since %(since)s); lift it first to change it."
)
BLOCK_NOT_ACTIVE = _("This block is no longer in force.")
CONSENT_SOURCE_REQUIRED = _("Say where the consent or its withdrawal came from.")
CONSENT_IN_FUTURE = _("The time of the consent cannot be in the future.")

# Extensions as the model stores them.
EXTENSION_MAX = PhoneNumber._meta.get_field("extension").max_length or 10
# A consent time a few seconds ahead is a clock difference, not a mistake.
CLOCK_SKEW = dt.timedelta(minutes=1)

# Which kind a number gets when the person adding it does not say.
_PARSED_KIND = {values.MOBILE: PhoneKind.MOBILE, values.LANDLINE: PhoneKind.HOME}
_PHONE_MESSAGES = {
    "phone_no_area_code": PHONE_NO_AREA_CODE,
    "phone_excel_damaged": PHONE_DAMAGED,
}

# Roles that change any customer of their clients; account managers only their own.
MANAGERS = frozenset({Role.DATA_ADMIN, Role.SUPERVISOR})


# --- permissions ---------------------------------------------------------------------


def _manages(actor: User, customer: Customer) -> bool:
    if not actor.is_authenticated or not actor.is_active:
        return False
    if customer.client_id not in access.client_ids_for(actor):
        return False
    if actor.is_superuser or actor.role in MANAGERS:
        return True
    return actor.role == Role.ACCOUNT_MANAGER and customer.account_manager_id == actor.pk


def _holds(actor: User, customer: Customer) -> bool:
    return (
        actor.is_authenticated
        and actor.is_active
        and actor.role == Role.AGENT
        and customer.client_id in access.client_ids_for(actor)
        and selectors.customer_held_by(actor, customer)
    )


def customer_may_add_contact(actor: User, customer: Customer) -> bool:
    """Whether ``actor`` may add a number or an e-mail address to ``customer``."""
    return _manages(actor, customer) or _holds(actor, customer)


def customer_may_manage(actor: User, customer: Customer) -> bool:
    """Whether ``actor`` may add and lift blocks and record consent both ways."""
    return _manages(actor, customer)


def customer_may_withdraw_consent(actor: User, customer: Customer) -> bool:
    return _manages(actor, customer) or _holds(actor, customer)


def _require_contact(actor: User, customer: Customer) -> None:
    if not customer_may_add_contact(actor, customer):
        raise PermissionDenied(NOT_HELD if actor.role == Role.AGENT else NOT_ALLOWED)


def _require_manager(actor: User, customer: Customer) -> None:
    if not customer_may_manage(actor, customer):
        raise PermissionDenied(NOT_ALLOWED)


def _lock(customer: Customer) -> Customer:
    """A fresh copy of ``customer`` holding its row lock until the transaction ends."""
    return Customer.objects.select_for_update().get(pk=customer.pk)


def _source(actor: User, source: str) -> str:
    """The source given, else the one the actor's role implies."""
    if not source:
        return ContactSource.AGENT if actor.role == Role.AGENT else ContactSource.STAFF
    if source not in ContactSource.values:
        raise ValidationError(BAD_SOURCE, code="bad_source", params={"source": source})
    return source


# --- numbers and e-mail addresses ----------------------------------------------------


def phone_normalize(raw: str) -> values.Phone:
    """A typed number as E.164 with its extension apart; ValidationError naming the problem.

    The rules are the imports' (``importing.values.phone_parse``): region CN, spaces,
    dashes, brackets and full-width digits allowed, +86 / 0086 / 86, landlines with their
    area code, an extension after 转 / 分机 / ext / x / #.
    """
    text = raw.strip()
    if not text:
        raise ValidationError(PHONE_REQUIRED, code="required")
    try:
        return values.phone_parse(text)
    except values.BadValue as bad:
        message = _PHONE_MESSAGES.get(bad.reason, PHONE_INVALID)
        raise ValidationError(message, code=bad.reason, params={"value": text}) from None


@transaction.atomic
def customer_phone_add(
    *,
    actor: User,
    customer: Customer,
    number: str,
    kind: str = "",
    extension: str = "",
    source: str = "",
) -> PhoneNumber:
    """Add a number to ``customer``, stored in E.164, after their other numbers.

    ``kind`` empty: mobile for a mobile number, home for a landline, other otherwise.
    ``extension`` empty: the one typed after the number, if any. ``source`` empty: agent
    for agents, staff for everyone else.
    """
    _require_contact(actor, customer)
    source = _source(actor, source)
    customer = _lock(customer)
    errors: dict[str, list[ValidationError]] = {}
    parsed: values.Phone | None = None
    try:
        parsed = phone_normalize(number)
    except ValidationError as exc:
        errors["number"] = exc.error_list
    if kind and kind not in PhoneKind.values:
        errors["kind"] = [ValidationError(PHONE_BAD_KIND, code="bad_kind", params={"kind": kind})]
    extension = extension.strip() or (parsed.extension if parsed else "")
    if extension and not (
        extension.isascii() and extension.isdigit() and len(extension) <= EXTENSION_MAX
    ):
        errors["extension"] = [ValidationError(EXTENSION_INVALID, code="bad_extension")]
    if parsed is not None and customer.phones.filter(e164=parsed.e164).exists():
        errors.setdefault("number", []).append(
            ValidationError(
                PHONE_DUPLICATE,
                code="duplicate",
                params={"number": access.number_for_user(actor, parsed.e164)},
            )
        )
    if errors:
        raise ValidationError(errors)
    assert parsed is not None
    now = timezone.now()
    last = customer.phones.aggregate(last=Max("position"))["last"]
    phone = PhoneNumber(
        customer=customer,
        e164=parsed.e164,
        extension=extension,
        kind=kind or _PARSED_KIND.get(parsed.kind, PhoneKind.OTHER),
        position=0 if last is None else last + 1,
        source=source,
        added_by=actor,
        added_at=now,
    )
    phone.full_clean(validate_unique=False, validate_constraints=False)
    phone.save()
    Customer.objects.filter(pk=customer.pk).update(updated_at=now)
    audit_record(
        actor=actor,
        action="customer.phone_add",
        obj=customer,
        changes={
            "phone": phone.pk,
            "number": access.mask_number(phone.e164),
            "kind": phone.kind,
            "source": phone.source,
        },
    )
    return phone


@transaction.atomic
def customer_email_add(
    *, actor: User, customer: Customer, address: str, source: str = ""
) -> EmailAddress:
    """Add an e-mail address (Django's e-mail validation); the first one is the primary."""
    _require_contact(actor, customer)
    source = _source(actor, source)
    customer = _lock(customer)
    text = address.strip()
    if not text:
        raise ValidationError({"address": [ValidationError(EMAIL_REQUIRED, code="required")]})
    local, at, domain = text.rpartition("@")
    if at:
        text = f"{local}@{domain.lower()}"
    now = timezone.now()
    email = EmailAddress(
        customer=customer,
        address=text,
        is_primary=not customer.emails.exists(),
        source=source,
        added_by=actor,
        added_at=now,
    )
    email.full_clean(validate_unique=False, validate_constraints=False)
    if customer.emails.filter(address__iexact=text).exists():
        raise ValidationError(
            {
                "address": [
                    ValidationError(
                        EMAIL_DUPLICATE,
                        code="duplicate",
                        params={"address": selectors.email_for_user(actor, text)},
                    )
                ]
            }
        )
    email.save()
    Customer.objects.filter(pk=customer.pk).update(updated_at=now)
    audit_record(
        actor=actor,
        action="customer.email_add",
        obj=customer,
        changes={
            "email": email.pk,
            "address": selectors.mask_email(email.address),
            "source": email.source,
        },
    )
    return email


# --- blocks --------------------------------------------------------------------------


@transaction.atomic
def block_add(
    *,
    actor: User,
    client: Client,
    kind: str,
    customer: Customer | None = None,
    e164: str = "",
    reason: str,
    expires_at: dt.datetime | None = None,
    source: str = "",
) -> ContactBlock:
    """Put a customer, or a number whoever has it, on a list of ``client``.

    With ``expires_at`` the entry is a temporary suppression: it stops blocking then.
    ``e164`` may be typed in any form ``phone_normalize`` reads.
    """
    if customer is not None:
        _require_manager(actor, customer)
        if customer.client_id != client.pk:
            raise ValidationError(BLOCK_OTHER_CLIENT, code="other_client")
        customer = _lock(customer)
    elif not (access.has_role(actor, MANAGERS) and client.pk in access.client_ids_for(actor)):
        # A number alone may belong to anyone: only those who manage every customer.
        raise PermissionDenied(NOT_ALLOWED)
    errors: dict[str, list[ValidationError]] = {}
    number = ""
    if e164.strip():
        try:
            number = phone_normalize(e164).e164
        except ValidationError as exc:
            errors["e164"] = exc.error_list
    elif customer is None:
        errors["e164"] = [ValidationError(BLOCK_NO_TARGET, code="no_target")]
    if kind not in BlockKind.values:
        errors["kind"] = [ValidationError(BLOCK_BAD_KIND, code="bad_kind", params={"kind": kind})]
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        errors["expires_at"] = [ValidationError(BLOCK_EXPIRY_PAST, code="expiry_past")]
    block = ContactBlock(
        client=client,
        customer=customer,
        e164=number,
        kind=kind,
        reason=reason.strip(),
        created_at=now,
        created_by=actor,
        expires_at=expires_at,
        source=source.strip(),
    )
    try:
        block.full_clean(exclude=["e164", "kind"], validate_constraints=False)
    except ValidationError as exc:
        for field, field_errors in exc.error_dict.items():
            errors.setdefault(field, []).extend(field_errors)
    if errors:
        raise ValidationError(errors)
    same = ContactBlock.objects.filter(client=client, kind=kind, customer=customer, e164=number)
    existing = same.filter(active_blocks_q(now)).order_by("created_at").first()
    if existing is not None:
        since = timezone.localtime(existing.created_at)
        raise ValidationError(
            BLOCK_DUPLICATE, code="duplicate", params={"since": f"{since:%Y-%m-%d %H:%M}"}
        )
    block.save()
    if customer is not None:
        Customer.objects.filter(pk=customer.pk).update(updated_at=now)
    audit_record(
        actor=actor,
        action="block.add",
        obj=block,
        changes={
            "kind": block.kind,
            "customer": block.customer_id,
            "number": access.mask_number(block.e164),
            "reason": block.reason,
            "expires_at": block.expires_at.isoformat() if block.expires_at else None,
            "source": block.source,
        },
    )
    return block


@transaction.atomic
def block_lift(*, actor: User, block: ContactBlock) -> ContactBlock:
    """End a block now; the row stays as the history of why the customer was not called."""
    if block.customer is not None:
        _require_manager(actor, block.customer)
    elif not (access.has_role(actor, MANAGERS) and block.client_id in access.client_ids_for(actor)):
        raise PermissionDenied(NOT_ALLOWED)
    block = ContactBlock.objects.select_for_update().get(pk=block.pk)
    now = timezone.now()
    if not ContactBlock.objects.filter(pk=block.pk).filter(active_blocks_q(now)).exists():
        raise ValidationError(BLOCK_NOT_ACTIVE, code="not_active")
    block.lifted_at = now
    block.save(update_fields=["lifted_at"])
    if block.customer_id is not None:
        Customer.objects.filter(pk=block.customer_id).update(updated_at=now)
    audit_record(
        actor=actor,
        action="block.lift",
        obj=block,
        changes={"kind": block.kind, "customer": block.customer_id, "reason": block.reason},
    )
    return block


# --- consent -------------------------------------------------------------------------


@transaction.atomic
def consent_record(
    *,
    actor: User,
    customer: Customer,
    granted: bool,
    source: str,
    at: dt.datetime | None = None,
    note: str = "",
) -> ConsentEvent:
    """Record a grant (``granted=True``) or withdrawal of marketing consent at ``at``.

    The customer's current consent follows the event only if it is at least as recent as
    the one the current state came from. Agents may record withdrawals only.
    """
    if granted:
        _require_manager(actor, customer)
    elif not customer_may_withdraw_consent(actor, customer):
        raise PermissionDenied(NOT_HELD if actor.role == Role.AGENT else NOT_ALLOWED)
    customer = _lock(customer)
    now = timezone.now()
    at = at or now
    errors: dict[str, list[ValidationError]] = {}
    if not source.strip():
        errors["source"] = [ValidationError(CONSENT_SOURCE_REQUIRED, code="required")]
    if at > now + CLOCK_SKEW:
        errors["at"] = [ValidationError(CONSENT_IN_FUTURE, code="in_future")]
    event = ConsentEvent(
        customer=customer,
        granted=granted,
        source=source.strip(),
        at=at,
        recorded_by=actor,
        note=note.strip(),
    )
    try:
        event.full_clean(exclude=["source"] if "source" in errors else None)
    except ValidationError as exc:
        for field, field_errors in exc.error_dict.items():
            errors.setdefault(field, []).extend(field_errors)
    if errors:
        raise ValidationError(errors)
    event.save()
    current = customer.consent_updated_at
    applies = current is None or at >= current
    changes: dict[str, Any] = {
        "event": event.pk,
        "granted": granted,
        "at": at.isoformat(),
        "source": event.source,
        "applied": applies,
    }
    if applies:
        changes["consent_marketing"] = [customer.consent_marketing, granted]
        customer.consent_marketing = granted
        customer.consent_updated_at = at
        customer.consent_source = event.source
        customer.updated_at = now
        customer.save(
            update_fields=[
                "consent_marketing",
                "consent_updated_at",
                "consent_source",
                "updated_at",
            ]
        )
    audit_record(actor=actor, action="customer.consent", obj=customer, changes=changes)
    return event


@transaction.atomic
def customer_view_record(*, actor: User, customer: Customer) -> None:
    """Log that ``actor`` opened ``customer`` with full numbers shown (a sensitive read)."""
    audit_record(
        actor=actor,
        action="customer.view",
        obj=customer,
        changes={"customer_key": customer.customer_key},
    )
