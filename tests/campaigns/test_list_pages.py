"""The list pages through the test client: load with preview and confirm, the pilot box and
the daily list box of the campaign page."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from calldeck.accounts.models import User
from calldeck.campaigns import list_views
from calldeck.campaigns.models import (
    Campaign,
    CampaignKind,
    CampaignLead,
    CampaignStatus,
    DailyAssignRule,
    DailyListRule,
    DailyListRun,
    LeadPhase,
    ListLoad,
    Pilot,
)
from calldeck.customers.models import BlockKind, ImportJob, ImportStatus, Segment
from tests import factories as f
from tests.campaigns.list_builders import block, customers, new_leads
from tests.conftest import Centre

pytestmark = pytest.mark.django_db


def browser(user: User) -> HttpClient:
    client = HttpClient()
    client.force_login(user)
    return client


def htmx(user: User) -> HttpClient:
    client = HttpClient(headers={"HX-Request": "true"})
    client.force_login(user)
    return client


def everyone(client) -> Segment:  # type: ignore[no-untyped-def]
    return Segment.objects.create(client=client, name="全部客户", rules=[])


def detail(campaign: Campaign) -> str:
    return reverse("calldeck-campaign-detail", kwargs={"pk": campaign.pk})


def load_url(campaign: Campaign) -> str:
    return reverse("calldeck-campaign-load", kwargs={"pk": campaign.pk})


# --- the campaign page --------------------------------------------------------------------


def test_it_the_campaign_page_shows_the_loads_and_offers_loading_to_list_loaders(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    ListLoad.objects.create(
        campaign=campaign,
        source="segment",
        candidates=5,
        loaded=3,
        excluded={"dnc": 2, "blacklist": 0},
        created_by=centre.dave,
    )

    manager_page = browser(centre.dave).get(detail(campaign)).content.decode()
    supervisor_page = browser(centre.carol).get(detail(campaign)).content.decode()

    assert load_url(campaign) in manager_page
    assert 'data-testid="list-loads"' in supervisor_page
    assert load_url(campaign) not in supervisor_page  # supervisors do not load lists
    assert "Do not call 2" in supervisor_page and "Blacklist 0" not in supervisor_page


def test_it_only_list_loaders_open_the_load_page(centre: Centre):
    campaign = f.make_campaign(centre.bank)

    assert browser(centre.dave).get(load_url(campaign)).status_code == 200
    assert browser(centre.erin).get(load_url(campaign)).status_code == 200
    assert browser(centre.carol).get(load_url(campaign)).status_code == 403
    assert browser(centre.alice).get(load_url(campaign)).status_code == 403
    other = f.make_campaign(centre.insurer)
    assert browser(centre.dave).get(load_url(other)).status_code == 404


# --- load: preview, then confirm ----------------------------------------------------------


def test_it_the_preview_counts_each_reason_and_loads_nothing(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    people = customers(centre.bank, 4)
    block(people[0], BlockKind.BLACKLIST)
    f.make_lead(campaign, people[1])
    segment = everyone(centre.bank)

    response = browser(centre.dave).post(
        load_url(campaign),
        {"source": "segment", "segment": segment.pk, "contacted_within_days": "30"},
    )

    assert response.status_code == 200
    preview = response.context["preview"]
    assert (preview.candidates, preview.loadable, preview.already_loaded) == (4, 2, 1)
    assert preview.excluded["blacklist"] == 1
    page = response.content.decode()
    assert 'data-reason="blacklist"' in page and "Load 2 customers" in page
    assert CampaignLead.objects.filter(campaign=campaign).count() == 1  # nothing loaded yet


def test_it_confirming_loads_the_customers_and_goes_back_to_the_campaign(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    customers(centre.bank, 3)
    segment = everyone(centre.bank)

    response = browser(centre.dave).post(
        load_url(campaign),
        {"source": "segment", "segment": segment.pk, "contacted_within_days": "", "confirm": "1"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == detail(campaign)
    assert "3 customers loaded; 0 left out." in response.content.decode()
    load = ListLoad.objects.get()
    assert (load.segment, load.loaded, load.created_by) == (segment, 3, centre.dave)


def test_it_loads_a_finished_import(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    imported = customers(centre.bank, 2)
    job = ImportJob.objects.create(
        client=centre.bank,
        status=ImportStatus.DONE,
        file="a.csv",
        file_name="名单.csv",
        finished_at=timezone.now(),
    )
    ImportJob.objects.create(
        client=centre.bank, status=ImportStatus.FAILED, file="b.csv", file_name="失败.csv"
    )
    client = browser(centre.erin)

    page = client.get(load_url(campaign)).content.decode()
    with mock.patch(
        "calldeck.customers.importing.job_files.job_customer_ids",
        side_effect=lambda j: iter([c.pk for c in imported]),
    ):
        client.post(load_url(campaign), {"source": "file", "import_job": job.pk, "confirm": "1"})

    assert "名单.csv" in page and "失败.csv" not in page  # only finished imports are offered
    load = ListLoad.objects.get()
    assert (load.import_job, load.loaded, load.source) == (job, 2, "file")


def test_it_counts_an_import_opened_from_its_page(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    imported = customers(centre.bank, 3)
    block(imported[0], BlockKind.DO_NOT_CALL)
    job = ImportJob.objects.create(
        client=centre.bank,
        status=ImportStatus.DONE,
        file="a.csv",
        file_name="名单.csv",
        finished_at=timezone.now(),
    )

    with mock.patch(
        "calldeck.customers.importing.job_files.job_customer_ids",
        side_effect=lambda j: iter([c.pk for c in imported]),
    ):
        response = browser(centre.erin).get(f"{load_url(campaign)}?import_job={job.pk}")

    # The import page links here: the preview is shown at once, nothing is loaded yet.
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-reason="dnc"><th>Do not call</th><td class="num">1<' in page
    assert 'data-reason="loadable"><th>To load</th><td class="num"><strong>2<' in page
    assert not CampaignLead.objects.exists()


def test_it_the_form_asks_for_the_source_it_names(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    foreign = everyone(centre.insurer)

    missing = browser(centre.dave).post(load_url(campaign), {"source": "segment"})
    other_client = browser(centre.dave).post(
        load_url(campaign), {"source": "segment", "segment": foreign.pk}
    )

    assert missing.status_code == 422
    assert "Choose a segment." in missing.content.decode()
    assert other_client.status_code == 422  # another client's segment is not a choice
    assert not ListLoad.objects.exists()


def test_it_a_completed_campaign_says_it_takes_no_more_customers(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.COMPLETED)
    segment = everyone(centre.bank)
    f.make_customer(centre.bank)

    page = browser(centre.dave).get(load_url(campaign)).content.decode()
    refused = browser(centre.dave).post(
        load_url(campaign), {"source": "segment", "segment": segment.pk, "confirm": "1"}
    )

    assert "takes no more customers" in page
    assert refused.status_code == 422
    assert not CampaignLead.objects.exists()


# --- the pilot box ----------------------------------------------------------------------


def test_it_the_pilot_box_draws_and_shows_the_sample(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.DRAFT)
    new_leads(campaign, 110)
    url = reverse("calldeck-campaign-pilot-draw", kwargs={"pk": campaign.pk})

    response = htmx(centre.dave).post(url, {"size": "100", "seed": "42"})

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="pilot-panel"' in page and "<html" not in page
    assert "Pilot drawn: 100 customers (seed 42)." in page
    assert 'data-testid="pilot-seed">42<' in page
    assert Pilot.objects.get().seed == 42
    assert CampaignLead.objects.filter(phase=LeadPhase.WAITING).count() == 10


def test_it_the_pilot_box_says_when_the_list_was_short(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.DRAFT)
    new_leads(campaign, 20)
    url = reverse("calldeck-campaign-pilot-draw", kwargs={"pk": campaign.pk})

    page = htmx(centre.dave).post(url, {"size": "150"}).content.decode()

    assert "Only 20 new leads were left to draw from" in page


def test_it_the_pilot_box_refuses_a_size_out_of_range(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.DRAFT)
    new_leads(campaign, 3)
    url = reverse("calldeck-campaign-pilot-draw", kwargs={"pk": campaign.pk})

    response = htmx(centre.dave).post(url, {"size": "50"})

    assert response.status_code == 422
    assert "greater than or equal to 100" in response.content.decode()
    assert not Pilot.objects.exists()


def test_it_the_pilot_box_rolls_out(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.PILOT)
    new_leads(campaign, 105)
    htmx(centre.dave).post(
        reverse("calldeck-campaign-pilot-draw", kwargs={"pk": campaign.pk}), {"size": "100"}
    )

    page = (
        htmx(centre.dave)
        .post(reverse("calldeck-campaign-pilot-roll-out", kwargs={"pk": campaign.pk}))
        .content.decode()
    )

    assert "Rolled out: 5 waiting customers join the main list." in page
    assert Pilot.objects.get().rolled_out_at is not None


def test_it_a_supervisor_sees_the_pilot_but_cannot_draw(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.PILOT)
    new_leads(campaign, 3)

    page = browser(centre.carol).get(detail(campaign)).content.decode()
    refused = browser(centre.carol).post(
        reverse("calldeck-campaign-pilot-draw", kwargs={"pk": campaign.pk}), {"size": "100"}
    )

    assert 'id="pilot-panel"' in page
    assert reverse("calldeck-campaign-pilot-draw", kwargs={"pk": campaign.pk}) not in page
    assert refused.status_code == 403


def test_it_an_active_campaign_without_a_pilot_has_no_pilot_box(centre: Centre):
    campaign = f.make_campaign(centre.bank)

    assert 'id="pilot-panel"' not in browser(centre.dave).get(detail(campaign)).content.decode()


# --- the daily list box ---------------------------------------------------------------


def test_it_a_supervisor_sets_the_daily_list_rule(centre: Centre):
    campaign = f.make_campaign(centre.bank, kind=CampaignKind.DAILY)
    segment = everyone(centre.bank)
    url = reverse("calldeck-campaign-daily-rule", kwargs={"pk": campaign.pk})

    response = htmx(centre.carol).post(
        url,
        {
            "birthdays": "on",
            "anniversaries": "on",
            "segment": segment.pk,
            "assign_rule": DailyAssignRule.BY_TEAM,
            "build_at": "06:30",
        },
    )

    assert response.status_code == 200
    assert "Daily list rule saved." in response.content.decode()
    rule = DailyListRule.objects.get(campaign=campaign)
    assert (rule.birthdays, rule.anniversaries, rule.segment) == (True, True, segment)
    assert (rule.assign_rule, rule.build_at) == (DailyAssignRule.BY_TEAM, dt.time(6, 30))
    assert rule.updated_by == centre.carol


def test_it_a_rule_needs_birthdays_or_anniversaries(centre: Centre):
    campaign = f.make_campaign(centre.bank, kind=CampaignKind.DAILY)
    url = reverse("calldeck-campaign-daily-rule", kwargs={"pk": campaign.pk})

    response = htmx(centre.dave).post(url, {"assign_rule": "round_robin", "build_at": "07:00"})

    assert response.status_code == 422
    assert "Choose birthdays, anniversaries or both." in response.content.decode()
    assert not DailyListRule.objects.exists()


def test_it_a_data_admin_does_not_set_the_daily_rule(centre: Centre):
    campaign = f.make_campaign(centre.bank, kind=CampaignKind.DAILY)
    url = reverse("calldeck-campaign-daily-rule", kwargs={"pk": campaign.pk})

    response = browser(centre.erin).post(url, {"birthdays": "on", "build_at": "07:00"})

    assert response.status_code == 403


def test_it_the_daily_box_shows_the_recent_lists_and_builds_todays(centre: Centre):
    campaign = f.make_campaign(centre.bank, kind=CampaignKind.DAILY)
    DailyListRule.objects.create(campaign=campaign)
    today = timezone.localdate()
    f.make_customer(centre.bank, birthday=today.replace(year=today.year - 40))
    f.assign(campaign, agent=centre.alice)

    built = htmx(centre.carol).post(
        reverse("calldeck-campaign-daily-build", kwargs={"pk": campaign.pk})
    )
    page = browser(centre.carol).get(detail(campaign)).content.decode()

    assert "Today&#x27;s list: 1 customers loaded." in built.content.decode()
    run = DailyListRun.objects.get()
    assert run.assigned == {"alice": 1}
    assert 'data-testid="daily-runs"' in page and "alice 1" in page


def test_it_a_special_campaign_has_no_daily_box(centre: Centre):
    campaign = f.make_campaign(centre.bank)

    assert 'id="daily-panel"' not in browser(centre.dave).get(detail(campaign)).content.decode()


def test_it_loads_a_large_list_on_the_task_worker(centre: Centre, settings, monkeypatch):  # type: ignore[no-untyped-def]
    # A list this large would hold the request for half a minute: the worker loads it.
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default"],
        }
    }
    monkeypatch.setattr(list_views, "BACKGROUND_LOAD_FROM", 3)
    campaign = f.make_campaign(centre.bank)
    customers(centre.bank, 3)
    segment = everyone(centre.bank)

    response = browser(centre.dave).post(
        load_url(campaign),
        {"source": "segment", "segment": segment.pk, "confirm": "1", "expected": "3"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == detail(campaign)
    assert "in the background" in response.content.decode()
    load = ListLoad.objects.get()
    assert (load.segment, load.loaded, load.created_by) == (segment, 3, centre.dave)
