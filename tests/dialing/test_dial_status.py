"""Why nothing can be dialed: one reason per case, for agents, the dialer and supervisors."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from calldeck.campaigns.models import CampaignStatus, LeadStatus
from calldeck.dialing import leads
from calldeck.dialing.leads import DialCode, NoLead
from tests import factories as f
from tests.conftest import Centre
from tests.dialing.builders import at, due_lead, weekday_campaign

pytestmark = pytest.mark.django_db


def no_lead_for_alice(centre: Centre, now: dt.datetime) -> NoLead:
    result = leads.lead_claim_next(agent=centre.alice, now=now)
    assert isinstance(result, NoLead), result
    return result


def test_it_says_when_the_agent_has_no_campaign_today(centre: Centre):
    result = no_lead_for_alice(centre, timezone.now())
    assert result.code == leads.NO_ASSIGNMENT and "no campaign assigned" in result.reason


def test_it_says_the_campaign_is_not_running(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.PAUSED)
    f.assign(campaign, agent=centre.alice)
    f.make_lead(campaign)
    assert no_lead_for_alice(centre, timezone.now()).code == DialCode.NOT_RUNNING
    status = leads.campaign_dial_status(campaign)
    assert status.code == DialCode.NOT_RUNNING and "Paused" in status.message
    result = leads.lead_claim_for_dialer(campaign=campaign, owner="d1", now=timezone.now())
    assert isinstance(result, NoLead) and result.code == DialCode.NOT_RUNNING


def test_it_says_it_is_outside_the_calling_hours_and_when_they_resume(centre: Centre):
    campaign = weekday_campaign(centre.bank)
    now = at(2026, 9, 18, 20, 30)  # Friday evening
    f.assign(campaign, agent=centre.alice, day=now.date())
    due_lead(campaign, now)

    result = no_lead_for_alice(centre, now)

    assert result.code == DialCode.OUTSIDE_WINDOW
    assert "Outside the calling hours" in result.reason
    assert "resumes at 2026-09-21 09:00" in result.reason  # Monday
    assert result.next_due == at(2026, 9, 21, 9)


def test_it_says_today_is_a_holiday(centre: Centre, holidays_2026: None):
    campaign = weekday_campaign(centre.bank)
    now = at(2026, 10, 1, 10)
    f.assign(campaign, agent=centre.alice, day=now.date())
    due_lead(campaign, now)

    result = no_lead_for_alice(centre, now)

    assert result.code == DialCode.HOLIDAY
    assert "public holiday (国庆节)" in result.reason
    assert "resumes at 2026-10-08 09:00" in result.reason


def test_it_says_the_campaign_has_no_leads(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    f.assign(campaign, agent=centre.alice)
    assert no_lead_for_alice(centre, timezone.now()).code == DialCode.NO_LEADS


def test_it_says_all_leads_are_done(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    f.assign(campaign, agent=centre.alice)
    f.make_lead(campaign, status=LeadStatus.DONE, done_reason="success")
    result = no_lead_for_alice(centre, timezone.now())
    assert result.code == DialCode.ALL_DONE and "done (1)" in result.reason


def test_it_says_all_remaining_customers_are_blocked(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    f.assign(campaign, agent=centre.alice)
    f.make_lead(campaign, status=LeadStatus.DONE, done_reason="success")
    # A VIP customer, excluded at the claim itself.
    f.make_lead(campaign, f.make_customer(centre.bank, vip_level="gold"))
    result = no_lead_for_alice(centre, timezone.now())
    assert result.code == DialCode.ALL_BLOCKED
    assert "all 1 remaining customers are blocked" in result.reason


def test_it_says_when_the_next_retry_is_due(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    now = at(2026, 9, 22, 10)
    f.assign(campaign, agent=centre.alice, day=now.date())
    for status, hour in ((LeadStatus.RETRY, 14), (LeadStatus.CALLBACK, 16)):
        f.make_lead(campaign, status=status, attempts=1, next_attempt_at=at(2026, 9, 22, hour))

    result = no_lead_for_alice(centre, now)

    assert result.code == DialCode.WAITING_RETRY
    assert "the next is due at 14:00" in result.reason
    assert result.next_due == at(2026, 9, 22, 14)


def test_it_says_the_last_customers_are_in_calls(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    f.make_lead(campaign, status=LeadStatus.CLAIMED, claimed_by_dialer="d2")
    status = leads.campaign_dial_status(campaign)
    assert status.code == DialCode.WAITING_RETRY and status.next_due is None


def test_it_names_each_campaign_when_the_agent_has_several(centre: Centre):
    closed = weekday_campaign(centre.bank, name="分期")
    empty = f.make_campaign(centre.bank, name="贷款")
    now = at(2026, 9, 19, 10)  # Saturday: the weekday campaign is closed
    f.assign(closed, agent=centre.alice, day=now.date(), priority=1)
    f.assign(empty, agent=centre.alice, day=now.date(), priority=2)
    due_lead(closed, now)

    result = no_lead_for_alice(centre, now)

    assert result.code == DialCode.OUTSIDE_WINDOW
    assert result.reason.startswith("分期: Outside the calling hours")
    assert "贷款: The campaign has no customers" in result.reason


def test_it_tells_the_supervisor_how_many_can_be_called(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    now = timezone.now()
    due_lead(campaign, now)
    due_lead(campaign, now)
    f.make_lead(campaign, next_attempt_at=now + dt.timedelta(hours=1))
    f.make_lead(campaign, status=LeadStatus.DONE)

    status = leads.campaign_dial_status(campaign, now)

    assert status.ok and status.due_now == 2
    assert status.message == "2 customers can be called now."
    assert status.counts[LeadStatus.NEW] == 3 and status.counts[LeadStatus.DONE] == 1


def test_a_long_list_of_reasons_fits_the_agents_notice(centre: Centre):
    now = at(2026, 9, 19, 10)  # Saturday
    for n in range(6):
        campaign = weekday_campaign(centre.bank, name=f"周末不呼叫的活动{n}")
        f.assign(campaign, agent=centre.alice, day=now.date(), priority=n + 1)
    result = no_lead_for_alice(centre, now)
    assert len(result.reason) <= 300 and result.reason.endswith("…")
