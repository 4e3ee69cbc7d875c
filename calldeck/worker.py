"""A task worker inside the web process, for `make demo` (``CALLDECK_EMBEDDED_WORKER``).

One daemon thread per process does what ``manage.py db_worker`` and a minute-by-minute
scheduler do in a scaled-out deployment:

* it runs the django-tasks database backend's own ``Worker`` in batch mode (every task
  ready now, then back here), so imports and daily lists run without a second process;
  ``Worker.run`` installs no signal handlers, which only the main thread may do, and
  the web server keeps its own Ctrl-C;
* about once a minute it asks ``daily_lists_enqueue_due`` to queue the daily list build
  when one is due, and deletes uploads left waiting for step 2 over a day
  (``customers.jobs.uploads_waiting_sweep``).

Errors are logged and the loop goes on: a worker that stops silently would leave every
import *queued* with nothing to say why. It is started from ``calldeck/asgi.py`` only,
so management commands, tests and the ``db_worker`` process never start one.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)

# Seconds between looks for ready tasks, and between daily-list checks.
POLL_SECONDS = 1.0
DAILY_EVERY_SECONDS = 60.0
# After an error, wait this long before trying again (no tight loop of tracebacks).
ERROR_PAUSE_SECONDS = 10.0

_lock = threading.Lock()
_started: dict[int, threading.Thread] = {}  # pid → the thread started in that process


def enabled() -> bool:
    return bool(getattr(settings, "CALLDECK_EMBEDDED_WORKER", False))


class EmbeddedWorker:
    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.running = True
        self.next_daily = 0.0
        self.worker_id = f"embedded-{socket.gethostname()}-{os.getpid()}"[:64]

    def run_tasks(self) -> None:
        """Run every task ready now (the backend's worker, batch mode)."""
        from django_tasks_db.management.commands.db_worker import Worker

        Worker(
            queue_names=["*"],
            interval=POLL_SECONDS,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=self.worker_id,
            excluded_queue_names=[],
        ).run()

    def daily_lists(self) -> None:
        """Queue the daily lists when due; at most once per ``DAILY_EVERY_SECONDS``."""
        now = self.clock()
        if now < self.next_daily:
            return
        self.next_daily = now + DAILY_EVERY_SECONDS
        from calldeck.campaigns.daily import daily_lists_enqueue_due
        from calldeck.customers.jobs import uploads_waiting_sweep

        daily_lists_enqueue_due(timezone.now())
        uploads_waiting_sweep()

    def step(self) -> bool:
        """One turn of the loop; whether it went without error."""
        ok = True
        for part in (self.run_tasks, self.daily_lists):
            try:
                part()
            except Exception:
                logger.exception("Embedded worker: %s failed; going on", part.__name__)
                ok = False
            finally:
                close_old_connections()
        return ok

    def run(self) -> None:
        logger.info("Embedded task worker started (%s)", self.worker_id)
        while self.running:
            self.sleep(POLL_SECONDS if self.step() else ERROR_PAUSE_SECONDS)


def start_embedded() -> threading.Thread | None:
    """Start the worker thread if the setting asks for it; once per process."""
    if not enabled():
        return None
    pid = os.getpid()
    with _lock:
        thread = _started.get(pid)
        if thread is None or not thread.is_alive():
            thread = threading.Thread(
                target=EmbeddedWorker().run, name="calldeck-embedded-worker", daemon=True
            )
            _started[pid] = thread
            thread.start()
    return thread
