"""Every URL, as every role: who gets in and who is refused.

The table below is the access rule of the whole site. A URL added without a row here
fails ``test_it_has_a_rule_for_every_url``, so no page can be added without deciding who
may open it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from calldeck.accounts.models import Role, User
from calldeck.customers.models import ImportJob, ImportStatus, Segment
from tests import factories as f
from tests.customers.test_customer_pages import ROLE_MATRIX as CUSTOMER_PAGES

ALL_ROLES = frozenset(Role)
AGENT = frozenset({Role.AGENT})
READERS = frozenset({Role.CAMPAIGN_MANAGER, Role.SUPERVISOR, Role.DATA_ADMIN})
MANAGER = frozenset({Role.CAMPAIGN_MANAGER})
ASSIGNERS = frozenset({Role.SUPERVISOR, Role.CAMPAIGN_MANAGER})
CUSTOMER_READERS = frozenset(
    {Role.DATA_ADMIN, Role.CAMPAIGN_MANAGER, Role.SUPERVISOR, Role.ACCOUNT_MANAGER}
)
SEGMENT_EDITORS = frozenset({Role.DATA_ADMIN, Role.CAMPAIGN_MANAGER})
IMPORTERS = frozenset({Role.DATA_ADMIN})
LIST_LOADERS = frozenset({Role.CAMPAIGN_MANAGER, Role.DATA_ADMIN})


@dataclass(frozen=True)
class Rule:
    method: str  # GET or POST
    roles: frozenset[Role]  # roles let in; everyone else gets 403 (anonymous: the login page)
    kwargs: str = ""  # "campaign" or "assignment" or "action"


RULES: dict[str, Rule] = {
    "calldeck-home": Rule("GET", ALL_ROLES),
    "calldeck-desk": Rule("GET", AGENT),
    "calldeck-desk-panel": Rule("GET", AGENT),
    "calldeck-desk-act": Rule("POST", AGENT, "action"),
    "calldeck-desk-wrapup": Rule("POST", AGENT),
    "calldeck-campaigns": Rule("GET", READERS),
    "calldeck-campaign-detail": Rule("GET", READERS, "campaign"),
    "calldeck-campaign-create": Rule("GET", MANAGER),
    "calldeck-campaign-edit": Rule("GET", MANAGER, "campaign"),
    "calldeck-campaign-transition": Rule("POST", MANAGER, "campaign"),
    "calldeck-campaign-windows": Rule("POST", MANAGER, "campaign"),
    "calldeck-campaign-retry-rules": Rule("POST", MANAGER, "campaign"),
    "calldeck-assignments": Rule("GET", ASSIGNERS),
    "calldeck-assignment-set": Rule("POST", ASSIGNERS, "campaign"),
    "calldeck-assignment-remove": Rule("POST", ASSIGNERS, "assignment"),
    "calldeck-kpi-today": Rule("GET", frozenset({Role.SUPERVISOR, Role.CAMPAIGN_MANAGER})),
    "calldeck-segments": Rule("GET", CUSTOMER_READERS),
    "calldeck-segment-detail": Rule("GET", CUSTOMER_READERS, "segment"),
    "calldeck-segment-create": Rule("GET", SEGMENT_EDITORS),
    "calldeck-segment-edit": Rule("GET", SEGMENT_EDITORS, "segment"),
    "calldeck-segment-delete": Rule("GET", SEGMENT_EDITORS, "segment"),
    "calldeck-segment-count": Rule("POST", SEGMENT_EDITORS),
    "calldeck-campaign-load": Rule("GET", LIST_LOADERS, "campaign"),
    "calldeck-campaign-pilot-draw": Rule("POST", LIST_LOADERS, "campaign"),
    "calldeck-campaign-pilot-roll-out": Rule("POST", LIST_LOADERS, "campaign"),
    "calldeck-campaign-daily-rule": Rule("POST", ASSIGNERS, "campaign"),
    "calldeck-campaign-daily-build": Rule("POST", ASSIGNERS, "campaign"),
    "calldeck-imports": Rule("GET", IMPORTERS),
    "calldeck-import-new": Rule("GET", IMPORTERS),
    "calldeck-import-mapping": Rule("GET", IMPORTERS),
    "calldeck-import-detail": Rule("GET", IMPORTERS, "job"),
    "calldeck-import-progress": Rule("GET", IMPORTERS, "job"),
    "calldeck-import-report": Rule("GET", IMPORTERS, "job"),
    "calldeck-desk-customer-add": Rule("POST", AGENT, "what"),
    "calldeck-desk-customer-history": Rule("GET", AGENT),
}
# A customer's pages also depend on whether an agent holds the customer: their table is
# ROLE_MATRIX in tests/customers/test_customer_pages.py, checked there role by role.
OWN_TABLES = set(CUSTOMER_PAGES)
# Open to everyone by design, checked on their own below.
PUBLIC = {"calldeck-login", "calldeck-logout"}


def _our_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[URLPattern | URLResolver]) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif pattern.name and pattern.name.startswith("calldeck-"):
                names.add(pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_it_has_a_rule_for_every_url() -> None:
    assert _our_url_names() - PUBLIC == set(RULES) | OWN_TABLES
    assert not set(RULES) & OWN_TABLES


def _finished_import(centre):  # type: ignore[no-untyped-def]
    job = ImportJob.objects.create(
        client=centre.bank,
        status=ImportStatus.DONE,
        file_name="customers.csv",
        file=ContentFile(b"x", name="customers.csv"),
        report=ContentFile(b"row,column,value,reason\r\n", name="report.csv"),
        summary={"read": 0, "created": 0, "updated": 0, "merged": 0, "rejected": {}},
    )
    return job


@pytest.fixture
def world(centre):  # type: ignore[no-untyped-def]
    campaign = f.make_campaign(centre.bank)
    assignment = f.assign(campaign, team=centre.team_a)
    people: dict[Role, User] = {
        Role.AGENT: centre.alice,
        Role.SUPERVISOR: centre.carol,
        Role.CAMPAIGN_MANAGER: centre.dave,
        Role.DATA_ADMIN: centre.erin,
        Role.QA: centre.quinn,
        Role.ACCOUNT_MANAGER: f.make_user(Role.ACCOUNT_MANAGER, clients=[centre.bank]),
        Role.BRANCH_MANAGER: f.make_user(Role.BRANCH_MANAGER, clients=[centre.bank]),
    }
    segment = Segment.objects.create(client=centre.bank, name="全部客户", rules=[])
    job = _finished_import(centre)
    kwargs = {
        "": {},
        "segment": {"pk": segment.pk},
        "what": {"what": "phone"},
        "job": {"pk": job.pk},
        "campaign": {"pk": campaign.pk},
        "assignment": {"pk": assignment.pk},
        "action": {"name": "resume"},
    }
    return people, kwargs


@pytest.mark.parametrize("role", [*Role, None], ids=[*Role.values, "anonymous"])
@pytest.mark.parametrize("name", sorted(RULES))
def test_it_lets_in_exactly_the_roles_of_each_url(name, role, world):  # type: ignore[no-untyped-def]
    people, kwargs = world
    rule = RULES[name]
    url = reverse(name, kwargs=kwargs[rule.kwargs])
    client = HttpClient()
    if role is not None:
        client.force_login(people[role])
    response = client.get(url) if rule.method == "GET" else client.post(url, {})
    response.close()  # a file download holds its file open until closed
    if role is None:
        assert response.status_code == 302 and "/login/" in response["Location"]
    elif role in rule.roles:
        assert response.status_code not in (401, 403, 404, 405), response.status_code
    else:
        assert response.status_code == 403, response.status_code


def test_it_keeps_the_admin_for_operators(world, centre):  # type: ignore[no-untyped-def]
    people, _kwargs = world
    for user in people.values():
        client = HttpClient()
        client.force_login(user)
        assert client.get("/ops/admin/").status_code == 302  # to the admin's own login
    ops = User.objects.create_superuser("ops-test", password="x-Ops-12345")
    client = HttpClient()
    client.force_login(ops)
    assert client.get("/ops/admin/").status_code == 200


def test_it_serves_login_to_everyone_and_logout_by_post_only(db) -> None:  # type: ignore[no-untyped-def]
    client = HttpClient()
    assert client.get(reverse("calldeck-login")).status_code == 200
    assert client.get(reverse("calldeck-logout")).status_code == 405
    assert client.post(reverse("calldeck-logout")).status_code == 302


def test_it_keeps_clients_apart(world, centre):  # type: ignore[no-untyped-def]
    insurer_campaign = f.make_campaign(centre.insurer, name="保险续保")
    client = HttpClient()
    client.force_login(centre.dave)  # the bank's campaign manager
    assert (
        client.get(
            reverse("calldeck-campaign-detail", kwargs={"pk": insurer_campaign.pk})
        ).status_code
        == 404
    )
    assert "保险续保" not in client.get(reverse("calldeck-campaigns")).content.decode()
