"""Changes to campaigns: settings, status, calling windows and retry rules.

Theory of operation of the campaign status (the table is ``CAMPAIGN_TRANSITIONS``):

A draft is being prepared and is never dialed. It goes to pilot, which dials a small
sample so the plan can be checked against its targets, or straight to active. A pilot
goes on to active, or back to draft when it shows the plan needs work. Active and paused
swap freely: pausing keeps leads, windows and assignments in place. Either ends in
completed, which stops dialing for good and starts the retention clock; completed goes
to archived, which hides the campaign from the everyday lists and freezes it.

Only pilot and active campaigns are dialed (``DIALABLE_STATUSES``). Entering either
needs at least one calling window and an end date not yet passed: a campaign that may
never call is a set-up mistake, not a plan. Stopping is never blocked.

Every service takes the acting user, refuses with ``PermissionDenied`` when the actor's
role or clients do not allow the change, raises ``ValidationError`` naming the field on
bad input, runs in one transaction and writes one audit entry with the changed fields.
Changes to an existing campaign, and assignments to it (``assignments``), first take
the campaign's row lock (``_lock``), so two editors' changes queue instead of
interleaving.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calldeck.accounts import access
from calldeck.accounts.models import Client, Role, User
from calldeck.audit.services import audit_record
from calldeck.campaigns.defaults import (
    disposition_set_create_standard,
    retry_rules_create_standard,
)
from calldeck.campaigns.models import (
    DIALABLE_STATUSES,
    PREVIEW_FIELD_CHOICES,
    CallingWindow,
    Campaign,
    CampaignStatus,
    RetryOutcome,
    RetryRule,
    Weekday,
)

S = CampaignStatus

# Allowed moves: from status → the statuses it may go to.
CAMPAIGN_TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.PILOT, S.ACTIVE}),
    S.PILOT: frozenset({S.ACTIVE, S.DRAFT}),
    S.ACTIVE: frozenset({S.PAUSED, S.COMPLETED}),
    S.PAUSED: frozenset({S.ACTIVE, S.COMPLETED}),
    S.COMPLETED: frozenset({S.ARCHIVED}),
    S.ARCHIVED: frozenset(),
}

# Fields a campaign manager sets on create and edit; status moves only by transition and
# the client is fixed at creation (its leads and offer belong to that client).
CAMPAIGN_FIELDS = (
    "name",
    "description",
    "kind",
    "dial_mode",
    "offer",
    "script",
    "disposition_set",
    "preview_fields",
    "starts_on",
    "ends_on",
    "max_attempts",
    "abandon_cap_pct",
    "abandon_target_pct",
    "abandon_window",
    "connect_limit_s",
    "ring_timeout_s",
    "target_success_rate_pct",
    "target_sales",
    "target_revenue",
    "cost_agent_hour",
    "cost_talk_minute",
    "cost_message",
    "cost_list",
    "cost_fixed",
    "retention_days",
    "recording_retention_days",
)

# Calling windows a new campaign starts with: (weekday, from, until), local time.
DEFAULT_WINDOWS: tuple[tuple[int, dt.time, dt.time], ...] = tuple(
    (day, dt.time(9, 0), dt.time(20, 0)) for day in range(Weekday.MONDAY, Weekday.SATURDAY)
) + tuple((day, dt.time(10, 0), dt.time(18, 0)) for day in (Weekday.SATURDAY, Weekday.SUNDAY))

# A retry later than this is a typo, not a plan.
MAX_RETRY_MINUTES = 30 * 24 * 60

NOT_ALLOWED = _("Your role or clients do not allow this change.")
TRANSITION_REFUSED = _("A campaign cannot go from “%(from)s” to “%(to)s”.")
NO_WINDOWS = _("Add at least one calling window before the campaign goes to “%(to)s”.")
ENDED_ALREADY = _("The campaign ended on %(date)s; move its end date before it goes to “%(to)s”.")
ENDS_BEFORE_START = _("The end date must not be before the start date.")
TARGET_OVER_CAP = _("The abandon rate target must not be above the cap.")
OTHER_CLIENT = _("This belongs to another client.")
CLIENT_INACTIVE = _("This client is no longer active.")
UNKNOWN_PREVIEW_FIELD = _("Unknown field on preview: %(field)s.")
ARCHIVED_READ_ONLY = _("An archived campaign cannot be changed.")
WINDOW_BAD_WEEKDAY = _("Unknown weekday: %(weekday)s.")
WINDOW_END_BEFORE_START = _("%(weekday)s: the window must end after it starts (%(start)s–%(end)s).")
WINDOW_OVERLAP = _("%(weekday)s: the windows %(first)s and %(second)s overlap.")
WINDOWS_REQUIRED = _("A campaign in status “%(status)s” needs at least one calling window.")
RETRY_UNKNOWN_OUTCOME = _("Unknown retry outcome: %(outcome)s.")
RETRY_OUT_OF_RANGE = _("Retry after must be between 1 and %(max)s minutes.")

WindowSpec = tuple[int, dt.time, dt.time]


# --- permissions ---------------------------------------------------------------------


def _require(actor: User, roles: frozenset[Role], client_id: int) -> None:
    if not access.has_role(actor, roles) or client_id not in access.client_ids_for(actor):
        raise PermissionDenied(NOT_ALLOWED)


def campaign_may_edit(actor: User, campaign: Campaign) -> bool:
    """Whether ``actor`` may change ``campaign``'s settings and status (for page buttons)."""
    return (
        campaign.status != S.ARCHIVED
        and access.has_role(actor, access.CAMPAIGN_EDITORS)
        and campaign.client_id in access.client_ids_for(actor)
    )


# --- helpers -------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    """A value as the audit log stores it: model rows by primary key, numbers as text."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _check_fields(fields: Mapping[str, Any], service: str) -> None:
    unknown = set(fields) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise TypeError(f"{service}() got fields it does not set: {', '.join(sorted(unknown))}")


def _lock(campaign: Campaign) -> Campaign:
    """A fresh copy of ``campaign`` holding its row lock until the transaction ends."""
    return Campaign.objects.select_for_update().select_related("client").get(pk=campaign.pk)


def _refuse_archived(campaign: Campaign) -> None:
    if campaign.status == S.ARCHIVED:
        raise ValidationError(ARCHIVED_READ_ONLY, code="archived")


def _campaign_validate(campaign: Campaign, *, exclude: tuple[str, ...] = ()) -> None:
    """Field rules and the rules across fields, all reported at once, keyed by field."""
    errors: dict[str, list[ValidationError]] = {}

    def add(field: str, error: ValidationError) -> None:
        errors.setdefault(field, []).append(error)

    try:
        # The two check constraints are tested below with messages naming the field.
        campaign.full_clean(exclude=exclude, validate_constraints=False, validate_unique=False)
    except ValidationError as exc:
        for field, field_errors in exc.error_dict.items():
            errors.setdefault(field, []).extend(field_errors)

    # Compared only once both sides passed their own field checks (and are dates, numbers).
    if not errors.keys() & {"starts_on", "ends_on"}:
        starts, ends = campaign.starts_on, campaign.ends_on
        if starts and ends and ends < starts:
            add("ends_on", ValidationError(ENDS_BEFORE_START, code="dates_ordered"))
    if (
        not errors.keys() & {"abandon_cap_pct", "abandon_target_pct"}
        and campaign.abandon_target_pct > campaign.abandon_cap_pct
    ):
        add("abandon_target_pct", ValidationError(TARGET_OVER_CAP, code="target_over_cap"))
    for field in ("offer", "script", "disposition_set"):
        if field in exclude or not getattr(campaign, f"{field}_id"):
            continue
        related = getattr(campaign, field)
        if related.client_id != campaign.client_id:
            add(field, ValidationError(OTHER_CLIENT, code="other_client"))
    preview = campaign.preview_fields
    allowed = [name for name, _label in PREVIEW_FIELD_CHOICES]
    if not isinstance(preview, list):
        add("preview_fields", ValidationError(UNKNOWN_PREVIEW_FIELD, params={"field": preview}))
    else:
        for name in preview:
            if name not in allowed:
                add(
                    "preview_fields",
                    ValidationError(
                        UNKNOWN_PREVIEW_FIELD, code="unknown_field", params={"field": name}
                    ),
                )
        if "preview_fields" not in errors:
            # Shown on the preview in the catalogue's order, each once.
            campaign.preview_fields = [name for name in allowed if name in preview]
    if errors:
        raise ValidationError(errors)


def _windows_validate(windows: Iterable[WindowSpec]) -> list[WindowSpec]:
    """The windows sorted by weekday and start; ValidationError keyed ``windows`` if bad."""
    problems: list[ValidationError] = []
    valid: list[WindowSpec] = []
    for weekday, start, end in windows:
        if weekday not in Weekday.values:
            problems.append(ValidationError(WINDOW_BAD_WEEKDAY, params={"weekday": weekday}))
            continue
        if end <= start:
            problems.append(
                ValidationError(
                    WINDOW_END_BEFORE_START,
                    code="window_ordered",
                    params={
                        "weekday": Weekday(weekday).label,
                        "start": f"{start:%H:%M}",
                        "end": f"{end:%H:%M}",
                    },
                )
            )
            continue
        valid.append((weekday, start, end))
    valid.sort()
    for (day_a, start_a, end_a), (day_b, start_b, end_b) in itertools.pairwise(valid):
        if day_a == day_b and start_b < end_a:
            problems.append(
                ValidationError(
                    WINDOW_OVERLAP,
                    code="window_overlap",
                    params={
                        "weekday": Weekday(day_a).label,
                        "first": f"{start_a:%H:%M}–{end_a:%H:%M}",
                        "second": f"{start_b:%H:%M}–{end_b:%H:%M}",
                    },
                )
            )
    if problems:
        raise ValidationError({"windows": problems})
    return valid


def _windows_describe(windows: Iterable[WindowSpec]) -> list[str]:
    return [f"{weekday} {start:%H:%M:%S}-{end:%H:%M:%S}" for weekday, start, end in windows]


def _windows_write(campaign: Campaign, windows: list[WindowSpec]) -> None:
    CallingWindow.objects.bulk_create(
        CallingWindow(campaign=campaign, weekday=weekday, start=start, end=end)
        for weekday, start, end in windows
    )


# --- campaigns -----------------------------------------------------------------------


@transaction.atomic
def campaign_create(
    *,
    actor: User,
    client: Client,
    windows: Iterable[WindowSpec] | None = None,
    **fields: Any,
) -> Campaign:
    """A new draft campaign of ``client``.

    Without a disposition set it gets a fresh copy of the standard one (so editing its
    outcomes never changes another campaign's); it always gets the standard retry rules,
    and ``windows`` or the default calling windows (Mon–Fri 09:00–20:00, Sat–Sun
    10:00–18:00).
    """
    _check_fields(fields, "campaign_create")
    _require(actor, access.CAMPAIGN_EDITORS, client.pk)
    if not client.is_active:
        raise ValidationError({NON_FIELD_ERRORS: [ValidationError(CLIENT_INACTIVE)]})
    window_list = _windows_validate(DEFAULT_WINDOWS if windows is None else windows)

    now = timezone.now()
    campaign = Campaign(client=client, created_by=actor, created_at=now, updated_at=now)
    for name, value in fields.items():
        setattr(campaign, name, value)
    if fields.get("disposition_set") is None:
        # Validated before the set exists, so that bad input leaves no orphan set behind.
        _campaign_validate(campaign, exclude=("disposition_set",))
        campaign.disposition_set = disposition_set_create_standard(client=client)
    else:
        _campaign_validate(campaign)
    campaign.save()
    retry_rules_create_standard(campaign=campaign)
    _windows_write(campaign, window_list)

    changes = {name: _jsonable(getattr(campaign, name)) for name in CAMPAIGN_FIELDS}
    changes.update(
        client=client.pk,
        status=campaign.status,
        windows=_windows_describe(window_list),
    )
    audit_record(actor=actor, action="campaign.create", obj=campaign, changes=changes)
    return campaign


@transaction.atomic
def campaign_update(*, actor: User, campaign: Campaign, **fields: Any) -> Campaign:
    """Change the given settings; the audit entry records [old, new] of each changed one."""
    _check_fields(fields, "campaign_update")
    _require(actor, access.CAMPAIGN_EDITORS, campaign.client_id)
    campaign = _lock(campaign)
    _refuse_archived(campaign)

    before = {name: getattr(campaign, name) for name in fields}
    for name, value in fields.items():
        setattr(campaign, name, value)
    _campaign_validate(campaign)
    # Compared as values, not as audit text: Decimal("3") and Decimal("3.00") are equal.
    changes = {
        name: [_jsonable(before[name]), _jsonable(getattr(campaign, name))]
        for name in fields
        if before[name] != getattr(campaign, name)
    }
    if not changes:
        return campaign
    campaign.updated_at = timezone.now()
    campaign.save(update_fields=[*changes, "updated_at"])
    audit_record(actor=actor, action="campaign.update", obj=campaign, changes=changes)
    return campaign


def campaign_next_statuses(campaign: Campaign) -> list[str]:
    """The statuses ``campaign`` may move to, in the order of the status list."""
    allowed = CAMPAIGN_TRANSITIONS.get(campaign.status, frozenset())
    return [status for status in CampaignStatus.values if status in allowed]


@transaction.atomic
def campaign_transition(*, actor: User, campaign: Campaign, to_status: str) -> Campaign:
    """Move the campaign to ``to_status`` if the transition table allows it."""
    _require(actor, access.CAMPAIGN_EDITORS, campaign.client_id)
    campaign = _lock(campaign)
    from_status = campaign.status
    labels = dict(CampaignStatus.choices)
    if to_status not in CAMPAIGN_TRANSITIONS.get(from_status, frozenset()):
        raise ValidationError(
            {
                "status": ValidationError(
                    TRANSITION_REFUSED,
                    code="transition_refused",
                    params={
                        "from": labels.get(from_status, from_status),
                        "to": labels.get(to_status, to_status),
                    },
                )
            }
        )
    if to_status in DIALABLE_STATUSES:
        params = {"to": labels[to_status]}
        if not campaign.windows.exists():
            raise ValidationError(
                {"status": ValidationError(NO_WINDOWS, code="no_windows", params=params)}
            )
        if campaign.ends_on and campaign.ends_on < timezone.localdate():
            raise ValidationError(
                {
                    "status": ValidationError(
                        ENDED_ALREADY,
                        code="ended",
                        params={**params, "date": campaign.ends_on.isoformat()},
                    )
                }
            )

    if to_status == S.ACTIVE:
        # Going live ends the pilot: the list waiting for the roll-out is dialed too.
        from calldeck.campaigns.lists import pilot_roll_out

        pilot_roll_out(actor=actor, campaign=campaign)

    campaign.status = to_status
    campaign.updated_at = timezone.now()
    campaign.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="campaign.transition",
        obj=campaign,
        changes={"status": [from_status, to_status]},
    )
    return campaign


@transaction.atomic
def calling_windows_replace(
    *, actor: User, campaign: Campaign, windows: Iterable[WindowSpec]
) -> Campaign:
    """Replace all calling windows of the campaign by ``windows`` (weekday, from, until)."""
    _require(actor, access.CAMPAIGN_EDITORS, campaign.client_id)
    campaign = _lock(campaign)
    _refuse_archived(campaign)
    new = _windows_validate(windows)
    if not new and campaign.status in DIALABLE_STATUSES:
        raise ValidationError(
            {
                "windows": ValidationError(
                    WINDOWS_REQUIRED,
                    code="windows_required",
                    params={"status": campaign.get_status_display()},
                )
            }
        )
    old = [(w.weekday, w.start, w.end) for w in campaign.windows.order_by("weekday", "start")]
    if old == new:
        return campaign
    campaign.windows.all().delete()
    _windows_write(campaign, new)
    audit_record(
        actor=actor,
        action="campaign.windows",
        obj=campaign,
        changes={"windows": [_windows_describe(old), _windows_describe(new)]},
    )
    return campaign


@transaction.atomic
def retry_rules_update(
    *, actor: User, campaign: Campaign, minutes_by_outcome: Mapping[str, int]
) -> Campaign:
    """Set the retry delay of the given outcomes; outcomes not given keep theirs."""
    _require(actor, access.CAMPAIGN_EDITORS, campaign.client_id)
    campaign = _lock(campaign)
    _refuse_archived(campaign)
    problems: dict[str, list[ValidationError]] = {}
    for outcome, minutes in minutes_by_outcome.items():
        if outcome not in RetryOutcome.values:
            problems.setdefault(NON_FIELD_ERRORS, []).append(
                ValidationError(RETRY_UNKNOWN_OUTCOME, params={"outcome": outcome})
            )
        elif not isinstance(minutes, int) or not 1 <= minutes <= MAX_RETRY_MINUTES:
            problems.setdefault(outcome, []).append(
                ValidationError(
                    RETRY_OUT_OF_RANGE, code="out_of_range", params={"max": MAX_RETRY_MINUTES}
                )
            )
    if problems:
        raise ValidationError(problems)

    current = {rule.outcome: rule for rule in campaign.retry_rules.all()}
    changes: dict[str, list[int | None]] = {}
    for outcome, minutes in minutes_by_outcome.items():
        rule = current.get(outcome)
        if rule is None:
            rule = RetryRule(campaign=campaign, outcome=outcome, delay_minutes=minutes)
            changes[outcome] = [None, minutes]
        elif rule.delay_minutes != minutes:
            changes[outcome] = [rule.delay_minutes, minutes]
            rule.delay_minutes = minutes
        else:
            continue
        rule.full_clean()
        rule.save()
    if changes:
        audit_record(actor=actor, action="campaign.retry_rules", obj=campaign, changes=changes)
    return campaign
