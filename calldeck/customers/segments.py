"""Customer segments (客户细分): the rule language, its validation and evaluation.

Theory of operation. A segment's ``rules`` are a list of conditions, all of which must
hold: ``[{"field": "city", "op": "in", "value": ["北京", "上海"]}, ...]``; no conditions
means every customer of the client. The fields, the ops each allows and the widget each
op takes its value with are the catalogue in ``segment_fields``; free attributes are the
one open family, ``attr:<key>`` reading ``Customer.attributes[key]``.

``rules_validate`` checks a whole list and returns it cleaned (typed values, lists
deduplicated, dates as ISO text), or raises ``ValidationError`` with one message per
problem, each naming its condition by position (1-based). Evaluation only ever sees
cleaned rules: ``rules_customers`` validates first.

Every condition is a filter on the customer row itself or a subquery (``Exists()``, or
``IN`` when one set serves every customer) on its numbers, holdings, calls, sales or
blocks, so a segment is one SELECT whatever its conditions, no join repeats a customer,
and nothing needs ``DISTINCT``. Ages become bounds on the birthday (from today in the
centre's time zone), so the database compares dates; "called in the last N days" means a
call dialed at or after now minus N × 24 hours.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from calldeck.campaigns.models import Campaign, Offer
from calldeck.customers.models import Customer, Segment
from calldeck.customers.segment_fields import (
    AGE_RANGE,
    ATTRIBUTE_PREFIX,
    BOOL,
    CAMPAIGN,
    CHOICES,
    DATE,
    DATE_RANGE,
    DAYS,
    FIELDS,
    MAX_ATTRIBUTE_KEY,
    MONTHS,
    NONE,
    OFFER,
    SENTENCE,
    TEXT,
    TEXT_LIST,
    FieldSpec,
    When,
    field_get,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise as Label

MAX_CONDITIONS = 30
MAX_LIST = 1000
MAX_TEXT = 100
MAX_AGE = 150
MAX_DAYS = 3650

RULES_NOT_LIST = _("The conditions must be a list.")
TOO_MANY = _("A segment has at most %(max)s conditions.")
NOT_A_CONDITION = _("Condition %(n)s: expected a field, an op and a value.")
UNKNOWN_FIELD = _("Condition %(n)s: unknown field “%(field)s”.")
ATTRIBUTE_KEY_MISSING = _("Condition %(n)s: name the attribute.")
ATTRIBUTE_KEY_BAD = _(
    "Condition %(n)s: the attribute name “%(key)s” cannot be searched: it must not be a "
    'number, hold a " or a \\, or pass %(max)s characters.'
)
OP_NOT_ALLOWED = _("Condition %(n)s (%(field)s): “%(op)s” is not allowed here; use %(ops)s.")
BAD_VALUE = _("Condition %(n)s (%(field)s): %(problem)s")
NO_SUCH_CAMPAIGN = _("Condition %(n)s (%(field)s): this client has no such campaign.")
NO_SUCH_OFFER = _("Condition %(n)s (%(field)s): this client has no offer “%(code)s”.")

CHOOSE_SOME = _("choose at least one value.")
NOT_A_CHOICE = _("“%(value)s” is not one of the choices.")
ENTER_TEXT = _("enter a value.")
ENTER_SOME = _("enter at least one value.")
TOO_LONG = _("a value is longer than %(max)s characters.")
TOO_MANY_VALUES = _("at most %(max)s values.")
AGE_RANGE_BAD = _("enter two ages from 0 to %(max)s, the first not above the second.")
MONTHS_BAD = _("choose months from 1 to 12.")
DATE_BAD = _("enter a date as YYYY-MM-DD.")
DATE_RANGE_BAD = _("enter two dates as YYYY-MM-DD, the first not after the second.")
DAYS_BAD = _("enter a whole number of days from 1 to %(max)s.")
BOOL_BAD = _("choose yes or no.")
CAMPAIGN_BAD = _("choose a campaign.")


class _BadValue(Exception):
    def __init__(self, message: Label, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.params = dict(params or {})


def _as_int(raw: object) -> int:
    if isinstance(raw, bool):
        raise ValueError(raw)
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and re.fullmatch(r"\s*\d+\s*", raw):
        return int(raw)
    raise ValueError(raw)


def _as_date(raw: object) -> dt.date:
    if isinstance(raw, dt.datetime):
        raise ValueError(raw)
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw.strip()):
        return dt.date.fromisoformat(raw.strip())
    raise ValueError(raw)


def _items(raw: object, size: int | None = None) -> list[Any]:
    """``raw`` as a list (of ``size`` items if given); a string is not a list of letters."""
    if not isinstance(raw, list | tuple) or (size is not None and len(raw) != size):
        raise ValueError(raw)
    return list(raw)


def _texts(raw: object) -> list[str]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list | tuple):
        raise _BadValue(ENTER_SOME)
    out: list[str] = []
    for item in raw:
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise _BadValue(ENTER_SOME)
        text = str(item).strip()
        if len(text) > MAX_TEXT:
            raise _BadValue(TOO_LONG, {"max": MAX_TEXT})
        if text and text not in out:
            out.append(text)
    return out


def _clean_value(spec: FieldSpec, widget: str, raw: object) -> Any:
    """The value of a condition in its canonical form, or ``_BadValue``."""
    if widget == NONE:
        return None
    if widget == CHOICES:
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, list | tuple) or not items:
            raise _BadValue(CHOOSE_SOME)
        allowed = [value for value, _label in spec.choices]
        for item in items:
            if item not in allowed:
                raise _BadValue(NOT_A_CHOICE, {"value": item})
        return [value for value in allowed if value in items]
    if widget == TEXT_LIST:
        values = _texts(raw)
        if not values:
            raise _BadValue(ENTER_SOME)
        if len(values) > MAX_LIST:
            raise _BadValue(TOO_MANY_VALUES, {"max": MAX_LIST})
        return values
    if widget in (TEXT, OFFER):
        if not isinstance(raw, str | int) or isinstance(raw, bool) or not str(raw).strip():
            raise _BadValue(ENTER_TEXT)
        if len(str(raw).strip()) > MAX_TEXT:
            raise _BadValue(TOO_LONG, {"max": MAX_TEXT})
        return str(raw).strip()
    if widget == AGE_RANGE:
        try:
            low, high = (_as_int(v) for v in _items(raw, 2))
        except (TypeError, ValueError):
            raise _BadValue(AGE_RANGE_BAD, {"max": MAX_AGE}) from None
        if not 0 <= low <= high <= MAX_AGE:
            raise _BadValue(AGE_RANGE_BAD, {"max": MAX_AGE})
        return [low, high]
    if widget == MONTHS:
        try:
            months = sorted({_as_int(v) for v in _items(raw)})
        except (TypeError, ValueError):
            raise _BadValue(MONTHS_BAD) from None
        if not months or not all(1 <= m <= 12 for m in months):
            raise _BadValue(MONTHS_BAD)
        return months
    if widget == DATE:
        try:
            return _as_date(raw).isoformat()
        except ValueError:
            raise _BadValue(DATE_BAD) from None
    if widget == DATE_RANGE:
        try:
            start, end = (_as_date(v) for v in _items(raw, 2))
        except (TypeError, ValueError):
            raise _BadValue(DATE_RANGE_BAD) from None
        if end < start:
            raise _BadValue(DATE_RANGE_BAD)
        return [start.isoformat(), end.isoformat()]
    if widget == DAYS:
        try:
            days = _as_int(raw)
        except ValueError:
            raise _BadValue(DAYS_BAD, {"max": MAX_DAYS}) from None
        if not 1 <= days <= MAX_DAYS:
            raise _BadValue(DAYS_BAD, {"max": MAX_DAYS})
        return days
    if widget == BOOL:
        if not isinstance(raw, bool):
            raise _BadValue(BOOL_BAD)
        return raw
    if widget == CAMPAIGN:
        try:
            pk = _as_int(raw)
        except ValueError:
            raise _BadValue(CAMPAIGN_BAD) from None
        if pk < 1:
            raise _BadValue(CAMPAIGN_BAD)
        return pk
    raise AssertionError(f"no cleaner for widget {widget}")


# --- validation ----------------------------------------------------------------------


def _error(message: Label, **params: Any) -> ValidationError:
    return ValidationError(message, params=params)


def _condition_clean(n: int, condition: object) -> dict[str, Any]:
    if not isinstance(condition, dict) or not isinstance(condition.get("field"), str):
        raise _error(NOT_A_CONDITION, n=n)
    name = condition["field"]
    spec = field_get(name)
    if spec is None:
        if name.startswith(ATTRIBUTE_PREFIX):
            key = name[len(ATTRIBUTE_PREFIX) :].strip()
            if not key:
                raise _error(ATTRIBUTE_KEY_MISSING, n=n)
            raise _error(ATTRIBUTE_KEY_BAD, n=n, key=key, max=MAX_ATTRIBUTE_KEY)
        raise _error(UNKNOWN_FIELD, n=n, field=name)
    op = condition.get("op")
    if op not in spec.ops:
        ops = " / ".join(f"“{o}” ({spec.op_label(o)})" for o in spec.ops)
        raise _error(OP_NOT_ALLOWED, n=n, field=spec.label, op=op, ops=ops)
    try:
        value = _clean_value(spec, spec.widget_for(op), condition.get("value"))
    except _BadValue as bad:
        problem = bad.message % bad.params if bad.params else bad.message
        raise _error(BAD_VALUE, n=n, field=spec.label, problem=problem) from None
    return {"field": spec.name, "op": op, "value": value}


def _references_check(client_id: int, rules: list[dict[str, Any]]) -> list[ValidationError]:
    """Campaigns and offers named by the rules must be the client's own."""
    problems = []
    campaign_ids = {r["value"] for r in rules if r["field"] == "called_in_campaign"}
    offer_codes = {r["value"] for r in rules if r["field"] == "bought"}
    campaigns = set(
        Campaign.objects.filter(client_id=client_id, pk__in=campaign_ids).values_list(
            "pk", flat=True
        )
    )
    offers = set(
        Offer.objects.filter(client_id=client_id, code__in=offer_codes).values_list(
            "code", flat=True
        )
    )
    for n, rule in enumerate(rules, start=1):
        label = FIELDS[rule["field"]].label if rule["field"] in FIELDS else rule["field"]
        if rule["field"] == "called_in_campaign" and rule["value"] not in campaigns:
            problems.append(_error(NO_SUCH_CAMPAIGN, n=n, field=label))
        if rule["field"] == "bought" and rule["value"] not in offers:
            problems.append(_error(NO_SUCH_OFFER, n=n, field=label, code=rule["value"]))
    return problems


def rules_validate(rules: object, *, client_id: int | None = None) -> list[dict[str, Any]]:
    """``rules`` cleaned, or ValidationError with one message per problem found.

    Each message names the condition by its position (1-based). With ``client_id``, the
    campaigns and offers the rules name must also belong to that client.
    """
    if not isinstance(rules, list):
        raise ValidationError(RULES_NOT_LIST, code="rules_not_list")
    if len(rules) > MAX_CONDITIONS:
        raise ValidationError(TOO_MANY, code="too_many", params={"max": MAX_CONDITIONS})
    cleaned: list[dict[str, Any]] = []
    problems: list[ValidationError] = []
    for n, condition in enumerate(rules, start=1):
        try:
            cleaned.append(_condition_clean(n, condition))
        except ValidationError as exc:
            problems.append(exc)
    if not problems and client_id is not None:
        problems = _references_check(client_id, cleaned)
    if problems:
        raise ValidationError(problems)
    return cleaned


# --- evaluation ----------------------------------------------------------------------


def _when(client_id: int, now: dt.datetime | None) -> When:
    now = now or timezone.now()
    return When(client_id=client_id, now=now, today=timezone.localdate(now))


def rules_customers(
    *, client_id: int, rules: list[dict[str, Any]], now: dt.datetime | None = None
) -> QuerySet[Customer]:
    """The customers of ``client_id`` meeting every condition (validated first)."""
    when = _when(client_id, now)
    conditions = []
    for rule in rules_validate(rules):
        spec = field_get(rule["field"])
        assert spec is not None  # validated
        conditions.append(spec.build(rule["op"], rule["value"], when))
    return Customer.objects.filter(client_id=client_id).filter(*conditions)


def segment_customers(segment: Segment, *, now: dt.datetime | None = None) -> QuerySet[Customer]:
    """The customers of the segment's client it selects now; ``[]`` selects them all."""
    return rules_customers(client_id=segment.client_id, rules=segment.rules, now=now)


# --- describing rules in words -------------------------------------------------------


def _value_text(spec: FieldSpec, op: str, value: Any, names: Mapping[Any, str]) -> str:
    widget = spec.widget_for(op)
    if widget == CHOICES:
        labels = dict(spec.choices)
        return "、".join(str(labels.get(v, v)) for v in value)
    if widget in (TEXT_LIST, MONTHS):
        return "、".join(str(v) for v in value)
    if widget == AGE_RANGE:
        return f"{value[0]}–{value[1]}"
    if widget == DATE_RANGE:
        return f"{value[0]} – {value[1]}"
    if widget == DAYS:
        return gettext("%(days)s days") % {"days": value}
    if widget == BOOL:
        return gettext("yes") if value else gettext("no")
    if widget == CAMPAIGN:
        return names.get(("campaign", value), f"#{value}")
    if widget == OFFER:
        return names.get(("offer", value), value)
    if widget == NONE:
        return ""
    return str(value)


def rules_describe(rules: list[dict[str, Any]], *, client_id: int | None = None) -> list[str]:
    """Each condition in words ("City is one of 北京、上海"), for pages and list loads.

    ``rules`` are cleaned rules; with ``client_id`` campaigns and offers show their names.
    """
    names: dict[Any, str] = {}
    if client_id is not None:
        from calldeck.campaigns.models import Campaign, Offer

        ids = [r["value"] for r in rules if r["field"] == "called_in_campaign"]
        codes = [r["value"] for r in rules if r["field"] == "bought"]
        if ids:
            for pk, name in Campaign.objects.filter(client_id=client_id, pk__in=ids).values_list(
                "pk", "name"
            ):
                names["campaign", pk] = name
        if codes:
            for code, name in Offer.objects.filter(client_id=client_id, code__in=codes).values_list(
                "code", "name"
            ):
                names["offer", code] = f"{name} ({code})"
    out = []
    for rule in rules:
        spec = field_get(rule["field"])
        if spec is None:
            out.append(str(rule))
            continue
        op, value = rule["op"], rule["value"]
        key = ("yes" if value else "no") if spec.widget_for(op) == BOOL else op
        sentence = spec.sentences.get(key, SENTENCE) % {
            "field": spec.label,
            "op": spec.op_label(op),
            "value": _value_text(spec, op, value, names),
        }
        out.append(" ".join(sentence.split()))
    return out
