"""The customer import: encodings, cleaning, the merge rule, the report, all or nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import openpyxl
import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from calldeck.customers.importing import ImportFileError, cleaning, engine, import_file, preview
from calldeck.customers.models import (
    ConsentEvent,
    ContactBlock,
    Customer,
    EmailAddress,
    Holding,
    ImportKind,
    ImportMapping,
    PhoneNumber,
)
from calldeck.dialing.leads import block_reason
from tests.factories import make_campaign, make_client, make_customer, make_lead

HEADER = "客户编号,姓名,性别,手机,电话,邮箱,出生日期,城市,持有产品,备注"
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


def write(tmp_path: Path, lines: list[str], encoding: str = "gbk", name: str = "c.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def run(client, path: Path, **kw):  # type: ignore[no-untyped-def]
    out = io.StringIO()
    result = import_file(client=client, path=path, report=out, now=NOW, **kw)
    report = list(csv.reader(io.StringIO(out.getvalue())))
    return result, report


def snapshot() -> dict[str, object]:
    return {
        "customers": sorted(
            Customer.objects.values_list(
                "customer_key", "name", "gender", "birthday", "city", "attributes", "updated_at"
            )
        ),
        "phones": sorted(PhoneNumber.objects.values_list("customer__customer_key", "e164")),
        "emails": sorted(EmailAddress.objects.values_list("customer__customer_key", "address")),
        "holdings": sorted(Holding.objects.values_list("customer__customer_key", "product")),
        "consents": ConsentEvent.objects.count(),
    }


@pytest.fixture
def client(db: None):  # type: ignore[no-untyped-def]
    return make_client()


MESSY = [
    HEADER,
    "C001,张三,男,138 0013 8000,010-65529988转123,zs@example.com,1985年3月7日,北京,"
    "信用卡、理财,老客户",
    "C002,李四,女,1.38001E+10,,bad-email,1990/13/01,上海,,",
    "C003,,女,13900139000,,,,,,",
    "C001,张三丰,,13700137000,,,,,,重复行",
    ",王五,男,＋８６ １３６００１３６０００,,,19880808,广州,,",
    ",王五二,,13600136000,,,,深圳,,",
    ",,,,,,,,,",
    "C004,赵六,男,65529988,,,,,,",
    ",某某,男,12345,,,,,,",
]


def test_it_imports_a_messy_gbk_file_and_reports_every_row_not_taken_as_is(client, tmp_path):  # type: ignore[no-untyped-def]
    result, report = run(client, write(tmp_path, MESSY))

    assert result.summary["encoding"] == "gb18030"
    assert {k: result.summary[k] for k in ("read", "created", "updated", "merged")} == {
        "read": 8,  # the blank line is not a row
        "created": 4,
        "updated": 0,
        "merged": 2,
    }
    assert result.summary["rejected"] == {"name_missing": 1, "no_identifier": 1}
    assert report[0] == ["row", "column", "value", "reason"]
    rows = {(r[0], r[1], r[3]) for r in report[1:]}
    # Row numbers are the file's lines, the header being line 1.
    assert ("3", "手机", "phone_excel_damaged") in rows
    assert ("3", "邮箱", "email_invalid") in rows
    assert ("3", "出生日期", "date_invalid") in rows
    assert ("4", "姓名", "name_missing") in rows
    assert ("5", "客户编号", "duplicate_merged") in rows
    assert ("5", "姓名", "conflict_kept_earlier") in rows
    assert ("7", "手机", "duplicate_merged") in rows
    assert ("9", "手机", "phone_no_area_code") in rows
    assert ("10", "客户编号", "no_identifier") in rows
    # Every rejected row is in the report.
    rejected_lines = {r[0] for r in report[1:] if r[3] in ("name_missing", "no_identifier")}
    assert rejected_lines == {"4", "10"}

    zhang = Customer.objects.get(customer_key="C001")
    assert (zhang.name, zhang.gender, zhang.birthday, zhang.city) == (
        "张三",  # the first row of a customer wins over a later duplicate
        "m",
        dt.date(1985, 3, 7),
        "北京",
    )
    assert zhang.attributes == {"备注": "老客户"}
    assert list(zhang.phones.values_list("e164", "extension", "kind")) == [
        ("+8613800138000", "", "mobile"),
        ("+861065529988", "123", "home"),
        ("+8613700137000", "", "mobile"),  # the duplicate row adds its number
    ]
    assert set(zhang.holdings.values_list("product", flat=True)) == {"信用卡", "理财"}
    assert list(zhang.emails.values_list("address", "is_primary")) == [("zs@example.com", True)]
    # A row without a customer id is keyed by its mobile number; its duplicate merged in.
    wang = Customer.objects.get(customer_key="+8613600136000")
    assert (wang.name, wang.city) == ("王五", "广州")
    assert Customer.objects.filter(client=client).count() == 4


def test_it_changes_nothing_when_the_same_file_is_imported_again(client, tmp_path):  # type: ignore[no-untyped-def]
    path = write(tmp_path, MESSY)
    run(client, path)
    before = snapshot()

    result, _ = run(client, path)

    assert snapshot() == before
    assert (result.summary["created"], result.summary["updated"]) == (0, 0)
    assert result.summary["unchanged"] == 4


def test_it_updates_existing_customers_without_erasing_what_the_file_leaves_empty(client, tmp_path):  # type: ignore[no-untyped-def]
    old = make_customer(
        client=client, customer_key="C001", name="张三", city="天津", phones=["+8613800138000"]
    )
    old.region = "河北"
    old.save()
    path = write(tmp_path, ["客户编号,姓名,城市,省份,手机", "C001,张三,北京,,13900139000"])

    result, _ = run(client, path)

    old.refresh_from_db()
    assert (old.city, old.region) == ("北京", "河北")
    assert sorted(old.phones.values_list("e164", flat=True)) == ["+8613800138000", "+8613900139000"]
    assert (result.summary["updated"], result.summary["created"]) == (1, 0)
    assert old.updated_at == NOW


def test_it_merges_by_key_else_by_mobile_and_keeps_distinct_keys_apart(client, tmp_path):  # type: ignore[no-untyped-def]
    make_customer(client=client, customer_key="K1", name="甲", phones=["+8613800138000"])
    lines = [
        "客户编号,姓名,手机",
        ",无编号,13800138000",  # no key: the customer with this mobile (K1)
        "K2,乙,13800138000",  # another key: another customer, even on the same line
    ]
    result, _ = run(client, write(tmp_path, lines))

    assert result.summary["created"] == 1
    assert Customer.objects.get(customer_key="K1").name == "无编号"
    assert Customer.objects.get(customer_key="K2").phones.get().e164 == "+8613800138000"


def test_it_keeps_clients_apart(client, tmp_path):  # type: ignore[no-untyped-def]
    other = make_client()
    make_customer(client=other, customer_key="C001", name="别家", phones=["+8613800138000"])

    run(client, write(tmp_path, ["客户编号,姓名,手机", "C001,张三,13800138000"]))

    assert Customer.objects.get(client=other).name == "别家"
    assert Customer.objects.get(client=client).name == "张三"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_it_detects_the_encoding(client, tmp_path, encoding):  # type: ignore[no-untyped-def]
    path = write(tmp_path, ["客户编号,姓名,手机", "C1,张三,13800138000"], encoding=encoding)

    result, _ = run(client, path)

    assert Customer.objects.get().name == "张三"
    assert result.summary["created"] == 1


def test_it_reads_characters_beyond_gbk_in_a_gb18030_file(client, tmp_path):  # type: ignore[no-untyped-def]
    # 䶮 (in names such as 刘䶮) is in GB18030 but not in GBK.
    lines = ["客户编号,姓名,手机"] + [f"C{i},刘䶮{i},1380013{i:04d}" for i in range(50)]
    run(client, write(tmp_path, lines, encoding="gb18030"))

    assert Customer.objects.get(customer_key="C7").name == "刘䶮7"


def test_it_reads_an_encoding_it_is_given(client, tmp_path):  # type: ignore[no-untyped-def]
    path = write(tmp_path, ["客户编号,姓名,手机", "C1,张三,13800138000"], encoding="gbk")

    run(client, path, encoding="GBK")

    assert Customer.objects.get().name == "张三"


def test_it_reports_cells_that_do_not_fit_the_given_encoding(client, tmp_path):  # type: ignore[no-untyped-def]
    path = write(tmp_path, ["customer id,name,city,mobile", "C1,张三,北京,13800138000"])

    result, report = run(client, path, encoding="utf-8")

    assert result.summary["warnings"]["encoding_error"] == 2
    assert [r[1] for r in report[1:] if r[3] == "encoding_error"] == ["name", "city"]
    # The name is not taken half-decoded: the row, without a name, is not imported.
    assert result.summary["rejected"] == {"name_missing": 1}


def test_it_stops_when_the_headers_do_not_read_in_the_given_encoding(client, tmp_path):  # type: ignore[no-untyped-def]
    path = write(tmp_path, ["客户编号,姓名,手机", "C1,张三,13800138000"], encoding="gbk")

    with pytest.raises(ImportFileError, match="GBK is common"):
        run(client, path, encoding="utf-8")


def test_it_imports_xlsx_with_numbers_and_dates_as_excel_stores_them(client, tmp_path):  # type: ignore[no-untyped-def]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["客户编号", "姓名", "手机", "出生日期"])
    sheet.append(["C1", "张三", 13800138000, dt.datetime(1985, 3, 7)])
    sheet.append(["C2", "李四", "1.38001E+10", "1990年1月2日"])
    path = tmp_path / "c.xlsx"
    book.save(path)

    result, report = run(client, path)

    one = Customer.objects.get(customer_key="C1")
    assert one.birthday == dt.date(1985, 3, 7)
    assert one.phones.get().e164 == "+8613800138000"
    assert Customer.objects.get(customer_key="C2").birthday == dt.date(1990, 1, 2)
    assert ["3", "手机", "1.38001E+10", "phone_excel_damaged"] in report
    assert result.summary["encoding"] == "xlsx"


def test_it_counts_multi_line_cells_by_the_line_the_record_starts_on(client, tmp_path):  # type: ignore[no-untyped-def]
    lines = [
        "客户编号,姓名,手机,备注",
        'C1,张三,13800138000,"第一行',
        '第二行"',
        "C2,,13900139000,",
    ]
    _, report = run(client, write(tmp_path, lines, encoding="utf-8"))

    assert ["4", "姓名", "", "name_missing"] in report
    assert Customer.objects.get(customer_key="C1").attributes == {"备注": "第一行\r\n第二行"}


def test_it_is_all_or_nothing_when_writing_fails_half_way(client, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    make_customer(client=client, customer_key="C000", name="原有", phones=["+8613700137000"])
    before = snapshot()
    monkeypatch.setattr(cleaning, "CHUNK", 3)
    lines = ["客户编号,姓名,手机"] + [f"C{i:03d},名{i},1380013{i:04d}" for i in range(1, 10)]
    calls = {"n": 0}
    real = engine.bulk_insert

    def failing(model, columns, rows):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] > 4:  # the second chunk's writes
            raise RuntimeError("disk full")
        return real(model, columns, rows)

    monkeypatch.setattr(engine, "bulk_insert", failing)
    with pytest.raises(RuntimeError):
        run(client, write(tmp_path, lines))

    assert snapshot() == before


def test_it_writes_nothing_for_a_file_broken_half_way(client, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(cleaning, "CHUNK", 2)
    path = tmp_path / "c.csv"
    huge = "x" * 200_000  # beyond the CSV reader's field size limit
    body = f"客户编号,姓名,手机\r\nC1,张三,13800138000\r\nC2,李四,13900139000\r\nC3,{huge},1\r\n"
    path.write_bytes(body.encode("utf-8"))

    with pytest.raises(ImportFileError, match="Line 4"):
        run(client, path, encoding="utf-8")

    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02\x03binary", "binary"),
        (b"\r\n", "headers"),
        ("姓名,城市\r\n张三,北京\r\n".encode(), "rows are matched on it"),
    ],
)
def test_it_refuses_files_it_cannot_use_with_a_clear_message(client, tmp_path, content, message):  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.csv"
    path.write_bytes(content)

    with pytest.raises(ImportFileError, match=message):
        run(client, path)

    assert not Customer.objects.exists()


def test_it_refuses_a_mapping_naming_columns_the_file_lacks(client, tmp_path):  # type: ignore[no-untyped-def]
    path = write(tmp_path, ["客户编号,姓名,手机", "C1,张三,13800138000"])

    with pytest.raises(ImportFileError, match="does not have: 电话"):
        run(client, path, columns={"客户编号": "customer_key", "电话": "phone"})


def test_it_gives_the_same_result_cleaning_in_a_helper_process(client, tmp_path):  # type: ignore[no-untyped-def]
    path = write(tmp_path, MESSY)
    inline, inline_report = run(client, path, parallel=False)
    first = snapshot()
    Customer.objects.all().delete()

    parallel, parallel_report = run(client, path, parallel=True)

    assert parallel.summary == inline.summary
    assert parallel_report == inline_report
    assert {k: v for k, v in snapshot().items()} == first


def test_it_records_consent_from_a_customer_file(client, tmp_path):  # type: ignore[no-untyped-def]
    path = write(tmp_path, ["客户编号,姓名,手机,营销同意", "C1,张三,13800138000,否"])

    run(client, path, source="bank CRM")

    customer = Customer.objects.get()
    assert (customer.consent_marketing, customer.consent_source) == (False, "bank CRM")
    assert list(ConsentEvent.objects.values_list("granted", "source")) == [(False, "bank CRM")]


def test_it_previews_the_first_rows_with_a_suggested_mapping(tmp_path):  # type: ignore[no-untyped-def]
    path = write(tmp_path, [*MESSY[:4]])

    shown = preview(path, rows=2)

    assert shown.encoding == "gb18030"
    assert shown.headers[:3] == ["客户编号", "姓名", "性别"]
    assert len(shown.rows) == 2
    assert shown.columns["手机"] == "mobile"


# --- do-not-call, blacklist, consent lists -----------------------------------------------


def test_it_imports_a_do_not_call_list_with_expiry_and_merges_repeats(client, tmp_path):  # type: ignore[no-untyped-def]
    customer = make_customer(client=client, customer_key="C1", phones=["+8613800138000"])
    lead = make_lead(campaign=make_campaign(client=client), customer=customer)
    lines = ["号码,原因,到期", "13800138000,客户要求,2026-12-31", "138-0013-8000,,", "12345,,"]

    result, report = run(client, write(tmp_path, lines), kind=ImportKind.DO_NOT_CALL)

    block = ContactBlock.objects.get()
    assert (block.e164, block.kind, block.reason) == ("+8613800138000", "dnc", "客户要求")
    # A date alone means to the end of that day, local time.
    assert block.expires_at is not None
    assert timezone.localtime(block.expires_at).date() == dt.date(2026, 12, 31)
    assert result.summary["merged"] == 1
    assert result.summary["rejected"] == {"no_valid_number": 1}
    assert ["4", "号码", "12345", "no_valid_number"] in report
    assert block_reason(lead) is not None
    # After the expiry the number may be dialed again.
    with time_machine.travel(dt.datetime(2027, 1, 2, tzinfo=dt.UTC)):
        assert block_reason(lead) is None


def test_it_imports_a_blacklist_by_customer_id_once(client, tmp_path):  # type: ignore[no-untyped-def]
    make_customer(client=client, customer_key="C1")
    path = write(tmp_path, ["客户编号", "C1", "C404"])

    _result, report = run(client, path, kind=ImportKind.BLACKLIST, options={"reason": "欺诈"})
    again, _ = run(client, path, kind=ImportKind.BLACKLIST, options={"reason": "欺诈"})

    block = ContactBlock.objects.get()
    assert (block.customer.customer_key, block.kind, block.reason) == ("C1", "blacklist", "欺诈")
    assert ["3", "客户编号", "C404", "customer_not_found"] in report
    assert (again.summary["created"], again.summary["unchanged"]) == (0, 1)


def test_it_refuses_a_list_expiry_in_the_past(client, tmp_path):  # type: ignore[no-untyped-def]
    path = write(tmp_path, ["号码", "13800138000"])

    with pytest.raises(ImportFileError, match="already passed"):
        run(client, path, kind=ImportKind.DO_NOT_CALL, options={"expires_at": "2020-01-01"})


def test_it_keeps_the_newest_consent_when_an_old_record_arrives_late(client, tmp_path):  # type: ignore[no-untyped-def]
    customer = make_customer(client=client, customer_key="C1", phones=["+8613800138000"])
    lines = [
        "客户编号,号码,同意,来源,时间",
        "C1,,撤回,app,2026-11-20 10:00",
        ",13800138000,同意,网点,2026-10-01 09:00",
    ]

    _result, _ = run(client, write(tmp_path, lines), kind=ImportKind.CONSENT)

    customer.refresh_from_db()
    assert customer.consent_marketing is False
    assert customer.consent_source == "app"
    assert ConsentEvent.objects.count() == 2
    again, _ = run(client, write(tmp_path, lines), kind=ImportKind.CONSENT)
    assert (again.summary["created"], again.summary["unchanged"]) == (0, 2)


# --- the command -------------------------------------------------------------------------


def test_it_imports_from_the_command_line_with_report_and_summary(client, tmp_path):  # type: ignore[no-untyped-def]
    path = write(tmp_path, MESSY)
    report, summary = tmp_path / "report.csv", tmp_path / "summary.json"
    ImportMapping.objects.create(
        client=client,
        name="银行导出",
        columns={"客户编号": "customer_key", "姓名": "name", "手机": "mobile"},
    )
    out = io.StringIO()

    call_command(
        "import_customers",
        str(path),
        "--client",
        client.code,
        "--mapping",
        "银行导出",
        "--report",
        str(report),
        "--summary-json",
        str(summary),
        stdout=out,
    )

    figures = json.loads(summary.read_text(encoding="utf-8"))
    assert {"read", "created", "updated", "merged", "rejected"} <= set(figures)
    assert figures["created"] == 4
    assert figures["rejected"] == {"name_missing": 1, "no_identifier": 1}
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "row,column,value,reason"
    # Only the mapped columns were read: the city column was ignored.
    assert not Customer.objects.exclude(city="").exists()
    assert json.loads(out.getvalue())["created"] == 4


def test_it_says_what_is_wrong_on_the_command_line(client, tmp_path):  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(CommandError, match="empty"):
        call_command("import_customers", str(empty), "--client", client.code)
    with pytest.raises(CommandError, match="No saved mapping named 'x'"):
        call_command(
            "import_customers",
            str(write(tmp_path, MESSY)),
            "--mapping",
            "x",
            "--client",
            client.code,
        )
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_customers", str(tmp_path / "missing.csv"))


def test_it_loads_the_imported_customers_into_a_campaign_from_the_command_line(client, tmp_path):  # type: ignore[no-untyped-def]
    campaign = make_campaign(client=client)
    blocked = make_customer(client=client, customer_key="C002", phones=["+8613900139000"])
    ContactBlock.objects.create(client=client, customer=blocked, kind="dnc", reason="客户要求")
    path = write(tmp_path, ["客户编号,姓名,手机", "C001,张三,13800138000", "C002,李四,13900139000"])
    summary = tmp_path / "summary.json"

    call_command(
        "import_customers",
        str(path),
        "--campaign",
        str(campaign.pk),
        "--summary-json",
        str(summary),
        stdout=io.StringIO(),
    )

    figures = json.loads(summary.read_text(encoding="utf-8"))
    assert figures["campaign"]["loaded"] == 1
    assert figures["campaign"]["excluded"]["dnc"] == 1
    assert list(campaign.leads.values_list("customer__customer_key", flat=True)) == ["C001"]
