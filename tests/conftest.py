"""Shared fixtures: a hub on a manual clock, so no test waits on real time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from shouwang.core.clock import ManualClock
from shouwang.core.hub import Hub

START = datetime(2026, 11, 28, 22, 0, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def hub(clock: ManualClock) -> AsyncIterator[Hub]:
    hub = Hub(clock=clock)
    await hub.start()
    yield hub
    await hub.stop(timeout=1)
