"""Daily lists (seed 004 纪念日营销): who is on the day's list, who gets them, when they
are built, and the task and command that build them."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import zoneinfo
from collections import Counter
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from calldeck.accounts.models import Role, TeamMembership
from calldeck.audit.models import AuditEntry
from calldeck.campaigns import daily
from calldeck.campaigns.daily import daily_list_build, daily_lists_due, daily_lists_enqueue_due
from calldeck.campaigns.models import (
    Campaign,
    CampaignKind,
    CampaignLead,
    CampaignStatus,
    DailyAssignRule,
    DailyListRule,
    DailyListRun,
    DialMode,
    LeadStatus,
    ListSource,
)
from calldeck.campaigns.tasks import daily_lists_build_task
from calldeck.customers.models import BlockKind, Customer, Segment
from calldeck.dialing.leads import lead_claim_next
from tests import factories as f
from tests.campaigns.builders import make_team_of
from tests.campaigns.list_builders import block
from tests.conftest import Centre

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 5, 20)


@pytest.fixture(autouse=True)
def own_cache(settings: Any) -> None:
    # Failed builds are remembered in the cache; each test starts with none.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


def daily_campaign(client: Any, **rule: Any) -> Campaign:
    campaign = f.make_campaign(client, kind=CampaignKind.DAILY, name="生日关怀")
    DailyListRule.objects.create(campaign=campaign, **rule)
    return campaign


def born_on(client: Any, day: dt.date, years: int = 30, **kw: Any) -> Customer:
    return f.make_customer(client, birthday=day.replace(year=day.year - years), **kw)


def listed(run: DailyListRun) -> set[int]:
    return set(
        CampaignLead.objects.filter(list_load=run.list_load).values_list("customer_id", flat=True)
    )


def leads_of(run: DailyListRun) -> list[CampaignLead]:
    return list(
        CampaignLead.objects.filter(list_load=run.list_load)
        .select_related("assigned_agent")
        .order_by("pk")
    )


# --- the day's customers ----------------------------------------------------------------


def test_it_lists_the_customers_whose_birthday_is_the_day(centre: Centre):
    campaign = daily_campaign(centre.bank)
    today_born = born_on(centre.bank, DAY)
    born_on(centre.bank, DAY + dt.timedelta(days=1))
    f.make_customer(centre.bank)  # no birthday known
    born_on(centre.insurer, DAY)  # another client's

    run = daily_list_build(campaign=campaign, day=DAY)

    assert listed(run) == {today_born.pk}
    assert (run.day, run.birthdays, run.anniversaries) == (DAY, 1, 0)
    assert run.list_load.source == ListSource.DAILY
    assert AuditEntry.objects.filter(action="campaign.daily_list").count() == 1


def test_it_29_february_birthdays_are_on_28_february_in_other_years(centre: Centre):
    campaign = daily_campaign(centre.bank)
    leapling = f.make_customer(centre.bank, birthday=dt.date(2000, 2, 29))
    feb_28 = f.make_customer(centre.bank, birthday=dt.date(1990, 2, 28))

    common_year = daily_list_build(campaign=campaign, day=dt.date(2027, 2, 28))
    leap_eve = daily_list_build(campaign=campaign, day=dt.date(2028, 2, 28))

    assert listed(common_year) == {leapling.pk, feb_28.pk}
    assert listed(leap_eve) == set()  # both are still in the campaign from 2027
    assert leap_eve.birthdays == 1  # only 28 February: the leapling has a day of their own
    CampaignLead.objects.update(status=LeadStatus.DONE)
    leap_day = daily_list_build(campaign=campaign, day=dt.date(2028, 2, 29))
    assert listed(leap_day) == {leapling.pk}


def test_it_lists_anniversaries_of_at_least_one_full_year(centre: Centre):
    campaign = daily_campaign(centre.bank, birthdays=False, anniversaries=True)
    five_years = f.make_customer(centre.bank, customer_since=DAY.replace(year=2021))
    f.make_customer(centre.bank, customer_since=DAY)  # joined today: no anniversary yet
    f.make_customer(centre.bank, customer_since=DAY.replace(year=2020) - dt.timedelta(days=1))
    born_on(centre.bank, DAY)  # birthdays are not asked for

    run = daily_list_build(campaign=campaign, day=DAY)

    assert listed(run) == {five_years.pk}
    assert (run.birthdays, run.anniversaries) == (0, 1)


def test_it_a_customer_with_both_is_listed_once(centre: Centre):
    campaign = daily_campaign(centre.bank, birthdays=True, anniversaries=True)
    both = born_on(centre.bank, DAY, customer_since=DAY.replace(year=2019))

    run = daily_list_build(campaign=campaign, day=DAY)

    assert listed(run) == {both.pk}
    assert (run.birthdays, run.anniversaries, run.list_load.loaded) == (1, 1, 1)


def test_it_the_rules_segment_narrows_the_list(centre: Centre):
    segment = Segment.objects.create(
        client=centre.bank, name="北京", rules=[{"field": "city", "op": "in", "value": ["北京"]}]
    )
    campaign = daily_campaign(centre.bank, segment=segment)
    beijing = born_on(centre.bank, DAY, city="北京")
    born_on(centre.bank, DAY, city="上海")

    run = daily_list_build(campaign=campaign, day=DAY)

    assert listed(run) == {beijing.pk}
    assert run.list_load.segment == segment


def test_it_the_exclusions_apply_and_are_recorded(centre: Centre):
    campaign = daily_campaign(centre.bank)
    born_on(centre.bank, DAY)
    block(born_on(centre.bank, DAY), BlockKind.DO_NOT_CALL)
    born_on(centre.bank, DAY, vip_level="gold")

    run = daily_list_build(campaign=campaign, day=DAY)

    assert run.birthdays == 3
    assert run.list_load.loaded == 1
    assert (run.list_load.excluded["dnc"], run.list_load.excluded["reserved"]) == (1, 1)


def test_it_building_a_day_twice_returns_the_first_run(centre: Centre):
    campaign = daily_campaign(centre.bank)
    born_on(centre.bank, DAY)
    first = daily_list_build(campaign=campaign, day=DAY)
    born_on(centre.bank, DAY)  # arrives after the build

    second = daily_list_build(campaign=campaign, day=DAY)

    assert second.pk == first.pk
    assert DailyListRun.objects.count() == 1
    assert CampaignLead.objects.count() == 1


def test_it_a_customer_finished_last_year_is_listed_again_and_an_open_one_is_not(centre: Centre):
    campaign = daily_campaign(centre.bank)
    finished = born_on(centre.bank, DAY)
    still_open = born_on(centre.bank, DAY)
    daily_list_build(campaign=campaign, day=DAY)
    CampaignLead.objects.filter(customer=finished).update(
        status=LeadStatus.DONE, done_reason="refused", attempts=2
    )

    next_year = daily_list_build(campaign=campaign, day=DAY.replace(year=2027))

    lead = CampaignLead.objects.get(customer=finished)
    assert (lead.status, lead.attempts, lead.list_load_id) == ("new", 0, next_year.list_load_id)
    assert next_year.list_load.loaded == 1
    assert next_year.list_load.excluded["already_loaded"] == 1
    assert CampaignLead.objects.filter(customer=still_open).count() == 1


# --- who gets the leads -------------------------------------------------------------------


def test_it_round_robin_deals_the_leads_over_the_days_agents(centre: Centre, today: dt.date):
    campaign = daily_campaign(centre.bank, assign_rule=DailyAssignRule.ROUND_ROBIN)
    f.assign(campaign, team=centre.team_a, day=today)
    for _ in range(5):
        born_on(centre.bank, today)

    run = daily_list_build(campaign=campaign, day=today)

    leads = leads_of(run)
    owners = [lead.assigned_agent.username for lead in leads]  # type: ignore[union-attr]
    assert sorted(run.assigned.values()) == [2, 3]
    assert set(run.assigned) == {"alice", "bob"}
    assert Counter(owners) == Counter(run.assigned)
    assert all(a != b for a, b in itertools.pairwise(owners))  # dealt one by one


def test_it_by_team_splits_in_proportion_to_the_teams_agents(centre: Centre, today: dt.date):
    campaign = daily_campaign(centre.bank, assign_rule=DailyAssignRule.BY_TEAM)
    zed = f.make_user(Role.AGENT, clients=[centre.bank], username="zed")
    team_b = make_team_of(zed, name="二组")
    f.assign(campaign, team=centre.team_a, day=today)
    f.assign(campaign, team=team_b, day=today)
    for _ in range(7):
        born_on(centre.bank, today)

    run = daily_list_build(campaign=campaign, day=today)

    # 7 leads for 2 + 1 agents: 4.67 and 2.33, so 5 and 2 (largest remainder).
    assert run.assigned["zed"] == 2
    assert sorted([run.assigned["alice"], run.assigned["bob"]]) == [2, 3]


def test_it_the_days_agents_are_the_assigned_ones_and_the_team_members_of_that_day(
    centre: Centre, today: dt.date
):
    campaign = daily_campaign(centre.bank)
    gone = f.make_user(Role.AGENT, clients=[centre.bank], username="gone")
    TeamMembership.objects.create(
        team=centre.team_a,
        user=gone,
        valid_from=today - dt.timedelta(days=60),
        valid_to=today - dt.timedelta(days=1),
    )
    solo = f.make_user(Role.AGENT, clients=[centre.bank], username="solo")
    f.assign(campaign, team=centre.team_a, day=today)
    f.assign(campaign, agent=centre.alice, day=today)  # also in the team: counted once
    f.assign(campaign, agent=solo, day=today)
    f.assign(campaign, agent=centre.mallory, day=today - dt.timedelta(days=1))
    for _ in range(6):
        born_on(centre.bank, today)

    run = daily_list_build(campaign=campaign, day=today)

    assert run.assigned == {"alice": 2, "bob": 2, "solo": 2}
    groups = daily.day_groups(campaign, today)
    assert [(g.team, [a.username for a in g.agents]) for g in groups] == [
        (centre.team_a, ["alice", "bob"]),
        (None, ["solo"]),
    ]


def test_it_without_agents_that_day_the_leads_stay_unassigned(centre: Centre, today: dt.date):
    campaign = daily_campaign(centre.bank)
    born_on(centre.bank, today)

    run = daily_list_build(campaign=campaign, day=today)

    assert run.assigned == {}
    assert leads_of(run)[0].assigned_agent is None


def test_it_an_auto_dialed_campaign_is_not_shared_out(centre: Centre, today: dt.date):
    campaign = daily_campaign(centre.bank)
    Campaign.objects.filter(pk=campaign.pk).update(dial_mode=DialMode.PROGRESSIVE)
    f.assign(campaign, team=centre.team_a, day=today)
    born_on(centre.bank, today)

    run = daily_list_build(campaign=Campaign.objects.get(pk=campaign.pk), day=today)

    # The dialer never dials an assigned lead (dialing.leads._dialer_due_leads).
    assert run.assigned == {}
    assert run.list_load.loaded == 1


def test_it_an_assigned_lead_is_offered_to_its_agent_only(centre: Centre, today: dt.date):
    campaign = daily_campaign(centre.bank)
    f.assign(campaign, team=centre.team_a, day=today)
    born_on(centre.bank, today)
    run = daily_list_build(campaign=campaign, day=today)
    [lead] = leads_of(run)
    owner = lead.assigned_agent
    other = centre.bob if owner == centre.alice else centre.alice

    assert not isinstance(lead_claim_next(agent=other), CampaignLead)
    claimed = lead_claim_next(agent=owner)  # type: ignore[arg-type]
    assert isinstance(claimed, CampaignLead) and claimed.pk == lead.pk


# --- when lists are built -------------------------------------------------------------------


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


def test_it_a_list_is_due_once_its_build_time_has_passed_until_it_is_built(centre: Centre):
    campaign = daily_campaign(centre.bank, build_at=dt.time(7, 30))
    daily_campaign(centre.bank, build_at=dt.time(9, 0))
    paused = daily_campaign(centre.bank, build_at=dt.time(7, 0))
    Campaign.objects.filter(pk=paused.pk).update(status=CampaignStatus.PAUSED)
    f.make_campaign(centre.bank)  # not a daily campaign

    with time_machine.travel(at(7, 29), tick=False):
        assert daily_lists_due() == []
    with time_machine.travel(at(7, 30), tick=False):
        assert daily_lists_due() == [campaign]
        daily_list_build(campaign=campaign, day=DAY)
        assert daily_lists_due() == []
    with time_machine.travel(at(7, 30, DAY + dt.timedelta(days=1)), tick=False):
        assert daily_lists_due() == [campaign]


def test_it_a_campaign_outside_its_dates_is_not_due(centre: Centre):
    campaign = daily_campaign(centre.bank, build_at=dt.time(7, 0))
    Campaign.objects.filter(pk=campaign.pk).update(ends_on=DAY - dt.timedelta(days=1))

    assert daily_lists_due(at(8)) == []


def test_it_the_task_builds_the_due_lists(centre: Centre, settings: Any):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    early = daily_campaign(centre.bank, build_at=dt.time(6, 0))
    late = daily_campaign(centre.bank, build_at=dt.time(10, 0))
    born_on(centre.bank, DAY)

    with time_machine.travel(at(8), tick=False):
        assert daily_lists_enqueue_due() == 1
        assert daily_lists_enqueue_due() == 0  # nothing due any more

    run = DailyListRun.objects.get()
    assert (run.campaign, run.day, run.list_load.loaded) == (early, DAY, 1)
    assert not DailyListRun.objects.filter(campaign=late).exists()


def test_it_queuing_every_minute_queues_one_task_until_it_runs(centre: Centre):
    from django_tasks_db.models import DBTaskResult

    daily_campaign(centre.bank, build_at=dt.time(6, 0))

    with time_machine.travel(at(8), tick=False):
        assert daily_lists_enqueue_due() == 1
        assert daily_lists_enqueue_due() == 0
        assert DBTaskResult.objects.count() == 1
        built = daily_lists_build_task.call()

    assert built == [DailyListRun.objects.get().pk]


def test_it_a_failing_build_is_logged_and_retried_later(centre: Centre, caplog: Any):
    bad = Segment.objects.create(client=centre.bank, name="坏", rules=[{"field": "nope"}])
    broken = daily_campaign(centre.bank, build_at=dt.time(6, 0), segment=bad)
    fine = daily_campaign(centre.bank, build_at=dt.time(6, 0))

    with time_machine.travel(at(8), tick=False):
        runs = daily.daily_lists_build_due()
        assert [r.campaign for r in runs] == [fine]
        assert daily_lists_due() == []  # the broken one waits before it is tried again
    with time_machine.travel(at(8, 11), tick=False):
        assert daily_lists_due() == [broken]
    assert "failed" in caplog.text


def test_it_the_command_builds_a_campaigns_list_for_a_day(centre: Centre):
    campaign = daily_campaign(centre.bank, build_at=dt.time(23, 0))
    other = daily_campaign(centre.bank)
    born_on(centre.bank, DAY)
    out = io.StringIO()

    call_command("build_daily_lists", day=DAY.isoformat(), campaign=campaign.pk, stdout=out)
    call_command("build_daily_lists", day=DAY.isoformat(), campaign=campaign.pk, stdout=out)

    assert DailyListRun.objects.filter(campaign=campaign, day=DAY).count() == 1
    assert not DailyListRun.objects.filter(campaign=other).exists()
    assert "1 loaded" in out.getvalue() and "already built" in out.getvalue()


def test_it_the_command_builds_every_active_daily_campaign(centre: Centre):
    first = daily_campaign(centre.bank)
    second = daily_campaign(centre.bank)

    call_command("build_daily_lists", day=DAY.isoformat(), stdout=io.StringIO())

    assert set(DailyListRun.objects.values_list("campaign", flat=True)) == {first.pk, second.pk}
