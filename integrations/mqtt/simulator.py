"""A simulated door controller that announces itself with Home Assistant MQTT discovery: the
device side of discovery for the demo and for tests, speaking the documented wire format
(abbreviated keys, ``~`` base topic, a retained availability topic, retained states).

It announces a ``lock``, a door-contact ``binary_sensor`` and an ``alarm_control_panel``, and
obeys the commands it receives on its command topics as a real controller would: it changes
its state and publishes it. It talks through any :class:`~.client.MqttClient` (usually the
hub's own, or a second one for a separate "device" connection).

    sim = DoorControllerSimulator(client, "unit_3_door", name="Unit 3 door")
    await sim.start()          # configs, availability, initial states
    await sim.door(True)       # the door opens (binary_sensor on)
    await sim.stop(remove=True)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final

import orjson

from .client import MqttClient, MqttMessage

_LOGGER = logging.getLogger(__name__)

ALARM_COMMANDS: Final = {
    "ARM_HOME": "armed_home",
    "ARM_AWAY": "armed_away",
    "ARM_NIGHT": "armed_night",
    "DISARM": "disarmed",
    "TRIGGER": "triggered",
}


class DoorControllerSimulator:
    """One simulated controller under ``<base>/<node_id>`` and ``<prefix>/…/<node_id>/…``."""

    def __init__(
        self,
        client: MqttClient,
        node_id: str,
        *,
        name: str = "Door controller",
        prefix: str = "homeassistant",
        base: str = "shouwang_sim",
        pin: str = "1234",
    ) -> None:
        self.client = client
        self.node_id = node_id
        self.name = name
        self.prefix = prefix
        self.topic = f"{base}/{node_id}"
        self.pin = pin
        self.lock_state = "LOCKED"
        self.door_open = False
        self.alarm_state = "disarmed"
        self.commands: list[tuple[str, str]] = []  # (topic, payload) as received
        self._unsubscribes: list[Callable[[], None]] = []

    # -- what it announces --------------------------------------------------------------------
    def _device(self) -> dict[str, Any]:
        return {"ids": [self.node_id], "name": self.name, "mf": "Shouwang", "mdl": "SIM-DC1"}

    def configs(self) -> dict[str, dict[str, Any]]:
        """Discovery topic -> config (abbreviated keys, as small devices send them)."""
        common = {"~": self.topic, "avty_t": "~/availability", "dev": self._device()}
        node = self.node_id
        return {
            f"{self.prefix}/lock/{node}/lock/config": {
                **common,
                "name": "Lock",
                "uniq_id": f"{node}_lock",
                "stat_t": "~/lock",
                "cmd_t": "~/lock/set",
            },
            f"{self.prefix}/binary_sensor/{node}/door/config": {
                **common,
                "name": "Door",
                "uniq_id": f"{node}_door",
                "stat_t": "~/door",
                "dev_cla": "door",
            },
            f"{self.prefix}/alarm_control_panel/{node}/alarm/config": {
                **common,
                "name": "Alarm",
                "uniq_id": f"{node}_alarm",
                "stat_t": "~/alarm",
                "cmd_t": "~/alarm/set",
                "code": "REMOTE_CODE",
                "code_arm_required": False,
                "cmd_tpl": '{"action": "{{ action }}", "code": "{{ code }}"}',
                "sup_feat": ["arm_home", "arm_away", "arm_night", "trigger"],
            },
        }

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        self._unsubscribes.append(
            await self.client.subscribe(f"{self.topic}/lock/set", self._lock_command, qos=1)
        )
        self._unsubscribes.append(
            await self.client.subscribe(f"{self.topic}/alarm/set", self._alarm_command, qos=1)
        )
        for topic, config in self.configs().items():
            await self.client.publish(topic, orjson.dumps(config), qos=1, retain=True)
        await self.set_online(True)
        await self._publish_states()

    async def stop(self, *, remove: bool = False) -> None:
        """Go offline; with ``remove`` also withdraw the discovery configs and states."""
        while self._unsubscribes:
            self._unsubscribes.pop()()
        await self.set_online(False)
        if remove:
            for topic in self.configs():
                await self.client.publish(topic, b"", qos=1, retain=True)
            for leaf in ("lock", "door", "alarm", "availability"):
                await self.client.publish(f"{self.topic}/{leaf}", b"", qos=1, retain=True)

    async def set_online(self, online: bool) -> None:
        payload = "online" if online else "offline"
        await self.client.publish(f"{self.topic}/availability", payload, qos=1, retain=True)

    async def door(self, open_: bool) -> None:
        """The door opens or closes (what the contact reports)."""
        self.door_open = open_
        await self.client.publish(f"{self.topic}/door", "ON" if open_ else "OFF", 1, True)

    async def _publish_states(self) -> None:
        await self.client.publish(f"{self.topic}/lock", self.lock_state, qos=1, retain=True)
        await self.door(self.door_open)
        await self.client.publish(f"{self.topic}/alarm", self.alarm_state, qos=1, retain=True)

    # -- obeying commands ----------------------------------------------------------------------
    async def _lock_command(self, message: MqttMessage) -> None:
        command = message.text()
        self.commands.append((message.topic, command))
        if command == "LOCK":
            self.lock_state = "LOCKED"
        elif command == "UNLOCK":
            self.lock_state = "UNLOCKED"
        else:
            _LOGGER.warning("%s: unknown lock command %r", self.node_id, command)
            return
        await self.client.publish(f"{self.topic}/lock", self.lock_state, qos=1, retain=True)

    async def _alarm_command(self, message: MqttMessage) -> None:
        data = message.json()
        self.commands.append((message.topic, message.text()))
        action = data.get("action") if isinstance(data, dict) else None
        if action not in ALARM_COMMANDS:
            _LOGGER.warning("%s: unknown alarm command %r", self.node_id, action)
            return
        if action == "DISARM" and data.get("code") != self.pin:
            return  # a wrong PIN changes nothing, as on a real panel
        self.alarm_state = ALARM_COMMANDS[action]
        await self.client.publish(f"{self.topic}/alarm", self.alarm_state, qos=1, retain=True)
