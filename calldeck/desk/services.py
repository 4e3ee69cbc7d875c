"""What an agent does at the desk, and what telephony events do to calls and agents.

Every action locks the agent's presence row first (``presence_for_update``), so a page,
the API and a telephony callback acting at the same moment are applied one after the
other, and each is checked against the agent state table in ``dialer.states``. A refused
action raises ``DeskRefused`` with a message for the agent; the pages show it and the
API answers 409 with it.

Telephony is told to dial or hang up only after the transaction that recorded the intent
has committed, so an event can never arrive for a call the database does not have.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from calldeck.accounts.models import User
from calldeck.calls.models import (
    AgentPresence,
    AgentState,
    Call,
    CallOutcome,
    Direction,
    HangupBy,
    PauseCode,
    Sale,
)
from calldeck.calls.presence import presence_apply, presence_for_update
from calldeck.campaigns.models import CallbackScope, Disposition, DispositionClass
from calldeck.desk.notify import notify_agent
from calldeck.dialing import leads
from calldeck.dialing.runtime import get_runtime
from dialer import states
from dialer.events import CallAnswered, CallHungUp, CallNotConnected, CallRinging, TelephonyEvent

E = states.AgentEvent


class DeskRefused(Exception):
    """An action the agent's current state does not allow; ``message`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# Why an event is refused, by the state the agent is in.
def _refusal(state: str, event: states.AgentEvent) -> DeskRefused:
    if state == AgentState.WRAPUP:
        return DeskRefused(
            "wrapup_required",
            _(
                "Save the outcome of the last call first: "
                "the next customer comes after the wrap-up."
            ),
        )
    if state in (AgentState.DIALING, AgentState.TALKING):
        return DeskRefused("call_in_progress", _("A call is in progress. Hang up first."))
    if state == AgentState.PAUSED:
        return DeskRefused("paused", _("You are paused. Resume to continue."))
    if state == AgentState.LOGGED_OUT:
        return DeskRefused("logged_out", _("You are not signed in to the desk."))
    if state == AgentState.PREVIEW and event == E.NEXT:
        return DeskRefused(
            "preview_open", _("You are previewing a customer. Dial or skip them first.")
        )
    return DeskRefused("not_allowed", _("This action is not possible right now."))


def _apply(presence: AgentPresence, event: states.AgentEvent, **changes: object) -> None:
    try:
        presence_apply(presence, event, **changes)  # type: ignore[arg-type]
    except states.InvalidTransition:
        raise _refusal(presence.state, event) from None
    notify_agent(presence.agent_id)


def _poke_dialer() -> None:
    """A dialer process in this web process syncs its agents once the change committed."""
    from calldeck.dialing import dialer_process

    transaction.on_commit(dialer_process.poke)


def desk_login(*, agent: User) -> AgentPresence:
    with transaction.atomic():
        presence = presence_for_update(agent.pk)
        if presence.state == AgentState.LOGGED_OUT:
            _apply(presence, E.LOGIN, notice="")
            _poke_dialer()
    return presence


def desk_logout(*, agent: User) -> AgentPresence:
    with transaction.atomic():
        presence = presence_for_update(agent.pk)
        if presence.state == AgentState.LOGGED_OUT:
            return presence
        lead = presence.lead
        _apply(presence, E.LOGOUT, lead=None, call=None, notice="")
        if lead is not None:
            leads.lead_release(lead=lead)
        _poke_dialer()
    return presence


def desk_next(*, agent: User) -> AgentPresence:
    """Claim the next customer for preview. Refused in wrap-up, whatever the page shows."""
    with transaction.atomic():
        presence = presence_for_update(agent.pk)
        if presence.state == AgentState.LOGGED_OUT:
            _apply(presence, E.LOGIN)
        if presence.state != AgentState.READY:
            raise _refusal(presence.state, E.NEXT)
        if leads.agent_auto_dials(agent):
            # The dialer brings the calls: the agent stays ready and waits for one.
            presence.notice = _("Waiting for the next call…")
            presence.save(update_fields=["notice"])
            notify_agent(agent.pk)
            _poke_dialer()
            return presence
        result = leads.lead_claim_next(agent=agent)
        if isinstance(result, leads.NoLead):
            presence.notice = result.reason
            presence.save(update_fields=["notice"])
            raise DeskRefused("no_lead", result.reason)
        _apply(presence, E.NEXT, lead=result, call=None, notice="")
    return presence


def desk_skip(*, agent: User) -> AgentPresence:
    with transaction.atomic():
        presence = presence_for_update(agent.pk)
        lead = presence.lead
        _apply(presence, E.SKIP, lead=None, notice=_("Customer skipped."))
        if lead is not None:
            leads.lead_release(lead=lead)
    return presence


def desk_dial(*, agent: User, phone_id: int | None = None) -> Call:
    now = timezone.now()
    # Taken before the call row exists: starting the runtime recovers orphaned calls.
    runtime = get_runtime()
    # Checked again at dial time: a block may have arrived while the agent read. The
    # exclusion is committed on its own, before the refusal, so the refusal keeps it.
    with transaction.atomic():
        presence = presence_for_update(agent.pk)
        if presence.state != AgentState.PREVIEW or presence.lead is None:
            raise _refusal(presence.state, E.DIAL)
        lead = presence.lead
        reason = leads.block_reason(lead)
        if reason is not None:
            leads.lead_exclude(lead=lead, reason=reason, now=now)
            _apply(presence, E.SKIP, lead=None, notice=_("This customer may not be called now."))
    if reason is not None:
        raise DeskRefused("blocked", _("This customer may not be called now."))
    with transaction.atomic():
        presence = presence_for_update(agent.pk)
        if presence.state != AgentState.PREVIEW or presence.lead is None:
            raise _refusal(presence.state, E.DIAL)
        lead = presence.lead
        campaign = lead.campaign
        if phone_id is not None:
            phone = lead.customer.phones.filter(pk=phone_id, is_valid=True).first()
            if phone is None:
                raise DeskRefused(
                    "bad_phone", _("That number is not a valid number of this customer.")
                )
        else:
            phone = leads.phone_to_dial(lead)
            if phone is None:
                raise DeskRefused("no_phone", _("This customer has no valid number."))
        script = campaign.script.current_version() if campaign.script else None
        call = Call.objects.create(
            client_id=campaign.client_id,
            campaign=campaign,
            lead=lead,
            customer=lead.customer,
            phone=phone,
            agent=agent,
            direction=Direction.OUTBOUND,
            number=phone.e164,
            dialed_at=now,
            script_version=script,
        )
        lead.attempts += 1
        lead.last_call_at = now
        lead.updated_at = now
        lead.save(update_fields=["attempts", "last_call_at", "updated_at"])
        _apply(presence, E.DIAL, call=call, notice="")
    runtime.originate(
        call.pk,
        call.number,
        ring_timeout_s=float(campaign.ring_timeout_s),
        agent_uri=agent.sip_uri or f"sip:{agent.username}@agents.local",
    )
    return call


def desk_hangup(*, agent: User) -> Call:
    """The agent ends the call: while ringing it is cancelled, while talking it goes to wrap-up."""
    now = timezone.now()
    with transaction.atomic():
        presence = presence_for_update(agent.pk)
        call = presence.call
        if presence.state not in (AgentState.DIALING, AgentState.TALKING) or call is None:
            raise DeskRefused("no_call", _("There is no call to hang up."))
        call = Call.objects.select_for_update(of=("self",)).get(pk=call.pk)
        if call.telephony_ref:
            # A call of the dialer engine: ended here, the agent goes to wrap-up, and the
            # dialer process hangs up the line (at once in this process, else at its sync).
            _end_answered(call, presence, HangupBy.AGENT, now)
            _poke_dialer()
            return call
        if presence.state == AgentState.DIALING:
            _end_unanswered(call, presence, CallOutcome.NO_ANSWER, None, HangupBy.AGENT, now)
        else:
            _end_answered(call, presence, HangupBy.AGENT, now)
    get_runtime().hangup(call.pk)
    return call


def desk_pause(*, agent: User, code: str) -> AgentPresence:
    if code not in PauseCode.values:
        raise DeskRefused("bad_pause_code", _("Choose a reason for the pause."))
    with transaction.atomic():
        presence = presence_for_update(agent.pk)
        lead = presence.lead if presence.state == AgentState.PREVIEW else None
        if presence.state == AgentState.LOGGED_OUT:
            _apply(presence, E.LOGIN)
        _apply(presence, E.PAUSE, pause_code=code, lead=None, notice="")
        if lead is not None:
            leads.lead_release(lead=lead)
        _poke_dialer()
    return presence


def desk_resume(*, agent: User) -> AgentPresence:
    with transaction.atomic():
        presence = presence_for_update(agent.pk)
        _apply(presence, E.RESUME, notice="")
        _poke_dialer()
    return presence


WRAPUP_NEEDS_CALLBACK_TIME = "callback_at"
WRAPUP_CALLBACK_IN_PAST = "callback_in_past"


def desk_wrapup(
    *,
    agent: User,
    disposition_id: int,
    notes: str = "",
    callback_at: dt.datetime | None = None,
    callback_scope: str = CallbackScope.OWN,
    sale_amount: Decimal | None = None,
) -> Call:
    """Record the outcome of the call in wrap-up; then the agent is ready again."""
    now = timezone.now()
    with transaction.atomic():
        presence = presence_for_update(agent.pk)
        if presence.state != AgentState.WRAPUP or presence.call is None:
            raise DeskRefused("no_wrapup", _("There is no call waiting for its outcome."))
        call = (
            Call.objects.select_for_update(of=("self",))
            .select_related("lead__campaign")
            .get(pk=presence.call.pk)
        )
        lead = call.lead
        assert lead is not None and call.campaign is not None
        disposition = Disposition.objects.filter(
            pk=disposition_id,
            disposition_set_id=call.campaign.disposition_set_id,
            is_active=True,
        ).first()
        if disposition is None:
            raise ValidationError(
                {"disposition": _("Choose one of this campaign's outcomes.")}, code="invalid"
            )
        if disposition.cls == DispositionClass.CALLBACK:
            if callback_at is None:
                raise ValidationError(
                    {"callback_at": _("A callback needs the time to call back.")},
                    code=WRAPUP_NEEDS_CALLBACK_TIME,
                )
            if callback_at <= now:
                raise ValidationError(
                    {"callback_at": _("The callback time must be in the future.")},
                    code=WRAPUP_CALLBACK_IN_PAST,
                )
            if callback_scope not in CallbackScope.values:
                raise ValidationError({"callback_scope": _("Choose whose callback this is.")})
        if sale_amount is not None and sale_amount < 0:
            raise ValidationError({"sale_amount": _("The sale amount cannot be negative.")})
        call.disposition = disposition
        call.notes = notes.strip()[:5000]
        call.wrapup_saved_at = now
        call.wrapup_seconds = int((now - (call.ended_at or now)).total_seconds())
        call.save(update_fields=["disposition", "notes", "wrapup_saved_at", "wrapup_seconds"])
        if disposition.cls == DispositionClass.SUCCESS:
            offer = call.campaign.offer
            Sale.objects.create(
                client_id=call.client_id,
                call=call,
                campaign=call.campaign,
                customer_id=call.customer_id,
                agent=agent,
                offer=offer,
                amount=sale_amount if sale_amount is not None else (offer.price if offer else 0),
                created_at=now,
            )
        leads.lead_apply_disposition(
            lead=lead,
            disposition=disposition,
            agent=agent,
            phone=call.phone,
            now=now,
            callback_at=callback_at,
            callback_scope=callback_scope,
            callback_note=call.notes[:500],
        )
        _apply(presence, E.WRAPUP_SAVED, lead=None, call=None, notice=_("Outcome saved."))
        _poke_dialer()
    return call


# --- telephony events -------------------------------------------------------------


def _end_unanswered(
    call: Call,
    presence: AgentPresence,
    outcome: str,
    sip_code: int | None,
    by: str,
    now: dt.datetime,
) -> None:
    call.ended_at = now
    call.outcome = outcome
    call.sip_code = sip_code
    call.hangup_by = by
    # Nobody was reached, so there is nothing for the agent to wrap up.
    call.wrapup_saved_at = now
    call.save()
    if call.lead is not None:
        lead = leads.lead_apply_system_outcome(
            lead=call.lead, outcome=outcome, phone=call.phone, now=now
        )
        notice = _("Last call: %(outcome)s. ") % {"outcome": CallOutcome(outcome).label}
        if lead.status == "retry":
            local = timezone.localtime(lead.next_attempt_at)
            notice += _("Retry scheduled at %(time)s.") % {"time": local.strftime("%H:%M")}
        else:
            notice += _("This customer is done (%(reason)s).") % {
                "reason": lead.get_done_reason_display()
            }
    else:
        notice = ""
    if presence.call_id == call.pk and presence.state == AgentState.DIALING:
        _apply(presence, E.NOT_CONNECTED, lead=None, call=None, notice=notice)


def _end_answered(call: Call, presence: AgentPresence, by: str, now: dt.datetime) -> None:
    call.ended_at = now
    call.hangup_by = by
    if call.agent_connected_at:
        call.talk_seconds = int((now - call.agent_connected_at).total_seconds())
    call.save()
    if presence.call_id == call.pk and presence.state == AgentState.TALKING:
        notice = _("The customer hung up.") if by == HangupBy.CUSTOMER else ""
        _apply(presence, E.HANGUP, notice=notice)


def _lock_call(call_id: int) -> tuple[AgentPresence, Call] | None:
    """Lock the call's agent, then the call (the order every action takes); None if ended."""
    agent_id = Call.objects.values_list("agent_id", flat=True).get(pk=call_id)
    if agent_id is None:
        return None
    presence = presence_for_update(agent_id)
    call = (
        Call.objects.select_for_update(of=("self",))
        .select_related("lead__campaign", "lead__customer", "phone")
        .get(pk=call_id)
    )
    return None if call.ended_at is not None else (presence, call)


def call_handle_event(*, call_id: int, event: TelephonyEvent) -> None:
    """Apply one telephony event. Late or repeated events change nothing."""
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_call(call_id)
        if locked is None:
            return
        presence, call = locked
        if isinstance(event, CallRinging):
            if call.ringing_at is None:
                call.ringing_at = now
                call.save(update_fields=["ringing_at"])
                notify_agent(presence.agent_id)
        elif isinstance(event, CallAnswered):
            if call.answered_at is None:
                call.answered_at = now
                # Preview: the agent is already on the line, so connected at answer.
                call.agent_connected_at = now
                call.outcome = CallOutcome.MACHINE if event.machine else CallOutcome.ANSWERED
                call.save(update_fields=["answered_at", "agent_connected_at", "outcome"])
                if presence.call_id == call.pk and presence.state == AgentState.DIALING:
                    _apply(presence, E.ANSWERED)
        elif isinstance(event, CallNotConnected):
            _end_unanswered(
                call, presence, event.outcome.value, event.sip_code, HangupBy.SYSTEM, now
            )
        elif isinstance(event, CallHungUp):
            _end_answered(call, presence, event.by.value, now)


def calls_recover_orphans() -> int:
    """End calls left open by a process that stopped; their agents go to wrap-up or ready.

    Only for a process whose telephony has just started: every open call is then an
    orphan. ``dialing.runtime.get_runtime`` calls it once, before the first call is placed.
    Calls of a dialer process (``telephony_ref`` set) are not this process's: they end
    when another dialer process takes the lapsed lease over (``dialing.dialer_process``).
    """
    now = timezone.now()
    count = 0
    orphans = Call.objects.filter(ended_at__isnull=True, telephony_ref="")
    for call_id in orphans.values_list("pk", flat=True):
        with transaction.atomic():
            locked = _lock_call(call_id)
            if locked is None:
                continue
            presence, call = locked
            if call.answered_at is None:
                _end_unanswered(call, presence, CallOutcome.FAILED, None, HangupBy.SYSTEM, now)
            else:
                _end_answered(call, presence, HangupBy.SYSTEM, now)
            count += 1
    return count
