"""Video intercom: door stations, household indoor stations and the guard room, and the calls
between them (ring -> answer -> unlock -> hang up, timeouts, missed calls, a call log).

Configured as::

    intercom:
      ring_timeout: 30          # seconds (or "HH:MM:SS") before an unanswered call is missed
      call_timeout: 120         # longest answered call
      stations:
        guard_room: {name: 保安室, kind: guard, place: P-GUARD, protocol: mqtt}
        b01_u1_door: {kind: door, place: B01-U1, protocol: hikvision,
                      url: http://10.0.0.21, username: admin, password: !secret hik}
        b01_u1_0101: {kind: indoor, household: B01-U1-0101, protocol: mqtt}

``setup`` creates one ``intercom.<id>`` entity per station, connects the device links
(:mod:`.mqtt_link` for the generic MQTT protocol documented in ``README.md``,
:mod:`.hikvision_link` for Hikvision ISAPI, or ``console``), takes over the ``intercom.*``
services (:mod:`.services`) and returns the :class:`~.manager.CallManager`.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from shouwang.core.durations import parse_duration
from shouwang.core.services import ServiceValidationError
from shouwang.core.storage import Storage

from . import services
from .log import DEFAULT_COMMIT_INTERVAL, CallLog
from .manager import CallManager
from .rights import auth_resolver, first_of, registry_resolver
from .station import (
    KIND_DOOR,
    KINDS,
    PROTOCOL_CONSOLE,
    PROTOCOL_HIKVISION,
    PROTOCOL_MQTT,
    PROTOCOLS,
    ConsoleLink,
    IntercomStation,
    StationConfig,
    StationLink,
)

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

DOMAIN: Final = "intercom"
DEFAULT_RING_TIMEOUT: Final = timedelta(seconds=30)
DEFAULT_CALL_TIMEOUT: Final = timedelta(seconds=120)


def _positive_duration(value: Any) -> timedelta:
    try:
        duration = parse_duration(value)
    except ValueError as err:
        raise vol.Invalid(str(err)) from None
    if duration <= timedelta(0):
        raise vol.Invalid(f"expected a positive duration, got {value!r}")
    return duration


def _station_id(value: Any) -> str:
    text = str(value)
    if not text or not all(c.isascii() and (c.isalnum() or c == "_") for c in text):
        raise vol.Invalid(f"station id {text!r}: use a-z, 0-9 and _ (it becomes intercom.<id>)")
    return text.lower()


def _check_station(block: dict[str, Any]) -> dict[str, Any]:
    if block["protocol"] == PROTOCOL_HIKVISION:
        missing = [key for key in ("url", "username", "password") if not block.get(key)]
        if missing:
            where: list[Hashable] = [missing[0]]
            raise vol.Invalid(f"a hikvision station needs {', '.join(missing)}", path=where)
        if block["kind"] != KIND_DOOR:
            raise vol.Invalid("hikvision stations are door stations (kind: door)", path=["kind"])
    if block["kind"] == "indoor" and not block.get("household"):
        raise vol.Invalid("an indoor station needs the household it serves", path=["household"])
    return block


_TEXT = vol.All(str, vol.Length(min=1))
STATION_SCHEMA: Final = vol.All(
    vol.Schema(
        {
            vol.Optional("name"): _TEXT,
            vol.Required("kind"): vol.In(KINDS),
            vol.Optional("protocol", default=PROTOCOL_MQTT): vol.In(PROTOCOLS),
            vol.Optional("place"): _TEXT,
            vol.Optional("household"): _TEXT,
            vol.Optional("serves"): [_TEXT],
            vol.Optional("door_lock"): vol.All(_TEXT, vol.Match(r"^lock\.\w+$")),
            vol.Optional("topic"): vol.All(_TEXT, vol.Match(r"^[^+#\0]+$")),
            vol.Optional("url"): vol.All(_TEXT, vol.Match(r"^https?://")),
            vol.Optional("username"): _TEXT,
            vol.Optional("password"): _TEXT,
            vol.Optional("call_target"): _TEXT,
            vol.Optional("poll_interval"): _positive_duration,
        }
    ),
    _check_station,
)

CONFIG_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("ring_timeout", default=DEFAULT_RING_TIMEOUT): _positive_duration,
        vol.Optional("call_timeout", default=DEFAULT_CALL_TIMEOUT): _positive_duration,
        vol.Optional("db_url"): _TEXT,
        vol.Optional("log_commit_interval", default=DEFAULT_COMMIT_INTERVAL): vol.All(
            vol.Coerce(float), vol.Range(min=0, max=60)
        ),
        vol.Optional("stations", default=dict): {_station_id: STATION_SCHEMA},
    }
)


async def _open_log(hub: Hub, config: Mapping[str, Any]) -> CallLog | None:
    """The call log on the registry's storage, or the config directory's, or the given URL."""
    storage: Storage | None = None
    if config.get("db_url"):
        storage = Storage(config["db_url"])
    elif "registry" in hub.integrations.loaded:
        storage = hub.integrations.runtime("registry").storage
    elif hub.config_dir is not None:
        storage = await hub.loop.run_in_executor(None, Storage.open, hub.config_dir)
    if storage is None:
        _LOGGER.warning("Intercom: no config directory, the call log is kept in memory only")
        return None
    log = CallLog(storage, hub.loop, commit_interval=config["log_commit_interval"])
    interrupted = await log.prepare(hub.clock.now())
    if interrupted:
        _LOGGER.warning("Intercom: %d call(s) were cut by the last stop; logged", interrupted)
    if storage is not getattr(hub.integrations.loaded.get("registry"), "runtime", None):
        hub.on_stop(storage.close)
    return log


def _link(hub: Hub, manager: CallManager, config: StationConfig) -> StationLink:
    if config.protocol == PROTOCOL_CONSOLE:
        return ConsoleLink(config)
    if config.protocol == PROTOCOL_MQTT:
        from .mqtt_link import MqttLink

        return MqttLink(hub, manager, config)
    from .hikvision_link import HikvisionLink

    return HikvisionLink(hub, manager, config)


async def setup(hub: Hub, config: Mapping[str, Any]) -> CallManager | bool:
    """Create the stations, connect their devices and take over the intercom services."""
    uses_mqtt = any(s["protocol"] == PROTOCOL_MQTT for s in config["stations"].values())
    if uses_mqtt and "mqtt" not in hub.integrations.loaded:
        _LOGGER.error("intercom: stations with protocol mqtt need the mqtt integration (mqtt:)")
        return False
    manager = CallManager(
        hub,
        ring_timeout=config["ring_timeout"],
        call_timeout=config["call_timeout"],
        log=await _open_log(hub, config),
    )
    resolvers = []
    if "auth" in hub.integrations.loaded:
        resolvers.append(auth_resolver(hub.integrations.runtime("auth")))
    if "registry" in hub.integrations.loaded:
        registry = hub.integrations.runtime("registry")

        def today() -> date:
            return hub.clock.now().date()

        resolvers.append(registry_resolver(registry, today))
        manager.known_household = lambda household: household in registry.households
    if resolvers:
        manager.resolve_user = first_of(*resolvers)
    entities = []
    for station_id, block in config["stations"].items():
        station_config = StationConfig.from_config(station_id, block)
        if station_config.entity_id in hub.states:
            _LOGGER.error(
                "intercom.stations.%s: %s already exists (another integration); station skipped",
                station_id,
                station_config.entity_id,
            )
            continue
        station = IntercomStation(station_config, manager)
        manager.add_station(station, _link(hub, manager, station_config))
        entities.append(station)
    await hub.entities.add(entities, integration=DOMAIN)
    for station in entities:
        if station.config.call_target:
            try:
                manager.resolve_target(station.config.call_target)
            except ServiceValidationError as err:
                _LOGGER.error(
                    "intercom.stations.%s.call_target: %s", station.config.station_id, err
                )
    services.register(hub, manager)
    for entity_id, link in manager.links.items():
        try:
            await link.start()
        except Exception as err:
            _LOGGER.error("Intercom %s: cannot start its link: %s", entity_id, err)
            manager.station_available(entity_id, False)
    hub.on_stop(manager.stop)
    return manager
