"""The agent and call state tables (pure; no database)."""

from __future__ import annotations

import pytest

from dialer.states import (
    AGENT_TRANSITIONS,
    CALL_TRANSITIONS,
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


# --- every (state, event) pair of both tables ------------------------------------------

AGENT_PAIRS = [(s, e) for s in AgentState for e in AgentEvent]
CALL_PAIRS = [(s, e) for s in CallState for e in CallEvent]


@pytest.mark.parametrize(("state", "event"), AGENT_PAIRS, ids=lambda v: str(v))
def test_every_agent_pair_follows_the_table(state: AgentState, event: AgentEvent) -> None:
    expected = AGENT_TRANSITIONS.get((state, event))
    if expected is not None:
        assert agent_next_state(state, event) is expected
        assert event in agent_allowed_events(state)
    else:
        with pytest.raises(InvalidTransition) as caught:
            agent_next_state(state, event)
        err = caught.value
        assert (err.machine, err.state, err.event) == ("agent", state.value, event.value)
        assert event not in agent_allowed_events(state)


@pytest.mark.parametrize(("state", "event"), CALL_PAIRS, ids=lambda v: str(v))
def test_every_call_pair_follows_the_table(state: CallState, event: CallEvent) -> None:
    expected = CALL_TRANSITIONS.get((state, event))
    if expected is not None:
        assert call_next_state(state, event) is expected
    else:
        with pytest.raises(InvalidTransition) as caught:
            call_next_state(state, event)
        err = caught.value
        assert (err.machine, err.state, err.event) == ("call", state.value, event.value)


def test_the_tables_name_only_known_states_and_events() -> None:
    # The parametrised product above covers every key; these pin the tables' shape.
    assert len(AGENT_PAIRS) == len(AgentState) * len(AgentEvent)
    assert len(CALL_PAIRS) == len(CallState) * len(CallEvent)
    assert set(AGENT_TRANSITIONS) <= set(AGENT_PAIRS)
    assert set(CALL_TRANSITIONS) <= set(CALL_PAIRS)
    # An ended call is final; only LOGIN leaves LOGGED_OUT.
    assert not [k for k in CALL_TRANSITIONS if k[0] is CallState.ENDED]
    assert agent_allowed_events(AgentState.LOGGED_OUT) == {AgentEvent.LOGIN}
