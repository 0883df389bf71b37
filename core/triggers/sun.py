"""``trigger: sun``: at sunrise or sunset (with an offset), computed with astral for the hub's
configured latitude and longitude."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import voluptuous as vol
from astral import Observer
from astral.sun import sunrise, sunset

from ..durations import DURATION, parse_duration
from ..events import Unsubscribe
from ..tracking import track_point_in_time
from . import TriggerAction, TriggerInfo, schema

if TYPE_CHECKING:
    from ..hub import Hub

SCHEMA = schema(
    "sun",
    {vol.Required("event"): vol.In(["sunrise", "sunset"]), vol.Optional("offset"): DURATION},
)


def next_sun_event(hub: Hub, event: str, offset: timedelta, after: datetime) -> datetime:
    """The next sunrise/sunset (plus ``offset``) strictly after ``after``."""
    observer = Observer(hub.config.latitude, hub.config.longitude, hub.config.elevation)
    tz = hub.config.tzinfo
    compute = sunrise if event == "sunrise" else sunset
    day = after.astimezone(tz).date() - timedelta(days=1)
    for _ in range(400):  # polar day/night: look ahead up to a year
        try:
            moment = compute(observer, day, tzinfo=tz) + offset
        except ValueError:  # the sun does not rise/set that day here
            moment = None
        if moment is not None and moment > after:
            return moment
        day += timedelta(days=1)
    raise ValueError(f"no {event} within a year at this location")


def attach(
    hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
) -> Unsubscribe:
    event = config["event"]
    offset = parse_duration(config.get("offset", 0))
    cancel: Unsubscribe | None = None

    def plan(after: datetime) -> None:
        nonlocal cancel
        cancel = track_point_in_time(hub, next_sun_event(hub, event, offset, after), fire)

    def fire(now: datetime) -> None:
        data = {
            **info.base("sun"),
            "event": event,
            "offset": offset,
            "description": f"{event} with offset {offset}",
        }
        plan(now)
        action(data, None)

    plan(hub.clock.now())

    def detach() -> None:
        if cancel is not None:
            cancel()

    return detach
