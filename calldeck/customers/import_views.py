"""Import pages: the list of imports, a new import in two steps, a job's progress and report.

Step 1 takes the file and what it holds (kind, encoding, saved mapping, campaign, list
options) and checks that it reads; step 2 maps each header to a field over a preview of
the first rows, and starts the job. Every job is fetched through
``jobs.import_job_get_for_user`` (404 outside the user's clients); every write goes
through ``jobs``.

Between the two steps the uploaded file waits in storage under ``imports/tmp/`` with a
random name recorded in the user's session. It cannot wait in the page (a hidden field
would send up to ``CALLDECK_IMPORT_MAX_MB`` back and forth) nor in the session itself
(too large, and customer data has no place in a session row); a name known only to the
session means a user reaches their own upload only. One upload waits per session: a new
one, a start or a cancel deletes the one before.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.middleware import HtmxDetails

from calldeck.accounts import access
from calldeck.accounts.models import Client, User
from calldeck.audit.services import audit_record
from calldeck.campaigns.models import Campaign, CampaignStatus
from calldeck.customers import jobs
from calldeck.customers.importing.fields import IGNORE, auto_mapping, fields_for, mapping_errors
from calldeck.customers.importing.reader import ImportFileError, Preview, preview
from calldeck.customers.importing.values import REASONS
from calldeck.customers.models import ImportJob, ImportKind, ImportMapping, ImportStatus


class AuthenticatedHttpRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


SESSION_KEY = "calldeck-import-upload"
TMP_FOLDER = jobs.UPLOADS_WAITING
PREVIEW_ROWS = 10
LIST_LIMIT = 200
ENCODINGS = [
    ("", _("Detect")),
    ("utf-8", "UTF-8"),
    ("gbk", "GBK"),
    ("gb18030", "GB18030"),
]
NO_ROWS = _("The file has a header line but no rows to import.")
NOTHING_WAITING = _("No file is waiting; upload it again.")
JOB_STARTED = _("Import of “%(name)s” started.")
MAPPING_SAVED = _("Mapping “%(name)s” saved.")
OPEN_STATUSES = (ImportStatus.QUEUED, ImportStatus.RUNNING)


# --- step 1: the file ----------------------------------------------------------------


class MappingChoiceField(forms.ModelChoiceField[ImportMapping]):
    def label_from_instance(self, obj: ImportMapping) -> str:
        return f"{obj.name} ({obj.get_kind_display()})"


class UploadForm(forms.Form):
    client = forms.ModelChoiceField(label=_("Client"), queryset=Client.objects.none())
    kind = forms.ChoiceField(label=_("The file holds"), choices=ImportKind.choices)
    file = forms.FileField(
        label=_("File"), help_text=_("CSV (UTF-8, GBK or GB18030) or Excel (.xlsx).")
    )
    encoding = forms.ChoiceField(label=_("Encoding"), choices=ENCODINGS, required=False)
    mapping = MappingChoiceField(
        label=_("Saved mapping"),
        queryset=ImportMapping.objects.none(),
        required=False,
        empty_label=_("None: map the columns from their headers"),
    )
    campaign = forms.ModelChoiceField(
        label=_("Then load the customers into campaign"),
        queryset=Campaign.objects.none(),
        required=False,
        empty_label=_("None"),
    )
    reason = forms.CharField(
        label=_("Reason (do-not-call, blacklist)"), max_length=jobs.REASON_LENGTH, required=False
    )
    expires_at = forms.DateField(
        label=_("Expires (do-not-call, blacklist)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: never."),
    )
    source = forms.CharField(
        label=_("Source of consent"), max_length=jobs.SOURCE_LENGTH, required=False
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        client_ids = access.client_ids_for(user)
        clients = Client.objects.filter(pk__in=client_ids, is_active=True).order_by("name")
        field = self.fields["client"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = clients
        if len(clients) == 1:
            field.initial = clients[0].pk
        mapping = self.fields["mapping"]
        assert isinstance(mapping, forms.ModelChoiceField)
        mapping.queryset = jobs.import_mappings_for_user(user).order_by("kind", "name")
        campaign = self.fields["campaign"]
        assert isinstance(campaign, forms.ModelChoiceField)
        campaign.queryset = (
            Campaign.objects.filter(client_id__in=client_ids)
            .exclude(status__in=(CampaignStatus.COMPLETED, CampaignStatus.ARCHIVED))
            .select_related("client")
            .order_by("client__name", "name")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        client, kind = data.get("client"), data.get("kind")
        mapping, campaign = data.get("mapping"), data.get("campaign")
        if (
            client is not None
            and mapping is not None
            and (mapping.client_id != client.pk or mapping.kind != kind)
        ):
            self.add_error("mapping", jobs.MAPPING_OTHER_CLIENT)
        if client is not None and campaign is not None and campaign.client_id != client.pk:
            self.add_error("campaign", jobs.CAMPAIGN_OTHER_CLIENT)
        if kind and kind != ImportKind.CUSTOMERS and campaign is not None:
            self.add_error("campaign", _("Only an import of customers loads a campaign."))
        return data


def _stash_drop(request: AuthenticatedHttpRequest) -> None:
    stash = request.session.pop(SESSION_KEY, None)
    if stash and str(stash.get("name", "")).startswith(f"{TMP_FOLDER}/"):
        default_storage.delete(stash["name"])


def _stash_get(request: AuthenticatedHttpRequest) -> dict[str, Any] | None:
    stash = request.session.get(SESSION_KEY)
    if not stash or stash.get("user") != request.user.pk:
        return None
    if not default_storage.exists(stash["name"]):
        return None
    return dict(stash)


def _preview(stash: dict[str, Any]) -> Preview:
    """The first rows of the waiting file; ``ImportFileError`` when it cannot be read."""
    with jobs.local_path(stash["name"]) as path:
        return preview(
            path, encoding=stash["encoding"] or None, kind=stash["kind"], rows=PREVIEW_ROWS
        )


@require_http_methods(["GET", "POST"])
@access.role_required(access.IMPORTERS)
def import_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, user=user)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            max_mb = jobs.max_mb()
            if upload.size == 0:
                form.add_error("file", jobs.FILE_EMPTY)
            elif upload.size > max_mb * 1024 * 1024:
                form.add_error("file", jobs.FILE_TOO_LARGE % {"mb": max_mb})
        if form.is_valid():
            response = _upload_accept(request, form)
            if response is not None:
                return response
    else:
        form = UploadForm(user=user, initial={"kind": request.GET.get("kind", "customers")})
    return render(
        request,
        "customers/imports/new.html",
        {"form": form, "max_mb": jobs.max_mb()},
        status=400 if form.errors else 200,
    )


def _upload_accept(request: AuthenticatedHttpRequest, form: UploadForm) -> HttpResponse | None:
    """Keep the upload for step 2 if it reads; the redirect, or None with the form's error."""
    data = form.cleaned_data
    upload = data["file"]
    _stash_drop(request)
    jobs.uploads_waiting_sweep()
    suffix = Path(upload.name).suffix.lower()[:10]
    token = secrets.token_hex(12)
    name = default_storage.save(f"{TMP_FOLDER}/{request.user.pk}-{token}{suffix}", upload)
    stash = {
        "user": request.user.pk,
        "name": name,
        "file_name": Path(upload.name).name,
        "client": data["client"].pk,
        "kind": data["kind"],
        "encoding": data.get("encoding") or "",
        "mapping": data["mapping"].pk if data.get("mapping") else None,
        "campaign": data["campaign"].pk if data.get("campaign") else None,
        "options": {
            "reason": data.get("reason") or "",
            "expires_at": data["expires_at"].isoformat() if data.get("expires_at") else "",
            "source": data.get("source") or "",
        },
    }
    try:
        jobs.options_clean(data["kind"], stash["options"])
        seen = _preview(stash)
        if not seen.rows:
            raise ImportFileError(str(NO_ROWS))
    except ImportFileError as err:
        default_storage.delete(name)
        form.add_error("file", str(err))
        return None
    except ValidationError as err:
        default_storage.delete(name)
        for field, errors in err.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return None
    request.session[SESSION_KEY] = stash
    return redirect("calldeck-import-mapping")


# --- step 2: the columns -------------------------------------------------------------


def _initial_columns(stash: dict[str, Any], seen: Preview, user: User) -> dict[str, str]:
    columns = auto_mapping(seen.headers, stash["kind"])
    if stash.get("mapping"):
        saved = jobs.import_mappings_for_user(user).filter(pk=stash["mapping"]).first()
        if saved is not None:
            for header in seen.headers:
                if header in saved.columns:
                    columns[header] = saved.columns[header]
    return columns


@require_http_methods(["GET", "POST"])
@access.role_required(access.IMPORTERS)
def import_mapping(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    stash = _stash_get(request)
    if stash is None:
        messages.error(request, NOTHING_WAITING)
        return redirect("calldeck-import-new")
    if request.method == "POST" and request.POST.get("action") == "cancel":
        _stash_drop(request)
        return redirect("calldeck-import-new")
    client = Client.objects.filter(pk__in=access.client_ids_for(user), pk=stash["client"]).first()
    if client is None:
        _stash_drop(request)
        raise Http404
    try:
        seen = _preview(stash)
    except ImportFileError as err:
        _stash_drop(request)
        messages.error(request, str(err))
        return redirect("calldeck-import-new")
    errors: list[str] = []
    save_as = ""
    if request.method == "POST":
        columns = {
            header: request.POST.get(f"col-{i}", IGNORE) for i, header in enumerate(seen.headers)
        }
        save_as = request.POST.get("save_as", "").strip()
        errors = mapping_errors(columns, stash["kind"])
        if not errors:
            job = _start(request, stash, client, columns, save_as, errors)
            if job is not None:
                return redirect("calldeck-import-detail", job.pk)
    else:
        columns = _initial_columns(stash, seen, user)
    fields = fields_for(stash["kind"])
    choices = [(IGNORE, str(_("— ignore —"))), *((f.name, str(f.label)) for f in fields)]
    headers = [
        {"index": i, "name": header, "field": columns.get(header, IGNORE)}
        for i, header in enumerate(seen.headers)
    ]
    return render(
        request,
        "customers/imports/mapping.html",
        {
            "stash": stash,
            "client": client,
            "kind_label": ImportKind(stash["kind"]).label,
            "preview": seen,
            "headers": headers,
            "choices": choices,
            "field_help": [(f.label, f.help) for f in fields if f.help],
            "errors": errors,
            "save_as": save_as,
            "encoding_label": _encoding_label(seen.encoding),
        },
        status=400 if errors else 200,
    )


def _encoding_label(encoding: str) -> str:
    return {
        "utf-8": "UTF-8",
        "utf-8-sig": "UTF-8 (BOM)",
        "gb18030": "GBK / GB18030",
        "big5": "Big5",
        "xlsx": "Excel (XLSX)",
    }.get(encoding, encoding.upper())


def _start(
    request: AuthenticatedHttpRequest,
    stash: dict[str, Any],
    client: Client,
    columns: dict[str, str],
    save_as: str,
    errors: list[str],
) -> ImportJob | None:
    """Save the mapping if asked, then create the job; None with ``errors`` filled."""
    user = request.user
    mapping = jobs.import_mappings_for_user(user).filter(pk=stash.get("mapping") or 0).first()
    campaign = Campaign.objects.filter(client=client, pk=stash.get("campaign") or 0).first()
    try:
        if save_as:
            mapping = jobs.mapping_save(
                actor=user,
                client=client,
                kind=stash["kind"],
                name=save_as,
                columns=columns,
                encoding=stash["encoding"],
            )
            messages.success(request, MAPPING_SAVED % {"name": mapping.name})
        with default_storage.open(stash["name"], "rb") as raw:
            job = jobs.import_job_create(
                actor=user,
                client=client,
                kind=stash["kind"],
                upload=File(raw, name=stash["file_name"]),
                encoding=stash["encoding"],
                columns=columns,
                mapping=mapping,
                options=stash["options"],
                campaign=campaign,
            )
    except ValidationError as err:
        errors.extend(err.messages)
        return None
    _stash_drop(request)
    messages.success(request, JOB_STARTED % {"name": job.file_name})
    return job


# --- the jobs ------------------------------------------------------------------------


@require_GET
@access.role_required(access.IMPORTERS)
def import_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    import_jobs = list(jobs.import_jobs_for_user(user)[:LIST_LIMIT])
    return render(
        request,
        "customers/imports/list.html",
        {
            "jobs": import_jobs,
            "many_clients": len(access.client_ids_for(user)) > 1,
            "mappings": list(jobs.import_mappings_for_user(user).order_by("kind", "name")),
        },
    )


def _campaign_load_url(job: ImportJob) -> str:
    """The campaigns app's page that loads the job's customers, when there is one."""
    if job.campaign_id is None or job.status != ImportStatus.DONE:
        return ""
    try:
        url = reverse("calldeck-campaign-load", args=[job.campaign_id])
    except NoReverseMatch:
        return ""
    return f"{url}?import_job={job.pk}"


def _reason_rows(counts: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"code": code, "count": n, "meaning": REASONS.get(code, code)}
        for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def _job_context(job: ImportJob) -> dict[str, Any]:
    summary = job.summary or {}
    return {
        "job": job,
        "open": job.status in OPEN_STATUSES,
        "progress": jobs.import_progress(job),
        "summary": summary,
        "rejected": _reason_rows(summary.get("rejected") or {}),
        "warnings": _reason_rows(summary.get("warnings") or {}),
        "rejected_total": sum((summary.get("rejected") or {}).values()),
        "campaign_load_url": _campaign_load_url(job),
    }


@require_GET
@access.role_required(access.IMPORTERS)
def import_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    job = jobs.import_job_get_for_user(request.user, pk)
    return render(request, "customers/imports/detail.html", _job_context(job))


@require_GET
@access.role_required(access.IMPORTERS)
def import_progress(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The job's state: the page's state panel for htmx, else JSON."""
    job = jobs.import_job_get_for_user(request.user, pk)
    if request.htmx:
        return render(request, "customers/imports/detail.html#state", _job_context(job))
    return JsonResponse(jobs.import_progress(job))


@require_GET
@access.role_required(access.IMPORTERS)
def import_report(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    job = jobs.import_job_get_for_user(request.user, pk)
    if not job.report:
        raise Http404
    try:
        handle = job.report.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    # The report holds customers' numbers as the file gave them: record who took it.
    audit_record(actor=request.user, action="import.report_download", obj=job)
    stem = Path(job.file_name).stem or "import"
    response = FileResponse(
        handle, as_attachment=True, filename=f"{stem}-report.csv", content_type="text/csv"
    )
    response["Cache-Control"] = "private, no-store"
    # Streamed, not read into memory: a report of a large file is large too.
    return cast(HttpResponse, response)
