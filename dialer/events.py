"""Events the telephony port reports about a call. Frozen, so they can be shared freely."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Outcome(enum.StrEnum):
    """How an outbound attempt ended, as stored on the call record."""

    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    INVALID = "invalid"
    MACHINE = "machine"
    ABANDONED = "abandoned"
    FAILED = "failed"


class Party(enum.StrEnum):
    AGENT = "agent"
    CUSTOMER = "customer"
    SYSTEM = "system"


@dataclass(frozen=True)
class CallRinging:
    ref: str
    at: float


@dataclass(frozen=True)
class CallAnswered:
    ref: str
    at: float
    machine: bool = False


@dataclass(frozen=True)
class CallNotConnected:
    """The attempt ended without anyone answering."""

    ref: str
    at: float
    outcome: Outcome
    sip_code: int | None = None


@dataclass(frozen=True)
class CallHungUp:
    """An answered call ended; ``by`` says which side ended it."""

    ref: str
    at: float
    by: Party


TelephonyEvent = CallRinging | CallAnswered | CallNotConnected | CallHungUp
