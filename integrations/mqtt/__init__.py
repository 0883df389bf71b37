"""MQTT: the hub's connection to the community's broker, shared by every integration that
speaks MQTT (Frigate, intercoms, access controllers, Zigbee2MQTT/ESPHome/Tasmota devices).

``setup`` connects (:mod:`.client`), registers the ``mqtt.publish`` service (:mod:`.service`)
and the ``mqtt`` automation trigger (:mod:`.trigger`), and starts Home Assistant MQTT discovery
(:mod:`.discovery`) unless ``discovery: false``. Its runtime object is the
:class:`~.client.MqttClient`: ``hub.integrations.runtime("mqtt")``.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from shouwang.core.hub import HUB_STARTED, HubState
from shouwang.core.triggers import register_trigger_platform

from . import service, trigger
from .client import MqttClient, MqttError, MqttMessage, MqttPayloadError
from .config import CONFIG_SCHEMA
from .discovery import Discovery

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

DOMAIN: Final = "mqtt"
#: how long setup waits for the first connection before carrying on (paho keeps trying)
CONNECT_WAIT: Final = 10.0

__all__ = [
    "CONFIG_SCHEMA",
    "DOMAIN",
    "MqttClient",
    "MqttError",
    "MqttMessage",
    "MqttPayloadError",
    "setup",
]


def client_id_for(hub: Hub, config: dict[str, Any]) -> str:
    """The configured client id, or one made once per config directory and kept in
    ``.storage/mqtt_client_id``: the broker keeps our session (and QoS 1 messages) under it,
    so it must survive restarts."""
    configured = config.get("client_id")
    if configured:
        return str(configured)
    if hub.config_dir is None:
        return f"shouwang-{secrets.token_hex(6)}"
    path = Path(hub.config_dir) / ".storage" / "mqtt_client_id"
    try:
        stored = path.read_text(encoding="utf-8").strip()
        if stored:
            return stored
    except FileNotFoundError:
        pass
    generated = f"shouwang-{secrets.token_hex(6)}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(generated + "\n", encoding="utf-8")
    return generated


async def setup(hub: Hub, config: dict[str, Any]) -> MqttClient:
    client_id = await hub.loop.run_in_executor(None, client_id_for, hub, config)
    client = MqttClient(
        hub.loop,
        broker=config["broker"],
        port=config["port"],
        client_id=client_id,
        keepalive=config["keepalive"],
        username=config.get("username"),
        password=config.get("password"),
        tls=config["tls"],
        birth=config["birth"],
        will=config["will"],
        max_payload=config["max_payload"],
        reconnect_min_delay=config["reconnect_min_delay"],
        reconnect_max_delay=config["reconnect_max_delay"],
        create_task=hub.create_task,
    )
    client.start()
    hub.on_stop(client.stop)
    if hub.state is HubState.STARTING:
        hub.bus.listen_once(HUB_STARTED, lambda _event: client.release_held())
    else:
        client.release_held()
    service.register(hub, client)
    register_trigger_platform("mqtt", trigger)
    if not await client.wait_connected(CONNECT_WAIT):
        _LOGGER.error(
            "MQTT broker %s:%d not reachable yet; retrying in the background",
            config["broker"],
            config["port"],
        )
    if config["discovery"]:
        client.discovery = Discovery(hub, client, config["discovery_prefix"])
        await client.discovery.start()
        hub.on_stop(client.discovery.stop)
    return client
