"""Builders for the campaign tests: form data as a browser posts it, and extra rows."""

from __future__ import annotations

from typing import Any

from calldeck.accounts.models import Client, Role, Team, User
from calldeck.campaigns.models import Campaign, CampaignStatus
from tests import factories as f


def campaign_post(**overrides: Any) -> dict[str, Any]:
    """The campaign form as a browser posts it with valid values; override any field."""
    data: dict[str, Any] = {
        "name": "信用卡分期推广",
        "description": "",
        "kind": "special",
        "dial_mode": "preview",
        "offer": "",
        "script": "",
        "disposition_set": "",
        "preview_fields": ["gender", "city"],
        "starts_on": "",
        "ends_on": "",
        "max_attempts": "5",
        "abandon_cap_pct": "3.00",
        "abandon_target_pct": "2.50",
        "abandon_window": "30d",
        "connect_limit_s": "2",
        "ring_timeout_s": "25",
        "target_success_rate_pct": "",
        "target_sales": "",
        "target_revenue": "",
        "cost_agent_hour": "35.00",
        "cost_talk_minute": "0.10",
        "cost_message": "0.05",
        "cost_list": "0",
        "cost_fixed": "0",
        "retention_days": "90",
        "recording_retention_days": "90",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def campaign_edit_post(campaign: Campaign, **overrides: Any) -> dict[str, Any]:
    """The edit form of ``campaign`` posted unchanged except for ``overrides``."""
    current: dict[str, Any] = {
        "name": campaign.name,
        "kind": campaign.kind,
        "dial_mode": campaign.dial_mode,
        "offer": campaign.offer_id or "",
        "script": campaign.script_id or "",
        "disposition_set": campaign.disposition_set_id,
        "preview_fields": list(campaign.preview_fields),
    }
    return campaign_post(**{**current, **overrides})


def make_draft(client: Client, **kw: Any) -> Campaign:
    """A draft campaign without calling windows, as before its manager sets them."""
    kw.setdefault("always_open", False)
    return f.make_campaign(client, status=CampaignStatus.DRAFT, **kw)


def make_team_of(*members: User, supervisor: User | None = None, name: str | None = None) -> Team:
    kw: dict[str, Any] = {"name": name} if name else {}
    return f.make_team(members=list(members), supervisor=supervisor, **kw)


def make_supervisor(*clients: Client, **kw: Any) -> User:
    return f.make_user(Role.SUPERVISOR, clients=list(clients), **kw)
