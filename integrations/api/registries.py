"""Home Assistant's registry listings over the WebSocket (``config/area_registry/list``,
``config/device_registry/list``, ``config/entity_registry/list``), which clients such as
Node-RED's and ``hass-client`` read on connect. Areas are the hub's places, devices come from
the entities' ``device_info``, entities from the entity registry — each narrowed to what the
caller may read (a resident: their households' places, entities and those entities' devices)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from shouwang.core.entity import DeviceInfo, Entity

if TYPE_CHECKING:
    from .websocket import Connection


def device_id(info: DeviceInfo) -> str:
    """A stable id for a device, from its identifiers (or its name)."""
    key = repr(sorted(info.identifiers)) if info.identifiers else f"name:{info.name}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _readable_entities(connection: Connection) -> list[Entity]:
    return [
        entity
        for entity in connection.hub.entities.all()
        if entity.entity_id is not None
        and (connection.reads_all or connection.scope.can_read_entity(entity.entity_id))
    ]


def area_list(connection: Connection, msg_id: int, msg: dict[str, Any]) -> None:
    scope = connection.scope
    places = sorted(connection.hub.places.all(), key=lambda place: place.place_id)
    connection.send_result(
        msg_id,
        [
            {
                "area_id": place.place_id,
                "name": place.name,
                "aliases": [],
                "floor_id": None,
                "icon": None,
                "labels": [],
                "picture": None,
            }
            for place in places
            if connection.reads_all
            or scope.households_of_place(place.place_id) & scope.household_ids
        ],
    )


def device_list(connection: Connection, msg_id: int, msg: dict[str, Any]) -> None:
    devices: dict[str, dict[str, Any]] = {}
    for entity in _readable_entities(connection):
        info = entity.device_info
        if info is None:
            continue
        identifier = device_id(info)
        if identifier in devices:
            continue
        devices[identifier] = {
            "id": identifier,
            "area_id": entity.place_id,
            "config_entries": [],
            "connections": [],
            "identifiers": sorted([list(pair) for pair in info.identifiers]),
            "manufacturer": info.manufacturer,
            "model": info.model,
            "name": info.name,
            "name_by_user": None,
            "sw_version": info.sw_version,
            "hw_version": None,
            "via_device_id": None,
            "disabled_by": None,
            "entry_type": None,
            "labels": [],
        }
    connection.send_result(msg_id, list(devices.values()))


def entity_list(connection: Connection, msg_id: int, msg: dict[str, Any]) -> None:
    connection.send_result(
        msg_id,
        [
            {
                "entity_id": entity.entity_id,
                "id": entity.entity_id,
                "unique_id": entity.unique_id,
                "platform": entity.integration or entity.domain,
                "name": entity.name,
                "icon": entity.icon,
                "area_id": entity.place_id,
                "device_id": device_id(entity.device_info) if entity.device_info else None,
                "config_entry_id": None,
                "disabled_by": None,
                "hidden_by": None,
                "entity_category": None,
                "has_entity_name": False,
                "labels": [],
                "options": {},
                "translation_key": None,
            }
            for entity in sorted(_readable_entities(connection), key=lambda e: e.entity_id or "")
        ],
    )
