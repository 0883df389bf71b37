"""What every discovered entity shares: naming and device info from the discovery payload,
availability (one topic or a list, mode ``all``/``any``/``latest``), ``json_attributes_topic``,
value templates, payload decoding and publishing commands.

The concrete classes in :mod:`.platforms` combine :class:`MqttEntity` with a core platform
class (``LockEntity`` …) and add their state topics and commands. A bad payload on any of an
entity's topics is logged with the topic and counted as malformed; the entity keeps its state.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import orjson

from shouwang.core.entity import DeviceInfo, Entity, EntityOptions
from shouwang.core.template import TemplateError

from ..client import MqttClient, MqttMessage

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

#: a value template that renders to this (or a payload equal to it) means "unknown"
PAYLOAD_NONE: Final = "None"

Handler = Callable[[MqttMessage], None]


class Skip(Exception):
    """A payload was unusable; already logged and counted."""


@dataclass(frozen=True, slots=True)
class DiscoveryInfo:
    """Where an entity came from: its discovery topic and id (``[node_id/]object_id``)."""

    component: str
    discovery_id: str
    topic: str


@dataclass(slots=True)
class _AvailabilitySource:
    topic: str
    payload_available: str
    payload_not_available: str
    template: str | None
    available: bool = False


def entity_options(hub: Hub, component: str, config: Mapping[str, Any]) -> EntityOptions:
    """Name, unique id, entity id, device and place for the platform constructor."""
    device = config.get("device")
    options: EntityOptions = {"unique_id": config.get("unique_id")}
    if device:
        identifiers = frozenset(("mqtt", identifier) for identifier in device["identifiers"])
        identifiers |= frozenset((str(kind), str(value)) for kind, value in device["connections"])
        options["device_info"] = DeviceInfo(
            identifiers=identifiers,
            name=device.get("name"),
            manufacturer=device.get("manufacturer"),
            model=device.get("model"),
            sw_version=device.get("sw_version"),
            via_device=("mqtt", device["via_device"]) if device.get("via_device") else None,
        )
        area = device.get("suggested_area")
        if area and hub.places.get(area) is not None:
            options["place_id"] = area
    if config.get("default_entity_id"):
        options["entity_id"] = config["default_entity_id"]
    elif config.get("object_id"):
        options["entity_id"] = f"{component}.{config['object_id']}"
    if config.get("icon"):
        options["icon"] = config["icon"]
    return options


def entity_name(config: Mapping[str, Any], fallback: str) -> str:
    """Home Assistant's naming: device name, then the entity's own name (none: device only)."""
    device_name = (config.get("device") or {}).get("name")
    own = config.get("name")
    if device_name and own:
        return f"{device_name} {own}"
    return str(own or device_name or fallback)


class MqttEntity(Entity):
    """Mixin for discovered entities; list it before the platform class, whose constructor it
    calls with the entity's name, the options its config gives (unique id, place, device …)
    and ``platform_options`` (e.g. an event entity's ``event_types``)."""

    def __init__(
        self,
        hub: Hub,
        client: MqttClient,
        config: dict[str, Any],
        discovery: DiscoveryInfo,
        **platform_options: Any,
    ) -> None:
        options = {**entity_options(hub, self.domain, config), **platform_options}
        super().__init__(entity_name(config, discovery.discovery_id), **options)
        self.init_mqtt(hub, client, config, discovery)

    def init_mqtt(
        self, hub: Hub, client: MqttClient, config: dict[str, Any], discovery: DiscoveryInfo
    ) -> None:
        self.mqtt_hub = hub
        self.client = client
        self.discovery = discovery
        self._unsubscribes: list[Callable[[], None]] = []
        self._availability: list[_AvailabilitySource] = []
        self._availability_mode = "latest"
        # while the hub has no broker, nothing the entity shows is current
        self._broker_connected = client.connected
        self.config: dict[str, Any] = {}
        self.apply_config(config)

    # -- configuration ----------------------------------------------------------------------
    def apply_config(self, config: dict[str, Any]) -> None:
        """Take a (new) validated config; subclasses read their own keys, then call this."""
        self.config = config
        self.name = entity_name(config, self.discovery.discovery_id)
        self.icon = config.get("icon")
        sources = []
        if "availability_topic" in config:
            sources.append(
                _AvailabilitySource(
                    config["availability_topic"],
                    config["payload_available"],
                    config["payload_not_available"],
                    config.get("availability_template"),
                )
            )
        for entry in config.get("availability") or []:
            sources.append(
                _AvailabilitySource(
                    entry["topic"],
                    entry["payload_available"],
                    entry["payload_not_available"],
                    entry.get("value_template"),
                )
            )
        self._availability = sources
        self._availability_mode = config["availability_mode"]
        self._latest_available = False
        # with availability topics, unavailable until one says otherwise (as Home Assistant)
        self.available = self.availability_ok()

    def availability_ok(self) -> bool:
        """What the availability topics say (True without any), and only while the hub is
        connected to the broker."""
        if not self._broker_connected:
            return False
        sources = self._availability
        if not sources:
            return True
        if self._availability_mode == "all":
            return all(source.available for source in sources)
        if self._availability_mode == "any":
            return any(source.available for source in sources)
        return self._latest_available

    def broker_connection(self, connected: bool) -> None:
        """The hub lost or regained the broker (the broker then replays retained state)."""
        self._broker_connected = connected
        self.available = self.availability_ok()
        self.safe_write()

    def subscriptions(self) -> list[tuple[str, Handler]]:
        """The state topics of the platform: (topic, handler) pairs."""
        return []

    # -- lifecycle --------------------------------------------------------------------------
    async def added_to_hub(self) -> None:
        await self._subscribe()

    async def will_remove(self) -> None:
        self._unsubscribe()

    async def update_config(self, config: dict[str, Any]) -> None:
        """A changed discovery payload: new topics, templates and payloads, same entity id."""
        previous = self.config
        self._unsubscribe()
        self.extra_attributes = {}
        try:
            self.apply_config(config)
        except Exception:
            self.apply_config(previous)  # keep working as announced before
            await self._subscribe()
            raise
        await self._subscribe()
        self.write_state()

    async def _subscribe(self) -> None:
        qos = self.config["qos"]
        wanted: list[tuple[str, Handler]] = list(self.subscriptions())
        for index, source in enumerate(self._availability):
            wanted.append((source.topic, self._availability_handler(index)))
        if self.config.get("json_attributes_topic"):
            wanted.append((self.config["json_attributes_topic"], self._attributes_received))
        for topic, handler in wanted:
            self._unsubscribes.append(await self.client.subscribe(topic, handler, qos))

    def _unsubscribe(self) -> None:
        while self._unsubscribes:
            self._unsubscribes.pop()()

    # -- helpers for platforms --------------------------------------------------------------
    def malformed(self, message: MqttMessage, problem: str) -> Skip:
        self.client.count_malformed(message.topic, f"{self.entity_id}: {problem}")
        return Skip(problem)

    def decode(self, message: MqttMessage) -> str:
        encoding = self.config.get("encoding") or "utf-8"
        try:
            return message.payload.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise self.malformed(message, f"payload is not valid {encoding}") from None

    def render(self, template: str | None, message: MqttMessage, text: str | None = None) -> str:
        """The payload as text, through ``template`` (with ``value``/``value_json``) if set."""
        value = self.decode(message) if text is None else text
        if template is None:
            return value
        variables: dict[str, Any] = {"value": value, "entity_id": self.entity_id}
        with contextlib.suppress(orjson.JSONDecodeError):
            variables["value_json"] = orjson.loads(value)
        try:
            rendered = self.mqtt_hub.templates.template(template).render(
                variables, parse_result=False
            )
        except TemplateError as err:
            raise self.malformed(message, f"template {template!r} failed: {err}") from None
        return str(rendered)

    def render_command(self, template: str | None, value: Any, **extra: Any) -> str:
        """A command payload: ``value`` itself, or ``template`` rendered with ``value``."""
        if template is None:
            return str(value)
        variables = {"value": value, "entity_id": self.entity_id, **extra}
        return str(self.mqtt_hub.templates.template(template).render(variables, parse_result=False))

    async def send_command(self, topic: str, payload: str | bytes) -> None:
        """Publish a command: the entity's QoS, never retained (a retained command would
        replay on every reconnect of the device)."""
        await self.client.publish(topic, payload, self.config["qos"], retain=False)

    def safe_write(self) -> None:
        """Write the state if the entity is in the hub (messages can race removal)."""
        if self.hub is not None and self.entity_id is not None:
            self.write_state()

    def handler(self, receive: Callable[[MqttMessage], None]) -> Handler:
        """Wrap a platform's receive function: empty payloads (a retained message being
        cleared) are ignored, :class:`Skip` ends it quietly (already counted), then the new
        state is written."""

        def handle(message: MqttMessage) -> None:
            if not message.payload:
                return  # a retained message being cleared: nothing to report
            try:
                receive(message)
            except Skip:
                return
            self.safe_write()

        return handle

    # -- availability and attributes --------------------------------------------------------
    def _availability_handler(self, index: int) -> Handler:
        def receive(message: MqttMessage) -> None:
            source = self._availability[index]
            value = self.render(source.template, message)
            if value == source.payload_available:
                source.available = True
            elif value == source.payload_not_available:
                source.available = False
            else:
                raise self.malformed(
                    message,
                    f"availability {value!r} is neither {source.payload_available!r} "
                    f"nor {source.payload_not_available!r}",
                )
            self._latest_available = source.available
            self.available = self.availability_ok()

        return self.handler(receive)

    def _attributes_received(self, message: MqttMessage) -> None:
        if not message.payload:
            return
        try:
            text = self.render(self.config.get("json_attributes_template"), message)
            try:
                attributes = orjson.loads(text)
            except orjson.JSONDecodeError:
                raise self.malformed(message, "json_attributes is not valid JSON") from None
            if not isinstance(attributes, dict):
                raise self.malformed(message, "json_attributes is not a JSON object")
        except Skip:
            return
        # platform attributes and the name stay the platform's
        reserved = set(self.state_attributes()) | {"friendly_name", "icon", "place_id"}
        self.extra_attributes = {k: v for k, v in attributes.items() if k not in reserved}
        self.safe_write()
