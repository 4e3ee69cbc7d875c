"""The "Today's KPIs" page: who sees which rows, and that the page shows the module's figures."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
import time_machine
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from calldeck.accounts.models import Role, TeamMembership, User
from calldeck.calls.models import CallOutcome, SaleStatus
from calldeck.campaigns.models import Campaign, CampaignStatus
from calldeck.reports import kpi
from calldeck.reports.kpi import KpiScope
from tests import factories as f
from tests.conftest import Centre
from tests.reports.builders import local, make_call, make_sale

URL = reverse("calldeck-kpi-today")
CELLS = (
    "attempts",
    "customers_dialed",
    "outbound_connect_rate",
    "outbound_success_rate",
    "phone_deals",
    "average_talk_seconds",
    "average_acw_seconds",
)


class _KpiTables(HTMLParser):
    """Collects {table id: {row id: {kpi: text}}} from the data-row / data-kpi marks."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, dict[str, str]]] = {}
        self._table = self._row = self._cell = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        marks = dict(attrs)
        if tag == "table" and marks.get("id"):
            self._table = marks["id"]
            self.tables[self._table] = {}
        elif tag == "tr" and self._table and marks.get("data-row"):
            self._row = marks["data-row"]
            self.tables[self._table][self._row] = {}
        elif tag == "td" and self._row and marks.get("data-kpi"):
            self._cell = marks["data-kpi"]
            self.tables[self._table][self._row][self._cell] = ""

    def handle_data(self, data: str) -> None:
        if self._cell:
            self.tables[self._table][self._row][self._cell] += data.strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._cell = None
        elif tag == "tr":
            self._row = None
        elif tag == "table":
            self._table = None


def kpi_tables(response) -> dict[str, dict[str, dict[str, str]]]:
    parser = _KpiTables()
    parser.feed(response.content.decode())
    return parser.tables


def shown(k: kpi.Kpis) -> dict[str, str]:
    """The cells the page must show for ``k``, formatted by the KPI module."""
    return {
        "attempts": str(k.attempts),
        "customers_dialed": str(k.customers_dialed),
        "outbound_connect_rate": kpi.format_rate(k.outbound_connect_rate),
        "outbound_success_rate": kpi.format_rate(k.outbound_success_rate),
        "phone_deals": str(k.phone_deals),
        "average_talk_seconds": kpi.format_duration(k.average_talk_seconds),
        "average_acw_seconds": kpi.format_duration(k.average_acw_seconds),
    }


def login(client: HttpClient, user: User) -> HttpClient:
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def day() -> dt.date:
    return timezone.localdate() - dt.timedelta(days=1)


@pytest.fixture
def campaign(centre: Centre) -> Campaign:
    return f.make_campaign(centre.bank, name="信用卡分期")


@pytest.fixture
def busy_day(centre: Centre, campaign: Campaign, day: dt.date) -> dt.date:
    """A day with work by Alice, Bob, an agent of another team and the insurer's Mallory."""
    shared = f.make_customer(centre.bank)
    sold = make_call(
        campaign,
        at=local(day, 9),
        agent=centre.alice,
        customer=shared,
        talk_seconds=185,
        wrapup_seconds=40,
        disposition_code="sale",
    )
    make_sale(sold, status=SaleStatus.CANCELLED)
    make_call(campaign, at=local(day, 9, 30), agent=centre.alice, outcome=CallOutcome.MACHINE)
    make_call(
        campaign,
        at=local(day, 14),
        agent=centre.bob,
        customer=shared,
        talk_seconds=61,
        wrapup_seconds=15,
        disposition_code="not_interested",
    )
    make_call(campaign, at=local(day, 15), outcome=CallOutcome.ABANDONED)
    outsider = f.make_user(Role.AGENT, clients=[centre.bank], display_name="Oscar")
    f.make_team(members=[outsider], name="三组")
    make_call(campaign, at=local(day, 10), agent=outsider, talk_seconds=20)
    insurer_campaign = f.make_campaign(centre.insurer, name="车险续保")
    make_sale(make_call(insurer_campaign, at=local(day, 11), agent=centre.mallory))
    return day


def test_it_sends_anonymous_users_to_log_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert reverse("calldeck-login") in response["Location"]


def test_it_forbids_agents(client, centre):
    # Agents read their own figures on the desk, not the team's.
    response = login(client, centre.alice).get(URL)

    assert response.status_code == 403


def test_it_shows_a_supervisor_the_agents_of_own_teams_only(client, centre, busy_day):
    response = login(client, centre.carol).get(URL, {"day": busy_day.isoformat()})

    assert response.status_code == 200
    rows = kpi_tables(response)["kpi-agents"]
    # Oscar (another team), Mallory (another client) and the dialer's own abandoned call
    # are outside Carol's slice.
    assert set(rows) == {f"agent-{centre.alice.pk}", f"agent-{centre.bob.pk}", "total"}
    assert "Oscar" not in response.content.decode()
    assert "车险续保" not in response.content.decode()


def test_it_hides_team_calls_for_a_client_the_supervisor_lacks(client, centre, campaign, day):
    # Alice works for both clients; Carol is granted the bank only.
    centre.alice.clients.add(centre.insurer)
    insurer_campaign = f.make_campaign(centre.insurer, name="车险续保")
    make_call(campaign, at=local(day, 9), agent=centre.alice)
    make_sale(make_call(insurer_campaign, at=local(day, 10), agent=centre.alice))

    response = login(client, centre.carol).get(URL, {"day": day.isoformat()})

    tables = kpi_tables(response)
    assert tables["kpi-agents"][f"agent-{centre.alice.pk}"]["attempts"] == "1"
    assert tables["kpi-agents"][f"agent-{centre.alice.pk}"]["phone_deals"] == "0"
    assert set(tables["kpi-campaigns"]) == {f"campaign-{campaign.pk}", "total"}
    assert "车险续保" not in response.content.decode()


def test_it_shows_a_supervisor_the_figures_of_the_kpi_module(client, centre, busy_day):
    response = login(client, centre.carol).get(URL, {"day": busy_day.isoformat()})

    tables = kpi_tables(response)
    scope = KpiScope.for_day(busy_day, client_ids=[centre.bank.pk], team_ids=[centre.team_a.pk])
    by_agent = kpi.kpis_by_agent(scope)
    by_campaign = kpi.kpis_by_campaign(scope)
    totals = kpi.kpis_total(scope)
    campaign_id = next(iter(by_campaign))

    for agent in (centre.alice, centre.bob):
        assert tables["kpi-agents"][f"agent-{agent.pk}"] == shown(by_agent[agent.pk])
    assert tables["kpi-agents"]["total"] == shown(totals)
    assert tables["kpi-campaigns"][f"campaign-{campaign_id}"] == shown(by_campaign[campaign_id])
    assert tables["kpi-campaigns"]["total"] == shown(totals)
    # Spot-check the arithmetic the page relies on: Alice dialed 2, connected 1, sold 1
    # (cancelled later, still a phone deal), talked 3:05 on 1 handled call.
    assert tables["kpi-agents"][f"agent-{centre.alice.pk}"] == {
        "attempts": "2",
        "customers_dialed": "2",
        "outbound_connect_rate": "50.0%",
        "outbound_success_rate": "100.0%",
        "phone_deals": "1",
        "average_talk_seconds": "3:05",
        "average_acw_seconds": "0:40",
    }
    # The shared customer was dialed by Alice and Bob: once in the total.
    assert tables["kpi-agents"]["total"]["customers_dialed"] == "2"


def test_it_shows_an_idle_team_agent_with_dashes(client, centre, campaign, day):
    make_call(campaign, at=local(day, 9), agent=centre.alice)

    response = login(client, centre.carol).get(URL, {"day": day.isoformat()})

    bob = kpi_tables(response)["kpi-agents"][f"agent-{centre.bob.pk}"]
    # No calls: zero counts, and rates with nothing to divide by are "—", never 0 %.
    assert bob["attempts"] == "0"
    assert bob["outbound_connect_rate"] == "—"
    assert bob["average_talk_seconds"] == "—"


def test_it_lists_a_moved_agent_under_the_team_of_that_day(client, centre, campaign, day):
    TeamMembership.objects.filter(user=centre.alice).update(valid_to=day - dt.timedelta(days=1))
    f.make_team(name="二组").memberships.create(user=centre.alice, valid_from=day)
    make_call(campaign, at=local(day, 9), agent=centre.alice)

    response = login(client, centre.carol).get(URL, {"day": day.isoformat()})

    rows = kpi_tables(response)["kpi-agents"]
    assert f"agent-{centre.alice.pk}" not in rows
    assert rows["total"]["attempts"] == "0"


def test_it_shows_a_campaign_manager_all_campaigns_of_own_clients(client, centre, busy_day):
    quiet = f.make_campaign(centre.bank, name="静默活动")
    f.make_campaign(centre.bank, name="草稿活动", status=CampaignStatus.DRAFT)

    response = login(client, centre.dave).get(URL, {"day": busy_day.isoformat()})

    tables = kpi_tables(response)
    scope = KpiScope.for_day(busy_day, client_ids=[centre.bank.pk])
    by_agent = kpi.kpis_by_agent(scope)
    # Every agent who called on the bank's campaigns, including other teams, and the
    # calls no agent took; never the insurer's.
    assert set(tables["kpi-agents"]) == {
        *(f"agent-{pk}" for pk in by_agent if pk is not None),
        "agent-none",
        "total",
    }
    assert f"agent-{centre.mallory.pk}" not in tables["kpi-agents"]
    assert tables["kpi-agents"]["agent-none"] == shown(by_agent[None])
    assert tables["kpi-agents"]["total"] == shown(kpi.kpis_total(scope))
    # A running campaign without calls is listed; a draft is not; the insurer's never.
    campaign_rows = tables["kpi-campaigns"]
    assert campaign_rows[f"campaign-{quiet.pk}"]["attempts"] == "0"
    assert "草稿活动" not in response.content.decode()
    assert "车险续保" not in response.content.decode()


def test_it_never_shows_customer_numbers(client, centre, campaign, day):
    customer = f.make_customer(centre.bank, phones=["+8613912345678"])
    make_call(campaign, at=local(day, 9), agent=centre.alice, customer=customer)

    page = login(client, centre.dave).get(URL, {"day": day.isoformat()}).content.decode()

    assert "13912345678" not in page
    assert customer.name not in page


@time_machine.travel(dt.datetime(2026, 3, 9, 16, 30, tzinfo=dt.UTC), tick=False)
def test_it_defaults_to_today_in_the_centre_time_zone(client, centre, campaign):
    # 16:30 UTC on 9 March is 00:30 on 10 March in Shanghai.
    make_call(campaign, at=local(dt.date(2026, 3, 10), 0, 10), outcome=CallOutcome.BUSY)
    make_call(campaign, at=local(dt.date(2026, 3, 9), 23, 0), outcome=CallOutcome.BUSY)

    response = login(client, centre.dave).get(URL)

    assert response.context["report"].day == dt.date(2026, 3, 10)
    assert kpi_tables(response)["kpi-campaigns"]["total"]["attempts"] == "1"


def test_it_rejects_a_malformed_day(client, centre):
    response = login(client, centre.dave).get(URL, {"day": "2026-13-45"})

    assert response.status_code == 400
    assert response.context["form"].errors


def test_it_renders_with_a_fixed_number_of_queries(client, centre, campaign, day):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = login(HttpClient(), centre.carol).get(URL, {"day": day.isoformat()})
            assert response.status_code == 200
        return len(captured)

    make_call(campaign, at=local(day, 9), agent=centre.alice)
    few = queries()
    for agent in (centre.alice, centre.bob):
        for hour in range(10, 15):
            other = f.make_campaign(centre.bank)
            make_sale(make_call(other, at=local(day, hour), agent=agent))

    # The KPI tables are aggregates: more calls, agents or campaigns, no more queries.
    assert queries() == few
