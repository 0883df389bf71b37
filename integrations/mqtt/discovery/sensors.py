"""Discovered entities that only report: ``binary_sensor``, ``sensor`` and ``event``.

Binary sensors and sensors honour ``expire_after`` (unavailable when the device has not
reported for that long) and binary sensors ``off_delay`` (back to off after that long), both on
the hub's clock.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import orjson

from shouwang.core.events import Unsubscribe
from shouwang.core.platforms import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    EventEntity,
    SensorEntity,
    SensorStateClass,
)
from shouwang.core.tracking import track_point_in_time

from ..client import MqttClient, MqttMessage
from .entity import (
    PAYLOAD_NONE,
    DiscoveryInfo,
    Handler,
    MqttEntity,
    Skip,
)

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

_LOGGER = logging.getLogger(__name__)


class _Expiring(MqttEntity):
    """``expire_after``: the value goes stale (unavailable) after so many seconds."""

    _expiry: Unsubscribe | None = None
    _expired = False

    def apply_config(self, config: dict[str, Any]) -> None:
        super().apply_config(config)
        self._cancel_expiry()
        self._expired = False
        # an expiring value is unknown-and-stale until the first report, as in Home Assistant
        if config.get("expire_after"):
            self._expired = True
            self.available = False

    def fresh_value(self) -> None:
        """A value arrived: restart the expiry timer."""
        seconds = self.config.get("expire_after")
        if not seconds:
            return
        self._cancel_expiry()
        if self._expired:
            self._expired = False
            self.available = self.availability_ok()
        self._expiry = track_point_in_time(
            self.mqtt_hub, self.mqtt_hub.clock.now() + timedelta(seconds=seconds), self._expire
        )

    def _expire(self, _now: Any) -> None:
        self._expiry = None
        self._expired = True
        self.available = False
        self.safe_write()

    def _cancel_expiry(self) -> None:
        if self._expiry is not None:
            self._expiry()
            self._expiry = None

    def availability_ok(self) -> bool:
        return super().availability_ok() and not self._expired

    async def will_remove(self) -> None:
        self._cancel_expiry()
        await super().will_remove()


class MqttBinarySensor(_Expiring, BinarySensorEntity):
    _off_timer: Unsubscribe | None = None

    def apply_config(self, config: dict[str, Any]) -> None:
        super().apply_config(config)
        raw = config.get("device_class")
        try:
            self.device_class = BinarySensorDeviceClass(raw) if raw else None
        except ValueError:
            _LOGGER.info(
                "MQTT discovery %s: binary_sensor device_class %r is not one Shouwang knows; "
                "left out",
                self.discovery.topic,
                raw,
            )
            self.device_class = None

    def subscriptions(self) -> list[tuple[str, Handler]]:
        topic = self.config.get("state_topic")
        return [(topic, self.handler(self._received))] if topic else []

    def _received(self, message: MqttMessage) -> None:
        value = self.render(self.config.get("value_template"), message)
        if value == self.config["payload_on"]:
            self.is_on = True
        elif value == self.config["payload_off"]:
            self.is_on = False
        elif value == PAYLOAD_NONE:
            self.is_on = None
        else:
            raise self.malformed(
                message,
                f"{value!r} is neither payload_on {self.config['payload_on']!r} "
                f"nor payload_off {self.config['payload_off']!r}",
            )
        self.fresh_value()
        self._cancel_off_timer()
        if self.is_on and self.config.get("off_delay"):
            when = self.mqtt_hub.clock.now() + timedelta(seconds=self.config["off_delay"])
            self._off_timer = track_point_in_time(self.mqtt_hub, when, self._turn_off)

    def _turn_off(self, _now: Any) -> None:
        self._off_timer = None
        self.is_on = False
        self.safe_write()

    def _cancel_off_timer(self) -> None:
        if self._off_timer is not None:
            self._off_timer()
            self._off_timer = None

    async def will_remove(self) -> None:
        self._cancel_off_timer()
        await super().will_remove()


class MqttSensor(_Expiring, SensorEntity):
    def apply_config(self, config: dict[str, Any]) -> None:
        super().apply_config(config)
        self.unit_of_measurement = config.get("unit_of_measurement")
        self.device_class = config.get("device_class")
        self.state_class = None
        if config.get("state_class"):
            self.state_class = SensorStateClass(config["state_class"])
        self.display_precision = config.get("suggested_display_precision")

    @property
    def numeric(self) -> bool:
        """A unit or state class means the value must be a number (Home Assistant's rule)."""
        return bool(self.unit_of_measurement or self.state_class)

    def subscriptions(self) -> list[tuple[str, Handler]]:
        return [(self.config["state_topic"], self.handler(self._received))]

    def _received(self, message: MqttMessage) -> None:
        value = self.render(self.config.get("value_template"), message)
        if value == "":
            raise self.malformed(message, "the value_template gave an empty value")
        if value == PAYLOAD_NONE:
            self.native_value = None
        elif self.numeric:
            self.native_value = _number(value)
            if self.native_value is None:
                raise self.malformed(
                    message, f"{value!r} is not a number (the sensor has a unit or state class)"
                )
        else:
            self.native_value = value
        self.fresh_value()


def _number(text: str) -> int | float | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return None


class MqttEvent(MqttEntity, EventEntity):
    def __init__(
        self, hub: Hub, client: MqttClient, config: dict[str, Any], discovery: DiscoveryInfo
    ) -> None:
        super().__init__(hub, client, config, discovery, event_types=config["event_types"])

    def apply_config(self, config: dict[str, Any]) -> None:
        super().apply_config(config)
        self.event_types = list(config["event_types"])
        self.device_class = config.get("device_class")

    def subscriptions(self) -> list[tuple[str, Handler]]:
        return [(self.config["state_topic"], self._received)]

    def _received(self, message: MqttMessage) -> None:
        if not message.payload:
            return
        try:
            text = self.render(self.config.get("value_template"), message)
        except Skip:
            return
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            self.malformed(message, "event payload is not valid JSON")
            return
        if not isinstance(data, dict) or not isinstance(data.get("event_type"), str):
            self.malformed(message, "event payload needs an 'event_type' string")
            return
        event_type = data.pop("event_type")
        if event_type not in self.event_types:
            self.malformed(
                message, f"event_type {event_type!r} is not one of {', '.join(self.event_types)}"
            )
            return
        if self.hub is not None:
            self.trigger_event(event_type, data)
