"""Validation of discovery payloads (after :mod:`.abbreviations` expanded them), one schema per
supported component, with Home Assistant's defaults.

Keys a component does not use are dropped, as Home Assistant does (devices send ``origin``,
``platform``, keys of newer HA versions …). A wrong value fails with the field's name.
"""

from __future__ import annotations

import re
from typing import Any, Final

import voluptuous as vol

from ..config import publish_topic, topic_filter

ALARM_FEATURES: Final = (
    "arm_home",
    "arm_away",
    "arm_night",
    "arm_vacation",
    "arm_custom_bypass",
    "trigger",
)


def string(value: Any) -> str:
    """A scalar as text (``true`` becomes ``"True"``, as Home Assistant's ``cv.string``)."""
    if value is None or isinstance(value, list | dict):
        raise vol.Invalid(f"expected a string, got {type(value).__name__}")
    return str(value)


def _string_list(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [string(item) for item in items]


def _regex(value: Any) -> str:
    text = string(value)
    try:
        re.compile(text)
    except re.error as err:
        raise vol.Invalid(f"not a regular expression: {err}") from None
    return text


def _qos(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise vol.Invalid(f"qos must be 0, 1 or 2, got {value!r}") from None
    if number not in (0, 1, 2):
        raise vol.Invalid(f"qos must be 0, 1 or 2, got {value!r}")
    return number


DEVICE_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("identifiers", default=list): _string_list,
        vol.Optional("connections", default=list): [vol.All(list, vol.Length(min=2, max=2))],
        vol.Optional("name"): vol.Any(None, string),
        vol.Optional("manufacturer"): string,
        vol.Optional("model"): string,
        vol.Optional("model_id"): string,
        vol.Optional("sw_version"): string,
        vol.Optional("hw_version"): string,
        vol.Optional("serial_number"): string,
        vol.Optional("suggested_area"): string,
        vol.Optional("via_device"): string,
        vol.Optional("configuration_url"): string,
    },
    extra=vol.REMOVE_EXTRA,
)


def _device(value: Any) -> dict[str, Any]:
    validated: dict[str, Any] = DEVICE_SCHEMA(value)
    if not validated["identifiers"] and not validated["connections"]:
        raise vol.Invalid("a device needs identifiers or connections")
    return validated


AVAILABILITY_SCHEMA: Final = vol.Schema(
    {
        vol.Required("topic"): topic_filter,
        vol.Optional("payload_available", default="online"): string,
        vol.Optional("payload_not_available", default="offline"): string,
        vol.Optional("value_template"): str,
    },
    extra=vol.REMOVE_EXTRA,
)

ENTITY_BASE: Final[dict[Any, Any]] = {
    vol.Optional("name"): vol.Any(None, string),
    vol.Optional("unique_id"): string,
    vol.Optional("object_id"): string,
    vol.Optional("default_entity_id"): string,
    vol.Optional("device"): _device,
    vol.Optional("icon"): string,
    vol.Optional("availability_topic"): topic_filter,
    vol.Optional("availability_template"): str,
    vol.Optional("availability"): vol.All(
        [AVAILABILITY_SCHEMA], vol.Length(min=1, msg="an availability list cannot be empty")
    ),
    vol.Optional("availability_mode", default="latest"): vol.In(["all", "any", "latest"]),
    vol.Optional("payload_available", default="online"): string,
    vol.Optional("payload_not_available", default="offline"): string,
    vol.Optional("json_attributes_topic"): topic_filter,
    vol.Optional("json_attributes_template"): str,
    vol.Optional("qos", default=0): _qos,
    vol.Optional("retain", default=False): bool,
    vol.Optional("encoding", default="utf-8"): str,
    vol.Optional("enabled_by_default", default=True): bool,
    vol.Optional("entity_category"): vol.Any(None, string),
}


def _exclusive_availability(config: dict[str, Any]) -> dict[str, Any]:
    if "availability_topic" in config and "availability" in config:
        raise vol.Invalid(
            "availability_topic and availability cannot both be given",
            path=["availability"],
        )
    return config


def _entity_schema(fields: dict[Any, Any], *checks: Any) -> vol.All:
    return vol.All(
        vol.Schema({**ENTITY_BASE, **fields}, extra=vol.REMOVE_EXTRA),
        _exclusive_availability,
        *checks,
    )


BINARY_SENSOR: Final = _entity_schema(
    {
        vol.Optional("state_topic"): topic_filter,
        vol.Optional("value_template"): str,
        vol.Optional("payload_on", default="ON"): string,
        vol.Optional("payload_off", default="OFF"): string,
        vol.Optional("device_class"): vol.Any(None, string),
        vol.Optional("off_delay"): vol.All(vol.Coerce(float), vol.Range(min=0)),
        vol.Optional("expire_after"): vol.All(vol.Coerce(float), vol.Range(min=0)),
        vol.Optional("force_update", default=False): bool,
    }
)

SENSOR: Final = _entity_schema(
    {
        vol.Required("state_topic"): topic_filter,
        vol.Optional("value_template"): str,
        vol.Optional("unit_of_measurement"): vol.Any(None, string),
        vol.Optional("device_class"): vol.Any(None, string),
        vol.Optional("state_class"): vol.Any(
            None, vol.In(["measurement", "total", "total_increasing"])
        ),
        vol.Optional("suggested_display_precision"): vol.All(vol.Coerce(int), vol.Range(min=0)),
        vol.Optional("expire_after"): vol.All(vol.Coerce(float), vol.Range(min=0)),
        vol.Optional("force_update", default=False): bool,
    }
)

LOCK: Final = _entity_schema(
    {
        vol.Required("command_topic"): publish_topic,
        vol.Optional("command_template"): str,
        vol.Optional("state_topic"): topic_filter,
        vol.Optional("value_template"): str,
        vol.Optional("code_format"): _regex,
        vol.Optional("optimistic"): bool,
        vol.Optional("payload_lock", default="LOCK"): string,
        vol.Optional("payload_unlock", default="UNLOCK"): string,
        vol.Optional("payload_open"): string,
        vol.Optional("payload_reset", default="None"): string,
        vol.Optional("state_locked", default="LOCKED"): string,
        vol.Optional("state_unlocked", default="UNLOCKED"): string,
        vol.Optional("state_locking", default="LOCKING"): string,
        vol.Optional("state_unlocking", default="UNLOCKING"): string,
        vol.Optional("state_jammed", default="JAMMED"): string,
        vol.Optional("state_open", default="OPEN"): string,
        vol.Optional("state_opening", default="OPENING"): string,
    }
)

_SWITCH_FIELDS: Final[dict[Any, Any]] = {
    vol.Optional("command_topic"): publish_topic,
    vol.Optional("command_template"): str,
    vol.Optional("state_topic"): topic_filter,
    vol.Optional("value_template"): str,
    vol.Optional("optimistic"): bool,
    vol.Optional("payload_on", default="ON"): string,
    vol.Optional("payload_off", default="OFF"): string,
    vol.Optional("state_on"): string,
    vol.Optional("state_off"): string,
    vol.Optional("device_class"): vol.Any(None, string),
}

SWITCH: Final = _entity_schema(dict(_SWITCH_FIELDS))

SIREN: Final = _entity_schema(
    {
        **_SWITCH_FIELDS,
        vol.Optional("command_off_template"): str,
        vol.Optional("state_value_template"): str,
        vol.Optional("available_tones"): vol.All([string], vol.Length(min=1)),
        vol.Optional("support_duration", default=True): bool,
        vol.Optional("support_volume_set", default=True): bool,
    }
)


def _light_schema_name(config: dict[str, Any]) -> dict[str, Any]:
    if config.get("schema", "basic") not in ("basic", "default", "json"):
        raise vol.Invalid(
            f"light schema {config['schema']!r} is not supported (basic or json)",
            path=["schema"],
        )
    return config


LIGHT: Final = _entity_schema(
    {
        vol.Optional("schema", default="basic"): string,
        vol.Required("command_topic"): publish_topic,
        vol.Optional("state_topic"): topic_filter,
        vol.Optional("state_value_template"): str,
        vol.Optional("optimistic"): bool,
        vol.Optional("payload_on", default="ON"): string,
        vol.Optional("payload_off", default="OFF"): string,
        vol.Optional("brightness_command_topic"): publish_topic,
        vol.Optional("brightness_command_template"): str,
        vol.Optional("brightness_state_topic"): topic_filter,
        vol.Optional("brightness_value_template"): str,
        vol.Optional("brightness_scale", default=255): vol.All(vol.Coerce(int), vol.Range(min=1)),
        vol.Optional("brightness"): bool,  # json schema: the light is dimmable
        vol.Optional("supported_color_modes"): [string],
        vol.Optional("on_command_type", default="last"): vol.In(["last", "first", "brightness"]),
    },
    _light_schema_name,
)

ALARM_CONTROL_PANEL: Final = _entity_schema(
    {
        vol.Required("state_topic"): topic_filter,
        vol.Required("command_topic"): publish_topic,
        vol.Optional("command_template", default="{{ action }}"): str,
        vol.Optional("value_template"): str,
        vol.Optional("code"): string,
        vol.Optional("code_arm_required", default=True): bool,
        vol.Optional("code_disarm_required", default=True): bool,
        vol.Optional("code_trigger_required", default=True): bool,
        vol.Optional("supported_features", default=list(ALARM_FEATURES)): [vol.In(ALARM_FEATURES)],
        vol.Optional("payload_arm_away", default="ARM_AWAY"): string,
        vol.Optional("payload_arm_home", default="ARM_HOME"): string,
        vol.Optional("payload_arm_night", default="ARM_NIGHT"): string,
        vol.Optional("payload_arm_vacation", default="ARM_VACATION"): string,
        vol.Optional("payload_arm_custom_bypass", default="ARM_CUSTOM_BYPASS"): string,
        vol.Optional("payload_disarm", default="DISARM"): string,
        vol.Optional("payload_trigger", default="TRIGGER"): string,
    }
)

BUTTON: Final = _entity_schema(
    {
        vol.Required("command_topic"): publish_topic,
        vol.Optional("command_template"): str,
        vol.Optional("payload_press", default="PRESS"): string,
        vol.Optional("device_class"): vol.Any(None, string),
    }
)

EVENT: Final = _entity_schema(
    {
        vol.Required("state_topic"): topic_filter,
        vol.Required("event_types"): vol.All([string], vol.Length(min=1)),
        vol.Optional("value_template"): str,
        vol.Optional("device_class"): vol.Any(None, string),
    }
)

DEVICE_TRIGGER: Final = vol.Schema(
    {
        vol.Required("automation_type"): vol.In(["trigger"]),
        vol.Required("topic"): topic_filter,
        vol.Required("type"): string,
        vol.Required("subtype"): string,
        vol.Required("device"): _device,
        vol.Optional("payload"): string,
        vol.Optional("value_template"): str,
        vol.Optional("qos", default=0): _qos,
        vol.Optional("encoding", default="utf-8"): str,
    },
    extra=vol.REMOVE_EXTRA,
)

SCHEMAS: Final[dict[str, Any]] = {
    "binary_sensor": BINARY_SENSOR,
    "sensor": SENSOR,
    "lock": LOCK,
    "switch": SWITCH,
    "siren": SIREN,
    "light": LIGHT,
    "alarm_control_panel": ALARM_CONTROL_PANEL,
    "button": BUTTON,
    "event": EVENT,
    "device_automation": DEVICE_TRIGGER,
}
