"""Helpers for the MQTT tests: a hub with the mqtt integration on a real broker, a raw paho
peer (the "device" or "other side"), and waiting on broker round trips with a timeout."""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from shouwang.core.hub import Hub
from shouwang.integrations.mqtt import MqttClient

from .services import Mosquitto

T = TypeVar("T")
TIMEOUT = 10.0
_counter = itertools.count()


def unique(prefix: str = "t") -> str:
    """A topic prefix no other test uses on the shared broker."""
    return f"test/{prefix}/{threading.get_ident()}_{next(_counter)}"


async def setup_mqtt(hub: Hub, broker: Mosquitto, **options: Any) -> MqttClient:
    block = {"broker": broker.host, "port": broker.port, "discovery": False, **options}
    await hub.integrations.setup_many({"mqtt": block})
    assert "mqtt" in hub.integrations.loaded, hub.integrations.failed
    client = hub.integrations.runtime("mqtt")
    assert isinstance(client, MqttClient)
    return client


async def wait_for(predicate: Callable[[], T], timeout: float = TIMEOUT) -> T:
    """Poll ``predicate`` on the loop until it returns something truthy (broker round trips)."""
    async with asyncio.timeout(timeout):
        # polling is the point: the predicate reads state a broker round trip changes
        while not (result := predicate()):  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    return result


class Peer:
    """A plain paho client in its own thread: publishes as a device would, records what it
    receives (so tests can assert that a command reached the broker)."""

    def __init__(self, broker: Mosquitto, client_id: str = "") -> None:
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self.received: queue.Queue[paho.MQTTMessage] = queue.Queue()
        self.messages: list[tuple[str, bytes, bool]] = []
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self.client.on_connect = lambda *args: self._connected.set()
        self.client.on_message = self._message
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        if not self._connected.wait(TIMEOUT):
            raise RuntimeError("peer could not connect")

    def _message(self, client: Any, userdata: Any, message: paho.MQTTMessage) -> None:
        self.messages.append((message.topic, message.payload, bool(message.retain)))
        self.received.put(message)

    def subscribe(self, topic: str, qos: int = 1) -> None:
        self._subscribed.clear()
        self.client.subscribe(topic, qos)
        if not self._subscribed.wait(TIMEOUT):
            raise RuntimeError(f"peer could not subscribe to {topic}")

    def publish(self, topic: str, payload: str | bytes, qos: int = 1, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos, retain).wait_for_publish(TIMEOUT)

    async def next(self, topic: str | None = None, timeout: float = TIMEOUT) -> paho.MQTTMessage:
        """The next received message (on ``topic`` if given), waiting off the loop."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            while True:
                message = await loop.run_in_executor(None, self.received.get, True, timeout)
                if topic is None or message.topic == topic:
                    return message

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@contextmanager
def peer(broker: Mosquitto) -> Iterator[Peer]:
    one = Peer(broker)
    try:
        yield one
    finally:
        one.close()
