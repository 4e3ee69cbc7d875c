"""Agent and call state machines, as transition tables.

Theory of operation
-------------------
An agent is always in exactly one ``AgentState``. Something happens to the agent (the
agent asks for the next customer, a call is answered, the agent hangs up, ...) and that is
an ``AgentEvent``. ``AGENT_TRANSITIONS`` maps (state, event) to the next state; a pair that
is missing from the table is not allowed, and ``agent_next_state`` raises
``InvalidTransition`` for it. Nothing else decides what an agent may do, so the rule
"after hang-up the agent cannot take the next customer until the outcome is saved" is the
absence of (WRAPUP, NEXT) from the table, whoever asks — a page, the API, or the engine.

Calls follow ``CALL_TRANSITIONS`` the same way. A call's final states are the outcomes
stored on the call record.

This module is pure: no I/O, no clock, no Django.
"""

from __future__ import annotations

import enum


class InvalidTransition(Exception):
    def __init__(self, machine: str, state: str, event: str) -> None:
        super().__init__(f"{machine}: {event!r} is not allowed in state {state!r}")
        self.machine = machine
        self.state = state
        self.event = event


class AgentState(enum.StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    PREVIEW = "preview"
    DIALING = "dialing"
    TALKING = "talking"
    WRAPUP = "wrapup"
    PAUSED = "paused"


class AgentEvent(enum.StrEnum):
    LOGIN = "login"
    LOGOUT = "logout"
    NEXT = "next"  # a lead is handed to the agent for preview
    SKIP = "skip"  # the agent gives the previewed lead back undialed
    DIAL = "dial"
    ANSWERED = "answered"  # the call reached the agent's ear (person or machine)
    NOT_CONNECTED = "not_connected"  # busy, no answer, invalid, failed
    HANGUP = "hangup"  # either side ended a connected call
    WRAPUP_SAVED = "wrapup_saved"
    PAUSE = "pause"
    RESUME = "resume"
    OFFERED = "offered"  # the engine connects an answered call straight to a ready agent
    UNREACHABLE = "unreachable"  # the agent's phone could not be joined to the call


A = AgentState
E = AgentEvent

AGENT_TRANSITIONS: dict[tuple[AgentState, AgentEvent], AgentState] = {
    (A.LOGGED_OUT, E.LOGIN): A.READY,
    (A.READY, E.LOGIN): A.READY,
    (A.PAUSED, E.LOGIN): A.PAUSED,
    (A.READY, E.NEXT): A.PREVIEW,
    (A.READY, E.OFFERED): A.TALKING,
    (A.READY, E.PAUSE): A.PAUSED,
    (A.READY, E.LOGOUT): A.LOGGED_OUT,
    (A.PREVIEW, E.DIAL): A.DIALING,
    (A.PREVIEW, E.SKIP): A.READY,
    (A.PREVIEW, E.PAUSE): A.PAUSED,
    (A.PREVIEW, E.LOGOUT): A.LOGGED_OUT,
    (A.DIALING, E.ANSWERED): A.TALKING,
    (A.DIALING, E.NOT_CONNECTED): A.READY,
    # Hanging up while it still rings cancels the attempt: no one was reached.
    (A.DIALING, E.HANGUP): A.READY,
    (A.TALKING, E.HANGUP): A.WRAPUP,
    # The engine offered a call and the agent's phone did not answer: paused, call moves on.
    (A.TALKING, E.UNREACHABLE): A.PAUSED,
    (A.WRAPUP, E.WRAPUP_SAVED): A.READY,
    (A.PAUSED, E.RESUME): A.READY,
    (A.PAUSED, E.PAUSE): A.PAUSED,  # changing the pause reason
    (A.PAUSED, E.LOGOUT): A.LOGGED_OUT,
}

# States in which the agent holds a lead and must finish with it before anything else.
AGENT_BUSY_STATES = frozenset({A.DIALING, A.TALKING, A.WRAPUP})


def agent_next_state(state: AgentState, event: AgentEvent) -> AgentState:
    try:
        return AGENT_TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidTransition("agent", state.value, event.value) from None


def agent_allowed_events(state: AgentState) -> frozenset[AgentEvent]:
    return frozenset(event for (s, event) in AGENT_TRANSITIONS if s == state)


class CallState(enum.StrEnum):
    DIALING = "dialing"
    RINGING = "ringing"
    ANSWERED = "answered"  # a person or machine picked up; no agent yet
    CONNECTED = "connected"  # bridged to an agent
    ENDED = "ended"


class CallEvent(enum.StrEnum):
    RING = "ring"
    ANSWER = "answer"
    CONNECT = "connect"
    FAIL = "fail"  # busy, no answer, invalid, congestion: the call ends unanswered
    HANGUP = "hangup"


C = CallState
CE = CallEvent

CALL_TRANSITIONS: dict[tuple[CallState, CallEvent], CallState] = {
    (C.DIALING, CE.RING): C.RINGING,
    (C.DIALING, CE.ANSWER): C.ANSWERED,  # some networks never send 180
    (C.DIALING, CE.FAIL): C.ENDED,
    (C.DIALING, CE.HANGUP): C.ENDED,
    (C.RINGING, CE.ANSWER): C.ANSWERED,
    (C.RINGING, CE.FAIL): C.ENDED,
    (C.RINGING, CE.HANGUP): C.ENDED,
    (C.ANSWERED, CE.CONNECT): C.CONNECTED,
    (C.ANSWERED, CE.HANGUP): C.ENDED,
    (C.CONNECTED, CE.HANGUP): C.ENDED,
}


def call_next_state(state: CallState, event: CallEvent) -> CallState:
    try:
        return CALL_TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidTransition("call", state.value, event.value) from None
