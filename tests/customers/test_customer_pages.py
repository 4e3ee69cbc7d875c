"""The customer pages through the test client: search, the profile and its forms.

Personas (tests/conftest.py): Erin is the bank's data admin (sees full numbers), Carol
its supervisor and Dave its campaign manager (masked numbers), Alice and Bob its agents;
Mallory works for the insurer only.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from calldeck.accounts.models import Role, User
from calldeck.audit.models import AuditEntry
from calldeck.calls.models import Call, CallOutcome, Direction, Sale, SaleStatus
from calldeck.campaigns.models import CampaignLead, LeadStatus
from calldeck.customers.models import (
    BlockKind,
    ConsentEvent,
    ContactBlock,
    Customer,
    EmailAddress,
    Holding,
    PhoneNumber,
)
from tests import factories as f
from tests.conftest import Centre

# A full mainland mobile number anywhere in a page would break the masking rule.
FULL_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")

# --- builders ------------------------------------------------------------------------


def browser(user: User) -> HttpClient:
    client = HttpClient()
    client.force_login(user)
    return client


def htmx(user: User) -> HttpClient:
    client = HttpClient(headers={"HX-Request": "true"})
    client.force_login(user)
    return client


def detail_url(customer: Customer, name: str = "calldeck-customer-detail", **kw: int) -> str:
    return reverse(name, kwargs={"pk": customer.pk, **kw})


def hold(agent: User, customer: Customer) -> CampaignLead:
    campaign = f.make_campaign(customer.client)
    return f.make_lead(
        campaign, customer, status=LeadStatus.CLAIMED, claimed_by=agent, claimed_at=timezone.now()
    )


@pytest.fixture
def customer(centre: Centre) -> Customer:
    """王小明 with a mobile, a landline, an e-mail, a product, two calls, a sale, consent."""
    customer = f.make_customer(
        centre.bank,
        name="王小明",
        customer_key="K0001",
        city="北京",
        phones=["+8613800138000", "+861065529988"],
        attributes={"卡种": "白金"},
    )
    EmailAddress.objects.create(customer=customer, address="zhang@example.com", is_primary=True)
    Holding.objects.create(customer=customer, product="信用卡")
    cards = f.make_campaign(centre.bank, name="信用卡分期专项营销")
    loans = f.make_campaign(centre.bank, name="理财产品外呼")
    now = timezone.now()
    sale_dispo = cards.disposition_set.dispositions.get(code="sale")
    first = Call.objects.create(
        client=centre.bank,
        campaign=loans,
        customer=customer,
        agent=centre.bob,
        direction=Direction.OUTBOUND,
        number="+8613800138000",
        dialed_at=now - dt.timedelta(days=3),
        ended_at=now - dt.timedelta(days=3),
        outcome=CallOutcome.NO_ANSWER,
    )
    second = Call.objects.create(
        client=centre.bank,
        campaign=cards,
        customer=customer,
        agent=centre.alice,
        direction=Direction.OUTBOUND,
        number="+8613800138000",
        dialed_at=now - dt.timedelta(hours=2),
        ended_at=now - dt.timedelta(hours=2),
        outcome=CallOutcome.ANSWERED,
        disposition=sale_dispo,
        talk_seconds=185,
        notes="办理12期",
    )
    Sale.objects.create(
        client=centre.bank,
        call=second,
        campaign=cards,
        customer=customer,
        agent=centre.alice,
        offer=cards.offer,
        amount=Decimal("2500.00"),
        status=SaleStatus.FINAL,
    )
    ConsentEvent.objects.create(
        customer=customer, granted=True, source="网点签约", at=now - dt.timedelta(days=40)
    )
    assert first.pk < second.pk
    return customer


# --- the profile ---------------------------------------------------------------------


def test_it_shows_the_whole_profile_to_the_data_admin(centre, customer):  # type: ignore[no-untyped-def]
    page = browser(centre.erin).get(detail_url(customer))
    html = page.content.decode()
    assert page.status_code == 200
    # Data admins see full numbers and addresses.
    assert "138 0013 8000" in html and "010 6552 9988" in html
    assert "zhang@example.com" in html and "masked-note" not in html
    # Contact history across campaigns, newest first, with agent and outcome.
    assert html.index("信用卡分期专项营销") < html.index("理财产品外呼")
    assert "办理12期" in html and "No answer" in html and "2 calls across all campaigns" in html
    # Sales, products held, free attributes, consent history, messages.
    assert "2,500.00" in html and "Final deal" in html
    assert "信用卡" in html and "白金" in html and "网点签约" in html
    assert "No messages are recorded yet" in html
    assert "Not blocked" in html
    # Reading full numbers is a sensitive read: it is in the audit log.
    assert AuditEntry.objects.filter(action="customer.view", object_id=str(customer.pk)).exists()


def test_it_masks_numbers_and_emails_for_everyone_else(centre, customer):  # type: ignore[no-untyped-def]
    hold(centre.alice, customer)
    for user in (centre.carol, centre.dave, centre.alice):
        html = browser(user).get(detail_url(customer)).content.decode()
        assert "138****8000" in html and "z***@example.com" in html, user
        assert not FULL_MOBILE.search(html) and "zhang@example.com" not in html, user
        assert "6552 9988" not in html, user
    assert not AuditEntry.objects.filter(action="customer.view").exists()


def test_it_hides_another_clients_customer(centre):  # type: ignore[no-untyped-def]
    insured = f.make_customer(centre.insurer)
    assert browser(centre.erin).get(detail_url(insured)).status_code == 404
    assert browser(centre.mallory).get(detail_url(insured)).status_code == 404


def test_it_shows_an_agent_only_the_customer_they_hold(centre, customer):  # type: ignore[no-untyped-def]
    # Alice made a call to this customer earlier: that does not open the profile later.
    assert browser(centre.alice).get(detail_url(customer)).status_code == 404
    lead = hold(centre.alice, customer)
    page = browser(centre.alice).get(detail_url(customer))
    assert page.status_code == 200
    # The agent may add a number or e-mail and record a withdrawal, and nothing else.
    html = page.content.decode()
    assert 'data-testid="phone-form"' in html and 'data-testid="withdraw-form"' in html
    assert 'data-testid="block-form"' not in html and 'data-testid="consent-form"' not in html
    assert browser(centre.bob).get(detail_url(customer)).status_code == 404
    CampaignLead.objects.filter(pk=lead.pk).update(status=LeadStatus.DONE, claimed_by=None)
    assert browser(centre.alice).get(detail_url(customer)).status_code == 404


def test_it_keeps_the_list_from_agents_and_other_roles(centre):  # type: ignore[no-untyped-def]
    assert browser(centre.alice).get(reverse("calldeck-customers")).status_code == 403
    assert browser(centre.quinn).get(reverse("calldeck-customers")).status_code == 403
    assert browser(centre.carol).get(reverse("calldeck-customers")).status_code == 200


def test_it_reads_the_profile_in_a_fixed_number_of_queries(  # type: ignore[no-untyped-def]
    centre, customer, django_assert_max_num_queries
):
    # More calls, sales and blocks must not mean more queries (no per-row lookups).
    client = browser(centre.carol)
    client.get(detail_url(customer))
    for _ in range(10):
        Call.objects.create(
            client=centre.bank,
            customer=customer,
            agent=centre.bob,
            direction=Direction.OUTBOUND,
            number="+8613800138000",
        )
    with django_assert_max_num_queries(20):
        assert client.get(detail_url(customer)).status_code == 200


# --- search --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["13800138000", "138 0013 8000", "+86 138-0013-8000", "0086 13800138000", "(138)00138000"],
)
def test_it_finds_a_customer_by_a_number_typed_any_way(centre, customer, typed):  # type: ignore[no-untyped-def]
    f.make_customer(centre.bank, name="李四", phones=["+8613900139000"])
    # The insurer's customer with the same number is not the bank's to find.
    f.make_customer(centre.insurer, name="保险客户", phones=["+8613800138000"])
    html = browser(centre.carol).get(reverse("calldeck-customers"), {"q": typed}).content.decode()
    assert "王小明" in html and "李四" not in html and "保险客户" not in html
    assert "1 customer matches" in html


def test_it_finds_a_landline_and_by_key_and_name(centre, customer):  # type: ignore[no-untyped-def]
    f.make_customer(centre.bank, name="李四", customer_key="K0002")
    client = browser(centre.erin)
    url = reverse("calldeck-customers")
    assert "王小明" in client.get(url, {"q": "(010) 6552-9988"}).content.decode()
    by_key = client.get(url, {"q": "k0002"}).content.decode()
    assert "李四" in by_key and "王小明" not in by_key
    by_name = client.get(url, {"q": "小明"}).content.decode()
    assert "王小明" in by_name and "李四" not in by_name
    # Without a query: every customer of the client, numbers masked for a supervisor.
    listed = browser(centre.carol).get(url).content.decode()
    assert "李四" in listed and "138****8000" in listed and not FULL_MOBILE.search(listed)


# --- the forms -----------------------------------------------------------------------


def test_it_adds_a_number_and_answers_the_panel(centre, customer):  # type: ignore[no-untyped-def]
    url = detail_url(customer, "calldeck-customer-phone-add")
    answer = htmx(centre.erin).post(url, {"number": "139-0013-9000", "kind": "work"})
    html = answer.content.decode()
    assert answer.status_code == 200 and "<html" not in html
    assert "Number 139 0013 9000 added." in html
    phone = PhoneNumber.objects.get(customer=customer, e164="+8613900139000")
    assert phone.added_by == centre.erin and phone.kind == "work"
    refused = htmx(centre.erin).post(url, {"number": "6552 9988"})
    assert refused.status_code == 422 and "has no area code" in refused.content.decode()
    # Without JavaScript: redirected back to the profile, the message on top.
    plain = browser(centre.erin).post(url, {"number": "13700137000"})
    assert plain.status_code == 302 and plain["Location"] == detail_url(customer)


def test_it_lets_the_agent_add_an_email_shown_masked(centre, customer):  # type: ignore[no-untyped-def]
    hold(centre.alice, customer)
    url = detail_url(customer, "calldeck-customer-email-add")
    answer = htmx(centre.alice).post(url, {"address": "wxm@163.com"})
    assert answer.status_code == 200 and "w***@163.com added" in answer.content.decode()
    assert "wxm@163.com" not in answer.content.decode()
    assert EmailAddress.objects.get(address="wxm@163.com").added_by == centre.alice
    bad = htmx(centre.alice).post(url, {"address": "wxm@"})
    assert bad.status_code == 422 and "Enter a valid email address." in bad.content.decode()


def test_it_adds_a_temporary_block_and_lifts_it(centre, customer):  # type: ignore[no-untyped-def]
    client = htmx(centre.erin)
    url = detail_url(customer, "calldeck-customer-block-add")
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    past = client.post(
        url, {"kind": "dnc", "target": "", "reason": "暂停", "expires_on": yesterday}
    )
    assert past.status_code == 422 and "must be in the future" in past.content.decode()
    until = timezone.localdate() + dt.timedelta(days=30)
    added = client.post(
        url, {"kind": "dnc", "target": "", "reason": "客户要求暂停联系", "expires_on": until}
    )
    assert added.status_code == 200 and "客户要求暂停联系" in added.content.decode()
    block = ContactBlock.objects.get(customer=customer)
    local = timezone.localtime(block.expires_at)
    assert (local.date(), local.time()) == (until, dt.time(23, 59, 59))
    lift = detail_url(customer, "calldeck-customer-block-lift", block_pk=block.pk)
    lifted = client.post(lift)
    assert lifted.status_code == 200 and 'data-testid="blocks-past"' in lifted.content.decode()
    again = client.post(lift)
    assert again.status_code == 422 and "no longer in force" in again.content.decode()


def test_it_blocks_one_number_only_for_those_who_manage_everyone(centre, customer):  # type: ignore[no-untyped-def]
    landline = customer.phones.get(e164="+861065529988")
    url = detail_url(customer, "calldeck-customer-block-add")
    data = {"kind": BlockKind.DO_NOT_CALL, "target": landline.pk, "reason": "单位座机"}
    assert htmx(centre.carol).post(url, data).status_code == 200
    block = ContactBlock.objects.get()
    assert (block.customer, block.e164) == (None, "+861065529988")
    # The campaign manager reads customers but changes no block.
    assert browser(centre.dave).post(url, data).status_code == 403


def test_it_records_consent_with_its_source_and_time(centre, customer):  # type: ignore[no-untyped-def]
    url = detail_url(customer, "calldeck-customer-consent")
    client = htmx(centre.erin)
    answer = client.post(url, {"granted": "no", "source": "客户来电", "note": "不要推销"})
    assert (
        answer.status_code == 200 and "Withdrawal of consent recorded." in answer.content.decode()
    )
    customer.refresh_from_db()
    assert not customer.consent_marketing and customer.consent_source == "客户来电"
    earlier = (timezone.localtime() - dt.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    late = client.post(url, {"granted": "yes", "source": "补录", "at": earlier})
    assert "current consent comes from a later event" in late.content.decode()
    customer.refresh_from_db()
    assert not customer.consent_marketing
    missing = client.post(url, {"granted": "yes", "source": ""})
    assert missing.status_code == 422


def test_it_lets_the_agent_record_only_a_withdrawal(centre, customer):  # type: ignore[no-untyped-def]
    hold(centre.alice, customer)
    url = detail_url(customer, "calldeck-customer-consent")
    # Whatever the post says, an agent's form records a withdrawal, sourced to the agent.
    answer = htmx(centre.alice).post(url, {"granted": "yes", "source": "x", "note": "别打了"})
    assert answer.status_code == 200
    event = ConsentEvent.objects.get(recorded_by=centre.alice)
    assert (event.granted, event.source, event.note) == (False, "agent", "别打了")
    assert browser(centre.bob).post(url, {"note": "x"}).status_code == 404


# --- who gets in ---------------------------------------------------------------------

R = Role
READERS = {R.DATA_ADMIN: 200, R.CAMPAIGN_MANAGER: 200, R.SUPERVISOR: 200, R.ACCOUNT_MANAGER: 200}
# Every URL of these pages: the status each role gets for an empty request, with the
# customer held by Alice (the agent) and managed by nobody; any other role gets 403.
# 422: let in, the empty form refused; 302: done, back to the profile.
ROLE_MATRIX: dict[str, tuple[str, dict[Role, int]]] = {
    "calldeck-customers": ("GET", READERS),
    "calldeck-customer-detail": ("GET", {**READERS, R.AGENT: 200}),
    "calldeck-customer-phone-add": ("POST", {R.DATA_ADMIN: 422, R.SUPERVISOR: 422, R.AGENT: 422}),
    "calldeck-customer-email-add": ("POST", {R.DATA_ADMIN: 422, R.SUPERVISOR: 422, R.AGENT: 422}),
    "calldeck-customer-block-add": ("POST", {R.DATA_ADMIN: 422, R.SUPERVISOR: 422}),
    "calldeck-customer-block-lift": ("POST", {R.DATA_ADMIN: 302, R.SUPERVISOR: 302}),
    # The agent's form is a withdrawal with an optional note: an empty one is complete.
    "calldeck-customer-consent": ("POST", {R.DATA_ADMIN: 422, R.SUPERVISOR: 422, R.AGENT: 302}),
}


@pytest.mark.parametrize("name", sorted(ROLE_MATRIX))
def test_it_lets_in_exactly_the_roles_of_each_page(centre, customer, name):  # type: ignore[no-untyped-def]
    people = {
        R.AGENT: centre.alice,
        R.SUPERVISOR: centre.carol,
        R.CAMPAIGN_MANAGER: centre.dave,
        R.DATA_ADMIN: centre.erin,
        R.QA: centre.quinn,
        R.ACCOUNT_MANAGER: f.make_user(R.ACCOUNT_MANAGER, clients=[centre.bank]),
        R.BRANCH_MANAGER: f.make_user(R.BRANCH_MANAGER, clients=[centre.bank]),
    }
    hold(centre.alice, customer)
    method, allowed = ROLE_MATRIX[name]

    def url() -> str:
        if name == "calldeck-customers":
            return reverse(name)
        if name == "calldeck-customer-block-lift":
            block = ContactBlock.objects.create(
                client=centre.bank, customer=customer, kind=BlockKind.BLACKLIST, reason="x"
            )
            return reverse(name, kwargs={"pk": customer.pk, "block_pk": block.pk})
        return reverse(name, kwargs={"pk": customer.pk})

    for role, user in [*people.items(), (None, None)]:
        client = browser(user) if user is not None else HttpClient()
        response = client.get(url()) if method == "GET" else client.post(url(), {})
        if role is None:
            assert response.status_code == 302 and "/login/" in response["Location"]
        else:
            assert response.status_code == allowed.get(role, 403), (role, response.status_code)
