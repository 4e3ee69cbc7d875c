from __future__ import annotations

from typing import Any

from calldeck.accounts.models import User
from calldeck.audit.models import AuditEntry


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: Any,
    changes: dict[str, Any] | None = None,
    client_id: int | None = None,
) -> AuditEntry:
    """Write one audit entry; call inside the transaction of the change it records."""
    if client_id is None:
        client_id = getattr(obj, "client_id", None)
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        client_id=client_id,
        changes=changes or {},
    )
