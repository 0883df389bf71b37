"""``trigger: hub`` (also ``homeassistant``): the hub started or is shutting down."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import voluptuous as vol

from ..events import Event, Unsubscribe
from . import TriggerAction, TriggerInfo, schema

if TYPE_CHECKING:
    from ..hub import Hub

SCHEMA = schema("hub", {vol.Required("event"): vol.In(["start", "shutdown"])})


def attach(
    hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
) -> Unsubscribe:
    from ..hub import HUB_START, HUB_STOP  # the hub module imports the loader, which imports us

    event_name = config["event"]

    def fired(event: Event) -> None:
        data = {**info.base(config["trigger"]), "event": event_name, "description": event_name}
        action(data, event.context)

    return hub.bus.listen_once(HUB_START if event_name == "start" else HUB_STOP, fired)
