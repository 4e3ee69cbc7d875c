"""Campaigns, their offers, dispositions, calling windows, retry rules, leads and callbacks.

Also the holiday table: the statutory rest days and make-up workdays that the calling
windows follow (``Holiday``), copied from the ``chinesecalendar`` package by
``manage.py load_holidays`` and editable by an administrator.

A campaign moves draft → pilot → active ⇄ paused → completed → archived (see
``campaigns.services.CAMPAIGN_TRANSITIONS``). A lead is one customer in one campaign; its
status says whether it may be dialed now, and leads are claimed with a conditional UPDATE
so that no two agents ever get the same customer.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calldeck.accounts.models import Client, Team
from calldeck.callscripts.models import Script
from calldeck.customers.models import Customer, PhoneNumber

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Offer(models.Model):
    """A product or offer sold by campaigns, with its price and margin."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="offers")
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, default=Decimal(0))
    margin_rate = models.DecimalField(
        _("margin rate"),
        max_digits=5,
        decimal_places=4,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
        help_text=_("Share of the sale amount that is gross margin, 0 to 1."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        constraints = [models.UniqueConstraint(fields=["client", "code"], name="offer_code_unique")]

    def __str__(self) -> str:
        return self.name


class DispositionSet(models.Model):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="disposition_sets")
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("disposition set")
        verbose_name_plural = _("disposition sets")

    def __str__(self) -> str:
        return self.name


class DispositionClass(models.TextChoices):
    CONTACT = "contact", _("Contact")
    NON_CONTACT = "non_contact", _("Non-contact")
    SUCCESS = "success", _("Success")
    CALLBACK = "callback", _("Callback")
    DO_NOT_CALL = "do_not_call", _("Do not call")
    WRONG_NUMBER = "wrong_number", _("Wrong number")


# Classes whose calls reached the right party unless a disposition says otherwise.
RIGHT_PARTY_CLASSES = frozenset(
    {
        DispositionClass.CONTACT,
        DispositionClass.SUCCESS,
        DispositionClass.CALLBACK,
        DispositionClass.DO_NOT_CALL,
    }
)


class Disposition(models.Model):
    """An outcome an agent records; its class decides what happens to the lead."""

    disposition_set = models.ForeignKey(
        DispositionSet, on_delete=models.CASCADE, related_name="dispositions"
    )
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    cls = models.CharField(_("class"), max_length=20, choices=DispositionClass.choices)
    counts_as_contact = models.BooleanField(
        _("reached the right party"),
        default=False,
        help_text=_("Counted as a contact in the KPIs (effective talk rate, phone success rate)."),
    )
    hotkey = models.CharField(_("shortcut key"), max_length=1, blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("disposition")
        verbose_name_plural = _("dispositions")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["disposition_set", "code"], name="disposition_unique")
        ]

    def __str__(self) -> str:
        return self.name


class CampaignKind(models.TextChoices):
    SPECIAL = "special", _("Special outbound campaign")
    DAILY = "daily", _("Daily marketing (birthdays, anniversaries)")
    RETENTION = "retention", _("Retention")
    CALLBACK_VISIT = "visit", _("Callback / satisfaction visit")
    SURVEY = "survey", _("Survey")
    INFO_COLLECTION = "info", _("Information collection")
    INBOUND_CROSS_SELL = "inbound", _("Inbound cross-sell")


class DialMode(models.TextChoices):
    PREVIEW = "preview", _("Preview")
    PROGRESSIVE = "progressive", _("Progressive")
    PREDICTIVE = "predictive", _("Predictive")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PILOT = "pilot", _("Pilot")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    COMPLETED = "completed", _("Completed")
    ARCHIVED = "archived", _("Archived")


# Statuses in which the campaign's leads may be dialed.
DIALABLE_STATUSES = (CampaignStatus.PILOT, CampaignStatus.ACTIVE)


class AbandonWindow(models.TextChoices):
    DAYS_30 = "30d", _("Rolling 30 days")
    HOURS_24 = "24h", _("Rolling 24 hours")


# Fields of a customer that a campaign may show on the agent's preview.
PREVIEW_FIELD_CHOICES = [
    ("gender", _("gender")),
    ("birthday", _("birthday")),
    ("region", _("region")),
    ("city", _("city")),
    ("value_tier", _("value tier")),
    ("vip_level", _("VIP level")),
]


def _money(verbose: StrOrPromise) -> models.DecimalField:  # type: ignore[type-arg]
    return models.DecimalField(verbose, max_digits=12, decimal_places=2, default=Decimal(0))


class Campaign(models.Model):
    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="campaigns"
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(
        _("kind"), max_length=20, choices=CampaignKind.choices, default=CampaignKind.SPECIAL
    )
    dial_mode = models.CharField(
        _("dial mode"), max_length=20, choices=DialMode.choices, default=DialMode.PREVIEW
    )
    status = models.CharField(
        _("status"), max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    offer = models.ForeignKey(
        Offer, verbose_name=_("offer"), on_delete=models.PROTECT, null=True, blank=True
    )
    script = models.ForeignKey(
        Script, verbose_name=_("script"), on_delete=models.SET_NULL, null=True, blank=True
    )
    disposition_set = models.ForeignKey(
        DispositionSet, verbose_name=_("disposition set"), on_delete=models.PROTECT
    )
    preview_fields = models.JSONField(_("fields shown on preview"), default=list, blank=True)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    max_attempts = models.PositiveSmallIntegerField(
        _("max attempts per lead"), default=5, validators=[MinValueValidator(1)]
    )
    abandon_cap_pct = models.DecimalField(
        _("abandon rate cap (%)"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("3.00"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    abandon_target_pct = models.DecimalField(
        _("abandon rate target (%)"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("2.50"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    abandon_window = models.CharField(
        _("abandon-rate window"),
        max_length=3,
        choices=AbandonWindow.choices,
        default=AbandonWindow.DAYS_30,
        help_text=_("The period over which the abandon rate is measured against the cap."),
    )
    connect_limit_s = models.PositiveSmallIntegerField(
        _("connect limit (seconds)"), default=2, validators=[MinValueValidator(1)]
    )
    ring_timeout_s = models.PositiveSmallIntegerField(
        _("ring timeout (seconds)"), default=25, validators=[MinValueValidator(15)]
    )
    target_success_rate_pct = models.DecimalField(
        _("target success rate (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    target_sales = models.PositiveIntegerField(_("target sales"), null=True, blank=True)
    target_revenue = models.DecimalField(
        _("target revenue"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    cost_agent_hour = _money(_("cost per agent hour"))
    cost_talk_minute = _money(_("cost per talk minute"))
    cost_message = _money(_("cost per message"))
    cost_list = _money(_("list cost"))
    cost_fixed = _money(_("fixed cost"))
    retention_days = models.PositiveSmallIntegerField(
        _("delete data this many days after the end"), default=90
    )
    requires_consent = models.BooleanField(
        _("requires marketing consent"),
        default=True,
        help_text=_(
            "Customers without marketing consent, or marked do-not-market, are left out "
            "when lists are loaded and are not dialed."
        ),
    )
    recording_retention_days = models.PositiveSmallIntegerField(
        _("keep recordings (days)"), default=90, validators=[MinValueValidator(90)]
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=models.F("starts_on")),
                name="campaign_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(abandon_target_pct__lte=models.F("abandon_cap_pct")),
                name="campaign_abandon_target_under_cap",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_dialable(self) -> bool:
        return self.status in DIALABLE_STATUSES


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class CallingWindow(models.Model):
    """Local times on a weekday when the campaign may call customers."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="windows")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))

    class Meta:
        verbose_name = _("calling window")
        verbose_name_plural = _("calling windows")
        ordering = ["weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="window_ordered")
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class HolidayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Statutory holiday")
    WORKDAY = "workday", _("Make-up workday")


class Holiday(models.Model):
    """A day off the usual week: a statutory rest day, or a weekend day worked in lieu.

    On a holiday no campaign calls; on a make-up workday the calling windows of Monday
    apply (``dialing.compliance``). A day without a row follows its weekday.
    """

    day = models.DateField(_("day"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=HolidayKind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {self.get_kind_display()} {self.name}".rstrip()


class RetryOutcome(models.TextChoices):
    NO_ANSWER = "no_answer", _("No answer")
    BUSY = "busy", _("Busy")
    MACHINE = "machine", _("Answering machine")
    ABANDONED = "abandoned", _("Abandoned")
    FAILED = "failed", _("Failed")
    NON_CONTACT = "non_contact", _("Non-contact disposition")


class RetryRule(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="retry_rules")
    outcome = models.CharField(_("outcome"), max_length=20, choices=RetryOutcome.choices)
    delay_minutes = models.PositiveIntegerField(_("retry after (minutes)"))

    class Meta:
        verbose_name = _("retry rule")
        verbose_name_plural = _("retry rules")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "outcome"], name="retry_rule_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()}: {self.delay_minutes} min"


class CampaignAssignment(models.Model):
    """A team or an agent working a campaign on a day, with the day's priority (1 = first)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="assignments")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, null=True, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    day = models.DateField(_("day"), default=timezone.localdate)
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=1, validators=[MinValueValidator(1), MaxValueValidator(99)]
    )
    daily_target = models.PositiveIntegerField(_("daily target (calls)"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [
            models.CheckConstraint(
                condition=(Q(team__isnull=False) & Q(agent__isnull=True))
                | (Q(team__isnull=True) & Q(agent__isnull=False)),
                name="assignment_team_xor_agent",
            ),
            models.UniqueConstraint(
                fields=["campaign", "team", "day"],
                condition=Q(team__isnull=False),
                name="assignment_team_day_unique",
            ),
            models.UniqueConstraint(
                fields=["campaign", "agent", "day"],
                condition=Q(agent__isnull=False),
                name="assignment_agent_day_unique",
            ),
        ]
        indexes = [
            # Today's tasks: the assignments of one day.
            models.Index(fields=["day", "campaign"], name="assignment_day"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} → {self.team or self.agent} ({self.day})"


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    CLAIMED = "claimed", _("With an agent")
    RETRY = "retry", _("Retry scheduled")
    CALLBACK = "callback", _("Callback scheduled")
    DONE = "done", _("Done")
    EXCLUDED = "excluded", _("Excluded")


# Statuses from which a lead may be claimed once its next_attempt_at has come.
CLAIMABLE_LEAD_STATUSES = (LeadStatus.NEW, LeadStatus.RETRY, LeadStatus.CALLBACK)


class LeadDoneReason(models.TextChoices):
    SUCCESS = "success", _("Sale")
    REFUSED = "refused", _("Contacted, no sale")
    MAX_ATTEMPTS = "max_attempts", _("Attempts used up")
    DO_NOT_CALL = "do_not_call", _("Asked not to be called")
    NO_VALID_NUMBER = "no_valid_number", _("No valid number")
    BLOCKED = "blocked", _("Blocked (do-not-call / blacklist)")
    RESERVED = "reserved", _("VIP / account manager customer")


class LeadPhase(models.TextChoices):
    """Which part of a campaign's list a lead belongs to (seed 004 第三步: pilot, roll-out)."""

    MAIN = "main", _("Main list")
    PILOT = "pilot", _("Pilot sample")
    WAITING = "waiting", _("Waiting for the roll-out")


class CampaignLead(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="leads")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="leads")
    status = models.CharField(
        _("status"), max_length=12, choices=LeadStatus.choices, default=LeadStatus.NEW
    )
    done_reason = models.CharField(
        _("why done"), max_length=20, choices=LeadDoneReason.choices, blank=True
    )
    priority = models.SmallIntegerField(_("priority"), default=0)
    # While the campaign is in its pilot only PILOT leads are dialed; WAITING leads are
    # dialed once the campaign is rolled out (they become MAIN).
    phase = models.CharField(
        _("phase"), max_length=8, choices=LeadPhase.choices, default=LeadPhase.MAIN
    )
    list_load = models.ForeignKey(
        "ListLoad", on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    assigned_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned agent"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_leads",
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The dialer process (its lease owner) holding the lead, while it dials without an agent.
    claimed_by_dialer = models.CharField(_("claimed by dialer"), max_length=64, blank=True)
    last_outcome = models.CharField(_("last outcome"), max_length=20, blank=True)
    last_disposition = models.ForeignKey(
        Disposition, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_call_at = models.DateTimeField(_("last call"), null=True, blank=True)
    created_at = models.DateTimeField(_("loaded"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        constraints = [models.UniqueConstraint(fields=["campaign", "customer"], name="lead_unique")]
        indexes = [
            # lead_claim_next(): a campaign's claimable leads by priority and due time.
            models.Index(fields=["campaign", "status", "next_attempt_at"], name="lead_claim_order"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} in {self.campaign}"


class CallbackScope(models.TextChoices):
    OWN = "own", _("My own callback")
    TEAM = "team", _("Team callback")


class CallbackStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Callback(models.Model):
    lead = models.ForeignKey(CampaignLead, on_delete=models.CASCADE, related_name="callbacks")
    due_at = models.DateTimeField(_("call back at"))
    scope = models.CharField(_("for"), max_length=10, choices=CallbackScope.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="callbacks",
    )
    phone = models.ForeignKey(PhoneNumber, on_delete=models.SET_NULL, null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CallbackStatus.choices, default=CallbackStatus.PENDING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
        indexes = [
            # The agent's due callbacks on the desk.
            models.Index(fields=["owner", "status", "due_at"], name="callback_owner_due"),
        ]

    def __str__(self) -> str:
        return f"{self.lead} @ {self.due_at}"


class ListSource(models.TextChoices):
    SEGMENT = "segment", _("Segment")
    FILE = "file", _("File import")
    DAILY = "daily", _("Daily list")


class ListLoad(models.Model):
    """One load of customers into a campaign's list, with what was left out and why."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="list_loads")
    source = models.CharField(_("source"), max_length=10, choices=ListSource.choices)
    segment = models.ForeignKey(
        "customers.Segment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    import_job = models.ForeignKey(
        "customers.ImportJob", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The choices the load was made with, e.g. {"contacted_within_days": 30}.
    options = models.JSONField(_("options"), default=dict, blank=True)
    candidates = models.PositiveIntegerField(_("candidates"), default=0)
    loaded = models.PositiveIntegerField(_("loaded"), default=0)
    # {reason: count} of the candidates left out.
    excluded = models.JSONField(_("left out"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("loaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("list load")
        verbose_name_plural = _("list loads")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.campaign}: {self.loaded}"


class Pilot(models.Model):
    """The random sample of a campaign's list dialed first (seed 004 第三步 4)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="pilots")
    seed = models.BigIntegerField(_("random seed"))
    size = models.PositiveIntegerField(_("sample size"))
    drawn = models.PositiveIntegerField(_("drawn"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("drawn at"), default=timezone.now)
    rolled_out_at = models.DateTimeField(_("rolled out"), null=True, blank=True)

    class Meta:
        verbose_name = _("pilot")
        verbose_name_plural = _("pilots")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.campaign}: {self.drawn}"


class DailyAssignRule(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin over the assigned agents")
    BY_TEAM = "by_team", _("By team, then round robin within each team")


class DailyListRule(models.Model):
    """How a daily-marketing campaign builds its list each morning (seed 004 纪念日营销)."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="daily_rule")
    birthdays = models.BooleanField(_("birthdays"), default=True)
    anniversaries = models.BooleanField(_("anniversaries (customer since)"), default=False)
    segment = models.ForeignKey(
        "customers.Segment",
        verbose_name=_("only customers in segment"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    assign_rule = models.CharField(
        _("assign by"),
        max_length=12,
        choices=DailyAssignRule.choices,
        default=DailyAssignRule.ROUND_ROBIN,
    )
    build_at = models.TimeField(_("build at"), default=datetime.time(7, 0))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("daily list rule")
        verbose_name_plural = _("daily list rules")

    def __str__(self) -> str:
        return str(self.campaign)


class DailyListRun(models.Model):
    """The list built for one campaign on one day; at most one per day."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="daily_runs")
    day = models.DateField(_("day"))
    list_load = models.ForeignKey(
        ListLoad, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    birthdays = models.PositiveIntegerField(_("birthdays"), default=0)
    anniversaries = models.PositiveIntegerField(_("anniversaries"), default=0)
    # {agent username: leads assigned}
    assigned = models.JSONField(_("assigned"), default=dict, blank=True)
    built_at = models.DateTimeField(_("built"), default=timezone.now)

    class Meta:
        verbose_name = _("daily list")
        verbose_name_plural = _("daily lists")
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["campaign", "day"], name="daily_run_unique")]

    def __str__(self) -> str:
        return f"{self.campaign} {self.day}"
