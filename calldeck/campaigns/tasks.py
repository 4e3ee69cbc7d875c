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

__all__ = ["daily_lists_build_task", "daily_lists_enqueue_due", "task_waiting"]

# A task row left "running" longer than this belongs to a worker that died.
RUNNING_STALE = dt.timedelta(hours=1)


@task()
def daily_lists_build_task() -> list[int]:
    """Build the daily lists due now; the ids of the runs built (or found built)."""
    return [run.pk for run in daily_lists_build_due(timezone.now())]


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
