"""The lead source: which lead an agent or the dialer gets next, what an outcome does to a
lead, and why nothing can be dialed.

Theory of operation
-------------------
``lead_claim_next`` looks only at campaigns assigned to the agent today (directly or
through a team the agent is in today) that are in pilot or active, in the order of the
day's priority. Within them it takes, first, callbacks that have come due for this agent,
then team callbacks, then new and retry leads by lead priority and due time.
``lead_claim_for_dialer`` does the same for a dialer process working one campaign without
an agent: team callbacks first (an agent's own callback is left for that agent's
preview), then priority and due time; the lead records the process (``claimed_by_dialer``)
and ``leads_release_for_dialer`` gives back what a process still holds undialed when its
lease is taken over.

Calling windows are local times of the customer. A campaign's gate is worked out for
every time zone its client's customers live in (the centre's zone for those without one):
the campaign's windows for that local date, closed on a statutory holiday and Monday's on
a make-up workday (the rules are ``dialing.compliance``; the days are the ``Holiday``
table). Only leads of customers whose local time is inside a window are candidates — a
filter in the query, so customers asleep in another zone never fill a claim's batch.

Each candidate is then checked at claim time — not only when it was loaded — in this
order: do-not-call, blacklist and do-not-market blocks, consent, and the VIP / account
manager reservation (``block_reason``: the lead is excluded, so lifting the block can
bring it back); a valid number (else the lead is done); and the customer's holds, over
all the client's campaigns (``customer_dial_hold``): 72 hours after an abandoned call,
and the daily limit of dial attempts (``CALLDECK_DAILY_CONTACT_LIMIT``). A held lead is
not excluded but postponed: its ``next_attempt_at`` moves to the end of the hold. This
holds for callbacks and retries as much as for new leads, since they are claimed the same
way; ``desk_dial`` repeats ``block_reason`` for a block that arrives during the preview.
The claim itself is a conditional UPDATE on the status the lead was read with, so two
agents or processes racing for the same lead cannot both win.

When nothing can be claimed the caller gets a ``NoLead`` that says why, from
``campaign_dial_status`` (not running, holiday, outside the calling hours, no leads, all
done, all remaining blocked, all waiting for a retry and when the next is due), because
"nothing to do" with no reason is the most common complaint agents have about dialers.
The campaign page shows the same status to supervisors.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from enum import StrEnum

from django.conf import settings
from django.db.models import Case, Exists, IntegerField, Min, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from calldeck.accounts.models import User
from calldeck.calls.models import AgentPresence, Call, CallOutcome, Direction
from calldeck.campaigns.defaults import STANDARD_RETRY_MINUTES
from calldeck.campaigns.holidays import holidays_between
from calldeck.campaigns.models import (
    CLAIMABLE_LEAD_STATUSES,
    Callback,
    CallbackScope,
    CallbackStatus,
    Campaign,
    CampaignLead,
    CampaignStatus,
    DialMode,
    Disposition,
    DispositionClass,
    Holiday,
    LeadDoneReason,
    LeadPhase,
    LeadStatus,
    RetryOutcome,
    RetryRule,
)
from calldeck.campaigns.selectors import agent_assignments, lead_counts_by_campaign
from calldeck.customers.models import (
    BlockKind,
    ContactBlock,
    Customer,
    PhoneNumber,
    active_blocks_q,
)
from calldeck.dialing import compliance

# How many candidates one claim reads at a time, and how many such batches it works
# through when every candidate of a batch turned out blocked, held or taken.
CLAIM_BATCH = 25
CLAIM_ROUNDS = 4

# The longest dialer owner (lease) name ``CampaignLead.claimed_by_dialer`` stores.
DIALER_OWNER_MAX = 64

# Abandoned calls are looked for this long before the hold, for a call that rang long.
_ABANDON_LOOKBACK = compliance.ABANDON_HOLD + dt.timedelta(hours=1)


class DialCode(StrEnum):
    OK = "ok"
    NOT_RUNNING = "not_running"
    OUTSIDE_WINDOW = "outside_window"
    HOLIDAY = "holiday"
    ALL_DONE = "all_done"
    WAITING_RETRY = "waiting_retry"
    ALL_BLOCKED = "all_blocked"
    NO_LEADS = "no_leads"


# NoLead codes beyond a campaign's DialCode.
NO_ASSIGNMENT = "no_assignment"
NOTHING_DUE = "nothing_due"


@dataclass(frozen=True)
class NoLead:
    reason: str
    code: str = ""
    next_due: dt.datetime | None = None


@dataclass(frozen=True)
class DialStatus:
    """Whether a campaign can be dialed now and, if not, why (``message``, translated).

    ``counts`` are its leads by status; ``next_due`` is when dialing can go on (the next
    retry or callback, or the next opening of a calling window), when known.
    """

    code: DialCode
    message: str
    counts: dict[str, int] = field(default_factory=dict)
    next_due: dt.datetime | None = None
    due_now: int = 0

    @property
    def ok(self) -> bool:
        return self.code == DialCode.OK


AUTO_DIAL_MODES = (DialMode.PROGRESSIVE, DialMode.PREDICTIVE)


def agent_auto_dials(agent: User, now: dt.datetime | None = None) -> bool:
    """Whether a dialer process brings the agent calls today (a progressive or predictive
    campaign of theirs is running): then the agent waits, ready, instead of previewing."""
    return any(
        c.is_dialable and c.dial_mode in AUTO_DIAL_MODES
        for c, _prio in todays_campaigns(agent, now)
    )


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


# --- calling windows in the customer's local time ------------------------------------


def _zone(tz: str | dt.tzinfo | None) -> dt.tzinfo:
    """A time zone by name; empty, None or an unknown name is the centre's."""
    if isinstance(tz, dt.tzinfo):
        return tz
    if tz:
        try:
            return zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.get_default_timezone()


@dataclass(frozen=True)
class _ZoneState:
    is_open: bool
    holiday: Holiday | None
    next_open: dt.datetime | None


@dataclass(frozen=True)
class _Calendar:
    """One campaign's windows and the holiday table around now."""

    windows: list[compliance.Window]
    days: dict[dt.date, Holiday]

    @classmethod
    def load(cls, campaign: Campaign, now: dt.datetime) -> _Calendar:
        centre_day = timezone.localdate(now, timezone.get_default_timezone())
        # A day either side covers every zone's local date; the horizon, the next opening.
        days = holidays_between(
            centre_day - dt.timedelta(days=2),
            centre_day + dt.timedelta(days=compliance.NEXT_OPEN_HORIZON_DAYS + 2),
        )
        windows = [(w.weekday, w.start, w.end) for w in campaign.windows.all()]
        return cls(windows, days)

    def kind(self, day: dt.date) -> str | None:
        holiday = self.days.get(day)
        return holiday.kind if holiday is not None else None

    def state(self, tz: dt.tzinfo, now: dt.datetime) -> _ZoneState:
        local = now.astimezone(tz)
        holiday = self.days.get(local.date())
        if compliance.window_is_open(self.windows, local, self.kind(local.date())):
            return _ZoneState(True, None, None)
        is_holiday = holiday is not None and holiday.kind == compliance.HOLIDAY
        return _ZoneState(
            False,
            holiday if is_holiday else None,
            compliance.window_next_open(self.windows, local, self.kind),
        )


def campaign_is_open(
    campaign: Campaign, now: dt.datetime, tz: str | dt.tzinfo | None = None
) -> bool:
    """Inside one of the campaign's calling windows at ``now``, in the local time of ``tz``.

    ``tz`` is the customer's time zone (an IANA name); None or empty is the centre's. On
    a statutory holiday the campaign is closed; on a make-up workday Monday's windows apply.
    """
    return _Calendar.load(campaign, now).state(_zone(tz), now).is_open


@dataclass(frozen=True)
class _Gate:
    """A campaign's calling windows now, for every time zone its client's customers are in.

    ``states`` is keyed by the customer's ``timezone`` value ("" for the centre's zone).
    """

    states: dict[str, _ZoneState]

    @property
    def open_names(self) -> list[str]:
        return [name for name, state in self.states.items() if state.is_open]

    def lead_filter(self) -> Q:
        """Leads whose customer's local time is inside a window."""
        names = self.open_names
        if len(names) == len(self.states):
            return Q()
        return Q(customer__timezone__in=names)


def _gate(campaign: Campaign, now: dt.datetime) -> _Gate:
    calendar = _Calendar.load(campaign, now)
    zones = (
        Customer.objects.filter(client_id=campaign.client_id)
        .exclude(timezone="")
        .order_by()
        .values_list("timezone", flat=True)
        .distinct()
    )
    names = ["", *sorted(zones)]
    return _Gate({name: calendar.state(_zone(name), now) for name in names})


# --- why nothing can be dialed --------------------------------------------------------


def _when(moment: dt.datetime, now: dt.datetime) -> str:
    """A time for a message, in the centre's local time; with the date unless today."""
    local = timezone.localtime(moment, timezone.get_default_timezone())
    today = timezone.localdate(now, timezone.get_default_timezone())
    return f"{local:%H:%M}" if local.date() == today else f"{local:%Y-%m-%d %H:%M}"


def _closed_status(
    states: list[_ZoneState], counts: dict[str, int], now: dt.datetime
) -> DialStatus:
    holidays = [s.holiday for s in states if s.holiday is not None]
    opens = min((s.next_open for s in states if s.next_open is not None), default=None)
    if holidays:
        code = DialCode.HOLIDAY
        message = _("Today is a public holiday (%(name)s): customers are not called.") % {
            "name": holidays[0].name or holidays[0].get_kind_display()
        }
    else:
        code = DialCode.OUTSIDE_WINDOW
        message = _("Outside the calling hours of this campaign.")
    if opens is not None:
        message += " " + _("Calling resumes at %(time)s.") % {"time": _when(opens, now)}
    return DialStatus(code, message, counts, next_due=opens)


def _claimable(campaign: Campaign) -> QuerySet[CampaignLead]:
    leads = CampaignLead.objects.filter(campaign=campaign, status__in=CLAIMABLE_LEAD_STATUSES)
    # In its pilot a campaign dials only the pilot sample; the rest of the list waits for
    # the roll-out (campaigns.lists), which makes the waiting leads main leads.
    if campaign.status == CampaignStatus.PILOT and campaign.pilots.exists():
        return leads.filter(phase=LeadPhase.PILOT)
    return leads.exclude(phase=LeadPhase.WAITING)


def _status(campaign: Campaign, gate: _Gate | None, now: dt.datetime) -> DialStatus:
    counts = lead_counts_by_campaign([campaign.pk])[campaign.pk]
    if not campaign.is_dialable:
        return DialStatus(
            DialCode.NOT_RUNNING,
            _("The campaign is not running (%(status)s).")
            % {"status": campaign.get_status_display()},
            counts,
        )
    gate = gate or _gate(campaign, now)
    if not gate.open_names:
        return _closed_status(list(gate.states.values()), counts, now)
    if not sum(counts.values()):
        return DialStatus(
            DialCode.NO_LEADS, _("The campaign has no customers to call: load a list."), counts
        )
    if not sum(counts[s] for s in CLAIMABLE_LEAD_STATUSES):
        if counts[LeadStatus.CLAIMED]:
            return DialStatus(
                DialCode.WAITING_RETRY,
                _("The last customers are with agents or the dialer right now."),
                counts,
            )
        if counts[LeadStatus.EXCLUDED]:
            return DialStatus(
                DialCode.ALL_BLOCKED,
                _(
                    "Nothing left to call: all %(n)s remaining customers are blocked "
                    "(do-not-call, blacklist, no consent, or VIP)."
                )
                % {"n": counts[LeadStatus.EXCLUDED]},
                counts,
            )
        return DialStatus(
            DialCode.ALL_DONE,
            _("All customers of this campaign are done (%(n)s).") % {"n": counts[LeadStatus.DONE]},
            counts,
        )
    due = _claimable(campaign).filter(next_attempt_at__lte=now)
    due_now = due.filter(gate.lead_filter()).count()
    if due_now:
        return DialStatus(
            DialCode.OK,
            ngettext(
                "%(n)s customer can be called now.", "%(n)s customers can be called now.", due_now
            )
            % {"n": due_now},
            counts,
            due_now=due_now,
        )
    closed = [
        state
        for name, state in gate.states.items()
        if not state.is_open and due.filter(customer__timezone=name).exists()
    ]
    if closed:
        return _closed_status(closed, counts, now)
    next_due: dt.datetime = _claimable(campaign).aggregate(at=Min("next_attempt_at"))["at"]
    return DialStatus(
        DialCode.WAITING_RETRY,
        _(
            "Every remaining customer is waiting for a retry or a callback; "
            "the next is due at %(time)s."
        )
        % {"time": _when(next_due, now)},
        counts,
        next_due=next_due,
    )


def campaign_dial_status(campaign: Campaign, now: dt.datetime | None = None) -> DialStatus:
    """Whether ``campaign`` can be dialed now, and if not why, for agents and supervisors."""
    return _status(campaign, None, now or timezone.now())


# --- checks of one lead -------------------------------------------------------------


def block_reason(lead: CampaignLead) -> LeadDoneReason | None:
    """Why this lead must not be dialed now, or None."""
    customer = lead.customer
    if customer.is_reserved_for_account_manager:
        return LeadDoneReason.RESERVED
    numbers = list(customer.phones.values_list("e164", flat=True))
    blocked = (
        ContactBlock.objects.filter(client_id=customer.client_id)
        .filter(active_blocks_q())
        .filter(Q(customer=customer) | Q(e164__in=numbers))
    )
    if blocked.filter(kind__in=[BlockKind.DO_NOT_CALL, BlockKind.BLACKLIST]).exists():
        return LeadDoneReason.BLOCKED
    if lead.campaign.requires_consent and (
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


# --- holds of a customer over all campaigns ------------------------------------------


def _centre_day(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The start of the centre's local day of ``now`` and of the next day."""
    centre = timezone.get_default_timezone()
    day = now.astimezone(centre).date()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=centre)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=centre)


@dataclass(frozen=True)
class CustomerContacts:
    """The customer's outbound calls that the dial-time holds look at."""

    dialed_today: int  # in the centre's local day, all campaigns
    abandoned_at: list[dt.datetime]  # abandoned calls of the last 72 hours (and a margin)
    next_day: dt.datetime  # when the centre's next local day starts


def customer_contacts(*, customer_id: int, now: dt.datetime) -> CustomerContacts:
    """One query: the customer's dials today and their recent abandoned calls."""
    day_start, next_day = _centre_day(now)
    calls = Call.objects.filter(
        customer_id=customer_id,
        direction=Direction.OUTBOUND,
        dialed_at__gte=min(day_start, now - _ABANDON_LOOKBACK),
        dialed_at__lte=now,
    ).values_list("dialed_at", "ended_at", "outcome")
    dialed_today = 0
    abandoned: list[dt.datetime] = []
    for dialed_at, ended_at, outcome in calls:
        dialed_today += dialed_at >= day_start
        if outcome == CallOutcome.ABANDONED:
            abandoned.append(ended_at or dialed_at)
    return CustomerContacts(dialed_today, abandoned, next_day)


def customer_dial_hold(*, customer_id: int, now: dt.datetime) -> compliance.Hold | None:
    """What keeps the customer from being dialed at ``now`` on any campaign, if anything:
    the daily contact limit, or the 72 hours after an abandoned call."""
    contacts = customer_contacts(customer_id=customer_id, now=now)
    return compliance.customer_hold(
        dialed_today=contacts.dialed_today,
        abandoned_at=contacts.abandoned_at,
        now=now,
        limit=settings.CALLDECK_DAILY_CONTACT_LIMIT,
        next_day_starts=contacts.next_day,
    )


# --- claims ---------------------------------------------------------------------------


def _due_leads(campaign: Campaign, agent: User, now: dt.datetime) -> QuerySet[CampaignLead]:
    own_callback = Q(status=LeadStatus.CALLBACK, assigned_agent=agent)
    team_callback = Q(status=LeadStatus.CALLBACK)
    return (
        _claimable(campaign)
        .filter(next_attempt_at__lte=now)
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


def _dialer_due_leads(campaign: Campaign, now: dt.datetime) -> QuerySet[CampaignLead]:
    # An agent's own callback waits for that agent's preview; the dialer takes the rest.
    return (
        _claimable(campaign)
        .filter(next_attempt_at__lte=now, assigned_agent__isnull=True)
        .order_by(
            Case(
                When(status=LeadStatus.CALLBACK, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            "-priority",
            "next_attempt_at",
            "pk",
        )
    )


def _postpone(lead: CampaignLead, until: dt.datetime, now: dt.datetime) -> None:
    CampaignLead.objects.filter(pk=lead.pk, status=lead.status).update(
        next_attempt_at=until, updated_at=now
    )


def _claim(
    candidates: QuerySet[CampaignLead], now: dt.datetime, holder: dict[str, object]
) -> CampaignLead | None:
    """The first candidate that passes the dial-time checks and is won, or None."""
    for _round in range(CLAIM_ROUNDS):
        batch = list(candidates.select_related("customer", "campaign")[:CLAIM_BATCH])
        for lead in batch:
            reason = block_reason(lead)
            if reason is None and phone_to_dial(lead) is None:
                reason = LeadDoneReason.NO_VALID_NUMBER
            if reason is not None:
                lead_exclude(lead=lead, reason=reason, now=now)
                continue
            hold = customer_dial_hold(customer_id=lead.customer_id, now=now)
            if hold is not None:
                _postpone(lead, hold.until, now)
                continue
            won = CampaignLead.objects.filter(pk=lead.pk, status=lead.status).update(
                status=LeadStatus.CLAIMED, claimed_at=now, updated_at=now, **holder
            )
            if won:
                lead.refresh_from_db()
                return lead
        # Every lead of a full batch left the queue (excluded, postponed or taken): the
        # next batch is new leads.
        if len(batch) < CLAIM_BATCH:
            break
    return None


def _no_lead(statuses: list[tuple[Campaign, DialStatus]]) -> NoLead:
    nothing_due = _("No customer is due right now. Retries and callbacks come back at their time.")
    next_due = min((s.next_due for _c, s in statuses if s.next_due is not None), default=None)
    reasons = [(c, s) for c, s in statuses if not s.ok]
    if not reasons:
        return NoLead(nothing_due, code=NOTHING_DUE, next_due=next_due)
    if len(statuses) == 1:
        return NoLead(reasons[0][1].message, code=reasons[0][1].code, next_due=next_due)
    text = " ".join(
        _("%(campaign)s: %(reason)s") % {"campaign": c.name, "reason": s.message}
        for c, s in reasons
    )
    # The desk keeps the reason as the agent's notice, which has a length limit.
    limit = AgentPresence._meta.get_field("notice").max_length or len(text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return NoLead(text, code=reasons[0][1].code, next_due=next_due)


def lead_claim_next(*, agent: User, now: dt.datetime | None = None) -> CampaignLead | NoLead:
    """The next customer for the agent's preview, claimed for them; or why there is none."""
    now = now or timezone.now()
    campaigns = todays_campaigns(agent, now)
    if not campaigns:
        return NoLead(
            _("You have no campaign assigned for today. Ask your supervisor."), code=NO_ASSIGNMENT
        )
    dialable = [c for c, _prio in campaigns if c.is_dialable]
    if not dialable:
        return NoLead(
            _("Today's campaigns are not running (paused or finished)."),
            code=DialCode.NOT_RUNNING,
        )
    statuses = []
    for campaign in dialable:
        gate = _gate(campaign, now)
        if gate.open_names:
            candidates = _due_leads(campaign, agent, now).filter(gate.lead_filter())
            lead = _claim(candidates, now, {"claimed_by": agent, "claimed_by_dialer": ""})
            if lead is not None:
                return lead
        statuses.append((campaign, _status(campaign, gate, now)))
    return _no_lead(statuses)


def lead_claim_for_dialer(
    *, campaign: Campaign, owner: str, now: dt.datetime
) -> CampaignLead | NoLead:
    """The campaign's next lead for the dialer process ``owner`` (its lease), or why none.

    Same order and checks as an agent's claim, except that an agent's own callback is
    left to that agent. The lead is held with ``claimed_by_dialer = owner``.
    """
    if not 0 < len(owner) <= DIALER_OWNER_MAX:
        raise ValueError(f"a dialer owner is 1 to {DIALER_OWNER_MAX} characters, not {owner!r}")
    # The dialer keeps its campaign for hours: a pause must stop it at the next claim.
    campaign.refresh_from_db(fields=["status"])
    gate = None
    if campaign.is_dialable:
        gate = _gate(campaign, now)
        if gate.open_names:
            candidates = _dialer_due_leads(campaign, now).filter(gate.lead_filter())
            lead = _claim(candidates, now, {"claimed_by": None, "claimed_by_dialer": owner})
            if lead is not None:
                return lead
    return _no_lead([(campaign, _status(campaign, gate, now))])


def lead_exclude(*, lead: CampaignLead, reason: LeadDoneReason, now: dt.datetime) -> None:
    """Take a lead out of dialing for ``reason``, unless someone changed it meanwhile.

    A lead without a valid number is done; a blocked or reserved one is excluded, so that
    lifting the block can bring it back.
    """
    status = LeadStatus.DONE if reason == LeadDoneReason.NO_VALID_NUMBER else LeadStatus.EXCLUDED
    CampaignLead.objects.filter(pk=lead.pk, status=lead.status).update(
        status=status,
        done_reason=reason,
        claimed_by=None,
        claimed_by_dialer="",
        claimed_at=None,
        updated_at=now,
    )


def _give_back(lead: CampaignLead, now: dt.datetime, **held_by: object) -> int:
    back = (
        LeadStatus.CALLBACK
        if lead.callbacks.filter(status=CallbackStatus.PENDING).exists()
        else (LeadStatus.RETRY if lead.attempts else LeadStatus.NEW)
    )
    return CampaignLead.objects.filter(pk=lead.pk, status=LeadStatus.CLAIMED, **held_by).update(
        status=back, claimed_by=None, claimed_by_dialer="", claimed_at=None, updated_at=now
    )


def lead_release(*, lead: CampaignLead, now: dt.datetime | None = None) -> None:
    """Give a claimed, undialed lead back as it was."""
    _give_back(lead, now or timezone.now())


def leads_release_for_dialer(*, campaign: Campaign, owner: str, now: dt.datetime) -> int:
    """Give back every lead ``owner`` still holds undialed (no open call); how many.

    For a dialer lease taken over from a process that stopped: its leads in a call stay
    with that call, whose end applies the outcome (or the agent's wrap-up, for a call that
    reached an agent); the others go back to the queue.
    """
    # A call still open, or ended with an agent who has not saved its outcome yet: the
    # wrap-up decides what becomes of the lead.
    open_call = Call.objects.filter(lead=OuterRef("pk")).filter(
        Q(ended_at__isnull=True) | Q(agent_connected_at__isnull=False, wrapup_saved_at__isnull=True)
    )
    held = (
        CampaignLead.objects.filter(
            campaign=campaign, status=LeadStatus.CLAIMED, claimed_by_dialer=owner
        )
        .exclude(Exists(open_call))
        .order_by("pk")
    )
    return sum(_give_back(lead, now, claimed_by_dialer=owner) for lead in held)


def lead_release_for_dialer(
    *, lead_id: int, owner: str, now: dt.datetime, not_before: dt.datetime | None = None
) -> bool:
    """Give back one lead the dialer ``owner`` claimed and did not dial; whether it was.

    ``not_before`` postpones it (outside the calling window, a hold of the customer).
    """
    lead = CampaignLead.objects.filter(pk=lead_id).first()
    if lead is None or not _give_back(lead, now, claimed_by_dialer=owner):
        return False
    if not_before is not None and not_before > lead.next_attempt_at:
        CampaignLead.objects.filter(pk=lead_id).update(next_attempt_at=not_before)
    return True


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
    lead.claimed_by_dialer = ""
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
        known = outcome in RetryOutcome.values
        _schedule_retry(lead, RetryOutcome(outcome) if known else RetryOutcome.FAILED, now)
        if outcome == RetryOutcome.ABANDONED and lead.status == LeadStatus.RETRY:
            # The customer heard the apology message: left alone for 72 hours at least.
            lead.next_attempt_at = max(lead.next_attempt_at, now + compliance.ABANDON_HOLD)
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
    lead.claimed_by_dialer = ""
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
