"""The segment rule language: each field and op on hand-built customers, and validation.

Runs on SQLite and PostgreSQL alike (free attributes are JSON, read differently by each).
Time is frozen where "today" or "now" matters; the centre's zone is Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calldeck.accounts.models import Client
from calldeck.calls.models import Call, Direction, Sale, SaleStatus
from calldeck.campaigns.models import Campaign, Offer
from calldeck.customers.models import (
    BlockKind,
    ContactBlock,
    Customer,
    Holding,
    PhoneKind,
    PhoneNumber,
    Segment,
    VipLevel,
)
from calldeck.customers.segments import (
    rules_customers,
    rules_describe,
    rules_validate,
    segment_customers,
)
from tests import factories as f
from tests.conftest import Centre

SHANGHAI = timezone.get_default_timezone()
# 2025-06-15 10:00 in Shanghai: a Sunday in a common year.
NOW = dt.datetime(2025, 6, 15, 10, 0, tzinfo=SHANGHAI)


# --- builders ------------------------------------------------------------------------


def person(client: Client, name: str, **kw: Any) -> Customer:
    """A customer called ``name`` (tests compare names), with one valid mobile."""
    return f.make_customer(client, name=name, **kw)


def matching(client: Client, *rules: dict[str, Any]) -> set[str]:
    return set(
        rules_customers(client_id=client.pk, rules=list(rules)).values_list("name", flat=True)
    )


def rule(field: str, op: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


def call(customer: Customer, at: dt.datetime, campaign: Campaign | None = None) -> Call:
    return Call.objects.create(
        client_id=customer.client_id,
        campaign=campaign,
        customer=customer,
        direction=Direction.OUTBOUND,
        number="+8613800000000",
        dialed_at=at,
    )


def sale(customer: Customer, offer: Offer, agent: Any, status: SaleStatus) -> Sale:
    return Sale.objects.create(
        client_id=customer.client_id,
        call=call(customer, timezone.now()),
        customer=customer,
        agent=agent,
        offer=offer,
        amount=Decimal("3000.00"),
        status=status,
    )


def age_on(birthday: dt.date, day: dt.date) -> int:
    """Whole years, a birthday on 29 February counting on 1 March in a common year."""
    return day.year - birthday.year - ((day.month, day.day) < (birthday.month, birthday.day))


def messages_of(exc: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return exc.value.messages


# --- no rules, and the client ---------------------------------------------------------


def test_it_selects_every_customer_of_the_client_when_there_are_no_rules(centre: Centre):
    person(centre.bank, "王一")
    person(centre.bank, "王二")
    person(centre.insurer, "保险客户")
    segment = Segment.objects.create(client=centre.bank, name="全部", rules=[])

    # A segment never reaches another client's customers.
    assert set(segment_customers(segment).values_list("name", flat=True)) == {"王一", "王二"}
    assert matching(centre.insurer) == {"保险客户"}


def test_it_requires_every_condition_to_hold(centre: Centre):
    person(centre.bank, "北京女", city="北京", gender="f")
    person(centre.bank, "北京男", city="北京", gender="m")
    person(centre.bank, "上海女", city="上海", gender="f")

    assert matching(centre.bank, rule("city", "in", ["北京"]), rule("gender", "in", ["f"])) == {
        "北京女"
    }


# --- customer columns ----------------------------------------------------------------


def test_it_filters_choice_fields_with_in_and_not_in(centre: Centre):
    person(centre.bank, "女高", gender="f", value_tier="high", vip_level=VipLevel.GOLD)
    person(centre.bank, "男中", gender="m", value_tier="medium")
    person(centre.bank, "未知低", gender="", value_tier="low")

    assert matching(centre.bank, rule("gender", "in", ["f", "m"])) == {"女高", "男中"}
    # The empty choice ("unknown") is a value like any other.
    assert matching(centre.bank, rule("gender", "in", [""])) == {"未知低"}
    assert matching(centre.bank, rule("value_tier", "not_in", ["high"])) == {"男中", "未知低"}
    assert matching(centre.bank, rule("vip_level", "in", ["gold", "platinum"])) == {"女高"}
    assert matching(centre.bank, rule("vip_level", "in", [""])) == {"男中", "未知低"}


def test_it_filters_region_and_city_by_lists(centre: Centre):
    person(centre.bank, "甲", city="北京", region="华北")
    person(centre.bank, "乙", city="上海", region="华东")
    person(centre.bank, "丙", city="杭州", region="华东")
    person(centre.bank, "丁", city="", region="")

    # The shape other modules write.
    assert matching(centre.bank, {"field": "city", "op": "in", "value": ["北京", "上海"]}) == {
        "甲",
        "乙",
    }
    assert matching(centre.bank, rule("city", "not_in", ["北京", "上海"])) == {"丙", "丁"}
    assert matching(centre.bank, rule("region", "in", ["华东"])) == {"乙", "丙"}
    assert matching(centre.bank, rule("region", "not_in", ["华东"])) == {"甲", "丁"}


@time_machine.travel(NOW, tick=False)
def test_it_counts_age_in_whole_years_on_todays_date(centre: Centre):
    person(centre.bank, "今天满35", birthday=dt.date(1990, 6, 15))
    person(centre.bank, "明天满35", birthday=dt.date(1990, 6, 16))
    person(centre.bank, "昨天满35", birthday=dt.date(1990, 6, 14))
    person(centre.bank, "今天满46", birthday=dt.date(1979, 6, 15))
    person(centre.bank, "明天满46", birthday=dt.date(1979, 6, 16))
    person(centre.bank, "无生日", birthday=None)

    # Both ends included: 35 from the birthday itself, 45 until the day before 46.
    assert matching(centre.bank, rule("age", "between", [35, 45])) == {
        "今天满35",
        "昨天满35",
        "明天满46",
    }
    assert matching(centre.bank, rule("age", "between", [34, 34])) == {"明天满35"}
    assert matching(centre.bank, rule("age", "between", [46, 150])) == {"今天满46"}


@pytest.mark.parametrize(
    "today",
    [
        dt.date(2025, 2, 28),  # common year, the day a leap-day baby is not yet older
        dt.date(2025, 3, 1),  # ... and the day they are
        dt.date(2024, 2, 29),  # today is a leap day; years back land on 28 February
        dt.date(2024, 2, 28),
        dt.date(2024, 12, 31),
        dt.date(2025, 1, 1),
    ],
)
def test_it_agrees_with_the_calendar_on_every_birthday_near_the_bounds(
    centre: Centre, today: dt.date
):
    birthdays = [
        dt.date(year, month, day)
        for year in (1984, 1985, 1995, 1996, 2000)
        for month, day in ((1, 1), (2, 27), (2, 28), (2, 29), (3, 1), (12, 30), (12, 31))
        if not (month == 2 and day == 29 and year % 4)
    ]
    Customer.objects.bulk_create(
        Customer(client=centre.bank, customer_key=f"B{n}", name=b.isoformat(), birthday=b)
        for n, b in enumerate(birthdays)
    )
    noon = dt.datetime.combine(today, dt.time(12), tzinfo=SHANGHAI)
    with time_machine.travel(noon, tick=False):
        for low, high in ((24, 24), (25, 29), (28, 40), (39, 41), (40, 40), (0, 24)):
            expected = {b.isoformat() for b in birthdays if low <= age_on(b, today) <= high}
            assert matching(centre.bank, rule("age", "between", [low, high])) == expected, (
                today,
                low,
                high,
            )


def test_it_ages_a_leap_day_baby_on_1_march_in_a_common_year(centre: Centre):
    person(centre.bank, "闰日", birthday=dt.date(2000, 2, 29))

    def aged(day: dt.date, years: int) -> bool:
        at = dt.datetime.combine(day, dt.time(9), tzinfo=SHANGHAI)
        with time_machine.travel(at, tick=False):
            return matching(centre.bank, rule("age", "between", [years, years])) == {"闰日"}

    assert aged(dt.date(2025, 2, 28), 24)
    assert aged(dt.date(2025, 3, 1), 25)
    assert aged(dt.date(2024, 2, 28), 23)
    assert aged(dt.date(2024, 2, 29), 24)


def test_it_takes_today_in_the_centres_time_zone(centre: Centre):
    person(centre.bank, "六月十五生", birthday=dt.date(1990, 6, 15))

    # 16:30 UTC on 14 June is already 15 June in Shanghai: the birthday has come.
    with time_machine.travel(dt.datetime(2025, 6, 14, 16, 30, tzinfo=dt.UTC), tick=False):
        assert matching(centre.bank, rule("age", "between", [35, 35])) == {"六月十五生"}


def test_it_filters_birthday_months(centre: Centre):
    person(centre.bank, "一月", birthday=dt.date(1990, 1, 31))
    person(centre.bank, "闰二月", birthday=dt.date(1992, 2, 29))
    person(centre.bank, "十二月", birthday=dt.date(1990, 12, 1))
    person(centre.bank, "无生日", birthday=None)

    assert matching(centre.bank, rule("birthday_month", "in", [2])) == {"闰二月"}
    assert matching(centre.bank, rule("birthday_month", "in", [12, 1])) == {"一月", "十二月"}


def test_it_filters_customer_since_before_after_and_between(centre: Centre):
    person(centre.bank, "早", customer_since=dt.date(2019, 12, 31))
    person(centre.bank, "元旦", customer_since=dt.date(2020, 1, 1))
    person(centre.bank, "年底", customer_since=dt.date(2020, 12, 31))
    person(centre.bank, "晚", customer_since=dt.date(2021, 1, 1))
    person(centre.bank, "不详", customer_since=None)

    # Before and after leave the day itself out; between includes both ends.
    assert matching(centre.bank, rule("customer_since", "before", "2020-01-01")) == {"早"}
    assert matching(centre.bank, rule("customer_since", "after", "2020-12-31")) == {"晚"}
    assert matching(
        centre.bank, rule("customer_since", "between", ["2020-01-01", "2020-12-31"])
    ) == {"元旦", "年底"}


# --- free attributes -----------------------------------------------------------------


@pytest.fixture
def attributed(centre: Centre) -> Client:
    bank = centre.bank
    person(bank, "金卡字", attributes={"card_level": "金卡", "credit_limit": "50000"})
    person(bank, "普卡数", attributes={"card_level": "普卡", "credit_limit": 50000})
    person(bank, "青春卡", attributes={"card_level": "青春卡", "credit_limit": 8000.5})
    person(bank, "分期真", attributes={"has_instalment": True, "card_level": ""})
    person(bank, "分期假", attributes={"has_instalment": False, "card_level": None})
    person(bank, "无属性", attributes={})
    person(bank, "中文键", attributes={"月收入 (元)": "12000", "a.b[0]": "x", "a__b": "y"})
    return bank


def test_it_matches_attribute_values_however_they_were_stored(attributed: Client):
    bank = attributed
    assert matching(bank, rule("attr:card_level", "eq", "金卡")) == {"金卡字"}
    # Typed text matches the text and the number it spells.
    assert matching(bank, rule("attr:credit_limit", "eq", "50000")) == {"金卡字", "普卡数"}
    assert matching(bank, rule("attr:credit_limit", "eq", "8000.5")) == {"青春卡"}
    assert matching(bank, rule("attr:has_instalment", "eq", "true")) == {"分期真"}
    assert matching(bank, rule("attr:has_instalment", "eq", "false")) == {"分期假"}
    assert matching(bank, rule("attr:card_level", "in", ["普卡", "青春卡"])) == {"普卡数", "青春卡"}
    assert matching(bank, rule("attr:card_level", "eq", "白金卡")) == set()


def test_it_finds_attribute_text_containing_a_value(attributed: Client):
    bank = attributed
    assert matching(bank, rule("attr:card_level", "contains", "卡")) == {
        "金卡字",
        "普卡数",
        "青春卡",
    }
    # Numbers are searched as their text; % and _ are plain characters.
    assert matching(bank, rule("attr:credit_limit", "contains", "500")) == {"金卡字", "普卡数"}
    assert matching(bank, rule("attr:card_level", "contains", "%")) == set()


def test_it_treats_missing_null_and_empty_attributes_as_not_filled_in(attributed: Client):
    bank = attributed
    assert matching(bank, rule("attr:card_level", "exists")) == {"金卡字", "普卡数", "青春卡"}
    assert matching(bank, rule("attr:card_level", "not_exists")) == {
        "分期真",
        "分期假",
        "无属性",
        "中文键",
    }
    # false is a value: the customer answered no.
    assert matching(bank, rule("attr:has_instalment", "exists")) == {"分期真", "分期假"}


def test_it_reads_attribute_names_with_any_characters(attributed: Client):
    bank = attributed
    assert matching(bank, rule("attr:月收入 (元)", "eq", "12000")) == {"中文键"}
    assert matching(bank, rule("attr:a.b[0]", "exists")) == {"中文键"}
    assert matching(bank, rule("attr:a__b", "in", ["y"])) == {"中文键"}


# --- products ------------------------------------------------------------------------


def test_it_filters_product_holdings(centre: Centre):
    holder = person(centre.bank, "有理财")
    Holding.objects.create(customer=holder, product="理财A")
    Holding.objects.create(customer=holder, product="信用卡")
    other = person(centre.bank, "有信用卡")
    Holding.objects.create(customer=other, product="信用卡")
    person(centre.bank, "无产品")

    assert matching(centre.bank, rule("holding", "has", "理财A")) == {"有理财"}
    assert matching(centre.bank, rule("holding", "has_not", "理财A")) == {"有信用卡", "无产品"}
    # Two holdings never count a customer twice.
    assert (
        rules_customers(client_id=centre.bank.pk, rules=[rule("holding", "has", "信用卡")]).count()
        == 2
    )


def test_it_counts_an_offer_as_bought_unless_the_sale_was_cancelled(centre: Centre):
    offer = Offer.objects.create(client=centre.bank, code="INST12", name="账单分期")
    other_offer = Offer.objects.create(client=centre.bank, code="LOAN", name="信用贷")
    sale(person(centre.bank, "电话成交"), offer, centre.alice, SaleStatus.PHONE_DEAL)
    sale(person(centre.bank, "已确认"), offer, centre.alice, SaleStatus.FINAL)
    sale(person(centre.bank, "已取消"), offer, centre.alice, SaleStatus.CANCELLED)
    twice = person(centre.bank, "买两次")
    sale(twice, offer, centre.alice, SaleStatus.FINAL)
    sale(twice, offer, centre.alice, SaleStatus.CANCELLED)
    sale(person(centre.bank, "别的产品"), other_offer, centre.alice, SaleStatus.FINAL)
    person(centre.bank, "没买")

    assert matching(centre.bank, rule("bought", "has", "INST12")) == {
        "电话成交",
        "已确认",
        "买两次",
    }
    assert matching(centre.bank, rule("bought", "has_not", "INST12")) == {
        "已取消",
        "别的产品",
        "没买",
    }


# --- contact history -----------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_it_tells_contacted_from_not_contacted_in_n_days(centre: Centre):
    thirty_days = dt.timedelta(days=30)
    call(person(centre.bank, "刚好30天"), NOW - thirty_days)
    call(person(centre.bank, "30天多一秒"), NOW - thirty_days - dt.timedelta(seconds=1))
    call(person(centre.bank, "昨天"), NOW - dt.timedelta(days=1))
    both = person(centre.bank, "两次")
    call(both, NOW - dt.timedelta(days=90))
    call(both, NOW - dt.timedelta(days=2))
    person(centre.bank, "从未")

    # A call at exactly now − 30 days is within the 30 days.
    assert matching(centre.bank, rule("contacted", "within_days", 30)) == {
        "刚好30天",
        "昨天",
        "两次",
    }
    assert matching(centre.bank, rule("contacted", "not_within_days", 30)) == {
        "30天多一秒",
        "从未",
    }


def test_it_filters_customers_called_in_a_campaign(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    other = f.make_campaign(centre.bank)
    call(person(centre.bank, "本活动"), timezone.now(), campaign)
    call(person(centre.bank, "别的活动"), timezone.now(), other)
    person(centre.bank, "未呼叫")

    assert matching(centre.bank, rule("called_in_campaign", "has", campaign.pk)) == {"本活动"}
    assert matching(centre.bank, rule("called_in_campaign", "has_not", campaign.pk)) == {
        "别的活动",
        "未呼叫",
    }


# --- reachability --------------------------------------------------------------------


def test_it_filters_customers_with_a_valid_mobile_number(centre: Centre):
    person(centre.bank, "有手机")
    invalid = person(centre.bank, "手机无效", phones=[])
    PhoneNumber.objects.create(
        customer=invalid, e164="+8613911112222", kind=PhoneKind.MOBILE, is_valid=False
    )
    landline = person(centre.bank, "只有座机", phones=[])
    PhoneNumber.objects.create(customer=landline, e164="+861088886666", kind=PhoneKind.HOME)
    person(centre.bank, "没有号码", phones=[])

    assert matching(centre.bank, rule("valid_mobile", "is", True)) == {"有手机"}
    assert matching(centre.bank, rule("valid_mobile", "is", False)) == {
        "手机无效",
        "只有座机",
        "没有号码",
    }


def test_it_filters_marketing_consent(centre: Centre):
    person(centre.bank, "同意", consent_marketing=True)
    person(centre.bank, "拒绝", consent_marketing=False)

    assert matching(centre.bank, rule("consent_marketing", "is", True)) == {"同意"}
    assert matching(centre.bank, rule("consent_marketing", "is", False)) == {"拒绝"}


@time_machine.travel(NOW, tick=False)
def test_it_finds_blocks_in_force_on_the_customer_or_their_numbers(centre: Centre):
    bank = centre.bank

    def block(kind: str, *, customer: Customer | None = None, e164: str = "", **kw: Any) -> None:
        ContactBlock.objects.create(
            client=kw.pop("client", bank),
            customer=customer,
            e164=e164,
            kind=kind,
            reason="测试",
            **kw,
        )

    block(BlockKind.DO_NOT_CALL, customer=person(bank, "免打扰"))
    block(
        BlockKind.BLACKLIST,
        customer=person(bank, "黑名单到明天"),
        expires_at=NOW + dt.timedelta(days=1),
    )
    block(
        BlockKind.DO_NOT_CALL, customer=person(bank, "已解除"), lifted_at=NOW - dt.timedelta(days=1)
    )
    block(BlockKind.DO_NOT_CALL, customer=person(bank, "已过期"), expires_at=NOW)
    numbered = person(bank, "号码被拉黑", phones=["+8613600001111", "+8613600002222"])
    block(BlockKind.BLACKLIST, e164=numbered.phones.last().e164)
    # Another client's block on the same number is that client's business.
    block(BlockKind.BLACKLIST, e164="+8613700003333", client=centre.insurer)
    person(bank, "别家拉黑", phones=["+8613700003333"])
    block(BlockKind.DO_NOT_MARKET, customer=person(bank, "不营销"))
    person(bank, "正常")

    assert matching(bank, rule("blocked", "is", True)) == {"免打扰", "黑名单到明天", "号码被拉黑"}
    assert matching(bank, rule("blocked", "is", False)) == {
        "已解除",
        "已过期",
        "别家拉黑",
        "不营销",
        "正常",
    }
    assert matching(bank, rule("do_not_market", "is", True)) == {"不营销"}


def test_it_filters_customers_reserved_for_their_account_manager(centre: Centre):
    person(centre.bank, "金卡VIP", vip_level=VipLevel.GOLD)
    person(centre.bank, "有客户经理", account_manager=centre.dave)
    person(centre.bank, "普通")

    assert matching(centre.bank, rule("reserved", "is", True)) == {"金卡VIP", "有客户经理"}
    assert matching(centre.bank, rule("reserved", "is", False)) == {"普通"}


# --- one query, no DISTINCT ----------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_it_counts_any_segment_in_one_query_without_distinct(centre: Centre):
    offer = Offer.objects.create(client=centre.bank, code="INST12", name="账单分期")
    campaign = f.make_campaign(centre.bank)
    rules = [
        rule("gender", "in", ["f", "m"]),
        rule("city", "not_in", ["拉萨"]),
        rule("age", "between", [18, 70]),
        rule("birthday_month", "in", [6]),
        rule("customer_since", "before", "2025-01-01"),
        rule("attr:card_level", "in", ["金卡"]),
        rule("holding", "has", "信用卡"),
        rule("bought", "has_not", "INST12"),
        rule("contacted", "not_within_days", 30),
        rule("called_in_campaign", "has_not", campaign.pk),
        rule("valid_mobile", "is", True),
        rule("consent_marketing", "is", True),
        rule("blocked", "is", False),
        rule("reserved", "is", False),
    ]
    fits = person(
        centre.bank,
        "全中",
        gender="f",
        city="北京",
        birthday=dt.date(1990, 6, 1),
        customer_since=dt.date(2020, 1, 1),
        attributes={"card_level": "金卡"},
    )
    Holding.objects.create(customer=fits, product="信用卡")
    call(fits, NOW - dt.timedelta(days=31))
    assert offer.pk

    customers = rules_customers(client_id=centre.bank.pk, rules=rules)
    with CaptureQueriesContext(connection) as queries:
        assert customers.count() == 1
    assert len(queries) == 1
    assert "DISTINCT" not in queries[0]["sql"].upper()


# --- validation ----------------------------------------------------------------------


def test_it_returns_rules_cleaned(centre: Centre):
    campaign = f.make_campaign(centre.bank)
    cleaned = rules_validate(
        [
            rule("gender", "in", ["m", "f", "m"]),
            rule("city", "in", [" 北京 ", "上海", "北京", ""]),
            rule("age", "between", ["30", 45]),
            rule("birthday_month", "in", ["12", 1, 1]),
            rule("customer_since", "between", [dt.date(2020, 1, 1), "2020-12-31"]),
            rule("contacted", "within_days", "30"),
            rule("called_in_campaign", "has", str(campaign.pk)),
            rule("attr: card_level ", "exists", "ignored"),
        ],
        client_id=centre.bank.pk,
    )

    assert cleaned == [
        rule("gender", "in", ["f", "m"]),  # in the catalogue's order, once each
        rule("city", "in", ["北京", "上海"]),
        rule("age", "between", [30, 45]),
        rule("birthday_month", "in", [1, 12]),
        rule("customer_since", "between", ["2020-01-01", "2020-12-31"]),
        rule("contacted", "within_days", 30),
        rule("called_in_campaign", "has", campaign.pk),
        rule("attr:card_level", "exists", None),
    ]


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"field": "city"}, "The conditions must be a list."),
        (
            [rule("city", "in", ["北京"]), "city"],
            "Condition 2: expected a field, an op and a value.",
        ),
        ([rule("shoe_size", "in", ["42"])], "Condition 1: unknown field “shoe_size”."),
        ([rule("attr:", "exists")], "Condition 1: name the attribute."),
        ([rule("attr:2024", "exists")], "Condition 1: the attribute name “2024” cannot be"),
        ([rule('attr:a"b', "exists")], 'Condition 1: the attribute name “a"b” cannot be'),
        ([rule("age", "in", [30])], "Condition 1 (Age): “in” is not allowed here; use “between”"),
        ([rule("city", "eq", "北京")], "Condition 1 (City): “eq” is not allowed here"),
        ([rule("city", "in", [])], "Condition 1 (City): enter at least one value."),
        ([rule("city", "in", "北京")], None),  # one text is a list of one
        ([rule("gender", "in", ["x"])], "Condition 1 (Gender): “x” is not one of the choices."),
        ([rule("gender", "in", [])], "Condition 1 (Gender): choose at least one value."),
        (
            [rule("age", "between", [45, 30])],
            "Condition 1 (Age): enter two ages from 0 to 150, the first not above the second.",
        ),
        ([rule("age", "between", [30])], "Condition 1 (Age): enter two ages"),
        ([rule("age", "between", [True, 40])], "Condition 1 (Age): enter two ages"),
        ([rule("age", "between", "12")], "Condition 1 (Age): enter two ages"),
        ([rule("age", "between", [1, 2, 3])], "Condition 1 (Age): enter two ages"),
        ([rule("birthday_month", "in", "12")], "choose months from 1 to 12."),
        ([rule("birthday_month", "in", [13])], "choose months from 1 to 12."),
        ([rule("customer_since", "before", "2020/01/01")], "enter a date as YYYY-MM-DD."),
        ([rule("customer_since", "before", "2020-02-30")], "enter a date as YYYY-MM-DD."),
        (
            [rule("customer_since", "between", ["2021-01-01", "2020-01-01"])],
            "the first not after the second.",
        ),
        ([rule("contacted", "within_days", 0)], "Condition 1 (Called): enter a whole number"),
        ([rule("valid_mobile", "is", "yes")], "choose yes or no."),
        ([rule("holding", "has", "  ")], "Condition 1 (Product held): enter a value."),
        ([rule("called_in_campaign", "has", "abc")], "choose a campaign."),
        ([rule("city", "in", ["北" * 101])], "a value is longer than 100 characters."),
        ([rule("city", "in", ["北京"])] * 31, "A segment has at most 30 conditions."),
    ],
)
def test_it_says_which_condition_is_wrong_and_why(rules: Any, message: str | None):
    if message is None:
        assert rules_validate(rules)
        return
    with pytest.raises(ValidationError) as exc:
        rules_validate(rules)
    assert any(message in m for m in messages_of(exc)), messages_of(exc)


def test_it_reports_every_wrong_condition_at_once():
    with pytest.raises(ValidationError) as exc:
        rules_validate(
            [
                rule("city", "in", ["北京"]),
                rule("age", "between", [50, 40]),
                rule("nope", "in", []),
            ]
        )
    assert [m.split(" (")[0].split(":")[0] for m in messages_of(exc)] == [
        "Condition 2",
        "Condition 3",
    ]


def test_it_refuses_campaigns_and_offers_of_another_client(centre: Centre):
    theirs = f.make_campaign(centre.insurer)
    Offer.objects.create(client=centre.insurer, code="CAR", name="车险")
    rules = [rule("called_in_campaign", "has", theirs.pk), rule("bought", "has", "CAR")]

    with pytest.raises(ValidationError) as exc:
        rules_validate(rules, client_id=centre.bank.pk)

    assert messages_of(exc) == [
        "Condition 1 (Called in campaign): this client has no such campaign.",
        "Condition 2 (Offer bought): this client has no offer “CAR”.",
    ]
    assert rules_validate(rules, client_id=centre.insurer.pk)


def test_it_refuses_to_evaluate_invalid_rules(centre: Centre):
    with pytest.raises(ValidationError, match="Condition 1"):
        rules_customers(client_id=centre.bank.pk, rules=[rule("age", "between", [3])])


def test_it_describes_conditions_in_words(centre: Centre):
    campaign = f.make_campaign(centre.bank, name="分期活动")
    Offer.objects.create(client=centre.bank, code="INST12", name="账单分期")
    rules = rules_validate(
        [
            rule("city", "in", ["北京", "上海"]),
            rule("gender", "in", ["f"]),
            rule("age", "between", [30, 45]),
            rule("contacted", "not_within_days", 30),
            rule("called_in_campaign", "has", campaign.pk),
            rule("bought", "has_not", "INST12"),
            rule("consent_marketing", "is", True),
            rule("attr:card_level", "exists"),
        ]
    )

    assert rules_describe(rules, client_id=centre.bank.pk) == [
        "City is one of 北京、上海",
        "Gender is one of Female",
        "Aged 30–45",
        "Not called in the last 30 days",
        "Called in campaign 分期活动",
        "Did not buy 账单分期 (INST12)",
        "Consents to marketing",
        "Attribute “card_level” is filled in",
    ]
