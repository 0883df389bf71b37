"""Readers and turnstiles over MQTT: door controllers publish attempts and passages, the hub
answers each attempt with its decision.

Place in the whole: with ``access: {mqtt: {topic_prefix: …}}`` and the ``mqtt`` integration
loaded, setup (:mod:`.`) starts a :class:`MqttReaders` on the shared MQTT client. The wire
format (``<prefix>`` defaults to ``shouwang/access``; ``<door>`` is a configured door id):

* ``<prefix>/<door>/attempt`` — ``{"type": "card", "value": "AA000001", "reader":
  "gate_north_in", "id": "42"}`` (``reader`` and ``id`` optional); decided like
  ``access.present_credential``;
* ``<prefix>/<door>/result`` (QoS 1, not retained) — ``{"id": "42", "granted": true,
  "reason": "granted", "reader": "gate_north_in"}``, or ``{"id": "42", "error": "…"}`` for a
  message that is not a valid attempt (the error names the field, never echoes the value);
* ``<prefix>/<door>/passage`` — ``{"direction": "in", "count": 1}`` for turnstiles.

A duress PIN gets the same result message as the normal PIN.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Protocol

import orjson
import voluptuous as vol

from shouwang.core.events import Context
from shouwang.core.services import humanize_invalid

from .decision import CREDENTIAL_TYPES

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

    from .runtime import AccessControl

_LOGGER = logging.getLogger(__name__)

DEFAULT_PREFIX: Final = "shouwang/access"

ATTEMPT_SCHEMA: Final = vol.Schema(
    {
        vol.Required("type"): vol.In(CREDENTIAL_TYPES),
        vol.Required("value"): vol.All(vol.Coerce(str), vol.Length(min=1, max=4096)),
        vol.Optional("reader"): str,
        vol.Optional("id"): vol.All(vol.Coerce(str), vol.Length(max=64)),
    }
)
PASSAGE_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("direction", default="in"): vol.In(("in", "out")),
        vol.Optional("count", default=1): vol.All(int, vol.Range(min=1, max=100)),
    }
)


class Message(Protocol):
    topic: str
    payload: bytes


class MqttClient(Protocol):
    """The part of the ``mqtt`` integration's client used here."""

    async def subscribe(
        self, topic: str, callback: Callable[[Any], Any], qos: int = 0
    ) -> Callable[[], None]: ...

    async def publish(
        self, topic: str, payload: str | bytes, qos: int = 0, retain: bool = False
    ) -> None: ...


class MqttReaders:
    """Subscribes to the attempt and passage topics of every door."""

    def __init__(self, hub: Hub, access: AccessControl, client: MqttClient, prefix: str) -> None:
        self.hub = hub
        self.access = access
        self.client = client
        self.prefix = prefix.rstrip("/")
        self._unsubscribe: list[Callable[[], None]] = []

    async def start(self) -> None:
        self._unsubscribe = [
            await self.client.subscribe(f"{self.prefix}/+/attempt", self._attempt, qos=1),
            await self.client.subscribe(f"{self.prefix}/+/passage", self._passage, qos=1),
        ]

    def stop(self) -> None:
        while self._unsubscribe:
            self._unsubscribe.pop()()

    def _door(self, message: Message) -> str:
        return message.topic[len(self.prefix) + 1 :].split("/", 1)[0]

    def _parse(self, message: Message, schema: vol.Schema) -> tuple[dict[str, Any] | None, str]:
        door = self._door(message)
        try:
            raw = orjson.loads(message.payload)
        except orjson.JSONDecodeError:
            return None, "payload is not JSON"
        if door not in self.access.config.doors:
            return raw if isinstance(raw, dict) else None, f"unknown door {door!r}"
        try:
            data: dict[str, Any] = schema(raw)
        except vol.Invalid as err:
            return raw if isinstance(raw, dict) else None, humanize_invalid(err)
        return data, self.access.reader_problem(door, data.get("reader")) or ""

    async def _attempt(self, message: Message) -> None:
        door = self._door(message)
        data, error = self._parse(message, ATTEMPT_SCHEMA)
        request = str(data.get("id")) if data and data.get("id") is not None else None
        if error or data is None:
            _LOGGER.warning("MQTT %s: not an access attempt: %s", message.topic, error)
            await self._reply(door, {"id": request, "error": error})
            return
        decision = await self.access.present(
            door, data["type"], data["value"], reader=data.get("reader"), context=Context()
        )
        answer = {
            "id": request,
            "granted": decision.granted,
            "reason": decision.reason,
            "reader": decision.reader,
        }
        await self._reply(door, answer)

    async def _passage(self, message: Message) -> None:
        data, error = self._parse(message, PASSAGE_SCHEMA)
        turnstile = self.access.turnstiles.get(self._door(message))
        if not error and turnstile is None:
            error = "this door has no turnstile: section"
        if error or data is None or turnstile is None:
            _LOGGER.warning("MQTT %s: not a passage: %s", message.topic, error)
            return
        turnstile.passage(data["direction"], data["count"], Context())

    async def _reply(self, door: str, payload: dict[str, Any]) -> None:
        try:
            await self.client.publish(f"{self.prefix}/{door}/result", orjson.dumps(payload), qos=1)
        except Exception as err:  # whatever the broker client raises must not stop the reader
            _LOGGER.error("MQTT %s/%s/result: %s", self.prefix, door, err)
