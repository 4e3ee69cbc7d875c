"""The fields segments filter on: what each means in SQL, its ops and how its value is given.

``FIELDS`` is the catalogue of ``customers.segments``' rule language (read that module
first). Each ``FieldSpec`` has a name, a label, a kind (the group the field picker lists
it under), the ops it allows, the widget each op takes its value with, and ``build``: a
cleaned (op, value) turned into a ``Q`` on ``Customer``. Builders filter the customer
row itself or use an ``Exists()`` or ``IN`` subquery on a related table, never a join,
so no customer is counted twice. The open family ``attr:<key>`` (free attributes) is
made on demand by ``attribute_field``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, F, Func, OuterRef, Q, QuerySet, TextField, Value
from django.db.models.fields.json import (
    KeyTextTransform,
    KeyTransform,
    KeyTransformIn,
)
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import Exact, IContains
from django.utils.translation import gettext_lazy as _

from calldeck.calls.models import Call, Sale, SaleStatus
from calldeck.customers.models import (
    BlockKind,
    Gender,
    Holding,
    PhoneKind,
    PhoneNumber,
    ValueTier,
    VipLevel,
    blocked_customers_q,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise as Label

# --- ops -----------------------------------------------------------------------------

IN = "in"
NOT_IN = "not_in"
EQ = "eq"
CONTAINS = "contains"
EXISTS = "exists"
NOT_EXISTS = "not_exists"
BETWEEN = "between"
BEFORE = "before"
AFTER = "after"
HAS = "has"
HAS_NOT = "has_not"
WITHIN_DAYS = "within_days"
NOT_WITHIN_DAYS = "not_within_days"
IS = "is"

OP_LABELS: dict[str, Label] = {
    IN: _("is one of"),
    NOT_IN: _("is none of"),
    EQ: _("is"),
    CONTAINS: _("contains"),
    EXISTS: _("is filled in"),
    NOT_EXISTS: _("is empty"),
    BETWEEN: _("is between"),
    BEFORE: _("is before"),
    AFTER: _("is after"),
    HAS: _("has"),
    HAS_NOT: _("has not"),
    WITHIN_DAYS: _("in the last"),
    NOT_WITHIN_DAYS: _("not in the last"),
    IS: _("is"),
}

# --- widgets: how a value is entered, and so how it is checked ------------------------

CHOICES = "choices"  # several of the field's choices: ["f", "m"]
TEXT_LIST = "text_list"  # one or more texts: ["北京", "上海"]
TEXT = "text"  # one text: "金卡"
NONE = "none"  # no value: null
AGE_RANGE = "age_range"  # [from, to] whole years, both included: [30, 45]
MONTHS = "months"  # months 1–12: [1, 2]
DATE = "date"  # "2020-01-31"
DATE_RANGE = "date_range"  # ["2020-01-01", "2020-12-31"], both included
DAYS = "days"  # a whole number of days: 30
BOOL = "bool"  # true or false
OFFER = "offer"  # an offer code of the client: "INST12"
CAMPAIGN = "campaign"  # a campaign id of the client: 7

ATTRIBUTE_PREFIX = "attr:"
MAX_ATTRIBUTE_KEY = 100


# --- the catalogue -------------------------------------------------------------------


@dataclass(frozen=True)
class When:
    """What a segment is evaluated for: the client, and the moment ("today", "now")."""

    client_id: int
    now: dt.datetime
    today: dt.date


Build = Callable[[str, Any, When], Q]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: Label
    # The group the field is listed under in the field picker.
    kind: str
    ops: tuple[str, ...]
    # How the value is entered; ``op_widgets`` overrides it for some ops.
    widget: str
    build: Build = field(repr=False)
    choices: tuple[tuple[str, Label], ...] = ()
    op_widgets: Mapping[str, str] = field(default_factory=dict)
    op_labels: Mapping[str, Label] = field(default_factory=dict)
    help: Label = ""
    # The condition in words, by op ("yes" / "no" for a yes-or-no field), with the value
    # as %(value)s; otherwise SENTENCE.
    sentences: Mapping[str, Label] = field(default_factory=dict)

    def widget_for(self, op: str) -> str:
        return self.op_widgets.get(op, self.widget)

    def op_label(self, op: str) -> str:
        return str(self.op_labels.get(op, OP_LABELS.get(op, op)))


SENTENCE = _("%(field)s %(op)s %(value)s")

KIND_CUSTOMER = "customer"
KIND_ATTRIBUTE = "attribute"
KIND_PRODUCTS = "products"
KIND_HISTORY = "history"
KIND_REACH = "reach"

KIND_LABELS: dict[str, Label] = {
    KIND_CUSTOMER: _("Customer"),
    KIND_ATTRIBUTE: _("Free attributes"),
    KIND_PRODUCTS: _("Products"),
    KIND_HISTORY: _("Contact history"),
    KIND_REACH: _("Reachability"),
}


def _column_in(column: str) -> Build:
    def build(op: str, value: Any, when: When) -> Q:
        q = Q(**{f"{column}__in": value})
        return ~q if op == NOT_IN else q

    return build


def _birthday_bound(today: dt.date, years: int) -> dt.date:
    """The last birthday on which a customer is ``years`` old on ``today``.

    Someone born on 29 February is a year older on 1 March in a year without one, so on
    28 February of a leap year the bound in a common year is 28 February.
    """
    year = today.year - years
    try:
        return today.replace(year=year)
    except ValueError:  # today is 29 February and ``year`` has none
        return dt.date(year, 2, 28)


def _age(op: str, value: Any, when: When) -> Q:
    low, high = value
    # Aged at least ``low``: born on or before the day ``low`` years ago; aged at most
    # ``high``: not yet ``high + 1``, so born after the day ``high + 1`` years ago.
    return Q(
        birthday__lte=_birthday_bound(when.today, low),
        birthday__gt=_birthday_bound(when.today, high + 1),
    )


def _birthday_month(op: str, value: Any, when: When) -> Q:
    return Q(birthday__month__in=value)


def _customer_since(op: str, value: Any, when: When) -> Q:
    if op == BEFORE:
        return Q(customer_since__lt=value)
    if op == AFTER:
        return Q(customer_since__gt=value)
    return Q(customer_since__range=value)


def _exists(op: str, subquery: QuerySet[Any]) -> Q:
    q = Q(Exists(subquery))
    return ~q if op in (HAS_NOT, NOT_WITHIN_DAYS) else q


def _holding(op: str, value: Any, when: When) -> Q:
    return _exists(op, Holding.objects.filter(customer_id=OuterRef("pk"), product=value))


def _bought(op: str, value: Any, when: When) -> Q:
    sales = Sale.objects.filter(
        customer_id=OuterRef("pk"), offer__code=value, offer__client_id=OuterRef("client_id")
    ).exclude(status=SaleStatus.CANCELLED)
    return _exists(op, sales)


def _contacted(op: str, value: Any, when: When) -> Q:
    since = when.now - dt.timedelta(days=value)
    return _exists(op, Call.objects.filter(customer_id=OuterRef("pk"), dialed_at__gte=since))


def _called_in_campaign(op: str, value: Any, when: When) -> Q:
    return _exists(op, Call.objects.filter(customer_id=OuterRef("pk"), campaign_id=value))


def _flag(q: Q) -> Build:
    def build(op: str, value: Any, when: When) -> Q:
        return q if value else ~q

    return build


def _valid_mobile(op: str, value: Any, when: When) -> Q:
    mobiles = PhoneNumber.objects.filter(
        customer_id=OuterRef("pk"), kind=PhoneKind.MOBILE, is_valid=True
    )
    return _flag(Q(Exists(mobiles)))(op, value, when)


def _blocked(kinds: Iterable[str]) -> Build:
    """A block in force on the customer, or on one of the customer's numbers."""

    def build(op: str, value: Any, when: When) -> Q:
        blocked = blocked_customers_q(client_id=when.client_id, kinds=list(kinds), now=when.now)
        return _flag(blocked)(op, value, when)

    return build


class _AttributeType(Func):
    """The JSON type of ``attributes[key]`` ("null" for JSON null), NULL when it is missing.

    Only the type tells a JSON null from a missing key on both databases: SQLite's text of
    a null is "null", PostgreSQL's is NULL.
    """

    output_field = TextField()

    def __init__(self, key: str) -> None:
        super().__init__(F("attributes"))
        self.key = key

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        # The path as Django writes it for a key that is not a number.
        return f"JSON_TYPE({sql}, %s)", (*params, f"$.{json.dumps(self.key)}")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"JSONB_TYPEOF({sql} -> %s)", (*params, self.key)


def _attribute_text(key: str) -> Coalesce:
    # As text on both databases (numbers too), "" when the key is missing or null.
    return Coalesce(
        Cast(KeyTextTransform(key, "attributes"), TextField()),
        Value(""),
        output_field=TextField(),
    )


def _json_candidates(text: str) -> list[Any]:
    """What a typed value may be stored as: "50000" matches "50000" and 50000."""
    values: list[Any] = [text]
    if re.fullmatch(r"-?\d{1,18}", text):
        values.append(int(text))
    elif re.fullmatch(r"-?\d+\.\d+", text):
        values.append(float(text))
    elif text.lower() in ("true", "false"):
        values.append(text.lower() == "true")
    return values


def _attribute(key: str) -> Build:
    def build(op: str, value: Any, when: When) -> Q:
        if op in (EQ, IN):
            candidates = [
                c for text in ([value] if op == EQ else value) for c in _json_candidates(text)
            ]
            json_value = KeyTransform(key, "attributes")
            return Q(KeyTransformIn(json_value, candidates))
        text = _attribute_text(key)
        if op == CONTAINS:
            return Q(IContains(text, value))
        # Missing, JSON null and "" are all "not filled in".
        kind = Coalesce(_AttributeType(key), Value("null"), output_field=TextField())
        empty = Q(Exact(text, "")) | Q(Exact(kind, "null"))
        return empty if op == NOT_EXISTS else ~empty

    return build


# fmt: off
FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("gender", _("Gender"), KIND_CUSTOMER, (IN, NOT_IN), CHOICES,
                  _column_in("gender"), choices=tuple(Gender.choices)),
        FieldSpec("value_tier", _("Value tier"), KIND_CUSTOMER, (IN, NOT_IN), CHOICES,
                  _column_in("value_tier"), choices=tuple(ValueTier.choices)),
        FieldSpec("vip_level", _("VIP level"), KIND_CUSTOMER, (IN, NOT_IN), CHOICES,
                  _column_in("vip_level"), choices=tuple(VipLevel.choices)),
        FieldSpec("region", _("Region"), KIND_CUSTOMER, (IN, NOT_IN), TEXT_LIST,
                  _column_in("region")),
        FieldSpec("city", _("City"), KIND_CUSTOMER, (IN, NOT_IN), TEXT_LIST,
                  _column_in("city")),
        FieldSpec("age", _("Age"), KIND_CUSTOMER, (BETWEEN,), AGE_RANGE, _age,
                  help=_("Whole years today, from the birthday; both ends included."),
                  sentences={BETWEEN: _("Aged %(value)s")}),
        FieldSpec("birthday_month", _("Birthday month"), KIND_CUSTOMER, (IN,), MONTHS,
                  _birthday_month),
        FieldSpec("customer_since", _("Customer since"), KIND_CUSTOMER,
                  (BEFORE, AFTER, BETWEEN), DATE, _customer_since,
                  op_widgets={BETWEEN: DATE_RANGE}),
        FieldSpec("holding", _("Product held"), KIND_PRODUCTS, (HAS, HAS_NOT), TEXT, _holding,
                  op_labels={HAS: _("holds"), HAS_NOT: _("does not hold")},
                  help=_("A product from the bank's or operator's systems, as imported."),
                  sentences={HAS: _("Holds %(value)s"), HAS_NOT: _("Does not hold %(value)s")}),
        FieldSpec("bought", _("Offer bought"), KIND_PRODUCTS, (HAS, HAS_NOT), OFFER, _bought,
                  op_labels={HAS: _("bought"), HAS_NOT: _("did not buy")},
                  help=_("A sale of the offer on a call, not cancelled."),
                  sentences={HAS: _("Bought %(value)s"), HAS_NOT: _("Did not buy %(value)s")}),
        FieldSpec("contacted", _("Called"), KIND_HISTORY, (WITHIN_DAYS, NOT_WITHIN_DAYS),
                  DAYS, _contacted,
                  help=_("Any call to or from the customer, answered or not."),
                  sentences={WITHIN_DAYS: _("Called in the last %(value)s"),
                             NOT_WITHIN_DAYS: _("Not called in the last %(value)s")}),
        FieldSpec("called_in_campaign", _("Called in campaign"), KIND_HISTORY, (HAS, HAS_NOT),
                  CAMPAIGN, _called_in_campaign,
                  op_labels={HAS: _("was called in"), HAS_NOT: _("was not called in")},
                  sentences={HAS: _("Called in campaign %(value)s"),
                             HAS_NOT: _("Not called in campaign %(value)s")}),
        FieldSpec("valid_mobile", _("Has a valid mobile number"), KIND_REACH, (IS,), BOOL,
                  _valid_mobile,
                  sentences={"yes": _("Has a valid mobile number"),
                             "no": _("Has no valid mobile number")}),
        FieldSpec("consent_marketing", _("Consents to marketing"), KIND_REACH, (IS,), BOOL,
                  _flag(Q(consent_marketing=True)),
                  sentences={"yes": _("Consents to marketing"),
                             "no": _("Does not consent to marketing")}),
        FieldSpec("blocked", _("On the do-not-call list or blacklist"), KIND_REACH, (IS,),
                  BOOL, _blocked([BlockKind.DO_NOT_CALL, BlockKind.BLACKLIST]),
                  help=_("A block in force on the customer or on one of their numbers."),
                  sentences={"yes": _("On the do-not-call list or blacklist"),
                             "no": _("Not on the do-not-call list or blacklist")}),
        FieldSpec("do_not_market", _("Marked do-not-market"), KIND_REACH, (IS,), BOOL,
                  _blocked([BlockKind.DO_NOT_MARKET]),
                  sentences={"yes": _("Marked do-not-market"),
                             "no": _("Not marked do-not-market")}),
        FieldSpec("reserved", _("VIP or account manager's customer"), KIND_REACH, (IS,), BOOL,
                  _flag(~Q(vip_level="") | Q(account_manager__isnull=False)),
                  help=_("Kept out of general campaigns: they belong to their account manager."),
                  sentences={"yes": _("VIP or account manager's customer"),
                             "no": _("Not a VIP or account manager's customer")}),
    )
}
# fmt: on

ATTRIBUTE_OPS = (EQ, IN, CONTAINS, EXISTS, NOT_EXISTS)
ATTRIBUTE_WIDGETS = {EQ: TEXT, IN: TEXT_LIST, CONTAINS: TEXT, EXISTS: NONE, NOT_EXISTS: NONE}


def attribute_field(key: str) -> FieldSpec:
    """The field ``attr:<key>``: the free attribute ``key`` of ``Customer.attributes``."""
    return FieldSpec(
        f"{ATTRIBUTE_PREFIX}{key}",
        _("Attribute “%(key)s”") % {"key": key},
        KIND_ATTRIBUTE,
        ATTRIBUTE_OPS,
        TEXT,
        _attribute(key),
        op_widgets=ATTRIBUTE_WIDGETS,
        help=_("Numbers and true/false match however the attribute was stored."),
    )


def attribute_key_readable(key: str) -> bool:
    """Whether the databases can address ``key`` inside the attributes' JSON.

    Django reads a key that is an integer as an array index, on both databases, and
    SQLite's JSON paths cannot hold a quote or a backslash.
    """
    try:
        int(key)
    except ValueError:
        return bool(key) and len(key) <= MAX_ATTRIBUTE_KEY and not {'"', "\\"} & set(key)
    return False


def field_get(name: object) -> FieldSpec | None:
    """The catalogue entry of a field name, attributes included; None if unknown."""
    if not isinstance(name, str):
        return None
    if name.startswith(ATTRIBUTE_PREFIX):
        key = name[len(ATTRIBUTE_PREFIX) :].strip()
        return attribute_field(key) if attribute_key_readable(key) else None
    return FIELDS.get(name)
