"""Calling windows and retry rules of a campaign."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from calldeck.audit.models import AuditEntry
from calldeck.campaigns import services
from calldeck.campaigns.models import CampaignStatus, RetryOutcome, RetryRule
from tests import factories as f
from tests.campaigns.builders import make_draft
from tests.conftest import Centre

T = dt.time


def test_it_replaces_all_windows_and_audits_old_and_new(centre: Centre):
    campaign = make_draft(centre.bank)
    services.calling_windows_replace(
        actor=centre.dave, campaign=campaign, windows=[(0, T(9), T(12))]
    )

    services.calling_windows_replace(
        actor=centre.dave,
        campaign=campaign,
        windows=[(1, T(13, 30), T(20)), (1, T(9), T(12))],
    )

    windows = [(w.weekday, w.start, w.end) for w in campaign.windows.all()]
    assert windows == [(1, T(9), T(12)), (1, T(13, 30), T(20))]
    entry = AuditEntry.objects.filter(action="campaign.windows").order_by("-pk").first()
    assert entry is not None
    assert entry.changes["windows"] == [
        ["0 09:00:00-12:00:00"],
        ["1 09:00:00-12:00:00", "1 13:30:00-20:00:00"],
    ]


def test_it_refuses_a_window_that_ends_before_it_starts(centre: Centre):
    campaign = make_draft(centre.bank)

    with pytest.raises(ValidationError) as exc:
        services.calling_windows_replace(
            actor=centre.dave, campaign=campaign, windows=[(2, T(18), T(9))]
        )

    assert "windows" in exc.value.message_dict
    assert not campaign.windows.exists()


def test_it_refuses_overlapping_windows_on_a_weekday_and_keeps_the_old_ones(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.DRAFT)
    before = campaign.windows.count()

    with pytest.raises(ValidationError) as exc:
        services.calling_windows_replace(
            actor=centre.dave,
            campaign=campaign,
            windows=[(0, T(9), T(12)), (0, T(11), T(14)), (1, T(11), T(14))],
        )

    [message] = exc.value.message_dict["windows"]
    assert "09:00–12:00" in message and "11:00–14:00" in message
    assert campaign.windows.count() == before


def test_it_allows_windows_that_touch(centre: Centre):
    campaign = make_draft(centre.bank)

    services.calling_windows_replace(
        actor=centre.dave, campaign=campaign, windows=[(0, T(9), T(12)), (0, T(12), T(14))]
    )

    assert campaign.windows.count() == 2


def test_it_refuses_removing_every_window_of_an_active_campaign(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.ACTIVE)

    with pytest.raises(ValidationError) as exc:
        services.calling_windows_replace(actor=centre.dave, campaign=campaign, windows=[])

    assert "windows" in exc.value.message_dict
    assert campaign.windows.count() == 7


def test_it_lets_only_campaign_managers_change_windows(centre: Centre):
    campaign = make_draft(centre.bank)

    with pytest.raises(PermissionDenied):
        services.calling_windows_replace(
            actor=centre.carol, campaign=campaign, windows=[(0, T(9), T(12))]
        )


def test_it_updates_retry_delays_and_audits_the_changed_ones(centre: Centre):
    campaign = f.make_campaign(centre.bank)

    services.retry_rules_update(
        actor=centre.dave,
        campaign=campaign,
        minutes_by_outcome={RetryOutcome.BUSY: 15, RetryOutcome.NO_ANSWER: 120},
    )

    rules = dict(
        RetryRule.objects.filter(campaign=campaign).values_list("outcome", "delay_minutes")
    )
    assert rules[RetryOutcome.BUSY] == 15
    assert rules[RetryOutcome.NO_ANSWER] == 120
    entry = AuditEntry.objects.get(action="campaign.retry_rules")
    # No answer was already 120 minutes: not a change.
    assert entry.changes == {"busy": [30, 15]}


def test_it_creates_a_missing_retry_rule(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    RetryRule.objects.filter(campaign=campaign, outcome=RetryOutcome.MACHINE).delete()

    services.retry_rules_update(
        actor=centre.dave, campaign=campaign, minutes_by_outcome={RetryOutcome.MACHINE: 300}
    )

    assert campaign.retry_rules.get(outcome=RetryOutcome.MACHINE).delay_minutes == 300


@pytest.mark.parametrize("minutes", [0, -5, services.MAX_RETRY_MINUTES + 1])
def test_it_refuses_a_retry_delay_out_of_range(centre: Centre, minutes: int):
    campaign = f.make_campaign(centre.bank)

    with pytest.raises(ValidationError) as exc:
        services.retry_rules_update(
            actor=centre.dave,
            campaign=campaign,
            minutes_by_outcome={RetryOutcome.NO_ANSWER: 60, RetryOutcome.BUSY: minutes},
        )

    assert list(exc.value.message_dict) == ["busy"]
    # Nothing half-written: the valid no-answer change was not saved either.
    assert campaign.retry_rules.get(outcome=RetryOutcome.NO_ANSWER).delay_minutes == 120


def test_it_refuses_an_unknown_retry_outcome(centre: Centre):
    campaign = f.make_campaign(centre.bank)

    with pytest.raises(ValidationError):
        services.retry_rules_update(
            actor=centre.dave, campaign=campaign, minutes_by_outcome={"fax": 10}
        )


def test_it_refuses_retry_changes_on_another_clients_campaign(centre: Centre):
    campaign = f.make_campaign(centre.insurer)

    with pytest.raises(PermissionDenied):
        services.retry_rules_update(
            actor=centre.dave, campaign=campaign, minutes_by_outcome={RetryOutcome.BUSY: 10}
        )
