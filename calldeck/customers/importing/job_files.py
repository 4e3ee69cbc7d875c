"""The customer ids an import job touched, kept in a file beside the job.

A large import touches hundreds of thousands of customers: too many for a JSON column
that every read of the job would load. The ids go to a plain text file, one per line,
through Django's default storage (private, like the upload and the row report), and
are streamed back when a campaign list is loaded from the job.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from calldeck.customers.models import ImportJob

IDS_FOLDER = "imports/ids"


def ids_path(job: ImportJob) -> str:
    """The storage name of the job's customer-ids file."""
    return f"{IDS_FOLDER}/import-{job.pk}.ids"


def job_customer_ids_write(job: ImportJob, ids: Iterable[int]) -> str:
    """Write ``ids`` (one a line), replacing an earlier file of the job; its name."""
    name = ids_path(job)
    # Storage renames rather than overwrites: remove the old file so the name stays fixed.
    if default_storage.exists(name):
        default_storage.delete(name)
    text = "".join(f"{int(customer_id)}\n" for customer_id in ids)
    saved = default_storage.save(name, ContentFile(text.encode("ascii")))
    return str(saved)


def job_customer_ids(job: ImportJob) -> Iterator[int]:
    """The ids written for ``job``, in their order; none when it has no file."""
    name = ids_path(job)
    if not default_storage.exists(name):
        return
    with default_storage.open(name, "rb") as raw:
        for line in io.TextIOWrapper(raw, encoding="ascii"):
            text = line.strip()
            if text:
                yield int(text)
