"""``trigger: time``: at a local time of day ("23:00", "06:30:15"), or at the time an entity
holds (an ``input_datetime``-style entity with ``has_time``/``has_date``, or a ``timestamp``
sensor), re-planned whenever that entity changes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from ..durations import time_of_day
from ..events import Event, Unsubscribe
from ..states import State, valid_entity_id
from ..tracking import track_point_in_time
from . import TriggerAction, TriggerInfo, schema

if TYPE_CHECKING:
    from ..hub import Hub


def _at(value: Any) -> Any:
    if isinstance(value, str) and valid_entity_id(value):
        return value
    return time_of_day(value)


SCHEMA = schema(
    "time", {vol.Required("at"): vol.All(lambda v: v if isinstance(v, list) else [v], [_at])}
)


def next_local(now: datetime, at: time) -> datetime:
    """The next moment (after ``now``, aware) when the local clock shows ``at``."""
    tz = now.tzinfo
    candidate = datetime.combine(now.date(), at, tzinfo=tz)
    if candidate <= now:
        candidate = datetime.combine(now.date() + timedelta(days=1), at, tzinfo=tz)
    return candidate


def entity_moment(state: State | None, now: datetime) -> datetime | None:
    """When an entity says the trigger should fire next, or None if it says nothing usable."""
    if state is None or state.state in ("unknown", "unavailable", ""):
        return None
    attributes = state.attributes
    if attributes.get("has_time") and not attributes.get("has_date"):
        try:
            return next_local(now, time.fromisoformat(state.state))
        except ValueError:
            return None
    try:
        moment = datetime.fromisoformat(state.state)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=now.tzinfo)
    if attributes.get("has_date") and not attributes.get("has_time"):
        moment = datetime.combine(date.fromisoformat(state.state), time(), tzinfo=now.tzinfo)
    return moment if moment > now else None


def attach(
    hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
) -> Unsubscribe:
    cancels: dict[int, Unsubscribe] = {}
    removers: list[Unsubscribe] = []

    def local_now() -> datetime:
        return hub.clock.now().astimezone(hub.config.tzinfo)

    def plan(index: int, at: Any) -> None:
        cancel = cancels.pop(index, None)
        if cancel is not None:
            cancel()
        now = local_now()
        if isinstance(at, time):
            moment: datetime | None = next_local(now, at)
        else:
            moment = entity_moment(hub.states.get(at), now)
        if moment is None:
            return

        def fire(_now: Any) -> None:
            cancels.pop(index, None)
            data = {
                **info.base("time"),
                "now": local_now(),
                "entity_id": None if isinstance(at, time) else at,
                "description": f"time {at}",
            }
            action(data, None)
            plan(index, at)

        cancels[index] = track_point_in_time(hub, moment, fire)

    for index, at in enumerate(config["at"]):
        plan(index, at)
        if isinstance(at, str):

            def replan(_event: Event, index: int = index, at: str = at) -> None:
                plan(index, at)

            removers.append(hub.states.track(at, replan))

    def detach() -> None:
        for remove in removers:
            remove()
        for cancel in list(cancels.values()):
            cancel()
        cancels.clear()

    return detach
