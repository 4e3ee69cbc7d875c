"""Customer data imports: CSV / XLSX files of customers, do-not-call lists, blacklists
and consent records. ``engine.import_file`` is the one entry point that writes.

The names below are loaded on first use, so that ``importing.cleaning`` (run in a
separate process for large files) can be imported before Django's apps are ready.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ImportResult": "engine",
    "Progress": "engine",
    "import_file": "engine",
    "FIELDS": "fields",
    "auto_mapping": "fields",
    "mapping_errors": "fields",
    "ImportFileError": "reader",
    "preview": "reader",
    "ids_path": "job_files",
    "job_customer_ids": "job_files",
    "job_customer_ids_write": "job_files",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
