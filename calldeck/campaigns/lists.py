"""Campaign lists: loading customers with the exclusions applied, and the pilot sample.

Theory of operation
-------------------
A load takes candidates — a segment's customers, the customers of a finished import, or
the day's birthdays and anniversaries — and puts into the campaign those that may be
marketed to. Each candidate is classified by ONE SQL ``CASE`` whose branches are tested
in this order; the first that applies is the reason the customer is left out:

0. ``already_loaded`` — the customer already has a lead in this campaign (counted on its
   own, never duplicated). With ``reload_done`` (daily lists, which meet the same
   customer again next year) only an open lead counts; a finished one is re-armed.
1. ``dnc`` — a do-not-call block in force on the customer or on one of their numbers;
2. ``blacklist`` — the same for a blacklist block;
3. ``no_consent`` — only when the campaign requires consent: no marketing consent, or a
   do-not-market block in force;
4. ``reserved`` — a VIP (``vip_level`` set) or account-manager customer (seed 002);
5. ``other_campaign`` — an open lead (not done, not excluded) in another campaign that is
   in pilot, active or paused;
6. ``recent_contact`` — only when ``contacted_within_days`` is given: an outbound call
   dialed to the customer within the last N × 24 hours;
7. ``no_valid_number`` — no number marked valid.

Compliance comes first (legal blocks, then consent), then the business's own claims on
the customer, then what would only waste a dial. The dial-time checks
(``dialing.leads.block_reason``) still run on every claim: a block that arrives after
the load is caught there.

Every test is an ``Exists()`` subquery on an indexed column, so a classification is one
SELECT whatever the list. Candidates given as ids (possibly a million, from a file) are
first written, ``CHUNK`` at a time, to a temporary table of the connection, which the
SELECT joins like a segment's filter: one query per chunk would make PostgreSQL hash the
subqueries' tables again for every chunk. The preview is that SELECT with a ``GROUP BY``;
the load reads its rows ``CHUNK`` at a time from a cursor and writes each chunk's leads
with ``calldeck.bulk.bulk_insert`` (plain rows: executemany or COPY). Nothing runs a
query per customer.

The pilot (seed 004 第三步 4) is a seeded random sample of the list dialed first: while
a campaign with a pilot is in status pilot only the ``PILOT`` leads are dialed
(``dialing.leads._claimable``); the rest wait (``WAITING``) until ``pilot_roll_out``,
which the move to active triggers, makes them main leads.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import DatabaseDefault, RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calldeck.accounts import access
from calldeck.accounts.models import User
from calldeck.audit.services import audit_record
from calldeck.bulk import bulk_insert
from calldeck.calls.models import Call, Direction
from calldeck.campaigns.models import (
    Campaign,
    CampaignLead,
    CampaignStatus,
    LeadPhase,
    LeadStatus,
    ListLoad,
    ListSource,
    Pilot,
)
from calldeck.campaigns.services import _lock, _require
from calldeck.customers.models import (
    BlockKind,
    Customer,
    ImportJob,
    ImportKind,
    ImportStatus,
    PhoneNumber,
    Segment,
    blocked_customers_q,
)

S = CampaignStatus

# Ids written to the id table per INSERT, classified rows read per fetch, leads written
# per INSERT.
CHUNK = 5000

ALREADY_LOADED = "already_loaded"
# Exclusion reasons in the order they are tested and shown; the first that applies wins.
REASONS: tuple[str, ...] = (
    "dnc",
    "blacklist",
    "no_consent",
    "reserved",
    "other_campaign",
    "recent_contact",
    "no_valid_number",
)
REASON_LABELS = {
    ALREADY_LOADED: _("Already in this campaign"),
    "dnc": _("Do not call"),
    "blacklist": _("Blacklist"),
    "no_consent": _("No marketing consent (or do not market)"),
    "reserved": _("VIP or account manager customer"),
    "other_campaign": _("In another running campaign"),
    "recent_contact": _("Contacted recently"),
    "no_valid_number": _("No valid number"),
}

# Campaigns whose open leads keep a customer out of other campaigns' lists.
RUNNING_STATUSES = (S.PILOT, S.ACTIVE, S.PAUSED)
# Campaigns that may still take new customers.
LOADABLE_STATUSES = frozenset({S.DRAFT, S.PILOT, S.ACTIVE, S.PAUSED})
# Statuses in which a pilot may be drawn.
PILOT_STATUSES = frozenset({S.DRAFT, S.PILOT})
FINISHED_LEAD_STATUSES = (LeadStatus.DONE, LeadStatus.EXCLUDED)

PILOT_MIN, PILOT_MAX, PILOT_DEFAULT = 100, 200, 150
MAX_CONTACT_DAYS = 3650

LOAD_CLOSED = _("A campaign in status “%(status)s” takes no more customers.")
NO_CANDIDATES = _("Choose the customers to load: a segment or a finished import.")
BOTH_CANDIDATES = _("Give either customers or customer ids, not both.")
OTHER_CLIENT = _("This belongs to another client.")
IMPORT_NOT_DONE = _("Only a finished customer import can be loaded.")
CONTACT_DAYS_RANGE = _("“Contacted within” must be between 1 and %(max)s days.")
PILOT_SIZE_RANGE = _("The pilot sample must be between %(min)s and %(max)s customers.")
PILOT_STATUS = _("A pilot is drawn while the campaign is a draft or in pilot, not “%(status)s”.")
PILOT_EMPTY = _("There are no new leads to draw a pilot from: load customers first.")
PILOT_SHORT = _("Only %(drawn)s new leads were left to draw from: all of them are in the pilot.")
SEED_RANGE = _("The seed must be a whole number from 0 to 9223372036854775807.")


@dataclass(frozen=True)
class LoadPreview:
    """What a load would do: how many candidates, how many go in, and why the rest not.

    ``excluded`` holds every reason of ``REASONS``, in that order, zeros included;
    ``unknown`` counts ids given that are not customers of the campaign's client.
    """

    candidates: int
    loadable: int
    excluded: dict[str, int]
    already_loaded: int
    unknown: int = 0

    @property
    def excluded_total(self) -> int:
        return sum(self.excluded.values())

    def rows(self) -> list[tuple[str, Any, int]]:
        """(reason, label, count) in display order, "already loaded" last."""
        rows = [(reason, REASON_LABELS[reason], n) for reason, n in self.excluded.items()]
        return [*rows, (ALREADY_LOADED, REASON_LABELS[ALREADY_LOADED], self.already_loaded)]


# --- the classification --------------------------------------------------------------


def _blocked(kind: str, client_id: int, now: dt.datetime) -> Q:
    return blocked_customers_q(client_id=client_id, kinds=[kind], now=now)


def _reason(
    campaign: Campaign,
    *,
    now: dt.datetime,
    contacted_within_days: int | None,
    reload_done: bool,
) -> Case:
    """The first exclusion reason of a customer row, "" when it may be loaded."""
    client_id = campaign.client_id
    own = CampaignLead.objects.filter(campaign_id=campaign.pk, customer_id=OuterRef("pk"))
    if reload_done:
        own = own.exclude(status__in=FINISHED_LEAD_STATUSES)
    whens = [
        When(Exists(own), then=Value(ALREADY_LOADED)),
        When(_blocked(BlockKind.DO_NOT_CALL, client_id, now), then=Value("dnc")),
        When(_blocked(BlockKind.BLACKLIST, client_id, now), then=Value("blacklist")),
    ]
    if campaign.requires_consent:
        no_consent = Q(consent_marketing=False) | _blocked(BlockKind.DO_NOT_MARKET, client_id, now)
        whens.append(When(no_consent, then=Value("no_consent")))
    whens.append(When(~Q(vip_level="") | Q(account_manager__isnull=False), then=Value("reserved")))
    other = (
        CampaignLead.objects.filter(
            customer_id=OuterRef("pk"), campaign__status__in=RUNNING_STATUSES
        )
        .exclude(campaign_id=campaign.pk)
        .exclude(status__in=FINISHED_LEAD_STATUSES)
    )
    whens.append(When(Exists(other), then=Value("other_campaign")))
    if contacted_within_days:
        since = now - dt.timedelta(days=contacted_within_days)
        recent = Call.objects.filter(
            customer_id=OuterRef("pk"), direction=Direction.OUTBOUND, dialed_at__gte=since
        )
        whens.append(When(Exists(recent), then=Value("recent_contact")))
    valid = PhoneNumber.objects.filter(customer_id=OuterRef("pk"), is_valid=True)
    whens.append(When(~Exists(valid), then=Value("no_valid_number")))
    return Case(*whens, default=Value(""), output_field=CharField())


def _check_days(contacted_within_days: int | None) -> None:
    if contacted_within_days is not None and not 1 <= contacted_within_days <= MAX_CONTACT_DAYS:
        raise ValidationError(
            {
                "contacted_within_days": ValidationError(
                    CONTACT_DAYS_RANGE, code="days_range", params={"max": MAX_CONTACT_DAYS}
                )
            }
        )


def _check_input(customers: QuerySet[Customer] | None, customer_ids: Any) -> None:
    if customers is None and customer_ids is None:
        raise ValidationError(NO_CANDIDATES, code="no_candidates")
    if customers is not None and customer_ids is not None:
        raise ValidationError(BOTH_CANDIDATES, code="both_candidates")


def _id_chunks(customer_ids: Iterable[int]) -> Iterator[list[int]]:
    """The ids in chunks of at most ``CHUNK``."""
    iterator = iter(customer_ids)
    while chunk := [int(value) for value in islice(iterator, CHUNK)]:
        yield chunk


@contextmanager
def _id_table(customer_ids: Iterable[int]) -> Iterator[tuple[str, int]]:
    """The ids in a temporary table of this connection: (its quoted name, distinct ids).

    Candidates given as ids — a million from a file — become one more table to join, so
    that they are classified by the same single query as a segment, not by a query per
    chunk that would scan the subqueries' tables again each time. Written in chunks of
    ``CHUNK``; a repeated id is kept once. Use inside a transaction: on an error its
    rollback drops the table (DDL is transactional on SQLite and PostgreSQL).
    """
    table = connection.ops.quote_name(f"calldeck_list_ids_{secrets.token_hex(6)}")
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {table} (id bigint PRIMARY KEY)")
        for chunk in _id_chunks(customer_ids):
            values = ", ".join(["(%s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} (id) VALUES {values} ON CONFLICT DO NOTHING",  # noqa: S608
                chunk,
            )
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
        given = int(cursor.fetchone()[0])
    yield table, given
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {table}")


@contextmanager
def _candidates(
    campaign: Campaign,
    *,
    customers: QuerySet[Customer] | None,
    customer_ids: Iterable[int] | None,
) -> Iterator[tuple[QuerySet[Customer], int | None]]:
    """The candidates as one queryset of the campaign's client; and, for ids, how many
    distinct ids were given (to count those that are not the client's customers)."""
    if customers is not None:
        yield customers.filter(client_id=campaign.client_id).order_by(), None
        return
    assert customer_ids is not None
    with _id_table(customer_ids) as (table, given):
        ids = RawSQL(f"SELECT id FROM {table}", ())  # noqa: S608, S611
        yield Customer.objects.filter(client_id=campaign.client_id, pk__in=ids), given


def _counts(rows: Iterable[tuple[str, int]]) -> tuple[Counter[str], int]:
    counter: Counter[str] = Counter()
    for reason, n in rows:
        counter[reason] += n
    return counter, sum(counter.values())


def _preview_from(counter: Counter[str], *, candidates: int, unknown: int) -> LoadPreview:
    excluded = {reason: counter.get(reason, 0) for reason in REASONS}
    return LoadPreview(
        candidates=candidates,
        loadable=counter.get("", 0),
        excluded=excluded,
        already_loaded=counter.get(ALREADY_LOADED, 0),
        unknown=unknown,
    )


@transaction.atomic
def list_load_preview(
    *,
    campaign: Campaign,
    customers: QuerySet[Customer] | None = None,
    customer_ids: Iterable[int] | None = None,
    contacted_within_days: int | None = None,
    reload_done: bool = False,
    now: dt.datetime | None = None,
) -> LoadPreview:
    """How many of the candidates a load would put in, and why the others would stay out.

    Each candidate is counted once, under the first reason that applies (see the module
    docstring for the order), by one ``GROUP BY`` query. Customers of another client are
    never candidates; ids that are not the client's customers are counted as ``unknown``.
    """
    _check_input(customers, customer_ids)
    _check_days(contacted_within_days)
    now = now or timezone.now()
    reason = _reason(
        campaign, now=now, contacted_within_days=contacted_within_days, reload_done=reload_done
    )
    with _candidates(campaign, customers=customers, customer_ids=customer_ids) as (qs, given):
        rows = (
            qs.annotate(reason=reason)
            .values("reason")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("reason", "n")
        )
        counter, candidates = _counts(rows)
    unknown = given - candidates if given is not None else 0
    return _preview_from(counter, candidates=candidates, unknown=unknown)


# --- loading ---------------------------------------------------------------------------


def _leads_insert(template: CampaignLead, customer_ids: list[int]) -> None:
    """One lead per customer id, every other column as in ``template``.

    Each column is prepared for the database once, and the rows are written as plain
    tuples (``calldeck.bulk.bulk_insert``: COPY on PostgreSQL); ``bulk_create`` prepared
    every column of every row in Python, which was most of a large load's time. A column
    whose value is None is left to its NULL default.
    """
    columns: list[str] = []
    values: list[Any] = []
    at = -1
    for model_field in CampaignLead._meta.concrete_fields:
        column = str(model_field.column)
        if model_field.primary_key:
            continue
        if model_field.attname == "customer_id":
            at = len(values)
            columns.append(column)
            values.append(None)
            continue
        value = getattr(template, model_field.attname)
        if value is None or isinstance(value, DatabaseDefault):
            continue
        columns.append(column)
        values.append(model_field.get_db_prep_save(value, connection))
    before, after = tuple(values[:at]), tuple(values[at + 1 :])
    bulk_insert(CampaignLead, columns, ((*before, pk, *after) for pk in customer_ids))


def _candidates_default(
    *,
    customers: QuerySet[Customer] | None,
    customer_ids: Iterable[int] | None,
    segment: Segment | None,
    import_job: ImportJob | None,
) -> tuple[QuerySet[Customer] | None, Iterable[int] | None]:
    """Without explicit candidates, the segment's customers or the import's ids."""
    if customers is not None or customer_ids is not None:
        return customers, customer_ids
    if segment is not None:
        from calldeck.customers.segments import segment_customers

        return segment_customers(segment), None
    if import_job is not None:
        from calldeck.customers.importing.job_files import job_customer_ids

        return None, job_customer_ids(import_job)
    return None, None


def _check_sources(
    campaign: Campaign, *, segment: Segment | None, import_job: ImportJob | None
) -> None:
    if segment is not None and segment.client_id != campaign.client_id:
        raise ValidationError({"segment": ValidationError(OTHER_CLIENT, code="other_client")})
    if import_job is not None:
        if import_job.client_id != campaign.client_id:
            raise ValidationError(
                {"import_job": ValidationError(OTHER_CLIENT, code="other_client")}
            )
        if import_job.status != ImportStatus.DONE or import_job.kind != ImportKind.CUSTOMERS:
            raise ValidationError(
                {"import_job": ValidationError(IMPORT_NOT_DONE, code="import_not_done")}
            )


def pilot_open(campaign: Campaign) -> Pilot | None:
    """The campaign's pilot that is not rolled out yet, if any (there is at most one)."""
    return Pilot.objects.filter(campaign=campaign, rolled_out_at__isnull=True).first()


@transaction.atomic
def list_load(
    *,
    actor: User | None,
    campaign: Campaign,
    customers: QuerySet[Customer] | None = None,
    customer_ids: Iterable[int] | None = None,
    contacted_within_days: int | None = None,
    source: ListSource,
    segment: Segment | None = None,
    import_job: ImportJob | None = None,
    reload_done: bool = False,
    now: dt.datetime | None = None,
) -> ListLoad:
    """Load the candidates that pass the exclusions into the campaign, in one transaction.

    Candidates are ``customers`` or ``customer_ids``; without either, the segment's
    customers or the import's. New leads are main leads, or wait for the roll-out while
    the campaign has an open pilot. The ``ListLoad`` records the candidates, how many were
    loaded and the count of each reason (``excluded``, with ``already_loaded`` and
    ``unknown`` ids too). ``actor`` None is the system (the daily lists), which is not
    checked for permission; anyone else needs a list loader's role for the client.

    One query classifies every candidate; its rows are read ``CHUNK`` at a time and each
    chunk's leads are written by one bulk insert. Takes the campaign's row lock, so two loads
    into one campaign queue.
    """
    if actor is not None:
        _require(actor, access.LIST_LOADERS, campaign.client_id)
    _check_days(contacted_within_days)
    _check_sources(campaign, segment=segment, import_job=import_job)
    customers, customer_ids = _candidates_default(
        customers=customers, customer_ids=customer_ids, segment=segment, import_job=import_job
    )
    _check_input(customers, customer_ids)
    campaign = _lock(campaign)
    if campaign.status not in LOADABLE_STATUSES:
        raise ValidationError(
            LOAD_CLOSED, code="closed", params={"status": campaign.get_status_display()}
        )
    now = now or timezone.now()
    phase = LeadPhase.WAITING if pilot_open(campaign) else LeadPhase.MAIN
    options: dict[str, Any] = {}
    if contacted_within_days:
        options["contacted_within_days"] = contacted_within_days
    if reload_done:
        options["reload_done"] = True
    load = ListLoad.objects.create(
        campaign=campaign,
        source=source,
        segment=segment,
        import_job=import_job,
        options=options,
        created_by=actor,
        created_at=now,
    )
    template = CampaignLead(
        campaign_id=campaign.pk,
        phase=phase,
        list_load=load,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    reason = _reason(
        campaign, now=now, contacted_within_days=contacted_within_days, reload_done=reload_done
    )
    # A finished lead of this campaign: with ``reload_done`` it is re-armed, not duplicated.
    finished = Exists(
        CampaignLead.objects.filter(campaign_id=campaign.pk, customer_id=OuterRef("pk"))
    )
    counter: Counter[str] = Counter()
    with _candidates(campaign, customers=customers, customer_ids=customer_ids) as (qs, given):
        rows = (
            qs.annotate(reason=reason, rearm=finished if reload_done else Value(False))
            .values_list("pk", "reason", "rearm")
            .iterator(chunk_size=CHUNK)
        )
        while chunk := list(islice(rows, CHUNK)):
            fresh: list[int] = []
            rearm: list[int] = []
            for pk, why, again in chunk:
                counter[why] += 1
                if not why:
                    (rearm if again else fresh).append(pk)
            if fresh:
                _leads_insert(template, fresh)
            if rearm:
                # A customer met again (next year's birthday): their finished lead restarts.
                CampaignLead.objects.filter(campaign_id=campaign.pk, customer_id__in=rearm).update(
                    status=LeadStatus.NEW,
                    done_reason="",
                    phase=phase,
                    list_load=load,
                    attempts=0,
                    next_attempt_at=now,
                    assigned_agent=None,
                    claimed_by=None,
                    claimed_by_dialer="",
                    claimed_at=None,
                    updated_at=now,
                )
    candidates = sum(counter.values())
    unknown = given - candidates if given is not None else 0
    preview = _preview_from(counter, candidates=candidates, unknown=unknown)
    load.candidates = preview.candidates
    load.loaded = preview.loadable
    load.excluded = {**preview.excluded, ALREADY_LOADED: preview.already_loaded}
    if unknown:
        load.excluded["unknown"] = unknown
    load.save(update_fields=["candidates", "loaded", "excluded"])
    audit_record(
        actor=actor,
        action="campaign.list_load",
        obj=load,
        client_id=campaign.client_id,
        changes={
            "campaign": campaign.pk,
            "source": source,
            "segment": segment.pk if segment else None,
            "import_job": import_job.pk if import_job else None,
            "options": options,
            "phase": phase,
            "candidates": load.candidates,
            "loaded": load.loaded,
            "excluded": load.excluded,
        },
    )
    return load


# --- the pilot -------------------------------------------------------------------------


@transaction.atomic
def pilot_draw(
    *, actor: User, campaign: Campaign, size: int = PILOT_DEFAULT, seed: int | None = None
) -> Pilot:
    """Draw a seeded random sample of ``size`` new leads into the pilot; the rest wait.

    The sample is ``random.Random(seed).sample`` over the campaign's never-dialed leads
    ordered by id, so the same seed over the same list draws the same customers. Fewer
    such leads than ``size``: all are drawn (``Pilot.drawn < Pilot.size`` says so).
    Drawing again before the roll-out replaces the open pilot: its leads never dialed
    go back to waiting first (those already dialed stay in the pilot, with their retries).
    """
    _require(actor, access.LIST_LOADERS, campaign.client_id)
    campaign = _lock(campaign)
    if campaign.status not in PILOT_STATUSES:
        raise ValidationError(
            PILOT_STATUS, code="pilot_status", params={"status": campaign.get_status_display()}
        )
    if not PILOT_MIN <= size <= PILOT_MAX:
        raise ValidationError(
            {
                "size": ValidationError(
                    PILOT_SIZE_RANGE, code="size_range", params={"min": PILOT_MIN, "max": PILOT_MAX}
                )
            }
        )
    if seed is None:
        seed = secrets.randbelow(2**31)
    if not 0 <= seed < 2**63:
        raise ValidationError({"seed": ValidationError(SEED_RANGE, code="seed_range")})
    now = timezone.now()
    leads = CampaignLead.objects.filter(campaign=campaign)
    replaced = list(Pilot.objects.filter(campaign=campaign, rolled_out_at__isnull=True))
    undialed = Q(status=LeadStatus.NEW, attempts=0)
    if replaced:
        leads.filter(undialed, phase=LeadPhase.PILOT).update(
            phase=LeadPhase.WAITING, updated_at=now
        )
    eligible = list(
        leads.filter(undialed, phase__in=[LeadPhase.MAIN, LeadPhase.WAITING])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not eligible:
        raise ValidationError(PILOT_EMPTY, code="pilot_empty")
    sample = random.Random(seed).sample(eligible, min(size, len(eligible)))
    leads.filter(pk__in=sample).update(phase=LeadPhase.PILOT, updated_at=now)
    waiting = leads.filter(phase=LeadPhase.MAIN, status=LeadStatus.NEW).update(
        phase=LeadPhase.WAITING, updated_at=now
    )
    for old in replaced:
        old.delete()
    pilot = Pilot(
        campaign=campaign, seed=seed, size=size, drawn=len(sample), created_by=actor, created_at=now
    )
    pilot.full_clean()
    pilot.save()
    audit_record(
        actor=actor,
        action="campaign.pilot_draw",
        obj=pilot,
        client_id=campaign.client_id,
        changes={
            "campaign": campaign.pk,
            "seed": seed,
            "size": size,
            "drawn": len(sample),
            "waiting": waiting,
            "replaced": [{"seed": p.seed, "drawn": p.drawn} for p in replaced],
        },
    )
    return pilot


@transaction.atomic
def pilot_roll_out(*, actor: User, campaign: Campaign) -> int:
    """End the open pilot: the waiting leads become main leads; how many did.

    Nothing to do (0) without an open pilot. Called by ``services.campaign_transition``
    when a campaign goes active, so activating a piloted campaign dials its whole list.
    """
    _require(actor, access.LIST_LOADERS, campaign.client_id)
    campaign = _lock(campaign)
    pilot = pilot_open(campaign)
    if pilot is None:
        return 0
    now = timezone.now()
    rolled = CampaignLead.objects.filter(campaign=campaign, phase=LeadPhase.WAITING).update(
        phase=LeadPhase.MAIN, updated_at=now
    )
    pilot.rolled_out_at = now
    pilot.save(update_fields=["rolled_out_at"])
    audit_record(
        actor=actor,
        action="campaign.pilot_roll_out",
        obj=pilot,
        client_id=campaign.client_id,
        changes={"campaign": campaign.pk, "leads": rolled},
    )
    return rolled
