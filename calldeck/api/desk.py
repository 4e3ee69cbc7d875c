"""The agent desk as JSON: the same services the pages call, the same refusals (409)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
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
from calldeck.desk.selectors import DeskState, desk_state

router = Router(tags=["desk"])


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


# The page and the API show the same data: the selector's dataclasses are the schema.
RESPONSES = {200: DeskState, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _then_state(request: HttpRequest, action: Callable[[User], object]) -> DeskState:
    agent = _agent(request)
    action(agent)
    return desk_state(agent)


@router.get("/state", response=RESPONSES, summary="The agent's desk now")
def state(request: HttpRequest) -> DeskState:
    return desk_state(_agent(request))


@router.post("/login", response=RESPONSES, summary="Sign in to the desk (ready)")
def login(request: HttpRequest) -> DeskState:
    return _then_state(request, lambda agent: services.desk_login(agent=agent))


@router.post("/logout", response=RESPONSES, summary="Sign out of the desk")
def logout(request: HttpRequest) -> DeskState:
    return _then_state(request, lambda agent: services.desk_logout(agent=agent))


@router.post("/next", response=RESPONSES, summary="Take the next customer for preview")
def next_lead(request: HttpRequest) -> DeskState:
    return _then_state(request, lambda agent: services.desk_next(agent=agent))


@router.post("/skip", response=RESPONSES, summary="Give the previewed customer back undialed")
def skip(request: HttpRequest) -> DeskState:
    return _then_state(request, lambda agent: services.desk_skip(agent=agent))


@router.post("/dial", response=RESPONSES, summary="Dial the previewed customer")
def dial(request: HttpRequest, payload: DialIn | None = None) -> DeskState:
    phone_id = payload.phone_id if payload else None
    return _then_state(request, lambda agent: services.desk_dial(agent=agent, phone_id=phone_id))


@router.post("/hangup", response=RESPONSES, summary="Hang up (cancel while ringing)")
def hangup(request: HttpRequest) -> DeskState:
    return _then_state(request, lambda agent: services.desk_hangup(agent=agent))


@router.post("/wrapup", response=RESPONSES, summary="Save the outcome of the call")
def wrapup(request: HttpRequest, payload: WrapupIn) -> DeskState:
    return _then_state(
        request,
        lambda agent: services.desk_wrapup(
            agent=agent,
            disposition_id=payload.disposition_id,
            notes=payload.notes,
            callback_at=payload.callback_at,
            callback_scope=payload.callback_scope,
            sale_amount=payload.sale_amount,
        ),
    )


@router.post("/pause", response=RESPONSES, summary="Pause with a reason")
def pause(request: HttpRequest, payload: PauseIn) -> DeskState:
    return _then_state(request, lambda agent: services.desk_pause(agent=agent, code=payload.code))


@router.post("/resume", response=RESPONSES, summary="End the pause")
def resume(request: HttpRequest) -> DeskState:
    return _then_state(request, lambda agent: services.desk_resume(agent=agent))
