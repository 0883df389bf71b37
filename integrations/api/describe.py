"""What the hub tells clients about itself, shared by REST and WebSocket: the configuration
(``GET /api/config``, ``get_config``), the services (``/api/services``, ``get_services``) and the
event types listened to (``/api/events``) — in Home Assistant's shapes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from shouwang.core import __version__

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

#: reported as ``ha_version`` (WebSocket) and ``version`` (config): the Home Assistant release
#: whose API this one mirrors. Clients compare it against HA releases to decide which protocol
#: features to use (``coalesce_messages`` from 2022.9 on, for one), so it is the API level,
#: not Shouwang's own version, which the config reports as ``shouwang_version``.
VERSION: Final = "2025.4.0"

# Shouwang keeps SI units everywhere; clients expect the mapping
_UNIT_SYSTEM: Final = {
    "length": "km",
    "accumulated_precipitation": "mm",
    "area": "m²",
    "mass": "g",
    "pressure": "Pa",
    "temperature": "°C",
    "volume": "L",
    "wind_speed": "m/s",
}


def config(hub: Hub) -> dict[str, Any]:
    core = hub.config
    return {
        "location_name": core.name,
        "latitude": core.latitude,
        "longitude": core.longitude,
        "elevation": core.elevation,
        "radius": 100,
        "unit_system": _UNIT_SYSTEM,
        "time_zone": core.time_zone,
        "language": core.language,
        "country": core.country,
        "currency": "CNY",
        "components": sorted(hub.integrations.loaded),
        # the config directory's path is the server's business, not a client's
        "config_dir": None,
        "allowlist_external_dirs": [],
        "allowlist_external_urls": [],
        "whitelist_external_dirs": [],
        "version": VERSION,
        "shouwang_version": __version__,
        "config_source": "yaml",
        "recovery_mode": False,
        "safe_mode": False,
        "state": str(hub.state).upper(),
        "external_url": core.external_url,
        "internal_url": core.internal_url,
        "debug": False,
    }


def services(hub: Hub) -> dict[str, dict[str, Any]]:
    """``{domain: {service: {name, description, fields, response?}}}`` (``get_services``)."""
    result: dict[str, dict[str, Any]] = {}
    for domain, items in sorted(hub.services.services().items()):
        described: dict[str, Any] = {}
        for name, service in sorted(items.items()):
            entry: dict[str, Any] = {
                "name": name.replace("_", " "),
                "description": service.description,
                "fields": service.fields,
            }
            if service.supports_response.value != "none":
                entry["response"] = {"optional": service.supports_response.value == "optional"}
            described[name] = entry
        result[domain] = described
    return result


def event_listeners(hub: Hub) -> list[dict[str, Any]]:
    """``[{"event": type, "listener_count": n}]`` (``GET /api/events``)."""
    return [
        {"event": event_type, "listener_count": count}
        for event_type, count in sorted(hub.bus.listener_counts().items())
    ]
