"""``mqtt.publish``: publish a message from an automation, a script or the API.

``topic`` and ``payload`` may be templates (rendered with the hub's template environment; the
automation engine has usually rendered them already with the run's variables). A payload that
arrives as a dict or list (a template that spelled JSON, or YAML data) is sent as JSON.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import orjson
import voluptuous as vol

from shouwang.core.services import ServiceCall, ServiceValidationError
from shouwang.core.template import TemplateError, is_template_string

from .config import publish_topic

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

    from .client import MqttClient

DOMAIN: Final = "mqtt"

PUBLISH_SCHEMA: Final = vol.Schema(
    {
        vol.Required("topic"): vol.All(vol.Coerce(str), vol.Length(min=1)),
        vol.Optional("payload", default=""): vol.Any(str, int, float, bool, None, dict, list),
        vol.Optional("qos", default=0): vol.All(vol.Coerce(int), vol.In([0, 1, 2])),
        vol.Optional("retain", default=False): bool,
    }
)


def payload_bytes(value: Any) -> bytes:
    """What goes on the wire for a service or action payload."""
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, dict | list):
        return orjson.dumps(value)
    if isinstance(value, bool):
        return b"true" if value else b"false"
    return str(value).encode()


def register(hub: Hub, client: MqttClient) -> None:
    async def publish(call: ServiceCall) -> None:
        data = call.data
        topic = _render(hub, "topic", data["topic"])
        try:
            topic = publish_topic(topic)
        except vol.Invalid as err:
            raise ServiceValidationError(f"topic: {err.msg}") from None
        payload = data["payload"]
        if isinstance(payload, str):
            payload = _render(hub, "payload", payload)
        await client.publish(topic, payload_bytes(payload), data["qos"], data["retain"])

    hub.services.register(
        DOMAIN,
        "publish",
        publish,
        PUBLISH_SCHEMA,
        description="Publish a message (topic and payload may be templates)",
    )


def _render(hub: Hub, field: str, value: str) -> str:
    if not is_template_string(value):
        return value
    try:
        rendered = hub.templates.template(value).render(parse_result=False)
    except TemplateError as err:
        raise ServiceValidationError(f"{field}: {err}") from None
    return str(rendered)
