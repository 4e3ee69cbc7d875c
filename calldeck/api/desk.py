"""The agent desk as JSON: the same services the pages call, the same refusals (409)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema

from calldeck.accounts import access
from calldeck.accounts.models import User
from calldeck.api.errors import ErrorOut
from calldeck.calls.models import PauseCode
from calldeck.campaigns.models import CallbackScope
from calldeck.desk import services
from calldeck.desk.selectors import desk_state

router = Router(tags=["desk"])


class PhoneOut(Schema):
    id: int
    number: str
    kind: str


class HistoryOut(Schema):
    at: dt.datetime
    campaign: str
    agent: str
    outcome: str
    disposition: str
    notes: str


class LeadOut(Schema):
    lead_id: int
    campaign_id: int
    campaign: str
    customer_name: str
    customer_key: str
    attempts: int
    max_attempts: int
    phones: list[PhoneOut]
    fields: list[tuple[str, str]]
    offer: str
    offer_price: str
    script_html: str
    callback_note: str
    history: list[HistoryOut]


class CallOut(Schema):
    id: int
    number: str
    phase: str
    dialed_at: dt.datetime
    connected_at: dt.datetime | None
    machine: bool


class DispositionOut(Schema):
    id: int
    name: str
    cls: str
    hotkey: str


class TaskOut(Schema):
    campaign_id: int
    campaign: str
    priority: int
    due: int
    callbacks_due: int
    status: str


class StateOut(Schema):
    state: str
    state_label: str
    since: dt.datetime
    pause_code: str
    notice: str
    lead: LeadOut | None
    call: CallOut | None
    dispositions: list[DispositionOut]
    tasks: list[TaskOut]
    calls_today: int
    handled_today: int
    sales_today: int
    allowed: list[str]


class DialIn(Schema):
    phone_id: int | None = None


class WrapupIn(Schema):
    disposition_id: int
    notes: str = ""
    callback_at: dt.datetime | None = None
    callback_scope: CallbackScope = CallbackScope.OWN
    sale_amount: Decimal | None = None


class PauseIn(Schema):
    code: PauseCode


def _agent(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not access.has_role(user, access.DESK_USERS):
        raise PermissionDenied(_("Only agents have a desk."))
    return user


RESPONSES = {200: StateOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut}


@router.get("/state", response=RESPONSES, summary="The agent's desk now")
def state(request: HttpRequest) -> StateOut:
    return desk_state(_agent(request))  # type: ignore[return-value]


@router.post("/login", response=RESPONSES, summary="Sign in to the desk (ready)")
def login(request: HttpRequest) -> StateOut:
    agent = _agent(request)
    services.desk_login(agent=agent)
    return desk_state(agent)  # type: ignore[return-value]


@router.post("/logout", response=RESPONSES, summary="Sign out of the desk")
def logout(request: HttpRequest) -> StateOut:
    agent = _agent(request)
    services.desk_logout(agent=agent)
    return desk_state(agent)  # type: ignore[return-value]


@router.post("/next", response=RESPONSES, summary="Take the next customer for preview")
def next_lead(request: HttpRequest) -> StateOut:
    agent = _agent(request)
    services.desk_next(agent=agent)
    return desk_state(agent)  # type: ignore[return-value]


@router.post("/skip", response=RESPONSES, summary="Give the previewed customer back undialed")
def skip(request: HttpRequest) -> StateOut:
    agent = _agent(request)
    services.desk_skip(agent=agent)
    return desk_state(agent)  # type: ignore[return-value]


@router.post("/dial", response=RESPONSES, summary="Dial the previewed customer")
def dial(request: HttpRequest, payload: DialIn | None = None) -> StateOut:
    agent = _agent(request)
    services.desk_dial(agent=agent, phone_id=payload.phone_id if payload else None)
    return desk_state(agent)  # type: ignore[return-value]


@router.post("/hangup", response=RESPONSES, summary="Hang up (cancel while ringing)")
def hangup(request: HttpRequest) -> StateOut:
    agent = _agent(request)
    services.desk_hangup(agent=agent)
    return desk_state(agent)  # type: ignore[return-value]


@router.post("/wrapup", response=RESPONSES, summary="Save the outcome of the call")
def wrapup(request: HttpRequest, payload: WrapupIn) -> StateOut:
    agent = _agent(request)
    services.desk_wrapup(
        agent=agent,
        disposition_id=payload.disposition_id,
        notes=payload.notes,
        callback_at=payload.callback_at,
        callback_scope=payload.callback_scope,
        sale_amount=payload.sale_amount,
    )
    return desk_state(agent)  # type: ignore[return-value]


@router.post("/pause", response=RESPONSES, summary="Pause with a reason")
def pause(request: HttpRequest, payload: PauseIn) -> StateOut:
    agent = _agent(request)
    services.desk_pause(agent=agent, code=payload.code)
    return desk_state(agent)  # type: ignore[return-value]


@router.post("/resume", response=RESPONSES, summary="End the pause")
def resume(request: HttpRequest) -> StateOut:
    agent = _agent(request)
    services.desk_resume(agent=agent)
    return desk_state(agent)  # type: ignore[return-value]
