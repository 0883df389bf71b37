"""Frigate NVR: cameras, faces and plates from Frigate 0.16+ into the hub.

Place in the whole: cameras come to the hub through Frigate. This integration talks to Frigate
over the hub's shared MQTT connection (``integrations/mqtt``: events, reviews, face and plate
results, object counts, availability) and over its HTTP API (:mod:`.api`: version, config,
stats, events, snapshots, manual events, the face library). It creates the ``camera`` and
occupancy ``binary_sensor`` entities (:mod:`.entities`), turns tracked objects into
``person_sighted`` / ``stranger_detected`` / ``plate_recognized`` events resolved against the
community registry (:mod:`.sightings`, :mod:`.identity`), and provides the ``face``,
``stranger`` and ``plate`` automation triggers (:mod:`.triggers`).

Its runtime object (``hub.integrations.runtime("frigate")``) is :class:`Frigate`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final

from shouwang.core.triggers import register_trigger_platform

from .api import FACES_AND_PLATES_SINCE, FrigateApiError, FrigateClient
from .bridge import FrigateBridge, occupancy_sensors
from .config import CONFIG_SCHEMA, CameraConfig, FrigateConfig
from .entities import FrigateAvailable, FrigateCamera
from .identity import Identities
from .services import register as register_services
from .sightings import SightingTracker
from .triggers import PLATFORMS

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

DOMAIN: Final = "frigate"

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "TRIGGER_PLATFORMS", "Frigate", "setup"]

#: found by core/triggers through the manifest's "triggers", so automations using them load
#: (and pass check-config) whether or not a frigate: block is configured
TRIGGER_PLATFORMS: Final = PLATFORMS
for _name, _platform in PLATFORMS.items():
    register_trigger_platform(_name, _platform)


@dataclass
class Frigate:
    """What the integration gives the rest of the hub."""

    config: FrigateConfig
    client: FrigateClient
    tracker: SightingTracker
    bridge: FrigateBridge
    cameras: dict[str, FrigateCamera]
    version: str | None = None


async def setup(hub: Hub, block: dict[str, Any]) -> Frigate | bool:
    config = FrigateConfig.from_block(block)
    try:
        mqtt = hub.integrations.runtime("mqtt")
    except KeyError:
        _LOGGER.error("Frigate needs the mqtt integration (add an mqtt: block)")
        return False
    client = FrigateClient(
        config.url,
        username=config.username,
        password=config.password,
        timeout=config.timeout,
        verify_ssl=config.verify_ssl,
    )
    hub.on_stop(client.close)
    if not config.cameras:
        config = await _discover_cameras(config, client)
    identities = Identities(hub)
    if identities.registry is None:
        _LOGGER.warning(
            "Frigate: no registry integration: every face is a stranger and every plate unknown"
        )
    tracker = SightingTracker(hub, config, identities, client.event_snapshot_url)
    cameras = {name: FrigateCamera(camera, client) for name, camera in config.cameras.items()}
    occupancy = occupancy_sensors(config)
    available = FrigateAvailable()
    await hub.entities.add([*cameras.values(), *occupancy.values(), available], integration=DOMAIN)
    bridge = FrigateBridge(
        hub,
        config,
        mqtt,
        tracker=tracker,
        cameras=cameras,
        occupancy=occupancy,
        available=available,
    )
    await bridge.start()
    hub.on_stop(bridge.stop)
    register_services(hub, client, config.cameras, identities)
    frigate = Frigate(config, client, tracker, bridge, cameras)
    hub.create_task(_check_version(frigate), "frigate version check")
    return frigate


async def _discover_cameras(config: FrigateConfig, client: FrigateClient) -> FrigateConfig:
    """No ``cameras:`` configured: follow every camera Frigate's ``/api/config`` lists, with
    its zones (occupancy sensors for each). They have no community place from here: the
    registry's device ledger can give the camera entities places, or list the cameras in the
    block to bind places and zones."""
    try:
        listed = (await client.config()).get("cameras") or {}
    except FrigateApiError as err:
        _LOGGER.error("Frigate: no cameras in the frigate: block and %s; no camera followed", err)
        return config
    if not isinstance(listed, Mapping):
        _LOGGER.error("Frigate GET /api/config: cameras is not an object; no camera followed")
        return config
    cameras: dict[str, CameraConfig] = {}
    for name in sorted(listed):
        camera = listed[name] if isinstance(listed[name], Mapping) else {}
        zones = camera.get("zones")
        zone_names = [str(zone) for zone in zones] if isinstance(zones, Mapping) else []
        cameras[str(name)] = CameraConfig(str(name), zones=dict.fromkeys(zone_names))
    _LOGGER.info("Frigate: following the cameras Frigate lists: %s", ", ".join(cameras))
    return replace(config, cameras=cameras)


async def _check_version(frigate: Frigate) -> None:
    """Log Frigate's version; faces and plates need 0.16 or later."""
    try:
        version = await frigate.client.version_tuple()
    except FrigateApiError as err:
        _LOGGER.warning("%s (sightings still arrive over MQTT)", err)
        return
    frigate.version = ".".join(map(str, version))
    if version < FACES_AND_PLATES_SINCE:
        _LOGGER.warning(
            "Frigate %s at %s has no face or plate recognition (needs 0.16 or later)",
            frigate.version,
            frigate.client.url,
        )
    else:
        _LOGGER.info("Frigate %s at %s", frigate.version, frigate.client.url)
