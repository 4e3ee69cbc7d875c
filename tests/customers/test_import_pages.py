"""Imports from the web: upload, columns, the job in the background, progress, the report.

Personas (tests/conftest.py): Erin is the bank's data admin (imports); Alice is an agent
(no imports); Ivy, made here, is the insurer's data admin (another client's importer).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from calldeck.accounts.models import Role, User
from calldeck.audit.models import AuditEntry
from calldeck.customers import import_views, jobs
from calldeck.customers.importing.fields import auto_mapping
from calldeck.customers.importing.job_files import ids_path, job_customer_ids
from calldeck.customers.importing.reader import ImportFileError
from calldeck.customers.models import (
    ContactBlock,
    Customer,
    ImportJob,
    ImportKind,
    ImportMapping,
    ImportStatus,
)
from tests import factories as f
from tests.conftest import Centre

IMMEDIATE = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default"],
    }
}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

HEADER = "客户编号,姓名,性别,手机,电话,邮箱,出生日期,城市"
ROWS = [
    "C001,张三,男,13800138000,010-65529988,zs@example.com,1985-03-07,北京",
    "C002,李四,女,1.38001E+10,,,1990-01-01,上海",  # Excel damaged the number: dropped
    "C003,,女,13900139000,,,,",  # a new customer without a name: rejected
    "C001,张三,,13700137000,,,,",  # the same customer again: merged
]


def gbk_csv(rows: list[str] = ROWS, header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode("gbk")


# --- builders ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def isolated(settings: Any, tmp_path: Path) -> None:
    # Each test its own storage and cache; imports run in the caller unless told.
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.TASKS = IMMEDIATE


def browser(user: User, **headers: str) -> HttpClient:
    client = HttpClient(headers=headers)
    client.force_login(user)
    return client


def stored_files(folder: str = "imports") -> list[str]:
    root = Path(default_storage.path(folder))
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def upload(
    http: HttpClient,
    centre: Centre,
    content: bytes,
    name: str = "客户名单.csv",
    **fields: Any,
) -> Any:
    data = {
        "client": centre.bank.pk,
        "kind": "customers",
        "encoding": "",
        "file": SimpleUploadedFile(name, content),
        **fields,
    }
    return http.post(reverse("calldeck-import-new"), data)


def columns_post(headers: list[str], kind: str = "customers", **changes: str) -> dict[str, str]:
    mapping = auto_mapping(headers, kind)
    mapping.update(changes)
    return {f"col-{i}": mapping[h] for i, h in enumerate(headers)}


def start(http: HttpClient, headers: list[str], kind: str = "customers", **extra: str) -> Any:
    data = {"action": "start", **columns_post(headers, kind), **extra}
    return http.post(reverse("calldeck-import-mapping"), data)


def selected(html: str, header: str) -> str:
    """The field chosen for ``header`` on the columns page."""
    select = re.search(
        rf'<select name="col-\d+" data-header="{re.escape(header)}">(.*?)</select>', html, re.S
    )
    assert select, header
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(1))
    return chosen.group(1) if chosen else ""


def report_rows(http: HttpClient, job: ImportJob) -> list[list[str]]:
    response = http.get(reverse("calldeck-import-report", args=[job.pk]))
    assert response.status_code == 200
    body = response.getvalue()
    # UTF-8 with a BOM, so that Excel opens the Chinese right.
    assert body.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


# --- the whole flow ------------------------------------------------------------------


def test_it_imports_a_gbk_file_through_both_steps(centre: Centre) -> None:
    http = browser(centre.erin)
    form = http.get(reverse("calldeck-import-new")).content.decode()
    assert 'enctype="multipart/form-data"' in form and 'value="gbk"' in form
    response = upload(http, centre, gbk_csv())
    assert response.status_code == 302
    assert response["Location"] == reverse("calldeck-import-mapping")
    # The upload waits in storage, under a name tied to Erin's session.
    waiting = stored_files()
    assert len(waiting) == 1 and waiting[0].startswith(f"tmp/{centre.erin.pk}-")

    page = http.get(reverse("calldeck-import-mapping")).content.decode()
    assert "GBK / GB18030" in page and "detected" in page
    # The Chinese headers are mapped from their names.
    assert selected(page, "客户编号") == "customer_key"
    assert selected(page, "手机") == "mobile"
    assert selected(page, "出生日期") == "birthday"
    # The preview shows the first rows as the file has them.
    assert "张三" in page and "1.38001E+10" in page

    response = start(http, HEADER.split(","))
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("calldeck-import-detail", args=[job.pk])
    assert job.status == ImportStatus.DONE and job.task_id
    assert job.created_by == centre.erin and job.file_name == "客户名单.csv"
    assert job.summary["read"] == 4
    assert job.summary["created"] == 2
    assert job.summary["merged"] == 1
    assert job.summary["rejected"] == {"name_missing": 1}
    assert set(Customer.objects.values_list("customer_key", flat=True)) == {"C001", "C002"}
    # The waiting upload is gone once the job holds its own copy.
    assert not [name for name in stored_files() if name.startswith("tmp/")]
    assert sorted(job_customer_ids(job)) == sorted(Customer.objects.values_list("pk", flat=True))
    assert default_storage.exists(ids_path(job))

    page = http.get(reverse("calldeck-import-detail", args=[job.pk])).content.decode()
    assert 'data-status="done"' in page and "hx-trigger" not in page
    assert "A new customer needs a name" in page  # each reason with its meaning
    assert "Number damaged by Excel" in page
    assert reverse("calldeck-import-report", args=[job.pk]) in page

    rows = report_rows(http, job)
    assert rows[0] == ["row", "column", "value", "reason"]
    assert ["3", "手机", "1.38001E+10", "phone_excel_damaged"] in rows
    assert ["4", "姓名", "", "name_missing"] in rows
    assert ["5", "客户编号", "C001", "duplicate_merged"] in rows
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"import.create", "import.done", "import.report_download"} <= actions

    listing = http.get(reverse("calldeck-imports")).content.decode()
    assert "客户名单.csv" in listing


def test_it_imports_an_xlsx_file(centre: Centre) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["客户编号", "姓名", "手机"])
    sheet.append(["X1", "王五", 13600136000])
    out = io.BytesIO()
    book.save(out)
    http = browser(centre.erin)
    assert upload(http, centre, out.getvalue(), name="名单.xlsx").status_code == 302
    page = http.get(reverse("calldeck-import-mapping")).content.decode()
    assert "Excel (XLSX)" in page and "13600136000" in page
    start(http, ["客户编号", "姓名", "手机"])
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.DONE, job.error
    assert Customer.objects.get().name == "王五"


@pytest.mark.django_db(transaction=True)
def test_it_runs_the_job_on_the_database_worker(settings: Any) -> None:
    settings.TASKS = DATABASE
    bank = f.make_client(code="bank", name="示例银行")
    erin = f.make_user(Role.DATA_ADMIN, clients=[bank], username="erin")
    http = browser(erin)
    data = {"client": bank.pk, "kind": "customers", "file": SimpleUploadedFile("a.csv", gbk_csv())}
    assert http.post(reverse("calldeck-import-new"), data).status_code == 302
    start(http, HEADER.split(","))
    job = ImportJob.objects.get()
    # Queued, not run: a worker takes it.
    assert job.status == ImportStatus.QUEUED and job.task_id
    progress = http.get(reverse("calldeck-import-progress", args=[job.pk])).json()
    assert progress == {"status": "queued", "percent": 0, "rows": 0}

    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE, job.error
    assert job.started_at is not None and job.finished_at is not None
    assert job.summary["created"] == 2
    progress = http.get(reverse("calldeck-import-progress", args=[job.pk])).json()
    assert progress == {"status": "done", "percent": 100, "rows": 4}


# --- progress ------------------------------------------------------------------------


def make_job(centre: Centre, *, client: Any = None, **kw: Any) -> ImportJob:
    client = client or centre.bank
    job = ImportJob(client=client, file_name="a.csv", created_by=centre.erin, **kw)
    job.file.save("a.csv", ContentFile(gbk_csv()), save=False)
    job.save()
    return job


def test_it_shows_progress_while_running(centre: Centre) -> None:
    job = make_job(centre, status=ImportStatus.RUNNING, started_at=timezone.now())
    cache.set(jobs.progress_key(job.pk), {"rows": 5000, "bytes_done": 250, "bytes_total": 1000})
    http = browser(centre.erin)
    url = reverse("calldeck-import-progress", args=[job.pk])
    assert http.get(url).json() == {"status": "running", "percent": 25, "rows": 5000}
    # htmx gets the state panel, which polls again while the job runs.
    panel = browser(centre.erin, HX_Request="true").get(url).content.decode()
    assert 'hx-trigger="every 1s"' in panel and "5,000 rows read (25%)" in panel
    assert "<html" not in panel
    job.status, job.summary = ImportStatus.DONE, {"read": 5000, "rejected": {}, "warnings": {}}
    job.save()
    panel = browser(centre.erin, HX_Request="true").get(url).content.decode()
    assert "hx-trigger" not in panel and 'data-testid="summary"' in panel


def test_it_throttles_progress_writes(centre: Centre, monkeypatch: pytest.MonkeyPatch) -> None:
    from calldeck.customers.importing.engine import Progress

    clock = [100.0]
    monkeypatch.setattr("calldeck.customers.jobs.time.monotonic", lambda: clock[0])
    write = jobs._progress_writer(7)
    write(Progress(10, 1, 10))
    clock[0] += 0.1
    write(Progress(20, 2, 10))  # too soon: not written
    assert cache.get(jobs.progress_key(7))["rows"] == 10
    clock[0] += 0.5
    write(Progress(30, 3, 10))
    assert cache.get(jobs.progress_key(7))["rows"] == 30


# --- saved mappings ------------------------------------------------------------------


def test_it_saves_a_mapping_and_reuses_it(centre: Centre) -> None:
    http = browser(centre.erin)
    headers = HEADER.split(",")
    upload(http, centre, gbk_csv())
    data = {"action": "start", **columns_post(headers, 城市=""), "save_as": "行内格式"}
    assert http.post(reverse("calldeck-import-mapping"), data).status_code == 302
    mapping = ImportMapping.objects.get()
    assert mapping.name == "行内格式" and mapping.client == centre.bank
    assert mapping.columns["城市"] == "" and mapping.columns["手机"] == "mobile"
    assert ImportJob.objects.get().mapping == mapping
    assert AuditEntry.objects.filter(action="import_mapping.create").exists()

    # The next file of that layout starts from the saved choices.
    upload(http, centre, gbk_csv(), mapping=mapping.pk)
    page = http.get(reverse("calldeck-import-mapping")).content.decode()
    assert selected(page, "城市") == ""
    assert selected(page, "手机") == "mobile"

    # Saving under the same name replaces the mapping.
    jobs.mapping_save(
        actor=centre.erin,
        client=centre.bank,
        kind=ImportKind.CUSTOMERS,
        name="行内格式",
        columns={"手机": "mobile"},
    )
    assert ImportMapping.objects.get().columns == {"手机": "mobile"}


# --- what is refused -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"\x00\x01\x02\x03binary\x00" * 20, "a.csv", "This is not a text file"),
        (b"", "a.csv", "The submitted file is empty."),
        (HEADER.encode("gbk") + b"\r\n", "a.csv", "has a header line but no rows"),
        (b"PK\x03\x04 not really a zip", "a.xlsx", "The spreadsheet cannot be read"),
    ],
    ids=["binary", "empty", "header-only", "broken-xlsx"],
)
def test_it_refuses_a_bad_file_and_keeps_nothing(
    centre: Centre, content: bytes, name: str, message: str
) -> None:
    http = browser(centre.erin)
    response = upload(http, centre, content, name=name)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert stored_files() == []
    assert import_views.SESSION_KEY not in http.session
    assert not ImportJob.objects.exists()


def test_it_refuses_a_file_over_the_size_limit(centre: Centre, settings: Any) -> None:
    settings.CALLDECK_IMPORT_MAX_MB = 1
    big = gbk_csv() + b"C9,x,,,,,,\r\n" * 100_000
    response = upload(browser(centre.erin), centre, big)
    assert response.status_code == 400
    assert "larger than 1 MB" in response.content.decode()
    assert stored_files() == []


def test_it_refuses_an_unusable_mapping(centre: Centre) -> None:
    http = browser(centre.erin)
    upload(http, centre, gbk_csv())
    headers = HEADER.split(",")
    data = {"action": "start", **{f"col-{i}": "" for i in range(len(headers))}}
    response = http.post(reverse("calldeck-import-mapping"), data)
    assert response.status_code == 400
    assert "Map a column to one of" in response.content.decode()
    assert not ImportJob.objects.exists() and not Customer.objects.exists()
    # The file still waits: the user corrects the columns and starts again.
    assert start(http, headers).status_code == 302
    assert ImportJob.objects.get().status == ImportStatus.DONE


def test_it_refuses_a_job_for_another_clients_user(centre: Centre) -> None:
    with pytest.raises(PermissionDenied):
        jobs.import_job_create(
            actor=centre.erin,
            client=centre.insurer,
            kind=ImportKind.CUSTOMERS,
            upload=ContentFile(gbk_csv(), name="a.csv"),
            columns=auto_mapping(HEADER.split(","), "customers"),
        )
    assert not ImportJob.objects.exists()


def test_it_cancels_a_waiting_upload(centre: Centre) -> None:
    http = browser(centre.erin)
    upload(http, centre, gbk_csv())
    response = http.post(reverse("calldeck-import-mapping"), {"action": "cancel"})
    assert response["Location"] == reverse("calldeck-import-new")
    assert stored_files() == []
    assert http.get(reverse("calldeck-import-mapping"))["Location"] == reverse(
        "calldeck-import-new"
    )


# --- failures of the run -------------------------------------------------------------


def test_it_marks_the_job_failed_when_the_engine_crashes(
    centre: Centre, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def crash(**kw: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(jobs, "import_file", crash)
    http = browser(centre.erin)
    upload(http, centre, gbk_csv())
    start(http, HEADER.split(","))
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.FAILED and job.finished_at is not None
    assert job.error == str(jobs.FAILED_INTERNAL)
    assert "disk on fire" not in job.error  # the details are for the log
    assert "disk on fire" in caplog.text and "Traceback" in caplog.text
    page = http.get(reverse("calldeck-import-detail", args=[job.pk])).content.decode()
    assert "internal error" in page and 'data-status="failed"' in page
    assert http.get(reverse("calldeck-import-report", args=[job.pk])).status_code == 404


def test_it_shows_the_files_error_to_the_user(
    centre: Centre, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable(**kw: Any) -> None:
        raise ImportFileError("Line 7 cannot be read as CSV")

    monkeypatch.setattr(jobs, "import_file", unreadable)
    job = make_job(centre, columns=auto_mapping(HEADER.split(","), "customers"))
    jobs.import_job_run.call(job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert job.error == "Line 7 cannot be read as CSV"


def test_it_runs_a_job_once(centre: Centre) -> None:
    job = make_job(centre, columns=auto_mapping(HEADER.split(","), "customers"))
    assert jobs.import_job_run.call(job.pk) == ImportStatus.DONE
    assert jobs.import_job_run.call(job.pk) == ""  # delivered twice: not run again
    assert Customer.objects.count() == 2


# --- who may ---------------------------------------------------------------------------


def test_it_serves_pages_and_report_to_the_clients_importers_only(centre: Centre) -> None:
    job = make_job(centre, columns=auto_mapping(HEADER.split(","), "customers"))
    jobs.import_job_run.call(job.pk)
    ivy = f.make_user(Role.DATA_ADMIN, clients=[centre.insurer], username="ivy")
    report = reverse("calldeck-import-report", args=[job.pk])
    detail = reverse("calldeck-import-detail", args=[job.pk])
    # An agent imports nothing: 403 on every import page.
    alice = browser(centre.alice)
    assert alice.get(report).status_code == 403
    assert alice.get(reverse("calldeck-imports")).status_code == 403
    assert alice.get(reverse("calldeck-import-new")).status_code == 403
    # Another client's importer does not learn that the job exists.
    other = browser(ivy)
    assert other.get(report).status_code == 404
    assert other.get(detail).status_code == 404
    assert "a.csv" not in other.get(reverse("calldeck-imports")).content.decode()
    response = browser(centre.erin).get(report)
    assert response.status_code == 200
    response.close()


# --- lists -----------------------------------------------------------------------------


def test_it_imports_a_do_not_call_list_with_expiry(centre: Centre) -> None:
    http = browser(centre.erin)
    expiry = timezone.localdate() + dt.timedelta(days=90)
    content = "号码\r\n13800138000\r\n13900139000\r\n12345\r\n".encode()
    response = upload(
        http, centre, content, kind="dnc", reason="客户投诉", expires_at=expiry.isoformat()
    )
    assert response.status_code == 302
    page = http.get(reverse("calldeck-import-mapping")).content.decode()
    assert selected(page, "号码") == "number"
    start(http, ["号码"], kind="dnc")
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.DONE, job.error
    assert job.options == {"reason": "客户投诉", "expires_at": expiry.isoformat()}
    blocks = ContactBlock.objects.filter(client=centre.bank)
    assert sorted(blocks.values_list("e164", flat=True)) == ["+8613800138000", "+8613900139000"]
    for block in blocks:
        assert block.kind == "dnc" and block.reason == "客户投诉"
        assert block.expires_at is not None
        assert timezone.localdate(block.expires_at) == expiry
    assert job.summary["rejected"] == {"no_valid_number": 1}


def test_it_refuses_an_expiry_in_the_past(centre: Centre) -> None:
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    response = upload(
        browser(centre.erin),
        centre,
        "号码\r\n13800138000\r\n".encode(),
        kind="blacklist",
        expires_at=yesterday.isoformat(),
    )
    assert response.status_code == 400
    assert "after today" in response.content.decode()
    assert stored_files() == []


# --- the campaign to load --------------------------------------------------------------


def test_it_offers_to_load_the_campaign_when_the_page_exists(centre: Centre) -> None:
    campaign = f.make_campaign(centre.bank)
    job = make_job(centre, columns=auto_mapping(HEADER.split(","), "customers"), campaign=campaign)
    jobs.import_job_run.call(job.pk)
    page = browser(centre.erin).get(reverse("calldeck-import-detail", args=[job.pk]))
    try:
        url = reverse("calldeck-campaign-load", args=[campaign.pk])
    except Exception:  # the campaigns page is not there (yet): no link, no error
        assert 'data-testid="campaign-load"' not in page.content.decode()
    else:
        assert f"{url}?import_job={job.pk}" in page.content.decode()


# --- the demo files --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["customers-demo-gbk.csv", "customers-demo.xlsx"])
def test_it_imports_the_demo_files(centre: Centre, name: str) -> None:
    from calldeck.customers.importing.engine import import_file

    path = Path(import_views.__file__).parent / "demo_files" / name
    result = import_file(client=centre.bank, path=path, report=io.StringIO())
    summary = result.summary
    assert summary["read"] == 201
    assert summary["created"] == 199  # 200 customers, one without a name
    assert summary["merged"] == 1
    assert summary["rejected"] == {"name_missing": 1}
    assert summary["warnings"]["phone_excel_damaged"] == 1
    assert summary["warnings"]["phone_invalid"] == 2


def test_it_sweeps_uploads_left_waiting_for_step_two_over_a_day(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    old = default_storage.save(f"{jobs.UPLOADS_WAITING}/7-old.csv", ContentFile(b"x"))
    fresh = default_storage.save(f"{jobs.UPLOADS_WAITING}/7-new.csv", ContentFile(b"x"))
    a_day_ago = (timezone.now() - dt.timedelta(hours=25)).timestamp()
    os.utime(default_storage.path(old), (a_day_ago, a_day_ago))

    assert jobs.uploads_waiting_sweep() == 1

    # The abandoned upload is gone; one still within its day waits on.
    assert not default_storage.exists(old)
    assert default_storage.exists(fresh)
