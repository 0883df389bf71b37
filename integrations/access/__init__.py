"""Access control: doors, readers and turnstiles of the community, and who may pass them when.

Place in the whole: an integration (``access:`` in configuration.yaml, see ``README.md`` here)
on top of the community registry (people, households, cards, faces, leases). :mod:`.config`
validates the block, :mod:`.decision` holds the one decision function, :mod:`.runtime` turns
decisions into events and lock pulses, :mod:`.doors` watches door contacts (held open,
forced), :mod:`.gates` counts turnstile passages and finds tailgating, :mod:`.trigger` is the
``access`` trigger of automations and :mod:`.pins` the PIN hashes.

Services: ``access.present_credential`` (door, type, value[, reader]) — how readers, terminals
and simulators report an attempt, answering granted/reason when asked; ``access.unlock``
(door[, note]) — a remote unlock by staff, audited as an event with the user;
``access.passage`` (door[, direction, count]) — people through a turnstile;
``access.reset_anti_passback`` ([person]) — a guard's correction; ``access.reload`` — re-read
the ``access:`` block (kept as it was if the new one has any error).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from shouwang.core import notifications
from shouwang.core.config import ConfigError, load_config_dir, validate_block
from shouwang.core.services import ServiceCall, ServiceValidationError, SupportsResponse
from shouwang.core.triggers import register_trigger_platform
from shouwang.integrations.registry import Registry
from shouwang.integrations.registry.model import TAG_ALIASES

from . import trigger
from .config import CONFIG_SCHEMA, build
from .decision import CREDENTIAL_TYPES, Attempt, Decider, Decision
from .mqtt_readers import MqttReaders
from .runtime import AccessControl
from .state import STATE_FILE
from .state import load as load_state

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

__all__ = ["CONFIG_SCHEMA", "AccessControl", "Attempt", "Decider", "Decision", "setup"]

_LOGGER = logging.getLogger(__name__)

DOMAIN: Final = "access"

PRESENT_SCHEMA: Final = vol.Schema(
    {
        vol.Required("door"): str,
        vol.Required("type"): vol.In(CREDENTIAL_TYPES),
        vol.Required("value"): vol.All(vol.Coerce(str), vol.Length(min=1, max=4096)),
        vol.Optional("reader"): str,
    }
)
UNLOCK_SCHEMA: Final = vol.Schema(
    {vol.Required("door"): str, vol.Optional("note", default=""): vol.All(str, vol.Length(max=200))}
)
PASSAGE_SCHEMA: Final = vol.Schema(
    {
        vol.Required("door"): str,
        vol.Optional("direction", default="in"): vol.In(("in", "out")),
        vol.Optional("count", default=1): vol.All(int, vol.Range(min=1, max=100)),
    }
)
RESET_SCHEMA: Final = vol.Schema({vol.Optional("person"): str})


async def setup(hub: Hub, config: Mapping[str, Any]) -> AccessControl | bool:
    """Index the registry, watch the doors, register services and the ``access`` trigger."""
    registry = hub.integrations.runtime("registry")
    if not isinstance(registry, Registry):
        _LOGGER.error("Access control needs the registry integration")
        return False
    state_path = hub.config_dir / STATE_FILE if hub.config_dir is not None else None
    access = AccessControl(hub, build(config, TAG_ALIASES), registry, state_path)
    if state_path is not None:
        access.restore(await hub.loop.run_in_executor(None, load_state, state_path))
    await access.start()
    hub.on_stop(access.save)
    if access.config.mqtt_prefix is not None:
        await _start_mqtt(hub, access, access.config.mqtt_prefix)
    passes = _loaded(hub, "visitor_pass")
    if passes is not None and hasattr(passes, "set_door_groups"):
        # passes whose route names door groups or places learn where our doors are from us
        passes.set_door_groups(access.groups_of)
        passes.set_door_places(access.place_of)
    hub.on_stop(access.stop)
    _register_services(hub, access)
    register_trigger_platform("access", trigger)
    _LOGGER.info(
        "Access control: %d doors, %d rules, %d PIN holders",
        len(access.config.doors), len(access.config.rules), len(access.config.pins),
    )  # fmt: skip
    return access


async def _start_mqtt(hub: Hub, access: AccessControl, prefix: str) -> None:
    client = _loaded(hub, "mqtt")
    if client is None:
        message = "access: mqtt: is set but the mqtt integration is not loaded (add mqtt:)"
        _LOGGER.error(message)
        notifications.create(hub, "access_mqtt", "Access readers over MQTT not started", message)
        return
    readers = MqttReaders(hub, access, client, prefix)
    await readers.start()
    hub.on_stop(readers.stop)


def _loaded(hub: Hub, domain: str) -> Any:
    try:
        return hub.integrations.runtime(domain)
    except KeyError:
        return None


def _door(access: AccessControl, door: str) -> str:
    if door not in access.config.doors:
        known = ", ".join(sorted(access.config.doors)[:10])
        raise ServiceValidationError(f"door: unknown door {door!r} (known: {known})")
    return door


def _register_services(hub: Hub, access: AccessControl) -> None:
    async def present(call: ServiceCall) -> dict[str, Any]:
        data = call.data
        problem = access.reader_problem(_door(access, data["door"]), data.get("reader"))
        if problem is not None:
            raise ServiceValidationError(problem)
        decision = await access.present(
            _door(access, data["door"]), data["type"], data["value"],
            reader=data.get("reader"), context=call.context,
        )  # fmt: skip
        # the same answer for a duress PIN as for the normal one
        return {"granted": decision.granted, "reason": decision.reason, "person": decision.person}

    async def unlock(call: ServiceCall) -> None:
        await access.remote_unlock(
            _door(access, call.data["door"]), call.data["note"], call.context
        )

    def passage(call: ServiceCall) -> None:
        door = _door(access, call.data["door"])
        turnstile = access.turnstiles.get(door)
        if turnstile is None:
            raise ServiceValidationError(f"door: {door!r} has no turnstile: section")
        turnstile.passage(call.data["direction"], call.data["count"], call.context)

    def reset(call: ServiceCall) -> None:
        access.decider.passback.reset(call.data.get("person"))

    async def reload(call: ServiceCall) -> None:
        errors = await reload_config(hub, access)
        if errors:
            raise ServiceValidationError(
                "access control not reloaded (the running configuration was kept): "
                + "; ".join(map(str, errors))
            )

    services = hub.services
    services.register(
        DOMAIN, "present_credential", present, PRESENT_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
        description="A reader, terminal or simulator reports a credential presented at a door",
    )  # fmt: skip
    services.register(DOMAIN, "unlock", unlock, UNLOCK_SCHEMA, description="Remote unlock")
    services.register(DOMAIN, "passage", passage, PASSAGE_SCHEMA, description="Turnstile passage")
    services.register(DOMAIN, "reset_anti_passback", reset, RESET_SCHEMA)
    services.register(DOMAIN, "reload", reload, description="Re-read the access: block")


async def reload_config(hub: Hub, access: AccessControl) -> list[ConfigError]:
    """Re-read ``access:`` from configuration.yaml and switch to it, unless it has any error:
    then the running configuration stays and the errors (with file:line) are returned and shown
    as a notification."""
    if hub.config_dir is None:
        return [ConfigError("the hub has no config directory", domain=DOMAIN)]
    loaded = await hub.loop.run_in_executor(None, load_config_dir, hub.config_dir)
    errors = list(loaded.errors)
    if not errors:
        validated, errors = validate_block(loaded, DOMAIN, CONFIG_SCHEMA, loaded.blocks.get(DOMAIN))
    if errors:
        for error in errors:
            _LOGGER.error("Access control not reloaded: %s", error)
        notifications.create(
            hub,
            "access_reload_failed",
            "Access control not reloaded",
            "The running configuration was kept.\n" + "\n".join(map(str, errors)),
        )
        return errors
    notifications.dismiss(hub, "access_reload_failed")
    await access.reload(build(validated, TAG_ALIASES))
    _LOGGER.info(
        "Access control reloaded: %d doors, %d rules",
        len(access.config.doors),
        len(access.config.rules),
    )
    return []
