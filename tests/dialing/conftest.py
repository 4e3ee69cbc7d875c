from __future__ import annotations

from collections.abc import Iterator

import pytest

from calldeck.campaigns.holidays import holidays_load
from calldeck.dialing import runtime
from tests.factories import sim_world


@pytest.fixture
def holidays_2026(db: None) -> None:
    """The holiday table as ``load_holidays --year 2026`` leaves it."""
    holidays_load(year=2026)


@pytest.fixture
def inline() -> Iterator[runtime.InlineRuntime]:
    rt = runtime.install_inline(sim_world(answer_rate=1.0))
    yield rt
    runtime.install(None)
