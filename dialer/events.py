"""Events: what the telephony port reports about a call, and what the engine reports.

Telephony events (``TelephonyEvent``) come from an adapter (simulated or SIP) into the
engine. Engine records (``EngineRecord``) go out of the engine to the result sink: one
per step of a call or an agent, so the sink can keep a database, a benchmark or a log
current without asking the engine anything. All are frozen dataclasses.
"""

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


# --- from telephony ------------------------------------------------------------------


@dataclass(frozen=True)
class CallRinging:
    ref: str
    at: float


@dataclass(frozen=True)
class CallAnswered:
    """Someone picked up. With answering-machine detection, ``machine`` is its verdict."""

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
class CallBridged:
    """The answered customer and the agent hear each other."""

    ref: str
    at: float


@dataclass(frozen=True)
class CallBridgeFailed:
    """The agent's phone could not be joined (it did not answer, it is gone)."""

    ref: str
    at: float


@dataclass(frozen=True)
class CallHungUp:
    """An answered call ended; ``by`` says which side ended it."""

    ref: str
    at: float
    by: Party


TelephonyEvent = (
    CallRinging | CallAnswered | CallNotConnected | CallBridged | CallBridgeFailed | CallHungUp
)


# --- from the engine -----------------------------------------------------------------


@dataclass(frozen=True)
class DialPlaced:
    ref: str
    at: float
    campaign: str
    lead: str
    customer: str
    number: str
    agent: str | None  # preview: the agent already on the line
    ring_timeout_s: float


@dataclass(frozen=True)
class DialRinging:
    ref: str
    at: float


@dataclass(frozen=True)
class DialAnswered:
    ref: str
    at: float
    machine: bool


@dataclass(frozen=True)
class DialConnected:
    """The engine joined the answered call to ``agent`` after ``wait_s`` seconds."""

    ref: str
    at: float
    agent: str
    wait_s: float


@dataclass(frozen=True)
class DialAbandoned:
    """Answered and no agent within the connect limit: the customer hears the message."""

    ref: str
    at: float
    campaign: str
    customer: str
    message_played: bool


@dataclass(frozen=True)
class DialEnded:
    ref: str
    at: float
    outcome: Outcome
    by: Party
    agent: str | None
    talk_s: float
    sip_code: int | None = None


@dataclass(frozen=True)
class LeadRefused:
    """The engine would not dial a lead now; the lead source got it back."""

    at: float
    campaign: str
    lead: str
    reason: str
    not_before: float | None


@dataclass(frozen=True)
class AgentChanged:
    agent: str
    at: float
    state: str
    campaign: str | None = None
    ref: str | None = None


@dataclass(frozen=True)
class CampaignIdle:
    """Nothing could be dialed for the campaign; ``reason`` is the lead source's code."""

    campaign: str
    at: float
    reason: str
    message: str


EngineRecord = (
    DialPlaced
    | DialRinging
    | DialAnswered
    | DialConnected
    | DialAbandoned
    | DialEnded
    | LeadRefused
    | AgentChanged
    | CampaignIdle
)
