"""Segment pages: list with counts, detail, the editor with its live count, delete.

Every segment is fetched through ``segment_selectors.segment_get_for_user`` (404 outside
the user's clients) and every change goes through ``segment_services``.

The editor posts its conditions as rows: ``row`` lists the row ids in order and row
``r`` sends ``c<r>-field``, ``c<r>-key`` (the attribute name), ``c<r>-op``, ``c<r>-value``
(repeated for several choices) and ``c<r>-from`` / ``c<r>-to`` (ranges). The buttons
that add or remove a row, and a change of field or op, post the form with an ``action``
and get back only the conditions (htmx) or the whole page re-rendered (no JavaScript);
only ``save`` saves. Value inputs post the form to the count endpoint, debounced, which
answers the count and a sample, or the validation messages instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from calldeck.accounts import access
from calldeck.accounts.models import Client, User
from calldeck.customers import segment_selectors as selectors
from calldeck.customers import segment_services as services
from calldeck.customers.models import Segment
from calldeck.customers.segment_fields import (
    AGE_RANGE,
    ATTRIBUTE_PREFIX,
    BOOL,
    CHOICES,
    DATE_RANGE,
    DAYS,
    FIELDS,
    KIND_ATTRIBUTE,
    KIND_LABELS,
    MONTHS,
    NONE,
    TEXT_LIST,
    FieldSpec,
    field_get,
)
from calldeck.customers.segments import rules_customers, rules_describe, rules_validate


class AuthenticatedHttpRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


SEGMENT_CREATED = _("Segment “%(name)s” created.")
SEGMENT_SAVED = _("Segment saved.")
SEGMENT_DELETED = _("Segment “%(name)s” deleted.")
NO_CLIENT = _("Choose the client first.")

# The picker's entry for free attributes; the attribute's name goes in ``c<r>-key``.
ATTRIBUTE_CHOICE = "attr"
# Texts in one box: split on commas, 、, semicolons and new lines (Chinese or Latin).
LIST_SEPARATORS = re.compile(r"[,，、;；\n]+")
DEFAULT_VALUES = {BOOL: "yes", DAYS: "30"}
MONTH_CHOICES = [(str(m), str(m)) for m in range(1, 13)]
ROW_ID = re.compile(r"\d{1,4}")


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)


# --- the condition rows --------------------------------------------------------------


@dataclass
class Row:
    """One condition as the editor shows it: what was chosen and what was typed."""

    id: int
    field: str  # a catalogue name, or ATTRIBUTE_CHOICE
    key: str = ""
    op: str = ""
    values: list[str] = dataclass_field(default_factory=list)
    low: str = ""
    high: str = ""

    @property
    def spec(self) -> FieldSpec | None:
        if self.field == ATTRIBUTE_CHOICE:
            return field_get(f"{ATTRIBUTE_PREFIX}{self.key or '?'}")
        return FIELDS.get(self.field)

    @property
    def ops(self) -> list[tuple[str, str]]:
        spec = self.spec
        return [(op, spec.op_label(op)) for op in spec.ops] if spec else []

    @property
    def widget(self) -> str:
        spec = self.spec
        return spec.widget_for(self.op) if spec else NONE

    @property
    def text(self) -> str:
        return next(iter(self.values), "")

    def rule(self) -> dict[str, Any]:
        """The raw condition this row stands for, as ``rules_validate`` takes it."""
        name = f"{ATTRIBUTE_PREFIX}{self.key}" if self.field == ATTRIBUTE_CHOICE else self.field
        widget = self.widget
        value: Any
        if widget in (CHOICES, MONTHS):
            value = list(self.values)
        elif widget == TEXT_LIST:
            value = [v for v in LIST_SEPARATORS.split(self.text) if v.strip()]
        elif widget in (AGE_RANGE, DATE_RANGE):
            value = [self.low, self.high]
        elif widget == BOOL:
            value = {"yes": True, "no": False}.get(self.text)
        elif widget == NONE:
            value = None
        else:
            value = self.text
        return {"field": name, "op": self.op, "value": value}


def _row_from_rule(row_id: int, rule: dict[str, Any]) -> Row:
    name, op, value = rule["field"], rule["op"], rule["value"]
    row = Row(id=row_id, field=name, op=op)
    if name.startswith(ATTRIBUTE_PREFIX):
        row.field, row.key = ATTRIBUTE_CHOICE, name[len(ATTRIBUTE_PREFIX) :]
    widget = row.widget
    if widget in (AGE_RANGE, DATE_RANGE):
        row.low, row.high = (str(v) for v in value)
    elif widget == BOOL:
        row.values = ["yes" if value else "no"]
    elif widget == TEXT_LIST:
        row.values = ["、".join(value)]
    elif isinstance(value, list):
        row.values = [str(v) for v in value]
    elif value is not None:
        row.values = [str(value)]
    return row


def _new_row(row_id: int, field_name: str, key: str = "") -> Row:
    row = Row(id=row_id, field=field_name, key=key)
    spec = row.spec
    if spec is not None:
        row.op = spec.ops[0]
        default = DEFAULT_VALUES.get(row.widget)
        row.values = [default] if default else []
    return row


def _rows_from_post(data: QueryDict) -> list[Row]:
    rows = []
    for raw_id in data.getlist("row"):
        if not ROW_ID.fullmatch(raw_id):
            continue
        p = f"c{raw_id}-"
        row = Row(
            id=int(raw_id),
            field=data.get(f"{p}field", ""),
            key=data.get(f"{p}key", "").strip(),
            op=data.get(f"{p}op", ""),
            values=data.getlist(f"{p}value"),
            low=data.get(f"{p}from", "").strip(),
            high=data.get(f"{p}to", "").strip(),
        )
        spec = row.spec
        if data.get(f"{p}was", row.field) != row.field or (spec and row.op not in spec.ops):
            # The field was just changed: its first op, its default value.
            row = _new_row(row.id, row.field, row.key)
        rows.append(row)
    return rows


def _rows_act(rows: list[Row], action: str, data: QueryDict) -> list[Row]:
    """The rows after an editor action (add a condition, remove one)."""
    if action == "add":
        name = data.get("add_field", "")
        if name == ATTRIBUTE_CHOICE or name in FIELDS:
            return [*rows, _new_row(max((r.id for r in rows), default=0) + 1, name)]
    elif action.startswith("remove-"):
        return [r for r in rows if str(r.id) != action.removeprefix("remove-")]
    return rows


def _field_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The field picker: catalogue fields by kind, with free attributes as one entry."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for spec in FIELDS.values():
        groups.setdefault(spec.kind, []).append((spec.name, str(spec.label)))
    groups[KIND_ATTRIBUTE] = [(ATTRIBUTE_CHOICE, str(_("Attribute…")))]
    return [(str(KIND_LABELS[kind]), groups[kind]) for kind in KIND_LABELS if kind in groups]


# --- count and sample ----------------------------------------------------------------


def _count_context(user: User, client_id: int | None, raw_rules: list[Any]) -> dict[str, Any]:
    """The count and sample of the rules for the client, or why they cannot be counted."""
    if client_id is None:
        return {"count_errors": [str(NO_CLIENT)]}
    try:
        rules = rules_validate(raw_rules, client_id=client_id)
    except ValidationError as exc:
        return {"count_errors": exc.messages}
    customers = rules_customers(client_id=client_id, rules=rules)
    count = customers.count()
    sample = []
    # With no match the sample would read the whole client a second time for nothing.
    for customer in selectors.customers_sample(customers) if count else []:
        phones = list(customer.phones.all())
        sample.append(
            {
                "name": customer.name,
                "key": customer.customer_key,
                "city": customer.city,
                "tier": customer.get_value_tier_display(),
                "number": access.number_for_user(user, phones[0].e164) if phones else "",
            }
        )
    return {"count": count, "sample": sample}


@access.role_required(access.SEGMENT_EDITORS)
@require_POST
def segment_count(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The live count of the editor's unsaved conditions (htmx, debounced)."""
    raw = request.POST.get("client", "")
    client_id = int(raw) if raw.isdigit() else None
    if client_id is not None and client_id not in access.client_ids_for(request.user):
        raise Http404
    rules = [row.rule() for row in _rows_from_post(request.POST)]
    context = {"live": True, **_count_context(request.user, client_id, rules)}
    return render(request, "customers/segments/_count.html", context)


# --- list and detail -----------------------------------------------------------------


def _rules_words(segment: Segment) -> tuple[list[str], list[str]]:
    """The segment's conditions in words, or the reasons they are no longer valid."""
    try:
        rules = rules_validate(segment.rules)
    except ValidationError as exc:
        return [], exc.messages
    return rules_describe(rules, client_id=segment.client_id), []


@access.role_required(access.CUSTOMER_READERS)
@require_GET
def segment_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    segments = selectors.segments_for_user(user).select_related("client")
    rows = []
    for segment in segments.order_by("client__name", "name"):
        words, errors = _rules_words(segment)
        count = None
        if not errors:
            count = rules_customers(client_id=segment.client_id, rules=segment.rules).count()
        rows.append({"segment": segment, "conditions": words, "errors": errors, "count": count})
    return render(
        request,
        "customers/segments/list.html",
        {
            "rows": rows,
            "can_create": access.has_role(user, access.SEGMENT_EDITORS),
            "many_clients": len(access.client_ids_for(user)) > 1,
        },
    )


@access.role_required(access.CUSTOMER_READERS)
@require_GET
def segment_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    segment = selectors.segment_get_for_user(user, pk)
    words, errors = _rules_words(segment)
    count = _count_context(user, segment.client_id, segment.rules) if not errors else {}
    return render(
        request,
        "customers/segments/detail.html",
        {
            "segment": segment,
            "conditions": words,
            "rules_errors": errors,
            "can_edit": services.segment_may_edit(user, segment),
            **count,
        },
    )


# --- editor --------------------------------------------------------------------------


def _clients_for_create(user: User) -> list[Client]:
    return list(Client.objects.filter(pk__in=access.client_ids_for(user), is_active=True))


def _client_for_create(request: AuthenticatedHttpRequest, clients: list[Client]) -> Client | None:
    """The client a new segment is for: chosen, asked for in the URL, or the only one."""
    raw = request.POST.get("client") or request.GET.get("client") or ""
    for client in clients:
        if str(client.pk) == raw:
            return client
    return clients[0] if len(clients) == 1 else None


def _service_errors(form: SegmentForm, exc: ValidationError) -> list[str]:
    """Put a service's errors on the form; return those about the conditions."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return []
    rules_errors: list[str] = []
    for name, errors in exc.message_dict.items():
        if name == "rules":
            rules_errors.extend(errors)
        elif name in form.fields:
            form.add_error(name, errors)
        else:
            form.add_error(None, errors)
    return rules_errors


def _editor(
    request: AuthenticatedHttpRequest,
    *,
    segment: Segment | None,
    client: Client | None,
    clients: list[Client],
    form: SegmentForm,
    rows: list[Row],
    rules_errors: list[str] | None = None,
    status: int = 200,
    partial: str = "",
) -> HttpResponse:
    client_id = client.pk if client else None
    context = {
        "segment": segment,
        "form": form,
        "client": client,
        "clients": clients,
        "rows": rows,
        "rules_errors": rules_errors or [],
        "field_groups": _field_groups(),
        "month_choices": MONTH_CHOICES,
        "offers": selectors.offers_for_client(client_id) if client_id else [],
        "campaigns": selectors.campaigns_for_client(client_id) if client_id else [],
        "attribute_keys": selectors.attribute_keys(client_id) if client_id else [],
        "form_url": request.path,
        "live": True,
    }
    if partial:
        response = render(request, f"customers/segments/form.html#{partial}", context)
        # The conditions changed shape: once they are in the page, the count panel asks
        # for a fresh count (a plain HX-Trigger would fire before the swap).
        response["HX-Trigger-After-Settle"] = "segment-changed"
        return response
    context.update(_count_context(request.user, client_id, [row.rule() for row in rows]))
    return render(request, "customers/segments/form.html", context, status=status)


def _editor_post(
    request: AuthenticatedHttpRequest,
    *,
    segment: Segment | None,
    client: Client | None,
    clients: list[Client],
) -> HttpResponse:
    user = request.user
    rows = _rows_from_post(request.POST)
    action = request.POST.get("action", "save")
    form = SegmentForm(request.POST)
    if action != "save":
        rows = _rows_act(rows, action, request.POST)
        partial = "conditions" if request.htmx else ""
        return _editor(
            request,
            segment=segment,
            client=client,
            clients=clients,
            form=form,
            rows=rows,
            partial=partial,
        )
    if client is None:
        form.add_error(None, str(NO_CLIENT))
    rules_errors: list[str] = []
    if form.is_valid() and client is not None:
        fields = {
            "name": form.cleaned_data["name"],
            "description": form.cleaned_data["description"],
            "rules": [row.rule() for row in rows],
        }
        try:
            if segment is None:
                segment = services.segment_create(actor=user, client=client, **fields)
                messages.success(request, SEGMENT_CREATED % {"name": segment.name})
            else:
                services.segment_update(actor=user, segment=segment, **fields)
                messages.success(request, SEGMENT_SAVED)
        except ValidationError as exc:
            rules_errors = _service_errors(form, exc)
        else:
            return redirect("calldeck-segment-detail", pk=segment.pk)
    return _editor(
        request,
        segment=segment,
        client=client,
        clients=clients,
        form=form,
        rows=rows,
        rules_errors=rules_errors,
        status=422,
    )


@access.role_required(access.SEGMENT_EDITORS)
@require_http_methods(["GET", "POST"])
def segment_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    clients = _clients_for_create(request.user)
    client = _client_for_create(request, clients)
    if request.method == "POST":
        return _editor_post(request, segment=None, client=client, clients=clients)
    rows: list[Row] = []
    return _editor(
        request, segment=None, client=client, clients=clients, form=SegmentForm(), rows=rows
    )


@access.role_required(access.SEGMENT_EDITORS)
@require_http_methods(["GET", "POST"])
def segment_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    segment = selectors.segment_get_for_user(request.user, pk)
    if request.method == "POST":
        return _editor_post(request, segment=segment, client=segment.client, clients=[])
    rows = [_row_from_rule(n, rule) for n, rule in enumerate(segment.rules, start=1)]
    form = SegmentForm(initial={"name": segment.name, "description": segment.description})
    return _editor(
        request, segment=segment, client=segment.client, clients=[], form=form, rows=rows
    )


@access.role_required(access.SEGMENT_EDITORS)
@require_http_methods(["GET", "POST"])
def segment_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    segment = selectors.segment_get_for_user(request.user, pk)
    if request.method == "POST":
        try:
            services.segment_delete(actor=request.user, segment=segment)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("calldeck-segment-detail", pk=segment.pk)
        messages.success(request, SEGMENT_DELETED % {"name": segment.name})
        return redirect("calldeck-segments")
    return render(
        request,
        "customers/segments/delete.html",
        {"segment": segment, "used_by": services.segment_users(segment)},
    )
