"""Background tasks of the campaigns app (django-tasks, database backend).

``daily_lists_enqueue_due`` is what a scheduler calls, every minute: it queues
``daily_lists_build_task`` only when a daily list is due and no such task waits yet.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django_tasks import TaskResultStatus, task

from calldeck.campaigns.daily import daily_lists_build_due, daily_lists_enqueue_due

__all__ = [
    "daily_lists_build_task",
    "daily_lists_enqueue_due",
    "list_load_task",
    "task_waiting",
]

# A task row left "running" longer than this belongs to a worker that died.
RUNNING_STALE = dt.timedelta(hours=1)


@task()
def daily_lists_build_task() -> list[int]:
    """Build the daily lists due now; the ids of the runs built (or found built)."""
    return [run.pk for run in daily_lists_build_due(timezone.now())]


@task()
def list_load_task(
    *,
    actor_id: int,
    campaign_id: int,
    source: str,
    segment_id: int | None = None,
    import_job_id: int | None = None,
    contacted_within_days: int | None = None,
) -> int:
    """Load a large list in the background, as its page would; the ``ListLoad``'s id.

    The actor's rights are checked again here, when the load runs.
    """
    from calldeck.accounts.models import User
    from calldeck.campaigns.lists import list_load
    from calldeck.campaigns.models import Campaign
    from calldeck.customers.models import ImportJob, Segment

    load = list_load(
        actor=User.objects.get(pk=actor_id),
        campaign=Campaign.objects.get(pk=campaign_id),
        source=source,  # type: ignore[arg-type]
        segment=Segment.objects.get(pk=segment_id) if segment_id else None,
        import_job=ImportJob.objects.get(pk=import_job_id) if import_job_id else None,
        contacted_within_days=contacted_within_days,
    )
    return load.pk


def task_waiting(queued: Any) -> bool:
    """Whether a run of the task ``queued`` is waiting or running on the database backend.

    Other backends (the immediate one in tests and one-off tools) keep no queue: never.
    """
    try:
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - the backend is a dependency
        return False
    if not isinstance(queued.get_backend(), DatabaseBackend):
        return False
    results = DBTaskResult.objects.filter(task_path=queued.module_path)
    fresh_since = timezone.now() - RUNNING_STALE
    return (
        results.filter(status=TaskResultStatus.READY).exists()
        or results.filter(status=TaskResultStatus.RUNNING, started_at__gte=fresh_since).exists()
    )
