from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from calldeck.accounts import access
from calldeck.accounts.models import User

# (url name, label, roles that see it)
NAV = [
    ("calldeck-desk", _("Desk"), access.DESK_USERS),
    ("calldeck-campaigns", _("Campaigns"), access.CAMPAIGN_READERS),
    ("calldeck-assignments", _("Today's assignments"), access.ASSIGNERS),
    ("calldeck-kpi-today", _("Today's KPIs"), access.KPI_READERS),
    ("calldeck-customers", _("Customers"), access.CUSTOMER_READERS),
    ("calldeck-segments", _("Segments"), access.CUSTOMER_READERS),
    ("calldeck-imports", _("Imports"), access.IMPORTERS),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated:
        return {"nav_items": []}
    items: list[dict[str, Any]] = []
    for name, label, roles in NAV:
        if access.has_role(user, roles):
            items.append({"url": reverse(name), "label": label, "active": False})
    # The item whose address is the longest start of the page's: /customers/imports/ is
    # Imports, not Customers.
    matching = [item for item in items if request.path.startswith(item["url"])]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["active"] = True
    return {"nav_items": items}
