"""Customers of a client, their numbers, e-mail addresses, consent and contact blocks.

Phone numbers are stored in E.164 only. Whether a customer may be called is decided from
``ContactBlock`` rows (do-not-call, blacklist, do-not-market), kept with their reason and
time so that a block can be explained and lifted without losing its history.
"""

from __future__ import annotations

import datetime
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from calldeck.accounts.models import Client


def validate_timezone(value: str) -> None:
    """An IANA time zone name such as Asia/Urumqi (empty is allowed by the field)."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("“%(value)s” is not a known time zone (use a name such as Asia/Urumqi)."),
            code="invalid_timezone",
            params={"value": value},
        ) from None


class Gender(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    FEMALE = "f", _("Female")
    MALE = "m", _("Male")


class ValueTier(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class VipLevel(models.TextChoices):
    NONE = "", _("None")
    GOLD = "gold", _("Gold")
    PLATINUM = "platinum", _("Platinum")
    DIAMOND = "diamond", _("Diamond")


class Customer(models.Model):
    # No index of its own: the (client, customer_key) constraint's index starts with it.
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="customers", db_index=False
    )
    customer_key = models.CharField(_("customer id"), max_length=64)
    name = models.CharField(_("name"), max_length=100)
    gender = models.CharField(
        _("gender"), max_length=1, choices=Gender.choices, default=Gender.UNKNOWN, blank=True
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    region = models.CharField(_("region"), max_length=60, blank=True)
    city = models.CharField(_("city"), max_length=60, blank=True)
    wechat_id = models.CharField(_("WeChat id"), max_length=64, blank=True)
    value_tier = models.CharField(
        _("value tier"), max_length=10, choices=ValueTier.choices, default=ValueTier.MEDIUM
    )
    vip_level = models.CharField(
        _("VIP level"), max_length=10, choices=VipLevel.choices, default=VipLevel.NONE, blank=True
    )
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_customers",
    )
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    consent_marketing = models.BooleanField(_("consents to marketing"), default=True)
    consent_updated_at = models.DateTimeField(_("consent updated"), null=True, blank=True)
    consent_source = models.CharField(_("consent source"), max_length=100, blank=True)
    # Anniversary lists (daily marketing): when the customer opened the account / joined.
    customer_since = models.DateField(_("customer since"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    # Last: from here on ``timezone`` in this class body is this field, not django.utils's.
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_timezone],
        help_text=_(
            "Where the customer lives, as an IANA name (Asia/Urumqi); calling windows "
            "and holidays follow this local time. Empty: the centre's time zone."
        ),
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(fields=["client", "customer_key"], name="customer_key_unique")
        ]
        indexes = [
            # CRM sync and list pages: a client's customers by last change.
            models.Index(fields=["client", "updated_at"], name="customer_client_updated"),
            # Dial time: the time zones a client's customers live in.
            models.Index(fields=["client", "timezone"], name="customer_client_timezone"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.customer_key})"

    @property
    def is_reserved_for_account_manager(self) -> bool:
        # VIP (gold card and above) customers belong to their account manager and are kept
        # out of general campaigns.
        return bool(self.vip_level) or self.account_manager_id is not None


class PhoneKind(models.TextChoices):
    MOBILE = "mobile", _("Mobile")
    HOME = "home", pgettext_lazy("phone number type", "Home")
    WORK = "work", _("Work")
    OTHER = "other", _("Other")


class PhoneNumber(models.Model):
    # Indexed by the (customer, e164) constraint, which starts with it.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="phones", db_index=False
    )
    e164 = models.CharField(_("number"), max_length=20)
    extension = models.CharField(_("extension"), max_length=10, blank=True)
    kind = models.CharField(_("type"), max_length=10, choices=PhoneKind.choices)
    is_valid = models.BooleanField(_("valid"), default=True)
    invalid_reason = models.CharField(_("why invalid"), max_length=200, blank=True)
    invalid_since = models.DateTimeField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    source = models.CharField(_("source"), max_length=10, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(_("added"), null=True, blank=True)

    class Meta:
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "e164"], name="phone_unique_per_customer")
        ]
        indexes = [
            # Screen pop and merge on import: find customers by number.
            models.Index(fields=["e164"], name="phone_e164"),
        ]

    def __str__(self) -> str:
        return self.e164


class EmailAddress(models.Model):
    # Indexed by the (customer, address) constraint, which starts with it.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="emails", db_index=False
    )
    address = models.EmailField(_("e-mail"))
    is_primary = models.BooleanField(_("primary"), default=False)
    source = models.CharField(_("source"), max_length=10, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(_("added"), null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail address")
        verbose_name_plural = _("e-mail addresses")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "address"], name="email_unique_per_customer"
            )
        ]

    def __str__(self) -> str:
        return self.address


class BlockKind(models.TextChoices):
    DO_NOT_CALL = "dnc", _("Do not call")
    BLACKLIST = "blacklist", _("Blacklist")
    DO_NOT_MARKET = "dnm", _("Do not market")


class ContactBlock(models.Model):
    """A reason not to contact a customer, or a number, for a client.

    A row with ``customer`` blocks that customer on every number; a row with only ``e164``
    blocks that number whoever it belongs to. Lifting sets ``lifted_at``; rows are never
    deleted, so the history of why a customer was not called survives.
    """

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="contact_blocks")
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="blocks"
    )
    e164 = models.CharField(_("number"), max_length=20, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=BlockKind.choices)
    reason = models.CharField(_("reason"), max_length=300)
    created_at = models.DateTimeField(_("since"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    # A temporary suppression ends by itself at this time; empty: until lifted.
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("contact block")
        verbose_name_plural = _("contact blocks")
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=False) | ~Q(e164=""), name="block_has_target"
            )
        ]
        indexes = [
            # Dial-time check: active blocks of a number within a client.
            models.Index(fields=["client", "e164"], name="block_client_number"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.customer or self.e164}"


def active_blocks_q(now: datetime.datetime | None = None) -> Q:
    """Blocks in force at ``now``: not lifted and not expired."""
    now = now or timezone.now()
    return Q(lifted_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def blocked_customers_q(
    *, client_id: int, kinds: list[str], now: datetime.datetime | None = None
) -> Q:
    """A filter on a client's customers: a block of ``kinds`` in force on the customer, or
    on one of the customer's numbers (segments, list loads).

    The client's blocked numbers are found once, then their holders through the number
    index, rather than one lookup per customer.
    """
    blocks = ContactBlock.objects.filter(active_blocks_q(now), client_id=client_id, kind__in=kinds)
    numbers = blocks.exclude(e164="").values("e164")
    holders = PhoneNumber.objects.filter(customer__client_id=client_id, e164__in=numbers)
    return Q(Exists(blocks.filter(customer_id=OuterRef("pk")))) | Q(
        pk__in=holders.values("customer_id")
    )


class ContactSource(models.TextChoices):
    """Where a number, an e-mail address, a block or a consent came from."""

    IMPORT = "import", _("Import")
    AGENT = "agent", _("Agent during a call")
    STAFF = "staff", _("Staff")
    API = "api", _("API")
    CUSTOMER = "customer", _("Customer's request")
    DEMO = "demo", _("Demo data")


class ConsentEvent(models.Model):
    """One grant or withdrawal of marketing consent, with where it came from and when.

    ``Customer.consent_marketing`` / ``consent_updated_at`` / ``consent_source`` hold the
    latest event; these rows are the history behind them and are never changed.
    """

    # Indexed by consent_customer_at, which starts with it.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="consents", db_index=False
    )
    granted = models.BooleanField(_("granted"))
    source = models.CharField(_("source"), max_length=100)
    at = models.DateTimeField(_("when"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("consent event")
        verbose_name_plural = _("consent events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["customer", "at"], name="consent_customer_at")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {'granted' if self.granted else 'withdrawn'} {self.at}"


class Holding(models.Model):
    """A product the customer already holds (from the bank's or operator's systems)."""

    # Indexed by the (customer, product) constraint, which starts with it.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="holdings", db_index=False
    )
    product = models.CharField(_("product"), max_length=60)
    since = models.DateField(_("since"), null=True, blank=True)

    class Meta:
        verbose_name = _("product holding")
        verbose_name_plural = _("product holdings")
        constraints = [
            models.UniqueConstraint(fields=["customer", "product"], name="holding_unique")
        ]
        indexes = [models.Index(fields=["product"], name="holding_product")]

    def __str__(self) -> str:
        return self.product


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", _("Customers")
    DO_NOT_CALL = "dnc", _("Do-not-call list")
    BLACKLIST = "blacklist", _("Blacklist")
    CONSENT = "consent", _("Consent")


class ImportMapping(models.Model):
    """A saved column mapping: which header of a file goes to which field."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="import_mappings")
    kind = models.CharField(
        _("kind"), max_length=12, choices=ImportKind.choices, default=ImportKind.CUSTOMERS
    )
    name = models.CharField(_("name"), max_length=100)
    # {header as written in the file: field name, or "" to ignore the column}
    columns = models.JSONField(_("columns"), default=dict)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("import mapping")
        verbose_name_plural = _("import mappings")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["client", "kind", "name"], name="mapping_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """One import of a file: what was asked, and, once run, its summary and row report.

    The import itself runs in one transaction (all or nothing); this row is written
    outside it, so a failed import leaves its job row with the error and nothing else.
    """

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="import_jobs")
    kind = models.CharField(
        _("kind"), max_length=12, choices=ImportKind.choices, default=ImportKind.CUSTOMERS
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", max_length=300)
    file_name = models.CharField(_("file name"), max_length=255)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    columns = models.JSONField(_("columns"), default=dict)
    mapping = models.ForeignKey(
        ImportMapping, on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs"
    )
    # Kind-specific choices: the reason and expiry of imported blocks, the consent source.
    options = models.JSONField(_("options"), default=dict, blank=True)
    # Load the imported customers into this campaign afterwards (campaigns.ListLoad).
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="import_jobs",
    )
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    report = models.FileField(_("row report"), upload_to="imports/reports/%Y/%m/", blank=True)
    error = models.TextField(_("error"), blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.file_name}"


class Segment(models.Model):
    """A saved filter over a client's customers (客户细分); see ``customers.segments``."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="segments")
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    # A list of conditions, all of which must hold: [{"field": ..., "op": ..., "value": ...}]
    rules = models.JSONField(_("conditions"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["client", "name"], name="segment_unique_name")
        ]

    def __str__(self) -> str:
        return self.name
