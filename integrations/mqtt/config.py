"""The ``mqtt:`` block of ``configuration.yaml``: broker address, credentials, TLS, the hub's
own birth/last-will topic, discovery and the payload size limit.

Validated with voluptuous when the hub loads its configuration; a wrong field is reported with
``file:line`` and the field's name by the core's config loader.
"""

from __future__ import annotations

from typing import Any, Final

import voluptuous as vol

DEFAULT_PORT: Final = 1883
DEFAULT_KEEPALIVE: Final = 60
DEFAULT_PREFIX: Final = "homeassistant"
DEFAULT_STATUS_TOPIC: Final = "shouwang/status"
DEFAULT_MAX_PAYLOAD: Final = 256 * 1024


def _topic(value: Any) -> str:
    """A topic name to publish on: non-empty, no wildcards, no NUL."""
    text = "" if value is None else str(value)
    if not text:
        raise vol.Invalid("a topic cannot be empty")
    if "+" in text or "#" in text:
        raise vol.Invalid(f"{text!r}: wildcards (+ #) are not allowed in a topic to publish on")
    if "\0" in text:
        raise vol.Invalid("a topic cannot contain a NUL character")
    return text


def topic_filter(value: Any) -> str:
    """A subscription filter: ``+`` only as a whole level, ``#`` only as the last level."""
    text = "" if value is None else str(value)
    if not text:
        raise vol.Invalid("a topic filter cannot be empty")
    levels = text.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            raise vol.Invalid(f"{text!r}: '#' must be the whole last level of a filter")
        if "+" in level and level != "+":
            raise vol.Invalid(f"{text!r}: '+' must be a whole level of a filter")
    return text


publish_topic = _topic

TLS_SCHEMA: Final = vol.Any(
    bool,
    vol.Schema(
        {
            vol.Optional("ca_certs"): str,
            vol.Optional("certfile"): str,
            vol.Optional("keyfile"): str,
            vol.Optional("insecure", default=False): bool,
        }
    ),
)


def _status_message(payload: str) -> vol.Schema:
    """The hub's birth or last-will message; ``null`` turns it off."""
    return vol.Schema(
        {
            vol.Optional("topic", default=DEFAULT_STATUS_TOPIC): _topic,
            vol.Optional("payload", default=payload): vol.Coerce(str),
            vol.Optional("qos", default=1): vol.In([0, 1, 2]),
            vol.Optional("retain", default=True): bool,
        }
    )


CONFIG_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("broker", default="127.0.0.1"): vol.All(str, vol.Length(min=1)),
        vol.Optional("port", default=DEFAULT_PORT): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=65535)
        ),
        vol.Optional("username"): vol.Coerce(str),
        vol.Optional("password"): vol.Coerce(str),
        vol.Optional("tls", default=False): TLS_SCHEMA,
        vol.Optional("client_id"): vol.All(vol.Coerce(str), vol.Length(min=1, max=128)),
        vol.Optional("keepalive", default=DEFAULT_KEEPALIVE): vol.All(
            vol.Coerce(int), vol.Range(min=5, max=65535)
        ),
        vol.Optional("discovery", default=True): bool,
        vol.Optional("discovery_prefix", default=DEFAULT_PREFIX): vol.All(
            _topic, vol.Match(r"^[^/]+(/[^/]+)*$", msg="must not start or end with '/'")
        ),
        vol.Optional("birth", default={}): vol.Any(None, _status_message("online")),
        vol.Optional("will", default={}): vol.Any(None, _status_message("offline")),
        vol.Optional("max_payload", default=DEFAULT_MAX_PAYLOAD): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=268_435_455)
        ),
        vol.Optional("reconnect_min_delay", default=1): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=3600)
        ),
        vol.Optional("reconnect_max_delay", default=60): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=3600)
        ),
    }
)
