"""A door station (or indoor panel) that speaks the generic MQTT intercom protocol of
``integrations/intercom/README.md`` over a real broker, with its own paho client — the device
side of the intercom tests and the demo.

It announces itself ``online`` (retained) with an ``offline`` last will, publishes the
documented ``<base>/event`` messages and collects the hub's commands (``ring``, ``answer``,
``hangup``, ``unlock``, ``call_result``) for the test to read.
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import uuid
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

COMMANDS = ("ring", "answer", "hangup", "unlock", "call_result")


class DoorStationSimulator:
    def __init__(self, host: str, port: int, base: str) -> None:
        self.base = base
        self.commands: queue.Queue[tuple[str, dict[str, Any], bool, int]] = queue.Queue()
        self._connected = threading.Event()
        self._client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"sim-{uuid.uuid4()}")
        self._client.will_set(f"{base}/availability", "offline", qos=1, retain=True)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._host, self._port = host, port

    def _on_connect(self, client: paho.Client, *_args: Any) -> None:
        client.subscribe([(f"{self.base}/{command}", 1) for command in COMMANDS])
        client.publish(f"{self.base}/availability", "online", qos=1, retain=True)
        self._connected.set()

    def _on_message(self, _client: paho.Client, _userdata: Any, msg: paho.MQTTMessage) -> None:
        command = msg.topic.rsplit("/", 1)[1]
        self.commands.put((command, json.loads(msg.payload), bool(msg.retain), msg.qos))

    def start(self) -> None:
        self._client.connect(self._host, self._port)
        self._client.loop_start()
        if not self._connected.wait(10):
            raise RuntimeError("door station simulator could not connect")

    def stop(self, *, gracefully: bool = True) -> None:
        if gracefully:
            self._client.publish(f"{self.base}/availability", "offline", qos=1, retain=True)
            self._client.disconnect()
        else:  # drop the socket: the broker publishes the last will
            sock = self._client.socket()
            if sock is not None:
                sock.close()
        self._client.loop_stop()

    # -- what the station sends -----------------------------------------------------------
    def send(self, payload: dict[str, Any] | bytes) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self._client.publish(f"{self.base}/event", data, qos=1).wait_for_publish(5)

    def send_availability(self, text: str) -> None:
        self._client.publish(f"{self.base}/availability", text, qos=1, retain=True)

    def call(self, target: str, request_id: str | None = None) -> None:
        self.send({"event": "call", "target": target, "request_id": request_id})

    def answer(self, call_id: str | None = None) -> None:
        self.send({"event": "answer", "call_id": call_id})

    def hangup(self, call_id: str | None = None) -> None:
        self.send({"event": "hangup", "call_id": call_id})

    def decline(self, call_id: str | None = None) -> None:
        self.send({"event": "decline", "call_id": call_id})

    def unlock(self, call_id: str | None = None, door: int | None = None) -> None:
        payload: dict[str, Any] = {"event": "unlock", "call_id": call_id}
        if door is not None:
            payload["door"] = door
        self.send(payload)

    # -- what the hub sent ----------------------------------------------------------------
    async def next_command(self, timeout: float = 5.0) -> tuple[str, dict[str, Any], bool, int]:
        """The next command from the hub: (command, payload, retained, qos)."""
        return await asyncio.to_thread(self.commands.get, True, timeout)

    async def expect(self, command: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next command, which must be ``command``, sent QoS 1 and not retained."""
        got, payload, retained, qos = await self.next_command(timeout)
        assert got == command, f"expected {command}, got {got}: {payload}"
        assert not retained and qos == 1
        return payload
