"""Home Assistant MQTT discovery: devices that announce themselves become hub entities.

A retained JSON config on ``<prefix>/<component>/[<node_id>/]<object_id>/config`` creates an
entity of that component (see :data:`COMPONENTS`), built on the core platform classes and added
through ``hub.entities``; a changed config updates it in place (same entity id), an empty one
removes it. Device discovery (``<prefix>/device/<object_id>/config`` with ``components``/
``cmps``) announces several at once. ``device_automation`` configs become
:class:`~.device_trigger.DeviceTrigger` s that fire ``mqtt_device_trigger`` bus events.

A config that is not JSON, fails validation (the log names the topic and the field) or names
an unsupported component is logged, counted and ignored; whatever the topic held before stays.
Configs of one topic are handled in arrival order; different topics concurrently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import orjson
import voluptuous as vol

from ..client import MqttClient, MqttMessage
from .abbreviations import expand
from .device_trigger import EVENT_DEVICE_TRIGGER, DeviceTrigger
from .entity import DiscoveryInfo, MqttEntity
from .schemas import SCHEMAS
from .security import MqttAlarmPanel, MqttLock
from .sensors import MqttBinarySensor, MqttEvent, MqttSensor
from .switches import MqttButton, MqttLight, MqttSiren, MqttSwitch

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

EntityFactory = Callable[["Hub", MqttClient, dict[str, Any], DiscoveryInfo], MqttEntity]

COMPONENTS: Final[dict[str, EntityFactory]] = {
    "alarm_control_panel": MqttAlarmPanel,
    "binary_sensor": MqttBinarySensor,
    "button": MqttButton,
    "event": MqttEvent,
    "light": MqttLight,
    "lock": MqttLock,
    "sensor": MqttSensor,
    "siren": MqttSiren,
    "switch": MqttSwitch,
}
DEVICE_AUTOMATION: Final = "device_automation"
#: accepted as another name of Home Assistant's ``device_automation`` component
ALIASES: Final = {"device_trigger": DEVICE_AUTOMATION}

__all__ = ["COMPONENTS", "EVENT_DEVICE_TRIGGER", "Discovery"]


@dataclass(slots=True)
class _Discovered:
    """What one discovery topic (or one component of a device config) created."""

    component: str
    entity: MqttEntity | None = None
    trigger: DeviceTrigger | None = None


class Discovery:
    """Listens on the discovery prefix and keeps the discovered entities in step."""

    def __init__(self, hub: Hub, client: MqttClient, prefix: str) -> None:
        self.hub = hub
        self.client = client
        self.prefix = prefix
        self.stats: dict[str, int] = dict.fromkeys(
            ("discovered", "updated", "removed", "invalid", "unsupported"), 0
        )
        self.items: dict[str, _Discovered] = {}
        self._payloads: dict[str, bytes] = {}  # config topic -> the payload last applied
        self._device_parts: dict[str, set[str]] = {}  # device config topic -> item keys
        # one lock per config topic: configs of one topic apply in arrival order, different
        # topics concurrently (their subscriptions' acknowledgements overlap)
        self._locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}  # lock, [users]
        self._unsupported_logged: set[str] = set()
        self._unsubscribes: list[Any] = []

    async def start(self) -> None:
        for pattern in (f"{self.prefix}/+/+/config", f"{self.prefix}/+/+/+/config"):
            self._unsubscribes.append(await self.client.subscribe(pattern, self._received, 1))
        self._unsubscribes.append(self.client.on_connection_change(self._connection_changed))
        # Home Assistant's birth message: Zigbee2MQTT, ESPHome and Tasmota announce again
        await self.client.publish(f"{self.prefix}/status", "online")

    def stop(self) -> None:
        while self._unsubscribes:
            self._unsubscribes.pop()()

    def _connection_changed(self, connected: bool) -> None:
        for item in self.items.values():
            if item.entity is not None:
                item.entity.broker_connection(connected)

    def _received(self, message: MqttMessage) -> None:
        self.hub.create_task(self._handle(message), f"mqtt discovery {message.topic}")

    async def _handle(self, message: MqttMessage) -> None:
        lock, users = self._locks.setdefault(message.topic, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:  # FIFO
                await self._process(message)
        except Exception:
            self._payloads.pop(message.topic, None)  # the same config again is tried again
            self.stats["invalid"] += 1
            _LOGGER.exception("MQTT discovery %s: could not apply the config", message.topic)
        finally:
            users[0] -= 1
            if not users[0]:
                del self._locks[message.topic]

    async def _process(self, message: MqttMessage) -> None:
        topic = message.topic
        levels = topic[len(self.prefix) + 1 :].split("/")
        component = ALIASES.get(levels[0], levels[0])
        ids = levels[1:-1]  # [node_id,] object_id
        discovery_id = "/".join(ids)
        if self._payloads.get(topic) == message.payload:
            return  # the same config again (a device re-announcing)
        if component == "device":
            await self._device(topic, discovery_id, message)
            return
        if component not in COMPONENTS and component != DEVICE_AUTOMATION:
            self._unsupported(topic, component)
            return
        if not message.payload:
            self._payloads.pop(topic, None)
            await self._remove(topic)
            return
        data = self._decode(message)
        if data is None:
            return
        config = self._validate(topic, component, expand(data))
        if config is None:
            return
        self._payloads[topic] = message.payload
        await self._apply(topic, component, discovery_id, config)

    # -- parsing ----------------------------------------------------------------------------
    def _decode(self, message: MqttMessage) -> dict[str, Any] | None:
        try:
            data = orjson.loads(message.payload)
        except orjson.JSONDecodeError as err:
            self._invalid(message.topic, f"config is not valid JSON: {err}")
            return None
        if not isinstance(data, dict):
            self._invalid(message.topic, "config is not a JSON object")
            return None
        return data

    def _validate(self, topic: str, component: str, data: dict[str, Any]) -> dict[str, Any] | None:
        try:
            config: dict[str, Any] = SCHEMAS[component](data)
        except vol.Invalid as err:
            errors = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error.path) or '(config)'}: {error.msg}"
                for error in errors
            )
            self._invalid(topic, f"invalid {component} config: {problems}")
            return None
        return config

    def _invalid(self, topic: str, problem: str) -> None:
        self.stats["invalid"] += 1
        self.client.count_malformed(topic, f"discovery {problem}; ignored")

    def _unsupported(self, topic: str, component: str) -> None:
        self.stats["unsupported"] += 1
        if component not in self._unsupported_logged:
            self._unsupported_logged.add(component)
            _LOGGER.info(
                "MQTT discovery %s: component %r is not supported (supported: %s)",
                topic,
                component,
                ", ".join(sorted([*COMPONENTS, DEVICE_AUTOMATION])),
            )

    # -- applying ---------------------------------------------------------------------------
    async def _apply(
        self, key: str, component: str, discovery_id: str, config: dict[str, Any]
    ) -> None:
        current = self.items.get(key)
        if current is not None and (
            current.component != component
            or (
                current.entity is not None
                and (
                    current.entity.unique_id != config.get("unique_id")
                    or _requested_id(current.entity) != _requested_id_of(component, config)
                )
            )
        ):
            await self._remove(key)  # a different entity now: replace it
            current = None
        if current is not None:
            if current.entity is not None:
                await current.entity.update_config(config)
            elif current.trigger is not None:
                await current.trigger.update(config)
            self.stats["updated"] += 1
            _LOGGER.debug("MQTT discovery %s: updated", key)
            return
        if component == DEVICE_AUTOMATION:
            trigger = DeviceTrigger(self.hub, self.client, config, discovery_id)
            await trigger.start()
            self.items[key] = _Discovered(component, trigger=trigger)
        else:
            info = DiscoveryInfo(component, discovery_id, key)
            try:
                entity = COMPONENTS[component](self.hub, self.client, config, info)
                added = await self.hub.entities.add([entity], integration="mqtt")
            except (ValueError, TypeError) as err:
                self._payloads.pop(key, None)
                self._invalid(key, f"{component} config: {err}")
                return
            if not added:
                self._payloads.pop(key, None)
                self._invalid(key, f"unique_id {config.get('unique_id')!r} is already in use")
                return
            self.items[key] = _Discovered(component, entity=entity)
            _LOGGER.info("MQTT discovery %s: added %s", key, entity.entity_id)
        self.stats["discovered"] += 1

    async def _remove(self, key: str) -> None:
        current = self.items.pop(key, None)
        if current is None:
            return
        if current.entity is not None and current.entity.entity_id is not None:
            await self.hub.entities.remove(current.entity.entity_id)
            _LOGGER.info("MQTT discovery %s: removed %s", key, current.entity.entity_id)
        if current.trigger is not None:
            current.trigger.stop()
        self.stats["removed"] += 1

    # -- device discovery -------------------------------------------------------------------
    async def _device(self, topic: str, discovery_id: str, message: MqttMessage) -> None:
        """``<prefix>/device/<id>/config``: shared options plus ``components`` by id, each
        with its ``platform``; a component given only its platform (or left out) is removed."""
        if not message.payload:
            self._payloads.pop(topic, None)
            for key in self._device_parts.pop(topic, set()):
                await self._remove(key)
            return
        data = self._decode(message)
        if data is None:
            return
        shared = expand(data)
        components = shared.pop("components", None)
        if not isinstance(components, dict) or not components:
            self._invalid(topic, "device config needs a 'components' object")
            return
        self._payloads[topic] = message.payload
        wanted: set[str] = set()
        for component_id, raw in components.items():
            key = f"{topic}#{component_id}"
            if not isinstance(raw, dict):
                self._invalid(f"{topic} components.{component_id}", "is not a JSON object")
                continue
            part = expand(raw)
            named = str(part.pop("platform", ""))
            platform = ALIASES.get(named, named)
            if not part:
                continue  # only the platform: the component is being removed
            if platform not in COMPONENTS and platform != DEVICE_AUTOMATION:
                self._unsupported(f"{topic} components.{component_id}", platform or "(none)")
                continue
            config = self._validate(
                f"{topic} components.{component_id}", platform, {**shared, **part}
            )
            if config is None:
                if key in self.items:
                    wanted.add(key)  # a bad update leaves the component as it was
                continue
            wanted.add(key)
            await self._apply(key, platform, f"{discovery_id}/{component_id}", config)
        for key in self._device_parts.get(topic, set()) - wanted:
            await self._remove(key)
        self._device_parts[topic] = wanted


def _requested_id(entity: MqttEntity) -> str | None:
    return entity.requested_entity_id


def _requested_id_of(component: str, config: dict[str, Any]) -> str | None:
    if config.get("default_entity_id"):
        return str(config["default_entity_id"])
    if config.get("object_id"):
        return f"{component}.{config['object_id']}"
    return None
