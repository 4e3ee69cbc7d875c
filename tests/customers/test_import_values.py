"""Cleaning of single cells: phone numbers, dates, genders, tiers, yes / no, headers."""

from __future__ import annotations

import datetime as dt

import phonenumbers
import pytest

from calldeck.customers.importing import values as v
from calldeck.customers.importing.fields import (
    CONSENT,
    CUSTOMERS,
    DO_NOT_CALL,
    auto_mapping,
    mapping_errors,
)
from calldeck.customers.models import ImportKind


@pytest.mark.parametrize(
    ("raw", "e164", "extension", "kind"),
    [
        ("13800138000", "+8613800138000", "", v.MOBILE),
        ("138 0013 8000", "+8613800138000", "", v.MOBILE),
        ("138-0013-8000", "+8613800138000", "", v.MOBILE),
        ("(138)00138000", "+8613800138000", "", v.MOBILE),
        ("+86 138 0013 8000", "+8613800138000", "", v.MOBILE),
        ("0086 13800138000", "+8613800138000", "", v.MOBILE),
        ("8613800138000", "+8613800138000", "", v.MOBILE),
        ("１３８００１３８０００", "+8613800138000", "", v.MOBILE),
        ("＋８６ １３８－００１３－８０００", "+8613800138000", "", v.MOBILE),
        ("13800138000.0", "+8613800138000", "", v.MOBILE),
        ("010-65529988", "+861065529988", "", v.LANDLINE),
        ("（010）6552 9988", "+861065529988", "", v.LANDLINE),
        ("0755-8888 1234", "+8675588881234", "", v.LANDLINE),
        ("010-65529988转123", "+861065529988", "123", v.LANDLINE),
        ("010-65529988 ext 45", "+861065529988", "45", v.LANDLINE),
        ("021 12345678 x9", "+862112345678", "9", v.LANDLINE),
        ("+44 20 7946 0958", "+442079460958", "", v.LANDLINE),
    ],
)
def test_it_normalises_numbers_to_e164(raw: str, e164: str, extension: str, kind: str) -> None:
    phone = v.phone_parse(raw)
    assert (phone.e164, phone.extension, phone.kind) == (e164, extension, kind)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1.38001E+10", "phone_excel_damaged"),
        ("1.38E+10", "phone_excel_damaged"),
        ("1.3800138E10", "phone_excel_damaged"),
        ("65529988", "phone_no_area_code"),
        ("12345", "phone_invalid"),
        ("14000000000", "phone_invalid"),
        ("abc", "phone_invalid"),
        ("1380013800", "phone_invalid"),
    ],
)
def test_it_rejects_damaged_and_invalid_numbers(raw: str, reason: str) -> None:
    # Excel's scientific notation lost digits: never guess them back.
    with pytest.raises(v.BadValue) as caught:
        v.phone_parse(raw)
    assert caught.value.reason == reason


def test_it_reads_several_numbers_in_one_cell() -> None:
    out = v.phones_parse("13800138000，13900139000/bad")
    assert [p.e164 for p in out if isinstance(p, v.Phone)] == ["+8613800138000", "+8613900139000"]
    assert [b.reason for b in out if isinstance(b, v.BadValue)] == ["phone_invalid"]


def test_it_fast_path_agrees_with_phonenumbers() -> None:
    # The fast path for plain mobiles must accept exactly what phonenumbers accepts.
    for prefix in range(1300, 2000, 7):
        for tail in ("0000000", "4567890", "9999999"):
            raw = f"{prefix}{tail}"
            number = phonenumbers.parse(raw, "CN")
            valid_mobile = phonenumbers.is_valid_number(number) and phonenumbers.number_type(
                number
            ) in (phonenumbers.PhoneNumberType.MOBILE,)
            fast = v.mobile_fast(raw)
            if fast is not None:
                assert valid_mobile, raw
                assert fast.e164 == "+86" + raw


@pytest.mark.parametrize(
    "raw",
    [
        "1985-03-07",
        "1985/3/7",
        "1985.03.07",
        "19850307",
        "1985年3月7日",
        "1985-03-07 00:00:00",
        "31113",
    ],
)
def test_it_reads_common_chinese_date_formats(raw: str) -> None:
    assert v.date_parse(raw, today=dt.date(2026, 11, 25)) == dt.date(1985, 3, 7)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1985-13-01", "date_invalid"),
        ("85-3-7", "date_invalid"),
        ("2030-01-01", "date_out_of_range"),
    ],
)
def test_it_rejects_bad_dates(raw: str, reason: str) -> None:
    with pytest.raises(v.BadValue) as caught:
        v.date_parse(raw, today=dt.date(2026, 11, 25))
    assert caught.value.reason == reason


def test_it_reads_genders_tiers_vip_and_yes_no() -> None:
    assert [v.gender_parse(x) for x in ("男", "女", "M", "female")] == ["m", "f", "m", "f"]
    assert [v.tier_parse(x) for x in ("高", "中", "低", "High")] == [
        "high",
        "medium",
        "low",
        "high",
    ]
    assert v.vip_parse("金卡") == "gold" and v.vip_parse("无") == ""
    assert v.yes_no_parse("同意") is True and v.yes_no_parse("撤回") is False
    with pytest.raises(v.BadValue):
        v.gender_parse("未知的")


def test_it_maps_common_chinese_and_english_headers() -> None:
    headers = [
        "客户编号",
        "姓名",
        "手机号",
        "手机2",
        "电话",
        "邮箱",
        "出生日期",
        "城市",
        "性别",
        "备注",
    ]
    assert auto_mapping(headers, CUSTOMERS) == {
        "客户编号": "customer_key",
        "姓名": "name",
        "手机号": "mobile",
        "手机2": "mobile",
        "电话": "phone",
        "邮箱": "email",
        "出生日期": "birthday",
        "城市": "city",
        "性别": "gender",
        "备注": "attribute",
    }
    english = ["Customer ID", "Name", "Mobile", "Phone", "E-mail", "Birthday", "City", "Gender"]
    assert list(auto_mapping(english, CUSTOMERS).values()) == [
        "customer_key",
        "name",
        "mobile",
        "phone",
        "email",
        "birthday",
        "city",
        "gender",
    ]


def test_it_explains_what_is_wrong_with_a_mapping() -> None:
    errors = mapping_errors({"A": "name", "B": "name", "C": "nonsense"}, CUSTOMERS)
    assert any("“nonsense” is not a field" in e for e in errors)
    assert any("choose one" in e for e in errors)
    assert any("rows are matched on it" in e for e in errors)
    assert mapping_errors({"号码": "number"}, DO_NOT_CALL) == []
    assert any("required" in e for e in mapping_errors({"客户编号": "customer_key"}, CONSENT))


def test_it_uses_the_models_kind_values() -> None:
    # fields.py spells the kinds out to stay free of models; they must match.
    assert {CUSTOMERS, DO_NOT_CALL, CONSENT, "blacklist"} == {k.value for k in ImportKind}
