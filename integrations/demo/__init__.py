"""The ``demo:`` block: a few simulated devices on the hub's own bus, with no broker.

A minimal, self-contained example of an integration (one entity of each core platform bound to
places: north gate, building 1, unit 1, perimeter zone 3, guard room) and a simulator that plays
residents passing the gate, perimeter motion and a door-station ring on the hub's clock; the
tests of the shipped automations use it. ``shouwang demo`` no longer runs this: it runs the
whole community of :mod:`.runner` (embedded broker, generated registry, devices over MQTT
discovery, the Frigate simulator, the scripted day of :mod:`.day`).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import voluptuous as vol

from shouwang.core.events import Context, Event
from shouwang.core.hub import Hub
from shouwang.core.places import Place
from shouwang.core.states import STATE_CHANGED
from shouwang.core.tracking import track_point_in_time, track_time_interval

from .devices import (
    DemoAlarmPanel,
    DemoCamera,
    DemoDoorContact,
    DemoGate,
    DemoIntercom,
    DemoLight,
    DemoLock,
    DemoMotion,
    DemoPassageCounter,
    DemoSiren,
)

_LOGGER = logging.getLogger(__name__)

CONFIG_SCHEMA = vol.Schema(
    {
        vol.Optional("interval", default=5.0): vol.All(vol.Coerce(float), vol.Range(min=0.1)),
        vol.Optional("log_states", default=True): bool,
    }
)

#: events the demo prints as they happen (the shipped automations fire them)
SECURITY_EVENTS = ("door_forced", "door_held_open", "perimeter_breach", "panic_pressed")

PLACES = (
    Place("P-COMMUNITY", "示例花园", "community"),
    Place("P-GATE-N", "北门", "pedestrian_gate", "P-COMMUNITY", 120, 20),
    Place("P-GUARD", "值班室", "guard_room", "P-COMMUNITY", 160, 40),
    Place("P-PERI-03", "周界3号防区", "perimeter_zone", "P-COMMUNITY", 780, 300),
    Place("P-B01", "1号楼", "building", "P-COMMUNITY", 300, 200),
    Place("P-B01-U1", "1号楼1单元", "unit_entrance", "P-B01", 300, 230),
)


class DemoCommunity:
    """The demo's runtime: its devices and the simulator's step counter."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.gate_lock = DemoLock(
            hub, "Gate North", unique_id="lock_gate_north", place_id="P-GATE-N"
        )
        self.gate_door = DemoDoorContact(
            "Gate North Door", unique_id="door_gate_north", place_id="P-GATE-N"
        )
        self.turnstile = DemoGate(
            hub, "North Turnstile", unique_id="turnstile_north", place_id="P-GATE-N"
        )
        self.passages = DemoPassageCounter(
            "Gate North Passages", unique_id="passages_gate_north", place_id="P-GATE-N"
        )
        self.camera = DemoCamera("North Gate", unique_id="camera_north_gate", place_id="P-GATE-N")
        self.fence = DemoMotion("Fence Zone 3", unique_id="fence_zone_3", place_id="P-PERI-03")
        self.intercom = DemoIntercom(
            hub, "B1 U1 Door Station", unique_id="intercom_b1_u1", place_id="P-B01-U1"
        )
        self.alarm = DemoAlarmPanel("Building 1", unique_id="alarm_b1", place_id="P-B01")
        self.stairwell = DemoLight("Stairwell B1", unique_id="light_stair_b1", place_id="P-B01-U1")
        self.siren = DemoSiren("Guard Room", unique_id="siren_guard_room", place_id="P-GUARD")
        self.step = 0
        self.door_open_for = timedelta(seconds=1)

    @property
    def entities(self) -> list[Any]:
        return [
            self.gate_lock,
            self.gate_door,
            self.turnstile,
            self.passages,
            self.camera,
            self.fence,
            self.intercom,
            self.alarm,
            self.stairwell,
            self.siren,
        ]

    def simulate(self, now: Any) -> None:
        """One simulator step: a resident badges through the gate (lock opens, door opens and
        closes, lock closes); every ninth time the door is forced instead; now and then the
        fence sees motion or a visitor rings."""
        self.step += 1
        context = Context()
        if self.step % 9 != 0:
            self.gate_lock.lock_state = "unlocked"
            self.gate_lock.changed_by = "card"
            self.gate_lock.write_state(context)
        self.gate_door.is_on = True
        self.gate_door.write_state(context)
        self.passages.count += 1
        self.passages.write_state(context)
        track_point_in_time(self.hub, self.hub.clock.now() + self.door_open_for, self._close_door)
        if self.step % 5 == 0:
            self.fence.is_on = not self.fence.is_on
            self.fence.write_state()
        if self.step % 7 == 0 and self.intercom.intercom_state == "idle":
            self.intercom.ring("访客 visitor")

    def _close_door(self, now: Any) -> None:
        self.gate_door.is_on = False
        self.gate_door.write_state()
        if self.gate_lock.lock_state != "locked":  # the maglock closes with the door
            self.gate_lock.lock_state = "locked"
            self.gate_lock.changed_by = "door closed"
            self.gate_lock.write_state()


async def setup(hub: Hub, config: dict[str, Any]) -> DemoCommunity:
    for place in PLACES:
        hub.places.add(place)
    demo = DemoCommunity(hub)
    demo.door_open_for = timedelta(seconds=config["interval"] / 2)
    await hub.entities.add(demo.entities, integration="demo")
    cancel = track_time_interval(hub, timedelta(seconds=config["interval"]), demo.simulate)
    hub.on_stop(cancel)
    if config["log_states"]:
        hub.on_stop(hub.bus.listen(STATE_CHANGED, _log_change))
        for event_type in SECURITY_EVENTS:
            hub.on_stop(hub.bus.listen(event_type, _log_event))
    _LOGGER.info("Demo community: %d entities at %d places", len(demo.entities), len(PLACES))
    return demo


def _log_event(event: Event) -> None:
    _LOGGER.warning("EVENT %s %s", event.event_type, dict(event.data))


def _log_change(event: Event) -> None:
    old, new = event.data["old_state"], event.data["new_state"]
    if new is None or (old is not None and old.state == new.state):
        return
    _LOGGER.info("%s: %s -> %s", event.data["entity_id"], old.state if old else "(new)", new.state)
