"""Cleaning of single cell values: phone numbers, dates, genders, tiers, yes / no.

Each parser returns the clean value, or raises ``BadValue`` with a reason code (the codes
of the row report, listed in ``REASONS``). Nothing here touches the database, so every
rule is tested on plain strings.

Phone numbers
-------------
Full-width digits and signs become ASCII, an extension (转 / 分机 / ext / x / #) is split
off, then separators (spaces, dashes, dots, brackets) are dropped. Plain mainland mobile
numbers — 11 digits starting 1, with or without +86 / 0086 / 86 — take a fast path: their
first four digits are looked up in the set of prefixes that ``phonenumbers`` itself
holds valid mobile ranges for (computed once from its metadata), so the fast path agrees
with the library. Everything else (landlines with their area code, foreign numbers, odd
prefixes) goes through ``phonenumbers`` with region CN. A number that Excel turned into
scientific notation (1.38001E+10) has lost digits and is rejected, never guessed.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

import phonenumbers
from django.utils.translation import gettext_lazy as _

# Reason codes of the row report, with their meaning for people.
REASONS: dict[str, object] = {
    "phone_excel_damaged": _("Number damaged by Excel (scientific notation); digits are lost"),
    "phone_invalid": _("Not a valid phone number"),
    "phone_no_area_code": _("Landline without its area code"),
    "email_invalid": _("Not a valid e-mail address"),
    "date_invalid": _("Not a date in a known format"),
    "date_out_of_range": _("Date in the future or before 1900"),
    "gender_unknown": _("Gender not recognised (男/女, M/F)"),
    "tier_unknown": _("Value tier not recognised (高/中/低, high/medium/low)"),
    "vip_unknown": _("VIP level not recognised"),
    "yes_no_unknown": _("Not a yes / no value"),
    "timezone_unknown": _("Not a known time zone"),
    "too_long": _("Value too long for the field"),
    "encoding_error": _("Characters that do not fit the file's encoding"),
    "name_missing": _("A new customer needs a name"),
    "no_identifier": _("No customer id and no valid mobile number to match the row on"),
    "no_valid_number": _("No valid number for the customer"),
    "customer_not_found": _("No customer with this id or number"),
    "wrong_column_count": _("The row has more cells than the header"),
    "duplicate_merged": _("Duplicate of an earlier row; merged into that customer"),
    "conflict_kept_earlier": _(
        "Differs from an earlier row of the same customer; the earlier value is kept"
    ),
    "expiry_in_past": _("Expiry already passed"),
}


class BadValue(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_FULLWIDTH = str.maketrans("０１２３４５６７８９＋（）－．　，；／", "0123456789+()-. ,;/")
_EXCEL = re.compile(r"^[+-]?\d+(?:\.\d*)?[eE][+-]?\d+$")
_EXCEL_DECIMAL = re.compile(r"^(\d{7,})\.0+$")
_EXTENSION = re.compile(r"(?:转|分机|ext\.?|x|#|-{0,1}\s*p)\s*(\d{1,6})$", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s\-.()\[\]]+")
_MOBILE = re.compile(r"^(?:\+86|0086|86)?(1\d{10})$")
SPLIT_MANY = re.compile(r"[,;/、|，；]+")

MOBILE = "mobile"
LANDLINE = "landline"
OTHER = "other"


@dataclass(frozen=True, slots=True)
class Phone:
    e164: str
    extension: str
    kind: str  # MOBILE, LANDLINE or OTHER


@functools.cache
def _mobile_prefixes() -> frozenset[str]:
    """Four-digit prefixes whose whole range phonenumbers holds to be valid CN mobiles."""
    valid = set()
    for prefix in range(1300, 2000):
        samples = (f"{prefix}0000000", f"{prefix}5555555", f"{prefix}9999999")
        if all(_is_cn_mobile(phonenumbers.parse(s, "CN")) for s in samples):
            valid.add(str(prefix))
    return frozenset(valid)


def _is_cn_mobile(number: phonenumbers.PhoneNumber) -> bool:
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def phone_parse(raw: str, region: str = "CN") -> Phone:
    text = raw.strip().translate(_FULLWIDTH)
    if _EXCEL.match(text):
        raise BadValue("phone_excel_damaged")
    whole = _EXCEL_DECIMAL.match(text)
    if whole:  # 13800138000.0: a number cell written out with its decimals; no digit lost.
        text = whole.group(1)
    extension = ""
    ext = _EXTENSION.search(text)
    if ext and len(re.sub(r"\D", "", text[: ext.start()])) >= 7:
        extension = ext.group(1)
        text = text[: ext.start()]
    digits = _SEPARATORS.sub("", text)
    mobile = _MOBILE.match(digits)
    if mobile and mobile.group(1)[:4] in _mobile_prefixes():
        return Phone("+86" + mobile.group(1), extension, MOBILE)
    if digits.startswith("0086"):
        digits = "+86" + digits[4:]
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        raise BadValue("phone_invalid") from None
    if not phonenumbers.is_valid_number(number):
        national = str(number.national_number)
        if number.country_code == 86 and len(national) in (7, 8) and not national.startswith("1"):
            raise BadValue("phone_no_area_code")
        raise BadValue("phone_invalid")
    kind = phonenumbers.number_type(number)
    if kind in (phonenumbers.PhoneNumberType.MOBILE,):
        label = MOBILE
    elif kind in (
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        label = LANDLINE
    else:
        label = OTHER
    if number.extension and not extension:
        extension = number.extension
    number.extension = None
    return Phone(
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), extension, label
    )


def mobile_fast(raw: str) -> Phone | None:
    """The common case in one step: a cell that is just an 11-digit mainland mobile."""
    if len(raw) == 11 and raw.isdigit() and raw[:4] in _mobile_prefixes():
        return Phone("+86" + raw, "", MOBILE)
    return None


def phones_parse(raw: str) -> list[Phone | BadValue]:
    """Every number in a cell that may hold several."""
    out: list[Phone | BadValue] = []
    for part in SPLIT_MANY.split(raw.translate(_FULLWIDTH)):
        if part.strip():
            try:
                out.append(phone_parse(part))
            except BadValue as bad:
                out.append(bad)
    return out


_DATE_PATTERNS = [
    re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T].*)?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def date_parse(raw: str, *, today: dt.date | None = None, future_ok: bool = False) -> dt.date:
    """1985-03-07, 1985/3/7, 1985.3.7, 19850307, 1985年3月7日, with or without a time."""
    text = raw.strip().translate(_FULLWIDTH)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                day = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                raise BadValue("date_invalid") from None
            break
    else:
        # A date cell of a spreadsheet saved as a CSV by a tool that wrote its serial.
        if re.fullmatch(r"\d{5}(?:\.0+)?", text):
            day = _EXCEL_EPOCH + dt.timedelta(days=int(float(text)))
        else:
            raise BadValue("date_invalid")
    today = today or dt.date.today()
    if day.year < 1900 or (not future_ok and day > today):
        raise BadValue("date_out_of_range")
    return day


def datetime_parse(raw: str, tz: dt.tzinfo) -> dt.datetime:
    """A date or a date and time (local in ``tz``); a date alone means its end of day."""
    text = raw.strip().translate(_FULLWIDTH).replace("/", "-").replace(".", "-")
    try:
        moment = dt.datetime.fromisoformat(text)
        if len(text) <= len("2026-12-31"):
            raise ValueError(text)  # a date alone: to its end, below
    except ValueError:
        day = date_parse(raw, future_ok=True)
        return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=tz)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment


_GENDER = {
    "男": "m",
    "女": "f",
    "m": "m",
    "f": "f",
    "male": "m",
    "female": "f",
    "先生": "m",
    "女士": "f",
}
_TIER = {
    "高": "high",
    "中": "medium",
    "低": "low",
    "high": "high",
    "medium": "medium",
    "low": "low",
    "a": "high",
    "b": "medium",
    "c": "low",
    "高价值": "high",
    "中价值": "medium",
    "低价值": "low",
}
_VIP = {
    "": "",
    "无": "",
    "普通": "",
    "none": "",
    "金卡": "gold",
    "gold": "gold",
    "白金": "platinum",
    "白金卡": "platinum",
    "platinum": "platinum",
    "钻石": "diamond",
    "钻石卡": "diamond",
    "diamond": "diamond",
}
_YES = {"是", "同意", "已同意", "y", "yes", "true", "1", "授权", "opt-in", "optin"}
_NO = {"否", "不同意", "撤回", "拒绝", "n", "no", "false", "0", "opt-out", "optout"}


def gender_parse(raw: str) -> str:
    try:
        return _GENDER[raw.strip().lower()]
    except KeyError:
        raise BadValue("gender_unknown") from None


def tier_parse(raw: str) -> str:
    try:
        return _TIER[raw.strip().lower()]
    except KeyError:
        raise BadValue("tier_unknown") from None


def vip_parse(raw: str) -> str:
    try:
        return _VIP[raw.strip().lower()]
    except KeyError:
        raise BadValue("vip_unknown") from None


def yes_no_parse(raw: str) -> bool:
    text = raw.strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise BadValue("yes_no_unknown")


_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[A-Za-z]{2,}$")


def email_parse(raw: str) -> str:
    text = raw.strip()
    if len(text) > 254 or not _EMAIL.match(text):
        raise BadValue("email_invalid")
    local, _at, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"
