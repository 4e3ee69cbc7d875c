"""The holiday table in the Django admin, where an administrator corrects or adds days."""

from __future__ import annotations

from django.contrib import admin

from calldeck.campaigns.models import Holiday


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("day", "kind", "name")
    list_filter = ("kind",)
    search_fields = ("name",)
    date_hierarchy = "day"
    ordering = ("-day",)
