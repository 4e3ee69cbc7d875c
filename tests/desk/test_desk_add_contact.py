"""The desk during a call: a new number or e-mail for the customer, their contact history.

Alice is an agent of the bank (tests/conftest.py). The answers are sections of the panel
(htmx), so the page never reloads during a call; numbers come back masked.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from calldeck.calls.models import AgentState, Call, Direction
from calldeck.customers.models import ContactSource, EmailAddress, PhoneNumber
from calldeck.dialing import runtime
from tests import factories as f

FULL_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ADD_PHONE = reverse("calldeck-desk-customer-add", kwargs={"what": "phone"})
ADD_EMAIL = reverse("calldeck-desk-customer-add", kwargs={"what": "email"})
HISTORY = reverse("calldeck-desk-customer-history")


@pytest.fixture
def desk(client, centre):  # type: ignore[no-untyped-def]
    """Alice at her desk, talking to 李雷, with the panel as the page last showed it."""
    campaign = f.make_campaign(centre.bank, script_text="{{ customer.name }}您好")
    f.assign(campaign, team=centre.team_a)
    customer = f.make_customer(centre.bank, name="李雷", phones=["+8613900001111"])
    lead = f.make_lead(campaign, customer=customer)
    rt = runtime.install_inline(f.sim_world(answer_rate=1.0, patience_min_s=300))
    client.force_login(centre.alice)
    client.get("/desk/")
    preview = client.post("/desk/act/next/").content.decode()
    # No form for a new number before the customer is on the line.
    assert 'data-testid="desk-phone-form"' not in preview
    client.post("/desk/act/dial/")
    rt.clock.advance(5)
    yield client, lead, customer
    runtime.install(None)


def test_it_adds_a_number_during_the_call_without_leaving_the_page(desk, centre):  # type: ignore[no-untyped-def]
    client, lead, customer = desk
    panel = client.get("/desk/panel/").content.decode()
    assert 'data-state="talking"' in panel and 'data-testid="desk-phone-form"' in panel
    answer = client.post(
        ADD_PHONE,
        {"lead": lead.pk, "number": "（021）5555-6666转12", "kind": ""},
        HTTP_HX_REQUEST="true",
    )
    html = answer.content.decode()
    # Only the section comes back: the call, its timer and the notes stay as they are.
    assert answer.status_code == 200 and "<html" not in html and 'id="desk-contact"' in html
    assert "Number 215***6666 added." in html and "55556666" not in html
    phone = PhoneNumber.objects.get(customer=customer, e164="+862155556666")
    assert (phone.extension, phone.kind, phone.source) == ("12", "home", ContactSource.AGENT)
    assert phone.added_by == centre.alice and phone.added_at is not None
    centre.alice.presence.refresh_from_db()
    assert centre.alice.presence.state == AgentState.TALKING
    # The next refresh of the panel lists the new number, masked like the others.
    panel = client.get("/desk/panel/").content.decode()
    assert "215***6666" in panel and "139****1111" in panel and not FULL_MOBILE.search(panel)


def test_it_adds_an_email_in_wrapup_and_shows_it_masked(desk, centre):  # type: ignore[no-untyped-def]
    client, lead, customer = desk
    client.post("/desk/act/hangup/")
    centre.alice.presence.refresh_from_db()
    assert centre.alice.presence.state == AgentState.WRAPUP
    answer = client.post(ADD_EMAIL, {"lead": lead.pk, "address": "lilei@qq.com"})
    assert answer.status_code == 200 and "l***@qq.com" in answer.content.decode()
    assert "lilei@qq.com" not in answer.content.decode()
    assert EmailAddress.objects.get(customer=customer).added_by == centre.alice


def test_it_says_what_is_wrong_with_a_number(desk):  # type: ignore[no-untyped-def]
    client, lead, customer = desk
    bad = client.post(ADD_PHONE, {"lead": lead.pk, "number": "6552 9988"})
    assert bad.status_code == 422 and "has no area code" in bad.content.decode()
    # The typed value stays in the box so the agent can correct it.
    assert 'value="6552 9988"' in bad.content.decode()
    same = client.post(ADD_PHONE, {"lead": lead.pk, "number": "139 0000 1111"})
    assert same.status_code == 422 and "already has the number 139****1111" in same.content.decode()
    assert customer.phones.count() == 1


def test_it_adds_nothing_when_the_desk_has_moved_on(desk, centre):  # type: ignore[no-untyped-def]
    client, lead, _customer = desk
    # A form shown for another lead (the dialer put a new call through meanwhile).
    stale = client.post(ADD_PHONE, {"lead": lead.pk + 1000, "number": "13700137000"})
    assert stale.status_code == 409 and "has changed" in stale.content.decode()
    client.post("/desk/act/hangup/")
    refused = lead.campaign.disposition_set.dispositions.get(code="not_interested")
    assert client.post("/desk/wrapup/", {"disposition": refused.pk}).status_code == 200
    after = client.post(ADD_PHONE, {"lead": lead.pk, "number": "13700137000"})
    assert after.status_code == 409
    assert not PhoneNumber.objects.filter(e164="+8613700137000").exists()


def test_it_lists_the_contacts_across_campaigns(desk, centre):  # type: ignore[no-untyped-def]
    client, lead, customer = desk
    other = f.make_campaign(centre.bank, name="理财产品外呼")
    Call.objects.create(
        client=centre.bank,
        campaign=other,
        customer=customer,
        agent=centre.bob,
        direction=Direction.OUTBOUND,
        number="+8613900001111",
        notes="上次没空",
    )
    panel = client.get("/desk/panel/").content.decode()
    assert 'data-testid="history-all"' in panel
    assert reverse("calldeck-customer-detail", kwargs={"pk": customer.pk}) in panel
    html = client.get(HISTORY, {"lead": lead.pk}).content.decode()
    assert "理财产品外呼" in html and "上次没空" in html and lead.campaign.name in html
    assert "2 contacts across all campaigns" in html
    assert "139****1111" in html and not FULL_MOBILE.search(html)
    assert "has changed" in client.get(HISTORY, {"lead": lead.pk + 1000}).content.decode()
    # The agent on the call may open the customer's profile, masked.
    profile = client.get(reverse("calldeck-customer-detail", kwargs={"pk": customer.pk}))
    assert profile.status_code == 200 and not FULL_MOBILE.search(profile.content.decode())


def test_it_keeps_these_desk_sections_for_agents(centre, client):  # type: ignore[no-untyped-def]
    # The desk's sections are the agent's own; anyone else is refused, anonymous sent to log in.
    for user in (centre.carol, centre.erin):
        client.force_login(user)
        assert client.post(ADD_PHONE, {}).status_code == 403
        assert client.get(HISTORY).status_code == 403
    client.logout()
    assert "/login/" in client.post(ADD_EMAIL, {})["Location"]
    client.force_login(centre.alice)
    # An agent with nobody on the desk: the form is refused, the history names no one.
    assert client.post(ADD_PHONE, {"lead": 1, "number": "13700137000"}).status_code == 409
    assert "has changed" in client.get(HISTORY, {"lead": 1}).content.decode()
    assert client.post(reverse("calldeck-desk-customer-add", args=["fax"]), {}).status_code == 404
