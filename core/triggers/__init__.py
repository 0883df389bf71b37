"""Trigger platforms: what starts an automation (a state change, an event, a time, a face …).

A trigger platform validates its own config and attaches a listener that calls back with the
``trigger`` variables when it fires. Built-ins live in this package; integrations add theirs
(``face``, ``stranger``, ``plate``, ``access``, ``patrol`` …) with
:func:`register_trigger_platform`. Attaching is indexed wherever the platform allows it: a state
trigger subscribes to its entities through the state machine's per-entity index, so one state
change reaches only the automations that watch that entity.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

import voluptuous as vol

from ..config import validate_each
from ..events import Context, Unsubscribe

if TYPE_CHECKING:
    from ..hub import Hub

_LOGGER = logging.getLogger(__name__)

#: Called by a platform when its trigger fires: (the ``trigger`` variables, the cause's context)
TriggerAction = Callable[[dict[str, Any], Context | None], Any]

INTEGRATIONS_PACKAGE: Final = "shouwang.integrations"
BUILTIN_PLATFORMS: Final = {
    "state": "state",
    "numeric_state": "numeric_state",
    "event": "event",
    "time": "time",
    "time_pattern": "time_pattern",
    "template": "template",
    "sun": "sun",
    "hub": "hub",
    "homeassistant": "hub",  # Home Assistant's name for start/shutdown triggers
    "webhook": "webhook",
}


@dataclass(slots=True)
class TriggerInfo:
    """What a platform knows about the automation it serves."""

    name: str  # the automation's name, for logs and errors
    idx: int  # position of the trigger in the automation
    trigger_id: str  # the trigger's ``id`` (defaults to the index, as a string)
    alias: str | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)  # trigger_variables

    def base(self, platform: str) -> dict[str, Any]:
        """The ``trigger`` variables every platform provides."""
        return {
            "platform": platform,
            "id": self.trigger_id,
            "idx": str(self.idx),
            "alias": self.alias,
        }


class TriggerPlatform(Protocol):
    """What a trigger platform module (or object) provides."""

    SCHEMA: vol.Schema

    def attach(
        self, hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
    ) -> Unsubscribe: ...


_platforms: dict[str, TriggerPlatform] = {}

COMMON_KEYS: Final[dict[Any, Any]] = {
    vol.Optional("id"): vol.Coerce(str),
    vol.Optional("alias"): str,
    vol.Optional("variables"): dict,
    vol.Optional("enabled"): vol.Any(bool, str),
    vol.Optional("description"): str,
}


def register_trigger_platform(name: str, platform: TriggerPlatform) -> None:
    """Make ``trigger: <name>`` available to automations (integrations call this in setup)."""
    _platforms[name] = platform


def get_platform(name: str) -> TriggerPlatform:
    platform = _platforms.get(name)
    if platform is None and name in BUILTIN_PLATFORMS:
        module = importlib.import_module(f"{__name__}.{BUILTIN_PLATFORMS[name]}")
        platform = module
        _platforms[name] = module
    if platform is None and name.isidentifier():
        platform = _integration_platform(name) or _declared_platform(name)
    if platform is None:
        known = ", ".join(sorted(set(BUILTIN_PLATFORMS) | set(_platforms)))
        raise vol.Invalid(f"unknown trigger {name!r} (known: {known})")
    return platform


def _integration_platform(name: str) -> TriggerPlatform | None:
    """A built-in integration's own trigger, ``integrations/<name>/trigger.py``: found by its
    path, so automations using it validate whether or not that integration is set up yet (the
    automation integration does not wait for others) and in ``check-config``."""
    module_name = f"{INTEGRATIONS_PACKAGE}.{name}.trigger"
    try:
        if importlib.util.find_spec(module_name) is None:
            return None
    except ModuleNotFoundError:  # no such integration
        return None
    module = importlib.import_module(module_name)
    if not (hasattr(module, "SCHEMA") and hasattr(module, "attach")):
        return None
    platform: TriggerPlatform = module
    _platforms[name] = platform
    return platform


def _declared_platform(name: str) -> TriggerPlatform | None:
    """A trigger that a built-in integration declares in its manifest (``"triggers":
    ["face", "stranger", "plate"]``) and exports as ``TRIGGER_PLATFORMS`` from its package: found
    whether or not that integration is configured, like :func:`_integration_platform`."""
    spec = importlib.util.find_spec(INTEGRATIONS_PACKAGE)
    for location in (spec.submodule_search_locations or []) if spec else []:
        for manifest in sorted(Path(location).glob("*/manifest.json")):
            try:
                declared = json.loads(manifest.read_text(encoding="utf-8")).get("triggers", [])
            except (OSError, ValueError, AttributeError):
                continue  # the loader reports broken manifests
            if not isinstance(declared, list) or name not in declared:
                continue
            package = importlib.import_module(f"{INTEGRATIONS_PACKAGE}.{manifest.parent.name}")
            exported: Mapping[str, TriggerPlatform] = getattr(package, "TRIGGER_PLATFORMS", {})
            for exported_name, platform in exported.items():
                _platforms.setdefault(exported_name, platform)
            return _platforms.get(name)
    return None


def platform_names() -> list[str]:
    return sorted(set(BUILTIN_PLATFORMS) | set(_platforms))


def validate_trigger(value: Any) -> dict[str, Any]:
    """Validate one trigger; ``trigger:`` and the older ``platform:`` both name the platform."""
    if not isinstance(value, Mapping):
        raise vol.Invalid("a trigger must be a mapping with a 'trigger' key")
    config = dict(value)
    if "trigger" in config and "platform" in config:
        raise vol.Invalid("use either 'trigger' or 'platform', not both")
    name = config.pop("trigger", None) or config.pop("platform", None)
    if not isinstance(name, str):
        raise vol.Invalid("a trigger needs 'trigger: <platform>' (e.g. trigger: state)")
    platform = get_platform(name)
    validated: dict[str, Any] = platform.SCHEMA({**config, "trigger": name})
    return validated


def validate_triggers(value: Any) -> list[dict[str, Any]]:
    return validate_each(value, validate_trigger)


def attach_triggers(
    hub: Hub,
    configs: Sequence[dict[str, Any]],
    action: TriggerAction,
    name: str,
    variables: Mapping[str, Any] | None = None,
) -> Unsubscribe:
    """Attach every enabled trigger; returns one function that detaches them all."""
    removers: list[Unsubscribe] = []
    for idx, config in enumerate(configs):
        if config.get("enabled", True) is False:
            continue
        info = TriggerInfo(
            name,
            idx,
            str(config.get("id", idx)),
            config.get("alias"),
            variables or {},
        )
        trigger_action = action
        extra = config.get("variables")
        if extra:
            trigger_action = _with_variables(hub, action, extra, info)
        platform = get_platform(config["trigger"])
        removers.append(platform.attach(hub, config, trigger_action, info))

    if len(removers) == 1:
        return removers[0]  # the common case: no wrapper per automation

    def detach() -> None:
        while removers:
            removers.pop()()

    return detach


def _with_variables(
    hub: Hub, action: TriggerAction, extra: Mapping[str, Any], info: TriggerInfo
) -> TriggerAction:
    """A trigger's own ``variables:`` are rendered when it fires; the automation adds them to
    the run's variables (they travel under the private key ``_variables``)."""

    def run(trigger: dict[str, Any], context: Context | None) -> None:
        rendered = hub.templates.render_complex(dict(extra), {**info.variables, "trigger": trigger})
        action({**trigger, "_variables": rendered}, context)

    return run


def schema(platform: str, fields: Mapping[Any, Any]) -> vol.Schema:
    """A trigger platform's schema: its fields plus the keys every trigger may carry."""
    return vol.Schema({vol.Required("trigger"): str, **COMMON_KEYS, **fields})
