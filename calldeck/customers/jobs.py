"""Import jobs: a file imported in the background, its progress, summary and row report.

Theory of operation
-------------------
``import_job_create`` checks who asks and what, stores the file through Django's default
storage (private: served only through a view that checks access), writes the job row
*queued* and queues ``import_job_run`` once that row is committed, so a worker never
picks up a job it cannot read yet.

``import_job_run`` (a django-tasks task, run by ``manage.py db_worker`` or the worker
embedded in the web process) claims the job with a conditional UPDATE (queued →
running), so a task delivered twice runs the import once. The import itself is one
transaction (``engine.import_file``); the job row is written outside it, so:

* while it runs, its progress goes to the cache (``import-progress:<job id>``), which
  other processes can read although the import's transaction is still open;
* it ends *done*, with the summary, the row report and the file of customer ids, or
  *failed*, with a message for the user and nothing imported. No exception leaves a job
  *running*.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from calldeck.accounts import access
from calldeck.accounts.models import Client, User
from calldeck.audit.services import audit_record
from calldeck.customers.importing.engine import Progress, import_file
from calldeck.customers.importing.fields import mapping_errors
from calldeck.customers.importing.job_files import job_customer_ids_write
from calldeck.customers.importing.reader import ImportFileError
from calldeck.customers.models import ImportJob, ImportKind, ImportMapping, ImportStatus

logger = logging.getLogger(__name__)

NOT_AN_IMPORTER = _("You may not import customer data.")
CLIENT_NOT_ALLOWED = _("You may not import data for this client.")
KIND_UNKNOWN = _("Unknown kind of import.")
FILE_MISSING = _("Choose a file to import.")
FILE_EMPTY = _("The file is empty.")
FILE_TOO_LARGE = _("The file is larger than %(mb)d MB, the largest an import accepts.")
CAMPAIGN_OTHER_CLIENT = _("The campaign belongs to another client.")
MAPPING_OTHER_CLIENT = _("The saved mapping belongs to another client or kind of import.")
MAPPING_NAME_MISSING = _("Give the mapping a name.")
MAPPING_NAME_LENGTH = 100
EXPIRY_INVALID = _("The expiry must be a date (YYYY-MM-DD).")
EXPIRY_PAST = _("The expiry must be a day after today.")
REASON_LENGTH = 300
SOURCE_LENGTH = 100
FAILED_INTERNAL = _(
    "The import stopped because of an internal error; nothing was imported. "
    "The error is in the server's log."
)
FAILED_INTERRUPTED = _("The import was interrupted (the worker stopped); nothing was imported.")

# Progress in the cache: written at most this often, kept this long after the last write.
PROGRESS_EVERY = 0.5
PROGRESS_TTL = 60 * 60
REPORT_NAME = "import-{pk}-report.csv"


def max_mb() -> int:
    """The largest file an import accepts, in MB."""
    return int(getattr(settings, "CALLDECK_IMPORT_MAX_MB", 200))


def progress_key(job_id: int) -> str:
    return f"import-progress:{job_id}"


# --- reads ---------------------------------------------------------------------------


def import_jobs_for_user(user: User) -> QuerySet[ImportJob]:
    return access.scoped(ImportJob.objects.all(), user).select_related(
        "client", "created_by", "campaign", "mapping"
    )


def import_job_get_for_user(user: User, pk: int) -> ImportJob:
    """The job, if ``user`` may import and it is one of their clients'; 404 otherwise."""
    if not access.has_role(user, access.IMPORTERS):
        raise PermissionDenied
    try:
        return import_jobs_for_user(user).get(pk=pk)
    except ImportJob.DoesNotExist:
        raise Http404 from None


def import_mappings_for_user(user: User, *, kind: str | None = None) -> QuerySet[ImportMapping]:
    qs = access.scoped(ImportMapping.objects.all(), user).select_related("client")
    return qs.filter(kind=kind) if kind else qs


def import_progress(job: ImportJob) -> dict[str, Any]:
    """How far the job is: status, percent (of the file's bytes read) and rows read."""
    status = job.status
    if status == ImportStatus.DONE:
        return {"status": status, "percent": 100, "rows": int(job.summary.get("read", 0))}
    if status != ImportStatus.RUNNING:
        return {"status": status, "percent": 0, "rows": 0}
    seen = cache.get(progress_key(job.pk)) or {}
    total = int(seen.get("bytes_total") or 0)
    done = int(seen.get("bytes_done") or 0)
    # 100 only once the job is done: the last chunk is still being written after reading.
    percent = min(99, done * 100 // total) if total else 0
    return {"status": status, "percent": percent, "rows": int(seen.get("rows") or 0)}


# --- writes --------------------------------------------------------------------------


def _check_importer(actor: User, client: Client) -> None:
    if not access.has_role(actor, access.IMPORTERS):
        raise PermissionDenied(NOT_AN_IMPORTER)
    if client.pk not in access.client_ids_for(actor):
        raise PermissionDenied(CLIENT_NOT_ALLOWED)


def _check_kind(kind: str) -> None:
    if kind not in ImportKind.values:
        raise ValidationError(KIND_UNKNOWN)


def options_clean(kind: str, options: dict[str, Any] | None) -> dict[str, Any]:
    """The options the engine takes for ``kind``: block reason and expiry, consent source."""
    options = options or {}
    if kind in (ImportKind.DO_NOT_CALL, ImportKind.BLACKLIST):
        expires = str(options.get("expires_at") or "").strip()
        if expires:
            try:
                day = dt.date.fromisoformat(expires)
            except ValueError:
                raise ValidationError({"expires_at": EXPIRY_INVALID}) from None
            if day <= timezone.localdate():
                raise ValidationError({"expires_at": EXPIRY_PAST})
        reason = str(options.get("reason") or "").strip()[:REASON_LENGTH]
        return {"reason": reason, "expires_at": expires or None}
    if kind == ImportKind.CONSENT:
        return {"source": str(options.get("source") or "").strip()[:SOURCE_LENGTH]}
    return {}


def import_job_create(
    *,
    actor: User,
    client: Client,
    kind: str,
    upload: File[Any] | None,
    encoding: str = "",
    columns: dict[str, str],
    mapping: ImportMapping | None = None,
    options: dict[str, Any] | None = None,
    campaign: Any = None,
) -> ImportJob:
    """Store the file, write the job *queued* and queue its run; the job.

    ``upload`` is read once, into storage; the caller may then delete its own copy.
    """
    _check_importer(actor, client)
    _check_kind(kind)
    if upload is None or not upload.name:
        raise ValidationError(FILE_MISSING)
    limit = max_mb()
    size = upload.size or 0
    if size == 0:
        raise ValidationError(FILE_EMPTY)
    if size > limit * 1024 * 1024:
        raise ValidationError(FILE_TOO_LARGE % {"mb": limit})
    errors = mapping_errors(columns, kind)
    if errors:
        raise ValidationError(errors)
    if campaign is not None and campaign.client_id != client.pk:
        raise ValidationError(CAMPAIGN_OTHER_CLIENT)
    if mapping is not None and (mapping.client_id != client.pk or mapping.kind != kind):
        raise ValidationError(MAPPING_OTHER_CLIENT)
    clean_options = options_clean(kind, options)
    file_name = Path(upload.name).name[:255]
    with transaction.atomic():
        job = ImportJob(
            client=client,
            kind=kind,
            file_name=file_name,
            encoding=encoding,
            columns=columns,
            mapping=mapping,
            options=clean_options,
            campaign=campaign,
            created_by=actor,
        )
        job.file.save(file_name, upload, save=False)
        job.full_clean()
        job.save()
        audit_record(
            actor=actor,
            action="import.create",
            obj=job,
            changes={
                "kind": kind,
                "file": file_name,
                "size": size,
                "campaign": campaign.pk if campaign is not None else None,
            },
        )
    # Queued after the commit: a worker must find the job row it is given. (The
    # immediate backend of tests runs the import right here.)
    result = import_job_run.enqueue(job.pk)
    ImportJob.objects.filter(pk=job.pk).update(task_id=str(result.id)[:64])
    job.refresh_from_db()
    return job


def mapping_save(
    *,
    actor: User,
    client: Client,
    kind: str,
    name: str,
    columns: dict[str, str],
    encoding: str = "",
) -> ImportMapping:
    """Save ``columns`` under ``name`` for the client and kind (replacing one so named)."""
    _check_importer(actor, client)
    _check_kind(kind)
    name = name.strip()
    if not name:
        raise ValidationError({"name": MAPPING_NAME_MISSING})
    errors = mapping_errors(columns, kind)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        mapping = (
            ImportMapping.objects.select_for_update()
            .filter(client=client, kind=kind, name=name[:MAPPING_NAME_LENGTH])
            .first()
        )
        created = mapping is None
        if mapping is None:
            mapping = ImportMapping(
                client=client,
                kind=kind,
                name=name[:MAPPING_NAME_LENGTH],
                created_by=actor,
                created_at=now,
            )
        before = {"columns": mapping.columns, "encoding": mapping.encoding}
        mapping.columns = dict(columns)
        mapping.encoding = encoding
        mapping.updated_at = now
        mapping.full_clean()
        mapping.save()
        after = {"columns": mapping.columns, "encoding": mapping.encoding}
        audit_record(
            actor=actor,
            action="import_mapping.create" if created else "import_mapping.update",
            obj=mapping,
            changes={"name": mapping.name, **({} if created else {"before": before}), **after},
        )
    return mapping


# --- the task ------------------------------------------------------------------------


def _progress_writer(job_id: int) -> Callable[[Progress], None]:
    last = [0.0]

    def write(progress: Progress) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY:
            return
        last[0] = now
        cache.set(
            progress_key(job_id),
            {
                "rows": progress.rows,
                "bytes_done": progress.bytes_done,
                "bytes_total": progress.bytes_total,
                "phase": progress.phase,
            },
            PROGRESS_TTL,
        )

    return write


@contextlib.contextmanager
def local_path(name: str) -> Iterator[str]:
    """A path on disk holding the stored file (a copy when storage is not local)."""
    try:
        local = default_storage.path(name)
    except NotImplementedError:
        local = ""
    if local:
        yield local
        return
    with tempfile.TemporaryDirectory(prefix="calldeck-import-") as folder:
        path = Path(folder) / Path(name).name
        with default_storage.open(name, "rb") as src, open(path, "wb") as dst:
            shutil.copyfileobj(src, dst)
        yield str(path)


def _fail(job_id: int, message: str) -> None:
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportStatus.FAILED, error=message, finished_at=timezone.now()
    )
    cache.delete(progress_key(job_id))


def _run(job: ImportJob) -> None:
    with tempfile.TemporaryDirectory(prefix="calldeck-report-") as folder:
        report_path = Path(folder) / "report.csv"
        # UTF-8 with a BOM, so Excel shows the Chinese columns right.
        with (
            local_path(str(job.file.name)) as path,
            open(report_path, "w", encoding="utf-8-sig", newline="") as report,
        ):
            result = import_file(
                client=job.client,
                path=path,
                kind=job.kind,
                columns=job.columns,
                encoding=job.encoding or None,
                options=job.options,
                actor=job.created_by,
                report=report,
                progress=_progress_writer(job.pk),
                source=f"import {job.file_name}",
            )
        with open(report_path, "rb") as done:
            job.report.save(REPORT_NAME.format(pk=job.pk), File(done), save=False)
    job_customer_ids_write(job, result.customer_ids)
    job.summary = {**result.summary, "seconds": result.seconds}
    job.status = ImportStatus.DONE
    job.error = ""
    job.finished_at = timezone.now()
    job.save(update_fields=["report", "summary", "status", "error", "finished_at"])
    cache.delete(progress_key(job.pk))
    audit_record(
        actor=job.created_by,
        action="import.done",
        obj=job,
        changes={k: v for k, v in job.summary.items() if k != "seconds"},
    )


@task()
def import_job_run(job_id: int) -> str:
    """Run the import of job ``job_id``; its final status."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        logger.warning("Import job %s is not queued (missing or already run); skipped.", job_id)
        return ""
    job = ImportJob.objects.select_related("client", "created_by").get(pk=job_id)
    try:
        _run(job)
    except ImportFileError as err:
        _fail(job_id, str(err))
        return ImportStatus.FAILED
    except Exception:
        logger.exception("Import job %s failed", job_id)
        _fail(job_id, str(FAILED_INTERNAL))
        return ImportStatus.FAILED
    except BaseException:
        # The worker is stopping (SystemExit, KeyboardInterrupt): the import's
        # transaction is rolled back, so say so rather than leave the job running.
        with contextlib.suppress(Exception):
            _fail(job_id, str(FAILED_INTERRUPTED))
        raise
    return ImportStatus.DONE


# --- uploads waiting between the two steps -------------------------------------------------

UPLOADS_WAITING = "imports/tmp"
# An upload left between the two steps (a closed tab, an expired session) is kept this long.
UPLOAD_WAIT = dt.timedelta(hours=24)


def uploads_waiting_sweep(*, now: dt.datetime | None = None) -> int:
    """Delete uploads that have waited for step 2 longer than ``UPLOAD_WAIT``; how many.

    Run by the task worker every few minutes and by each new upload, so a file whose
    import was never started does not stay in storage with its customers' data.
    """
    now = now or timezone.now()
    try:
        _folders, names = default_storage.listdir(UPLOADS_WAITING)
    except FileNotFoundError:
        return 0
    deleted = 0
    for name in names:
        path = f"{UPLOADS_WAITING}/{name}"
        try:
            if default_storage.get_modified_time(path) < now - UPLOAD_WAIT:
                default_storage.delete(path)
                deleted += 1
        except FileNotFoundError:
            continue  # another sweep took it
    return deleted
