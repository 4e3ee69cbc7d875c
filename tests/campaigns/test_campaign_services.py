"""Creating and editing campaigns through the services: defaults, validation, audit, access."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from calldeck.audit.models import AuditEntry
from calldeck.campaigns import services
from calldeck.campaigns.defaults import STANDARD_DISPOSITIONS, STANDARD_RETRY_MINUTES
from calldeck.campaigns.models import (
    Campaign,
    CampaignStatus,
    DispositionSet,
    Offer,
    RetryRule,
)
from tests import factories as f
from tests.conftest import Centre


def messages_of(exc: pytest.ExceptionInfo[ValidationError], field: str) -> list[str]:
    return exc.value.message_dict[field]


def test_it_creates_a_draft_with_the_standard_set_retry_rules_and_windows(centre: Centre):
    campaign = services.campaign_create(actor=centre.dave, client=centre.bank, name="分期推广")

    # A new campaign is a draft, owned by the client it was created for.
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.client == centre.bank
    assert campaign.created_by == centre.dave
    # Its own copy of the standard outcomes, so editing them touches no other campaign.
    codes = list(campaign.disposition_set.dispositions.values_list("code", flat=True))
    assert codes == [code for code, *_rest in STANDARD_DISPOSITIONS]
    assert campaign.disposition_set.client == centre.bank
    rules = dict(
        RetryRule.objects.filter(campaign=campaign).values_list("outcome", "delay_minutes")
    )
    assert rules == {str(k): v for k, v in STANDARD_RETRY_MINUTES.items()}
    # Mon–Fri 09:00–20:00 and Sat–Sun 10:00–18:00.
    windows = [(w.weekday, w.start, w.end) for w in campaign.windows.all()]
    assert windows == [(d, dt.time(9), dt.time(20)) for d in range(5)] + [
        (d, dt.time(10), dt.time(18)) for d in (5, 6)
    ]


def test_it_uses_a_given_disposition_set_of_the_same_client(centre: Centre):
    dset = DispositionSet.objects.create(client=centre.bank, name="回访结果")
    before = DispositionSet.objects.count()

    campaign = services.campaign_create(
        actor=centre.dave, client=centre.bank, name="回访", disposition_set=dset
    )

    assert campaign.disposition_set == dset
    assert DispositionSet.objects.count() == before


def test_it_audits_the_creation_with_its_settings(centre: Centre):
    campaign = services.campaign_create(
        actor=centre.dave,
        client=centre.bank,
        name="分期推广",
        abandon_cap_pct=Decimal("3.00"),
        starts_on=dt.date(2026, 3, 1),
    )

    entry = AuditEntry.objects.get(action="campaign.create", object_id=str(campaign.pk))
    assert entry.actor == centre.dave
    assert entry.client_id == centre.bank.pk
    assert entry.changes["name"] == "分期推广"
    assert entry.changes["abandon_cap_pct"] == "3.00"
    assert entry.changes["starts_on"] == "2026-03-01"
    assert entry.changes["status"] == "draft"
    assert len(entry.changes["windows"]) == 7


def test_it_refuses_an_end_date_before_the_start_date(centre: Centre):
    with pytest.raises(ValidationError) as exc:
        services.campaign_create(
            actor=centre.dave,
            client=centre.bank,
            name="分期推广",
            starts_on=dt.date(2026, 3, 10),
            ends_on=dt.date(2026, 3, 1),
        )

    assert messages_of(exc, "ends_on") == [str(services.ENDS_BEFORE_START)]


def test_it_refuses_an_abandon_target_above_the_cap(centre: Centre):
    with pytest.raises(ValidationError) as exc:
        services.campaign_create(
            actor=centre.dave,
            client=centre.bank,
            name="分期推广",
            abandon_cap_pct=Decimal("3.00"),
            abandon_target_pct=Decimal("3.50"),
        )

    assert messages_of(exc, "abandon_target_pct") == [str(services.TARGET_OVER_CAP)]


def test_it_refuses_an_offer_of_another_client_and_writes_nothing(centre: Centre):
    offer = Offer.objects.create(client=centre.insurer, code="LIFE", name="寿险")
    counts = (Campaign.objects.count(), DispositionSet.objects.count(), AuditEntry.objects.count())

    with pytest.raises(ValidationError) as exc:
        services.campaign_create(actor=centre.dave, client=centre.bank, name="x", offer=offer)

    assert messages_of(exc, "offer") == [str(services.OTHER_CLIENT)]
    # No campaign, no orphan disposition set, no audit entry.
    after = (Campaign.objects.count(), DispositionSet.objects.count(), AuditEntry.objects.count())
    assert after == counts


def test_it_reports_every_bad_field_at_once(centre: Centre):
    with pytest.raises(ValidationError) as exc:
        services.campaign_create(
            actor=centre.dave,
            client=centre.bank,
            name="",
            ring_timeout_s=5,
            preview_fields=["salary"],
        )

    assert set(exc.value.message_dict) == {"name", "ring_timeout_s", "preview_fields"}


def test_it_orders_preview_fields_as_the_catalogue(centre: Centre):
    campaign = services.campaign_create(
        actor=centre.dave, client=centre.bank, name="x", preview_fields=["city", "gender", "city"]
    )

    assert campaign.preview_fields == ["gender", "city"]


@pytest.mark.parametrize("persona", ["carol", "erin", "quinn", "alice"])
def test_it_lets_only_campaign_managers_create(centre: Centre, persona: str):
    with pytest.raises(PermissionDenied):
        services.campaign_create(actor=getattr(centre, persona), client=centre.bank, name="x")


def test_it_refuses_a_campaign_for_a_client_the_manager_does_not_have(centre: Centre):
    with pytest.raises(PermissionDenied):
        services.campaign_create(actor=centre.dave, client=centre.insurer, name="x")
    assert not Campaign.objects.exists()


def test_it_updates_settings_and_audits_only_what_changed(centre: Centre):
    campaign = f.make_campaign(centre.bank, name="旧名", max_attempts=5)

    updated = services.campaign_update(
        actor=centre.dave,
        campaign=campaign,
        name="新名",
        max_attempts=5,
        abandon_cap_pct=Decimal("3"),  # equal to the stored 3.00: not a change
        dial_mode="progressive",
    )

    campaign.refresh_from_db()
    assert (campaign.name, campaign.dial_mode) == ("新名", "progressive")
    assert updated.name == "新名"
    entry = AuditEntry.objects.get(action="campaign.update")
    assert entry.changes == {"name": ["旧名", "新名"], "dial_mode": ["preview", "progressive"]}


def test_it_writes_no_audit_entry_when_nothing_changed(centre: Centre):
    campaign = f.make_campaign(centre.bank, name="同名")

    services.campaign_update(actor=centre.dave, campaign=campaign, name="同名")

    assert not AuditEntry.objects.filter(action="campaign.update").exists()


def test_it_leaves_the_campaign_untouched_when_an_update_is_refused(centre: Centre):
    campaign = f.make_campaign(centre.bank, name="原名", starts_on=dt.date(2026, 3, 1))

    with pytest.raises(ValidationError) as exc:
        services.campaign_update(
            actor=centre.dave, campaign=campaign, name="新名", ends_on=dt.date(2026, 2, 1)
        )

    assert "ends_on" in exc.value.message_dict
    campaign.refresh_from_db()
    assert campaign.name == "原名"
    assert campaign.ends_on is None


def test_it_refuses_an_update_by_a_supervisor(centre: Centre):
    campaign = f.make_campaign(centre.bank)

    with pytest.raises(PermissionDenied):
        services.campaign_update(actor=centre.carol, campaign=campaign, name="x")


def test_it_refuses_an_update_of_another_clients_campaign(centre: Centre):
    campaign = f.make_campaign(centre.insurer, name="保险")

    with pytest.raises(PermissionDenied):
        services.campaign_update(actor=centre.dave, campaign=campaign, name="x")
    campaign.refresh_from_db()
    assert campaign.name == "保险"


def test_it_refuses_changes_to_an_archived_campaign(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.ARCHIVED)

    with pytest.raises(ValidationError) as exc:
        services.campaign_update(actor=centre.dave, campaign=campaign, name="x")

    assert exc.value.messages == [str(services.ARCHIVED_READ_ONLY)]


def test_it_refuses_fields_the_services_do_not_set(centre: Centre):
    campaign = f.make_campaign(centre.bank)

    # Status moves only by transition; the client is fixed at creation.
    with pytest.raises(TypeError):
        services.campaign_update(actor=centre.dave, campaign=campaign, status="active")
    with pytest.raises(TypeError):
        services.campaign_update(actor=centre.dave, campaign=campaign, client=centre.insurer)
