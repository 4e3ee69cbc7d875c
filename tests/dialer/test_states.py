"""The agent and call state tables (pure; no database)."""

from __future__ import annotations

import pytest

from dialer.states import (
    AGENT_TRANSITIONS,
    AgentEvent,
    AgentState,
    CallEvent,
    CallState,
    InvalidTransition,
    agent_allowed_events,
    agent_next_state,
    call_next_state,
)


def test_it_walks_the_preview_cycle() -> None:
    state = AgentState.LOGGED_OUT
    for event, expected in [
        (AgentEvent.LOGIN, AgentState.READY),
        (AgentEvent.NEXT, AgentState.PREVIEW),
        (AgentEvent.DIAL, AgentState.DIALING),
        (AgentEvent.ANSWERED, AgentState.TALKING),
        (AgentEvent.HANGUP, AgentState.WRAPUP),
        (AgentEvent.WRAPUP_SAVED, AgentState.READY),
    ]:
        state = agent_next_state(state, event)
        assert state == expected


def test_it_allows_only_saving_the_outcome_in_wrapup() -> None:
    # The mandatory wrap-up rule is the table itself: one way out of WRAPUP.
    assert agent_allowed_events(AgentState.WRAPUP) == {AgentEvent.WRAPUP_SAVED}
    for event in AgentEvent:
        if event is not AgentEvent.WRAPUP_SAVED:
            with pytest.raises(InvalidTransition, match="not allowed in state 'wrapup'"):
                agent_next_state(AgentState.WRAPUP, event)


def test_it_cannot_pause_or_leave_during_a_call() -> None:
    for state in (AgentState.DIALING, AgentState.TALKING):
        for event in (AgentEvent.PAUSE, AgentEvent.LOGOUT, AgentEvent.NEXT):
            assert (state, event) not in AGENT_TRANSITIONS


def test_it_returns_to_ready_when_nobody_answers() -> None:
    assert agent_next_state(AgentState.DIALING, AgentEvent.NOT_CONNECTED) == AgentState.READY


def test_it_walks_the_call_table() -> None:
    state = CallState.DIALING
    for event in (CallEvent.RING, CallEvent.ANSWER, CallEvent.CONNECT, CallEvent.HANGUP):
        state = call_next_state(state, event)
    assert state == CallState.ENDED
    with pytest.raises(InvalidTransition):
        call_next_state(CallState.ENDED, CallEvent.ANSWER)
