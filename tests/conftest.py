"""Shared fixtures: a hub on a manual clock (no test waits on real time) and real services.

Tests marked ``both_loops`` run twice: on the standard asyncio loop and on uvloop, which
``shouwang run`` uses when it is installed (``core/event_loop.py``)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shouwang.core.clock import ManualClock
from shouwang.core.hub import Hub

from .services import Mosquitto, Postgres

START = datetime(2026, 11, 28, 22, 0, 0, tzinfo=UTC)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_loops: run on the standard asyncio loop and on uvloop")


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    factories: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
        "asyncio": asyncio.new_event_loop
    }
    if item.get_closest_marker("both_loops") is not None:
        from shouwang.core.event_loop import loop_factory

        uvloop = loop_factory()
        if uvloop is not None:
            factories["uvloop"] = uvloop
    return factories


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def hub(clock: ManualClock) -> AsyncIterator[Hub]:
    hub = Hub(clock=clock)
    await hub.start()
    yield hub
    await hub.stop(timeout=1)


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """A real Mosquitto broker shared by the session's MQTT tests (use unique topics)."""
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto"))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def own_mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A broker of this test alone, for tests that stop or restart it."""
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    """A real PostgreSQL server for the session (initdb in a temporary directory)."""
    server = Postgres()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: Postgres, request: pytest.FixtureRequest) -> str:
    """The SQLAlchemy URL of a fresh, empty PostgreSQL database for this test."""
    name = "t_" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:16]
    return postgres_server.create_database(name)
