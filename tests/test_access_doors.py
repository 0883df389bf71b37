"""Door monitoring by the access integration: held open (reminder, then alarm), forced doors,
and what makes an opening legitimate (a grant, the exit button, a released lock)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shouwang.core.clock import ManualClock

from .access_helpers import lock_of, start_access_hub
from .automation_helpers import capture, settle

DOOR = "binary_sensor.gate_north_door"


@pytest.fixture
async def hub(tmp_path: Path, clock: ManualClock) -> Any:
    hub = await start_access_hub(tmp_path, clock)
    yield hub
    await hub.stop()


async def badge(hub: Any, value: str = "AA000001", door: str = "gate_north") -> None:
    await hub.services.call(
        "access", "present_credential", {"door": door, "type": "card", "value": value},
        blocking=True,
    )  # fmt: skip


async def test_held_open_reminder_then_alarm(hub: Any, clock: ManualClock) -> None:
    held = capture(hub, "door_held_open")
    forced = capture(hub, "door_forced")
    await badge(hub)
    hub.states.set(DOOR, "on")
    await clock.advance(29)
    assert held == []
    await clock.advance(1)
    assert [(e.data["level"], e.data["open_seconds"]) for e in held] == [("reminder", 30.0)]
    assert held[0].data["door"] == "gate_north"
    assert held[0].data["place"] == "P-GATE-N"
    assert held[0].data["entity_id"] == DOOR
    await clock.advance(30)
    assert [e.data["level"] for e in held] == ["reminder", "alarm"]
    await clock.advance(600)
    assert len(held) == 2  # one reminder and one alarm per opening
    assert forced == []


async def test_closing_cancels_the_alarm(hub: Any, clock: ManualClock) -> None:
    held = capture(hub, "door_held_open")
    await badge(hub)
    hub.states.set(DOOR, "on")
    await clock.advance(40)
    hub.states.set(DOOR, "off")
    await clock.advance(120)
    assert [e.data["level"] for e in held] == ["reminder"]
    # a new opening starts from zero
    await badge(hub, "AA000003")
    hub.states.set(DOOR, "on")
    await clock.advance(29)
    hub.states.set(DOOR, "off")
    await clock.advance(120)
    assert [e.data["level"] for e in held] == ["reminder"]


async def test_opening_without_a_grant_is_forced(hub: Any, clock: ManualClock) -> None:
    forced = capture(hub, "door_forced")
    held = capture(hub, "door_held_open")
    hub.states.set(DOOR, "on")
    await settle(hub)
    (event,) = forced
    assert event.data["door"] == "gate_north"
    assert event.data["lock"] == "lock.gate_north"
    assert event.data["lock_state"] == "locked"
    assert event.data["entity_id"] == DOOR
    assert event.data["camera"] == "camera.gate_north"
    await clock.advance(30)
    assert [e.data["level"] for e in held] == ["reminder"]  # and it is watched as open


async def test_opening_after_the_window_is_forced(hub: Any, clock: ManualClock) -> None:
    forced = capture(hub, "door_forced")
    await badge(hub)
    await clock.advance(11)  # pulse over (relocked) and the 10 s window passed
    assert hub.states.get("lock.gate_north").state == "locked"
    hub.states.set(DOOR, "on")
    await settle(hub)
    assert len(forced) == 1


async def test_denied_attempt_does_not_allow_opening(hub: Any) -> None:
    forced = capture(hub, "door_forced")
    await badge(hub, "AA000002")  # lease expired
    hub.states.set(DOOR, "on")
    await settle(hub)
    assert len(forced) == 1


async def test_exit_button_and_released_lock_are_legitimate(hub: Any, clock: ManualClock) -> None:
    forced = capture(hub, "door_forced")
    hub.states.set("binary_sensor.gate_north_exit", "on")
    hub.states.set(DOOR, "on")
    hub.states.set(DOOR, "off")
    await clock.advance(60)
    # unlocked by something else (the intercom, a guard at the panel)
    await hub.services.call(
        "lock", "unlock", target={"entity_id": "lock.gate_north"}, blocking=True
    )
    hub.states.set(DOOR, "on")
    await settle(hub)
    assert forced == []


async def test_sensor_coming_back_open_is_not_forced(hub: Any, clock: ManualClock) -> None:
    forced = capture(hub, "door_forced")
    held = capture(hub, "door_held_open")
    hub.states.set(DOOR, "unavailable")
    hub.states.set(DOOR, "on")
    await clock.advance(30)
    assert forced == []
    assert [e.data["level"] for e in held] == ["reminder"]


async def test_remote_unlock_allows_opening(hub: Any) -> None:
    forced = capture(hub, "door_forced")
    await hub.services.call("access", "unlock", {"door": "b01_u1"}, blocking=True)
    assert lock_of(hub, "lock.b01_u1").commands == ["unlock"]
    hub.states.set("binary_sensor.b01_u1_door", "on")
    await settle(hub)
    assert forced == []


async def test_stop_detaches_the_monitors(hub: Any, clock: ManualClock) -> None:
    forced = capture(hub, "door_forced")
    await hub.stop()
    hub.states.set(DOOR, "on")
    await settle(hub)
    assert forced == []


async def test_door_status_entity(hub: Any, clock: ManualClock) -> None:
    status = hub.states.get("sensor.door_gate_north")
    assert status.state == "closed"
    assert status.attributes["readers"] == ["gate_north_in", "gate_north_out"]
    assert status.attributes["place_id"] == "P-GATE-N"
    assert hub.states.get("sensor.door_gym").state == "unknown"  # no contact
    await badge(hub)
    status = hub.states.get("sensor.door_gate_north")
    assert (status.attributes["last_result"], status.attributes["last_reason"]) == (
        "granted",
        "granted",
    )
    assert "last_person" not in status.attributes
    hub.states.set(DOOR, "on")
    await settle(hub)
    assert hub.states.get("sensor.door_gate_north").state == "open"
    await clock.advance(60)
    assert hub.states.get("sensor.door_gate_north").state == "held_open"
    hub.states.set(DOOR, "off")
    await settle(hub)
    assert hub.states.get("sensor.door_gate_north").state == "closed"
    hub.states.set(DOOR, "on")  # no grant
    await settle(hub)
    assert hub.states.get("sensor.door_gate_north").state == "forced"
    hub.states.set(DOOR, "off")
    for _ in range(6):
        await badge(hub, "BAD")
    status = hub.states.get("sensor.door_gate_north")
    assert status.state == "closed"
    assert status.attributes["locked_readers"] == ["gate_north_in"]
    assert status.attributes["last_reason"] == "unknown_credential"
    await clock.advance(600)
    assert hub.states.get("sensor.door_gate_north").attributes["locked_readers"] == []


def test_overlapping_state_saves_never_collide(tmp_path: Path) -> None:
    """Saves from several executor threads at once (a busy gate): each has its own temporary
    file, the state file is always whole and 0600, nothing is left behind."""
    import stat
    from concurrent.futures import ThreadPoolExecutor

    from shouwang.integrations.access.state import Remembered, load, save

    path = tmp_path / ".storage" / "access_state.json"
    states = [Remembered(passages={("gate", "in"): n}) for n in range(40)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda state: save(path, state), states))
    assert load(path).passages[("gate", "in")] in range(40)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["access_state.json"]
