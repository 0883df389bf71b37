"""The demo's scripted day: what happens in the community, hour by hour, on the hub's clock.

Each :class:`Scene` happens at a local time of day and acts only the way the outside world
acts on a real site: field devices change (a door contact opens, a turnstile beam breaks, a
perimeter detector fires), a card, QR code or plate is presented at a reader (the
``access.present_credential`` service, which is how readers report), a resident creates a
visitor pass (the ``visitor_pass.create`` service, as the household panel does), a visitor
dials a household at the door station (the intercom's MQTT protocol). Everything that follows
— grants and refusals, alarms, calls, the automations' reactions — is the hub's own doing.

:class:`DayPlayer` schedules every scene at its next occurrence on the hub clock and again the
next day, so with the demo's :class:`~shouwang.core.clock.ScaledClock` the day repeats.

Cameras act through the Frigate simulator (:mod:`shouwang.integrations.frigate.simulator`),
which publishes what a Frigate NVR publishes: residents recognised at the north gate, the
stranger at 23:30 whose face never matches, the blocked plate read at the car lane.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from shouwang.core.events import Context, Event
from shouwang.core.tracking import track_point_in_time

from . import community

if TYPE_CHECKING:
    from shouwang.core.hub import Hub
    from shouwang.integrations.frigate.simulator import FrigateSimulator

    from .mqtt_devices import SimulatedDevices

_LOGGER = logging.getLogger(__name__)

GATE: Final = "gate_north"
FACE_CAMERA: Final = "north_gate"  # Frigate camera names, as in the demo's frigate: block
PLATE_CAMERA: Final = "car_lane"
CONFIRM_TIMEOUT: Final = 5.0  # real seconds
VISITOR: Final = "李先生"


@dataclass
class World:
    """What the scenes act on: the hub (services only), the field devices, the scenario's
    people."""

    hub: Hub
    devices: SimulatedDevices
    people: community.DemoPeople
    rng: random.Random
    #: the NVR in front of the cameras (``north_gate`` face camera, ``car_lane`` plate camera)
    frigate: FrigateSimulator | None = None
    visitor_token: str | None = None
    #: scenes doing real work now (not waiting on the hub clock): a test on a manual clock
    #: lets simulated time move on only at zero, as real time does for the live demo
    busy: int = 0

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of simulated time (the scene is idle meanwhile)."""
        self.busy -= 1
        try:
            await self.hub.clock.sleep(seconds)
        finally:
            self.busy += 1

    async def _seen(self, entity_id: str, state: str) -> None:
        """Wait (real time, bounded) until the hub shows what a device just reported: the next
        step of a scene (a beam after the door opened) must not overtake the broker."""
        try:
            async with asyncio.timeout(CONFIRM_TIMEOUT):
                while not self.hub.states.is_state(entity_id, state):  # noqa: ASYNC110
                    await asyncio.sleep(0.002)
        except TimeoutError:
            _LOGGER.warning("demo: %s did not become %s in time", entity_id, state)

    async def door(self, door_id: str, is_open: bool) -> None:
        self.devices.set_door(door_id, is_open)
        await self._seen(f"binary_sensor.{door_id}_door", "on" if is_open else "off")

    async def sensor(self, sensor_id: str, on: bool) -> None:
        self.devices.set_sensor(sensor_id, on)
        await self._seen(f"binary_sensor.{sensor_id}", "on" if on else "off")

    async def present(
        self, door: str, kind: str, value: str, reader: str | None = None
    ) -> dict[str, Any]:
        data = {"door": door, "type": kind, "value": value}
        if reader is not None:
            data["reader"] = reader
        response = await self.hub.services.call(
            "access", "present_credential", data, context=Context(), return_response=True
        )
        return dict(response or {})

    async def walk_through_gate(self, direction: str, kind: str, value: str) -> bool:
        """Present a credential at the north gate; if granted, open the door, break the
        turnstile beam once, close the door. Returns whether it was granted."""
        answer = await self.present(GATE, kind, value, f"{GATE}_{direction}")
        if not answer.get("granted"):
            return False
        await self.door(GATE, True)
        await self.sleep(1)
        await self.sensor(f"{GATE}_pass_{direction}", True)
        await self.sleep(1)
        await self.sensor(f"{GATE}_pass_{direction}", False)
        await self.sleep(2)
        await self.door(GATE, False)
        return True

    async def walk_in_by_face(self, face_name: str) -> bool:
        """A resident walks up to the north gate's face camera: Frigate tracks them and
        recognises the face; access control decides on the sighting. If it grants, they pass."""
        if self.frigate is None:
            return False
        granted: list[Event] = []
        unsubscribe = self.hub.bus.listen(
            "access_granted",
            granted.append,
            event_filter=lambda data: data.get("credential_type") == "face",
        )
        try:
            track = self.frigate.track(FACE_CAMERA, score=0.9).new()
            await self.sleep(1)
            track.face(face_name, 0.95)
            try:  # the sighting goes camera -> broker -> hub -> access control
                async with asyncio.timeout(CONFIRM_TIMEOUT):
                    while not granted:  # noqa: ASYNC110
                        await asyncio.sleep(0.002)
            except TimeoutError:
                track.end()
                return False
            await self.door(GATE, True)
            await self.sleep(1)
            await self.sensor(f"{GATE}_pass_in", True)
            await self.sleep(1)
            await self.sensor(f"{GATE}_pass_in", False)
            track.end()
            await self.sleep(2)
            await self.door(GATE, False)
            return True
        finally:
            unsubscribe()

    def resident_faces(self, count: int) -> list[str]:
        """Face names of ``count`` residents (owners, family, current tenants), at random."""
        return [face for _, face in self._residents(count)]

    def _residents(self, count: int) -> list[tuple[str, str]]:
        registry = self.hub.integrations.runtime("registry")
        today = self.hub.clock.now().date()
        people = [
            (person.card_number, person.face_name)
            for person in registry.people.values()
            if person.card_number
            and person.face_name
            and person.household_id
            and (person.lease_end is None or person.lease_end >= today)
        ]
        return self.rng.sample(sorted(people), min(count, len(people)))

    def resident_cards(self, count: int) -> list[str]:
        """Cards of ``count`` residents (owners, family, current tenants), chosen at random."""
        return [card for card, _ in self._residents(count)]


SceneAction = Callable[[World], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Scene:
    at: time  # local time of day
    name: str
    play: SceneAction


async def _held_open(world: World) -> None:
    door = "b01_u1_door"  # the demo resident's unit entrance
    await world.present(door, "card", world.people.resident_card)
    await world.door(door, True)  # and props the door open with a pram
    await world.sleep(100)  # past the 30 s reminder and the 90 s alarm
    await world.door(door, False)


async def _visitor_rings(world: World) -> None:
    world.devices.station_call(GATE, world.people.resident_household)


async def _expired_tenant(world: World) -> None:
    await world.walk_through_gate("in", "card", world.people.expired_tenant_card)


async def _perimeter(world: World) -> None:
    await world.sensor("fence_zone_3", True)
    await world.sleep(5)
    await world.sensor("fence_zone_3", False)


def _rush(direction: str, count: int, spread: float) -> SceneAction:
    async def rush(world: World) -> None:
        for card in world.resident_cards(count):
            await world.walk_through_gate(direction, "card", card)
            await world.sleep(world.rng.uniform(0.2, 1.8) * spread / count)

    return rush


async def _create_pass(world: World) -> None:
    response = await world.hub.services.call(
        "visitor_pass", "create",
        {"visitor_name": VISITOR, "host_household": world.people.resident_household,
         "doors": [GATE], "max_uses": 2},
        context=Context(), return_response=True,
    )  # fmt: skip
    world.visitor_token = (response or {}).get("token")


async def _visitor_arrives(world: World) -> None:
    if world.visitor_token:
        await world.walk_through_gate("in", "qr", world.visitor_token)


async def _visitor_leaves(world: World) -> None:
    if world.visitor_token:
        await world.walk_through_gate("out", "qr", world.visitor_token)


async def _pass_reused(world: World) -> None:
    if world.visitor_token:  # a third use of a two-use pass: refused, used_up
        await world.walk_through_gate("in", "qr", world.visitor_token)


async def _blocked_plate(world: World) -> None:
    if world.frigate is not None:  # the lane's plate camera reads it (plate_recognized)
        car = world.frigate.track(PLATE_CAMERA, "car", score=0.9).new()
        car.lpr(community.BLOCKED_PLATE, 0.95)
        await world.sleep(3)
        car.end()
    # and the barrier asks access control, which keeps it closed
    await world.present("car_lane", "plate", community.BLOCKED_PLATE)


async def _stranger_at_gate(world: World) -> None:
    """Someone nobody knows loiters at the north gate at night; the face never matches."""
    if world.frigate is None:
        return
    track = world.frigate.track(FACE_CAMERA, score=0.88).new()
    for _ in range(4):
        await world.sleep(2)
        track.update()
    track.face(None, 0.52)
    await world.sleep(8)  # past the integration's face_unknown_after: a stranger sighting
    track.end()


async def _faces_home(world: World) -> None:
    for face in world.resident_faces(8):
        await world.walk_in_by_face(face)
        await world.sleep(world.rng.uniform(60, 300))


SCENES: Final = (
    Scene(time(7, 30), "早高峰出门 morning rush out", _rush("out", 20, 3600)),
    Scene(time(10, 0), "住户为访客办理通行证 resident creates a visitor pass", _create_pass),
    Scene(time(10, 40), "访客扫码入园 visitor enters with the pass", _visitor_arrives),
    Scene(time(11, 30), "访客离开 visitor leaves", _visitor_leaves),
    Scene(time(14, 0), "黑名单车辆 blocked plate at the car lane", _blocked_plate),
    Scene(time(15, 0), "通行证再次使用 the pass used up", _pass_reused),
    Scene(time(18, 0), "晚高峰回家 evening rush in", _rush("in", 15, 3600)),
    Scene(time(18, 30), "住户刷脸回家 residents come home by face", _faces_home),
    Scene(time(20, 15), "单元门长时间未关 unit door held open", _held_open),
    Scene(time(21, 0), "访客呼叫住户 visitor rings a household", _visitor_rings),
    Scene(time(21, 30), "租约到期租户刷卡 expired tenant at the gate", _expired_tenant),
    Scene(time(23, 30), "北门夜间陌生人 a stranger at the north gate", _stranger_at_gate),
    Scene(time(2, 10), "周界3号防区入侵 perimeter zone 3", _perimeter),
)


class DayPlayer:
    """Plays each scene at its next local time on the hub clock, every day."""

    def __init__(
        self, world: World, scenes: tuple[Scene, ...] = SCENES, tz: str = "Asia/Shanghai"
    ) -> None:
        self.world = world
        self.scenes = scenes
        self.tz = ZoneInfo(tz)
        self.played: list[tuple[datetime, str]] = []
        self._cancels: list[Callable[[], None]] = []

    def start(self) -> Callable[[], None]:
        for scene in self.scenes:
            self._schedule(scene)
        return self.stop

    def stop(self) -> None:
        for cancel in self._cancels:
            cancel()
        self._cancels.clear()

    def next_time(self, scene: Scene, now: datetime) -> datetime:
        local = now.astimezone(self.tz)
        at = datetime.combine(local.date(), scene.at, self.tz)
        return at if at > local else at + timedelta(days=1)

    def _schedule(self, scene: Scene) -> None:
        hub = self.world.hub
        when = self.next_time(scene, hub.clock.now())

        def due(now: datetime) -> None:
            self.world.busy += 1  # from now, not from when the task first runs
            hub.create_task(self._run(scene, now), f"demo scene {scene.name}")
            self._schedule(scene)

        self._cancels.append(track_point_in_time(hub, when, due))

    async def _run(self, scene: Scene, now: datetime) -> None:
        self.played.append((now, scene.name))
        _LOGGER.info("DEMO %s %s", now.astimezone(self.tz).strftime("%H:%M"), scene.name)
        try:
            await scene.play(self.world)
        except Exception:
            _LOGGER.exception("demo scene %s failed", scene.name)
        finally:
            self.world.busy -= 1
