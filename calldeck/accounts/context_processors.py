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
    items = []
    for name, label, roles in NAV:
        if access.has_role(user, roles):
            url = reverse(name)
            items.append({"url": url, "label": label, "active": request.path.startswith(url)})
    return {"nav_items": items}
