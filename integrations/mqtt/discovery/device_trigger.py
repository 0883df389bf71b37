"""Discovered device triggers (``<prefix>/device_automation/…/config``): remote buttons,
doorbells and keypads that report presses rather than states.

Each matching message fires the bus event ``mqtt_device_trigger`` with ``discovery_id``,
``device_id`` (the device's first identifier), ``device_name``, ``type``, ``subtype``,
``topic`` and ``payload``, so automations use an ``event`` trigger::

    trigger: event
    event_type: mqtt_device_trigger
    event_data: {device_id: doorbell_01, type: button_short_press, subtype: button_1}
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import orjson

from shouwang.core.template import TemplateError

from ..client import MqttClient, MqttMessage

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

EVENT_DEVICE_TRIGGER: Final = "mqtt_device_trigger"


class DeviceTrigger:
    """One discovered trigger; :meth:`start` subscribes, :meth:`stop` unsubscribes."""

    def __init__(
        self, hub: Hub, client: MqttClient, config: dict[str, Any], discovery_id: str
    ) -> None:
        self.hub = hub
        self.client = client
        self.config = config
        self.discovery_id = discovery_id
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def device_id(self) -> str | None:
        identifiers = self.config["device"]["identifiers"]
        return identifiers[0] if identifiers else None

    async def start(self) -> None:
        self._unsubscribe = await self.client.subscribe(
            self.config["topic"], self._received, self.config["qos"]
        )

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    async def update(self, config: dict[str, Any]) -> None:
        self.stop()
        self.config = config
        await self.start()

    def _received(self, message: MqttMessage) -> None:
        encoding = self.config["encoding"] or "utf-8"
        try:
            payload = message.payload.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            self.client.count_malformed(message.topic, f"payload is not valid {encoding}")
            return
        value = payload
        template = self.config.get("value_template")
        if template is not None:
            variables: dict[str, Any] = {"value": payload}
            with contextlib.suppress(orjson.JSONDecodeError):
                variables["value_json"] = orjson.loads(payload)
            try:
                value = str(
                    self.hub.templates.template(template).render(variables, parse_result=False)
                )
            except TemplateError as err:
                self.client.count_malformed(message.topic, f"value_template failed: {err}")
                return
        wanted = self.config.get("payload")
        if wanted is not None and value != wanted:
            return
        self.hub.bus.fire(
            EVENT_DEVICE_TRIGGER,
            {
                "discovery_id": self.discovery_id,
                "device_id": self.device_id,
                "device_name": self.config["device"].get("name"),
                "type": self.config["type"],
                "subtype": self.config["subtype"],
                "topic": message.topic,
                "payload": payload,
            },
        )
