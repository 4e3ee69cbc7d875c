"""The ports through which time and I/O enter the dialer.

Adapters: ``dialer.clock`` (ManualClock for tests and the simulator, LoopClock for live),
``dialer.telephony.sim`` (the simulated world) and, later, ``dialer.telephony.sip``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from dialer.events import TelephonyEvent


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch, in this clock's time."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` once ``delay`` seconds of this clock's time have passed."""
        ...


EventHandler = Callable[[TelephonyEvent], None]


class Telephony(Protocol):
    def originate(
        self,
        ref: str,
        number: str,
        *,
        ring_timeout_s: float,
        agent_uri: str | None,
        on_event: EventHandler,
    ) -> None:
        """Dial ``number``; report progress for call ``ref`` through ``on_event``.

        With ``agent_uri`` the agent is already on the line (preview dialing) and is
        bridged as soon as the customer answers.
        """
        ...

    def hangup(self, ref: str) -> None:
        """End call ``ref`` from our side (the agent or the system hung up)."""
        ...
