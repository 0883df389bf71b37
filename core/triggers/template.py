"""``trigger: template``: fires when a template's result turns true (and stays true ``for``).

The template is re-rendered only when something it read changes: the entities a render
touched (re-learned on every render), all states if it iterated them, and each minute if it
read the time (``now()``, ``utcnow()``, ``today_at``, ``relative_time``).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from ..durations import POSITIVE_DURATION
from ..events import Context, Event, Unsubscribe
from ..states import STATE_CHANGED
from ..template import result_as_boolean
from ..tracking import track_time_interval
from . import TriggerAction, TriggerInfo, schema
from ._helpers import PendingTimers

if TYPE_CHECKING:
    from ..hub import Hub

_LOGGER = logging.getLogger(__name__)

SCHEMA = schema(
    "template", {vol.Required("value_template"): str, vol.Optional("for"): POSITIVE_DURATION}
)


def attach(
    hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
) -> Unsubscribe:
    template = hub.templates.template(config["value_template"])
    hold_for = config.get("for")
    timers = PendingTimers(hub)
    tracked: list[Unsubscribe] = []
    was_true = False

    uses_time = False

    def render() -> tuple[bool, Any]:
        nonlocal uses_time
        result, render_info = template.render_with_info(info.variables)
        uses_time = uses_time or render_info.has_time
        for remove in tracked:
            remove()
        tracked.clear()
        if render_info.all_states or render_info.domains:
            tracked.append(hub.bus.listen(STATE_CHANGED, changed))
        elif render_info.entities:
            tracked.append(hub.states.track(sorted(render_info.entities), changed))
        return result_as_boolean(result), result

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
        timers.fire_or_hold(
            "template", hold_for, data, variables=info.variables, action=action, context=context
        )

    minute: Unsubscribe | None = None
    try:
        was_true = render()[0]  # true already at start: must turn false before it fires
    except Exception as err:
        _LOGGER.warning("%s: template trigger: %s", info.name, err)
    if uses_time:
        minute = track_time_interval(hub, timedelta(minutes=1), lambda _now: changed(None))

    def detach() -> None:
        for remove in tracked:
            remove()
        tracked.clear()
        timers.cancel_all()
        if minute is not None:
            minute()

    return detach
