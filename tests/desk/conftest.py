from __future__ import annotations

from collections.abc import Iterator

import pytest

from calldeck.dialing import runtime
from dialer.telephony.sim import SimWorld
from tests.factories import sim_world


@pytest.fixture
def answering_world() -> SimWorld:
    # Every customer answers after 2–3 s and stays on for 5 minutes at least.
    return sim_world(answer_rate=1.0, patience_min_s=300, patience_max_s=400)


@pytest.fixture
def inline(answering_world: SimWorld) -> Iterator[runtime.InlineRuntime]:
    rt = runtime.install_inline(answering_world)
    yield rt
    runtime.install(None)
