"""The agent desk: one page; every action swaps the panel in place (htmx), no reload."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from calldeck.accounts import access
from calldeck.accounts.models import User
from calldeck.calls.models import AgentPresence, PauseCode
from calldeck.campaigns.models import CallbackScope
from calldeck.customers import selectors as customer_selectors
from calldeck.customers import services as customer_services
from calldeck.customers.models import PhoneKind
from calldeck.desk import services
from calldeck.desk.selectors import desk_state
from calldeck.dialing.runtime import get_runtime


class WrapupForm(forms.Form):
    disposition = forms.IntegerField(
        label=_("Outcome"), error_messages={"required": _("Choose the outcome of the call.")}
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=5000)
    callback_at = forms.DateTimeField(
        label=_("Call back at"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    callback_scope = forms.ChoiceField(
        label=_("Callback for"),
        choices=CallbackScope.choices,
        required=False,
        initial=CallbackScope.OWN,
    )
    sale_amount = forms.DecimalField(
        label=_("Sale amount"), required=False, min_value=Decimal(0), decimal_places=2
    )


def _agent(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _panel(
    request: HttpRequest,
    *,
    error: str = "",
    form: WrapupForm | None = None,
    status: int = 200,
) -> HttpResponse:
    state = desk_state(_agent(request))
    context = {
        "desk": state,
        "error": error,
        "form": form,
        "pause_codes": PauseCode.choices,
        "callback_scopes": CallbackScope.choices,
        "phone_kinds": PhoneKind.choices,
        "default_callback": (timezone.localtime() + dt.timedelta(hours=1)).strftime(
            "%Y-%m-%dT%H:%M"
        ),
    }
    return render(request, "desk/_panel.html", context, status=status)


@require_GET
@access.role_required(access.DESK_USERS)
def desk(request: HttpRequest) -> HttpResponse:
    agent = _agent(request)
    # Opening the desk signs the agent in; starting the runtime on the first visit closes
    # calls a stopped server left open, so nobody sits in a call that no longer exists.
    get_runtime()
    services.desk_login(agent=agent)
    return render(
        request,
        "desk/desk.html",
        {
            "desk": desk_state(agent),
            "pause_codes": PauseCode.choices,
            "callback_scopes": CallbackScope.choices,
            "phone_kinds": PhoneKind.choices,
        },
    )


@require_GET
@access.role_required(access.DESK_USERS)
def panel(request: HttpRequest) -> HttpResponse:
    return _panel(request)


def _act(request: HttpRequest, action: Callable[[], object]) -> HttpResponse:
    try:
        action()
    except services.DeskRefused as refused:
        return _panel(request, error=refused.message, status=409)
    return _panel(request)


@require_POST
@access.role_required(access.DESK_USERS)
def act(request: HttpRequest, name: str) -> HttpResponse:
    agent = _agent(request)
    actions: dict[str, Callable[[], object]] = {
        "next": lambda: services.desk_next(agent=agent),
        "skip": lambda: services.desk_skip(agent=agent),
        "hangup": lambda: services.desk_hangup(agent=agent),
        "resume": lambda: services.desk_resume(agent=agent),
        "pause": lambda: services.desk_pause(agent=agent, code=request.POST.get("code", "")),
        "dial": lambda: services.desk_dial(
            agent=agent, phone_id=int(request.POST["phone"]) if request.POST.get("phone") else None
        ),
    }
    if name not in actions:
        return HttpResponse(status=404)
    if (
        name == "dial"
        and request.POST.get("phone", "").strip()
        and not request.POST["phone"].isdigit()
    ):
        return _panel(request, error=str(_("Choose a number to dial.")), status=422)
    return _act(request, actions[name])


@require_POST
@access.role_required(access.DESK_USERS)
def wrapup(request: HttpRequest) -> HttpResponse:
    form = WrapupForm(request.POST)
    if not form.is_valid():
        return _panel(request, form=form, status=422)
    data = form.cleaned_data
    try:
        services.desk_wrapup(
            agent=_agent(request),
            disposition_id=data["disposition"],
            notes=data["notes"],
            callback_at=data["callback_at"],
            callback_scope=data["callback_scope"] or CallbackScope.OWN,
            sale_amount=data["sale_amount"],
        )
    except services.DeskRefused as refused:
        return _panel(request, error=refused.message, status=409)
    except ValidationError as invalid:
        for field, errors in invalid.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return _panel(request, form=form, status=422)
    return _panel(request)


# --- the customer on the desk: a number or e-mail told during the call, the history ---

CUSTOMER_CHANGED = _("The customer on your desk has changed: nothing was added.")
PHONE_ADDED = _("Number %(number)s added.")
EMAIL_ADDED = _("E-mail address %(address)s added.")


class PhoneAddForm(forms.Form):
    lead = forms.IntegerField()
    number = forms.CharField(label=_("Number"), max_length=40)
    kind = forms.ChoiceField(
        label=_("Type"), choices=[("", _("Automatic")), *PhoneKind.choices], required=False
    )


class EmailAddForm(forms.Form):
    lead = forms.IntegerField()
    address = forms.CharField(label=_("E-mail"), max_length=254)


def _desk_customer(agent: User, lead_id: object) -> int | None:
    """The customer of the lead on the agent's desk, if that is still lead ``lead_id``."""
    presence = AgentPresence.objects.filter(agent=agent)
    held = presence.values_list("lead_id", "lead__customer_id").first()
    if held is None or held[0] is None or str(held[0]) != str(lead_id):
        return None
    return held[1]


def _contact(
    request: HttpRequest,
    *,
    forms_shown: dict[str, forms.Form] | None = None,
    notice: str = "",
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    state = desk_state(_agent(request))
    context = {
        "desk": state,
        "lead": state.lead,
        "contact_notice": notice,
        "contact_error": error,
        "phone_kinds": PhoneKind.choices,
        **(forms_shown or {}),
    }
    return render(request, "desk/_contact.html", context, status=status)


@require_POST
@access.role_required(access.DESK_USERS)
def customer_add(request: HttpRequest, what: str) -> HttpResponse:
    """Add a number or an e-mail address to the customer on the desk; answers the section.

    The form names the lead it was shown for: if the desk has moved on to another
    customer since (the dialer put a new call through), nothing is added to the wrong one.
    """
    agent = _agent(request)
    form_classes: dict[str, type[forms.Form]] = {"phone": PhoneAddForm, "email": EmailAddForm}
    if what not in form_classes:
        return HttpResponse(status=404)
    form = form_classes[what](request.POST)
    shown = {f"{what}_form": form}
    if not form.is_valid():
        return _contact(request, forms_shown=shown, status=422)
    data = form.cleaned_data
    customer_id = _desk_customer(agent, data["lead"])
    if customer_id is None:
        return _contact(request, error=str(CUSTOMER_CHANGED), status=409)
    customer = customer_selectors.customer_get_for_user(agent, customer_id)
    try:
        if what == "phone":
            phone = customer_services.customer_phone_add(
                actor=agent, customer=customer, number=data["number"], kind=data["kind"]
            )
            notice = PHONE_ADDED % {"number": access.number_for_user(agent, phone.e164)}
        else:
            email = customer_services.customer_email_add(
                actor=agent, customer=customer, address=data["address"]
            )
            address = customer_selectors.email_for_user(agent, email.address)
            notice = EMAIL_ADDED % {"address": address}
    except ValidationError as invalid:
        for field, errors in invalid.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return _contact(request, forms_shown=shown, status=422)
    return _contact(request, notice=str(notice))


@require_GET
@access.role_required(access.DESK_USERS)
def customer_history(request: HttpRequest) -> HttpResponse:
    """Every contact with the customer on the desk, across campaigns, numbers masked."""
    agent = _agent(request)
    customer_id = _desk_customer(agent, request.GET.get("lead", ""))
    context: dict[str, object] = {"changed": True}
    if customer_id is not None:
        customer = customer_selectors.customer_get_for_user(agent, customer_id)
        calls, total = customer_selectors.customer_calls(agent, customer)
        context = {"calls": calls, "total": total, "changed": False}
    return render(request, "desk/_history.html", context)
