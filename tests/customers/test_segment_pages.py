"""The segment pages through the test client: list, detail, editor, live count, delete.

Personas (tests/conftest.py): Dave is the bank's campaign manager and Erin its data admin
(both edit segments); Carol supervises (reads customers, edits no segment); Alice is an
agent; Mallory works for the insurer only.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client as HttpClient
from django.urls import reverse

from calldeck.accounts.models import Role, User
from calldeck.audit.models import AuditEntry
from calldeck.campaigns.models import DailyListRule
from calldeck.customers import segment_services as services
from calldeck.customers.models import Segment
from tests import factories as f
from tests.conftest import Centre

# --- builders ------------------------------------------------------------------------


def browser(user: User) -> HttpClient:
    client = HttpClient()
    client.force_login(user)
    return client


def htmx(user: User) -> HttpClient:
    client = HttpClient(headers={"HX-Request": "true"})
    client.force_login(user)
    return client


def make_segment(client: Any, name: str = "北京客户", rules: list[Any] | None = None) -> Segment:
    if rules is None:
        rules = [{"field": "city", "op": "in", "value": ["北京"]}]
    return Segment.objects.create(client=client, name=name, rules=rules)


def editor_post(client: Any, *rows: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The editor form as the browser posts it; each row as {"field", "op", "value", ...}."""
    data: dict[str, Any] = {
        "client": client.pk,
        "name": "北京上海客户",
        "description": "",
        "action": "save",
        "row": [],
    }
    for n, row in enumerate(rows, start=1):
        data["row"].append(str(n))
        for key, value in row.items():
            data[f"c{n}-{key}"] = value
        data[f"c{n}-was"] = row["field"]
    data.update(fields)
    return data


CITY_ROW = {"field": "city", "op": "in", "value": "北京、上海"}


class FormScraper(HTMLParser):
    """What a browser would post for the form ``form_id``: inputs, checked boxes, selects."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.select: str | None = None
        self.first_option: str | None = None
        self.data: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or ("name" not in a and tag != "option"):
            return
        if (tag == "input" and a.get("type") not in ("checkbox", "submit")) or (
            tag == "input" and a.get("type") == "checkbox" and "checked" in a
        ):
            self.data.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select, self.first_option = a["name"], None
        elif tag == "option" and self.select is not None:
            if self.first_option is None:
                self.first_option = a.get("value", "")
            if "selected" in a:
                self.data.append((self.select, a.get("value", "")))
                self.select = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self.select is not None:
            self.data.append((self.select, self.first_option or ""))
            self.select = None
        if tag == "form":
            self.inside = False


def scraped(html: str, form_id: str = "segment-form") -> dict[str, list[str]]:
    parser = FormScraper(form_id)
    parser.feed(html)
    out: dict[str, list[str]] = {}
    for name, value in parser.data:
        out.setdefault(name, []).append(value)
    return out


# --- list and detail -----------------------------------------------------------------


@pytest.mark.parametrize("persona", ["dave", "erin", "carol"])
def test_it_lists_the_segments_of_the_users_clients_with_their_counts(centre: Centre, persona: str):
    f.make_customer(centre.bank, city="北京")
    f.make_customer(centre.bank, city="北京")
    f.make_customer(centre.bank, city="上海")
    make_segment(centre.bank)
    make_segment(centre.insurer, name="保险客户", rules=[])

    response = browser(getattr(centre, persona)).get(reverse("calldeck-segments"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "北京客户" in page and "City is one of 北京" in page
    assert "保险客户" not in page  # another client's
    [row] = response.context["rows"]
    assert row["count"] == 2


def test_it_shows_an_account_manager_the_list(centre: Centre):
    am = f.make_user(Role.ACCOUNT_MANAGER, clients=[centre.bank])
    assert browser(am).get(reverse("calldeck-segments")).status_code == 200


def test_it_marks_a_segment_whose_stored_conditions_are_no_longer_valid(centre: Centre):
    gone = [{"field": "shoe_size", "op": "in", "value": []}]
    make_segment(centre.bank, name="旧规则", rules=gone)

    response = browser(centre.dave).get(reverse("calldeck-segments"))

    assert response.status_code == 200
    assert "Conditions no longer valid" in response.content.decode()


def test_it_shows_a_segment_with_its_count_and_masked_sample(centre: Centre):
    f.make_customer(centre.bank, name="王芳", city="北京", phones=["+8613812345678"])
    segment = make_segment(centre.bank)

    page = browser(centre.carol).get(reverse("calldeck-segment-detail", args=[segment.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "王芳" in html
    # Supervisors see masked numbers only.
    assert "138****5678" in html and "13812345678" not in html
    assert page.context["count"] == 1
    assert not page.context["can_edit"]  # a supervisor reads, never edits


@pytest.mark.parametrize("name", ["calldeck-segment-detail", "calldeck-segment-edit"])
def test_it_hides_another_clients_segment(centre: Centre, name: str):
    theirs = make_segment(centre.insurer, name="保险客户")

    assert browser(centre.dave).get(reverse(name, args=[theirs.pk])).status_code == 404
    assert (
        browser(centre.dave).post(reverse("calldeck-segment-delete", args=[theirs.pk])).status_code
        == 404
    )
    assert Segment.objects.filter(pk=theirs.pk).exists()


@pytest.mark.parametrize("persona", ["alice", "quinn"])
def test_it_refuses_agents_and_qa_everywhere(centre: Centre, persona: str):
    segment = make_segment(centre.bank)
    client = browser(getattr(centre, persona))

    for name, args in (
        ("calldeck-segments", []),
        ("calldeck-segment-detail", [segment.pk]),
        ("calldeck-segment-create", []),
        ("calldeck-segment-edit", [segment.pk]),
        ("calldeck-segment-delete", [segment.pk]),
    ):
        assert client.get(reverse(name, args=args)).status_code == 403, name
    assert client.post(reverse("calldeck-segment-count"), {}).status_code == 403


def test_it_lets_a_supervisor_read_but_not_edit(centre: Centre):
    segment = make_segment(centre.bank)
    client = browser(centre.carol)

    assert client.get(reverse("calldeck-segment-create")).status_code == 403
    assert client.get(reverse("calldeck-segment-edit", args=[segment.pk])).status_code == 403
    assert client.post(reverse("calldeck-segment-delete", args=[segment.pk])).status_code == 403
    assert client.post(reverse("calldeck-segment-count"), {}).status_code == 403


# --- the editor ----------------------------------------------------------------------


def test_it_creates_a_segment_through_the_editor_and_audits_it(centre: Centre):
    client = browser(centre.dave)
    assert client.get(reverse("calldeck-segment-create")).status_code == 200

    response = client.post(
        reverse("calldeck-segment-create"),
        editor_post(
            centre.bank,
            CITY_ROW,
            {"field": "age", "op": "between", "from": "30", "to": "45"},
            {"field": "attr", "key": "card_level", "op": "eq", "value": "金卡"},
            {"field": "consent_marketing", "op": "is", "value": "yes"},
        ),
    )

    segment = Segment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("calldeck-segment-detail", args=[segment.pk])
    assert segment.client == centre.bank
    assert segment.created_by == centre.dave
    assert segment.rules == [
        {"field": "city", "op": "in", "value": ["北京", "上海"]},
        {"field": "age", "op": "between", "value": [30, 45]},
        {"field": "attr:card_level", "op": "eq", "value": "金卡"},
        {"field": "consent_marketing", "op": "is", "value": True},
    ]
    entry = AuditEntry.objects.get(action="segment.create")
    assert entry.actor == centre.dave
    assert entry.object_id == str(segment.pk) and entry.client_id == centre.bank.pk
    assert entry.changes["rules"] == segment.rules


def test_it_asks_which_client_when_the_user_works_for_several(centre: Centre):
    both = f.make_user(Role.DATA_ADMIN, clients=[centre.bank, centre.insurer])
    client = browser(both)

    page = client.get(reverse("calldeck-segment-create")).content.decode()
    assert 'name="client"' in page and "Choose the client first." in page

    unchosen = {**editor_post(centre.bank, CITY_ROW), "client": ""}
    refused = client.post(reverse("calldeck-segment-create"), unchosen)
    assert refused.status_code == 422 and not Segment.objects.exists()

    client.post(reverse("calldeck-segment-create"), editor_post(centre.insurer, CITY_ROW))
    assert Segment.objects.get().client == centre.insurer


def test_it_shows_the_broken_condition_instead_of_saving(centre: Centre):
    response = browser(centre.erin).post(
        reverse("calldeck-segment-create"),
        editor_post(centre.bank, CITY_ROW, {"field": "age", "op": "between", "from": "50"}),
    )

    assert response.status_code == 422
    assert "Condition 2 (Age): enter two ages" in response.content.decode()
    assert not Segment.objects.exists()


def test_it_refuses_a_name_the_client_already_uses(centre: Centre):
    make_segment(centre.bank, name="北京上海客户")

    response = browser(centre.dave).post(
        reverse("calldeck-segment-create"), editor_post(centre.bank, CITY_ROW)
    )

    assert response.status_code == 422
    assert "already has a segment named" in response.content.decode()


def test_it_edits_a_segment_and_audits_the_change(centre: Centre):
    segment = make_segment(centre.bank)
    client = browser(centre.dave)
    page = client.get(reverse("calldeck-segment-edit", args=[segment.pk]))
    assert page.status_code == 200
    [row] = page.context["rows"]
    assert (row.field, row.op, row.text) == ("city", "in", "北京")

    response = client.post(
        reverse("calldeck-segment-edit", args=[segment.pk]),
        editor_post(
            centre.bank,
            {"field": "city", "op": "not_in", "value": "拉萨"},
            {"field": "contacted", "op": "not_within_days", "value": "30"},
            name="不在拉萨",
        ),
    )

    assert response.status_code == 302
    segment.refresh_from_db()
    assert segment.name == "不在拉萨"
    assert segment.rules == [
        {"field": "city", "op": "not_in", "value": ["拉萨"]},
        {"field": "contacted", "op": "not_within_days", "value": 30},
    ]
    entry = AuditEntry.objects.get(action="segment.update")
    assert entry.changes["name"] == ["北京客户", "不在拉萨"]
    assert entry.changes["rules"][0] == [{"field": "city", "op": "in", "value": ["北京"]}]


def test_it_shows_every_kind_of_condition_and_saves_it_back_unchanged(centre: Centre):
    campaign = f.make_campaign(centre.bank, name="分期活动")
    rules = [
        {"field": "gender", "op": "in", "value": ["", "f"]},
        {"field": "value_tier", "op": "not_in", "value": ["low"]},
        {"field": "vip_level", "op": "in", "value": [""]},
        {"field": "region", "op": "not_in", "value": ["西北", "西南"]},
        {"field": "city", "op": "in", "value": ["北京", "上海"]},
        {"field": "age", "op": "between", "value": [30, 45]},
        {"field": "birthday_month", "op": "in", "value": [2, 12]},
        {"field": "customer_since", "op": "before", "value": "2020-01-01"},
        {"field": "customer_since", "op": "between", "value": ["2020-01-01", "2020-12-31"]},
        {"field": "attr:card_level", "op": "in", "value": ["金卡", "白金卡"]},
        {"field": "attr:月收入", "op": "contains", "value": "万"},
        {"field": "attr:has_instalment", "op": "not_exists", "value": None},
        {"field": "holding", "op": "has_not", "value": "理财A"},
        {"field": "bought", "op": "has", "value": campaign.offer.code},
        {"field": "contacted", "op": "within_days", "value": 7},
        {"field": "called_in_campaign", "op": "has_not", "value": campaign.pk},
        {"field": "valid_mobile", "op": "is", "value": True},
        {"field": "consent_marketing", "op": "is", "value": False},
        {"field": "blocked", "op": "is", "value": False},
        {"field": "do_not_market", "op": "is", "value": False},
        {"field": "reserved", "op": "is", "value": True},
    ]
    segment = make_segment(centre.bank, name="全部条件", rules=rules)
    client = browser(centre.dave)
    url = reverse("calldeck-segment-edit", args=[segment.pk])

    page = client.get(url)
    assert page.status_code == 200
    data = scraped(page.content.decode())
    assert len(data["row"]) == len(rules)
    data["action"] = ["save"]
    data["name"] = ["全部条件（改）"]
    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    segment.refresh_from_db()
    assert segment.name == "全部条件（改）"
    assert segment.rules == rules
    # Only the name changed.
    assert list(AuditEntry.objects.get(action="segment.update").changes) == ["name"]


def test_it_adds_and_removes_conditions_without_saving(centre: Centre):
    client = htmx(centre.dave)
    url = reverse("calldeck-segment-create")

    added = client.post(url, editor_post(centre.bank, CITY_ROW, action="add", add_field="age"))

    assert added.status_code == 200
    assert added["HX-Trigger-After-Settle"] == "segment-changed"  # the count panel recounts
    html = added.content.decode()
    assert html.lstrip().startswith('<fieldset id="conditions"')  # the conditions only
    assert html.count('name="row"') == 2
    assert '<option value="city" selected>' in html
    assert '<option value="age" selected>' in html and 'name="c2-from"' in html

    removed = client.post(url, editor_post(centre.bank, CITY_ROW, action="remove-1"))
    assert 'name="row"' not in removed.content.decode()
    assert not Segment.objects.exists()


def test_it_starts_a_changed_field_from_its_first_op(centre: Centre):
    client = htmx(centre.dave)
    data = editor_post(centre.bank, CITY_ROW, action="refresh")
    data["c1-field"] = "customer_since"  # chosen in the picker; c1-was is still "city"

    response = client.post(reverse("calldeck-segment-create"), data)

    html = response.content.decode()
    assert '<option value="customer_since" selected>' in html
    assert '<option value="before" selected>' in html
    assert 'type="date" name="c1-value" value=""' in html


# --- the live count ------------------------------------------------------------------


def test_it_counts_unsaved_conditions_with_a_masked_sample(
    centre: Centre, django_assert_max_num_queries: Any
):
    for n in range(12):
        number = f"+861381234{n:04d}"
        f.make_customer(centre.bank, name=f"北京{n:02d}", city="北京", phones=[number])
    f.make_customer(centre.bank, name="拉萨客户", city="拉萨")
    f.make_customer(centre.insurer, name="别家北京", city="北京")

    client, data = htmx(centre.dave), editor_post(centre.bank, CITY_ROW)
    # Session, user, clients; the count, the sample and its numbers: never one per row.
    with django_assert_max_num_queries(6):
        response = client.post(reverse("calldeck-segment-count"), data)

    assert response.status_code == 200
    assert response.context["count"] == 12
    sample = response.context["sample"]
    assert len(sample) == 10
    assert sample[0]["name"] == "北京00"
    assert sample[0]["number"] == "138****0000"  # campaign managers see masked numbers
    html = response.content.decode()
    assert '<strong data-testid="count">12</strong>' in html
    assert "13812340000" not in html


def test_it_shows_a_data_admin_the_full_numbers_in_the_sample(centre: Centre):
    f.make_customer(centre.bank, city="北京", phones=["+8613812345678"])

    response = htmx(centre.erin).post(
        reverse("calldeck-segment-count"), editor_post(centre.bank, CITY_ROW)
    )

    assert response.context["sample"][0]["number"] == "138 1234 5678"


def test_it_answers_the_validation_message_instead_of_a_count(centre: Centre):
    response = htmx(centre.dave).post(
        reverse("calldeck-segment-count"),
        editor_post(centre.bank, CITY_ROW, {"field": "gender", "op": "in"}),
    )

    assert response.status_code == 200
    assert "count" not in response.context
    html = response.content.decode()
    assert "Condition 2 (Gender): choose at least one value." in html
    assert 'data-testid="count-error"' in html


def test_it_refuses_to_count_for_another_client(centre: Centre):
    response = htmx(centre.dave).post(
        reverse("calldeck-segment-count"), editor_post(centre.insurer, CITY_ROW)
    )
    assert response.status_code == 404


def test_it_asks_for_the_client_before_counting(centre: Centre):
    response = htmx(centre.dave).post(reverse("calldeck-segment-count"), {})

    assert response.status_code == 200
    assert "Choose the client first." in response.content.decode()


# --- delete --------------------------------------------------------------------------


def test_it_deletes_a_segment_after_confirmation_and_audits_it(centre: Centre):
    segment = make_segment(centre.bank)
    client = browser(centre.erin)
    url = reverse("calldeck-segment-delete", args=[segment.pk])

    confirm = client.get(url)
    assert confirm.status_code == 200 and "Delete segment" in confirm.content.decode()
    assert Segment.objects.filter(pk=segment.pk).exists()  # asking deletes nothing

    response = client.post(url)

    assert response.status_code == 302 and response["Location"] == reverse("calldeck-segments")
    assert not Segment.objects.filter(pk=segment.pk).exists()
    entry = AuditEntry.objects.get(action="segment.delete")
    assert entry.actor == centre.erin
    assert entry.object_id == str(segment.pk) and entry.client_id == centre.bank.pk
    assert entry.changes["name"] == "北京客户"


def test_it_keeps_a_segment_a_daily_list_is_built_from(centre: Centre):
    segment = make_segment(centre.bank)
    campaign = f.make_campaign(centre.bank, name="生日关怀")
    DailyListRule.objects.create(campaign=campaign, segment=segment)

    client = browser(centre.dave)
    url = reverse("calldeck-segment-delete", args=[segment.pk])
    assert "生日关怀" in client.get(url).content.decode()
    response = client.post(url, follow=True)

    # Deleting it would make the daily list take every customer of the client.
    assert "The daily lists of these campaigns are built from this segment: 生日关怀." in (
        response.content.decode()
    )
    assert Segment.objects.filter(pk=segment.pk).exists()
    assert not AuditEntry.objects.filter(action="segment.delete").exists()


# --- services ------------------------------------------------------------------------


def test_it_refuses_changes_from_roles_and_clients_not_allowed(centre: Centre):
    theirs = make_segment(centre.insurer, name="保险客户")
    ours = make_segment(centre.bank)

    with pytest.raises(PermissionDenied):
        services.segment_create(actor=centre.carol, client=centre.bank, name="x", rules=[])
    with pytest.raises(PermissionDenied):
        services.segment_create(actor=centre.dave, client=centre.insurer, name="x", rules=[])
    with pytest.raises(PermissionDenied):
        services.segment_update(actor=centre.dave, segment=theirs, name="改名")
    with pytest.raises(PermissionDenied):
        services.segment_delete(actor=centre.carol, segment=ours)
    assert not AuditEntry.objects.exists()


def test_it_stores_rules_cleaned_and_checks_them_against_the_client(centre: Centre):
    segment = services.segment_create(
        actor=centre.dave,
        client=centre.bank,
        name="  三十岁  ",
        rules=[{"field": "age", "op": "between", "value": ["30", "39"]}],
    )
    assert segment.name == "三十岁"
    assert segment.rules == [{"field": "age", "op": "between", "value": [30, 39]}]

    theirs = f.make_campaign(centre.insurer)
    with pytest.raises(ValidationError) as exc:
        services.segment_update(
            actor=centre.dave,
            segment=segment,
            rules=[{"field": "called_in_campaign", "op": "has", "value": theirs.pk}],
        )
    assert exc.value.message_dict == {
        "rules": ["Condition 1 (Called in campaign): this client has no such campaign."]
    }


def test_it_reports_a_taken_name_and_bad_rules_together(centre: Centre):
    make_segment(centre.bank, name="重名")

    with pytest.raises(ValidationError) as exc:
        services.segment_create(
            actor=centre.erin,
            client=centre.bank,
            name="重名",
            rules=[{"field": "age", "op": "between", "value": [40, 30]}],
        )

    assert set(exc.value.message_dict) == {"name", "rules"}
    assert exc.value.message_dict["name"] == ["This client already has a segment named “重名”."]


def test_it_writes_no_audit_entry_when_nothing_changed(centre: Centre):
    segment = services.segment_create(actor=centre.dave, client=centre.bank, name="不变", rules=[])
    created = segment.updated_at

    services.segment_update(actor=centre.dave, segment=segment, name="不变", rules=[])

    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["segment.create"]
    segment.refresh_from_db()
    assert segment.updated_at == created
