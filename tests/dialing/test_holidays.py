"""The holiday table: loaded from chinesecalendar, kept when edited, gaps noticed."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.contrib import admin
from django.core.management import CommandError, call_command
from django.test import Client as HttpClient

from calldeck.accounts.models import User
from calldeck.campaigns.holidays import (
    holiday_data_missing,
    holiday_years_missing,
    holidays_load,
)
from calldeck.campaigns.models import Holiday, HolidayKind

pytestmark = pytest.mark.django_db


def load(*args: str) -> str:
    out = StringIO()
    call_command("load_holidays", *args, stdout=out)
    return out.getvalue()


def test_it_copies_a_years_rest_days_and_make_up_workdays_from_the_package():
    out = load("--year", "2026")
    national_day = Holiday.objects.get(day=dt.date(2026, 10, 1))
    assert (national_day.kind, national_day.name) == (HolidayKind.HOLIDAY, "国庆节")
    # The Sunday before the golden week is worked in lieu.
    assert Holiday.objects.get(day=dt.date(2026, 9, 20)).kind == HolidayKind.WORKDAY
    assert not Holiday.objects.exclude(day__year=2026).exists()
    assert "added" in out


def test_it_keeps_what_an_administrator_changed_when_loaded_again():
    first = holidays_load(year=2026)
    # The centre decided to work on 7 October after all.
    Holiday.objects.filter(day=dt.date(2026, 10, 7)).update(kind=HolidayKind.WORKDAY, name="加班")
    Holiday.objects.filter(day=dt.date(2026, 10, 6)).delete()

    again = holidays_load(year=2026)

    assert (again.added, again.kept) == (1, first.added - 1)
    assert Holiday.objects.get(day=dt.date(2026, 10, 7)).kind == HolidayKind.WORKDAY
    assert Holiday.objects.get(day=dt.date(2026, 10, 6)).kind == HolidayKind.HOLIDAY


def test_it_loads_every_year_the_package_has_without_a_year():
    result = holidays_load()
    assert result.years[0] <= 2010 and 2026 in result.years
    assert Holiday.objects.filter(day__year=2010).exists()


def test_it_refuses_a_year_the_package_does_not_know():
    with pytest.raises(CommandError, match="1999"):
        load("--year", "1999")


def test_it_names_the_years_without_data():
    assert holiday_data_missing(2026)
    assert holiday_years_missing(dt.date(2026, 11, 25)) == [2026, 2027]
    holidays_load(year=2026)
    assert not holiday_data_missing(2026)
    assert holiday_years_missing(dt.date(2026, 11, 25)) == [2027]
    Holiday.objects.create(day=dt.date(2027, 1, 1), kind=HolidayKind.HOLIDAY, name="元旦")
    assert holiday_years_missing(dt.date(2026, 11, 25)) == []


def test_the_demo_loads_the_holiday_table(settings):  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "Holiday table:" in out.getvalue()
    assert Holiday.objects.filter(day=dt.date(2026, 10, 1), kind=HolidayKind.HOLIDAY).exists()


def test_administrators_edit_the_table_in_the_admin():
    assert admin.site.is_registered(Holiday)
    holidays_load(year=2026)
    ops = User.objects.create_superuser("ops", password="Calldeck-test-1")
    client = HttpClient()
    client.force_login(ops)
    response = client.get("/ops/admin/campaigns/holiday/", {"q": "国庆"})
    assert response.status_code == 200
    # The golden week's seven days off and its two make-up workdays.
    assert response.context["cl"].result_count == 9
