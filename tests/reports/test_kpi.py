"""The KPI module: one test per figure on hand-built calls, with the rule in a comment."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from calldeck.accounts.models import TeamMembership
from calldeck.calls.models import CallOutcome, Direction, SaleStatus
from calldeck.campaigns.models import Campaign
from calldeck.reports import kpi
from calldeck.reports.kpi import Kpis, KpiScope
from tests import factories as f
from tests.conftest import Centre
from tests.reports.builders import local, make_call, make_sale


@pytest.fixture
def day() -> dt.date:
    # Yesterday, so that the fixture's team memberships (from 30 days ago) cover it.
    return timezone.localdate() - dt.timedelta(days=1)


@pytest.fixture
def campaign(centre: Centre) -> Campaign:
    return f.make_campaign(centre.bank, name="信用卡分期")


def day_scope(day: dt.date, **filters: object) -> KpiScope:
    return KpiScope.for_day(day, **filters)  # type: ignore[arg-type]


# Counting units


def test_it_counts_each_outbound_call_as_an_attempt(centre, campaign, day):
    make_call(campaign, at=local(day, 9), agent=centre.alice, outcome=CallOutcome.NO_ANSWER)
    make_call(campaign, at=local(day, 10), agent=centre.alice, outcome=CallOutcome.BUSY)
    make_call(campaign, at=local(day, 11), agent=centre.alice)
    # An inbound call is not an attempt: nobody dialed it.
    make_call(campaign, at=local(day, 12), agent=centre.alice, direction=Direction.INBOUND)

    assert kpi.kpis_total(day_scope(day)).attempts == 3


def test_it_counts_a_customer_dialed_twice_in_a_day_once(centre, campaign, day):
    customer = f.make_customer(centre.bank)
    make_call(campaign, at=local(day, 9), customer=customer, outcome=CallOutcome.NO_ANSWER)
    make_call(campaign, at=local(day, 15), customer=customer, agent=centre.alice)
    make_call(campaign, at=local(day, 16), outcome=CallOutcome.BUSY)

    totals = kpi.kpis_total(day_scope(day))

    assert totals.attempts == 3
    # A customer dialed is a distinct (campaign, customer), not a dial.
    assert totals.customers_dialed == 2


def test_it_counts_the_same_customer_in_two_campaigns_as_two_customers_dialed(
    centre, campaign, day
):
    other = f.make_campaign(centre.bank, name="保险")
    customer = f.make_customer(centre.bank)
    make_call(campaign, at=local(day, 9), customer=customer, outcome=CallOutcome.NO_ANSWER)
    make_call(other, at=local(day, 10), customer=customer, outcome=CallOutcome.NO_ANSWER)

    # The unit is the pair (campaign, customer).
    assert kpi.kpis_total(day_scope(day)).customers_dialed == 2


def test_it_does_not_count_a_machine_as_a_human_answer(centre, campaign, day):
    for outcome in (
        CallOutcome.MACHINE,
        CallOutcome.NO_ANSWER,
        CallOutcome.BUSY,
        CallOutcome.INVALID,
        CallOutcome.FAILED,
    ):
        make_call(campaign, at=local(day, 9), outcome=outcome)
    make_call(campaign, at=local(day, 10), agent=centre.alice)

    totals = kpi.kpis_total(day_scope(day))

    # Only a person answering is a human answer; a machine is a non-answer.
    assert totals.human_answers == 1
    assert totals.customers_connected == 1


def test_it_counts_an_abandoned_call_as_a_human_answer_but_not_handled(centre, campaign, day):
    make_call(campaign, at=local(day, 9), outcome=CallOutcome.ABANDONED)

    totals = kpi.kpis_total(day_scope(day))

    # Abandoned = a person answered and no agent was connected in time.
    assert totals.human_answers == 1
    assert totals.customers_connected == 1
    assert totals.handled_calls == 0


def test_it_counts_a_customer_connected_once_however_often_answered(centre, campaign, day):
    customer = f.make_customer(centre.bank)
    make_call(campaign, at=local(day, 9), customer=customer, outcome=CallOutcome.ABANDONED)
    make_call(campaign, at=local(day, 11), customer=customer, agent=centre.alice)
    make_call(campaign, at=local(day, 12), outcome=CallOutcome.NO_ANSWER)

    totals = kpi.kpis_total(day_scope(day))

    assert totals.human_answers == 2
    assert totals.customers_connected == 1


def test_it_counts_handled_calls_of_both_directions(centre, campaign, day):
    make_call(campaign, at=local(day, 9), agent=centre.alice)
    make_call(campaign, at=local(day, 10), agent=centre.alice, direction=Direction.INBOUND)
    make_call(campaign, at=local(day, 11), outcome=CallOutcome.ABANDONED)
    # Answered by a person, but the agent never came on the line: not handled.
    make_call(campaign, at=local(day, 12), agent=centre.alice, handled=False)

    assert kpi.kpis_total(day_scope(day)).handled_calls == 2


def test_it_counts_contacts_by_the_disposition_right_party_flag(centre, campaign, day):
    make_call(campaign, at=local(day, 9), agent=centre.alice, disposition_code="not_interested")
    make_call(campaign, at=local(day, 10), agent=centre.alice, disposition_code="sale")
    make_call(campaign, at=local(day, 11), agent=centre.alice, disposition_code="not_present")
    make_call(campaign, at=local(day, 12), agent=centre.alice, disposition_code="wrong_number")
    make_call(campaign, at=local(day, 13), agent=centre.alice)  # no wrap-up saved yet

    totals = kpi.kpis_total(day_scope(day))

    # A contact is a handled call whose disposition counts as reaching the right party.
    assert totals.handled_calls == 5
    assert totals.contacts == 2


def test_it_counts_a_cancelled_or_failed_sale_as_a_phone_deal(centre, campaign, day):
    for status in SaleStatus:
        call = make_call(campaign, at=local(day, 10), agent=centre.alice, disposition_code="sale")
        make_sale(call, status=status)
    make_call(campaign, at=local(day, 11), agent=centre.alice, disposition_code="not_interested")

    totals = kpi.kpis_total(day_scope(day))

    # A deal was committed on the phone whatever happened to it later.
    assert totals.phone_deals == 4
    assert totals.outbound_phone_deals == 4


def test_it_counts_only_final_sales_as_final_deals(centre, campaign, day):
    for status in (SaleStatus.FINAL, SaleStatus.FINAL, SaleStatus.CANCELLED):
        call = make_call(campaign, at=local(day, 10), agent=centre.alice, disposition_code="sale")
        make_sale(call, status=status)

    assert kpi.kpis_total(day_scope(day)).final_deals == 2


def test_it_counts_a_sale_by_the_day_of_its_call(centre, campaign, day):
    call = make_call(campaign, at=local(day, 23, 50), agent=centre.alice, talk_seconds=900)
    sale = make_sale(call)
    # Recorded after midnight: still the phone deal of the call's day.
    sale.created_at = local(day + dt.timedelta(days=1), 0, 10)
    sale.save()

    assert kpi.kpis_total(day_scope(day)).phone_deals == 1
    assert kpi.kpis_total(day_scope(day + dt.timedelta(days=1))).phone_deals == 0


def test_it_sums_talk_and_acw_seconds_of_handled_calls(centre, campaign, day):
    make_call(campaign, at=local(day, 9), agent=centre.alice, talk_seconds=100, wrapup_seconds=20)
    make_call(campaign, at=local(day, 10), agent=centre.bob, talk_seconds=50, wrapup_seconds=10)

    totals = kpi.kpis_total(day_scope(day))

    assert totals.talk_seconds == 150
    assert totals.acw_seconds == 30


# Rates


def test_it_computes_the_outbound_connect_rate(centre, campaign, day):
    reached = f.make_customer(centre.bank)
    make_call(campaign, at=local(day, 9), customer=reached, outcome=CallOutcome.NO_ANSWER)
    make_call(campaign, at=local(day, 10), customer=reached, agent=centre.alice)
    for _ in range(3):
        make_call(campaign, at=local(day, 11), outcome=CallOutcome.MACHINE)

    totals = kpi.kpis_total(day_scope(day))

    # Customers connected / customers dialed = 1 / 4, not answers / dials (1 / 5).
    assert totals.outbound_connect_rate == pytest.approx(0.25)


def test_it_computes_the_attempt_answer_rate(centre, campaign, day):
    make_call(campaign, at=local(day, 9), agent=centre.alice)
    make_call(campaign, at=local(day, 10), outcome=CallOutcome.ABANDONED)
    make_call(campaign, at=local(day, 11), outcome=CallOutcome.MACHINE)
    make_call(campaign, at=local(day, 12), outcome=CallOutcome.BUSY)

    # Human answers / attempts = 2 / 4.
    assert kpi.kpis_total(day_scope(day)).attempt_answer_rate == pytest.approx(0.5)


def test_it_computes_the_outbound_success_rate_from_outbound_deals(centre, campaign, day):
    sold = make_call(campaign, at=local(day, 9), agent=centre.alice, disposition_code="sale")
    make_sale(sold, status=SaleStatus.CANCELLED)
    make_call(campaign, at=local(day, 10), agent=centre.alice, disposition_code="not_interested")
    make_call(campaign, at=local(day, 11), outcome=CallOutcome.ABANDONED)
    make_call(campaign, at=local(day, 12), outcome=CallOutcome.NO_ANSWER)
    inbound = make_call(
        campaign, at=local(day, 13), agent=centre.alice, direction=Direction.INBOUND
    )
    make_sale(inbound)

    totals = kpi.kpis_total(day_scope(day))

    # Outbound phone deals / customers connected = 1 / 3; the inbound sale is not outbound.
    assert totals.phone_deals == 2
    assert totals.outbound_success_rate == pytest.approx(1 / 3)


def test_it_computes_average_talk_and_acw_per_handled_call(centre, campaign, day):
    make_call(campaign, at=local(day, 9), agent=centre.alice, talk_seconds=100, wrapup_seconds=30)
    make_call(campaign, at=local(day, 10), agent=centre.alice, talk_seconds=51, wrapup_seconds=0)
    make_call(campaign, at=local(day, 11), outcome=CallOutcome.ABANDONED)

    totals = kpi.kpis_total(day_scope(day))

    # Divided by the 2 handled calls, not by the 3 answers.
    assert totals.average_talk_seconds == pytest.approx(75.5)
    assert totals.average_acw_seconds == pytest.approx(15)


def test_it_computes_the_effective_talk_rate(centre, campaign, day):
    make_call(campaign, at=local(day, 9), agent=centre.alice, disposition_code="callback")
    make_call(campaign, at=local(day, 10), agent=centre.alice, disposition_code="not_present")
    make_call(campaign, at=local(day, 11), agent=centre.alice, disposition_code="dropped")
    make_call(campaign, at=local(day, 12), agent=centre.alice, disposition_code="sale")

    # Contacts / handled calls = 2 / 4.
    assert kpi.kpis_total(day_scope(day)).effective_talk_rate == pytest.approx(0.5)


def test_it_gives_none_not_zero_when_a_denominator_is_zero(centre, campaign, day):
    # Only machines: attempts but nobody connected, nothing handled.
    make_call(campaign, at=local(day, 9), outcome=CallOutcome.MACHINE)
    totals = kpi.kpis_total(day_scope(day))

    assert totals.attempt_answer_rate == 0
    assert totals.outbound_connect_rate == 0
    assert totals.outbound_success_rate is None
    assert totals.average_talk_seconds is None
    assert totals.average_acw_seconds is None
    assert totals.effective_talk_rate is None

    empty = kpi.kpis_total(day_scope(day - dt.timedelta(days=1)))
    assert empty == Kpis()
    assert empty.outbound_connect_rate is None
    assert empty.attempt_answer_rate is None


# Scope


def test_it_never_counts_calls_of_another_client(centre, campaign, day):
    insurer_campaign = f.make_campaign(centre.insurer)
    make_call(campaign, at=local(day, 9), agent=centre.alice)
    sold = make_call(insurer_campaign, at=local(day, 9), agent=centre.mallory)
    make_sale(sold)

    bank_only = kpi.kpis_total(day_scope(day, client_ids=[centre.bank.pk]))
    by_agent = kpi.kpis_by_agent(day_scope(day, client_ids=[centre.bank.pk]))
    by_campaign = kpi.kpis_by_campaign(day_scope(day, client_ids=[centre.bank.pk]))

    assert bank_only.attempts == 1
    assert bank_only.phone_deals == 0
    assert set(by_agent) == {centre.alice.pk}
    assert set(by_campaign) == {campaign.pk}
    # No clients granted means no figures, not every figure.
    assert kpi.kpis_total(day_scope(day, client_ids=[])) == Kpis()


def test_it_counts_calls_dialed_within_the_local_day_only(centre, campaign, day):
    make_call(campaign, at=local(day, 0, 0, 0), outcome=CallOutcome.BUSY)
    make_call(campaign, at=local(day, 23, 59, 59), outcome=CallOutcome.BUSY)
    make_call(campaign, at=local(day + dt.timedelta(days=1)), outcome=CallOutcome.BUSY)
    make_call(campaign, at=local(day) - dt.timedelta(days=1), outcome=CallOutcome.BUSY)

    # The day is [00:00, 24:00) in the centre's zone, not in UTC.
    assert kpi.kpis_total(day_scope(day)).attempts == 2


def test_it_filters_by_campaign_agent_and_direction(centre, campaign, day):
    other = f.make_campaign(centre.bank)
    make_call(campaign, at=local(day, 9), agent=centre.alice)
    make_call(campaign, at=local(day, 10), agent=centre.bob)
    make_call(other, at=local(day, 11), agent=centre.alice)
    make_call(campaign, at=local(day, 12), agent=centre.alice, direction=Direction.INBOUND)

    assert kpi.kpis_total(day_scope(day, campaign_ids=[campaign.pk])).handled_calls == 3
    assert kpi.kpis_total(day_scope(day, agent_ids=[centre.alice.pk])).handled_calls == 3
    inbound = kpi.kpis_total(day_scope(day, direction=Direction.INBOUND))
    assert inbound.handled_calls == 1
    assert inbound.attempts == 0


def test_it_counts_a_team_by_the_membership_valid_on_the_call_day(centre, campaign, day):
    team_b = f.make_team(name="二组")
    before = day - dt.timedelta(days=1)
    # Alice moved from team A to team B this morning.
    TeamMembership.objects.filter(user=centre.alice, team=centre.team_a).update(valid_to=before)
    TeamMembership.objects.create(user=centre.alice, team=team_b, valid_from=day)
    make_call(campaign, at=local(before, 15), agent=centre.alice)
    make_call(campaign, at=local(day, 9), agent=centre.alice)
    make_call(campaign, at=local(day, 10), agent=centre.bob)
    make_call(campaign, at=local(day, 11), outcome=CallOutcome.MACHINE)  # nobody's call

    start, end = kpi.day_bounds(before)[0], kpi.day_bounds(day)[1]
    team_a = kpi.kpis_by_agent(KpiScope(start=start, end=end, team_ids=[centre.team_a.pk]))
    team_b_totals = kpi.kpis_total(KpiScope(start=start, end=end, team_ids=[team_b.pk]))

    assert team_a[centre.alice.pk].handled_calls == 1  # yesterday's call only
    assert team_a[centre.bob.pk].handled_calls == 1
    assert None not in team_a
    assert team_b_totals.handled_calls == 1  # today's call only
    assert kpi.kpis_total(day_scope(day, team_ids=[])) == Kpis()


# Grouping


def test_it_groups_by_agent_and_by_campaign(centre, campaign, day):
    other = f.make_campaign(centre.bank)
    shared = f.make_customer(centre.bank)
    make_call(campaign, at=local(day, 9), agent=centre.alice, customer=shared, talk_seconds=60)
    make_call(campaign, at=local(day, 14), agent=centre.bob, customer=shared, talk_seconds=30)
    make_call(other, at=local(day, 10), agent=centre.bob, talk_seconds=90)
    make_call(campaign, at=local(day, 11), outcome=CallOutcome.NO_ANSWER)  # no agent

    by_agent = kpi.kpis_by_agent(day_scope(day))
    by_campaign = kpi.kpis_by_campaign(day_scope(day))
    totals = kpi.kpis_total(day_scope(day))

    assert by_agent[centre.alice.pk] == Kpis(
        key=centre.alice.pk,
        attempts=1,
        customers_dialed=1,
        human_answers=1,
        customers_connected=1,
        handled_calls=1,
        talk_seconds=60,
    )
    assert by_agent[centre.bob.pk].attempts == 2
    assert by_agent[centre.bob.pk].average_talk_seconds == pytest.approx(60)
    assert by_agent[None].attempts == 1
    assert by_campaign[campaign.pk].attempts == 3
    assert by_campaign[campaign.pk].customers_dialed == 2
    assert by_campaign[other.pk].attempts == 1
    # The shared customer is one customer of the campaign, dialed by two agents.
    assert sum(k.customers_dialed for k in by_agent.values()) == 4
    assert totals.customers_dialed == 3
    assert totals.attempts == sum(k.attempts for k in by_campaign.values())


def test_it_computes_each_grouping_in_one_query(centre, campaign, day, django_assert_num_queries):
    for agent in (centre.alice, centre.bob):
        for hour in (9, 10, 11):
            call = make_call(campaign, at=local(day, hour), agent=agent, disposition_code="sale")
            make_sale(call)
    scope = day_scope(day, client_ids=[centre.bank.pk], team_ids=[centre.team_a.pk])

    with django_assert_num_queries(1):
        kpi.kpis_total(scope)
    with django_assert_num_queries(1):
        kpi.kpis_by_agent(scope)
    with django_assert_num_queries(1):
        kpi.kpis_by_campaign(scope)


def test_it_normalises_scope_filters_and_rejects_bad_periods(day):
    start, end = kpi.day_bounds(day)

    assert KpiScope(start=start, end=end, agent_ids=[3, 1, 3]).agent_ids == (1, 3)
    assert KpiScope(start=start, end=end, direction="in").direction is Direction.INBOUND
    assert end - start == dt.timedelta(days=1)
    with pytest.raises(ValueError, match="timezone-aware"):
        KpiScope(start=start.replace(tzinfo=None), end=end)
    with pytest.raises(ValueError, match="after start"):
        KpiScope(start=end, end=start)


# Formatting


def test_it_formats_rates_as_percent_with_one_decimal():
    assert kpi.format_rate(0.25) == "25.0%"
    assert kpi.format_rate(1 / 3) == "33.3%"
    assert kpi.format_rate(0) == "0.0%"
    assert kpi.format_rate(None) == "—"


def test_it_formats_durations_as_minutes_and_seconds():
    assert kpi.format_duration(75.5) == "1:16"
    assert kpi.format_duration(59.4) == "0:59"
    assert kpi.format_duration(0) == "0:00"
    assert kpi.format_duration(4503) == "75:03"
    assert kpi.format_duration(None) == "—"
