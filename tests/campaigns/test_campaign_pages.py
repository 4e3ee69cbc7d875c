"""The campaign pages through the test client: list, create, edit, detail and its panels."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from calldeck.accounts.models import User
from calldeck.audit.models import AuditEntry
from calldeck.campaigns import services
from calldeck.campaigns.models import Campaign, CampaignStatus, Offer, RetryOutcome
from tests import factories as f
from tests.campaigns.builders import campaign_edit_post, campaign_post, make_draft
from tests.conftest import Centre


def browser(user: User) -> HttpClient:
    client = HttpClient()
    client.force_login(user)
    return client


def htmx(user: User) -> HttpClient:
    client = HttpClient(headers={"HX-Request": "true"})
    client.force_login(user)
    return client


def test_it_lists_the_campaigns_of_the_users_clients_with_lead_counts(centre: Centre):
    campaign = f.make_campaign(centre.bank, name="分期推广")
    f.make_lead(campaign)
    f.make_lead(campaign, status="done")
    f.make_campaign(centre.insurer, name="保险续保")
    f.make_campaign(centre.bank, name="旧活动", status=CampaignStatus.ARCHIVED)

    response = browser(centre.dave).get(reverse("calldeck-campaigns"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "分期推广" in page
    assert "badge-active" in page
    assert "保险续保" not in page  # another client's
    assert "旧活动" not in page  # archived: shown only when filtered for
    [row] = response.context["rows"]
    assert row["total"] == 2


def test_it_filters_the_list_by_status(centre: Centre):
    f.make_campaign(centre.bank, name="进行中")
    f.make_campaign(centre.bank, name="草稿中", status=CampaignStatus.DRAFT)
    f.make_campaign(centre.bank, name="已归档", status=CampaignStatus.ARCHIVED)

    client = browser(centre.carol)
    drafts = client.get(reverse("calldeck-campaigns"), {"status": "draft"}).content.decode()
    archived = client.get(reverse("calldeck-campaigns"), {"status": "archived"}).content.decode()

    assert "草稿中" in drafts and "进行中" not in drafts
    assert "已归档" in archived


def test_it_creates_a_campaign_through_the_page(centre: Centre):
    offer = Offer.objects.create(client=centre.bank, code="INST", name="账单分期")
    client = browser(centre.dave)
    assert client.get(reverse("calldeck-campaign-create")).status_code == 200

    response = client.post(
        reverse("calldeck-campaign-create"),
        campaign_post(client=centre.bank.pk, offer=offer.pk, ends_on="2026-12-31"),
    )

    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("calldeck-campaign-detail", kwargs={"pk": campaign.pk})
    assert campaign.name == "信用卡分期推广"
    assert campaign.offer == offer
    assert campaign.preview_fields == ["gender", "city"]
    assert campaign.ends_on == dt.date(2026, 12, 31)
    assert campaign.windows.count() == 7
    assert AuditEntry.objects.filter(action="campaign.create", actor=centre.dave).exists()


def test_it_shows_service_errors_on_the_field(centre: Centre):
    response = browser(centre.dave).post(
        reverse("calldeck-campaign-create"),
        campaign_post(client=centre.bank.pk, abandon_cap_pct="2.00", abandon_target_pct="2.50"),
    )

    assert response.status_code == 200
    assert response.context["form"].errors["abandon_target_pct"] == [str(services.TARGET_OVER_CAP)]
    assert not Campaign.objects.exists()


def test_it_offers_only_the_users_clients_and_their_offers(centre: Centre):
    Offer.objects.create(client=centre.bank, code="A", name="银行产品")
    Offer.objects.create(client=centre.insurer, code="B", name="保险产品")

    response = browser(centre.dave).get(reverse("calldeck-campaign-create"))

    form = response.context["form"]
    assert list(form.fields["client"].queryset) == [centre.bank]
    assert [o.name for o in form.fields["offer"].queryset] == ["银行产品"]


def test_it_refuses_creating_for_a_client_the_manager_lacks(centre: Centre):
    response = browser(centre.dave).post(
        reverse("calldeck-campaign-create"), campaign_post(client=centre.insurer.pk)
    )

    # Not a choice on the form, so the form refuses it before any service runs.
    assert response.status_code == 200
    assert "client" in response.context["form"].errors
    assert not Campaign.objects.exists()


def test_it_edits_a_campaign_through_the_page(centre: Centre):
    campaign = f.make_campaign(centre.bank, name="旧名")
    client = browser(centre.dave)
    assert (
        client.get(reverse("calldeck-campaign-edit", kwargs={"pk": campaign.pk})).status_code == 200
    )

    response = client.post(
        reverse("calldeck-campaign-edit", kwargs={"pk": campaign.pk}),
        campaign_edit_post(campaign, name="新名", dial_mode="progressive", max_attempts="3"),
    )

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.dial_mode, campaign.max_attempts) == ("新名", "progressive", 3)
    entry = AuditEntry.objects.get(action="campaign.update")
    assert entry.changes["name"] == ["旧名", "新名"]


def test_it_hides_another_clients_campaign_from_every_page(centre: Centre):
    campaign = f.make_campaign(centre.insurer, name="保险续保")
    client = browser(centre.dave)

    for name in ("calldeck-campaign-detail", "calldeck-campaign-edit"):
        assert client.get(reverse(name, kwargs={"pk": campaign.pk})).status_code == 404
    for name in (
        "calldeck-campaign-edit",
        "calldeck-campaign-transition",
        "calldeck-campaign-windows",
        "calldeck-campaign-retry-rules",
    ):
        url = reverse(name, kwargs={"pk": campaign.pk})
        assert client.post(url, {"name": "x", "to_status": "paused"}).status_code == 404
    campaign.refresh_from_db()
    assert (campaign.name, campaign.status) == ("保险续保", CampaignStatus.ACTIVE)


def test_it_shows_the_detail_with_only_the_allowed_status_buttons(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.ACTIVE)

    response = browser(centre.dave).get(
        reverse("calldeck-campaign-detail", kwargs={"pk": campaign.pk})
    )

    assert response.status_code == 200
    offered = [s["value"] for s in response.context["next_statuses"]]
    assert offered == [CampaignStatus.PAUSED, CampaignStatus.COMPLETED]
    page = response.content.decode()
    assert 'value="paused"' in page and 'value="completed"' in page
    assert 'value="archived"' not in page
    assert "<kbd>1</kbd>" in page  # the dispositions with their shortcut keys


def test_it_shows_no_status_buttons_to_a_supervisor(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.ACTIVE)

    page = (
        browser(centre.carol)
        .get(reverse("calldeck-campaign-detail", kwargs={"pk": campaign.pk}))
        .content.decode()
    )

    assert 'name="to_status"' not in page


def test_it_changes_the_status_by_a_plain_post(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.ACTIVE)
    url = reverse("calldeck-campaign-transition", kwargs={"pk": campaign.pk})

    response = browser(centre.dave).post(url, {"to_status": "paused"})

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED


def test_it_changes_the_status_with_htmx_and_answers_with_the_panel(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.PAUSED)
    url = reverse("calldeck-campaign-transition", kwargs={"pk": campaign.pk})

    response = htmx(centre.dave).post(url, {"to_status": "active"})

    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="status-panel"' in body
    assert "<html" not in body
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE


def test_it_answers_a_refused_status_change_with_the_reason(centre: Centre):
    campaign = make_draft(centre.bank)
    url = reverse("calldeck-campaign-transition", kwargs={"pk": campaign.pk})

    response = htmx(centre.dave).post(url, {"to_status": "active"})

    assert response.status_code == 422
    expected = services.NO_WINDOWS % {"to": CampaignStatus.ACTIVE.label}
    assert expected in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_it_saves_calling_windows_from_the_weekday_table(centre: Centre):
    campaign = make_draft(centre.bank)
    url = reverse("calldeck-campaign-windows", kwargs={"pk": campaign.pk})

    response = browser(centre.dave).post(
        url,
        {
            "w0_0_start": "09:00",
            "w0_0_end": "12:00",
            "w0_1_start": "13:30",
            "w0_1_end": "20:00",
            "w5_0_start": "10:00",
            "w5_0_end": "18:00",
        },
    )

    assert response.status_code == 302
    assert [(w.weekday, f"{w.start:%H:%M}") for w in campaign.windows.all()] == [
        (0, "09:00"),
        (0, "13:30"),
        (5, "10:00"),
    ]


def test_it_shows_overlapping_windows_as_an_error(centre: Centre):
    campaign = make_draft(centre.bank)
    url = reverse("calldeck-campaign-windows", kwargs={"pk": campaign.pk})

    response = htmx(centre.dave).post(
        url,
        {"w0_0_start": "09:00", "w0_0_end": "12:00", "w0_1_start": "11:00", "w0_1_end": "14:00"},
    )

    assert response.status_code == 422
    assert "09:00–12:00" in response.content.decode()  # the overlap, named
    assert not campaign.windows.exists()


def test_it_saves_retry_rules_from_the_page(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    url = reverse("calldeck-campaign-retry-rules", kwargs={"pk": campaign.pk})
    data = {outcome: "60" for outcome in RetryOutcome.values}
    data[RetryOutcome.BUSY] = "15"

    response = htmx(centre.dave).post(url, data)

    assert response.status_code == 200
    assert campaign.retry_rules.get(outcome=RetryOutcome.BUSY).delay_minutes == 15


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "calldeck-campaigns"),
        ("get", "calldeck-campaign-create"),
        ("get", "calldeck-campaign-detail"),
        ("get", "calldeck-campaign-edit"),
        ("post", "calldeck-campaign-transition"),
        ("post", "calldeck-campaign-windows"),
        ("post", "calldeck-campaign-retry-rules"),
    ],
)
def test_it_refuses_agents_with_403(centre: Centre, method: str, name: str):
    campaign = f.make_campaign(centre.bank)
    f.assign(campaign, agent=centre.alice)  # even their own campaign of today
    kwargs = (
        {} if name in ("calldeck-campaigns", "calldeck-campaign-create") else {"pk": campaign.pk}
    )

    response = getattr(browser(centre.alice), method)(reverse(name, kwargs=kwargs))

    assert response.status_code == 403


@pytest.mark.parametrize("persona", ["carol", "erin"])
def test_it_lets_readers_in_but_not_into_editing(centre: Centre, persona: str):
    campaign = f.make_campaign(centre.bank)
    client = browser(getattr(centre, persona))

    assert (
        client.get(reverse("calldeck-campaign-detail", kwargs={"pk": campaign.pk})).status_code
        == 200
    )
    assert (
        client.get(reverse("calldeck-campaign-edit", kwargs={"pk": campaign.pk})).status_code == 403
    )
    transition = reverse("calldeck-campaign-transition", kwargs={"pk": campaign.pk})
    assert client.post(transition, {"to_status": "paused"}).status_code == 403
