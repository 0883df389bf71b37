"""Shared fixtures: a hub on a manual clock (no test waits on real time) and real services."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shouwang.core.clock import ManualClock
from shouwang.core.hub import Hub

from .services import Mosquitto, Postgres

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
