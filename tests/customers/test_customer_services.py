"""Customer services: numbers and e-mail added during a call or by staff, blocks, consent.

Personas (tests/conftest.py): Alice and Bob are the bank's agents, Carol its supervisor,
Dave its campaign manager, Erin its data admin, Quinn its QA; Mallory works for the
insurer only. Each test states the rule it checks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from calldeck.accounts.models import Role, User
from calldeck.audit.models import AuditEntry
from calldeck.calls.models import AgentPresence, AgentState, Call, Direction
from calldeck.campaigns.models import CampaignLead, LeadDoneReason, LeadStatus
from calldeck.customers import services
from calldeck.customers.models import (
    BlockKind,
    ConsentEvent,
    ContactSource,
    Customer,
    PhoneKind,
)
from calldeck.dialing.leads import block_reason
from tests import factories as f
from tests.conftest import Centre

NOON = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)

# --- builders ------------------------------------------------------------------------


def hold(agent: User, customer: Customer) -> CampaignLead:
    """``agent`` has claimed a lead of ``customer`` (preview, call or wrap-up)."""
    campaign = f.make_campaign(customer.client)
    return f.make_lead(
        campaign, customer, status=LeadStatus.CLAIMED, claimed_by=agent, claimed_at=timezone.now()
    )


def in_call(agent: User, customer: Customer) -> Call:
    """``agent`` talks to ``customer`` on a call the dialer put through (no lead claimed)."""
    call = Call.objects.create(
        client=customer.client,
        customer=customer,
        agent=agent,
        direction=Direction.OUTBOUND,
        number=customer.phones.first().e164,  # type: ignore[union-attr]
    )
    AgentPresence.objects.update_or_create(
        agent=agent, defaults={"state": AgentState.TALKING, "call": call}
    )
    return call


def add_phone(actor: User, customer: Customer, number: str, **kw: Any) -> Any:
    return services.customer_phone_add(actor=actor, customer=customer, number=number, **kw)


def messages_of(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


@pytest.fixture
def customer(centre: Centre) -> Customer:
    return f.make_customer(centre.bank, name="王小明", phones=["+8613800138000"])


# --- numbers: parsing ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "e164", "extension", "kind"),
    [
        ("139 0013 9000", "+8613900139000", "", PhoneKind.MOBILE),
        ("139-0013-9000", "+8613900139000", "", PhoneKind.MOBILE),
        ("+86 139 0013 9000", "+8613900139000", "", PhoneKind.MOBILE),
        ("0086 13900139000", "+8613900139000", "", PhoneKind.MOBILE),
        ("１３９００１３９０００", "+8613900139000", "", PhoneKind.MOBILE),  # full-width
        ("(010) 6552 9988", "+861065529988", "", PhoneKind.HOME),
        ("０１０－６５５２９９８８", "+861065529988", "", PhoneKind.HOME),
        ("010-65529988转123", "+861065529988", "123", PhoneKind.HOME),
        ("010-65529988 ext 45", "+861065529988", "45", PhoneKind.HOME),
        ("010 65529988 x12", "+861065529988", "12", PhoneKind.HOME),
        ("010-65529988#8", "+861065529988", "8", PhoneKind.HOME),
        ("(021)5555-6666转8001", "+862155556666", "8001", PhoneKind.HOME),
    ],
)
def test_it_stores_a_typed_number_in_e164_with_its_extension(  # type: ignore[no-untyped-def]
    centre, customer, typed, e164, extension, kind
):
    phone = add_phone(centre.erin, customer, typed)
    assert (phone.e164, phone.extension, phone.kind) == (e164, extension, kind)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12345", "is not a valid phone number"),
        ("abc", "is not a valid phone number"),
        ("65529988", "has no area code"),
        ("1.38001E+10", "damaged by a spreadsheet"),
        ("   ", "Enter the phone number."),
    ],
)
def test_it_refuses_what_is_not_a_number(centre, customer, typed, message):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as refused:
        add_phone(centre.erin, customer, typed)
    assert message in " ".join(messages_of(refused)["number"])
    assert customer.phones.count() == 1


def test_it_refuses_the_customers_own_number_typed_another_way(centre, customer):  # type: ignore[no-untyped-def]
    # The same number in another form is the same number: compared in E.164.
    with pytest.raises(ValidationError) as refused:
        add_phone(centre.erin, customer, "+86 138-0013-8000")
    assert messages_of(refused)["number"] == ["This customer already has the number 138 0013 8000."]
    # An agent is told the number masked, as they see it everywhere else.
    hold(centre.alice, customer)
    with pytest.raises(ValidationError) as refused:
        add_phone(centre.alice, customer, "13800138000")
    assert "138****8000" in messages_of(refused)["number"][0]


def test_it_allows_a_number_another_customer_has(centre, customer):  # type: ignore[no-untyped-def]
    # Duplicates are refused per customer only: a family may share a landline.
    other = f.make_customer(centre.bank, phones=["+861065529988"])
    phone = add_phone(centre.erin, customer, "010-65529988")
    assert phone.e164 == other.phones.get().e164


def test_it_records_who_added_the_number_when_and_from_where(centre, customer):  # type: ignore[no-untyped-def]
    hold(centre.alice, customer)
    with time_machine.travel(NOON, tick=False):
        phone = add_phone(centre.alice, customer, "13900139000", kind=PhoneKind.WORK)
    assert phone.added_by == centre.alice and phone.added_at == NOON
    assert phone.source == ContactSource.AGENT and phone.kind == PhoneKind.WORK
    # After the numbers the customer had, so the dialer's rotation keeps its order.
    assert list(customer.phones.values_list("e164", flat=True)) == [
        "+8613800138000",
        "+8613900139000",
    ]
    staff = add_phone(centre.erin, customer, "13700137000", extension="")
    assert staff.source == ContactSource.STAFF
    entry = AuditEntry.objects.filter(action="customer.phone_add").first()
    # The audit log holds the number masked: more people read it than see numbers.
    assert entry is not None and "13700137000" not in str(entry.changes)


def test_it_takes_the_extension_given_and_refuses_a_bad_one(centre, customer):  # type: ignore[no-untyped-def]
    phone = add_phone(centre.erin, customer, "010-65529988", extension="0321")
    assert phone.extension == "0321"
    with pytest.raises(ValidationError) as refused:
        add_phone(centre.erin, customer, "021-55556666", extension="12a")
    assert "extension" in messages_of(refused)


def test_it_refuses_an_unknown_source(centre, customer):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError):
        add_phone(centre.erin, customer, "13900139000", source="fax")


# --- e-mail --------------------------------------------------------------------------


def test_it_adds_an_email_checked_by_djangos_validator(centre, customer):  # type: ignore[no-untyped-def]
    email = services.customer_email_add(
        actor=centre.erin, customer=customer, address=" Wang.XM@Example.COM "
    )
    # The domain is case-insensitive and kept in lower case; the first address is primary.
    assert email.address == "Wang.XM@example.com" and email.is_primary
    assert email.added_by == centre.erin and email.source == ContactSource.STAFF
    with pytest.raises(ValidationError) as refused:
        services.customer_email_add(
            actor=centre.erin, customer=customer, address="wang.xm@EXAMPLE.com"
        )
    assert "already has the e-mail address" in messages_of(refused)["address"][0]
    with pytest.raises(ValidationError) as refused:
        services.customer_email_add(actor=centre.erin, customer=customer, address="wang@")
    assert messages_of(refused)["address"] == ["Enter a valid email address."]
    second = services.customer_email_add(
        actor=centre.erin, customer=customer, address="w@example.org"
    )
    assert not second.is_primary


# --- who may add ---------------------------------------------------------------------


def test_it_lets_an_agent_add_only_to_the_customer_they_hold(centre, customer):  # type: ignore[no-untyped-def]
    # Not held: refused, whatever the client.
    with pytest.raises(PermissionDenied):
        add_phone(centre.alice, customer, "13900139000")
    lead = hold(centre.alice, customer)
    assert add_phone(centre.alice, customer, "13900139000").added_by == centre.alice
    # Bob is in the same team, but the lead is Alice's.
    with pytest.raises(PermissionDenied):
        add_phone(centre.bob, customer, "13700137000")
    # Once the outcome is saved the lead goes back: the customer is no longer hers.
    CampaignLead.objects.filter(pk=lead.pk).update(status=LeadStatus.DONE, claimed_by=None)
    with pytest.raises(PermissionDenied):
        services.customer_email_add(actor=centre.alice, customer=customer, address="a@b.cn")


def test_it_lets_an_agent_add_to_the_customer_of_their_current_call(centre, customer):  # type: ignore[no-untyped-def]
    in_call(centre.bob, customer)
    assert add_phone(centre.bob, customer, "13900139000").added_by == centre.bob
    # The presence on the desk in wrap-up still names the call and its customer.
    AgentPresence.objects.filter(agent=centre.bob).update(state=AgentState.WRAPUP)
    assert services.customer_email_add(actor=centre.bob, customer=customer, address="x@y.cn")


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("erin", True),  # data admin
        ("carol", True),  # supervisor
        ("dave", False),  # campaign manager
        ("quinn", False),  # QA
        ("mallory", False),  # the insurer's agent
    ],
)
def test_it_lets_staff_add_by_role_and_client(centre, customer, persona, allowed):  # type: ignore[no-untyped-def]
    actor = getattr(centre, persona)
    if allowed:
        assert add_phone(actor, customer, "13900139000").source == ContactSource.STAFF
    else:
        with pytest.raises(PermissionDenied):
            add_phone(actor, customer, "13900139000")


def test_it_lets_an_account_manager_change_only_their_own_customers(centre, customer):  # type: ignore[no-untyped-def]
    am = f.make_user(Role.ACCOUNT_MANAGER, clients=[centre.bank])
    vip = f.make_customer(centre.bank, account_manager=am, vip_level="gold")
    assert add_phone(am, vip, "13900139000")
    assert services.block_add(
        actor=am, client=centre.bank, kind=BlockKind.DO_NOT_CALL, customer=vip, reason="投诉"
    )
    assert services.consent_record(actor=am, customer=vip, granted=False, source="来电")
    with pytest.raises(PermissionDenied):
        add_phone(am, customer, "13900139000")
    with pytest.raises(PermissionDenied):
        services.consent_record(actor=am, customer=customer, granted=False, source="来电")
    # A number alone may be anyone's: not for an account manager.
    with pytest.raises(PermissionDenied):
        services.block_add(
            actor=am, client=centre.bank, kind=BlockKind.DO_NOT_CALL, e164="13700137000", reason="x"
        )


def test_it_keeps_data_admins_to_their_clients(centre):  # type: ignore[no-untyped-def]
    insured = f.make_customer(centre.insurer)
    with pytest.raises(PermissionDenied):
        add_phone(centre.erin, insured, "13900139000")
    with pytest.raises(PermissionDenied):
        services.block_add(
            actor=centre.erin,
            client=centre.insurer,
            kind=BlockKind.BLACKLIST,
            customer=insured,
            reason="x",
        )


# --- blocks --------------------------------------------------------------------------


def test_it_takes_only_an_expiry_in_the_future(centre, customer):  # type: ignore[no-untyped-def]
    with time_machine.travel(NOON, tick=False):
        for past in (NOON, NOON - dt.timedelta(days=1)):
            with pytest.raises(ValidationError) as refused:
                services.block_add(
                    actor=centre.erin,
                    client=centre.bank,
                    kind=BlockKind.DO_NOT_CALL,
                    customer=customer,
                    reason="客户要求暂停联系",
                    expires_at=past,
                )
            assert messages_of(refused)["expires_at"] == ["The expiry must be in the future."]
        block = services.block_add(
            actor=centre.erin,
            client=centre.bank,
            kind=BlockKind.DO_NOT_CALL,
            customer=customer,
            reason="客户要求暂停联系",
            expires_at=NOON + dt.timedelta(days=30),
            source="客户来电",
        )
    assert block.created_by == centre.erin and block.created_at == NOON
    assert AuditEntry.objects.filter(action="block.add", object_id=str(block.pk)).exists()


def test_it_stops_blocking_the_dial_check_once_expired(centre, customer):  # type: ignore[no-untyped-def]
    # A temporary suppression: the dial-time check skips the customer until it passes.
    lead = f.make_lead(f.make_campaign(centre.bank), customer)
    with time_machine.travel(NOON, tick=False):
        services.block_add(
            actor=centre.erin,
            client=centre.bank,
            kind=BlockKind.DO_NOT_CALL,
            customer=customer,
            reason="暂停30天",
            expires_at=NOON + dt.timedelta(days=30),
        )
        assert block_reason(lead) == LeadDoneReason.BLOCKED
    with time_machine.travel(NOON + dt.timedelta(days=30, seconds=1), tick=False):
        assert block_reason(lead) is None


def test_it_stops_blocking_once_lifted_and_keeps_the_row(centre, customer):  # type: ignore[no-untyped-def]
    lead = f.make_lead(f.make_campaign(centre.bank), customer)
    block = services.block_add(
        actor=centre.carol,
        client=centre.bank,
        kind=BlockKind.BLACKLIST,
        customer=customer,
        reason="恶意投诉",
    )
    assert block_reason(lead) == LeadDoneReason.BLOCKED
    services.block_lift(actor=centre.carol, block=block)
    assert block_reason(lead) is None
    block.refresh_from_db()
    assert block.lifted_at is not None
    with pytest.raises(ValidationError, match="no longer in force"):
        services.block_lift(actor=centre.carol, block=block)


def test_it_blocks_a_number_typed_in_any_form_for_whoever_has_it(centre, customer):  # type: ignore[no-untyped-def]
    lead = f.make_lead(f.make_campaign(centre.bank), customer)
    block = services.block_add(
        actor=centre.erin,
        client=centre.bank,
        kind=BlockKind.DO_NOT_CALL,
        e164="+86 138-0013-8000",
        reason="号码持有人要求",
    )
    assert block.e164 == "+8613800138000" and block.customer is None
    assert block_reason(lead) == LeadDoneReason.BLOCKED
    with pytest.raises(ValidationError) as refused:
        services.block_add(
            actor=centre.erin, client=centre.bank, kind=BlockKind.DO_NOT_CALL, reason="x"
        )
    assert messages_of(refused)["e164"] == ["A block needs a customer or a number."]


def test_it_refuses_the_same_block_twice_and_a_block_without_reason(centre, customer):  # type: ignore[no-untyped-def]
    args = {
        "actor": centre.erin,
        "client": centre.bank,
        "kind": BlockKind.DO_NOT_CALL,
        "customer": customer,
    }
    services.block_add(**args, reason="客户要求")
    with pytest.raises(ValidationError, match="already in force"):
        services.block_add(**args, reason="again")
    with pytest.raises(ValidationError) as refused:
        services.block_add(**{**args, "kind": BlockKind.BLACKLIST}, reason="  ")
    assert "reason" in messages_of(refused)
    # Another client's customer is not put on this client's list.
    with pytest.raises(ValidationError, match="another client"):
        services.block_add(**{**args, "client": centre.insurer}, reason="x")


def test_it_refuses_blocks_to_agents(centre, customer):  # type: ignore[no-untyped-def]
    # Agents record "do not call" through the outcome of the call, not here.
    hold(centre.alice, customer)
    with pytest.raises(PermissionDenied):
        services.block_add(
            actor=centre.alice,
            client=centre.bank,
            kind=BlockKind.DO_NOT_CALL,
            customer=customer,
            reason="x",
        )


# --- consent -------------------------------------------------------------------------


def test_it_follows_the_latest_event_not_the_latest_recorded(centre, customer):  # type: ignore[no-untyped-def]
    t1, t2, t3 = NOON - dt.timedelta(days=20), NOON - dt.timedelta(days=2), NOON
    with time_machine.travel(NOON, tick=False):
        services.consent_record(
            actor=centre.erin, customer=customer, granted=False, source="来电", at=t2
        )
        customer.refresh_from_db()
        assert (customer.consent_marketing, customer.consent_updated_at) == (False, t2)
        # A form signed earlier, recorded late (an import of last month's papers): kept in
        # the history, but it must not undo the newer withdrawal.
        old = services.consent_record(
            actor=centre.erin, customer=customer, granted=True, source="网点签约", at=t1
        )
        customer.refresh_from_db()
        assert (customer.consent_marketing, customer.consent_source) == (False, "来电")
        assert ConsentEvent.objects.filter(pk=old.pk, granted=True).exists()
        # A newer grant does change it; an event at the same time counts as newer.
        services.consent_record(
            actor=centre.erin, customer=customer, granted=True, source="客户同意", at=t3
        )
        customer.refresh_from_db()
        assert (customer.consent_marketing, customer.consent_updated_at) == (True, t3)
        services.consent_record(
            actor=centre.erin, customer=customer, granted=False, source="短信退订"
        )
        customer.refresh_from_db()
        assert (customer.consent_marketing, customer.consent_source) == (False, "短信退订")
    assert customer.consents.count() == 4
    entries = AuditEntry.objects.filter(action="customer.consent").order_by("at", "pk")
    assert [e.changes["applied"] for e in entries] == [True, False, True, True]


def test_it_refuses_consent_without_source_or_in_the_future(centre, customer):  # type: ignore[no-untyped-def]
    with time_machine.travel(NOON, tick=False), pytest.raises(ValidationError) as refused:
        services.consent_record(
            actor=centre.erin,
            customer=customer,
            granted=True,
            source=" ",
            at=NOON + dt.timedelta(hours=1),
        )
    assert set(messages_of(refused)) == {"source", "at"}
    assert not customer.consents.exists()


def test_it_lets_the_agent_on_the_call_record_a_withdrawal_only(centre, customer):  # type: ignore[no-untyped-def]
    campaign = f.make_campaign(centre.bank, requires_consent=True)
    lead = f.make_lead(campaign, customer)
    with pytest.raises(PermissionDenied):
        services.consent_record(
            actor=centre.alice, customer=customer, granted=False, source=ContactSource.AGENT
        )
    in_call(centre.alice, customer)
    event = services.consent_record(
        actor=centre.alice,
        customer=customer,
        granted=False,
        source=ContactSource.AGENT,
        note="客户说不要再推销",
    )
    assert event.recorded_by == centre.alice
    # A campaign that needs consent no longer dials the customer.
    assert block_reason(CampaignLead.objects.get(pk=lead.pk)) == LeadDoneReason.BLOCKED
    # Granting consent needs proof an agent's word on a call is not.
    with pytest.raises(PermissionDenied):
        services.consent_record(
            actor=centre.alice, customer=customer, granted=True, source=ContactSource.AGENT
        )
