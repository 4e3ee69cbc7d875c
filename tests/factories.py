"""Builders for exactly the rows a test needs. Each takes keyword overrides."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from django.utils import timezone

from calldeck.accounts.models import Client, Role, Team, TeamMembership, User
from calldeck.callscripts.models import Script, ScriptVersion
from calldeck.campaigns.defaults import (
    disposition_set_create_standard,
    retry_rules_create_standard,
)
from calldeck.campaigns.models import (
    CallingWindow,
    Campaign,
    CampaignAssignment,
    CampaignLead,
    CampaignStatus,
    DialMode,
    Offer,
)
from calldeck.customers.models import Customer, PhoneKind, PhoneNumber
from dialer.telephony.sim import SimWorld

_seq = itertools.count(1)
PASSWORD = "Calldeck-test-1"


def make_client(**kw: Any) -> Client:
    n = next(_seq)
    kw.setdefault("code", f"client{n}")
    kw.setdefault("name", f"客户方{n}")
    return Client.objects.create(**kw)


def make_user(role: Role = Role.AGENT, *, clients: list[Client] | None = None, **kw: Any) -> User:
    n = next(_seq)
    kw.setdefault("username", f"{role}{n}")
    kw.setdefault("display_name", f"{role}{n}")
    user = User.objects.create_user(password=PASSWORD, role=role, **kw)
    if clients:
        user.clients.set(clients)
    return user


def make_team(*, members: list[User] = (), supervisor: User | None = None, **kw: Any) -> Team:  # type: ignore[assignment]
    kw.setdefault("name", f"团队{next(_seq)}")
    team = Team.objects.create(supervisor=supervisor, **kw)
    for member in members:
        TeamMembership.objects.create(
            team=team, user=member, valid_from=timezone.localdate() - dt.timedelta(days=30)
        )
    return team


def make_customer(client: Client, *, phones: list[str] | None = None, **kw: Any) -> Customer:
    n = next(_seq)
    kw.setdefault("customer_key", f"C{n:06d}")
    kw.setdefault("name", f"张{n}")
    customer = Customer.objects.create(client=client, **kw)
    for i, e164 in enumerate(phones if phones is not None else [f"+86138{n:08d}"]):
        PhoneNumber.objects.create(customer=customer, e164=e164, kind=PhoneKind.MOBILE, position=i)
    return customer


def make_campaign(
    client: Client,
    *,
    status: CampaignStatus = CampaignStatus.ACTIVE,
    always_open: bool = True,
    script_text: str | None = None,
    **kw: Any,
) -> Campaign:
    kw.setdefault("name", f"活动{next(_seq)}")
    kw.setdefault("dial_mode", DialMode.PREVIEW)
    if "offer" not in kw:
        kw["offer"] = Offer.objects.create(
            client=client,
            code=f"O{next(_seq)}",
            name="信用卡分期",
            price=Decimal("3000.00"),
            margin_rate=Decimal("0.0600"),
        )
    if "disposition_set" not in kw:
        kw["disposition_set"] = disposition_set_create_standard(client=client)
    if script_text is not None:
        script = Script.objects.create(client=client, name="话术")
        ScriptVersion.objects.create(script=script, number=1, body=script_text)
        kw["script"] = script
    campaign = Campaign.objects.create(client=client, status=status, **kw)
    retry_rules_create_standard(campaign=campaign)
    if always_open:
        for weekday in range(7):
            CallingWindow.objects.create(
                campaign=campaign, weekday=weekday, start=dt.time(0, 0), end=dt.time(23, 59, 59)
            )
    return campaign


def assign(
    campaign: Campaign,
    *,
    team: Team | None = None,
    agent: User | None = None,
    priority: int = 1,
    day: dt.date | None = None,
) -> CampaignAssignment:
    return CampaignAssignment.objects.create(
        campaign=campaign,
        team=team,
        agent=agent,
        priority=priority,
        day=day or timezone.localdate(),
    )


def make_lead(campaign: Campaign, customer: Customer | None = None, **kw: Any) -> CampaignLead:
    customer = customer or make_customer(campaign.client)
    kw.setdefault("next_attempt_at", timezone.now() - dt.timedelta(minutes=1))
    return CampaignLead.objects.create(campaign=campaign, customer=customer, **kw)


def sim_world(**params: float) -> SimWorld:
    """A simulated world where only the outcomes given happen (all others at rate 0).

    Customers pick up after 2–3 s, so a test advances the clock a few seconds to answer.
    """
    base: dict[str, float] = {
        "answer_rate": 0.0,
        "machine_rate": 0.0,
        "busy_rate": 0.0,
        "invalid_rate": 0.0,
        "ring_min_s": 2,
        "ring_max_s": 3,
    }
    base.update(params)
    return SimWorld(seed=1, **base)
