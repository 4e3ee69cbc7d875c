"""The desk page: htmx actions swap the panel; refusals come back as 409 with the reason."""

from __future__ import annotations

import pytest

from calldeck.calls.models import AgentState, Call
from calldeck.dialing import runtime
from tests import factories as f


@pytest.fixture
def agent_client(client, centre):  # type: ignore[no-untyped-def]
    campaign = f.make_campaign(centre.bank, script_text="{{ customer.name }}您好")
    f.assign(campaign, team=centre.team_a)
    f.make_lead(
        campaign, customer=f.make_customer(centre.bank, name="李雷", phones=["+8613900001111"])
    )
    f.make_lead(campaign)
    rt = runtime.install_inline(f.sim_world(answer_rate=1.0))
    client.force_login(centre.alice)
    yield client, campaign, rt
    runtime.install(None)


def test_it_signs_the_agent_in_and_shows_todays_tasks(agent_client, centre):  # type: ignore[no-untyped-def]
    client, campaign, _rt = agent_client
    page = client.get("/desk/")
    assert page.status_code == 200
    html = page.content.decode()
    assert campaign.name in html and 'data-state="ready"' in html
    assert centre.alice.presence.state == AgentState.READY


def test_it_walks_the_flow_through_htmx_posts(agent_client, centre):  # type: ignore[no-untyped-def]
    client, campaign, rt = agent_client
    client.get("/desk/")
    preview = client.post("/desk/act/next/", HTTP_HX_REQUEST="true")
    html = preview.content.decode()
    assert preview.status_code == 200 and "李雷您好" in html
    # The full number is nowhere in the page; the masked one is.
    assert "13900001111" not in html and "139****1111" in html
    assert client.post("/desk/act/dial/").status_code == 200
    rt.clock.advance(5)
    assert 'data-state="talking"' in client.get("/desk/panel/").content.decode()
    client.post("/desk/act/hangup/")
    refused = client.post("/desk/act/next/")
    assert refused.status_code == 409
    assert "Save the outcome of the last call first" in refused.content.decode()
    missing = client.post("/desk/wrapup/", {"notes": "x"})
    assert missing.status_code == 422 and "Choose the outcome" in missing.content.decode()
    cb = campaign.disposition_set.dispositions.get(code="callback")
    no_time = client.post("/desk/wrapup/", {"disposition": cb.pk, "callback_at": ""})
    assert no_time.status_code == 422 and "needs the time" in no_time.content.decode()
    sale = campaign.disposition_set.dispositions.get(code="sale")
    done = client.post(
        "/desk/wrapup/", {"disposition": sale.pk, "notes": "成交", "sale_amount": "2500"}
    )
    assert done.status_code == 200 and 'data-state="ready"' in done.content.decode()
    call = Call.objects.get()
    assert call.notes == "成交" and call.sale.amount == 2500


def test_it_pauses_with_a_reason_and_resumes(agent_client, centre):  # type: ignore[no-untyped-def]
    client, _campaign, _rt = agent_client
    client.get("/desk/")
    assert client.post("/desk/act/pause/", {"code": ""}).status_code == 409
    paused = client.post("/desk/act/pause/", {"code": "meeting"})
    assert 'data-state="paused"' in paused.content.decode()
    assert 'data-state="ready"' in client.post("/desk/act/resume/").content.decode()


def test_it_gives_the_lead_back_on_logout(agent_client, centre):  # type: ignore[no-untyped-def]
    client, _campaign, _rt = agent_client
    client.get("/desk/")
    client.post("/desk/act/next/")
    lead = centre.alice.presence.lead
    client.post("/logout/")
    lead.refresh_from_db()
    assert lead.status == "new" and lead.claimed_by is None


def test_it_rejects_get_on_actions_and_unknown_actions(agent_client):  # type: ignore[no-untyped-def]
    client, _campaign, _rt = agent_client
    assert client.get("/desk/act/next/").status_code == 405
    assert client.post("/desk/act/explode/").status_code == 404
    assert client.post("/desk/act/dial/", {"phone": "abc"}).status_code == 422


def test_it_leaves_other_agents_calls_alone_when_a_desk_opens(agent_client, centre):  # type: ignore[no-untyped-def]
    client, _campaign, rt = agent_client
    client.get("/desk/")
    client.post("/desk/act/next/")
    client.post("/desk/act/dial/")
    rt.clock.advance(5)
    # Bob opening his desk must not touch Alice's live call: only a starting runtime
    # recovers open calls, and then they are orphans by definition.
    bob = type(client)()
    bob.force_login(centre.bob)
    assert bob.get("/desk/").status_code == 200
    call = Call.objects.get()
    assert call.ended_at is None and centre.alice.presence.state == AgentState.TALKING
