"""The demo's embedded MQTT broker: amqtt, started in-process on the hub's loop.

``shouwang demo`` must run with nothing else installed, yet its simulated cameras, door
stations and sensors should reach the hub through the same MQTT code paths a real site uses
(Frigate's topics, Home Assistant discovery, the door-station protocol). So the demo starts this
broker on loopback and points the ``mqtt`` integration at it; ``shouwang demo --mqtt URL`` uses
an external broker (Mosquitto, EMQX) instead and this module is not used. It is a demo
convenience, not a production broker: anonymous, loopback only, no persistence.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from typing import Any, Final

_LOGGER = logging.getLogger(__name__)

DEFAULT_PORT: Final = 18830


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class EmbeddedBroker:
    """An amqtt broker on ``host:port`` (port 0: pick a free one)."""

    def __init__(self, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._broker: Any = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    async def start(self) -> None:
        from amqtt.broker import Broker

        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
        # amqtt logs every connection at INFO; the demo's console is for the community's events
        logging.getLogger("amqtt").setLevel(logging.WARNING)
        self._broker = Broker(config)
        await self._broker.start()
        _LOGGER.info("Embedded MQTT broker listening on %s", self.url)

    async def stop(self) -> None:
        if self._broker is not None:
            with contextlib.suppress(Exception):  # a broker already shutting down may complain
                await self._broker.shutdown()
            self._broker = None
