"""The agent's state: one locked row per agent, changed only through ``presence_apply``.

``presence_apply`` asks ``dialer.states`` whether the event is allowed in the current
state, so the desk pages, the API and the telephony callbacks all obey the same table.
Each change closes the previous state into ``AgentStateLog``; the time KPIs (ready, talk,
wrap-up, paused by reason) are sums over that log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from calldeck.calls.models import AgentPresence, AgentState, AgentStateLog
from dialer import states


def presence_for_update(agent_id: int) -> AgentPresence:
    """The agent's presence row, locked until the end of the transaction."""
    AgentPresence.objects.get_or_create(agent_id=agent_id)
    return (
        AgentPresence.objects.select_for_update(of=("self",))
        .select_related("lead", "call")
        .get(agent_id=agent_id)
    )


def presence_apply(
    presence: AgentPresence,
    event: states.AgentEvent,
    *,
    now: dt.datetime | None = None,
    **changes: Any,
) -> AgentPresence:
    """Move a locked presence row by ``event``; raise ``InvalidTransition`` if not allowed.

    ``changes`` sets other fields of the row (lead, call, pause_code, notice) at the same
    time. The state that ends is written to the log unless it was "logged out".
    """
    assert transaction.get_connection().in_atomic_block, "lock the presence row first"
    now = now or timezone.now()
    current = states.AgentState(presence.state)
    new = states.agent_next_state(current, event)
    state_changes = new != current or presence.pause_code != changes.get(
        "pause_code", presence.pause_code
    )
    if state_changes and current != states.AgentState.LOGGED_OUT and now > presence.since:
        AgentStateLog.objects.create(
            agent_id=presence.agent_id,
            state=presence.state,
            pause_code=presence.pause_code,
            campaign_id=presence.lead.campaign_id if presence.lead else None,
            started_at=presence.since,
            ended_at=now,
        )
    if state_changes:
        presence.since = now
    presence.state = AgentState(new.value)
    if new != states.AgentState.PAUSED:
        presence.pause_code = ""
    for field, value in changes.items():
        setattr(presence, field, value)
    presence.save()
    return presence
