"""``trigger: template``: fires when a template's result turns true (and stays true ``for``).

The template is re-rendered only when something it read changes: the entities a render
touched (re-learned on every render), all states if it iterated them, and the clock each minute
if it calls ``now()``/``utcnow()``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from ..durations import DURATION
from ..events import Context, Event, Unsubscribe
from ..states import STATE_CHANGED
from ..tracking import track_time_interval
from . import TriggerAction, TriggerInfo, schema
from ._helpers import PendingTimers, render_duration

if TYPE_CHECKING:
    from ..hub import Hub

_LOGGER = logging.getLogger(__name__)

SCHEMA = schema("template", {vol.Required("value_template"): str, vol.Optional("for"): DURATION})

_TRUE = {"true", "on", "yes", "enable", "1"}


def is_true(value: Any) -> bool:
    """Home Assistant's truthiness of a template result."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    return False


def attach(
    hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
) -> Unsubscribe:
    template = hub.templates.template(config["value_template"])
    hold_for = config.get("for")
    timers = PendingTimers(hub)
    tracked: list[Unsubscribe] = []
    was_true = False

    def render() -> tuple[bool, Any]:
        result, render_info = template.render_with_info(info.variables)
        for remove in tracked:
            remove()
        tracked.clear()
        if render_info.all_states or render_info.domains:
            tracked.append(hub.bus.listen(STATE_CHANGED, changed))
        elif render_info.entities:
            tracked.append(hub.states.track(sorted(render_info.entities), changed))
        return is_true(result), result

    def changed(event: Event | None) -> None:
        nonlocal was_true
        try:
            now_true, result = render()
        except Exception as err:  # a template error is logged, the trigger stays armed
            _LOGGER.warning("%s: template trigger: %s", info.name, err)
            return
        if not now_true:
            was_true = False
            timers.cancel("template")
            return
        if was_true:
            return
        was_true = True
        context: Context | None = event.context if event is not None else None
        data = {
            **info.base("template"),
            "entity_id": event.data.get("entity_id") if event is not None else None,
            "from_state": event.data.get("old_state") if event is not None else None,
            "to_state": event.data.get("new_state") if event is not None else None,
            "for": None,
            "description": "template",
            "value": result,
        }
        if hold_for is None:
            action(data, context)
            return
        period = render_duration(hub, hold_for, {**info.variables, "trigger": data})
        data["for"] = period
        timers.start("template", period, lambda: action(data, context))

    try:
        was_true = render()[0]  # true already at start: must turn false before it fires
    except Exception as err:
        _LOGGER.warning("%s: template trigger: %s", info.name, err)
    minute: Unsubscribe | None = None
    if "now()" in template.source or "utcnow()" in template.source:
        minute = track_time_interval(hub, timedelta(minutes=1), lambda _now: changed(None))

    def detach() -> None:
        for remove in tracked:
            remove()
        tracked.clear()
        timers.cancel_all()
        if minute is not None:
            minute()

    return detach
