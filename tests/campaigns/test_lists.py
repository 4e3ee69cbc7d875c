"""Loading customers into a campaign's list: the exclusions, their order, and the load."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from calldeck.audit.models import AuditEntry
from calldeck.campaigns import lists
from calldeck.campaigns.lists import ALREADY_LOADED, REASONS, list_load, list_load_preview
from calldeck.campaigns.models import (
    CampaignLead,
    CampaignStatus,
    LeadPhase,
    LeadStatus,
    ListSource,
    Pilot,
)
from calldeck.customers.models import BlockKind, Customer, ImportJob, ImportStatus, Segment
from tests import factories as f
from tests.campaigns.list_builders import block, call_to, customers
from tests.conftest import Centre

pytestmark = pytest.mark.django_db


def only(reason: str, n: int = 1) -> dict[str, int]:
    """The excluded counts with ``n`` under ``reason`` and zero elsewhere."""
    counts = dict.fromkeys(REASONS, 0)
    counts[reason] = n
    return counts


def preview_of(campaign, people: list[Customer], **kw) -> lists.LoadPreview:  # type: ignore[no-untyped-def]
    return list_load_preview(campaign=campaign, customer_ids=[c.pk for c in people], **kw)


def test_it_loads_the_customers_as_new_main_leads_and_records_the_load(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    people = customers(centre.bank, 3)

    load = list_load(
        actor=centre.dave,
        campaign=campaign,
        customers=Customer.objects.filter(pk__in=[c.pk for c in people]),
        source=ListSource.SEGMENT,
    )

    leads = CampaignLead.objects.filter(campaign=campaign)
    assert {lead.customer_id for lead in leads} == {c.pk for c in people}
    assert {(lead.status, lead.phase, lead.list_load_id) for lead in leads} == {
        (LeadStatus.NEW, LeadPhase.MAIN, load.pk)
    }
    assert (load.candidates, load.loaded, load.created_by) == (3, 3, centre.dave)
    assert load.excluded == {**dict.fromkeys(REASONS, 0), ALREADY_LOADED: 0}
    entry = AuditEntry.objects.get(action="campaign.list_load")
    assert entry.client_id == centre.bank.pk
    assert entry.changes["loaded"] == 3


@pytest.mark.parametrize(
    ("kind", "reason"),
    [(BlockKind.DO_NOT_CALL, "dnc"), (BlockKind.BLACKLIST, "blacklist")],
)
@pytest.mark.parametrize("on_number", [False, True])
def test_it_leaves_out_blocked_customers(centre: Centre, kind: str, reason: str, on_number: bool):
    campaign = f.make_campaign(centre.bank)
    ok, blocked = customers(centre.bank, 2)
    block(blocked, kind, on_number=on_number)

    preview = preview_of(campaign, [ok, blocked])

    # A block on the customer or on any of their numbers keeps them out.
    assert (preview.candidates, preview.loadable) == (2, 1)
    assert preview.excluded == only(reason)


def test_it_a_lifted_or_expired_block_does_not_count(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    lifted, expired = customers(centre.bank, 2)
    block(lifted, lifted_at=timezone.now())
    block(expired, BlockKind.BLACKLIST, expires_at=timezone.now() - dt.timedelta(minutes=1))

    assert preview_of(campaign, [lifted, expired]).loadable == 2


def test_it_leaves_out_customers_without_consent_when_the_campaign_requires_it(centre: Centre):
    campaign = f.make_campaign(centre.bank, requires_consent=True)
    free = f.make_campaign(centre.bank, requires_consent=False)
    withdrawn = f.make_customer(centre.bank, consent_marketing=False)
    do_not_market = f.make_customer(centre.bank)
    block(do_not_market, BlockKind.DO_NOT_MARKET)

    assert preview_of(campaign, [withdrawn, do_not_market]).excluded == only("no_consent", 2)
    # Consent and do-not-market matter only to campaigns that require consent.
    assert preview_of(free, [withdrawn, do_not_market]).loadable == 2


def test_it_leaves_out_vip_and_account_manager_customers(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    am = f.make_user("account_manager", clients=[centre.bank])
    vip = f.make_customer(centre.bank, vip_level="gold")
    managed = f.make_customer(centre.bank, account_manager=am)

    assert preview_of(campaign, [vip, managed]).excluded == only("reserved", 2)


def test_it_leaves_out_customers_with_an_open_lead_in_another_running_campaign(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.DRAFT)
    running, paused, pilot, draft, finished = customers(centre.bank, 5)
    f.make_lead(f.make_campaign(centre.bank), running)
    f.make_lead(f.make_campaign(centre.bank, status=CampaignStatus.PAUSED), paused)
    f.make_lead(f.make_campaign(centre.bank, status=CampaignStatus.PILOT), pilot, status="retry")
    f.make_lead(f.make_campaign(centre.bank, status=CampaignStatus.DRAFT), draft)
    f.make_lead(f.make_campaign(centre.bank), finished, status=LeadStatus.DONE)

    preview = preview_of(campaign, [running, paused, pilot, draft, finished])

    # A draft campaign does not hold its customers, and a finished lead holds nobody.
    assert preview.excluded == only("other_campaign", 3)
    assert preview.loadable == 2


def test_it_leaves_out_customers_called_within_the_days_chosen(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    yesterday, long_ago, called_in = customers(centre.bank, 3)
    call_to(yesterday, days_ago=1)
    call_to(long_ago, days_ago=40)
    call_to(called_in, days_ago=1, direction="in")  # they called us: not a contact we made

    within_30 = preview_of(campaign, [yesterday, long_ago, called_in], contacted_within_days=30)
    no_limit = preview_of(campaign, [yesterday, long_ago, called_in])

    assert within_30.excluded == only("recent_contact")
    assert no_limit.loadable == 3


def test_it_leaves_out_customers_without_a_valid_number(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    none = f.make_customer(centre.bank, phones=[])
    invalid = f.make_customer(centre.bank)
    invalid.phones.update(is_valid=False)

    assert preview_of(campaign, [none, invalid]).excluded == only("no_valid_number", 2)


def test_it_each_customer_counts_under_the_first_reason_that_applies(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    # Every reason at once: do-not-call is tested first.
    everything = f.make_customer(centre.bank, phones=[], vip_level="gold", consent_marketing=False)
    block(everything, BlockKind.DO_NOT_CALL)
    block(everything, BlockKind.BLACKLIST)
    # Blacklist before consent; consent before the VIP reservation.
    blacklisted = f.make_customer(centre.bank, consent_marketing=False)
    block(blacklisted, BlockKind.BLACKLIST)
    unconsenting_vip = f.make_customer(centre.bank, consent_marketing=False, vip_level="gold")
    # The VIP reservation before another campaign; another campaign before a recent call.
    vip_elsewhere = f.make_customer(centre.bank, vip_level="gold")
    f.make_lead(f.make_campaign(centre.bank), vip_elsewhere)
    elsewhere_called = f.make_customer(centre.bank)
    f.make_lead(f.make_campaign(centre.bank), elsewhere_called)
    call_to(elsewhere_called, days_ago=1)
    # A recent call before the missing number.
    called_no_number = f.make_customer(centre.bank)
    call_to(called_no_number, days_ago=1)
    called_no_number.phones.update(is_valid=False)
    people = [
        everything,
        blacklisted,
        unconsenting_vip,
        vip_elsewhere,
        elsewhere_called,
        called_no_number,
    ]

    preview = preview_of(campaign, people, contacted_within_days=7)

    assert preview.excluded == {
        "dnc": 1,
        "blacklist": 1,
        "no_consent": 1,
        "reserved": 1,
        "other_campaign": 1,
        "recent_contact": 1,
        "no_valid_number": 0,
    }
    assert list(preview.excluded) == list(REASONS)  # the display order
    assert (preview.candidates, preview.loadable) == (6, 0)


def test_it_already_loaded_customers_are_counted_and_not_loaded_again(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    first, second = customers(centre.bank, 2)
    blocked_lead = f.make_customer(centre.bank)
    f.make_lead(campaign, blocked_lead)
    block(blocked_lead)  # already in: counted as already loaded, not as blocked
    ids = [first.pk, second.pk, blocked_lead.pk]

    load_one = list_load(
        actor=centre.dave, campaign=campaign, customer_ids=ids, source=ListSource.FILE
    )
    load_two = list_load(
        actor=centre.dave, campaign=campaign, customer_ids=ids, source=ListSource.FILE
    )

    assert (load_one.loaded, load_one.excluded[ALREADY_LOADED]) == (2, 1)
    assert (load_two.loaded, load_two.excluded[ALREADY_LOADED]) == (0, 3)
    assert load_one.excluded["dnc"] == 0
    assert CampaignLead.objects.filter(campaign=campaign).count() == 3


def test_it_the_preview_counts_what_the_load_then_does(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    people = customers(centre.bank, 4)
    block(people[0])
    f.make_lead(campaign, people[1])

    preview = preview_of(campaign, people)
    load = list_load(
        actor=centre.erin,
        campaign=campaign,
        customer_ids=[c.pk for c in people],
        source=ListSource.FILE,
    )

    assert (preview.candidates, preview.loadable, preview.already_loaded) == (4, 2, 1)
    assert preview.excluded == only("dnc")
    assert (load.candidates, load.loaded) == (preview.candidates, preview.loadable)
    assert load.excluded == {**preview.excluded, ALREADY_LOADED: 1}
    assert [row[0] for row in preview.rows()] == [*REASONS, ALREADY_LOADED]


@pytest.mark.parametrize("status", [CampaignStatus.COMPLETED, CampaignStatus.ARCHIVED])
def test_it_a_finished_campaign_takes_no_customers(centre: Centre, status: str):
    campaign = f.make_campaign(centre.bank, status=status)
    customer = f.make_customer(centre.bank)

    with pytest.raises(ValidationError) as caught:
        list_load(
            actor=centre.dave,
            campaign=campaign,
            customer_ids=[customer.pk],
            source=ListSource.FILE,
        )

    assert "takes no more customers" in caught.value.messages[0]
    assert not CampaignLead.objects.exists()


def test_it_only_list_loaders_of_the_client_may_load(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    customer = f.make_customer(centre.bank)
    outsider = f.make_user("campaign_manager", clients=[centre.insurer])

    for actor in (centre.carol, centre.alice, outsider):  # supervisor, agent, other client
        with pytest.raises(PermissionDenied):
            list_load(
                actor=actor, campaign=campaign, customer_ids=[customer.pk], source=ListSource.FILE
            )


def test_it_ids_are_read_in_chunks_each_once_and_only_of_the_campaigns_client(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    people = customers(centre.bank, 7)
    block(people[3])
    stranger = f.make_customer(centre.insurer)
    ids = [c.pk for c in people] + [people[0].pk, people[5].pk, stranger.pk, 10**9]

    with mock.patch.object(lists, "CHUNK", 3):
        preview = list_load_preview(campaign=campaign, customer_ids=iter(ids))
        load = list_load(
            actor=centre.dave, campaign=campaign, customer_ids=iter(ids), source=ListSource.FILE
        )

    # Repeated ids count once; another client's customer and a missing id are unknown.
    assert (preview.candidates, preview.loadable, preview.unknown) == (7, 6, 2)
    assert (load.candidates, load.loaded, load.excluded["unknown"]) == (7, 6, 2)
    assert CampaignLead.objects.filter(campaign=campaign).count() == 6
    assert not CampaignLead.objects.filter(customer=stranger).exists()


def test_it_a_queryset_is_walked_in_chunks_by_id(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    people = customers(centre.bank, 8)
    block(people[7])
    f.make_customer(centre.insurer)  # not the campaign's client: never a candidate

    with mock.patch.object(lists, "CHUNK", 3):
        load = list_load(
            actor=centre.dave,
            campaign=campaign,
            customers=Customer.objects.all(),
            source=ListSource.SEGMENT,
        )

    assert (load.candidates, load.loaded, load.excluded["dnc"]) == (8, 7, 1)
    assert CampaignLead.objects.filter(campaign=campaign).count() == 7


def test_it_the_load_runs_set_based_queries_not_one_per_customer(
    centre: Centre, django_assert_max_num_queries
):  # type: ignore[no-untyped-def]
    campaign = f.make_campaign(centre.bank)
    people = customers(centre.bank, 40)
    ids = [c.pk for c in people]

    with mock.patch.object(lists, "CHUNK", 10), django_assert_max_num_queries(25):
        load = list_load(
            actor=centre.dave, campaign=campaign, customer_ids=ids, source=ListSource.FILE
        )

    assert load.loaded == 40


def test_it_while_a_pilot_is_open_new_leads_wait_for_the_roll_out(centre: Centre):
    campaign = f.make_campaign(centre.bank, status=CampaignStatus.PILOT)
    Pilot.objects.create(campaign=campaign, seed=1, size=100, drawn=100)
    customer = f.make_customer(centre.bank)

    list_load(actor=centre.dave, campaign=campaign, customer_ids=[customer.pk], source="file")

    assert CampaignLead.objects.get(campaign=campaign).phase == LeadPhase.WAITING


def test_it_loads_a_segment_of_the_campaigns_client_only(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    beijing = f.make_customer(centre.bank, city="北京")
    f.make_customer(centre.bank, city="上海")
    segment = Segment.objects.create(
        client=centre.bank, name="北京", rules=[{"field": "city", "op": "in", "value": ["北京"]}]
    )
    foreign = Segment.objects.create(client=centre.insurer, name="全部", rules=[])

    load = list_load(
        actor=centre.dave, campaign=campaign, segment=segment, source=ListSource.SEGMENT
    )

    assert load.segment == segment
    assert list(CampaignLead.objects.values_list("customer_id", flat=True)) == [beijing.pk]
    with pytest.raises(ValidationError):
        list_load(actor=centre.dave, campaign=campaign, segment=foreign, source="segment")


def test_it_loads_a_finished_import_by_its_customer_ids(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    imported = customers(centre.bank, 2)
    job = ImportJob.objects.create(
        client=centre.bank, status=ImportStatus.DONE, file="x.csv", file_name="x.csv"
    )
    running = ImportJob.objects.create(
        client=centre.bank, status=ImportStatus.RUNNING, file="y.csv", file_name="y.csv"
    )

    with mock.patch(
        "calldeck.customers.importing.job_files.job_customer_ids",
        side_effect=lambda j: iter([c.pk for c in imported]),
    ):
        load = list_load(
            actor=centre.erin, campaign=campaign, import_job=job, source=ListSource.FILE
        )
        with pytest.raises(ValidationError) as caught:
            list_load(actor=centre.erin, campaign=campaign, import_job=running, source="file")

    assert (load.loaded, load.import_job) == (2, job)
    assert "finished" in caught.value.messages[0]


def test_it_contacted_within_must_be_a_sensible_number_of_days(centre: Centre):
    campaign = f.make_campaign(centre.bank)

    for days in (0, 5000):
        with pytest.raises(ValidationError):
            list_load_preview(campaign=campaign, customer_ids=[], contacted_within_days=days)
