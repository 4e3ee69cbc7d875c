"""Clock adapters.

``ManualClock`` is virtual time: nothing happens until ``advance`` moves it, and then every
timer that fell due runs in order, synchronously. Tests and the simulator use it, so an
hour of calls runs in milliseconds. ``LoopClock`` is real time on an asyncio loop that runs
in its own thread; timers may be set from any thread.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable


class _ManualTimer:
    __slots__ = ("callback", "cancelled", "due")

    def __init__(self, due: float, callback: Callable[[], None]) -> None:
        self.due = due
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        # (due, sequence, timer): plain tuples compare fast; the sequence keeps FIFO order.
        self._timers: list[tuple[float, int, _ManualTimer]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], None]) -> _ManualTimer:
        timer = _ManualTimer(self._now + max(0.0, delay), callback)
        heapq.heappush(self._timers, (timer.due, next(self._seq), timer))
        return timer

    def advance(self, seconds: float) -> None:
        """Move time forward, running each timer at its own due time."""
        target = self._now + seconds
        timers = self._timers
        while timers and timers[0][0] <= target:
            due, _seq, timer = heapq.heappop(timers)
            if timer.cancelled:
                continue
            if due > self._now:
                self._now = due
            timer.callback()
        self._now = target

    @property
    def pending(self) -> int:
        return sum(1 for _d, _s, t in self._timers if not t.cancelled)


class _LoopTimer:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._handle: asyncio.TimerHandle | None = None
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True
        self._loop.call_soon_threadsafe(self._cancel_in_loop)

    def _cancel_in_loop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()


class LoopClock:
    """Real time; timers run on ``loop``, which another thread keeps running."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def now(self) -> float:
        return time.time()

    def call_later(self, delay: float, callback: Callable[[], None]) -> _LoopTimer:
        timer = _LoopTimer(self._loop)

        def schedule() -> None:
            if not timer._cancelled:
                timer._handle = self._loop.call_later(max(0.0, delay), callback)

        self._loop.call_soon_threadsafe(schedule)
        return timer
