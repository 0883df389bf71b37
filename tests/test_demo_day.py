"""The demo's scripted day, played against a real hub on the demo's configuration and broker.

Each scene only acts as the outside world would (devices over MQTT, readers through
``access.present_credential``, a resident creating a pass); the test checks what the hub made
of it: alarms, refusals, calls, grants.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shouwang.core.clock import ManualClock
from shouwang.core.events import Event
from shouwang.core.hub import Hub
from shouwang.integrations.demo import community
from shouwang.integrations.demo import prepare as demo_prepare
from shouwang.integrations.demo.day import SCENES, DayPlayer, World
from shouwang.integrations.demo.mqtt_devices import SimulatedDevices
from shouwang.integrations.frigate.simulator import FrigateSimulator

from .automation_helpers import capture
from .mqtt_helpers import wait_for
from .services import Mosquitto

SHANGHAI = ZoneInfo("Asia/Shanghai")
AUTOMATIONS = Path(__file__).resolve().parents[1] / "automations"


@dataclass
class Demo:
    hub: Hub
    clock: ManualClock
    devices: SimulatedDevices
    player: DayPlayer
    people: community.DemoPeople

    def events(self, *types: str) -> dict[str, list[Event]]:
        return {event_type: capture(self.hub, event_type) for event_type in types}

    async def to(self, hh: int, mm: int, day: int = 28) -> None:
        """Advance the simulated clock to a local time; after each timer, wait (real time) until
        the device changes a scene sent have reached the hub through the broker."""
        world = self.player.world

        async def settle() -> None:
            await wait_for(lambda: world.busy == 0)

        await self.clock.advance_to(datetime(2026, 11, day, hh, mm, tzinfo=SHANGHAI), settle)


@pytest.fixture
async def demo(tmp_path: Path, mosquitto: Mosquitto) -> AsyncIterator[Demo]:
    config = tmp_path / "demo"
    clock = ManualClock(datetime(2026, 11, 28, 19, 50, tzinfo=SHANGHAI))
    frigate = FrigateSimulator(
        demo_prepare.CAMERAS, broker=(mosquitto.host, mosquitto.port), now=clock.time
    )
    await frigate.start()
    people = await asyncio.to_thread(
        demo_prepare.prepare, config, today=date(2026, 11, 28), mqtt_host=mosquitto.host,
        mqtt_port=mosquitto.port, frigate_url=frigate.url, http_port=0,
        automations_source=AUTOMATIONS, mqtt_client_id=f"hub-{uuid.uuid4().hex[:8]}",
    )  # fmt: skip
    hub = Hub(config, clock=clock)
    await hub.start()
    devices = SimulatedDevices(
        mosquitto.host, mosquitto.port, list(demo_prepare.DOORS), list(demo_prepare.SENSORS),
        sirens=demo_prepare.SIRENS, stations=demo_prepare.STATIONS,
        lights=demo_prepare.LIGHTS,
        client_id=f"devices-{uuid.uuid4().hex[:8]}",
    )  # fmt: skip
    await asyncio.to_thread(devices.start)
    await wait_for(lambda: hub.states.is_state("binary_sensor.b01_u1_door_door", "off"))
    await wait_for(lambda: hub.states.is_state("intercom.gate_north", "idle"))
    player = DayPlayer(World(hub, devices, people, random.Random(1), frigate))
    player.start()
    try:
        yield Demo(hub, clock, devices, player, people)
    finally:
        player.stop()
        await asyncio.to_thread(devices.stop)
        await hub.stop(timeout=2)
        await frigate.stop()


async def test_evening_held_open_ring_and_expired_tenant(demo: Demo) -> None:
    seen = demo.events("door_held_open", "intercom_call", "access_denied", "door_forced")
    await demo.to(20, 16)
    await wait_for(lambda: demo.hub.states.is_state("binary_sensor.b01_u1_door_door", "on"))
    await demo.to(20, 18)
    await wait_for(
        lambda: {e.data.get("level") for e in seen["door_held_open"]} >= {"reminder", "alarm"}
    )
    await wait_for(lambda: demo.hub.states.is_state("binary_sensor.b01_u1_door_door", "off"))
    assert seen["door_forced"] == []  # the resident badged in before opening it
    await demo.to(21, 1)
    ringing = await wait_for(
        lambda: [e for e in seen["intercom_call"] if e.data["phase"] == "ringing"]
    )
    assert ringing[0].data["household"] == demo.people.resident_household
    await demo.to(21, 31)
    denied = await wait_for(lambda: seen["access_denied"])
    assert denied[0].data["reason"] == "lease_expired"
    assert denied[0].data["person"] == demo.people.expired_tenant
    assert [name for _, name in demo.player.played][:3] == [
        s.name for s in SCENES if s.at.hour in (20, 21)
    ]


async def test_night_and_next_day(demo: Demo) -> None:
    seen = demo.events(
        "perimeter_breach", "access_granted", "access_denied", "access_passage", "visitor_pass_used"
    )
    await demo.to(2, 11, day=29)
    await wait_for(lambda: seen["perimeter_breach"])  # the shipped automation, at night
    await wait_for(lambda: demo.hub.states.is_state("light.stairwell_b1", "on"))  # and its light
    await demo.to(8, 35, day=29)
    await wait_for(
        lambda: len([e for e in seen["access_granted"] if e.data["door"] == "gate_north"]) >= 15
    )
    gate = [e for e in seen["access_granted"] if e.data["door"] == "gate_north"]
    assert all(e.data["direction"] == "out" for e in gate)  # the morning rush, out
    await wait_for(lambda: len(seen["access_passage"]) >= 15)
    await demo.to(10, 41, day=29)
    await wait_for(lambda: any(e.data["credential_type"] == "qr" for e in seen["access_granted"]))
    await demo.to(14, 1, day=29)
    blocked = await wait_for(
        lambda: [e for e in seen["access_denied"] if e.data["credential_type"] == "plate"]
    )
    assert blocked[0].data["reason"] == "blocked_vehicle"
    await demo.to(15, 1, day=29)
    reused = await wait_for(
        lambda: [e for e in seen["access_denied"] if e.data["credential_type"] == "qr"]
    )
    assert reused[0].data["reason"] == "used_up_pass"
    assert len(seen["visitor_pass_used"]) == 2


async def test_stranger_at_night_calls_the_guard_room(demo: Demo) -> None:
    """The headline scenario, end to end: the NVR's track whose face never matches becomes one
    stranger sighting, and the shipped automation rings the guard room's station over MQTT with
    the snapshot; the call's context leads back to the sighting."""
    seen = demo.events("stranger_detected", "intercom_call")
    rings: list[bytes] = []
    client = demo.hub.integrations.runtime("mqtt")
    await client.subscribe(
        "shouwang/intercom/guard_room/ring", lambda m: rings.append(m.payload), qos=1
    )
    await demo.to(23, 31)
    strangers = await wait_for(lambda: seen["stranger_detected"])
    assert strangers[0].data["camera"] == "camera.north_gate"
    ring = json.loads((await wait_for(lambda: rings))[0])
    assert ring["reason"] == "stranger"  # as the shipped blueprint words it
    assert ring["snapshot_url"] == strangers[0].data["snapshot_url"]
    assert len(seen["stranger_detected"]) == 1  # one sighting for the whole track
    calls = [
        e
        for e in seen["intercom_call"]
        if e.data["phase"] == "ringing" and e.data["target"] == "intercom.guard_room"
    ]
    assert calls and calls[0].context.parent_id is not None


async def test_residents_come_home_by_face(demo: Demo) -> None:
    seen = demo.events("person_sighted", "access_granted", "stranger_detected")
    await demo.to(19, 10, day=29)
    faces = await wait_for(
        lambda: [e for e in seen["access_granted"] if e.data["credential_type"] == "face"]
    )
    assert faces[0].data["person"] is not None
    assert seen["person_sighted"]
    assert len(seen["stranger_detected"]) == 1  # only last night's: residents are not strangers
