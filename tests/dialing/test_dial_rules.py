"""The dial-time rules applied to claims: holidays, the customer's time zone, the holds
over all campaigns, and blocks on callbacks and retries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from calldeck.calls.models import Direction
from calldeck.campaigns.models import (
    Callback,
    CallbackScope,
    CampaignLead,
    LeadDoneReason,
    LeadStatus,
)
from calldeck.customers.models import BlockKind, ContactBlock, Customer
from calldeck.desk import services as desk
from calldeck.dialing import leads
from calldeck.dialing.leads import DialCode, NoLead
from tests import factories as f
from tests.conftest import Centre
from tests.dialing.builders import SHANGHAI, at, due_lead, past_call, weekday_campaign

pytestmark = pytest.mark.django_db

URUMQI = "Asia/Urumqi"  # two hours behind the centre
NEW_YORK = "America/New_York"


# --- calling windows with holidays ----------------------------------------------------


def test_a_statutory_holiday_closes_the_campaign(centre: Centre, holidays_2026: None):
    campaign = weekday_campaign(centre.bank)
    assert leads.campaign_is_open(campaign, at(2026, 9, 30, 10))  # a Wednesday
    assert not leads.campaign_is_open(campaign, at(2026, 10, 1, 10))  # National Day, Thursday
    assert not leads.campaign_is_open(campaign, at(2026, 10, 7, 10))


def test_a_make_up_workday_follows_mondays_windows(centre: Centre, holidays_2026: None):
    campaign = weekday_campaign(centre.bank)
    # 20 September 2026 is a Sunday worked in lieu of the National Day week.
    assert leads.campaign_is_open(campaign, at(2026, 9, 20, 10))
    assert not leads.campaign_is_open(campaign, at(2026, 9, 20, 19))  # Monday ends at 18:00
    assert leads.campaign_is_open(campaign, at(2026, 9, 18, 19))  # an ordinary Friday
    assert not leads.campaign_is_open(campaign, at(2026, 9, 13, 10))  # an ordinary Sunday


def test_without_holiday_data_a_holiday_is_an_ordinary_weekday(centre: Centre):
    campaign = weekday_campaign(centre.bank)
    assert leads.campaign_is_open(campaign, at(2026, 10, 1, 10))


def test_the_window_is_the_customers_local_time(centre: Centre):
    campaign = weekday_campaign(centre.bank)
    morning = at(2026, 9, 22, 9, 30)  # Tuesday 09:30 here, 07:30 in Ürümqi
    assert leads.campaign_is_open(campaign, morning)
    assert not leads.campaign_is_open(campaign, morning, URUMQI)
    assert leads.campaign_is_open(campaign, morning + dt.timedelta(hours=2), URUMQI)
    # 21:00 on Monday in New York.
    assert not leads.campaign_is_open(campaign, morning, NEW_YORK)
    assert leads.campaign_is_open(campaign, morning, "")  # empty: the centre's zone


def test_a_holiday_is_taken_on_the_customers_local_date(centre: Centre, holidays_2026: None):
    campaign = weekday_campaign(centre.bank)
    # 09:30 on 1 October in New York (21:30 here) is National Day there too: closed.
    # A day earlier at that hour it is an ordinary Wednesday morning in New York, open
    # although the centre's own evening is past the hours.
    assert not leads.campaign_is_open(campaign, at(2026, 10, 1, 21, 30), NEW_YORK)
    assert leads.campaign_is_open(campaign, at(2026, 9, 30, 21, 30), NEW_YORK)


def test_a_customer_outside_their_hours_is_passed_over_untouched(centre: Centre):
    campaign = weekday_campaign(centre.bank)
    now = at(2026, 9, 22, 9, 30)
    far = due_lead(campaign, now, f.make_customer(centre.bank, timezone=URUMQI), priority=9)
    near = due_lead(campaign, now)

    assert leads.lead_claim_for_dialer(campaign=campaign, owner="d1", now=now) == near
    before = far.next_attempt_at
    far.refresh_from_db()
    assert (far.status, far.next_attempt_at) == (LeadStatus.NEW, before)
    # Two hours later it is 09:30 in Ürümqi.
    later = leads.lead_claim_for_dialer(
        campaign=campaign, owner="d1", now=now + dt.timedelta(hours=2)
    )
    assert later == far


def test_a_customer_inside_their_hours_is_called_after_the_centres_close(centre: Centre):
    campaign = weekday_campaign(centre.bank)
    now = at(2026, 9, 22, 21, 30)  # closed here, 19:30 in Ürümqi
    due_lead(campaign, now, priority=9)
    far = due_lead(campaign, now, f.make_customer(centre.bank, timezone=URUMQI))

    assert leads.campaign_dial_status(campaign, now).code == DialCode.OK
    assert leads.lead_claim_for_dialer(campaign=campaign, owner="d1", now=now) == far


def test_a_customer_time_zone_must_be_a_known_one(centre: Centre):
    customer = Customer(client=centre.bank, customer_key="X1", name="李雷", timezone="Mars/Base")
    with pytest.raises(ValidationError) as exc:
        customer.full_clean()
    assert "timezone" in exc.value.message_dict


# --- holds of a customer over all campaigns -------------------------------------------


def test_the_daily_contact_limit_counts_every_campaign_and_postpones(centre: Centre):
    card = weekday_campaign(centre.bank, name="分期")
    loan = weekday_campaign(centre.bank, name="贷款")
    now = at(2026, 9, 22, 15)
    customer = f.make_customer(centre.bank)
    for hour in (9, 11, 13):
        past_call(customer, card, at(2026, 9, 22, hour))
    past_call(customer, None, at(2026, 9, 22, 14), direction=Direction.INBOUND)  # type: ignore[arg-type]
    past_call(customer, card, at(2026, 9, 21, 16))  # yesterday
    lead = due_lead(loan, now, customer)

    result = leads.lead_claim_for_dialer(campaign=loan, owner="d1", now=now)

    assert isinstance(result, NoLead) and result.code == DialCode.WAITING_RETRY
    lead.refresh_from_db()
    # Postponed, not blocked: it comes back at the start of the next day.
    assert lead.status == LeadStatus.NEW
    assert lead.next_attempt_at == at(2026, 9, 23, 0, 0)
    tomorrow = leads.lead_claim_for_dialer(campaign=loan, owner="d1", now=at(2026, 9, 23, 9))
    assert tomorrow == lead


def test_the_daily_contact_limit_is_a_setting(centre: Centre, settings):  # type: ignore[no-untyped-def]
    settings.CALLDECK_DAILY_CONTACT_LIMIT = 4
    campaign = weekday_campaign(centre.bank)
    now = at(2026, 9, 22, 15)
    customer = f.make_customer(centre.bank)
    for hour in (9, 11, 13):
        past_call(customer, campaign, at(2026, 9, 22, hour))
    lead = due_lead(campaign, now, customer)
    assert leads.lead_claim_for_dialer(campaign=campaign, owner="d1", now=now) == lead


def test_an_abandoned_call_holds_the_customer_72_hours_then_lets_go(centre: Centre):
    predictive = weekday_campaign(centre.bank, name="预测")
    preview = weekday_campaign(centre.bank, name="预览")
    abandoned = at(2026, 9, 21, 10)  # Monday
    customer = f.make_customer(centre.bank)
    past_call(customer, predictive, abandoned, outcome="abandoned", seconds=3)
    now = at(2026, 9, 22, 10)
    lead = due_lead(preview, now, customer)
    f.assign(preview, agent=centre.alice, day=now.date())

    result = leads.lead_claim_next(agent=centre.alice, now=now)

    assert isinstance(result, NoLead)
    lead.refresh_from_db()
    until = abandoned + dt.timedelta(hours=72, seconds=3)
    assert (lead.status, lead.next_attempt_at) == (LeadStatus.NEW, until)
    assert "next is due at 2026-09-24 10:00" in result.reason
    f.assign(preview, agent=centre.alice, day=until.date())
    assert isinstance(
        leads.lead_claim_next(agent=centre.alice, now=until - dt.timedelta(seconds=1)), NoLead
    )
    assert leads.lead_claim_next(agent=centre.alice, now=until) == lead


def test_an_abandon_older_than_72_hours_holds_nothing(centre: Centre):
    campaign = weekday_campaign(centre.bank)
    customer = f.make_customer(centre.bank)
    past_call(customer, campaign, at(2026, 9, 18, 10), outcome="abandoned", seconds=0)
    now = at(2026, 9, 21, 10, 1)
    lead = due_lead(campaign, now, customer)
    assert leads.lead_claim_for_dialer(campaign=campaign, owner="d1", now=now) == lead


def test_a_held_customer_does_not_hide_the_next_one(centre: Centre):
    campaign = weekday_campaign(centre.bank)
    now = at(2026, 9, 22, 10)
    held = f.make_customer(centre.bank)
    past_call(held, campaign, now - dt.timedelta(hours=1), outcome="abandoned")
    due_lead(campaign, now, held, priority=9)
    fine = due_lead(campaign, now)
    assert leads.lead_claim_for_dialer(campaign=campaign, owner="d1", now=now) == fine


# --- blocks on callbacks and retries --------------------------------------------------


def _callback(campaign, customer, *, agent, due_at, scope=CallbackScope.OWN):  # type: ignore[no-untyped-def]
    lead = f.make_lead(
        campaign,
        customer,
        status=LeadStatus.CALLBACK,
        attempts=1,
        next_attempt_at=due_at,
        assigned_agent=agent if scope == CallbackScope.OWN else None,
    )
    Callback.objects.create(
        lead=lead,
        due_at=due_at,
        scope=scope,
        owner=agent if scope == CallbackScope.OWN else None,
        created_by=agent,
    )
    return lead


def test_a_callback_is_not_dialed_once_the_customer_asked_not_to_be_called(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    f.assign(campaign, agent=centre.alice)
    now = timezone.now()
    customer = f.make_customer(centre.bank)
    callback = _callback(campaign, customer, agent=centre.alice, due_at=now - dt.timedelta(hours=1))
    # Scheduled yesterday; the customer called in today to be left alone.
    ContactBlock.objects.create(
        client=centre.bank, customer=customer, kind=BlockKind.DO_NOT_CALL, reason="来电要求"
    )
    other = f.make_lead(campaign, next_attempt_at=now - dt.timedelta(minutes=1))

    assert leads.lead_claim_next(agent=centre.alice, now=now) == other
    callback.refresh_from_db()
    assert (callback.status, callback.done_reason) == (LeadStatus.EXCLUDED, LeadDoneReason.BLOCKED)


def test_a_team_callback_for_the_dialer_checks_blocks_and_consent(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    now = timezone.now()
    listed = f.make_customer(centre.bank)
    withdrawn = f.make_customer(centre.bank)
    first = _callback(
        campaign, listed, agent=centre.bob, due_at=now - dt.timedelta(hours=2), scope="team"
    )
    second = _callback(
        campaign, withdrawn, agent=centre.bob, due_at=now - dt.timedelta(hours=1), scope="team"
    )
    # The block is on the number only, whoever it belongs to.
    ContactBlock.objects.create(
        client=centre.bank, e164=listed.phones.get().e164, kind=BlockKind.BLACKLIST, reason="投诉"
    )
    Customer.objects.filter(pk=withdrawn.pk).update(consent_marketing=False)

    result = leads.lead_claim_for_dialer(campaign=campaign, owner="d1", now=now)

    assert isinstance(result, NoLead) and result.code == DialCode.ALL_BLOCKED
    statuses = CampaignLead.objects.filter(pk__in=[first.pk, second.pk]).values_list("status")
    assert set(statuses) == {(LeadStatus.EXCLUDED,)}


def test_a_retry_is_checked_again_when_it_comes_due(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    now = timezone.now()
    lead = f.make_lead(
        campaign, status=LeadStatus.RETRY, attempts=2, next_attempt_at=now - dt.timedelta(minutes=1)
    )
    ContactBlock.objects.create(
        client=centre.bank, customer=lead.customer, kind=BlockKind.DO_NOT_CALL, reason="投诉"
    )
    assert isinstance(leads.lead_claim_for_dialer(campaign=campaign, owner="d1", now=now), NoLead)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.EXCLUDED


def _preview_then_block(centre: Centre) -> CampaignLead:
    campaign = f.make_campaign(centre.bank)
    f.assign(campaign, agent=centre.alice)
    customer = f.make_customer(centre.bank)
    lead = _callback(
        campaign, customer, agent=centre.alice, due_at=timezone.now() - dt.timedelta(minutes=5)
    )
    desk.desk_next(agent=centre.alice)
    # While Alice reads the preview, the customer is put on the do-not-call list.
    ContactBlock.objects.create(
        client=centre.bank, customer=customer, kind=BlockKind.DO_NOT_CALL, reason="来电要求"
    )
    return lead


def test_the_desk_checks_blocks_again_when_the_agent_dials(centre: Centre, inline):  # type: ignore[no-untyped-def]
    lead = _preview_then_block(centre)
    with pytest.raises(desk.DeskRefused) as refused:
        desk.desk_dial(agent=centre.alice)
    assert refused.value.code == "blocked"
    assert not lead.calls.exists()


def test_the_desk_excludes_the_lead_blocked_during_the_preview(centre: Centre, inline):  # type: ignore[no-untyped-def]
    lead = _preview_then_block(centre)
    with pytest.raises(desk.DeskRefused):
        desk.desk_dial(agent=centre.alice)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.EXCLUDED


def test_the_tests_run_in_the_centres_zone():
    assert SHANGHAI.key == timezone.get_default_timezone_name()
