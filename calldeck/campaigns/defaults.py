"""The standard disposition set and retry rules a new campaign starts from."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from calldeck.accounts.models import Client
from calldeck.campaigns.models import (
    RIGHT_PARTY_CLASSES,
    Campaign,
    Disposition,
    DispositionClass,
    DispositionSet,
    RetryOutcome,
    RetryRule,
)

D = DispositionClass

# (code, name, class, hotkey)
STANDARD_DISPOSITIONS = [
    ("sale", _("Sale"), D.SUCCESS, "1"),
    ("callback", _("Call back later"), D.CALLBACK, "2"),
    ("not_interested", _("Not interested"), D.CONTACT, "3"),
    ("has_product", _("Already has a similar product"), D.CONTACT, "4"),
    ("not_present", _("Customer not present"), D.NON_CONTACT, "5"),
    ("voicemail", _("Answering machine / voicemail"), D.NON_CONTACT, "6"),
    ("dnc", _("Do not call again"), D.DO_NOT_CALL, "7"),
    ("wrong_number", _("Wrong number"), D.WRONG_NUMBER, "8"),
    ("dropped", _("Call dropped"), D.NON_CONTACT, "9"),
]

# Minutes before a lead is tried again after each outcome.
STANDARD_RETRY_MINUTES = {
    RetryOutcome.NO_ANSWER: 120,
    RetryOutcome.BUSY: 30,
    RetryOutcome.MACHINE: 240,
    RetryOutcome.ABANDONED: 60,
    RetryOutcome.FAILED: 60,
    RetryOutcome.NON_CONTACT: 180,
}


@transaction.atomic
def disposition_set_create_standard(*, client: Client, name: str | None = None) -> DispositionSet:
    dset = DispositionSet.objects.create(client=client, name=name or str(_("Standard outcomes")))
    Disposition.objects.bulk_create(
        Disposition(
            disposition_set=dset,
            code=code,
            name=str(label),
            cls=cls,
            counts_as_contact=cls in RIGHT_PARTY_CLASSES,
            hotkey=hotkey,
            position=i,
        )
        for i, (code, label, cls, hotkey) in enumerate(STANDARD_DISPOSITIONS)
    )
    return dset


def retry_rules_create_standard(*, campaign: Campaign) -> None:
    RetryRule.objects.bulk_create(
        RetryRule(campaign=campaign, outcome=outcome, delay_minutes=minutes)
        for outcome, minutes in STANDARD_RETRY_MINUTES.items()
    )
