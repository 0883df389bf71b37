"""Small pieces the built-in trigger platforms share: entity id lists and "state held for"
timers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from ..durations import render_duration
from ..events import Context, Unsubscribe
from ..states import InvalidEntityId, normalize_entity_id
from ..tracking import track_point_in_time

if TYPE_CHECKING:
    from ..hub import Hub
    from . import TriggerAction


def entity_ids(value: Any) -> list[str]:
    """One entity id or a list (comma-separated strings too), normalised."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise vol.Invalid("expected an entity id or a list of entity ids")
    try:
        return [normalize_entity_id(str(item)) for item in items]
    except InvalidEntityId as err:
        raise vol.Invalid(str(err)) from None


def string_list(value: Any) -> list[str]:
    """A state value or a list of them; numbers and booleans become their YAML text."""
    items = value if isinstance(value, list) else [value]
    return [_as_state_text(item) for item in items]


def _as_state_text(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"  # YAML turns a bare on/off into a boolean
    if value is None:
        raise vol.Invalid("expected a state value, got null")
    return str(value)


class PendingTimers:
    """One "must hold for" timer per entity, cancelled when the entity changes again."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._timers: dict[str, Unsubscribe] = {}

    def start(self, key: str, delay: timedelta, fire: Callable[[], None]) -> None:
        self.cancel(key)

        def run(_now: Any) -> None:
            self._timers.pop(key, None)
            fire()

        self._timers[key] = track_point_in_time(self._hub, self._hub.clock.now() + delay, run)

    def cancel(self, key: str) -> None:
        cancel = self._timers.pop(key, None)
        if cancel is not None:
            cancel()

    def fire_or_hold(
        self,
        key: str,
        hold_for: Any,
        data: dict[str, Any],
        *,
        variables: Mapping[str, Any],
        action: TriggerAction,
        context: Context | None,
    ) -> None:
        """Fire now, or once the condition has held ``hold_for`` (a duration or a template,
        rendered with the trigger's variables) unless :meth:`cancel` comes first."""
        if hold_for is None:
            action(data, context)
            return
        period = render_duration(self._hub, hold_for, {**variables, "trigger": data})
        data["for"] = period
        self.start(key, period, lambda: action(data, context))

    def running(self, key: str) -> bool:
        return key in self._timers

    def cancel_all(self) -> None:
        for key in list(self._timers):
            self.cancel(key)
