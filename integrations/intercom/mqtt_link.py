"""The generic MQTT door-station protocol (documented in this integration's ``README.md``).

Each station has a base topic, ``shouwang/intercom/<station id>`` unless ``topic:`` says
otherwise. The station publishes JSON on ``<base>/event`` (a visitor calls a household, a
panel answers, declines, hangs up or presses "open", the door opens or closes, a card or code
is entered) and ``online``/``offline`` on ``<base>/availability`` (retained, with a last will).
The hub publishes commands on ``<base>/ring``, ``<base>/answer``, ``<base>/hangup``,
``<base>/unlock`` and the answer to a station's call request on ``<base>/call_result``: JSON,
QoS 1, never retained (a retained "unlock" would open the door again at every reconnect).

Messages that cannot be understood are logged with their topic, counted on the station
(``malformed_messages``) and otherwise ignored.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from shouwang.core.services import ServiceError, humanize_invalid

from .calls import Call
from .station import LinkError, StationConfig

if TYPE_CHECKING:
    from shouwang.core.hub import Hub
    from shouwang.integrations.mqtt.client import MqttClient, MqttMessage

    from .manager import CallManager

_LOGGER = logging.getLogger(__name__)

DEFAULT_PREFIX: Final = "shouwang/intercom"
QOS: Final = 1

_TEXT = vol.All(str, vol.Length(min=1, max=200))
_CALL_ID = vol.Any(None, _TEXT)
EVENT_SCHEMAS: Final[dict[str, vol.Schema]] = {
    "call": vol.Schema(
        {vol.Required("target"): _TEXT, vol.Optional("request_id"): vol.Any(None, _TEXT)},
        extra=vol.ALLOW_EXTRA,
    ),
    "answer": vol.Schema({vol.Optional("call_id"): _CALL_ID}, extra=vol.ALLOW_EXTRA),
    "hangup": vol.Schema({vol.Optional("call_id"): _CALL_ID}, extra=vol.ALLOW_EXTRA),
    "decline": vol.Schema({vol.Optional("call_id"): _CALL_ID}, extra=vol.ALLOW_EXTRA),
    "unlock": vol.Schema(
        {
            vol.Optional("call_id"): _CALL_ID,
            vol.Optional("door"): vol.All(int, vol.Range(min=1)),
        },
        extra=vol.ALLOW_EXTRA,
    ),
    "door": vol.Schema(
        {
            vol.Required("state"): vol.In(["open", "closed"]),
            vol.Optional("door"): vol.All(int, vol.Range(min=1)),
        },
        extra=vol.ALLOW_EXTRA,
    ),
    "card": vol.Schema({vol.Required("card"): _TEXT}, extra=vol.ALLOW_EXTRA),
    "code": vol.Schema({vol.Required("code"): _TEXT}, extra=vol.ALLOW_EXTRA),
}


def base_topic(config: StationConfig) -> str:
    return config.topic or f"{DEFAULT_PREFIX}/{config.station_id}"


class MqttLink:
    """One station spoken to over the generic MQTT protocol."""

    def __init__(self, hub: Hub, manager: CallManager, config: StationConfig) -> None:
        self._hub = hub
        self._manager = manager
        self._config = config
        self.base = base_topic(config)
        self._unsubscribe: list[Callable[[], None]] = []
        self._sending: set[asyncio.Task[None]] = set()

    @property
    def _client(self) -> MqttClient:
        client: MqttClient = self._hub.integrations.runtime("mqtt")
        return client

    async def start(self) -> None:
        client = self._client
        self._unsubscribe.append(
            await client.subscribe(f"{self.base}/event", self._on_event, qos=QOS)
        )
        self._unsubscribe.append(
            await client.subscribe(f"{self.base}/availability", self._on_availability, qos=QOS)
        )

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self._sending:  # commands the broker has not acknowledged yet: a moment to finish
            await asyncio.wait(set(self._sending), timeout=2)

    # -- hub -> station ------------------------------------------------------------------
    async def _send(self, command: str, payload: dict[str, Any]) -> None:
        """Hand the command to the MQTT client (QoS 1, not retained) and return: the client
        delivers it, waiting through reconnects, so the call's state in the hub never waits
        for the broker; a refusal is logged when the broker answers."""
        topic = f"{self.base}/{command}"
        payload = {**payload, "time": self._hub.clock.now().isoformat()}
        data = json.dumps(payload, ensure_ascii=False)
        try:
            client = self._client
        except KeyError as err:
            raise LinkError(f"{topic}: the mqtt integration is not running") from err
        task = self._hub.loop.create_task(client.publish(topic, data, QOS, False))
        self._sending.add(task)
        task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            _LOGGER.error("Intercom %s: cannot send a command: %s", self._config.entity_id, error)

    async def ring(self, call: Call) -> None:
        await self._send(
            "ring",
            {
                "call_id": call.call_id,
                "caller": call.caller or "hub",
                "target": call.target,
                "household": call.household,
                "message": call.message,
                "snapshot_url": call.snapshot_url,
                "reason": call.reason,
                "ring_timeout": self._manager.ring_timeout.total_seconds(),
            },
        )

    async def answer(self, call: Call) -> None:
        await self._send("answer", {"call_id": call.call_id, "answered_by": call.answered_by})

    async def hangup(self, call: Call) -> None:
        reason = call.end_reason or ("answered_elsewhere" if call.answered_at else "declined")
        await self._send("hangup", {"call_id": call.call_id, "reason": reason})

    async def unlock(self, door: int | None, call: Call | None) -> None:
        await self._send("unlock", {"door": door or 1, "call_id": call.call_id if call else None})

    # -- station -> hub ------------------------------------------------------------------
    def _malformed(self, message: MqttMessage, problem: str) -> None:
        self._manager.malformed(self._config.entity_id, message.topic, problem)

    def _on_availability(self, message: MqttMessage) -> None:
        text = message.payload.decode("utf-8", "replace").strip()
        if text not in ("online", "offline"):
            self._malformed(message, f"expected online or offline, got {text[:40]!r}")
            return
        self._manager.station_available(self._config.entity_id, text == "online")

    async def _on_event(self, message: MqttMessage) -> None:
        try:
            payload = json.loads(message.payload.decode("utf-8"))
        except UnicodeDecodeError as err:
            self._malformed(message, f"payload is not valid UTF-8 (byte {err.start})")
            return
        except ValueError as err:
            self._malformed(message, f"payload is not valid JSON: {err}")
            return
        if not isinstance(payload, dict):
            self._malformed(message, f"expected a JSON object, got {type(payload).__name__}")
            return
        kind = payload.get("event")
        schema = EVENT_SCHEMAS.get(kind) if isinstance(kind, str) else None
        if schema is None or not isinstance(kind, str):
            self._malformed(message, f"event: unknown event {kind!r} ({', '.join(EVENT_SCHEMAS)})")
            return
        try:
            data = schema(payload)
        except vol.Invalid as err:
            self._malformed(message, f"{kind}: {humanize_invalid(err)}")
            return
        try:
            await self._handle(kind, data)
        except ServiceError as err:
            _LOGGER.warning("Intercom %s: %s refused: %s", message.topic, kind, err)
            if kind == "call":
                await self._send(
                    "call_result",
                    {"request_id": data.get("request_id"), "call_id": None, "error": str(err)},
                )

    async def _handle(self, kind: str, data: dict[str, Any]) -> None:
        me = self._config.entity_id
        manager = self._manager
        call_id = data.get("call_id")
        if kind == "call":

            async def acknowledge(call: Call) -> None:
                await self._send(
                    "call_result",
                    {
                        "request_id": data.get("request_id"),
                        "call_id": call.call_id,
                        "stations": call.stations,
                        "error": None,
                    },
                )

            await manager.call(data["target"], caller=me, placed=acknowledge)
        elif kind == "answer":
            await manager.answer(me, call_id=call_id, origin=me)
        elif kind == "hangup":
            await manager.hangup(me, call_id=call_id, origin=me)
        elif kind == "decline":
            await manager.decline(me, call_id=call_id, origin=me)
        elif kind == "unlock":
            await manager.unlock(me, door=data.get("door"), call_id=call_id)
        elif kind == "door":
            manager.station_door(me, data["state"], data.get("door"))
        else:  # card or code
            manager.station_credential(me, kind, data[kind])
