"""Who may see what: roles, clients and number masking.

Every object a user reaches is fetched through an ``<entity>_get_for_user`` or
``<entity>s_for_user`` function here or in the entity's ``selectors.py``, built on
``client_ids_for``; a view never filters by client itself. Masking of phone numbers is a
data-access rule too: ``number_for_user`` is the only way a number leaves the database
for a page, a JSON answer or an export.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import phonenumbers
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from calldeck.accounts.models import Role, User

# Roles allowed to see full customer numbers. Everyone else sees 138****8000: the dialer
# dials, so nobody else needs the number (PIPL data minimisation).
FULL_NUMBER_ROLES = frozenset({Role.DATA_ADMIN, Role.ACCOUNT_MANAGER})

# Page groups and the roles that may open them.
CAMPAIGN_READERS = frozenset({Role.CAMPAIGN_MANAGER, Role.SUPERVISOR, Role.DATA_ADMIN})
CAMPAIGN_EDITORS = frozenset({Role.CAMPAIGN_MANAGER})
ASSIGNERS = frozenset({Role.SUPERVISOR, Role.CAMPAIGN_MANAGER})
KPI_READERS = frozenset({Role.SUPERVISOR, Role.CAMPAIGN_MANAGER})
DESK_USERS = frozenset({Role.AGENT})
# Customer data (issue 4): who reads customers, imports files, edits segments, loads lists.
CUSTOMER_READERS = frozenset(
    {Role.DATA_ADMIN, Role.CAMPAIGN_MANAGER, Role.SUPERVISOR, Role.ACCOUNT_MANAGER}
)
IMPORTERS = frozenset({Role.DATA_ADMIN})
SEGMENT_EDITORS = frozenset({Role.DATA_ADMIN, Role.CAMPAIGN_MANAGER})
LIST_LOADERS = frozenset({Role.CAMPAIGN_MANAGER, Role.DATA_ADMIN})


def client_ids_for(user: User) -> list[int]:
    """The clients whose data ``user`` may see (operators see all)."""
    if user.is_superuser:
        from calldeck.accounts.models import Client

        return list(Client.objects.values_list("pk", flat=True))
    return list(user.clients.values_list("pk", flat=True))


def current_team_ids(user: User, day: Any = None) -> list[int]:
    day = day or timezone.localdate()
    return list(
        user.memberships.filter(valid_from__lte=day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        .values_list("team_id", flat=True)
    )


def has_role(user: User, roles: frozenset[Role] | set[Role]) -> bool:
    return user.is_authenticated and (user.role in roles or user.is_superuser)


F = TypeVar("F", bound=Callable[..., HttpResponse])


def role_required(roles: frozenset[Role]) -> Callable[[F], F]:
    """Login required, then 403 unless the user has one of ``roles``."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not isinstance(user, User) or not has_role(user, roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)  # type: ignore[return-value]

    return decorator


def mask_number(e164: str) -> str:
    """138****8000 for a mainland mobile; keep the first 3 and last 4 national digits."""
    if not e164:
        return ""
    try:
        parsed = phonenumbers.parse(e164, None)
        digits = str(parsed.national_number)
        if parsed.country_code != 86:
            digits = f"+{parsed.country_code} {digits}"
    except phonenumbers.NumberParseException:
        digits = e164.lstrip("+")
    if len(digits) <= 7:
        return digits[:2] + "*" * max(0, len(digits) - 4) + digits[-2:]
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def national_format(e164: str) -> str:
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.NATIONAL
        )
    except phonenumbers.NumberParseException:
        return e164


def sees_full_numbers(user: User) -> bool:
    return user.is_superuser or user.role in FULL_NUMBER_ROLES


def number_for_user(user: User, e164: str) -> str:
    return national_format(e164) if sees_full_numbers(user) else mask_number(e164)


def scoped(qs: QuerySet[Any], user: User, field: str = "client_id") -> QuerySet[Any]:
    """Restrict any client-owned queryset to the clients granted to ``user``."""
    return qs.filter(**{f"{field}__in": client_ids_for(user)})
