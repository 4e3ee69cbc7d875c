"""Builders for the dial-time tests: times in the centre's zone, campaigns, calls, leads."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from calldeck.accounts.models import Client
from calldeck.calls.models import Call, Direction
from calldeck.campaigns.models import CallingWindow, Campaign, CampaignLead
from calldeck.customers.models import Customer
from tests import factories as f

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A moment in the centre's local time (Asia/Shanghai, as the tests run)."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def weekday_campaign(client: Client, **kw: Any) -> Campaign:
    """Calls Monday 09:00–18:00 and Tuesday to Friday 09:00–20:00; never at the weekend."""
    campaign = f.make_campaign(client, always_open=False, **kw)
    CallingWindow.objects.create(campaign=campaign, weekday=0, start=dt.time(9), end=dt.time(18))
    for weekday in range(1, 5):
        CallingWindow.objects.create(
            campaign=campaign, weekday=weekday, start=dt.time(9), end=dt.time(20)
        )
    return campaign


def due_lead(
    campaign: Campaign, now: dt.datetime, customer: Customer | None = None, **kw: Any
) -> CampaignLead:
    """A lead due a minute before ``now``."""
    kw.setdefault("next_attempt_at", now - dt.timedelta(minutes=1))
    return f.make_lead(campaign, customer, **kw)


def past_call(
    customer: Customer,
    campaign: Campaign,
    dialed_at: dt.datetime,
    *,
    outcome: str = "no_answer",
    direction: str = Direction.OUTBOUND,
    seconds: int = 30,
) -> Call:
    """A finished call to ``customer``."""
    return Call.objects.create(
        client=customer.client,
        campaign=campaign,
        customer=customer,
        direction=direction,
        number=customer.phones.first().e164,  # type: ignore[union-attr]
        dialed_at=dialed_at,
        ended_at=dialed_at + dt.timedelta(seconds=seconds),
        wrapup_saved_at=dialed_at + dt.timedelta(seconds=seconds),
        outcome=outcome,
    )
