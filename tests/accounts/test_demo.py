"""``manage.py load_demo``: the demo centre, and that loading it twice changes nothing."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import phonenumbers
import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone
from pytest_django.fixtures import Settings

from calldeck.accounts.demo import DEMO_PASSWORD
from calldeck.accounts.models import Client, Role, Team, TeamMembership, User
from calldeck.callscripts.models import ScriptVersion
from calldeck.campaigns.models import (
    CallingWindow,
    Campaign,
    CampaignAssignment,
    CampaignLead,
    CampaignStatus,
    DialMode,
    LeadStatus,
)
from calldeck.customers.models import ContactBlock, Customer, EmailAddress, PhoneNumber
from tests import factories as f

pytestmark = pytest.mark.django_db

MODELS = [
    Client, User, Team, TeamMembership, Customer, PhoneNumber, EmailAddress, Campaign,
    CampaignLead, CampaignAssignment, CallingWindow, ContactBlock, ScriptVersion,
]  # fmt: skip


@pytest.fixture(autouse=True)
def fast_hasher(settings: Settings) -> None:
    # Argon2 is deliberately slow; the tests check data, not hashing cost.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model._default_manager.count() for model in MODELS}


def bank() -> Client:
    return Client.objects.get(code="demo-bank")


def test_it_creates_one_login_per_role_with_the_demo_password() -> None:
    load()
    expected = {
        "admin_data": Role.DATA_ADMIN,
        "manager": Role.CAMPAIGN_MANAGER,
        "supervisor": Role.SUPERVISOR,
        "qa": Role.QA,
        "am": Role.ACCOUNT_MANAGER,
        "branch": Role.BRANCH_MANAGER,
        **{f"agent{i}": Role.AGENT for i in range(1, 7)},
    }
    for username, role in expected.items():
        user = User.objects.get(username=username)
        assert user.check_password(DEMO_PASSWORD), username
        assert user.role == role
        # Every demo role works for the bank only: the insurer stays invisible to them.
        assert list(user.clients.values_list("code", flat=True)) == ["demo-bank"]
    ops = User.objects.get(username="ops")
    assert ops.is_superuser and ops.is_staff and ops.check_password(DEMO_PASSWORD)


def test_it_splits_six_agents_into_two_teams_under_one_supervisor() -> None:
    load()
    teams = {t.name: t for t in Team.objects.all()}
    assert set(teams) == {"一组", "二组"}
    for team in teams.values():
        assert team.supervisor is not None and team.supervisor.username == "supervisor"
        assert team.memberships.count() == 3
        assert all(m.user.role == Role.AGENT for m in team.memberships.all())
    # Display names are Chinese.
    assert User.objects.get(username="agent1").display_name == "王芳"


def test_it_loads_two_thousand_customers_and_their_leads() -> None:
    load()
    customers = Customer.objects.filter(client=bank(), customer_key__startswith="B")
    assert customers.count() == 2000
    campaign = Campaign.objects.get(client=bank(), name="信用卡分期专项营销")
    assert campaign.name == "信用卡分期专项营销"
    assert campaign.status == CampaignStatus.ACTIVE
    assert campaign.dial_mode == DialMode.PREVIEW
    assert campaign.preview_fields == ["gender", "city", "value_tier", "birthday"]
    assert campaign.windows.count() == 7
    assert campaign.retry_rules.exists()
    assert campaign.disposition_set.dispositions.exists()
    leads = CampaignLead.objects.filter(campaign=campaign)
    assert leads.count() == customers.filter(vip_level="", account_manager=None).count()
    assert not leads.exclude(status=LeadStatus.NEW).exists()
    assert not leads.filter(next_attempt_at__gt=timezone.now()).exists()


def test_it_keeps_vip_customers_out_of_the_campaign() -> None:
    load()
    vips = Customer.objects.filter(client=bank()).exclude(vip_level="")
    # A few per cent of the list, all with the account manager.
    assert 20 < vips.count() < 200
    assert set(vips.values_list("account_manager__username", flat=True)) == {"am"}
    assert not CampaignLead.objects.filter(customer__in=vips).exists()


def test_it_stores_only_valid_e164_numbers() -> None:
    load()
    numbers = list(PhoneNumber.objects.values_list("e164", flat=True))
    assert len(numbers) > 2000
    for e164 in numbers:
        parsed = phonenumbers.parse(e164, None)
        assert phonenumbers.is_valid_number(parsed), e164
        assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == e164
    # Each customer has a mobile; some have a landline at home.
    assert not Customer.objects.exclude(phones__kind="mobile").exists()
    assert PhoneNumber.objects.filter(kind="home").exists()


def test_it_leaves_blocked_customers_in_the_list_for_the_dial_time_check() -> None:
    load()
    blocks = ContactBlock.objects.filter(client=bank())
    assert sorted(blocks.values_list("kind", flat=True)) == ["blacklist", "dnc"]
    for block in blocks:
        assert CampaignLead.objects.filter(customer=block.customer, status=LeadStatus.NEW).exists()


def test_it_puts_the_insurer_in_a_separate_campaign() -> None:
    load()
    insurer = Client.objects.get(code="demo-insurer")
    campaign = Campaign.objects.get(client=insurer)
    assert CampaignLead.objects.filter(campaign=campaign).exists()
    assert not CampaignLead.objects.filter(campaign=campaign, customer__client=bank()).exists()


def test_it_fills_the_script_with_customer_and_offer_fields() -> None:
    load()
    campaign = Campaign.objects.get(client=bank(), name="信用卡分期专项营销")
    body = campaign.script.current_version().body  # type: ignore[union-attr]
    assert "{{ customer.name }}" in body
    assert "{{ offer.name }}" in body


def test_team_two_takes_the_calls_of_a_predictive_campaign() -> None:
    load()
    campaign = Campaign.objects.get(client=bank(), name="理财产品外呼")
    assert campaign.dial_mode == DialMode.PREDICTIVE and campaign.status == CampaignStatus.ACTIVE
    assert campaign.leads.count() == 300
    assert not campaign.leads.filter(customer__customer_key__startswith="B").exists()
    rows = CampaignAssignment.objects.filter(day=timezone.localdate())
    assert sorted(rows.values_list("team__name", "campaign__name")) == [
        ("一组", "信用卡分期专项营销"),
        ("一组", "生日关怀（日常营销）"),
        ("二组", "理财产品外呼"),
    ]


def test_it_assigns_both_teams_today() -> None:
    load()
    rows = CampaignAssignment.objects.filter(day=timezone.localdate())
    # Team 一组 also calls the day's birthday list, after its main campaign.
    assert sorted(rows.values_list("team__name", "priority")) == [
        ("一组", 1),
        ("一组", 2),
        ("二组", 1),
    ]


def test_it_builds_the_days_birthday_list() -> None:
    load()
    campaign = Campaign.objects.get(client=bank(), name="生日关怀（日常营销）")
    today = timezone.localdate()
    run = campaign.daily_runs.get(day=today)
    leads = list(campaign.leads.select_related("customer"))
    assert run.list_load is not None and len(leads) == run.list_load.loaded >= 2

    def on_today(day: dt.date | None) -> bool:
        return day is not None and (day.month, day.day) == (today.month, today.day)

    assert all(
        on_today(lead.customer.birthday) or on_today(lead.customer.customer_since) for lead in leads
    )
    # Round robin over team 一组's agents.
    assert sum(run.assigned.values()) == len(leads)


def test_it_prints_the_logins() -> None:
    out = load()
    for username in ["admin_data", "manager", "supervisor", "qa", "am", "branch", "agent6", "ops"]:
        assert any(
            line.split()[:1] == [username] and line.rstrip().endswith(DEMO_PASSWORD)
            for line in out.splitlines()
        ), username


def test_it_changes_nothing_when_run_twice() -> None:
    load()
    before = counts()
    out = load()
    assert counts() == before
    assert "already loaded" in out


def test_it_adds_only_the_new_days_assignments_when_run_on_a_later_day() -> None:
    load()
    before = counts()
    with time_machine.travel(timezone.now() + dt.timedelta(days=1)):
        load()
        today = timezone.localdate()
    after = counts()
    # Assignments are per day: the rerun adds tomorrow's three, and tomorrow's birthday
    # list (its leads, its list load and its run), and nothing else.
    assert after["CampaignAssignment"] == before["CampaignAssignment"] + 3
    assert CampaignAssignment.objects.filter(day=today).count() == 3
    daily = Campaign.objects.get(name="生日关怀（日常营销）")
    tomorrow = daily.daily_runs.get(day=today)
    assert tomorrow.list_load is not None
    assert after["CampaignLead"] == before["CampaignLead"] + tomorrow.list_load.loaded
    per_day = {"CampaignAssignment", "CampaignLead"}
    assert {k: v for k, v in after.items() if k not in per_day} == {
        k: v for k, v in before.items() if k not in per_day
    }


def test_it_refuses_a_database_that_holds_demo_usernames_without_the_demo() -> None:
    f.make_user(Role.AGENT, username="agent1")
    with pytest.raises(CommandError, match="agent1"):
        load()
    # Nothing half-loaded: the whole load is one transaction.
    assert not Client.objects.filter(code="demo-bank").exists()
