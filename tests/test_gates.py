"""Pedestrian gates (turnstiles): passages per direction, grants linked to passages, and
tailgating with the linked camera's snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shouwang.core.clock import ManualClock
from shouwang.core.events import Context
from shouwang.core.platforms import GateEntity
from shouwang.core.services import ServiceValidationError

from .access_helpers import BASE_ACCESS, start_access_hub
from .automation_helpers import capture, settle

PASSAGE_IN = "binary_sensor.gate_north_passage_in"


@pytest.fixture
async def hub(tmp_path: Path, clock: ManualClock) -> Any:
    hub = await start_access_hub(tmp_path, clock)
    yield hub
    await hub.stop()


async def badge(hub: Any, value: str, reader: str = "gate_north_in") -> None:
    await hub.services.call(
        "access", "present_credential",
        {"door": "gate_north", "type": "card", "value": value, "reader": reader},
        blocking=True,
    )  # fmt: skip


async def passage(hub: Any, direction: str = "in", count: int = 1) -> None:
    await hub.services.call(
        "access", "passage", {"door": "gate_north", "direction": direction, "count": count},
        blocking=True,
    )  # fmt: skip


async def test_counters_per_direction(hub: Any) -> None:
    assert hub.states.get("sensor.gate_north_passages_in").state == "0"
    assert hub.states.get("sensor.gate_north_passages_out").state == "0"
    await badge(hub, "AA000001")
    await passage(hub)
    await badge(hub, "AA000003", reader="gate_north_out")
    await passage(hub, "out")
    state = hub.states.get("sensor.gate_north_passages_in")
    assert state.state == "1"
    assert state.attributes["state_class"] == "total_increasing"
    assert state.attributes["place_id"] == "P-GATE-N"
    assert hub.states.get("sensor.gate_north_passages_out").state == "1"


async def test_a_grant_is_linked_to_its_passage(hub: Any) -> None:
    passages = capture(hub, "access_passage")
    tailgating = capture(hub, "tailgating")
    await badge(hub, "AA000001")
    await badge(hub, "AA000003")
    await passage(hub, count=2)
    assert [(e.data["person"], e.data["direction"]) for e in passages] == [
        ("R001", "in"),
        ("R003", "in"),
    ]
    assert tailgating == []


async def test_more_passages_than_grants_is_tailgating(hub: Any) -> None:
    tailgating = capture(hub, "tailgating")
    await badge(hub, "AA000001")
    await passage(hub, count=2)
    (event,) = tailgating
    assert event.data["door"] == "gate_north"
    assert event.data["direction"] == "in"
    assert event.data["passages"] == 2
    assert event.data["grants"] == 1
    assert event.data["camera"] == "camera.gate_north"
    assert event.data["snapshot_url"] == "http://nvr/gate_north.jpg"


async def test_a_grant_expires_after_the_window(hub: Any, clock: ManualClock) -> None:
    tailgating = capture(hub, "tailgating")
    await badge(hub, "AA000001")
    await clock.advance(11)
    await passage(hub)
    (event,) = tailgating
    assert (event.data["passages"], event.data["grants"]) == (1, 0)


async def test_directions_do_not_share_grants(hub: Any) -> None:
    tailgating = capture(hub, "tailgating")
    await badge(hub, "AA000001")  # in
    await passage(hub, "out")
    assert [e.data["direction"] for e in tailgating] == ["out"]


async def test_denied_attempts_give_no_credit(hub: Any) -> None:
    tailgating = capture(hub, "tailgating")
    await badge(hub, "AA000002")  # lease expired
    await passage(hub)
    assert len(tailgating) == 1


async def test_passage_sensor_counts_rising_edges(hub: Any) -> None:
    passages = capture(hub, "access_passage")
    tailgating = capture(hub, "tailgating")
    await badge(hub, "AA000001")
    hub.states.set(PASSAGE_IN, "on")
    hub.states.set(PASSAGE_IN, "on", {"changed": "attribute only"})
    hub.states.set(PASSAGE_IN, "off")
    hub.states.set(PASSAGE_IN, "on")
    await settle(hub)
    assert [e.data["person"] for e in passages] == ["R001"]
    assert len(tailgating) == 1
    assert hub.states.get("sensor.gate_north_passages_in").state == "2"


async def test_passage_at_a_door_without_turnstile_is_refused(hub: Any) -> None:
    with pytest.raises(ServiceValidationError, match="has no turnstile"):
        await hub.services.call("access", "passage", {"door": "b01_u1"}, blocking=True)
    with pytest.raises(ServiceValidationError, match="count"):
        await hub.services.call(
            "access", "passage", {"door": "gate_north", "count": 0}, blocking=True
        )


class Turnstile(GateEntity):
    """A turnstile's controller: opens and closes when told."""

    def __init__(self) -> None:
        super().__init__("Turnstile South")
        self.gate_state = "closed"
        self.commands: list[str] = []

    async def open(self, *, context: Context | None = None) -> None:
        self.commands.append("open")
        self.gate_state = "open"
        self.write_state(context)

    async def close(self, *, context: Context | None = None) -> None:
        self.commands.append("close")
        self.gate_state = "closed"
        self.write_state(context)


async def test_a_gate_entity_as_the_door_actuator(tmp_path: Path, clock: ManualClock) -> None:
    door = """
    - id: turnstile_south
      lock: gate.turnstile_south
      turnstile: {}
  door_groups:"""
    config = BASE_ACCESS.replace("\n  door_groups:", door, 1).replace(
        "perimeter: [gate_north]", "perimeter: [gate_north, turnstile_south]"
    )
    hub = await start_access_hub(tmp_path, clock, config)
    turnstile = Turnstile()
    await hub.entities.add([turnstile], integration="test")
    await hub.services.call(
        "access", "present_credential",
        {"door": "turnstile_south", "type": "card", "value": "AA000001"}, blocking=True,
    )  # fmt: skip
    assert turnstile.commands == ["open"]
    assert hub.states.get("gate.turnstile_south").state == "open"
    await clock.advance(5)
    await settle(hub)
    assert turnstile.commands == ["open", "close"]
    assert hub.states.get("sensor.turnstile_south_passages_in").state == "0"
    await hub.stop()
