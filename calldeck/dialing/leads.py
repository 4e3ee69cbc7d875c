"""The lead source: which lead an agent gets next, and what an outcome does to a lead.

Theory of operation
-------------------
``lead_claim_next`` looks only at campaigns assigned to the agent today (directly or
through a team the agent is in today) that are in pilot or active and inside a calling
window now, in the order of the day's priority. Within them it takes, first, callbacks that
have come due for this agent, then team callbacks, then new and retry leads by lead
priority and due time. Each candidate is checked at claim time — not only when it was
loaded — against do-not-call, blacklist and do-not-market blocks and the VIP / account
manager reservation; a blocked lead is excluded with its reason and the next one is tried.
The claim itself is a conditional UPDATE on the status the lead was read with, so two
agents racing for the same lead cannot both win.

When nothing can be claimed the caller gets a ``NoLead`` that says why (no assignment
today, outside calling hours, nothing due), because "nothing to do" with no reason is the
most common complaint agents have about dialers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from calldeck.accounts.models import User
from calldeck.campaigns.defaults import STANDARD_RETRY_MINUTES
from calldeck.campaigns.models import (
    CLAIMABLE_LEAD_STATUSES,
    Callback,
    CallbackScope,
    CallbackStatus,
    Campaign,
    CampaignLead,
    Disposition,
    DispositionClass,
    LeadDoneReason,
    LeadStatus,
    RetryOutcome,
    RetryRule,
)
from calldeck.campaigns.selectors import agent_assignments
from calldeck.customers.models import BlockKind, ContactBlock, PhoneNumber

# How many candidates one claim looks at before giving up for this round.
CLAIM_BATCH = 25


@dataclass(frozen=True)
class NoLead:
    reason: str


def todays_campaigns(agent: User, now: dt.datetime | None = None) -> list[tuple[Campaign, int]]:
    """(campaign, priority) assigned to the agent today, whatever their status, best first.

    A campaign assigned both to the agent and to a team of theirs counts once, at its
    best priority.
    """
    day = timezone.localdate(now or timezone.now())
    best: dict[int, tuple[Campaign, int]] = {}
    for assignment in agent_assignments(agent, day=day):
        best.setdefault(assignment.campaign_id, (assignment.campaign, assignment.priority))
    return list(best.values())


def campaign_is_open(campaign: Campaign, now: dt.datetime) -> bool:
    """Inside one of the campaign's calling windows, in the centre's local time."""
    local = timezone.localtime(now)
    return campaign.windows.filter(
        weekday=local.weekday(), start__lte=local.time(), end__gt=local.time()
    ).exists()


def _due_leads(campaign: Campaign, agent: User, now: dt.datetime) -> QuerySet[CampaignLead]:
    own_callback = Q(status=LeadStatus.CALLBACK, assigned_agent=agent)
    team_callback = Q(status=LeadStatus.CALLBACK)
    return (
        CampaignLead.objects.filter(
            campaign=campaign, status__in=CLAIMABLE_LEAD_STATUSES, next_attempt_at__lte=now
        )
        .filter(Q(assigned_agent__isnull=True) | Q(assigned_agent=agent))
        .order_by(
            # Own callbacks, then team callbacks, then the rest: a callback is a promise.
            Case(
                When(own_callback, then=Value(0)),
                When(team_callback, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
            "-priority",
            "next_attempt_at",
            "pk",
        )
    )


def block_reason(lead: CampaignLead) -> LeadDoneReason | None:
    """Why this lead must not be dialed now, or None."""
    customer = lead.customer
    if customer.is_reserved_for_account_manager:
        return LeadDoneReason.RESERVED
    numbers = list(customer.phones.values_list("e164", flat=True))
    blocked = ContactBlock.objects.filter(
        client_id=customer.client_id, lifted_at__isnull=True
    ).filter(Q(customer=customer) | Q(e164__in=numbers))
    if blocked.filter(kind__in=[BlockKind.DO_NOT_CALL, BlockKind.BLACKLIST]).exists():
        return LeadDoneReason.BLOCKED
    if lead.campaign.offer_id and (
        not customer.consent_marketing or blocked.filter(kind=BlockKind.DO_NOT_MARKET).exists()
    ):
        return LeadDoneReason.BLOCKED
    return None


def phone_to_dial(lead: CampaignLead) -> PhoneNumber | None:
    """The number for this attempt: rotate through the valid numbers attempt by attempt."""
    callback = lead.callbacks.filter(status=CallbackStatus.PENDING, phone__is_valid=True).first()
    if callback is not None and callback.phone is not None:
        return callback.phone
    phones = [p for p in lead.customer.phones.all() if p.is_valid]
    if not phones:
        return None
    return phones[lead.attempts % len(phones)]


def lead_claim_next(*, agent: User, now: dt.datetime | None = None) -> CampaignLead | NoLead:
    now = now or timezone.now()
    campaigns = todays_campaigns(agent, now)
    if not campaigns:
        return NoLead(_("You have no campaign assigned for today. Ask your supervisor."))
    dialable = [c for c, _prio in campaigns if c.is_dialable]
    if not dialable:
        return NoLead(_("Today's campaigns are not running (paused or finished)."))
    open_now = [c for c in dialable if campaign_is_open(c, now)]
    if not open_now:
        return NoLead(_("Outside the calling hours of today's campaigns."))
    for campaign in open_now:
        for lead in _due_leads(campaign, agent, now).select_related("customer", "campaign")[
            :CLAIM_BATCH
        ]:
            reason = block_reason(lead)
            if reason is None and phone_to_dial(lead) is None:
                reason = LeadDoneReason.NO_VALID_NUMBER
            if reason is not None:
                lead_exclude(lead=lead, reason=reason, now=now)
                continue
            won = CampaignLead.objects.filter(pk=lead.pk, status=lead.status).update(
                status=LeadStatus.CLAIMED, claimed_by=agent, claimed_at=now, updated_at=now
            )
            if won:
                lead.refresh_from_db()
                return lead
    return NoLead(_("No customer is due right now. Retries and callbacks come back at their time."))


def lead_exclude(*, lead: CampaignLead, reason: LeadDoneReason, now: dt.datetime) -> None:
    """Take a lead out of dialing for ``reason``, unless someone changed it meanwhile.

    A lead without a valid number is done; a blocked or reserved one is excluded, so that
    lifting the block can bring it back.
    """
    status = LeadStatus.DONE if reason == LeadDoneReason.NO_VALID_NUMBER else LeadStatus.EXCLUDED
    CampaignLead.objects.filter(pk=lead.pk, status=lead.status).update(
        status=status, done_reason=reason, claimed_by=None, claimed_at=None, updated_at=now
    )


def lead_release(*, lead: CampaignLead, now: dt.datetime | None = None) -> None:
    """Give a claimed, undialed lead back as it was."""
    now = now or timezone.now()
    back = (
        LeadStatus.CALLBACK
        if lead.callbacks.filter(status=CallbackStatus.PENDING).exists()
        else (LeadStatus.RETRY if lead.attempts else LeadStatus.NEW)
    )
    CampaignLead.objects.filter(pk=lead.pk, status=LeadStatus.CLAIMED).update(
        status=back, claimed_by=None, claimed_at=None, updated_at=now
    )


def _retry_minutes(campaign: Campaign, outcome: RetryOutcome) -> int:
    rule = RetryRule.objects.filter(campaign=campaign, outcome=outcome).first()
    return rule.delay_minutes if rule else STANDARD_RETRY_MINUTES[outcome]


def _schedule_retry(lead: CampaignLead, outcome: RetryOutcome, now: dt.datetime) -> None:
    if lead.attempts >= lead.campaign.max_attempts:
        lead.status = LeadStatus.DONE
        lead.done_reason = LeadDoneReason.MAX_ATTEMPTS
    else:
        lead.status = LeadStatus.RETRY
        lead.next_attempt_at = now + dt.timedelta(minutes=_retry_minutes(lead.campaign, outcome))


def _finish_pending_callbacks(lead: CampaignLead) -> None:
    lead.callbacks.filter(status=CallbackStatus.PENDING).update(status=CallbackStatus.DONE)


def _mark_invalid(phone: PhoneNumber | None, reason: str, now: dt.datetime) -> None:
    if phone is not None:
        PhoneNumber.objects.filter(pk=phone.pk).update(
            is_valid=False, invalid_reason=reason, invalid_since=now
        )


def lead_apply_system_outcome(
    *, lead: CampaignLead, outcome: str, phone: PhoneNumber | None, now: dt.datetime
) -> CampaignLead:
    """An attempt that reached no one: schedule the retry the campaign's rules say."""
    lead.last_outcome = outcome
    lead.claimed_by = None
    lead.claimed_at = None
    if outcome == "invalid":
        _mark_invalid(phone, _("Network says the number does not exist"), now)
        if lead.customer.phones.filter(is_valid=True).exists():
            lead.status = LeadStatus.RETRY
            lead.next_attempt_at = now + dt.timedelta(minutes=1)
        else:
            lead.status = LeadStatus.DONE
            lead.done_reason = LeadDoneReason.NO_VALID_NUMBER
    else:
        _schedule_retry(lead, RetryOutcome(outcome), now)
    if lead.status == LeadStatus.DONE:
        _finish_pending_callbacks(lead)
    lead.updated_at = now
    lead.save()
    return lead


def lead_apply_disposition(
    *,
    lead: CampaignLead,
    disposition: Disposition,
    agent: User,
    phone: PhoneNumber | None,
    now: dt.datetime,
    callback_at: dt.datetime | None = None,
    callback_scope: str = CallbackScope.OWN,
    callback_note: str = "",
) -> CampaignLead:
    """What the agent's recorded outcome does to the lead (the class decides)."""
    cls = disposition.cls
    lead.last_disposition = disposition
    lead.claimed_by = None
    lead.claimed_at = None
    lead.assigned_agent = None
    _finish_pending_callbacks(lead)
    if cls == DispositionClass.SUCCESS:
        lead.status, lead.done_reason = LeadStatus.DONE, LeadDoneReason.SUCCESS
    elif cls == DispositionClass.CONTACT:
        lead.status, lead.done_reason = LeadStatus.DONE, LeadDoneReason.REFUSED
    elif cls == DispositionClass.CALLBACK:
        assert callback_at is not None
        # A callback is the customer's request, so it is kept even past max attempts.
        lead.status = LeadStatus.CALLBACK
        lead.next_attempt_at = callback_at
        lead.assigned_agent = agent if callback_scope == CallbackScope.OWN else None
        Callback.objects.create(
            lead=lead,
            due_at=callback_at,
            scope=callback_scope,
            owner=agent if callback_scope == CallbackScope.OWN else None,
            phone=phone,
            note=callback_note,
            created_by=agent,
        )
    elif cls == DispositionClass.DO_NOT_CALL:
        lead.status, lead.done_reason = LeadStatus.DONE, LeadDoneReason.DO_NOT_CALL
        ContactBlock.objects.create(
            client_id=lead.customer.client_id,
            customer=lead.customer,
            kind=BlockKind.DO_NOT_CALL,
            reason=_("Customer asked not to be called (recorded on a call)"),
            created_by=agent,
            created_at=now,
        )
    elif cls == DispositionClass.WRONG_NUMBER:
        _mark_invalid(phone, _("Wrong number, reported by the agent"), now)
        if lead.customer.phones.filter(is_valid=True).exists():
            lead.status = LeadStatus.RETRY
            lead.next_attempt_at = now + dt.timedelta(minutes=5)
        else:
            lead.status, lead.done_reason = LeadStatus.DONE, LeadDoneReason.NO_VALID_NUMBER
    else:
        _schedule_retry(lead, RetryOutcome.NON_CONTACT, now)
    lead.updated_at = now
    lead.save()
    return lead
