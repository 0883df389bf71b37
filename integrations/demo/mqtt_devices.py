"""The demo community's simulated field devices, announcing themselves with MQTT discovery.

A real community's maglocks, door contacts, turnstile sensors, perimeter detectors and sirens
reach the hub as MQTT devices (Zigbee2MQTT, ESPHome, vendor bridges) that announce themselves
with Home Assistant's discovery. The demo's devices do exactly that on the demo's broker, so the
hub's ``mqtt`` integration creates their entities the way it would on site: each device publishes
its retained ``homeassistant/<component>/<object_id>/config``, reports its state, and obeys the
commands the hub publishes (a lock unlocks when the hub sends ``UNLOCK`` and says so).

The day player (and tests) act on them with :meth:`open_door`, :meth:`pass_turnstile` and
:meth:`fence_motion`; those publish what the real sensor would. Runs paho's network loop in its
own thread; every method may be called from the event loop (paho's publish is thread-safe).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import Any, Final

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

_LOGGER = logging.getLogger(__name__)

BASE: Final = "demo"
STATION_BASE: Final = "shouwang/intercom"  # the intercom integration's default base topic
DISCOVERY_PREFIX: Final = "homeassistant"


@dataclass(frozen=True, slots=True)
class Door:
    """A door with a maglock and a contact (``lock.<id>``, ``binary_sensor.<id>_door``)."""

    door_id: str
    name: str
    place: str


@dataclass(frozen=True, slots=True)
class Sensor:
    """A binary sensor (``binary_sensor.<id>``) of a device class at a place."""

    sensor_id: str
    name: str
    place: str
    device_class: str


class SimulatedDevices:
    """The demo's MQTT devices on one broker connection."""

    def __init__(
        self,
        host: str,
        port: int,
        doors: list[Door],
        sensors: list[Sensor],
        *,
        sirens: dict[str, str],  # siren id -> place
        stations: tuple[str, ...] = (),  # door stations speaking the intercom's MQTT protocol
        lights: dict[str, str] | None = None,  # light id -> place
        client_id: str = "shouwang-demo-devices",
    ) -> None:
        self.host, self.port = host, port
        self.doors = {door.door_id: door for door in doors}
        self.sensors = {sensor.sensor_id: sensor for sensor in sensors}
        self.sirens = dict(sirens)
        self.stations = tuple(stations)
        self.lights = dict(lights or {})
        self.light_states = dict.fromkeys(self.lights, '{"state": "OFF"}')
        self.lock_states = dict.fromkeys(self.doors, "LOCKED")
        self.siren_states = dict.fromkeys(self.sirens, "OFF")
        self.commands: list[tuple[str, str]] = []  # (topic, payload) received, newest last
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="shouwang-demo-devices")
        self._client.will_set(f"{BASE}/status", "offline", qos=1, retain=True)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> None:
        """Connect (blocking until connected), announce every device and report states."""
        self._client.connect(self.host, self.port, keepalive=30)
        self._client.loop_start()
        if not self._connected.wait(timeout):
            self._client.loop_stop()
            raise ConnectionError(f"demo devices: no MQTT broker at {self.host}:{self.port}")

    def stop(self) -> None:
        self._publish(f"{BASE}/status", "offline", retain=True)
        for station in self.stations:
            self._publish(f"{STATION_BASE}/{station}/availability", "offline", retain=True)
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            _LOGGER.error("demo devices: broker refused the connection: %s", reason)
            return
        client.subscribe(f"{BASE}/+/+/set", qos=1)
        client.subscribe(f"{DISCOVERY_PREFIX}/status", qos=1)  # the hub's birth: announce again
        self._announce()
        self._connected.set()

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        payload = message.payload.decode("utf-8", "replace")
        if message.topic == f"{DISCOVERY_PREFIX}/status":
            if payload == "online":
                self._announce()
            return
        parts = message.topic.split("/")
        if len(parts) != 4 or parts[0] != BASE or parts[3] != "set":
            _LOGGER.debug("demo devices: ignored %s", message.topic)  # not a command of ours
            return
        with self._lock:
            self.commands.append((message.topic, payload))
        _, kind, device_id, _ = parts
        if kind == "lock" and device_id in self.doors and payload in ("LOCK", "UNLOCK"):
            self.lock_states[device_id] = "LOCKED" if payload == "LOCK" else "UNLOCKED"
            self._publish(f"{BASE}/lock/{device_id}/state", self.lock_states[device_id])
        elif kind == "siren" and device_id in self.sirens and payload in ("ON", "OFF"):
            self.siren_states[device_id] = payload
            self._publish(f"{BASE}/siren/{device_id}/state", payload)
        elif kind == "light" and device_id in self.lights:
            self._light_command(device_id, payload)

    # -- discovery ------------------------------------------------------------------------------

    def _light_command(self, light_id: str, payload: str) -> None:
        """A JSON-schema light: ``{"state": "ON", "brightness": 0-255}`` in, the same out."""
        try:
            command = json.loads(payload)
        except ValueError:
            return
        if not isinstance(command, dict) or command.get("state") not in ("ON", "OFF"):
            return
        state = {"state": command["state"], "brightness": command.get("brightness", 255)}
        self.light_states[light_id] = json.dumps(state)
        self._publish(f"{BASE}/light/{light_id}/state", self.light_states[light_id])

    def _device(self, object_id: str, name: str, place: str, model: str) -> dict[str, Any]:
        return {
            "identifiers": [f"demo_{object_id}"],
            "name": name,
            "manufacturer": "Shouwang demo",
            "model": model,
            "suggested_area": place,
        }

    def _config(self, component: str, object_id: str, config: dict[str, Any]) -> None:
        config = {"availability_topic": f"{BASE}/status", "unique_id": f"demo_{object_id}",
                  "object_id": object_id, **config}  # fmt: skip
        self._publish(
            f"{DISCOVERY_PREFIX}/{component}/{object_id}/config", json.dumps(config), retain=True
        )

    def _announce(self) -> None:
        for door in self.doors.values():
            device = self._device(door.door_id, door.name, door.place, "maglock + contact")
            self._config("lock", door.door_id, {
                "name": "门锁", "device": device,
                "state_topic": f"{BASE}/lock/{door.door_id}/state",
                "command_topic": f"{BASE}/lock/{door.door_id}/set",
            })  # fmt: skip
            self._config("binary_sensor", f"{door.door_id}_door", {
                "name": "门磁", "device": device, "device_class": "door",
                "state_topic": f"{BASE}/contact/{door.door_id}/state",
            })  # fmt: skip
        for sensor in self.sensors.values():
            device = self._device(sensor.sensor_id, sensor.name, sensor.place, sensor.device_class)
            self._config("binary_sensor", sensor.sensor_id, {
                "name": None, "device": device, "device_class": sensor.device_class,
                "state_topic": f"{BASE}/sensor/{sensor.sensor_id}/state",
            })  # fmt: skip
        for siren_id, place in self.sirens.items():
            device = self._device(siren_id, "声光报警器", place, "siren")
            self._config("siren", siren_id, {
                "name": None, "device": device,
                "state_topic": f"{BASE}/siren/{siren_id}/state",
                "command_topic": f"{BASE}/siren/{siren_id}/set",
            })  # fmt: skip
        for light_id, place in self.lights.items():
            device = self._device(light_id, "楼道灯", place, "light")
            self._config("light", light_id, {
                "name": None, "device": device, "schema": "json", "brightness": True,
                "state_topic": f"{BASE}/light/{light_id}/state",
                "command_topic": f"{BASE}/light/{light_id}/set",
            })  # fmt: skip
        self._publish(f"{BASE}/status", "online", retain=True)
        for light_id, state in self.light_states.items():
            self._publish(f"{BASE}/light/{light_id}/state", state, retain=True)
        for station in self.stations:
            self._publish(f"{STATION_BASE}/{station}/availability", "online", retain=True)
        for door_id, state in self.lock_states.items():
            self._publish(f"{BASE}/lock/{door_id}/state", state, retain=True)
            self._publish(f"{BASE}/contact/{door_id}/state", "OFF", retain=True)
        for sensor_id in self.sensors:
            self._publish(f"{BASE}/sensor/{sensor_id}/state", "OFF", retain=True)
        for siren_id, state in self.siren_states.items():
            self._publish(f"{BASE}/siren/{siren_id}/state", state, retain=True)

    def _publish(self, topic: str, payload: str, *, retain: bool = False) -> None:
        self._client.publish(topic, payload, qos=1, retain=retain)

    # -- what happens at the devices ------------------------------------------------------------

    def set_door(self, door_id: str, is_open: bool) -> None:
        """The door's contact opens or closes."""
        self._publish(f"{BASE}/contact/{door_id}/state", "ON" if is_open else "OFF", retain=True)

    def station_call(self, station: str, target: str) -> None:
        """A visitor at door station ``station`` dials ``target`` (a household id or a station)."""
        event = {"event": "call", "target": target}
        self._publish(f"{STATION_BASE}/{station}/event", json.dumps(event))

    def set_sensor(self, sensor_id: str, on: bool) -> None:
        """A sensor (turnstile beam, perimeter detector) turns on or off."""
        self._publish(f"{BASE}/sensor/{sensor_id}/state", "ON" if on else "OFF", retain=True)
