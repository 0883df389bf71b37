"""Discovered on/off devices and buttons: ``switch``, ``siren``, ``light`` (basic schema with
on/off and brightness; ``json`` schema with state and brightness) and ``button``.

Without a ``state_topic`` (or with ``optimistic: true``) the entity assumes a command worked,
as Home Assistant does. Commands are never retained.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from shouwang.core.events import Context
from shouwang.core.platforms import (
    ButtonEntity,
    LightEntity,
    NotSupportedError,
    SirenEntity,
    SwitchEntity,
)

from ..client import MqttClient, MqttMessage
from .entity import (
    PAYLOAD_NONE,
    DiscoveryInfo,
    Handler,
    MqttEntity,
)

if TYPE_CHECKING:
    from shouwang.core.hub import Hub


class _OnOff(MqttEntity):
    """State topic and payloads shared by switch and siren."""

    is_on: bool | None = None

    def apply_config(self, config: dict[str, Any]) -> None:
        super().apply_config(config)
        self.optimistic = config.get("optimistic", "state_topic" not in config)
        self._state_on = config.get("state_on", config["payload_on"])
        self._state_off = config.get("state_off", config["payload_off"])

    def subscriptions(self) -> list[tuple[str, Handler]]:
        topic = self.config.get("state_topic")
        return [(topic, self.handler(self._received))] if topic else []

    def state_value(self, message: MqttMessage) -> str:
        return self.render(self.config.get("value_template"), message)

    def _received(self, message: MqttMessage) -> None:
        value = self.state_value(message)
        if value == self._state_on:
            self.is_on = True
        elif value == self._state_off:
            self.is_on = False
        elif value == PAYLOAD_NONE:
            self.is_on = None
        else:
            raise self.malformed(
                message, f"{value!r} is neither {self._state_on!r} nor {self._state_off!r}"
            )

    async def switch_to(self, on: bool, payload: str, context: Context | None) -> None:
        topic = self.config.get("command_topic")
        if not topic:
            raise NotSupportedError(self, "turn_on" if on else "turn_off", "no command_topic")
        await self.send_command(topic, payload)
        if self.optimistic:
            self.is_on = on
            self.write_state(context)


class MqttSwitch(_OnOff, SwitchEntity):
    async def turn_on(self, *, context: Context | None = None) -> None:
        payload = self.render_command(
            self.config.get("command_template"), self.config["payload_on"]
        )
        await self.switch_to(True, payload, context)

    async def turn_off(self, *, context: Context | None = None) -> None:
        payload = self.render_command(
            self.config.get("command_template"), self.config["payload_off"]
        )
        await self.switch_to(False, payload, context)


class MqttSiren(_OnOff, SirenEntity):
    def apply_config(self, config: dict[str, Any]) -> None:
        super().apply_config(config)
        self.available_tones = config.get("available_tones")

    def state_value(self, message: MqttMessage) -> str:
        """A siren may report JSON (``{"state": "ON", "tone": …}``)."""
        template = self.config.get("state_value_template") or self.config.get("value_template")
        value = self.render(template, message)
        if template is None and value.startswith("{"):
            try:
                data = orjson.loads(value)
            except orjson.JSONDecodeError:
                raise self.malformed(message, "siren state is not valid JSON") from None
            if not isinstance(data, dict) or "state" not in data:
                raise self.malformed(message, "siren JSON state needs a 'state' key")
            value = str(data["state"])
        return value

    async def turn_on(
        self,
        *,
        tone: str | None = None,
        volume_level: float | None = None,
        duration: float | None = None,
        context: Context | None = None,
    ) -> None:
        if duration is not None and not self.config["support_duration"]:
            raise NotSupportedError(self, "duration")
        if volume_level is not None and not self.config["support_volume_set"]:
            raise NotSupportedError(self, "volume_level")
        options = {
            key: value
            for key, value in (
                ("tone", tone),
                ("volume_level", volume_level),
                ("duration", duration),
            )
            if value is not None
        }
        template = self.config.get("command_template")
        payload_on = self.config["payload_on"]
        if template is not None:
            payload = self.render_command(template, payload_on, **options)
        elif options:
            payload = orjson.dumps({"state": payload_on, **options}).decode()
        else:
            payload = payload_on
        await self.switch_to(True, payload, context)

    async def turn_off(self, *, context: Context | None = None) -> None:
        template = self.config.get("command_off_template") or self.config.get("command_template")
        payload = self.render_command(template, self.config["payload_off"])
        await self.switch_to(False, payload, context)


class MqttLight(MqttEntity, LightEntity):
    """Basic schema: ``command_topic`` with payload_on/off, ``brightness_command_topic``.
    JSON schema: ``{"state": "ON", "brightness": n}`` both ways."""

    def apply_config(self, config: dict[str, Any]) -> None:
        super().apply_config(config)
        self.json_schema = config["schema"] == "json"
        self.optimistic = config.get("optimistic", "state_topic" not in config)
        self._scale: int = config["brightness_scale"]

    @property
    def dimmable(self) -> bool:
        if self.json_schema:
            modes = self.config.get("supported_color_modes") or []
            return bool(self.config.get("brightness")) or any(m != "onoff" for m in modes)
        return "brightness_command_topic" in self.config

    def _to_device(self, brightness: int) -> int:
        return max(1, round(brightness * self._scale / 255)) if brightness else 0

    def _from_device(self, value: float) -> int:
        return max(0, min(255, round(value * 255 / self._scale)))

    def subscriptions(self) -> list[tuple[str, Handler]]:
        wanted: list[tuple[str, Handler]] = []
        if "state_topic" in self.config:
            receive = self._json_received if self.json_schema else self._state_received
            wanted.append((self.config["state_topic"], self.handler(receive)))
        if not self.json_schema and "brightness_state_topic" in self.config:
            wanted.append(
                (self.config["brightness_state_topic"], self.handler(self._brightness_received))
            )
        return wanted

    def _state_received(self, message: MqttMessage) -> None:
        value = self.render(self.config.get("state_value_template"), message)
        if value == self.config["payload_on"]:
            self.is_on = True
        elif value == self.config["payload_off"]:
            self.is_on = False
        elif value == PAYLOAD_NONE:
            self.is_on = None
        else:
            raise self.malformed(message, f"{value!r} is neither payload_on nor payload_off")

    def _brightness_received(self, message: MqttMessage) -> None:
        value = self.render(self.config.get("brightness_value_template"), message)
        try:
            self.brightness = self._from_device(float(value))
        except ValueError:
            raise self.malformed(message, f"brightness {value!r} is not a number") from None

    def _json_received(self, message: MqttMessage) -> None:
        text = self.decode(message)
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise self.malformed(message, "light state is not valid JSON") from None
        if not isinstance(data, dict):
            raise self.malformed(message, "light state is not a JSON object")
        state = data.get("state")
        if state == "ON":
            self.is_on = True
        elif state == "OFF":
            self.is_on = False
        elif state is None and "state" in data:
            self.is_on = None
        elif "state" in data:
            raise self.malformed(message, f"light state {state!r} is neither ON nor OFF")
        if "brightness" in data and data["brightness"] is not None:
            value = data["brightness"]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self.malformed(message, f"brightness {value!r} is not a number")
            self.brightness = self._from_device(value)

    async def turn_on(
        self,
        *,
        brightness: int | None = None,
        transition: float | None = None,
        context: Context | None = None,
    ) -> None:
        if brightness is not None and not self.dimmable:
            raise NotSupportedError(self, "brightness")
        command = self.config["command_topic"]
        if self.json_schema:
            message: dict[str, Any] = {"state": "ON"}
            if brightness is not None:
                message["brightness"] = self._to_device(brightness)
            if transition is not None:
                message["transition"] = transition
            await self.send_command(command, orjson.dumps(message))
        else:
            await self._basic_on(command, brightness)
        if self.optimistic:
            self.is_on = True
            if brightness is not None:
                self.brightness = brightness
            self.write_state(context)

    async def _basic_on(self, command: str, brightness: int | None) -> None:
        on_type = self.config["on_command_type"]
        brightness_topic = self.config.get("brightness_command_topic")
        if on_type == "brightness" and brightness_topic:
            level = self._to_device(brightness if brightness is not None else 255)
            await self.send_command(brightness_topic, self._brightness_payload(level))
            return
        if on_type == "first":
            await self.send_command(command, self.config["payload_on"])
        if brightness is not None and brightness_topic:
            level = self._to_device(brightness)
            await self.send_command(brightness_topic, self._brightness_payload(level))
        if on_type == "last":
            await self.send_command(command, self.config["payload_on"])

    def _brightness_payload(self, level: int) -> str:
        return self.render_command(self.config.get("brightness_command_template"), level)

    async def turn_off(
        self, *, transition: float | None = None, context: Context | None = None
    ) -> None:
        command = self.config["command_topic"]
        if self.json_schema:
            message: dict[str, Any] = {"state": "OFF"}
            if transition is not None:
                message["transition"] = transition
            await self.send_command(command, orjson.dumps(message))
        else:
            await self.send_command(command, self.config["payload_off"])
        if self.optimistic:
            self.is_on = False
            self.write_state(context)


class MqttButton(MqttEntity, ButtonEntity):
    def __init__(
        self, hub: Hub, client: MqttClient, config: dict[str, Any], discovery: DiscoveryInfo
    ) -> None:
        super().__init__(hub, client, config, discovery, device_class=config.get("device_class"))

    def apply_config(self, config: dict[str, Any]) -> None:
        super().apply_config(config)
        self.device_class = config.get("device_class")

    async def press(self, *, context: Context | None = None) -> None:
        payload = self.render_command(
            self.config.get("command_template"), self.config["payload_press"]
        )
        await self.send_command(self.config["command_topic"], payload)
