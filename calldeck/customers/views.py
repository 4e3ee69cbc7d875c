"""Customer pages: search and list, the profile, and the profile's small forms.

Every customer is fetched through ``selectors.customer_get_for_user`` (404 outside the
user's clients) and every change goes through ``services``. Agents are not customer
readers: they reach only the profile of the customer they work on now (404 otherwise),
and never the list. The forms on the profile post with htmx and get back only their
panel; without JavaScript they post as plain forms and the page is redirected, or shown
again with the errors.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from calldeck.accounts import access
from calldeck.accounts.models import Role, User
from calldeck.customers import selectors, services
from calldeck.customers.models import BlockKind, ContactSource, Customer, PhoneKind


class AuthenticatedHttpRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


# The profile: customer readers, and agents for the customer they work on now.
PROFILE_READERS = access.CUSTOMER_READERS | access.DESK_USERS

PHONE_ADDED = _("Number %(number)s added.")
EMAIL_ADDED = _("E-mail address %(address)s added.")
BLOCK_ADDED = _("%(kind)s added.")
BLOCK_LIFTED = _("%(kind)s lifted.")
CONSENT_GRANTED = _("Consent to marketing recorded.")
CONSENT_WITHDRAWN = _("Withdrawal of consent recorded.")
CONSENT_OLDER = _(
    "The event is kept in the history; the current consent comes from a later event "
    "and stays as it is."
)

PAGE_SIZE = 50
# Status a refused htmx form answers with; base.html swaps it in like a 200.
UNPROCESSABLE = 422
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
WHOLE_CUSTOMER = ""


class PhoneForm(forms.Form):
    number = forms.CharField(label=_("Number"), max_length=40)
    kind = forms.ChoiceField(
        label=_("Type"), choices=[("", _("Automatic")), *PhoneKind.choices], required=False
    )
    extension = forms.CharField(label=_("Extension"), max_length=10, required=False)


class EmailForm(forms.Form):
    address = forms.CharField(label=_("E-mail"), max_length=254)


class BlockForm(forms.Form):
    kind = forms.ChoiceField(label=_("List"), choices=BlockKind.choices)
    target = forms.ChoiceField(label=_("Applies to"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300)
    expires_on = forms.DateField(
        label=_("Until (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("A temporary suppression ends at the end of this day."),
    )
    source = forms.CharField(label=_("Source"), max_length=100, required=False)

    def __init__(self, *args: Any, targets: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = targets  # type: ignore[attr-defined]


class ConsentForm(forms.Form):
    granted = forms.TypedChoiceField(
        label=_("Consent"),
        choices=[("yes", _("Granted")), ("no", _("Withdrawn"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    source = forms.CharField(label=_("Source"), max_length=100)
    at = forms.DateTimeField(
        label=_("When (empty: now)"),
        required=False,
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class WithdrawForm(forms.Form):
    """An agent's form: the customer withdraws consent now, as told on the call."""

    note = forms.CharField(label=_("Note"), max_length=300, required=False)


def _add_errors(
    form: forms.Form, exc: ValidationError, aliases: dict[str, str] | None = None
) -> None:
    """Show a service's ValidationError on the form: on its field if the form has one."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        name = (aliases or {}).get(field, field)
        form.add_error(name if name in form.fields else None, errors)


# --- list and search -----------------------------------------------------------------


@access.role_required(access.CUSTOMER_READERS)
@require_GET
def customer_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    q = request.GET.get("q", "").strip()[:100]
    page = Paginator(selectors.customer_search(user, q), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "customers/list.html",
        {
            "q": q,
            "page": page,
            "rows": selectors.customer_list_rows(user, list(page)),
            "many_clients": len(access.client_ids_for(user)) > 1,
        },
    )


# --- profile -------------------------------------------------------------------------


def _is_agent(user: User) -> bool:
    return user.role == Role.AGENT and not user.is_superuser


def _customer(request: AuthenticatedHttpRequest, pk: int) -> Customer:
    """The customer of the page; an agent only the one they work on now."""
    user = request.user
    customer = selectors.customer_get_for_user(user, pk)
    if _is_agent(user) and not selectors.customer_held_by(user, customer):
        raise Http404
    return customer


def _block_targets(user: User, phones: list[selectors.PhoneRow]) -> list[tuple[str, str]]:
    targets = [(WHOLE_CUSTOMER, str(_("The whole customer (every number)")))]
    if access.has_role(user, services.MANAGERS):
        # A number alone is blocked whoever has it: only for those who manage everyone.
        targets += [(str(p.id), str(_("Only %(number)s") % {"number": p.number})) for p in phones]
    return targets


def _context(
    request: AuthenticatedHttpRequest,
    customer: Customer,
    *,
    notices: dict[str, str] | None = None,
    given: dict[str, forms.Form] | None = None,
) -> dict[str, Any]:
    user = request.user
    profile = selectors.customer_profile(user, customer)
    manages = services.customer_may_manage(user, customer)
    context: dict[str, Any] = {
        "profile": profile,
        "customer": customer,
        "is_agent": _is_agent(user),
        "can_add_contact": services.customer_may_add_contact(user, customer),
        "can_manage": manages,
        "can_withdraw": services.customer_may_withdraw_consent(user, customer),
        "notices": notices or {},
        "phone_form": PhoneForm(),
        "email_form": EmailForm(),
        "block_form": BlockForm(targets=_block_targets(user, profile.phones)),
        "consent_form": ConsentForm(),
        "withdraw_form": WithdrawForm(),
        "calls_limit": selectors.CALLS_LIMIT,
    }
    context.update(given or {})
    return context


@access.role_required(PROFILE_READERS)
@require_GET
def customer_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    if access.sees_full_numbers(request.user):
        services.customer_view_record(actor=request.user, customer=customer)
    return render(request, "customers/detail.html", _context(request, customer))


def _answer(
    request: AuthenticatedHttpRequest,
    customer: Customer,
    panel: str,
    *,
    notice: str = "",
    error: str = "",
    error_form: tuple[str, forms.Form] | None = None,
) -> HttpResponse:
    """The panel again (htmx), else the page: redirected after a change, shown with errors."""
    given = dict([error_form]) if error_form else {}
    refused = bool(error or error_form)
    if request.htmx:
        context = _context(request, customer, notices={panel: notice}, given=given)
        context["panel_error"] = error
        status = UNPROCESSABLE if refused else 200
        return render(request, f"customers/detail.html#{panel}", context, status=status)
    if error_form:
        context = _context(request, customer, given=given)
        return render(request, "customers/detail.html", context, status=UNPROCESSABLE)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return redirect("calldeck-customer-detail", pk=customer.pk)


@access.role_required(PROFILE_READERS)
@require_POST
def phone_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    customer = _customer(request, pk)
    if not services.customer_may_add_contact(user, customer):
        raise PermissionDenied(services.NOT_ALLOWED)
    form = PhoneForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            phone = services.customer_phone_add(
                actor=user,
                customer=customer,
                number=data["number"],
                kind=data["kind"],
                extension=data["extension"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            number = access.number_for_user(user, phone.e164)
            return _answer(request, customer, "contacts", notice=PHONE_ADDED % {"number": number})
    return _answer(request, customer, "contacts", error_form=("phone_form", form))


@access.role_required(PROFILE_READERS)
@require_POST
def email_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    customer = _customer(request, pk)
    if not services.customer_may_add_contact(user, customer):
        raise PermissionDenied(services.NOT_ALLOWED)
    form = EmailForm(request.POST)
    if form.is_valid():
        try:
            email = services.customer_email_add(
                actor=user, customer=customer, address=form.cleaned_data["address"]
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            address = selectors.email_for_user(user, email.address)
            return _answer(request, customer, "contacts", notice=EMAIL_ADDED % {"address": address})
    return _answer(request, customer, "contacts", error_form=("email_form", form))


def _end_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=timezone.get_current_timezone())


@access.role_required(access.CUSTOMER_READERS)
@require_POST
def block_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    customer = _customer(request, pk)
    if not services.customer_may_manage(user, customer):
        raise PermissionDenied(services.NOT_ALLOWED)
    targets = _block_targets(user, selectors.customer_phones(user, customer))
    form = BlockForm(request.POST, targets=targets)
    if form.is_valid():
        data = form.cleaned_data
        phone = customer.phones.filter(pk=data["target"]).first() if data["target"] else None
        try:
            block = services.block_add(
                actor=user,
                client=customer.client,
                kind=data["kind"],
                customer=None if phone else customer,
                e164=phone.e164 if phone else "",
                reason=data["reason"],
                expires_at=_end_of_day(data["expires_on"]) if data["expires_on"] else None,
                source=data["source"] or ContactSource.STAFF,
            )
        except ValidationError as exc:
            _add_errors(form, exc, {"expires_at": "expires_on", "e164": "target"})
        else:
            notice = BLOCK_ADDED % {"kind": block.get_kind_display()}
            return _answer(request, customer, "blocks", notice=notice)
    return _answer(request, customer, "blocks", error_form=("block_form", form))


@access.role_required(access.CUSTOMER_READERS)
@require_POST
def block_lift(request: AuthenticatedHttpRequest, pk: int, block_pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    block = selectors.customer_block_get(customer, block_pk)
    try:
        services.block_lift(actor=request.user, block=block)
    except ValidationError as exc:
        return _answer(request, customer, "blocks", error=" ".join(exc.messages))
    notice = BLOCK_LIFTED % {"kind": block.get_kind_display()}
    return _answer(request, customer, "blocks", notice=notice)


@access.role_required(PROFILE_READERS)
@require_POST
def consent_record(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    customer = _customer(request, pk)
    if services.customer_may_manage(user, customer):
        form: forms.Form = ConsentForm(request.POST)
        name = "consent_form"
    else:
        form = WithdrawForm(request.POST)
        name = "withdraw_form"
    if form.is_valid():
        data = form.cleaned_data
        granted = bool(data.get("granted", False))
        try:
            event = services.consent_record(
                actor=user,
                customer=customer,
                granted=granted,
                source=data.get("source") or ContactSource.AGENT,
                at=data.get("at"),
                note=data["note"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            customer.refresh_from_db()
            if customer.consent_updated_at != event.at:
                notice = CONSENT_OLDER
            else:
                notice = CONSENT_GRANTED if granted else CONSENT_WITHDRAWN
            return _answer(request, customer, "consent", notice=str(notice))
    return _answer(request, customer, "consent", error_form=(name, form))
