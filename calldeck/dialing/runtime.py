"""The telephony runtime: where the dialer's ports meet Django in the web process.

Theory of operation
-------------------
Live, one daemon thread runs an asyncio loop that owns the telephony adapter and its
``LoopClock``; requests hand it work with ``call_soon_threadsafe``. Telephony events come
back on that loop, where the ORM must not run, so each is passed to a single worker
thread that applies it to the database in order (one writer also suits SQLite).

In tests ``install_inline`` replaces it with an ``InlineRuntime`` on a ``ManualClock``:
work and events run synchronously in the caller's thread, and the test moves time with
``runtime.clock.advance(seconds)``.

The runtime chooses its adapter from ``CALLDECK_TELEPHONY``; the code that uses it never
changes between simulated and real telephony.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections

from dialer.clock import LoopClock, ManualClock
from dialer.events import TelephonyEvent
from dialer.ports import Telephony
from dialer.telephony.sim import SimTelephony, SimWorld

log = logging.getLogger(__name__)

EventSink = Callable[[int, TelephonyEvent], None]


def _default_sink(call_id: int, event: TelephonyEvent) -> None:
    from calldeck.desk.services import call_handle_event

    call_handle_event(call_id=call_id, event=event)


def sim_world_from_settings() -> SimWorld:
    answer = settings.CALLDECK_SIM_ANSWER_RATE
    # Keep the other outcomes in their usual proportions within what is left.
    rest = 1.0 - answer
    return SimWorld(
        seed=settings.CALLDECK_SIM_SEED,
        speed=settings.CALLDECK_SIM_SPEED,
        answer_rate=answer,
        machine_rate=rest * 0.1,
        busy_rate=rest * 0.25,
        invalid_rate=rest * 0.1,
    )


class InlineRuntime:
    """Synchronous runtime on virtual time, for tests and tools."""

    def __init__(self, world: SimWorld | None = None, sink: EventSink | None = None) -> None:
        self.clock = ManualClock(start=0.0)
        self.telephony: Telephony = SimTelephony(self.clock, world or SimWorld())
        self._sink = sink or _default_sink

    def originate(
        self, call_id: int, number: str, *, ring_timeout_s: float, agent_uri: str
    ) -> None:
        self.telephony.originate(
            str(call_id),
            number,
            ring_timeout_s=ring_timeout_s,
            agent_uri=agent_uri,
            on_event=lambda event: self._sink(call_id, event),
        )

    def hangup(self, call_id: int) -> None:
        self.telephony.hangup(str(call_id))


class ThreadedRuntime:
    """Real time: the adapter on its own event loop thread, events applied by one worker."""

    def __init__(self, sink: EventSink | None = None) -> None:
        if settings.CALLDECK_TELEPHONY != "sim":
            raise NotImplementedError("CALLDECK_TELEPHONY=sip is not available in this version")
        self._sink = sink or _default_sink
        self._loop = asyncio.new_event_loop()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="calldeck-events")
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="calldeck-telephony", daemon=True
        )
        self._thread.start()
        self.clock = LoopClock(self._loop)
        self.telephony: Telephony = SimTelephony(self.clock, sim_world_from_settings())

    def _apply(self, call_id: int, event: TelephonyEvent) -> None:
        try:
            self._sink(call_id, event)
        except Exception:
            log.exception("telephony event %r for call %s could not be applied", event, call_id)
        finally:
            close_old_connections()

    def _on_event(self, call_id: int) -> Callable[[TelephonyEvent], None]:
        def submit(event: TelephonyEvent) -> None:
            self._worker.submit(self._apply, call_id, event)

        return submit

    def originate(
        self, call_id: int, number: str, *, ring_timeout_s: float, agent_uri: str
    ) -> None:
        self._loop.call_soon_threadsafe(
            lambda: self.telephony.originate(
                str(call_id),
                number,
                ring_timeout_s=ring_timeout_s,
                agent_uri=agent_uri,
                on_event=self._on_event(call_id),
            )
        )

    def hangup(self, call_id: int) -> None:
        self._loop.call_soon_threadsafe(self.telephony.hangup, str(call_id))


Runtime = InlineRuntime | ThreadedRuntime

_runtime: Runtime | None = None
_lock = threading.Lock()


def get_runtime() -> Runtime:
    """The process's runtime, started on first use.

    Starting it first ends the calls a previous process left open (it cannot hang them
    up any more), so call this before creating a call row, never after.
    """
    global _runtime
    with _lock:
        if _runtime is None:
            from calldeck.desk.services import calls_recover_orphans

            calls_recover_orphans()
            _runtime = ThreadedRuntime()
            if settings.CALLDECK_EMBEDDED_DIALER:
                # `make demo`: the dialer engine shares this loop and simulated telephony
                # (its refs start with its owner's name, the desk's are call ids).
                from calldeck.dialing import dialer_process

                rt = _runtime
                dialer_process.start_embedded(rt.clock, rt.telephony, rt._loop.call_soon_threadsafe)
        return _runtime


def install(runtime: Runtime | None) -> None:
    """Replace the process's runtime (tests install an InlineRuntime)."""
    global _runtime
    with _lock:
        _runtime = runtime


def install_inline(world: SimWorld | None = None) -> InlineRuntime:
    runtime = InlineRuntime(world)
    install(runtime)
    return runtime
