"""The demo's simulated devices are discovered by the hub's MQTT integration and obey it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from shouwang.core.clock import ManualClock
from shouwang.core.hub import Hub
from shouwang.core.places import Place
from shouwang.integrations.demo.mqtt_devices import Door, Sensor, SimulatedDevices

from .mqtt_helpers import wait_for
from .services import Mosquitto


async def test_devices_are_discovered_report_and_obey(
    tmp_path: Path, mosquitto: Mosquitto, clock: ManualClock
) -> None:
    (tmp_path / "configuration.yaml").write_text(
        f"mqtt:\n  broker: {mosquitto.host}\n  port: {mosquitto.port}\n  client_id: demo-devices-test\n"
    )
    hub = Hub(tmp_path, clock=clock)
    for place_id in ("P-GATE-N", "P-FENCE-3", "P-GUARD"):
        hub.places.add(Place(place_id, place_id))
    await hub.start()
    devices = SimulatedDevices(
        mosquitto.host, mosquitto.port,
        [Door("gate_north", "北门", "P-GATE-N")],
        [Sensor("fence_zone_3", "周界3号防区", "P-FENCE-3", "motion")],
        sirens={"guard_room": "P-GUARD"},
    )  # fmt: skip
    await asyncio.to_thread(devices.start)
    try:
        await wait_for(
            lambda: (
                hub.states.get("lock.gate_north") is not None
                and hub.states.get("siren.guard_room") is not None
            )
        )
        await wait_for(lambda: hub.states.is_state("lock.gate_north", "locked"))
        assert hub.states.is_state("binary_sensor.gate_north_door", "off")
        assert hub.states.is_state("binary_sensor.fence_zone_3", "off")
        assert hub.places.place_of("lock.gate_north") == "P-GATE-N"  # suggested_area = place id
        await hub.services.call("lock", "unlock", {"entity_id": "lock.gate_north"}, blocking=True)
        await wait_for(lambda: hub.states.is_state("lock.gate_north", "unlocked"))
        assert ("demo/lock/gate_north/set", "UNLOCK") in devices.commands
        devices.set_door("gate_north", True)
        await wait_for(lambda: hub.states.is_state("binary_sensor.gate_north_door", "on"))
        devices.set_sensor("fence_zone_3", True)
        await wait_for(lambda: hub.states.is_state("binary_sensor.fence_zone_3", "on"))
        await hub.services.call(
            "siren", "turn_on", {"entity_id": "siren.guard_room"}, blocking=True
        )
        await wait_for(lambda: hub.states.is_state("siren.guard_room", "on"))
    finally:
        await asyncio.to_thread(devices.stop)
        await hub.stop(timeout=2)
