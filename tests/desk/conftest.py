from __future__ import annotations

from collections.abc import Iterator

import pytest

from calldeck.dialing import runtime
from dialer.telephony.sim import SimWorld


@pytest.fixture
def answering_world() -> SimWorld:
    # Every customer answers after 2–3 s and stays on for 5 minutes at least.
    return SimWorld(
        seed=1,
        answer_rate=1.0,
        machine_rate=0,
        busy_rate=0,
        invalid_rate=0,
        ring_min_s=2,
        ring_max_s=3,
        patience_min_s=300,
        patience_max_s=400,
    )


@pytest.fixture
def inline(answering_world: SimWorld) -> Iterator[runtime.InlineRuntime]:
    rt = runtime.install_inline(answering_world)
    yield rt
    runtime.install(None)


def world(**rates: float) -> SimWorld:
    base = {"answer_rate": 0.0, "machine_rate": 0.0, "busy_rate": 0.0, "invalid_rate": 0.0}
    base.update(rates)
    return SimWorld(seed=1, ring_min_s=2, ring_max_s=3, **base)
