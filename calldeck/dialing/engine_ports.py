"""The dialer engine's ports against the database: leads, results, agents' desks.

Theory of operation
-------------------
``dialer.engine.Engine`` is plain Python on an event loop; these adapters are what it
sees of Django:

* ``DbLeadSource`` claims leads for the process's lease (``leads.lead_claim_for_dialer``,
  ``claimed_by_dialer = owner``), checks blocks at dial time and gives leads back;
* ``DbResultSink`` keeps the ``Call`` rows current from the engine's records: created at
  ``DialPlaced`` (``telephony_ref`` = the engine's ref, which starts with the owner's
  name), timestamps on ringing and answer, the agent and the desk at ``DialConnected``
  (the agent's presence goes READY → TALKING with the lead and the call, so the panel
  shows the customer and the script at once), and the end at ``DialEnded``. A call that
  never reached an agent applies its outcome to the lead at once (an abandoned customer
  is not called again within 72 hours); a call that did waits for the agent's wrap-up;
* ``DbAgentChannel`` puts the agent in wrap-up when the call ends.

The engine runs on an asyncio loop, where the ORM must not run. Every port method hands
its work to ``DbThread`` — one thread for all of the process's database work, in order —
and waits for the answer; blocking the loop meanwhile is fine, the loop is the engine's.
Tests pass ``DbThread(inline=True)`` and run it all in their own thread on a ManualClock.

Every time written is the engine's clock time, so virtual time in tests stays consistent.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import zoneinfo
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.db import close_old_connections, transaction
from django.utils.translation import gettext as _

from calldeck.calls.models import (
    AgentPresence,
    AgentState,
    AgentStateLog,
    Call,
    CallOutcome,
    Direction,
    HangupBy,
)
from calldeck.calls.presence import presence_apply, presence_for_update
from calldeck.campaigns.models import (
    Campaign,
    CampaignLead,
    LeadDoneReason,
    LeadStatus,
)
from calldeck.customers.models import PhoneNumber
from calldeck.desk.notify import notify_agent
from calldeck.dialing import leads
from calldeck.dialing.models import DialerLease
from dialer import states
from dialer.events import (
    CampaignIdle,
    DialAbandoned,
    DialAnswered,
    DialConnected,
    DialEnded,
    DialPlaced,
    DialRinging,
    EngineRecord,
    Party,
)
from dialer.ports import Clock, Lead, NoLeads, Offer

log = logging.getLogger(__name__)

T = TypeVar("T")
E = states.AgentEvent

# Outcomes of calls that never reached an agent: the lead's outcome is applied at the end.
SYSTEM_OUTCOMES = frozenset(
    {
        CallOutcome.NO_ANSWER,
        CallOutcome.BUSY,
        CallOutcome.INVALID,
        CallOutcome.MACHINE,
        CallOutcome.ABANDONED,
        CallOutcome.FAILED,
    }
)


def to_dt(at: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(at, tz=dt.UTC)


def ref_prefix(owner: str) -> str:
    """Every ``telephony_ref`` of the dialer process ``owner`` starts with this."""
    return f"{owner}:"


class DbThread:
    """One thread for all the database work of a dialer process (inline in tests)."""

    def __init__(self, *, inline: bool = False) -> None:
        self.inline = inline
        self._pool = (
            None
            if inline
            else ThreadPoolExecutor(max_workers=1, thread_name_prefix="calldeck-dialer-db")
        )
        self._ident: int | None = None

    def run(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        if self._pool is None or threading.get_ident() == self._ident:
            return fn(*args, **kw)
        return self._pool.submit(self._job, fn, args, kw).result()

    def _job(self, fn: Callable[..., T], args: tuple[Any, ...], kw: dict[str, Any]) -> T:
        self._ident = threading.get_ident()
        close_old_connections()
        try:
            return fn(*args, **kw)
        finally:
            close_old_connections()

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)


def _tz_name(name: str) -> str | None:
    if not name:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
    return name


# --- leads --------------------------------------------------------------------------


class DbLeadSource:
    def __init__(self, owner: str, db: DbThread, clock: Clock) -> None:
        self.owner = owner
        self.db = db
        self.clock = clock

    def claim(self, campaign: str, now: float) -> Lead | NoLeads:
        try:
            return self.db.run(self._claim, campaign, now)
        except Exception:
            log.exception("claiming a lead of campaign %s failed", campaign)
            return NoLeads("error", _("The dialer could not read the leads."))

    def _claim(self, campaign_id: str, now: float) -> Lead | NoLeads:
        campaign = Campaign.objects.filter(pk=int(campaign_id)).first()
        if campaign is None:
            return NoLeads(leads.DialCode.NOT_RUNNING)
        at = to_dt(now)
        got = leads.lead_claim_for_dialer(campaign=campaign, owner=self.owner, now=at)
        if isinstance(got, leads.NoLead):
            return NoLeads(got.code or leads.NOTHING_DUE, got.reason)
        phone = leads.phone_to_dial(got)
        if phone is None:  # the claim checks it; a number made invalid since
            leads.lead_release_for_dialer(lead_id=got.pk, owner=self.owner, now=at)
            return NoLeads(leads.DialCode.ALL_BLOCKED)
        customer = got.customer
        contacts = leads.customer_contacts(customer_id=customer.pk, now=at)
        last = max(contacts.abandoned_at, default=None)
        return Lead(
            ref=str(got.pk),
            campaign=campaign_id,
            customer=str(customer.pk),
            number=phone.e164,
            tz=_tz_name(customer.timezone),
            attempt=got.attempts + 1,
            contacts_today=contacts.dialed_today,
            last_abandon_at=last.timestamp() if last else None,
        )

    def check(self, lead: Lead, now: float) -> str | None:
        return self.db.run(self._check, lead)

    def _check(self, lead: Lead) -> str | None:
        row = CampaignLead.objects.select_related("customer", "campaign").filter(pk=int(lead.ref))
        found = row.first()
        if found is None:
            return "gone"
        reason = leads.block_reason(found)
        return None if reason is None else str(reason)

    def release(self, lead: Lead, reason: str, not_before: float | None) -> None:
        self.db.run(self._release, lead, reason, not_before, self.clock.now())

    def _release(self, lead: Lead, reason: str, not_before: float | None, at: float) -> None:
        now = to_dt(at)
        row = CampaignLead.objects.filter(
            pk=int(lead.ref), status=LeadStatus.CLAIMED, claimed_by_dialer=self.owner
        ).first()
        if row is None:
            return
        if reason in LeadDoneReason.values:
            leads.lead_exclude(lead=row, reason=LeadDoneReason(reason), now=now)
            return
        leads.lead_release_for_dialer(
            lead_id=row.pk,
            owner=self.owner,
            now=now,
            not_before=to_dt(not_before) if not_before is not None else None,
        )


# --- presence -----------------------------------------------------------------------


def _force_state(
    presence: AgentPresence, state: AgentState, now: dt.datetime, **changes: Any
) -> None:
    """Put the agent in ``state`` whatever the table says (the call is on their line)."""
    if presence.state != AgentState.LOGGED_OUT and now > presence.since:
        AgentStateLog.objects.create(
            agent_id=presence.agent_id,
            state=presence.state,
            pause_code=presence.pause_code,
            campaign_id=presence.lead.campaign_id if presence.lead else None,
            started_at=presence.since,
            ended_at=now,
        )
    presence.since = max(now, presence.since)
    presence.state = state
    presence.pause_code = ""
    for field, value in changes.items():
        setattr(presence, field, value)
    presence.save()


def end_call_for_agent(
    presence: AgentPresence, call: Call, now: dt.datetime, notice: str = ""
) -> None:
    """The agent's (locked) call has ended: TALKING → WRAPUP, and the desk is told."""
    if presence.call_id != call.pk or presence.state != AgentState.TALKING:
        return
    presence_apply(presence, E.HANGUP, now=now, notice=notice)
    notify_agent(presence.agent_id)


# --- results ------------------------------------------------------------------------


class DbResultSink:
    def __init__(self, owner: str, db: DbThread) -> None:
        self.owner = owner
        self.db = db
        self._calls: dict[str, int] = {}

    def record(self, record: EngineRecord) -> None:
        try:
            self.db.run(self._record, record)
        except Exception:
            log.exception("engine record %r could not be written", record)

    def call_id(self, ref: str) -> int | None:
        found = self._calls.get(ref)
        if found is None:
            found = (
                Call.objects.filter(telephony_ref=ref)
                .order_by("-pk")
                .values_list("pk", flat=True)
                .first()
            )
        return found

    def _record(self, record: EngineRecord) -> None:
        if isinstance(record, DialPlaced):
            self._placed(record)
        elif isinstance(record, DialRinging):
            if (pk := self.call_id(record.ref)) is not None:
                Call.objects.filter(pk=pk, ringing_at__isnull=True).update(
                    ringing_at=to_dt(record.at)
                )
        elif isinstance(record, DialAnswered):
            if (pk := self.call_id(record.ref)) is not None:
                outcome = CallOutcome.MACHINE if record.machine else CallOutcome.ANSWERED
                Call.objects.filter(pk=pk, answered_at__isnull=True).update(
                    answered_at=to_dt(record.at), outcome=outcome
                )
        elif isinstance(record, DialConnected):
            self._connected(record)
        elif isinstance(record, DialAbandoned):
            if (pk := self.call_id(record.ref)) is not None:
                Call.objects.filter(pk=pk, ended_at__isnull=True).update(
                    outcome=CallOutcome.ABANDONED
                )
        elif isinstance(record, DialEnded):
            self._ended(record)
        elif isinstance(record, CampaignIdle):
            DialerLease.objects.filter(campaign_id=int(record.campaign), owner=self.owner).update(
                idle_reason=record.reason[:40], idle_message=record.message[:300]
            )
        # AgentChanged, LeadRefused: the desk and the lead source already know.

    def _placed(self, record: DialPlaced) -> None:
        at = to_dt(record.at)
        lead = CampaignLead.objects.select_related("campaign__script").get(pk=int(record.lead))
        campaign = lead.campaign
        phone = PhoneNumber.objects.filter(
            customer_id=int(record.customer), e164=record.number
        ).first()
        script = campaign.script.current_version() if campaign.script else None
        call = Call.objects.create(
            client_id=campaign.client_id,
            campaign=campaign,
            lead=lead,
            customer_id=int(record.customer),
            phone=phone,
            agent_id=int(record.agent) if record.agent else None,
            direction=Direction.OUTBOUND,
            number=record.number,
            dialed_at=at,
            telephony_ref=record.ref,
            script_version=script,
        )
        self._calls[record.ref] = call.pk
        lead.attempts += 1
        lead.last_call_at = at
        lead.updated_at = at
        lead.save(update_fields=["attempts", "last_call_at", "updated_at"])
        DialerLease.objects.filter(campaign=campaign, owner=self.owner).exclude(
            idle_reason=""
        ).update(idle_reason="", idle_message="")

    def _connected(self, record: DialConnected) -> None:
        pk = self.call_id(record.ref)
        if pk is None:
            return
        at = to_dt(record.at)
        agent_id = int(record.agent)
        with transaction.atomic():
            presence = presence_for_update(agent_id)
            call = Call.objects.select_for_update(of=("self",)).select_related("lead").get(pk=pk)
            if call.ended_at is not None:
                return
            call.agent_id = agent_id
            call.agent_connected_at = at
            call.outcome = call.outcome or CallOutcome.ANSWERED
            call.save(update_fields=["agent_id", "agent_connected_at", "outcome"])
            changes = {"lead": call.lead, "call": call, "notice": ""}
            if presence.state == AgentState.READY:
                presence_apply(presence, E.OFFERED, now=at, **changes)
            else:
                log.warning(
                    "call %s joined to agent %s who is %s, not ready: put on the call anyway",
                    record.ref,
                    agent_id,
                    presence.state,
                )
                _force_state(presence, AgentState.TALKING, at, **changes)
            notify_agent(agent_id)

    def _ended(self, record: DialEnded) -> None:
        pk = self.call_id(record.ref)
        self._calls.pop(record.ref, None)
        if pk is None:
            return
        at = to_dt(record.at)
        with transaction.atomic():
            call = (
                Call.objects.select_for_update(of=("self",))
                .select_related("lead__campaign", "lead__customer", "phone")
                .get(pk=pk)
            )
            if call.ended_at is not None:  # ended by the agent's desk or a takeover
                return
            call.ended_at = at
            call.hangup_by = HangupBy(record.by.value)
            call.sip_code = record.sip_code
            call.talk_seconds = max(0, int(record.talk_s))
            reached_agent = call.agent_connected_at is not None
            outcome = str(record.outcome)
            if not reached_agent and outcome not in SYSTEM_OUTCOMES:
                outcome = CallOutcome.FAILED
            call.outcome = outcome
            if not reached_agent:
                # Nobody was reached, so there is nothing for an agent to wrap up.
                call.wrapup_saved_at = at
            call.save()
            lead = call.lead
            if not reached_agent and lead is not None and lead.status == LeadStatus.CLAIMED:
                leads.lead_apply_system_outcome(
                    lead=lead, outcome=outcome, phone=call.phone, now=at
                )


# --- agents -------------------------------------------------------------------------


class DbAgentChannel:
    def __init__(self, owner: str, db: DbThread, clock: Clock) -> None:
        self.owner = owner
        self.db = db
        self.clock = clock
        self.current: dict[str, str] = {}  # agent -> ref of the call the engine gave them

    def offer(self, agent: str, offer: Offer) -> None:
        # DialConnected puts the call on the desk once the agent hears the customer.
        self.current[agent] = offer.ref

    def ended(self, agent: str, ref: str, by: Party) -> None:
        try:
            self.db.run(self._ended, agent, ref, by, self.clock.now())
        except Exception:
            log.exception("the end of call %s could not be shown to agent %s", ref, agent)

    def _ended(self, agent: str, ref: str, by: Party, now: float) -> None:
        with transaction.atomic():
            presence = presence_for_update(int(agent))
            call = Call.objects.filter(telephony_ref=ref).order_by("-pk").first()
            if call is None:
                return
            notice = _("The customer hung up.") if by is Party.CUSTOMER else ""
            end_call_for_agent(presence, call, to_dt(now), notice)


# --- a dialer process that stopped ----------------------------------------------------


def calls_end_for_dialer(*, campaign_id: int, owner: str, now: dt.datetime) -> int:
    """End the calls of ``campaign_id`` that the dialer ``owner`` left open; how many.

    For a lease taken over from a process that stopped without ending its calls: a call
    no one answered failed (the lead's outcome applies), a call answered but never joined
    to an agent was abandoned, and an agent's call ends with the agent in wrap-up.
    """
    open_calls = Call.objects.filter(
        campaign_id=campaign_id,
        ended_at__isnull=True,
        telephony_ref__startswith=ref_prefix(owner),
    ).values_list("pk", "agent_id")
    count = 0
    for pk, agent_id in list(open_calls):
        with transaction.atomic():
            # The order every action takes: the agent first, then the call.
            presence = presence_for_update(agent_id) if agent_id is not None else None
            call = (
                Call.objects.select_for_update(of=("self",))
                .select_related("lead__campaign", "lead__customer", "phone")
                .get(pk=pk)
            )
            if call.ended_at is not None:
                continue
            call.ended_at = now
            call.hangup_by = HangupBy.SYSTEM
            count += 1
            if call.agent_connected_at is not None and presence is not None:
                call.talk_seconds = max(0, int((now - call.agent_connected_at).total_seconds()))
                call.save()
                end_call_for_agent(
                    presence, call, now, _("The call was cut off: the dialer stopped.")
                )
                continue
            if call.answered_at is None:
                outcome = CallOutcome.FAILED
            elif call.outcome == CallOutcome.MACHINE:
                outcome = CallOutcome.MACHINE
            else:
                outcome = CallOutcome.ABANDONED
            call.outcome = outcome
            call.wrapup_saved_at = now
            call.save()
            lead = call.lead
            if lead is not None and lead.status == LeadStatus.CLAIMED:
                leads.lead_apply_system_outcome(
                    lead=lead, outcome=outcome, phone=call.phone, now=now
                )
    return count
