"""Template filters that show KPI figures the way ``reports.kpi`` formats them."""

from __future__ import annotations

from django import template

from calldeck.reports import kpi

register = template.Library()


@register.filter
def kpi_rate(rate: float | None) -> str:
    return kpi.format_rate(rate)


@register.filter
def kpi_duration(seconds: float | None) -> str:
    return kpi.format_duration(seconds)
