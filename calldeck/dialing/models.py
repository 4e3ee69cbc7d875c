"""The dialer leases: which dialer process works which auto-dialed campaign right now.

One row per campaign that a dialer process has ever held. ``owner`` is the process's
name, ``expires_at`` the end of its lease; the owner renews it every few seconds with a
conditional UPDATE, and another process may take it only once it has lapsed (see
``dialing.dialer_process``). ``idle_reason`` / ``idle_message`` are the engine's last
word on why nothing could be dialed, for the campaign page.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calldeck.campaigns.models import Campaign


class DialerLease(models.Model):
    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="dialer_lease")
    owner = models.CharField(_("dialer process"), max_length=64, blank=True)
    expires_at = models.DateTimeField(_("lease expires"), default=timezone.now)
    renewed_at = models.DateTimeField(_("lease renewed"), null=True, blank=True)
    idle_reason = models.CharField(_("idle reason"), max_length=40, blank=True)
    idle_message = models.CharField(_("idle message"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("dialer lease")
        verbose_name_plural = _("dialer leases")

    def __str__(self) -> str:
        return f"{self.campaign_id} → {self.owner or '-'} until {self.expires_at}"
