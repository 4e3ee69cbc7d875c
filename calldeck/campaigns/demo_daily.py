"""The demo's daily-marketing campaign: birthday calls, their list built each morning."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from calldeck.accounts.models import Client, User
from calldeck.callscripts.models import Script, ScriptVersion
from calldeck.campaigns.daily import daily_list_build
from calldeck.campaigns.defaults import (
    disposition_set_create_standard,
    retry_rules_create_standard,
)
from calldeck.campaigns.models import (
    CallingWindow,
    Campaign,
    CampaignKind,
    CampaignStatus,
    DailyAssignRule,
    DailyListRule,
    DialMode,
    Offer,
)

DAILY_CAMPAIGN_NAME = "生日关怀（日常营销）"
DAILY_SCRIPT = (
    "{{ customer.name }}您好，我是示例银行的{{ agent.name }}。今天是您的生日，"
    "祝您生日快乐！为感谢您的支持，本月您在我行办理{{ offer.name }}可享专属礼遇……"
)


def daily_campaign_demo_create(
    *, client: Client, manager: User, supervisor: User, today: dt.date
) -> Campaign:
    offer = Offer.objects.create(
        client=client,
        code="birthday-gift",
        name="生日月专属礼遇",
        description="生日当月办理指定业务，赠送积分与礼品。",
        price=Decimal("0.00"),
    )
    script = Script.objects.create(client=client, name="生日关怀话术")
    ScriptVersion.objects.create(script=script, number=1, body=DAILY_SCRIPT, created_by=manager)
    campaign = Campaign.objects.create(
        client=client,
        name=DAILY_CAMPAIGN_NAME,
        description="每天早上自动生成当天生日和开户纪念日的客户名单，按轮流方式分给一组坐席。",
        kind=CampaignKind.DAILY,
        dial_mode=DialMode.PREVIEW,
        status=CampaignStatus.ACTIVE,
        offer=offer,
        script=script,
        disposition_set=disposition_set_create_standard(client=client),
        preview_fields=["gender", "city", "value_tier", "birthday"],
        starts_on=today - dt.timedelta(days=1),
        ends_on=today + dt.timedelta(days=365),
        max_attempts=2,
        created_by=manager,
    )
    retry_rules_create_standard(campaign=campaign)
    for weekday in range(7):
        CallingWindow.objects.create(
            campaign=campaign, weekday=weekday, start=dt.time(9, 0), end=dt.time(20, 0)
        )
    DailyListRule.objects.create(
        campaign=campaign,
        birthdays=True,
        anniversaries=True,
        assign_rule=DailyAssignRule.ROUND_ROBIN,
        build_at=dt.time(7, 0),
        updated_by=supervisor,
    )
    return campaign


def daily_campaign_demo_build(*, today: dt.date) -> None:
    """Build today's list now (the worker does it each morning after the demo starts)."""
    campaign = Campaign.objects.filter(name=DAILY_CAMPAIGN_NAME, kind=CampaignKind.DAILY).first()
    if campaign is not None:
        daily_list_build(campaign=campaign, day=today)
