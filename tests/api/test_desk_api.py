"""The desk over JSON: same services, same refusals, never a full number."""

from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient

from calldeck.accounts.models import ApiToken
from calldeck.calls.models import Call
from calldeck.dialing import runtime
from tests import factories as f


@pytest.fixture
def token(centre):  # type: ignore[no-untyped-def]
    raw = ApiToken.new_secret()
    ApiToken.objects.create(
        user=centre.alice, name="softphone", prefix=raw[:8], digest=ApiToken.digest_of(raw)
    )
    return raw


@pytest.fixture
def setup(centre):  # type: ignore[no-untyped-def]
    campaign = f.make_campaign(centre.bank)
    f.assign(campaign, team=centre.team_a)
    lead = f.make_lead(campaign)
    f.make_lead(campaign)
    rt = runtime.install_inline(f.sim_world(answer_rate=1.0))
    yield campaign, lead, rt
    runtime.install(None)


def post(client: HttpClient, path: str, token: str, body: dict | None = None):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/desk/{path}",
        data=json.dumps(body or {}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_it_runs_the_preview_flow_and_answers_409_before_wrapup(client, centre, token, setup):  # type: ignore[no-untyped-def]
    campaign, lead, rt = setup
    r = post(client, "next", token)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["state"] == "preview" and body["lead"]["lead_id"] == lead.pk
    full = lead.customer.phones.get().e164
    # The rule: an agent's JSON never carries the full number, in any form.
    assert full not in r.content.decode() and full[3:] not in r.content.decode()
    assert "****" in body["lead"]["phones"][0]["number"]

    assert post(client, "dial", token).json()["state"] == "dialing"
    rt.clock.advance(5)
    state = client.get("/api/v1/desk/state", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert state["state"] == "talking" and state["call"]["phase"] == "talking"
    assert post(client, "hangup", token).json()["state"] == "wrapup"

    refused = post(client, "next", token)
    assert refused.status_code == 409
    assert refused.json()["code"] == "wrapup_required" and refused.json()["message"]

    sale = campaign.disposition_set.dispositions.get(code="sale")
    bad = post(client, "wrapup", token, {"disposition_id": 999999})
    assert bad.status_code == 422 and bad.json()["field"] == "disposition"
    done = post(client, "wrapup", token, {"disposition_id": sale.pk, "notes": "成交"})
    assert done.status_code == 200 and done.json()["state"] == "ready"
    assert Call.objects.get().disposition == sale


def test_it_validates_bodies_with_the_error_shape(client, centre, token, setup):  # type: ignore[no-untyped-def]
    r = post(client, "pause", token, {"code": "nap"})
    assert r.status_code == 422
    assert set(r.json()) == {"code", "message", "field"} and r.json()["field"] == "code"


def test_it_needs_authentication(client, centre, setup):  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/desk/state").status_code == 401
    r = client.get("/api/v1/desk/state", HTTP_AUTHORIZATION="Bearer cd_wrong")
    assert r.status_code == 401


def test_it_refuses_a_revoked_token(client, centre, token, setup):  # type: ignore[no-untyped-def]
    from django.utils import timezone

    ApiToken.objects.update(revoked_at=timezone.now())
    assert client.get("/api/v1/desk/state", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_it_works_with_a_session_too(client, centre, setup):  # type: ignore[no-untyped-def]
    client.force_login(centre.alice)
    assert client.get("/api/v1/desk/state").json()["state"] == "logged_out"


def test_it_is_for_agents_only(client, centre, setup):  # type: ignore[no-untyped-def]
    client.force_login(centre.carol)
    r = client.get("/api/v1/desk/state")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


def test_it_publishes_the_openapi_schema(client, db):  # type: ignore[no-untyped-def]
    schema = client.get("/api/v1/openapi.json").json()
    for path in ("state", "next", "dial", "hangup", "wrapup"):
        assert f"/api/v1/desk/{path}" in schema["paths"]
