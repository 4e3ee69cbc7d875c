"""Campaign list pages: loading customers (preview, then confirm), the pilot box and the
daily list rule of the campaign page.

The load page posts twice: first for the preview (the count of each exclusion reason
and of the customers that would go in), then, with the same choices, to confirm. The
pilot and daily-list boxes of the campaign page post with htmx and get back only their
panel; without JavaScript they post as plain forms and the page is redirected.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from calldeck.accounts import access
from calldeck.accounts.models import User
from calldeck.campaigns import daily, lists, selectors, services
from calldeck.campaigns.forms import add_service_errors
from calldeck.campaigns.models import (
    Campaign,
    CampaignKind,
    CampaignLead,
    DailyAssignRule,
    DailyListRule,
    DailyListRun,
    LeadPhase,
    ListLoad,
    ListSource,
    Pilot,
)
from calldeck.customers.models import ImportJob, ImportKind, ImportStatus, Segment

LOADED = _("%(loaded)s customers loaded; %(left_out)s left out.")
PILOT_DRAWN = _("Pilot drawn: %(drawn)s customers (seed %(seed)s).")
ROLLED_OUT = _("Rolled out: %(n)s waiting customers join the main list.")
RULE_SAVED = _("Daily list rule saved.")
RUN_BUILT = _("Today's list: %(loaded)s customers loaded.")
NO_SEGMENT = _("Choose a segment.")
NO_IMPORT = _("Choose a finished import.")
UNKNOWN_LABEL = _("Not a customer of this client")
ALL_CUSTOMERS = _("All the client's customers")

RECENT_LOADS = 10
RECENT_RUNS = 14
# Status a refused htmx form answers with; base.html swaps it in like a 200.
UNPROCESSABLE = 422


class AuthenticatedHttpRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


# --- forms ----------------------------------------------------------------------------


class _ImportChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        when = timezone.localtime(obj.finished_at or obj.created_at)
        return f"{obj.file_name} · {when:%Y-%m-%d %H:%M}"


class LoadForm(forms.Form):
    source = forms.ChoiceField(
        label=_("Customers from"),
        choices=[(ListSource.SEGMENT, _("A segment")), (ListSource.FILE, _("A finished import"))],
        widget=forms.RadioSelect,
        initial=ListSource.SEGMENT,
    )
    segment = forms.ModelChoiceField(
        label=_("Segment"), queryset=Segment.objects.none(), required=False
    )
    import_job = _ImportChoice(label=_("Import"), queryset=ImportJob.objects.none(), required=False)
    contacted_within_days = forms.IntegerField(
        label=_("Leave out customers called within (days)"),
        min_value=1,
        max_value=lists.MAX_CONTACT_DAYS,
        required=False,
        help_text=_("Empty: however recently they were called."),
    )

    def __init__(self, *args: Any, user: User, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        segments = access.scoped(Segment.objects.all(), user).filter(client_id=campaign.client_id)
        self.fields["segment"].queryset = segments.order_by("name")  # type: ignore[attr-defined]
        self.fields["import_job"].queryset = (  # type: ignore[attr-defined]
            access.scoped(ImportJob.objects.all(), user)
            .filter(
                client_id=campaign.client_id,
                kind=ImportKind.CUSTOMERS,
                status=ImportStatus.DONE,
            )
            .order_by("-finished_at", "-id")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        source = data.get("source")
        if source == ListSource.SEGMENT and not data.get("segment"):
            self.add_error("segment", NO_SEGMENT)
        if source == ListSource.FILE and not data.get("import_job"):
            self.add_error("import_job", NO_IMPORT)
        return data


class PilotForm(forms.Form):
    size = forms.IntegerField(
        label=_("Sample size"),
        min_value=lists.PILOT_MIN,
        max_value=lists.PILOT_MAX,
        initial=lists.PILOT_DEFAULT,
    )
    seed = forms.IntegerField(
        label=_("Random seed"),
        min_value=0,
        max_value=2**63 - 1,
        required=False,
        help_text=_("Empty: a new one. The same seed over the same list draws the same sample."),
    )


class DailyRuleForm(forms.Form):
    birthdays = forms.BooleanField(label=_("Birthdays"), required=False)
    anniversaries = forms.BooleanField(label=_("Anniversaries (customer since)"), required=False)
    segment = forms.ModelChoiceField(
        label=_("Only customers in segment"),
        queryset=Segment.objects.none(),
        required=False,
        empty_label=ALL_CUSTOMERS,
    )
    assign_rule = forms.ChoiceField(label=_("Assign by"), choices=DailyAssignRule.choices)
    build_at = forms.TimeField(
        label=_("Build at"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Centre time, each morning."),
    )

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        rule = DailyListRule.objects.filter(campaign=campaign).first() or DailyListRule()
        kwargs.setdefault(
            "initial",
            {
                "birthdays": rule.birthdays,
                "anniversaries": rule.anniversaries,
                "segment": rule.segment_id,
                "assign_rule": rule.assign_rule,
                "build_at": rule.build_at,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = Segment.objects.filter(  # type: ignore[attr-defined]
            client_id=campaign.client_id
        ).order_by("name")


# --- what the campaign page shows ------------------------------------------------------


def _left_out(load: ListLoad) -> list[tuple[Any, int]]:
    """(label, count) of a load's reasons with a count, in display order."""
    labels = {**lists.REASON_LABELS, "unknown": UNKNOWN_LABEL}
    order = [*lists.REASONS, lists.ALREADY_LOADED, "unknown"]
    excluded = load.excluded or {}
    return [(labels[r], excluded[r]) for r in order if excluded.get(r)]


def _phase_counts(campaign: Campaign) -> list[tuple[Any, int]]:
    rows = dict(
        CampaignLead.objects.filter(campaign=campaign)
        .values_list("phase")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("phase", "n")
    )
    return [(label, rows.get(value, 0)) for value, label in LeadPhase.choices]


def _pilot_context(user: User, campaign: Campaign) -> dict[str, Any]:
    pilot = Pilot.objects.filter(campaign=campaign).select_related("created_by").first()
    may_load = _may_load(user, campaign)
    return {
        "shown": campaign.status in lists.PILOT_STATUSES or pilot is not None,
        "pilot": pilot,
        "short": pilot is not None and pilot.drawn < pilot.size,
        "phases": _phase_counts(campaign),
        "can_draw": may_load and campaign.status in lists.PILOT_STATUSES,
        "can_roll_out": may_load and pilot is not None and pilot.rolled_out_at is None,
        "form": PilotForm(auto_id="id_pilot_%s"),
    }


def _daily_context(user: User, campaign: Campaign) -> dict[str, Any]:
    if campaign.kind != CampaignKind.DAILY:
        return {"shown": False}
    runs = DailyListRun.objects.filter(campaign=campaign).select_related("list_load")
    return {
        "shown": True,
        "rule": DailyListRule.objects.filter(campaign=campaign).select_related("segment").first(),
        "runs": [
            (run, run.list_load.candidates - run.list_load.loaded if run.list_load else 0)
            for run in runs.order_by("-day")[:RECENT_RUNS]
        ],
        "can_edit": daily.daily_rule_may_edit(user, campaign),
        "form": DailyRuleForm(campaign=campaign, auto_id="id_daily_%s"),
        "shared_out": campaign.dial_mode == "preview",
    }


def _may_load(user: User, campaign: Campaign) -> bool:
    return (
        access.has_role(user, access.LIST_LOADERS)
        and campaign.client_id in access.client_ids_for(user)
        and campaign.status in lists.LOADABLE_STATUSES
    )


def list_sections(user: User, campaign: Campaign) -> dict[str, Any]:
    """The list, pilot and daily-list sections of the campaign page, as ``lists``."""
    loads = (
        ListLoad.objects.filter(campaign=campaign)
        .select_related("created_by", "segment", "import_job")
        .order_by("-created_at", "-id")[:RECENT_LOADS]
    )
    return {
        "lists": {
            "can_load": _may_load(user, campaign),
            "loads": [(load, _left_out(load)) for load in loads],
            "pilot": _pilot_context(user, campaign),
            "daily": _daily_context(user, campaign),
        }
    }


# --- load ----------------------------------------------------------------------------------


# From this many candidates a confirmed load runs on the task worker: a million customers
# take half a minute, longer than a request should wait.
BACKGROUND_LOAD_FROM = 100_000
LOADING_IN_BACKGROUND = _(
    "Loading about %(n)s customers in the background; the load appears under Customer "
    "list when it is done."
)


def _candidates(form: LoadForm) -> dict[str, Any]:
    """The keyword arguments of the preview and the load for the form's choices."""
    data = form.cleaned_data
    if data["source"] == ListSource.SEGMENT:
        from calldeck.customers.segments import segment_customers

        return {"customers": segment_customers(data["segment"])}
    from calldeck.customers.importing.job_files import job_customer_ids

    return {"customer_ids": job_customer_ids(data["import_job"])}


@access.role_required(access.LIST_LOADERS)
@require_http_methods(["GET", "POST"])
def list_load_page(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    campaign = selectors.campaign_get_for_user(user, pk)
    data: Any = request.POST or None
    job_id = request.GET.get("import_job", "")
    if request.method == "GET" and job_id:
        # From a finished import's page ("load these customers"): count them straight away.
        data = {"source": ListSource.FILE, "import_job": job_id}
    form = LoadForm(data, user=user, campaign=campaign)
    preview = None
    error = ""
    status = 200
    if data is not None and form.is_valid():
        data = form.cleaned_data
        try:
            if request.POST.get("confirm") and _expected(request) >= BACKGROUND_LOAD_FROM:
                return _load_in_background(request, campaign, form)
            if request.POST.get("confirm"):
                load = lists.list_load(
                    actor=user,
                    campaign=campaign,
                    contacted_within_days=data["contacted_within_days"],
                    source=data["source"],
                    segment=data["segment"] if data["source"] == ListSource.SEGMENT else None,
                    import_job=data["import_job"] if data["source"] == ListSource.FILE else None,
                    **_candidates(form),
                )
                left_out = load.candidates - load.loaded
                messages.success(request, LOADED % {"loaded": load.loaded, "left_out": left_out})
                return redirect("calldeck-campaign-detail", pk=campaign.pk)
            preview = lists.list_load_preview(
                campaign=campaign,
                contacted_within_days=data["contacted_within_days"],
                **_candidates(form),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        status = UNPROCESSABLE
    if campaign.status not in lists.LOADABLE_STATUSES:
        error = str(lists.LOAD_CLOSED % {"status": campaign.get_status_display()})
    return render(
        request,
        "campaigns/lists/load.html",
        {
            "campaign": campaign,
            "form": form,
            "preview": preview,
            "preview_rows": preview.rows() if preview else [],
            "closed": error,
            "background_from": BACKGROUND_LOAD_FROM,
        },
        status=status,
    )


def _expected(request: AuthenticatedHttpRequest) -> int:
    """How many candidates the confirmed preview counted (0 when not given)."""
    try:
        return max(0, int(request.POST.get("expected", "0")))
    except ValueError:
        return 0


def _load_in_background(
    request: AuthenticatedHttpRequest, campaign: Campaign, form: LoadForm
) -> HttpResponse:
    """Queue a large load on the task worker instead of holding the request for it."""
    from calldeck.campaigns.tasks import list_load_task

    data = form.cleaned_data
    file_source = data["source"] == ListSource.FILE
    list_load_task.enqueue(
        actor_id=request.user.pk,
        campaign_id=campaign.pk,
        source=str(data["source"]),
        segment_id=None if file_source else data["segment"].pk,
        import_job_id=data["import_job"].pk if file_source else None,
        contacted_within_days=data["contacted_within_days"],
    )
    messages.success(request, LOADING_IN_BACKGROUND % {"n": _expected(request)})
    return redirect("calldeck-campaign-detail", pk=campaign.pk)


# --- the pilot box -----------------------------------------------------------------------


def _box_answer(
    request: AuthenticatedHttpRequest,
    campaign: Campaign,
    *,
    box: str,
    form: forms.Form | None,
    message: str,
    error: str,
) -> HttpResponse:
    """The answer to a form of the campaign page's pilot or daily-list box: the box again
    (htmx), or the campaign page with the message (a plain form post)."""
    failed = bool(error or (form is not None and form.errors))
    if not request.htmx:
        if failed:
            messages.error(request, error or _form_errors_text(form))
        elif message:
            messages.success(request, message)
        return redirect("calldeck-campaign-detail", pk=campaign.pk)
    context = _BOX_CONTEXTS[box](request.user, campaign)
    if form is not None and form.errors:
        context["form"] = form
    context.update(message=message, error=error)
    return render(
        request,
        f"campaigns/lists/_sections.html#{box}-panel",
        {"campaign": campaign, "lists": {box: context}},
        status=UNPROCESSABLE if failed else 200,
    )


def _pilot_answer(
    request: AuthenticatedHttpRequest,
    campaign: Campaign,
    *,
    form: PilotForm | None = None,
    message: str = "",
    error: str = "",
) -> HttpResponse:
    return _box_answer(request, campaign, box="pilot", form=form, message=message, error=error)


def _errors_text(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def _form_errors_text(form: forms.Form | None) -> str:
    if form is None:
        return ""
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@access.role_required(access.LIST_LOADERS)
@require_POST
def pilot_draw(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    campaign = selectors.campaign_get_for_user(user, pk)
    form = PilotForm(request.POST, auto_id="id_pilot_%s")
    if not form.is_valid():
        return _pilot_answer(request, campaign, form=form)
    try:
        pilot = lists.pilot_draw(
            actor=user,
            campaign=campaign,
            size=form.cleaned_data["size"],
            seed=form.cleaned_data["seed"],
        )
    except ValidationError as exc:
        return _pilot_answer(request, campaign, error=_errors_text(exc))
    message = str(PILOT_DRAWN % {"drawn": pilot.drawn, "seed": pilot.seed})
    if pilot.drawn < pilot.size:
        message += " " + str(lists.PILOT_SHORT % {"drawn": pilot.drawn})
    return _pilot_answer(request, campaign, message=message)


@access.role_required(access.LIST_LOADERS)
@require_POST
def pilot_roll_out(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    campaign = selectors.campaign_get_for_user(user, pk)
    n = lists.pilot_roll_out(actor=user, campaign=campaign)
    return _pilot_answer(request, campaign, message=str(ROLLED_OUT % {"n": n}))


# --- the daily list box --------------------------------------------------------------------


def _daily_answer(
    request: AuthenticatedHttpRequest,
    campaign: Campaign,
    *,
    form: DailyRuleForm | None = None,
    message: str = "",
    error: str = "",
) -> HttpResponse:
    return _box_answer(request, campaign, box="daily", form=form, message=message, error=error)


@access.role_required(access.ASSIGNERS)
@require_POST
def daily_rule_update(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    campaign = selectors.campaign_get_for_user(user, pk)
    form = DailyRuleForm(request.POST, campaign=campaign, auto_id="id_daily_%s")
    if form.is_valid():
        try:
            daily.daily_rule_set(actor=user, campaign=campaign, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        return _daily_answer(request, campaign, form=form)
    return _daily_answer(request, campaign, message=str(RULE_SAVED))


@access.role_required(access.ASSIGNERS)
@require_POST
def daily_build_now(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    campaign = selectors.campaign_get_for_user(user, pk)
    if not daily.daily_rule_may_edit(user, campaign):
        return _daily_answer(request, campaign, error=str(services.NOT_ALLOWED))
    try:
        run = daily.daily_list_build(campaign=campaign, day=timezone.localdate())
    except ValidationError as exc:
        return _daily_answer(request, campaign, error=_errors_text(exc))
    loaded = run.list_load.loaded if run.list_load else 0
    return _daily_answer(request, campaign, message=str(RUN_BUILT % {"loaded": loaded}))


_BOX_CONTEXTS = {"pilot": _pilot_context, "daily": _daily_context}
