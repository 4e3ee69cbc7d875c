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
from dataclasses import dataclass, field


@dataclass(order=True)
class _ManualTimer:
    due: float
    seq: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._timers: list[_ManualTimer] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], None]) -> _ManualTimer:
        timer = _ManualTimer(self._now + max(0.0, delay), next(self._seq), callback)
        heapq.heappush(self._timers, timer)
        return timer

    def advance(self, seconds: float) -> None:
        """Move time forward, running each timer at its own due time."""
        target = self._now + seconds
        while self._timers and self._timers[0].due <= target:
            timer = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            self._now = max(self._now, timer.due)
            timer.callback()
        self._now = target

    @property
    def pending(self) -> int:
        return sum(1 for t in self._timers if not t.cancelled)


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
