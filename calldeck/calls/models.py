"""Calls, sales, and the agent state log from which every time KPI is computed.

A ``Call`` carries one timestamp per stage (dialed, ringing, answered, agent connected,
ended, wrap-up saved) so talk time and after-call work are derived from facts, not typed
in. ``AgentPresence`` is the agent's state now (one row per agent, locked while it
changes); ``AgentStateLog`` is the closed history of those states.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calldeck.accounts.models import Client
from calldeck.callscripts.models import ScriptVersion
from calldeck.campaigns.models import Campaign, CampaignLead, Disposition, Offer
from calldeck.customers.models import Customer, PhoneNumber


class Direction(models.TextChoices):
    OUTBOUND = "out", _("Outbound")
    INBOUND = "in", _("Inbound")


class CallOutcome(models.TextChoices):
    ANSWERED = "answered", _("Answered")
    NO_ANSWER = "no_answer", _("No answer")
    BUSY = "busy", _("Busy")
    INVALID = "invalid", _("Invalid number")
    MACHINE = "machine", _("Answering machine")
    ABANDONED = "abandoned", _("Abandoned")
    FAILED = "failed", _("Failed")


class HangupBy(models.TextChoices):
    AGENT = "agent", _("Agent")
    CUSTOMER = "customer", _("Customer")
    SYSTEM = "system", _("System")


class Call(models.Model):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="calls")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="calls"
    )
    lead = models.ForeignKey(
        CampaignLead, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    phone = models.ForeignKey(PhoneNumber, on_delete=models.SET_NULL, null=True, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
    )
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    number = models.CharField(_("number"), max_length=20)
    dialed_at = models.DateTimeField(_("dialed"), default=timezone.now)
    ringing_at = models.DateTimeField(_("ringing"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    agent_connected_at = models.DateTimeField(_("agent connected"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    wrapup_saved_at = models.DateTimeField(_("wrap-up saved"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=CallOutcome.choices, blank=True)
    hangup_by = models.CharField(
        _("hung up by"), max_length=10, choices=HangupBy.choices, blank=True
    )
    sip_code = models.PositiveSmallIntegerField(_("SIP code"), null=True, blank=True)
    telephony_ref = models.CharField(max_length=100, blank=True)
    talk_seconds = models.PositiveIntegerField(_("talk seconds"), default=0)
    wrapup_seconds = models.PositiveIntegerField(_("wrap-up seconds"), default=0)
    disposition = models.ForeignKey(
        Disposition, on_delete=models.PROTECT, null=True, blank=True, related_name="calls"
    )
    notes = models.TextField(_("notes"), blank=True)
    script_version = models.ForeignKey(
        ScriptVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        indexes = [
            # KPI module: a period's calls of a campaign.
            models.Index(fields=["campaign", "dialed_at"], name="call_campaign_dialed"),
            # KPI module and agent's own page: a period's calls of an agent.
            models.Index(fields=["agent", "dialed_at"], name="call_agent_dialed"),
            # Desk: the agent's call still waiting for a wrap-up.
            models.Index(
                fields=["agent"],
                condition=Q(wrapup_saved_at__isnull=True, answered_at__isnull=False),
                name="call_pending_wrapup",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.pk} {self.outcome}"


class SaleStatus(models.TextChoices):
    PHONE_DEAL = "phone_deal", _("Phone deal")
    FINAL = "final", _("Final deal")
    CANCELLED = "cancelled", _("Cancelled")
    PAYMENT_FAILED = "payment_failed", _("Payment failed")


class Sale(models.Model):
    """A sale committed on a call (phone deal), later confirmed, cancelled or failed."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="sales")
    call = models.OneToOneField(Call, on_delete=models.PROTECT, related_name="sale")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="sales"
    )
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, related_name="+")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sales"
    )
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, null=True, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2, default=Decimal(0))
    status = models.CharField(
        _("status"), max_length=16, choices=SaleStatus.choices, default=SaleStatus.PHONE_DEAL
    )
    activated = models.BooleanField(_("activated"), default=False)
    created_at = models.DateTimeField(_("sold"), default=timezone.now)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)

    class Meta:
        verbose_name = _("sale")
        verbose_name_plural = _("sales")
        indexes = [
            # KPI module: a period's sales of a campaign.
            models.Index(fields=["campaign", "created_at"], name="sale_campaign_created"),
        ]

    def __str__(self) -> str:
        return f"{self.offer} {self.amount} ({self.get_status_display()})"


class AgentState(models.TextChoices):
    LOGGED_OUT = "logged_out", _("Logged out")
    READY = "ready", _("Ready")
    PREVIEW = "preview", _("Previewing")
    DIALING = "dialing", _("Dialing")
    TALKING = "talking", _("Talking")
    WRAPUP = "wrapup", _("Wrap-up")
    PAUSED = "paused", _("Paused")


class PauseCode(models.TextChoices):
    BREAK = "break", _("Break")
    TRAINING = "training", _("Training")
    MEETING = "meeting", _("Meeting")
    COACHING = "coaching", _("Coaching")


class AgentPresence(models.Model):
    """The agent's state now. Changed only by ``calls.presence`` under a row lock."""

    agent = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="presence"
    )
    state = models.CharField(
        max_length=12, choices=AgentState.choices, default=AgentState.LOGGED_OUT
    )
    since = models.DateTimeField(default=timezone.now)
    pause_code = models.CharField(max_length=12, choices=PauseCode.choices, blank=True)
    lead = models.ForeignKey(
        CampaignLead, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    call = models.ForeignKey(
        Call, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    notice = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("agent presence")
        verbose_name_plural = _("agent presences")

    def __str__(self) -> str:
        return f"{self.agent}: {self.state}"


class AgentStateLog(models.Model):
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="state_log"
    )
    state = models.CharField(max_length=12, choices=AgentState.choices)
    pause_code = models.CharField(max_length=12, choices=PauseCode.choices, blank=True)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()

    class Meta:
        verbose_name = _("agent state log entry")
        verbose_name_plural = _("agent state log")
        indexes = [
            # KPI module: an agent's states overlapping a period.
            models.Index(fields=["agent", "started_at"], name="statelog_agent_started"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__gte=models.F("started_at")), name="statelog_ordered"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agent} {self.state} {self.started_at}–{self.ended_at}"

    @property
    def seconds(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()
