"""What the campaign page shows of dialing (status, holiday gaps), the abandon-rate window
setting, and the daily contact limit setting."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from calldeck.accounts.models import User
from calldeck.campaigns.models import AbandonWindow, Campaign, Holiday, HolidayKind
from tests import factories as f
from tests.campaigns.builders import campaign_edit_post
from tests.conftest import Centre
from tests.test_settings import import_settings

pytestmark = pytest.mark.django_db


def page(user: User, campaign: Campaign) -> str:
    client = HttpClient()
    client.force_login(user)
    response = client.get(reverse("calldeck-campaign-detail", kwargs={"pk": campaign.pk}))
    assert response.status_code == 200
    return response.content.decode()


def test_supervisors_see_why_the_campaign_is_or_is_not_dialed(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    f.make_lead(campaign)
    assert "1 customer can be called now." in page(centre.carol, campaign)
    empty = f.make_campaign(centre.bank)
    html = page(centre.dave, empty)
    assert "Dialing now" in html and "The campaign has no customers to call" in html
    # A data admin reads the campaign but does not run the floor.
    assert "Dialing now" not in page(centre.erin, campaign)


def test_the_page_warns_when_a_year_has_no_holiday_data(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    year = timezone.localdate().year
    html = page(centre.carol, campaign)
    assert f"The holiday table has no days for {year}" in html
    assert f"load_holidays --year {year + 1}" in html
    for y in (year, year + 1):
        Holiday.objects.create(day=dt.date(y, 1, 1), kind=HolidayKind.HOLIDAY, name="元旦")
    assert "The holiday table has no days" not in page(centre.carol, campaign)


def test_the_abandon_rate_window_is_set_on_the_campaign_form(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    assert campaign.abandon_window == AbandonWindow.DAYS_30
    client = HttpClient()
    client.force_login(centre.dave)
    url = reverse("calldeck-campaign-edit", kwargs={"pk": campaign.pk})
    assert "abandon-rate window" in client.get(url).content.decode().lower()

    response = client.post(url, campaign_edit_post(campaign, abandon_window="24h"))

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.abandon_window == AbandonWindow.HOURS_24
    assert "Rolling 24 hours" in page(centre.dave, campaign)


def test_the_daily_contact_limit_is_read_from_the_environment() -> None:
    assert import_settings(CALLDECK_DAILY_CONTACT_LIMIT="5").returncode == 0
    for bad in ("many", "0"):
        result = import_settings(CALLDECK_DAILY_CONTACT_LIMIT=bad)
        assert result.returncode != 0
        assert "ImproperlyConfigured: CALLDECK_DAILY_CONTACT_LIMIT" in result.stderr


def test_supervisors_see_the_abandon_rate_against_the_cap(centre: Centre):
    from calldeck.calls.models import Call, CallOutcome, Direction
    from calldeck.campaigns.models import DialMode
    from calldeck.dialing.dialer_process import campaign_abandon_rate

    campaign = f.make_campaign(centre.bank, dial_mode=DialMode.PREDICTIVE)
    customer = f.make_customer(centre.bank)
    now = timezone.now()
    assert "no live answers in the window yet" in page(centre.carol, campaign)

    def call(outcome: str, answered: dt.datetime | None) -> None:
        Call.objects.create(
            client=centre.bank,
            campaign=campaign,
            customer=customer,
            direction=Direction.OUTBOUND,
            number="+8613800000000",
            dialed_at=now,
            answered_at=answered,
            outcome=outcome,
        )

    for _ in range(30):
        call(CallOutcome.ANSWERED, now - dt.timedelta(hours=1))
    call(CallOutcome.ABANDONED, now - dt.timedelta(hours=1))
    call(CallOutcome.NO_ANSWER, None)  # not a live answer
    call(CallOutcome.ABANDONED, now - dt.timedelta(days=31))  # outside the 30-day window
    rate = campaign_abandon_rate(campaign, now)
    assert (rate.answers, rate.abandons) == (31, 1)
    assert rate.rate_pct is not None and round(rate.rate_pct, 2) == 3.23 and rate.over_cap
    html = page(centre.carol, campaign)
    assert "3.23 % (1 of 31 live answers); cap 3.0 %" in html
