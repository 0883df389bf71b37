"""The intercom call log in real databases: SQLite in the config directory and PostgreSQL by
URL; calls cut by a stop are closed as interrupted at the next start; queries by station,
household and phase."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from shouwang.core.clock import ManualClock
from shouwang.core.events import Context
from shouwang.core.hub import Hub
from shouwang.core.platforms import LockEntity

STATIONS = """
  stations:
    gate_north: {kind: door, protocol: console, place: P-GATE-N, door_lock: lock.gate_north}
    b01_u1_0101: {kind: indoor, protocol: console, household: B01-U1-0101}
    guard_room: {kind: guard, protocol: console}
"""


class GateLock(LockEntity):
    def __init__(self) -> None:
        super().__init__("Gate North")
        self.lock_state = "locked"
        self.unlocks = 0

    async def unlock(self, *, code: str | None = None, context: Context | None = None) -> None:
        self.unlocks += 1


async def start(
    tmp_path: Path, clock: ManualClock, db_url: str | None = None, extra: str = ""
) -> Hub:
    block = "intercom:\n" + (f"  db_url: {db_url}\n" if db_url else "") + extra + STATIONS
    (tmp_path / "configuration.yaml").write_text(textwrap.dedent(block), encoding="utf-8")
    hub = Hub(tmp_path, clock=clock)
    await hub.start()
    assert "intercom" in hub.integrations.loaded, hub.integrations.failed
    return hub


async def call(hub: Hub, service: str, data: dict[str, Any], entity: str | None = None) -> Any:
    return await hub.services.call(
        "intercom",
        service,
        data,
        target={"entity_id": entity} if entity else None,
        blocking=True,
        return_response=service in ("call", "call_log"),
    )


async def play_calls(hub: Hub, clock: ManualClock) -> None:
    """An answered call with a door opening, a missed call, and one left ringing."""
    await call(hub, "call", {"target": "B01-U1-0101", "message": "快递"}, "intercom.gate_north")
    await clock.advance(5)
    await call(hub, "answer", {}, "intercom.b01_u1_0101")
    lock = GateLock()
    await hub.entities.add([lock], integration="test")
    await call(hub, "unlock", {}, "intercom.b01_u1_0101")
    assert lock.unlocks == 1
    await clock.advance(40)
    await call(hub, "hangup", {}, "intercom.gate_north")
    await call(hub, "call", {"target": "guard_room", "reason": "panic"})
    await clock.advance(30)  # missed
    await call(hub, "call", {"target": "B01-U1-0101"}, "intercom.gate_north")
    await hub.integrations.runtime("intercom").drain()


async def check_after_restart(hub: Hub) -> None:
    log = (await call(hub, "call_log", {}))["calls"]
    assert [(c["phase"], c["end_reason"]) for c in log] == [
        ("ended", "interrupted"),
        ("missed", "no_answer"),
        ("ended", "hangup"),
    ]
    answered = log[2]
    assert answered["caller"] == "intercom.gate_north"
    assert answered["answered_by"] == "intercom.b01_u1_0101"
    assert answered["message"] == "快递"
    assert answered["duration"] == 40.0
    assert answered["unlocked_by"] == ["intercom.b01_u1_0101"]
    assert answered["started"] == "2026-11-28T22:00:00+00:00"
    assert log[1]["reason"] == "panic" and log[1]["caller"] is None
    by_household = (await call(hub, "call_log", {"household": "B01-U1-0101"}))["calls"]
    assert len(by_household) == 2
    by_station = (await call(hub, "call_log", {"station": "guard_room"}))["calls"]
    assert [c["reason"] for c in by_station] == ["panic"]
    missed = (await call(hub, "call_log", {"phase": "missed", "limit": 5}))["calls"]
    assert len(missed) == 1
    assert len((await call(hub, "call_log", {"limit": 1}))["calls"]) == 1


async def test_call_log_on_sqlite_survives_restart(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start(tmp_path, clock)
    await play_calls(hub, clock)
    await hub.stop(timeout=2)
    hub = await start(tmp_path, clock)
    try:
        await check_after_restart(hub)
        assert hub.states.is_state("intercom.gate_north", "idle")
    finally:
        await hub.stop(timeout=2)


async def test_call_log_on_postgresql(
    tmp_path: Path, clock: ManualClock, postgres_url: str
) -> None:
    hub = await start(tmp_path, clock, postgres_url)
    await play_calls(hub, clock)
    await hub.stop(timeout=2)
    assert not (tmp_path / "shouwang.db").exists()
    hub = await start(tmp_path, clock, postgres_url)
    try:
        await check_after_restart(hub)
    finally:
        await hub.stop(timeout=2)


async def test_a_storm_of_calls_is_one_commit_per_interval_and_a_stop_commits(
    tmp_path: Path, clock: ManualClock
) -> None:
    # an interval no test run reaches: only reading the log and the stop may commit
    hub = await start(tmp_path, clock, extra="  log_commit_interval: 60\n")
    log = hub.integrations.runtime("intercom").log
    for _ in range(20):
        await call(hub, "call", {"target": "guard_room", "reason": "stranger"})
        await call(hub, "hangup", {}, "intercom.guard_room")
    assert log.commits == 0
    assert len((await call(hub, "call_log", {}))["calls"]) == 20  # reading commits first
    assert log.commits == 1
    await call(hub, "call", {"target": "guard_room", "reason": "last"})
    await hub.stop(timeout=2)  # the queued ringing row is committed by the stop
    hub = await start(tmp_path, clock)
    try:
        calls = (await call(hub, "call_log", {}))["calls"]
        assert len(calls) == 21
        assert (calls[0]["reason"], calls[0]["end_reason"]) == ("last", "interrupted")
    finally:
        await hub.stop(timeout=2)


async def test_call_log_validates_its_query(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start(tmp_path, clock)
    try:
        with pytest.raises(Exception, match=r"phase: value must be one of"):
            await call(hub, "call_log", {"phase": "lost"})
        with pytest.raises(Exception, match=r"limit: value must be at most 1000"):
            await call(hub, "call_log", {"limit": 5000})
        with pytest.raises(Exception, match="only works with return_response"):
            await hub.services.call("intercom", "call_log", {}, blocking=True)
    finally:
        await hub.stop(timeout=2)


async def test_in_memory_log_without_a_config_directory(hub: Hub) -> None:
    await hub.integrations.setup_many(
        {"intercom": {"stations": {"g": {"kind": "guard", "protocol": "console"}}}}
    )
    await call(hub, "call", {"target": "g"})
    log = (await call(hub, "call_log", {}))["calls"]
    assert [c["phase"] for c in log] == ["ringing"]


async def test_bad_station_config_names_file_line_and_field(
    tmp_path: Path, clock: ManualClock
) -> None:
    (tmp_path / "configuration.yaml").write_text(
        textwrap.dedent(
            """\
            intercom:
              stations:
                gate: {kind: lobby, protocol: console}
                b: {kind: indoor}
            """
        ),
        encoding="utf-8",
    )
    hub = Hub(tmp_path, clock=clock)
    await hub.start()
    try:
        assert hub.loaded_config is not None
        errors = "\n".join(str(e) for e in hub.loaded_config.errors)
        assert "intercom" in hub.integrations.failed
        assert (
            "configuration.yaml:3: [intercom] intercom.stations.gate.kind: value must be one of "
            "['door', 'guard', 'indoor'] (got 'lobby')"
        ) in errors
        assert (
            "configuration.yaml:4: [intercom] intercom.stations.b.household: an indoor station "
            "needs the household it serves"
        ) in errors
    finally:
        await hub.stop(timeout=2)
