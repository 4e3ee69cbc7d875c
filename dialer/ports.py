"""The ports through which time and I/O enter the dialer.

Adapters: ``dialer.clock`` (ManualClock for tests and the simulator, LoopClock for live),
``dialer.telephony.sim`` (the simulated world) and, later, ``dialer.telephony.sip``; the
lead source, result sink and agent channel are ``dialer.sim.harness`` in the benchmark and
``calldeck.dialing.engine_ports`` against the database.

Every port is synchronous: the engine calls it and goes on. Live, the Django adapters
hand the work to one database thread and wait for it, so the engine's loop never runs
the ORM itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from dialer.events import EngineRecord, Party, TelephonyEvent


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
        bridged as soon as the customer answers. The adapter gives up after
        ``ring_timeout_s`` of ringing and reports NO_ANSWER.
        """
        ...

    def connect(self, ref: str, agent_uri: str) -> None:
        """Join the answered call ``ref`` to the agent's phone: CallBridged or CallBridgeFailed."""
        ...

    def play(self, ref: str, media: str) -> None:
        """Play the recorded message ``media`` to the answered call, then hang it up."""
        ...

    def hangup(self, ref: str) -> None:
        """End call ``ref`` from our side (the agent or the system hung up)."""
        ...


@dataclass(frozen=True)
class Lead:
    """One customer to dial for one campaign, as the lead source hands it over."""

    ref: str
    campaign: str
    customer: str  # the customer's key: contact limits and the 72-hour rule follow it
    number: str
    tz: str | None = None  # the customer's IANA time zone; None = the campaign's
    attempt: int = 1
    contacts_today: int = 0  # dials to this customer today, all campaigns, before this one
    last_abandon_at: float | None = None


@dataclass(frozen=True)
class NoLeads:
    """Why the lead source has nothing to dial now (a stable code and a message)."""

    reason: str  # all_done, outside_window, holiday, waiting_retry, all_blocked, no_leads, ...
    message: str = ""


class LeadSource(Protocol):
    def claim(self, campaign: str, now: float) -> Lead | NoLeads:
        """Take the next lead of ``campaign`` so no one else dials it."""
        ...

    def check(self, lead: Lead, now: float) -> str | None:
        """Just before dialing: why this lead must not be dialed (DNC, blacklist, consent)."""
        ...

    def release(self, lead: Lead, reason: str, not_before: float | None) -> None:
        """Give a claimed lead back undialed, not to be dialed before ``not_before``."""
        ...


class ResultSink(Protocol):
    def record(self, record: EngineRecord) -> None: ...


@dataclass(frozen=True)
class Offer:
    """An answered call handed to an agent's desk (the screen pop)."""

    ref: str
    campaign: str
    lead: str
    customer: str
    number: str


class AgentChannel(Protocol):
    def offer(self, agent: str, offer: Offer) -> None:
        """Show the connected call on the agent's desk."""
        ...

    def ended(self, agent: str, ref: str, by: Party) -> None:
        """The agent's call ended; the agent is in wrap-up until ``Engine.agent_ready``."""
        ...
