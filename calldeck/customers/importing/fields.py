"""The fields a file's columns can go to, per kind of import, and automatic mapping.

A file's header is matched to a field by its normalised text (case, spaces, punctuation
and a trailing number ignored, so 手机1 and 手机 2 are both mobile numbers). Columns that
match nothing go to ``attribute``: they are kept as free attributes of the customer under
their header, so nothing in the file is dropped unless the user chooses to ignore it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# The kinds of import (``customers.models.ImportKind``'s values; this module stays free of
# models so the cleaning process of a large import can load it before Django's apps).
CUSTOMERS = "customers"
DO_NOT_CALL = "dnc"
BLACKLIST = "blacklist"
CONSENT = "consent"

IGNORE = ""
ATTRIBUTE = "attribute"


@dataclass(frozen=True)
class Field:
    name: str
    label: object
    synonyms: tuple[str, ...] = ()
    required: bool = False
    # Several columns may go to this field (numbers, e-mails, attributes).
    multi: bool = False
    help: object = ""
    # One of these fields is required (customer key or mobile: how a row is matched).
    one_of: tuple[str, ...] = field(default=())


_KEY = (
    "客户编号",
    "客户号",
    "客户id",
    "客户代码",
    "客户账号",
    "编号",
    "customerid",
    "customerkey",
    "customerno",
    "custid",
    "clientid",
    "id",
    "key",
)
_NUMBER_HELP = _("Several numbers in one cell may be separated by , ; / or 、")

CUSTOMER_FIELDS = [
    Field(
        "customer_key",
        _("customer id"),
        _KEY,
        help=_("The customer's id in the bank's or operator's system; rows are matched on it."),
    ),
    Field(
        "name",
        _("name"),
        ("姓名", "客户姓名", "名字", "客户名称", "name", "customername", "fullname"),
    ),
    Field(
        "mobile",
        _("mobile number"),
        (
            "手机",
            "手机号",
            "手机号码",
            "移动电话",
            "手机电话",
            "mobile",
            "mobilephone",
            "mobileno",
            "cell",
            "cellphone",
        ),
        multi=True,
        help=_NUMBER_HELP,
    ),
    Field(
        "phone",
        _("home / other phone"),
        (
            "电话",
            "电话号码",
            "固话",
            "座机",
            "家庭电话",
            "住宅电话",
            "联系电话",
            "phone",
            "telephone",
            "tel",
            "landline",
            "homephone",
        ),
        multi=True,
        help=_NUMBER_HELP,
    ),
    Field(
        "work_phone",
        _("work phone"),
        ("单位电话", "办公电话", "公司电话", "workphone", "officephone", "businessphone"),
        multi=True,
    ),
    Field(
        "email",
        _("e-mail"),
        ("邮箱", "电子邮箱", "电子邮件", "邮件", "email", "e-mail", "mail"),
        multi=True,
    ),
    Field(
        "birthday",
        _("birthday"),
        ("生日", "出生日期", "出生年月日", "birthday", "dateofbirth", "dob", "birthdate"),
    ),
    Field("gender", _("gender"), ("性别", "gender", "sex")),
    Field(
        "region",
        _("region / province"),
        ("省份", "省", "地区", "区域", "所在省份", "region", "province", "state"),
    ),
    Field("city", _("city"), ("城市", "市", "所在城市", "city")),
    Field(
        "value_tier",
        _("value tier"),
        ("价值等级", "客户价值", "客户等级", "valuetier", "tier"),
    ),
    Field(
        "vip_level",
        _("VIP level"),
        ("vip等级", "卡等级", "会员等级", "vip", "viplevel", "cardlevel"),
    ),
    Field(
        "customer_since",
        _("customer since"),
        (
            "开户日期",
            "入网日期",
            "注册日期",
            "开卡日期",
            "customersince",
            "since",
            "accountopened",
            "opendate",
        ),
    ),
    Field("wechat_id", _("WeChat id"), ("微信", "微信号", "wechat", "wechatid", "weixin")),
    Field("timezone", _("time zone"), ("时区", "timezone", "tz")),
    Field(
        "products",
        _("products held"),
        ("持有产品", "已有产品", "产品", "products", "holdings", "productsheld"),
        help=_("Several products in one cell may be separated by , ; / or 、"),
    ),
    Field(
        "consent",
        _("consents to marketing"),
        ("营销同意", "同意营销", "营销许可", "consent", "marketingconsent"),
    ),
    Field(
        ATTRIBUTE,
        _("free attribute (kept under the column's header)"),
        multi=True,
    ),
]

# Do-not-call and blacklist files: a number or a customer id per row.
BLOCK_FIELDS = [
    Field(
        "number",
        _("number"),
        (
            "号码",
            "手机",
            "手机号",
            "手机号码",
            "电话",
            "电话号码",
            "number",
            "phone",
            "mobile",
            "msisdn",
        ),
    ),
    Field("customer_key", _("customer id"), _KEY),
    Field("reason", _("reason"), ("原因", "理由", "备注", "reason", "note", "remark")),
    Field(
        "expires",
        _("expires"),
        (
            "到期",
            "到期日",
            "到期时间",
            "有效期至",
            "失效日期",
            "截止日期",
            "expires",
            "expiry",
            "until",
            "validuntil",
        ),
    ),
]

CONSENT_FIELDS = [
    Field("customer_key", _("customer id"), _KEY),
    Field(
        "number",
        _("number"),
        ("号码", "手机", "手机号", "手机号码", "电话", "number", "phone", "mobile"),
    ),
    Field(
        "granted",
        _("consent (yes / no)"),
        ("同意", "是否同意", "营销同意", "授权", "consent", "granted", "optin"),
    ),
    Field("source", _("source"), ("来源", "渠道", "source", "channel")),
    Field("at", _("when"), ("时间", "日期", "授权时间", "同意时间", "at", "date", "time", "when")),
]

FIELDS: dict[str, list[Field]] = {
    CUSTOMERS: CUSTOMER_FIELDS,
    DO_NOT_CALL: BLOCK_FIELDS,
    BLACKLIST: BLOCK_FIELDS,
    CONSENT: CONSENT_FIELDS,
}

# A row must carry one of these fields, per kind (how it finds its customer or number).
IDENTIFIERS: dict[str, tuple[str, ...]] = {
    CUSTOMERS: ("customer_key", "mobile"),
    DO_NOT_CALL: ("number", "customer_key"),
    BLACKLIST: ("number", "customer_key"),
    CONSENT: ("customer_key", "number"),
}
# A field a kind cannot do without.
REQUIRED: dict[str, tuple[str, ...]] = {
    CUSTOMERS: (),
    DO_NOT_CALL: (),
    BLACKLIST: (),
    CONSENT: ("granted",),
}

_NOISE = re.compile(r"[\s_\-./（）()：:*#]+")
_TRAILING_NUMBER = re.compile(r"\d+$")


def normalise_header(header: str) -> str:
    text = _NOISE.sub("", header.strip().lstrip("\ufeff").lower())
    stripped = _TRAILING_NUMBER.sub("", text)
    return stripped or text


def fields_for(kind: str) -> list[Field]:
    try:
        return FIELDS[kind]
    except KeyError:
        raise ValueError(f"unknown import kind {kind!r}") from None


def auto_mapping(headers: list[str], kind: str) -> dict[str, str]:
    """Header → field name for each header (``attribute`` or ignore when nothing fits).

    A single-valued field takes the first header that names it; later headers naming it
    again are ignored for customers' free attributes, so no value is written twice.
    """
    lookup: dict[str, str] = {}
    for f in fields_for(kind):
        for synonym in (f.name, *f.synonyms):
            lookup.setdefault(normalise_header(synonym), f.name)
    by_name = {f.name: f for f in fields_for(kind)}
    fallback = ATTRIBUTE if ATTRIBUTE in by_name else IGNORE
    columns: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        if not header.strip():
            columns[header] = IGNORE
            continue
        name = lookup.get(normalise_header(header), "")
        if name and (by_name[name].multi or name not in taken):
            columns[header] = name
            taken.add(name)
        else:
            columns[header] = fallback
    return columns


def mapping_errors(columns: dict[str, str], kind: str) -> list[str]:
    """What is wrong with a mapping, in words for the user (empty when it is usable)."""
    by_name = {f.name: f for f in fields_for(kind)}
    errors: list[str] = []
    used: dict[str, list[str]] = {}
    for header, name in columns.items():
        if name == IGNORE:
            continue
        if name not in by_name:
            errors.append(
                gettext("Column “%(header)s”: “%(field)s” is not a field of this import.")
                % {"header": header, "field": name}
            )
            continue
        used.setdefault(name, []).append(header)
    for name, headers in used.items():
        if len(headers) > 1 and not by_name[name].multi:
            errors.append(
                gettext("Columns %(headers)s all go to “%(field)s”; choose one.")
                % {"headers": "、".join(f"“{h}”" for h in headers), "field": by_name[name].label}
            )
    identifiers = IDENTIFIERS[kind]
    if not any(name in used for name in identifiers):
        errors.append(
            gettext("Map a column to one of: %(fields)s (rows are matched on it).")
            % {"fields": "、".join(str(by_name[n].label) for n in identifiers)}
        )
    for name in REQUIRED[kind]:
        if name not in used:
            errors.append(
                gettext("Map a column to “%(field)s”; it is required.")
                % {"field": by_name[name].label}
            )
    return errors
