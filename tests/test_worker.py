"""The task worker embedded in the web process: when it starts, what each turn does."""

from __future__ import annotations

import importlib
import sys
import threading
from typing import Any

import pytest

from calldeck import worker
from calldeck.customers.models import ImportJob, ImportStatus


@pytest.fixture(autouse=True)
def no_threads_left(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each test sees a process that started no worker; no real loop ever runs here.
    monkeypatch.setattr(worker, "_started", {})
    monkeypatch.setattr(worker, "close_old_connections", lambda: None)


class FakeThread:
    made: list[FakeThread] = []

    def __init__(self, *, target: Any, name: str, daemon: bool) -> None:
        self.target, self.name, self.daemon = target, name, daemon
        self.started = False
        FakeThread.made.append(self)

    def start(self) -> None:
        self.started = True

    def is_alive(self) -> bool:
        return self.started


@pytest.fixture
def fake_thread(monkeypatch: pytest.MonkeyPatch) -> type[FakeThread]:
    FakeThread.made = []
    monkeypatch.setattr("calldeck.worker.threading.Thread", FakeThread)
    return FakeThread


def test_it_starts_nothing_unless_asked(settings: Any, fake_thread: type[FakeThread]) -> None:
    settings.CALLDECK_EMBEDDED_WORKER = False
    assert worker.start_embedded() is None
    assert fake_thread.made == []


def test_it_starts_one_daemon_thread_per_process(
    settings: Any, fake_thread: type[FakeThread]
) -> None:
    settings.CALLDECK_EMBEDDED_WORKER = True
    first = worker.start_embedded()
    second = worker.start_embedded()
    assert first is second
    assert len(fake_thread.made) == 1
    thread = fake_thread.made[0]
    assert thread.started and thread.daemon and thread.name == "calldeck-embedded-worker"


def test_it_starts_again_if_the_thread_died(settings: Any, fake_thread: type[FakeThread]) -> None:
    settings.CALLDECK_EMBEDDED_WORKER = True
    first = worker.start_embedded()
    assert isinstance(first, FakeThread)
    first.started = False  # it died
    assert worker.start_embedded() is not first
    assert len(fake_thread.made) == 2


def test_it_is_started_by_the_asgi_module(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bool] = []
    monkeypatch.setattr(worker, "start_embedded", lambda: calls.append(True))
    monkeypatch.delitem(sys.modules, "calldeck.asgi", raising=False)
    importlib.import_module("calldeck.asgi")
    assert calls == [True]


def test_it_checks_daily_lists_about_once_a_minute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1000.0]
    due: list[Any] = []

    def enqueue_due(now: Any) -> int:
        due.append(now)
        return 0

    monkeypatch.setattr("calldeck.campaigns.daily.daily_lists_enqueue_due", enqueue_due)
    w = worker.EmbeddedWorker(clock=lambda: clock[0])
    monkeypatch.setattr(w, "run_tasks", lambda: None)
    assert w.step()
    clock[0] += 30
    w.step()
    assert len(due) == 1  # not yet a minute
    clock[0] += 31
    w.step()
    assert len(due) == 2


def test_it_logs_errors_and_goes_on(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(now: Any) -> int:
        raise RuntimeError("daily lists broke")

    monkeypatch.setattr("calldeck.campaigns.daily.daily_lists_enqueue_due", broken)
    ran: list[bool] = []
    minutes = iter(range(0, 10_000, 61))
    w = worker.EmbeddedWorker(clock=lambda: float(next(minutes)))
    monkeypatch.setattr(w, "run_tasks", lambda: ran.append(True))
    assert w.step() is False
    assert "daily lists broke" in caplog.text
    # The loop waits longer after an error, then carries on.
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        w.running = len(sleeps) < 2

    w.sleep = sleep
    w.run()
    assert sleeps == [worker.ERROR_PAUSE_SECONDS, worker.ERROR_PAUSE_SECONDS]
    assert len(ran) == 3


@pytest.mark.django_db(transaction=True)
def test_it_runs_queued_tasks_in_a_thread(settings: Any, tmp_path: Any) -> None:
    """The backend's worker runs an import queued on the database, off the main thread."""
    from django.core.files.base import ContentFile
    from django.db import connection

    from calldeck.customers import jobs
    from tests.factories import make_client

    settings.MEDIA_ROOT = tmp_path
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    job = ImportJob(
        client=make_client(), file_name="a.csv", columns={"手机": "mobile", "姓名": "name"}
    )
    job.file.save("a.csv", ContentFile("姓名,手机\n张三,13800138000\n".encode()), save=False)
    job.save()
    jobs.import_job_run.enqueue(job.pk)
    w = worker.EmbeddedWorker()

    def run() -> None:
        try:
            w.run_tasks()
        finally:
            connection.close()  # the thread's own connection

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE, job.error
