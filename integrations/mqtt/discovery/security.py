"""Discovered locks and alarm panels: state from the device, commands to its command topic.

A lock with ``code_format`` (a regular expression) refuses codes that do not match before
anything is sent. An alarm panel's ``code`` is Home Assistant's: ``REMOTE_CODE`` (digits) or
``REMOTE_CODE_TEXT`` pass the user's code to the device in ``command_template``; any other value
is a code checked here, never sent. Commands are never retained.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

from shouwang.core.events import Context
from shouwang.core.platforms import (
    AlarmControlPanelEntity,
    CodeFormat,
    LockEntity,
    NotSupportedError,
)
from shouwang.core.platforms import lock as lock_platform
from shouwang.core.platforms.alarm_control_panel import (
    STATE_ARMED_AWAY,
    STATE_ARMED_CUSTOM_BYPASS,
    STATE_ARMED_HOME,
    STATE_ARMED_NIGHT,
    STATE_ARMED_VACATION,
)
from shouwang.core.services import ServiceValidationError

from ..client import MqttMessage
from .entity import PAYLOAD_NONE, Handler, MqttEntity

if TYPE_CHECKING:
    pass

REMOTE_CODE: Final = "REMOTE_CODE"
REMOTE_CODE_TEXT: Final = "REMOTE_CODE_TEXT"

#: our lock state <- the config key holding the device's word for it
_LOCK_STATES: Final = {
    lock_platform.STATE_LOCKED: "state_locked",
    lock_platform.STATE_UNLOCKED: "state_unlocked",
    lock_platform.STATE_LOCKING: "state_locking",
    lock_platform.STATE_UNLOCKING: "state_unlocking",
    lock_platform.STATE_JAMMED: "state_jammed",
    lock_platform.STATE_OPEN: "state_open",
    lock_platform.STATE_OPENING: "state_opening",
}


class MqttLock(MqttEntity, LockEntity):
    def apply_config(self, config: dict[str, Any]) -> None:
        super().apply_config(config)
        self.optimistic = config.get("optimistic", "state_topic" not in config)
        self._states = {config[key]: state for state, key in _LOCK_STATES.items()}
        pattern = config.get("code_format")
        self._code_pattern = re.compile(pattern) if pattern else None

    def subscriptions(self) -> list[tuple[str, Handler]]:
        topic = self.config.get("state_topic")
        return [(topic, self.handler(self._received))] if topic else []

    def _received(self, message: MqttMessage) -> None:
        value = self.render(self.config.get("value_template"), message)
        if value in self._states:
            self.lock_state = self._states[value]
        elif value in (self.config["payload_reset"], PAYLOAD_NONE):
            self.lock_state = None
        else:
            raise self.malformed(message, f"{value!r} is not a lock state this lock announced")

    def state_attributes(self) -> dict[str, Any]:
        attributes = super().state_attributes()
        if self._code_pattern is not None:
            attributes["code_format"] = self._code_pattern.pattern
        return attributes

    async def _command(
        self, payload_key: str, code: str | None, optimistic_state: str, context: Context | None
    ) -> None:
        if self._code_pattern is not None and (
            code is None or not self._code_pattern.fullmatch(code)
        ):
            raise ServiceValidationError(
                f"code: {self.entity_id} needs a code matching {self._code_pattern.pattern}"
            )
        payload = self.render_command(
            self.config.get("command_template"), self.config[payload_key], code=code
        )
        await self.send_command(self.config["command_topic"], payload)
        if self.optimistic:
            self.lock_state = optimistic_state
            self.write_state(context)

    async def lock(self, *, code: str | None = None, context: Context | None = None) -> None:
        await self._command("payload_lock", code, lock_platform.STATE_LOCKED, context)

    async def unlock(self, *, code: str | None = None, context: Context | None = None) -> None:
        await self._command("payload_unlock", code, lock_platform.STATE_UNLOCKED, context)

    async def open(self, *, code: str | None = None, context: Context | None = None) -> None:
        if "payload_open" not in self.config:
            raise NotSupportedError(self, "open", "the device announced no payload_open")
        await self._command("payload_open", code, lock_platform.STATE_OPEN, context)


_FEATURE_MODES: Final = {
    "arm_home": STATE_ARMED_HOME,
    "arm_away": STATE_ARMED_AWAY,
    "arm_night": STATE_ARMED_NIGHT,
    "arm_vacation": STATE_ARMED_VACATION,
    "arm_custom_bypass": STATE_ARMED_CUSTOM_BYPASS,
}
_MODE_PAYLOADS: Final = {
    STATE_ARMED_HOME: "payload_arm_home",
    STATE_ARMED_AWAY: "payload_arm_away",
    STATE_ARMED_NIGHT: "payload_arm_night",
    STATE_ARMED_VACATION: "payload_arm_vacation",
    STATE_ARMED_CUSTOM_BYPASS: "payload_arm_custom_bypass",
}


class MqttAlarmPanel(MqttEntity, AlarmControlPanelEntity):
    def apply_config(self, config: dict[str, Any]) -> None:
        super().apply_config(config)
        features = config["supported_features"]
        self.supported_modes = frozenset(
            mode for feature, mode in _FEATURE_MODES.items() if feature in features
        )
        code = config.get("code")
        self._local_code: str | None = None
        if code is None:
            self.code_format = None
        elif code == REMOTE_CODE:
            self.code_format = CodeFormat.NUMBER
        elif code == REMOTE_CODE_TEXT:
            self.code_format = CodeFormat.TEXT
        else:
            self._local_code = code
            self.code_format = CodeFormat.NUMBER if code.isdigit() else CodeFormat.TEXT
        self.code_arm_required = config["code_arm_required"]

    def subscriptions(self) -> list[tuple[str, Handler]]:
        return [(self.config["state_topic"], self.handler(self._received))]

    def _received(self, message: MqttMessage) -> None:
        value = self.render(self.config.get("value_template"), message)
        if value in self.states:
            self.alarm_state = value
        elif value == PAYLOAD_NONE:
            self.alarm_state = None
        else:
            raise self.malformed(message, f"{value!r} is not an alarm panel state")

    async def _send(self, payload_key: str, code: str | None) -> None:
        if self._local_code is not None:
            if code is not None and code != self._local_code:
                raise ServiceValidationError(f"code: wrong code for {self.entity_id}")
            code = None  # a local code is checked here, never sent
        action = self.config[payload_key]
        payload = self.render_command(
            self.config["command_template"], action, action=action, code=code
        )
        await self.send_command(self.config["command_topic"], payload)

    async def arm(
        self, mode: str, *, code: str | None = None, context: Context | None = None
    ) -> None:
        await self._send(_MODE_PAYLOADS[mode], code)

    async def disarm(self, *, code: str | None = None, context: Context | None = None) -> None:
        await self._send("payload_disarm", code)

    async def trigger(self, *, code: str | None = None, context: Context | None = None) -> None:
        if "trigger" not in self.config["supported_features"]:
            raise NotSupportedError(self, "trigger")
        if self.code_format is not None and self.config["code_trigger_required"] and not code:
            raise ServiceValidationError(f"code: {self.entity_id} needs a code to trigger")
        await self._send("payload_trigger", code)

    async def _disarm_service(
        self, *, code: str | None = None, context: Context | None = None
    ) -> None:
        required = self.code_format is not None and self.config["code_disarm_required"]
        self._check_code(code, required=required, action="disarm")
        await self.disarm(code=code, context=context)
