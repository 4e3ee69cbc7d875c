"""``manage.py build_daily_lists [--day YYYY-MM-DD] [--campaign ID]``: build daily lists now."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from calldeck.campaigns.daily import daily_list_build
from calldeck.campaigns.models import Campaign, CampaignKind, CampaignStatus, DailyListRun


def _day(raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise CommandError(f"--day: {raw!r} is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = (
        "Build the birthday and anniversary lists of daily-marketing campaigns for a day "
        "(default today), whatever their build time: one campaign (--campaign), or every "
        "active daily campaign with a rule. A day already built is left as it is."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--day", type=_day, help="The day, YYYY-MM-DD (default today).")
        parser.add_argument("--campaign", type=int, help="Only this campaign (its id).")

    def handle(self, *args: Any, **options: Any) -> None:
        day: dt.date = options["day"] or timezone.localdate()
        if isinstance(day, str):  # call_command passes the value as given
            day = _day(day)
        campaign_id: int | None = options["campaign"]
        if campaign_id is not None:
            campaign = Campaign.objects.filter(pk=campaign_id).first()
            if campaign is None:
                raise CommandError(f"No campaign with id {campaign_id}.")
            campaigns = [campaign]
        else:
            campaigns = list(
                Campaign.objects.filter(
                    kind=CampaignKind.DAILY,
                    status=CampaignStatus.ACTIVE,
                    daily_rule__isnull=False,
                ).order_by("pk")
            )
        failed = 0
        for campaign in campaigns:
            existed = DailyListRun.objects.filter(campaign=campaign, day=day).exists()
            try:
                run = daily_list_build(campaign=campaign, day=day)
            except ValidationError as exc:
                failed += 1
                self.stderr.write(f"{campaign} ({campaign.pk}): {' '.join(exc.messages)}")
                continue
            if existed:
                self.stdout.write(f"{campaign} ({campaign.pk}) {day}: already built.")
                continue
            load = run.list_load
            loaded = load.loaded if load else 0
            assigned = ", ".join(f"{name} {n}" for name, n in sorted(run.assigned.items()))
            self.stdout.write(
                self.style.SUCCESS(
                    f"{campaign} ({campaign.pk}) {day}: {run.birthdays} birthday(s), "
                    f"{run.anniversaries} anniversary(ies), {loaded} loaded"
                    + (f"; assigned {assigned}" if assigned else "")
                    + "."
                )
            )
        if failed:
            raise CommandError(f"{failed} campaign(s) could not be built.")
