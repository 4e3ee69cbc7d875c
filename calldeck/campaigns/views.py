"""Campaign pages: list, create, edit, detail with status, windows and retry rules; assignments.

Every campaign is fetched through ``selectors.campaign_get_for_user`` (404 outside the
user's clients) and every change goes through ``services``. The small forms of the
detail and assignment pages post with htmx and get back only their panel; without
JavaScript they post as plain forms and the page is redirected or re-rendered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from calldeck.accounts import access
from calldeck.accounts.models import Client, User
from calldeck.campaigns import assignments as assignment_services
from calldeck.campaigns import forms, selectors, services
from calldeck.campaigns.holidays import holiday_years_missing
from calldeck.campaigns.list_views import list_sections
from calldeck.campaigns.models import (
    DIALABLE_STATUSES,
    PREVIEW_FIELD_CHOICES,
    Campaign,
    CampaignAssignment,
    CampaignStatus,
    LeadStatus,
)
from calldeck.dialing.dialer_process import campaign_abandon_rate
from calldeck.dialing.leads import campaign_dial_status
from calldeck.dialing.models import DialerLease


class AuthenticatedHttpRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


S = CampaignStatus

# The button that performs each move of ``services.CAMPAIGN_TRANSITIONS``.
TRANSITION_ACTIONS: dict[tuple[str, str], Promise] = {
    (S.DRAFT, S.PILOT): _("Start pilot"),
    (S.DRAFT, S.ACTIVE): _("Activate"),
    (S.PILOT, S.ACTIVE): _("Activate"),
    (S.PILOT, S.DRAFT): _("Back to draft"),
    (S.ACTIVE, S.PAUSED): _("Pause"),
    (S.PAUSED, S.ACTIVE): _("Resume"),
    (S.ACTIVE, S.COMPLETED): _("Complete"),
    (S.PAUSED, S.COMPLETED): _("Complete"),
    (S.COMPLETED, S.ARCHIVED): _("Archive"),
}
# Moves that cannot be undone ask first.
TRANSITION_CONFIRM: dict[str, Promise] = {
    S.COMPLETED: _("Complete this campaign? It will not be dialed again."),
    S.ARCHIVED: _("Archive this campaign?"),
}

CAMPAIGN_CREATED = _("Campaign “%(name)s” created as a draft.")
CAMPAIGN_SAVED = _("Campaign saved.")
STATUS_CHANGED = _("Campaign is now “%(status)s”.")
WINDOWS_SAVED = _("Calling windows saved.")
RETRY_SAVED = _("Retry rules saved.")
ASSIGNMENT_SAVED = _("Assignment saved.")
ASSIGNMENT_REMOVED = _("Assignment removed.")
HOLIDAYS_MISSING = _(
    "The holiday table has no days for %(year)s: calling windows would treat every day of "
    "that year as an ordinary weekday. Run “manage.py load_holidays --year %(year)s” or "
    "add the days in the admin."
)

PAGE_SIZE = 50
# Status a refused htmx form answers with; base.html swaps it in like a 200.
UNPROCESSABLE = 422


def _errors_text(exc: ValidationError) -> str:
    return " ".join(str(message) for message in exc.messages)


# --- list, create, edit --------------------------------------------------------------


@access.role_required(access.CAMPAIGN_READERS)
@require_GET
def campaign_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    filters = forms.CampaignFilterForm(request.GET or None, user=user)
    campaigns = selectors.campaigns_for_user(user).select_related("client", "offer")
    status = client = None
    if filters.is_valid():
        status = filters.cleaned_data["status"]
        client = filters.cleaned_data["client"]
    # Archived campaigns only clutter the everyday list; they show when asked for.
    campaigns = campaigns.filter(status=status) if status else campaigns.exclude(status=S.ARCHIVED)
    if client is not None:
        campaigns = campaigns.filter(client=client)
    page = Paginator(campaigns, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.lead_counts_by_campaign(c.pk for c in page)
    rows = [
        {
            "campaign": campaign,
            "counts": [counts[campaign.pk][s] for s in LeadStatus.values],
            "total": sum(counts[campaign.pk].values()),
        }
        for campaign in page
    ]
    return render(
        request,
        "campaigns/list.html",
        {
            "filters": filters,
            "page": page,
            "rows": rows,
            "lead_statuses": LeadStatus.choices,
            "can_create": access.has_role(user, access.CAMPAIGN_EDITORS),
        },
    )


def _client_hint(request: AuthenticatedHttpRequest) -> Client | None:
    """The client a new campaign is for, if already known: chosen, asked for, or the only one."""
    client_ids = access.client_ids_for(request.user)
    raw = request.POST.get("client") or request.GET.get("client") or ""
    if raw.isdigit() and int(raw) in client_ids:
        return Client.objects.get(pk=int(raw))
    if len(client_ids) == 1:
        return Client.objects.get(pk=client_ids[0])
    return None


@access.role_required(access.CAMPAIGN_EDITORS)
@require_http_methods(["GET", "POST"])
def campaign_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    client = _client_hint(request)
    if request.method == "POST":
        form = forms.CampaignForm(request.POST, user=user, client=client)
        if form.is_valid():
            try:
                campaign = services.campaign_create(
                    actor=user, client=form.cleaned_data["client"], **form.service_fields()
                )
            except ValidationError as exc:
                forms.add_service_errors(form, exc)
            else:
                messages.success(request, CAMPAIGN_CREATED % {"name": campaign.name})
                return redirect("calldeck-campaign-detail", pk=campaign.pk)
    else:
        form = forms.CampaignForm(user=user, client=client)
    return render(request, "campaigns/form.html", {"form": form, "campaign": None})


@access.role_required(access.CAMPAIGN_EDITORS)
@require_http_methods(["GET", "POST"])
def campaign_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    campaign = selectors.campaign_get_for_user(user, pk)
    if request.method == "POST":
        form = forms.CampaignForm(request.POST, user=user, campaign=campaign)
        if form.is_valid():
            try:
                services.campaign_update(actor=user, campaign=campaign, **form.service_fields())
            except ValidationError as exc:
                forms.add_service_errors(form, exc)
            else:
                messages.success(request, CAMPAIGN_SAVED)
                return redirect("calldeck-campaign-detail", pk=campaign.pk)
    else:
        form = forms.CampaignForm(user=user, campaign=campaign)
    return render(request, "campaigns/form.html", {"form": form, "campaign": campaign})


# --- detail and its panels -----------------------------------------------------------


def _display(campaign: Campaign, name: str) -> Any:
    value = getattr(campaign, name)
    if name == "preview_fields":
        labels = dict(PREVIEW_FIELD_CHOICES)
        return "、".join(str(labels.get(v, v)) for v in value) or None
    display = getattr(campaign, f"get_{name}_display", None)
    return display() if display is not None else value


def _status_context(campaign: Campaign, user: User, error: str = "") -> dict[str, Any]:
    return {
        "campaign": campaign,
        "can_edit": services.campaign_may_edit(user, campaign),
        "status_error": error,
        "next_statuses": [
            {
                "value": status,
                "label": TRANSITION_ACTIONS.get((campaign.status, status), S(status).label),
                "confirm": TRANSITION_CONFIRM.get(status, ""),
            }
            for status in services.campaign_next_statuses(campaign)
        ],
    }


def _detail_context(request: AuthenticatedHttpRequest, campaign: Campaign) -> dict[str, Any]:
    user = request.user
    today = timezone.localdate()
    counts = selectors.lead_counts_by_campaign([campaign.pk])[campaign.pk]
    supervises = access.has_role(user, access.ASSIGNERS)
    return {
        # Why the floor can or cannot dial this campaign now, for those who run it.
        "dial_status": campaign_dial_status(campaign) if supervises else None,
        # Which dialer process works a progressive / predictive campaign, and its last word.
        "dialer_lease": (
            DialerLease.objects.filter(campaign=campaign).first()
            if supervises and campaign.dial_mode != "preview"
            else None
        ),
        # The abandon rate over the campaign's rolling window, against its cap.
        "abandon_rate": (
            campaign_abandon_rate(campaign, timezone.now())
            if supervises and campaign.dial_mode != "preview"
            else None
        ),
        "now": timezone.now(),
        "holiday_warnings": [HOLIDAYS_MISSING % {"year": y} for y in holiday_years_missing(today)],
        **_status_context(campaign, user),
        "settings": [
            (
                getattr(Campaign._meta.get_field(name), "verbose_name", name),
                _display(campaign, name),
            )
            for name in services.CAMPAIGN_FIELDS
            if name not in {"name", "description"}
        ],
        "windows_form": forms.CallingWindowsForm(campaign=campaign),
        "retry_form": forms.RetryRulesForm(campaign=campaign),
        "dispositions": campaign.disposition_set.dispositions.all(),
        "assignments": selectors.assignments_for_campaign(campaign, day=today),
        "today": today,
        "lead_counts": [(label, counts[value]) for value, label in LeadStatus.choices],
        "lead_total": sum(counts.values()),
        "can_assign": supervises,
    }


@access.role_required(access.CAMPAIGN_READERS)
@require_GET
def campaign_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get_for_user(request.user, pk)
    context = _detail_context(request, campaign)
    # The list, pilot and daily-list sections (campaigns.list_views).
    context.update(list_sections(request.user, campaign))
    return render(request, "campaigns/detail.html", context)


def _redirect_detail(campaign: Campaign) -> HttpResponseRedirect:
    return redirect("calldeck-campaign-detail", pk=campaign.pk)


@access.role_required(access.CAMPAIGN_EDITORS)
@require_POST
def campaign_transition(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    campaign = selectors.campaign_get_for_user(user, pk)
    form = forms.TransitionForm(request.POST)
    error = ""
    if not form.is_valid():
        error = " ".join(str(e) for e in form.errors["to_status"])
    else:
        try:
            campaign = services.campaign_transition(
                actor=user, campaign=campaign, to_status=form.cleaned_data["to_status"]
            )
        except ValidationError as exc:
            error = _errors_text(exc)
    if request.htmx:
        return render(
            request,
            "campaigns/detail.html#status-panel",
            _status_context(campaign, user, error),
            status=UNPROCESSABLE if error else 200,
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, STATUS_CHANGED % {"status": campaign.get_status_display()})
    return _redirect_detail(campaign)


@access.role_required(access.CAMPAIGN_EDITORS)
@require_POST
def calling_windows_update(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    campaign = selectors.campaign_get_for_user(user, pk)
    form = forms.CallingWindowsForm(request.POST, campaign=campaign)
    if form.is_valid():
        try:
            services.calling_windows_replace(
                actor=user, campaign=campaign, windows=form.cleaned_data["windows"]
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
    return _panel_answer(
        request,
        campaign,
        form,
        panel="windows-panel",
        saved=WINDOWS_SAVED,
        context_name="windows_form",
        fresh=lambda: forms.CallingWindowsForm(campaign=campaign),
    )


@access.role_required(access.CAMPAIGN_EDITORS)
@require_POST
def retry_rules_update(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    campaign = selectors.campaign_get_for_user(user, pk)
    form = forms.RetryRulesForm(request.POST, campaign=campaign)
    if form.is_valid():
        try:
            services.retry_rules_update(
                actor=user, campaign=campaign, minutes_by_outcome=form.minutes_by_outcome()
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
    return _panel_answer(
        request,
        campaign,
        form,
        panel="retry-panel",
        saved=RETRY_SAVED,
        context_name="retry_form",
        fresh=lambda: forms.RetryRulesForm(campaign=campaign),
    )


def _panel_answer(
    request: AuthenticatedHttpRequest,
    campaign: Campaign,
    form: forms.CallingWindowsForm | forms.RetryRulesForm,
    *,
    panel: str,
    saved: Promise,
    context_name: str,
    fresh: Callable[[], forms.CallingWindowsForm | forms.RetryRulesForm],
) -> HttpResponse:
    """Answer a detail-page panel form: the panel for htmx, else redirect or the whole page."""
    ok = not form.errors
    if request.htmx:
        context = {
            "campaign": campaign,
            "can_edit": services.campaign_may_edit(request.user, campaign),
            context_name: fresh() if ok else form,
            "saved": saved if ok else "",
        }
        return render(
            request,
            f"campaigns/detail.html#{panel}",
            context,
            status=200 if ok else UNPROCESSABLE,
        )
    if ok:
        messages.success(request, str(saved))
        return _redirect_detail(campaign)
    context = _detail_context(request, campaign)
    context[context_name] = form
    return render(request, "campaigns/detail.html", context)


# --- assignments ---------------------------------------------------------------------


class _AssignmentScope:
    """What one supervisor or campaign manager may assign on one day, read once per page."""

    def __init__(self, user: User, day: dt.date) -> None:
        self.user = user
        self.day = day
        self.teams = list(selectors.teams_assignable_by(user))
        agents = selectors.agents_assignable_by(user, day=day).prefetch_related("clients")
        self.agents = list(agents)
        self.team_ids = {team.pk for team in self.teams}
        self.agent_ids = {agent.pk for agent in self.agents}
        self.editable_day = day >= timezone.localdate()

    def agents_of(self, campaign: Campaign) -> list[User]:
        return [a for a in self.agents if any(c.pk == campaign.client_id for c in a.clients.all())]

    def may_remove(self, assignment: CampaignAssignment) -> bool:
        return self.editable_day and (
            assignment.team_id in self.team_ids or assignment.agent_id in self.agent_ids
        )

    def form(self, campaign: Campaign, data: Any = None) -> forms.AssignmentForm:
        return forms.AssignmentForm(
            data,
            teams=self.teams,
            agents=self.agents_of(campaign),
            initial={"day": self.day, "priority": 1},
            auto_id=f"id_c{campaign.pk}_%s",
        )

    def card(
        self,
        campaign: Campaign,
        *,
        form: forms.AssignmentForm | None = None,
        message: str = "",
        error: str = "",
    ) -> dict[str, Any]:
        assignments = getattr(campaign, "day_assignments", None)
        if assignments is None:
            assignments = list(selectors.assignments_for_campaign(campaign, day=self.day))
        return {
            "campaign": campaign,
            "assignments": [(a, self.may_remove(a)) for a in assignments],
            "form": form or self.form(campaign),
            "message": message,
            "error": error,
            "editable_day": self.editable_day,
        }


def _day_from(raw: str | None) -> dt.date:
    form = forms.DayForm({"day": raw or ""})
    if form.is_valid() and form.cleaned_data["day"]:
        day: dt.date = form.cleaned_data["day"]
        return day
    return timezone.localdate()


def _assignments_url(day: dt.date) -> str:
    return f"{reverse('calldeck-assignments')}?day={day.isoformat()}"


@access.role_required(access.ASSIGNERS)
@require_GET
def assignments(request: AuthenticatedHttpRequest) -> HttpResponse:
    day = _day_from(request.GET.get("day"))
    return _assignments_page(request, day)


def _assignments_page(
    request: AuthenticatedHttpRequest,
    day: dt.date,
    *,
    bound: tuple[int, forms.AssignmentForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    scope = _AssignmentScope(request.user, day)
    campaigns = (
        selectors.campaigns_for_user(request.user)
        .filter(status__in=DIALABLE_STATUSES)
        .select_related("client")
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=selectors.assignments_of_day(day),
                to_attr="day_assignments",
            )
        )
        .order_by("client__name", "name")
    )
    cards = [
        scope.card(c, form=bound[1] if bound and bound[0] == c.pk else None) for c in campaigns
    ]
    return render(
        request,
        "campaigns/assignments.html",
        {
            "day": day,
            "today": timezone.localdate(),
            "previous_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1),
            "day_form": forms.DayForm(initial={"day": day}),
            "cards": cards,
        },
        status=status,
    )


def _card_answer(
    request: AuthenticatedHttpRequest,
    scope: _AssignmentScope,
    campaign: Campaign,
    *,
    form: forms.AssignmentForm | None = None,
    message: str = "",
    error: str = "",
) -> HttpResponse:
    failed = bool(error or (form is not None and form.errors))
    return render(
        request,
        "campaigns/assignments.html#campaign-card",
        {"card": scope.card(campaign, form=form, message=message, error=error)},
        status=UNPROCESSABLE if failed else 200,
    )


@access.role_required(access.ASSIGNERS)
@require_POST
def assignment_set(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    campaign = selectors.campaign_get_for_user(user, pk)
    day = _day_from(request.POST.get("day"))
    scope = _AssignmentScope(user, day)
    form = scope.form(campaign, request.POST)
    if form.is_valid():
        try:
            assignment_services.assignment_set(
                actor=user,
                campaign=campaign,
                day=form.cleaned_data["day"],
                priority=form.cleaned_data["priority"],
                daily_target=form.cleaned_data["daily_target"],
                **form.cleaned_data["assignee"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
    if form.errors:
        if request.htmx:
            return _card_answer(request, scope, campaign, form=form)
        return _assignments_page(request, day, bound=(campaign.pk, form))
    if request.htmx:
        return _card_answer(request, scope, campaign, message=str(ASSIGNMENT_SAVED))
    messages.success(request, ASSIGNMENT_SAVED)
    return redirect(_assignments_url(day))


@access.role_required(access.ASSIGNERS)
@require_POST
def assignment_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    assignment = selectors.assignment_get_for_user(user, pk)
    campaign, day = assignment.campaign, assignment.day
    error = ""
    try:
        assignment_services.assignment_remove(actor=user, assignment=assignment)
    except ValidationError as exc:
        error = _errors_text(exc)
    if request.htmx:
        message = "" if error else str(ASSIGNMENT_REMOVED)
        scope = _AssignmentScope(user, day)
        return _card_answer(request, scope, campaign, message=message, error=error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, ASSIGNMENT_REMOVED)
    return redirect(_assignments_url(day))
