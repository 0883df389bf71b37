"""``trigger: time_pattern``: whenever the local time matches a pattern of hours, minutes and
seconds (a number, ``*``, or ``/n`` for every n-th). The next match is computed, not polled."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from ..events import Unsubscribe
from ..tracking import track_point_in_time
from . import TriggerAction, TriggerInfo, schema

if TYPE_CHECKING:
    from ..hub import Hub


def _field(limit: int) -> Any:
    def validate(value: Any) -> tuple[int, ...]:
        text = str(value).strip()
        if text == "*":
            return tuple(range(limit))
        if text.startswith("/"):
            step = int(text[1:]) if text[1:].isdigit() else 0
            if not 0 < step < limit:
                raise vol.Invalid(f"'/n' needs 0 < n < {limit}, got {text!r}")
            return tuple(range(0, limit, step))
        if text.isdigit() and int(text) < limit:
            return (int(text),)
        raise vol.Invalid(f"expected a number below {limit}, '*' or '/n', got {value!r}")

    return validate


def _defaults(config: dict[str, Any]) -> dict[str, Any]:
    """Home Assistant's defaults: fields below the largest given one default to 0, above to *."""
    given = [key in config for key in ("hours", "minutes", "seconds")]
    if not any(given):
        raise vol.Invalid("time_pattern needs hours, minutes or seconds")
    first = given.index(True)
    for position, (key, limit) in enumerate((("hours", 24), ("minutes", 60), ("seconds", 60))):
        if key not in config:
            config[key] = tuple(range(limit)) if position < first else (0,)
    return config


SCHEMA = vol.All(
    schema(
        "time_pattern",
        {
            vol.Optional("hours"): _field(24),
            vol.Optional("minutes"): _field(60),
            vol.Optional("seconds"): _field(60),
        },
    ),
    _defaults,
)


def next_match(
    now: datetime, hours: tuple[int, ...], minutes: tuple[int, ...], seconds: tuple[int, ...]
) -> datetime:
    """The first local time strictly after ``now`` whose h/m/s are in the given sets."""
    start = now.replace(microsecond=0) + timedelta(seconds=1)
    for day in range(2):
        today = start.date() + timedelta(days=day)
        first = (start.hour, start.minute, start.second) if day == 0 else (0, 0, 0)
        for hour in hours:
            if hour < first[0]:
                continue
            for minute in minutes:
                if (hour, minute) < first[:2]:
                    continue
                for second in seconds:
                    if (hour, minute, second) >= first:
                        return datetime.combine(today, time(hour, minute, second), now.tzinfo)
    raise AssertionError("a pattern with values always matches within two days")


def attach(
    hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
) -> Unsubscribe:
    hours, minutes, seconds = config["hours"], config["minutes"], config["seconds"]
    cancel: Unsubscribe | None = None

    def plan() -> None:
        nonlocal cancel
        now = hub.clock.now().astimezone(hub.config.tzinfo)
        cancel = track_point_in_time(hub, next_match(now, hours, minutes, seconds), fire)

    def fire(_now: Any) -> None:
        data = {
            **info.base("time_pattern"),
            "now": hub.clock.now().astimezone(hub.config.tzinfo),
            "description": "time pattern",
        }
        plan()
        action(data, None)

    plan()

    def detach() -> None:
        if cancel is not None:
            cancel()

    return detach
