"""``trigger: state``: an entity changed (from/to/not_from/not_to, an attribute, held ``for``).

Home Assistant's rules: with no from/to/not_from/not_to the trigger also fires on attribute-only
changes; with any of them (even null) only a change of the state (or of ``attribute``) counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import voluptuous as vol

from ..durations import POSITIVE_DURATION
from ..events import Event, Unsubscribe
from . import TriggerAction, TriggerInfo, schema
from ._helpers import PendingTimers, entity_ids, string_list

if TYPE_CHECKING:
    from ..hub import Hub


def _nullable_list(value: Any) -> list[str] | None:
    # a plain function, not vol.Any(None, ...): a failed branch there raises, and 10,000
    # automations would leave 10,000 exception tracebacks for the garbage collector
    return None if value is None else string_list(value)


SCHEMA = schema(
    "state",
    {
        vol.Required("entity_id"): entity_ids,
        vol.Optional("from"): _nullable_list,
        vol.Optional("to"): _nullable_list,
        vol.Optional("not_from"): string_list,
        vol.Optional("not_to"): string_list,
        vol.Optional("attribute"): str,
        vol.Optional("for"): POSITIVE_DURATION,
    },
)


def attach(
    hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
) -> Unsubscribe:
    from_values = _as_set(config.get("from"))
    to_values = _as_set(config.get("to"))
    not_from = _as_set(config.get("not_from"))
    not_to = _as_set(config.get("not_to"))
    attribute: str | None = config.get("attribute")
    any_match_key = any(key in config for key in ("from", "to", "not_from", "not_to"))
    hold_for = config.get("for")
    timers = PendingTimers(hub)

    def value_of(state: Any) -> Any:
        if state is None:
            return None
        return state.attributes.get(attribute) if attribute else state.state

    def matches(value: Any, allowed: set[str] | None, excluded: set[str] | None) -> bool:
        text = None if value is None else str(value)
        if allowed is not None and text not in allowed:
            return False
        return not (excluded is not None and text in excluded)

    def changed(event: Event) -> None:
        entity_id = event.data["entity_id"]
        old, new = event.data["old_state"], event.data["new_state"]
        if new is None:
            timers.cancel(entity_id)
            return
        old_value, new_value = value_of(old), value_of(new)
        if old_value == new_value and (any_match_key or attribute):
            return  # only attributes changed, and this trigger is about the state/attribute
        timers.cancel(entity_id)
        if not (
            matches(old_value, from_values, not_from) and matches(new_value, to_values, not_to)
        ):
            return
        data = {
            **info.base("state"),
            "entity_id": entity_id,
            "from_state": old,
            "to_state": new,
            "for": None,
            "attribute": attribute,
            "description": f"state of {entity_id}",
        }
        timers.fire_or_hold(
            entity_id,
            hold_for,
            data,
            variables=info.variables,
            action=action,
            context=event.context,
        )

    unsubscribe = hub.states.track(config["entity_id"], changed)

    def detach() -> None:
        unsubscribe()
        timers.cancel_all()

    return detach


def _as_set(value: list[str] | None) -> set[str] | None:
    return None if value is None else set(value)
