from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from calldeck.accounts import access
from calldeck.accounts.models import User
from calldeck.reports import selectors
from calldeck.reports.forms import DayForm


@access.role_required(access.KPI_READERS)
def kpi_today(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    # "Today" is the centre's day, not the server's UTC day: 00:30 in Shanghai is still
    # yesterday in UTC.
    today = timezone.localdate(timezone=timezone.get_default_timezone())
    form = DayForm(request.GET) if "day" in request.GET else DayForm(initial={"day": today})
    day = today
    if form.is_bound and form.is_valid() and form.cleaned_data["day"]:
        day = form.cleaned_data["day"]
    report = selectors.kpi_day_report_for_user(user=user, day=day)
    return render(
        request,
        "reports/kpi_today.html",
        {
            "form": form,
            "report": report,
            "today": today,
            "previous_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1),
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )
