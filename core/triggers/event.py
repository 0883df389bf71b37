"""``trigger: event``: an event of a type (or list of types) whose data contains
``event_data`` (a subset match, like Home Assistant), optionally from given users."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from ..events import Event, Unsubscribe
from . import TriggerAction, TriggerInfo, schema

if TYPE_CHECKING:
    from ..hub import Hub

SCHEMA = schema(
    "event",
    {
        vol.Required("event_type"): vol.Any(str, [str]),
        vol.Optional("event_data"): dict,
        vol.Optional("context"): {vol.Optional("user_id"): vol.Any(str, [str])},
    },
)


def data_matches(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> bool:
    """True if every key of ``expected`` is in ``actual`` with an equal (or matching) value."""
    for key, value in expected.items():
        if key not in actual:
            return False
        other = actual[key]
        if isinstance(value, Mapping) and isinstance(other, Mapping):
            if not data_matches(value, other):
                return False
        elif value != other:
            return False
    return True


def attach(
    hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
) -> Unsubscribe:
    types = (
        config["event_type"] if isinstance(config["event_type"], list) else [config["event_type"]]
    )
    expected = config.get("event_data") or {}
    users = config.get("context", {}).get("user_id")
    user_ids = None if users is None else set(users if isinstance(users, list) else [users])

    def fired(event: Event) -> None:
        if user_ids is not None and event.context.user_id not in user_ids:
            return
        data = {
            **info.base("event"),
            "event": event,
            "description": f"event '{event.event_type}'",
        }
        action(data, event.context)

    event_filter = (lambda data: data_matches(expected, data)) if expected else None
    removers = [hub.bus.listen(event_type, fired, event_filter) for event_type in types]

    def detach() -> None:
        for remove in removers:
            remove()

    return detach
