"""``trigger: mqtt``: a message on a topic (wildcards allowed), as in Home Assistant.

Options: ``topic`` (a filter; may be a template rendered once with the automation's
``trigger_variables``), ``payload`` (only messages with this payload — or whose
``value_template`` result equals it), ``value_template`` (rendered with ``value`` and
``value_json``), ``encoding`` (``utf-8`` by default; ``""`` keeps the raw bytes) and ``qos``.
The ``trigger`` variables: ``platform``, ``topic``, ``payload``, ``payload_json`` (when the
payload is JSON), ``qos``, ``description``.

A payload that cannot be decoded with the encoding is counted as malformed and ignored.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

import orjson
import voluptuous as vol

from shouwang.core.events import Unsubscribe
from shouwang.core.template import TemplateError, is_template_string
from shouwang.core.triggers import TriggerAction, TriggerInfo, schema

from .client import MqttClient, MqttMessage
from .config import topic_filter

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

PLATFORM: Final = "mqtt"


def _encoding(value: Any) -> str:
    text = str(value)
    if text:
        try:
            "".encode(text)
        except LookupError:
            raise vol.Invalid(f"unknown encoding {text!r}") from None
    return text


def _topic(value: Any) -> str:
    text = str(value)
    return text if is_template_string(text) else topic_filter(text)


SCHEMA = schema(
    PLATFORM,
    {
        vol.Required("topic"): _topic,
        vol.Optional("payload"): vol.Coerce(str),
        vol.Optional("value_template"): str,
        vol.Optional("encoding", default="utf-8"): _encoding,
        vol.Optional("qos", default=0): vol.All(vol.Coerce(int), vol.In([0, 1, 2])),
    },
)


def attach(
    hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
) -> Unsubscribe:
    """Subscribe (through the shared client) and call ``action`` for each matching message."""
    client = hub.integrations.loaded.get("mqtt")
    if client is None or not isinstance(client.runtime, MqttClient):
        raise RuntimeError(f"{info.name}: trigger mqtt needs the mqtt integration (add mqtt:)")
    return _attach(hub, client.runtime, config, action, info)


def _attach(
    hub: Hub,
    client: MqttClient,
    config: dict[str, Any],
    action: TriggerAction,
    info: TriggerInfo,
) -> Unsubscribe:
    topic: str = config["topic"]
    if is_template_string(topic):
        rendered = hub.templates.template(topic).render(info.variables, parse_result=False)
        topic = topic_filter(rendered)
    wanted = config.get("payload")
    if wanted is not None and is_template_string(wanted):
        wanted = str(hub.templates.template(wanted).render(info.variables, parse_result=False))
    value_template = config.get("value_template")
    encoding: str = config["encoding"]

    def received(message: MqttMessage) -> None:
        payload: str | bytes = message.payload
        if encoding:
            try:
                payload = message.payload.decode(encoding)
            except UnicodeDecodeError:
                client.count_malformed(message.topic, f"payload is not valid {encoding}")
                return
        payload_json: Any = None
        has_json = False
        if isinstance(payload, str):
            try:
                payload_json = orjson.loads(payload)
                has_json = True
            except orjson.JSONDecodeError:
                pass
        if wanted is not None:
            value: Any = payload
            if value_template is not None:
                variables = {**info.variables, "value": payload}
                if has_json:
                    variables["value_json"] = payload_json
                try:
                    value = hub.templates.template(value_template).render(
                        variables, parse_result=False
                    )
                except TemplateError as err:
                    _LOGGER.warning(
                        "%s: mqtt trigger on %s: value_template failed: %s",
                        info.name,
                        message.topic,
                        err,
                    )
                    return
            if str(value) != wanted:
                return
        data = {
            **info.base(PLATFORM),
            "topic": message.topic,
            "payload": payload,
            "qos": message.qos,
            "description": f"mqtt topic {message.topic}",
        }
        if has_json:
            data["payload_json"] = payload_json
        action(data, None)

    state: dict[str, Any] = {"unsubscribe": None, "detached": False}

    async def subscribe() -> None:
        unsubscribe = await client.subscribe(topic, received, config["qos"])
        if state["detached"]:
            unsubscribe()
        else:
            state["unsubscribe"] = unsubscribe

    hub.create_task(subscribe(), f"mqtt trigger {topic}")

    def detach() -> None:
        state["detached"] = True
        if state["unsubscribe"] is not None:
            state["unsubscribe"]()
            state["unsubscribe"] = None

    return detach
