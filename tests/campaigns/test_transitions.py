"""The campaign status table: every allowed move, refused moves, and the dialable guards."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from calldeck.audit.models import AuditEntry
from calldeck.campaigns import services
from calldeck.campaigns.models import CampaignStatus
from tests import factories as f
from tests.campaigns.builders import make_draft
from tests.conftest import Centre

S = CampaignStatus
ALLOWED = [
    (S.DRAFT, S.PILOT),
    (S.DRAFT, S.ACTIVE),
    (S.PILOT, S.ACTIVE),
    (S.PILOT, S.DRAFT),
    (S.ACTIVE, S.PAUSED),
    (S.PAUSED, S.ACTIVE),
    (S.ACTIVE, S.COMPLETED),
    (S.PAUSED, S.COMPLETED),
    (S.COMPLETED, S.ARCHIVED),
]


def test_it_allows_exactly_the_documented_moves():
    table = {(a, b) for a, targets in services.CAMPAIGN_TRANSITIONS.items() for b in targets}
    assert table == set(ALLOWED)


@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED)
def test_it_moves_a_campaign_along_each_allowed_transition(
    centre: Centre, from_status: str, to_status: str
):
    campaign = f.make_campaign(centre.bank, status=from_status)

    moved = services.campaign_transition(actor=centre.dave, campaign=campaign, to_status=to_status)

    campaign.refresh_from_db()
    assert moved.status == campaign.status == to_status
    entry = AuditEntry.objects.get(action="campaign.transition", object_id=str(campaign.pk))
    assert entry.changes == {"status": [from_status, to_status]}
    assert entry.actor == centre.dave


@pytest.mark.parametrize(
    ("from_status", "to_status"),
    [(S.DRAFT, S.COMPLETED), (S.ACTIVE, S.DRAFT), (S.ARCHIVED, S.ACTIVE), (S.ACTIVE, S.ACTIVE)],
)
def test_it_refuses_a_move_outside_the_table_naming_both_statuses(
    centre: Centre, from_status: str, to_status: str
):
    campaign = f.make_campaign(centre.bank, status=from_status)

    with pytest.raises(ValidationError) as exc:
        services.campaign_transition(actor=centre.dave, campaign=campaign, to_status=to_status)

    expected = services.TRANSITION_REFUSED % {
        "from": S(from_status).label,
        "to": S(to_status).label,
    }
    assert exc.value.message_dict["status"] == [expected]
    campaign.refresh_from_db()
    assert campaign.status == from_status
    assert not AuditEntry.objects.filter(action="campaign.transition").exists()


@pytest.mark.parametrize("to_status", [S.PILOT, S.ACTIVE])
def test_it_refuses_dialing_a_campaign_without_calling_windows(centre: Centre, to_status: str):
    campaign = make_draft(centre.bank)

    with pytest.raises(ValidationError) as exc:
        services.campaign_transition(actor=centre.dave, campaign=campaign, to_status=to_status)

    assert exc.value.message_dict["status"] == [services.NO_WINDOWS % {"to": S(to_status).label}]
    campaign.refresh_from_db()
    assert campaign.status == S.DRAFT


def test_it_refuses_activating_a_campaign_whose_end_date_has_passed(centre: Centre):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    campaign = f.make_campaign(centre.bank, status=S.PAUSED, ends_on=yesterday)

    with pytest.raises(ValidationError) as exc:
        services.campaign_transition(actor=centre.dave, campaign=campaign, to_status=S.ACTIVE)

    assert exc.value.message_dict["status"][0].startswith("The campaign ended on")


def test_it_still_completes_a_campaign_without_calling_windows(centre: Centre):
    # Stopping is never blocked by the set-up rules that guard starting.
    campaign = f.make_campaign(centre.bank, status=S.PAUSED, always_open=False)

    services.campaign_transition(actor=centre.dave, campaign=campaign, to_status=S.COMPLETED)

    campaign.refresh_from_db()
    assert campaign.status == S.COMPLETED


@pytest.mark.parametrize("persona", ["carol", "erin", "alice"])
def test_it_lets_only_campaign_managers_change_the_status(centre: Centre, persona: str):
    campaign = f.make_campaign(centre.bank, status=S.ACTIVE)

    with pytest.raises(PermissionDenied):
        services.campaign_transition(
            actor=getattr(centre, persona), campaign=campaign, to_status=S.PAUSED
        )


def test_it_refuses_a_status_change_on_another_clients_campaign(centre: Centre):
    campaign = f.make_campaign(centre.insurer, status=S.ACTIVE)

    with pytest.raises(PermissionDenied):
        services.campaign_transition(actor=centre.dave, campaign=campaign, to_status=S.PAUSED)


def test_it_lists_the_next_statuses_in_status_order(centre: Centre):
    assert services.campaign_next_statuses(f.make_campaign(centre.bank, status=S.DRAFT)) == [
        S.PILOT,
        S.ACTIVE,
    ]
    assert services.campaign_next_statuses(f.make_campaign(centre.bank, status=S.ARCHIVED)) == []
