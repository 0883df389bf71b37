"""Notifications to people: a guard team's MQTT topic, a webhook (a police or property
platform, a chat bot), more kinds to come.

Place in the whole: automations call ``notify.send`` (``target`` = one or more configured
target names) or Home Assistant's form ``notify.<target>``, with ``message``, ``title`` and
``data`` (``data.snapshot_url`` for a camera picture). Each target delivers one JSON document
``{"target", "title", "message", "data", "time", "context_id"}``:

* ``mqtt: <topic>`` publishes it with QoS 1, never retained, on the hub's MQTT connection;
* ``webhook: <url>`` POSTs it with aiohttp (``timeout``, optional ``headers``).

```yaml
notify:
  targets:
    guards: {mqtt: shouwang/notify/guards}
    police_webhook: {webhook: https://110.example.gov.cn/hook, timeout: 5}
```

A failed delivery is logged with the target's name (never the message: it may name people)
and the call fails with a :class:`ServiceError` saying which target failed and why, so the
automation's trace shows it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import aiohttp
import orjson
import voluptuous as vol

from shouwang.core.services import ServiceCall, ServiceError, ServiceValidationError

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

DOMAIN: Final = "notify"
DEFAULT_TIMEOUT: Final = 10.0


def _target_name(value: Any) -> str:
    if (
        not isinstance(value, str)
        or not value
        or not all(c.isascii() and (c.isalnum() or c == "_") and not c.isupper() for c in value)
    ):
        raise vol.Invalid(f"a target name must be lower-case letters, digits and _: {value!r}")
    if value == "send":
        raise vol.Invalid("'send' is the service's own name; choose another target name")
    return value


def _topic(value: Any) -> str:
    if not isinstance(value, str) or not value or "+" in value or "#" in value:
        raise vol.Invalid(f"expected an MQTT topic without wildcards, got {value!r}")
    return value


TARGET_SCHEMA: Final = vol.Schema(
    vol.All(
        {
            vol.Exclusive("mqtt", "kind"): _topic,
            vol.Exclusive("webhook", "kind"): vol.All(str, vol.Match(r"^https?://")),
            vol.Optional("headers"): {str: str},
            vol.Optional("timeout", default=DEFAULT_TIMEOUT): vol.All(
                vol.Coerce(float), vol.Range(min=0.1, max=120)
            ),
        },
        vol.Any(
            vol.Schema({vol.Required("mqtt"): object}, extra=vol.ALLOW_EXTRA),
            vol.Schema({vol.Required("webhook"): object}, extra=vol.ALLOW_EXTRA),
            msg="a target needs mqtt: <topic> or webhook: <url>",
        ),
    )
)

CONFIG_SCHEMA: Final = vol.Schema({vol.Required("targets"): {_target_name: TARGET_SCHEMA}})

MESSAGE_FIELDS: Final[dict[Any, Any]] = {
    vol.Required("message"): vol.All(vol.Coerce(str), vol.Length(min=1)),
    vol.Optional("title"): vol.Any(None, vol.Coerce(str)),
    vol.Optional("data"): vol.Any(None, dict),
}


class Notifier:
    """The configured targets and how to deliver to them (the runtime object)."""

    def __init__(self, hub: Hub, targets: Mapping[str, Mapping[str, Any]]) -> None:
        self._hub = hub
        self.targets = dict(targets)
        self._session: aiohttp.ClientSession | None = None
        self.sent = 0
        self.failed = 0

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(
        self,
        target: str,
        message: str,
        title: str | None = None,
        data: Mapping[str, Any] | None = None,
        context_id: str | None = None,
    ) -> None:
        spec = self.targets.get(target)
        if spec is None:
            known = ", ".join(sorted(self.targets)) or "none configured"
            raise ServiceValidationError(f"notify: unknown target {target!r} (known: {known})")
        document = {
            "target": target,
            "title": title,
            "message": message,
            "data": dict(data or {}),
            "time": self._hub.clock.now().isoformat(),
            "context_id": context_id,
        }
        try:
            payload = orjson.dumps(document, default=str)
            if "mqtt" in spec:
                await self._publish(spec["mqtt"], payload)
            else:
                await self._post(spec, payload)
        except ServiceError as err:
            self.failed += 1
            _LOGGER.error("notify target %s: %s", target, err)
            raise ServiceError(f"notify target {target}: {err}") from None
        self.sent += 1

    async def _publish(self, topic: str, payload: bytes) -> None:
        try:
            mqtt = self._hub.integrations.runtime("mqtt")
        except KeyError:
            raise ServiceError("the mqtt integration is not set up (add an mqtt: block)") from None
        try:
            await mqtt.publish(topic, payload, qos=1, retain=False)
        except Exception as err:
            raise ServiceError(f"MQTT publish to {topic} failed: {err}") from None

    async def _post(self, spec: Mapping[str, Any], payload: bytes) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        headers = {"Content-Type": "application/json", **spec.get("headers", {})}
        timeout = aiohttp.ClientTimeout(total=spec["timeout"])
        try:
            async with self._session.post(
                spec["webhook"], data=payload, headers=headers, timeout=timeout
            ) as response:
                if response.status >= 400:
                    body = (await response.text())[:200]
                    raise ServiceError(f"webhook answered HTTP {response.status}: {body}")
        except TimeoutError:
            raise ServiceError(f"webhook gave no answer within {spec['timeout']:g} s") from None
        except aiohttp.ClientError as err:
            raise ServiceError(f"webhook failed: {type(err).__name__}: {err}") from None


def _names(value: Any) -> list[str]:
    names = value if isinstance(value, list) else [value]
    if not names or not all(isinstance(name, str) and name for name in names):
        raise vol.Invalid(f"expected a target name or a list of them, got {value!r}")
    return names


SEND_SCHEMA: Final = vol.Schema({vol.Required("target"): _names, **MESSAGE_FIELDS})
TARGET_SERVICE_SCHEMA: Final = vol.Schema(MESSAGE_FIELDS)


async def setup(hub: Hub, config: Mapping[str, Any]) -> Notifier:
    notifier = Notifier(hub, config["targets"])
    hub.on_stop(notifier.close)

    async def deliver(call: ServiceCall, targets: list[str]) -> None:
        data = call.data
        results = await asyncio.gather(
            *(
                notifier.send(
                    target, data["message"], data.get("title"), data.get("data"), call.context.id
                )
                for target in targets
            ),
            return_exceptions=True,
        )
        errors = [str(result) for result in results if isinstance(result, Exception)]
        if errors:
            raise ServiceError("; ".join(errors))

    async def send_service(call: ServiceCall) -> None:
        unknown = [name for name in call.data["target"] if name not in notifier.targets]
        if unknown:
            known = ", ".join(sorted(notifier.targets))
            raise ServiceValidationError(f"notify.send: unknown target {unknown[0]!r} ({known})")
        await deliver(call, call.data["target"])

    hub.services.register(DOMAIN, "send", send_service, SEND_SCHEMA)
    for name in notifier.targets:

        async def target_service(call: ServiceCall, name: str = name) -> None:
            await deliver(call, [name])

        hub.services.register(DOMAIN, name, target_service, TARGET_SERVICE_SCHEMA)
    return notifier
