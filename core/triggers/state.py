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


class _StateTrigger:
    """One attached state trigger. A slotted object rather than closures: a community loads
    thousands of these, and each closure cell and function object costs memory."""

    __slots__ = (
        "_timers",
        "action",
        "any_match_key",
        "attribute",
        "from_values",
        "hold_for",
        "hub",
        "info",
        "not_from",
        "not_to",
        "to_values",
        "unsubscribe",
    )

    def __init__(
        self, hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
    ) -> None:
        self.hub = hub
        self.action = action
        self.info = info
        self.from_values = _as_set(config.get("from"))
        self.to_values = _as_set(config.get("to"))
        self.not_from = _as_set(config.get("not_from"))
        self.not_to = _as_set(config.get("not_to"))
        self.attribute: str | None = config.get("attribute")
        self.any_match_key = any(key in config for key in ("from", "to", "not_from", "not_to"))
        self.hold_for = config.get("for")
        self._timers: PendingTimers | None = None  # only triggers with for: need timers
        self.unsubscribe = hub.states.track(config["entity_id"], self.changed)

    def value_of(self, state: Any) -> Any:
        if state is None:
            return None
        return state.attributes.get(self.attribute) if self.attribute else state.state

    def changed(self, event: Event) -> None:
        entity_id = event.data["entity_id"]
        old, new = event.data["old_state"], event.data["new_state"]
        if new is None:
            self.cancel(entity_id)
            return
        old_value, new_value = self.value_of(old), self.value_of(new)
        if old_value == new_value and (self.any_match_key or self.attribute):
            return  # only attributes changed, and this trigger is about the state/attribute
        self.cancel(entity_id)
        if not (
            _matches(old_value, self.from_values, self.not_from)
            and _matches(new_value, self.to_values, self.not_to)
        ):
            return
        data = {
            **self.info.base("state"),
            "entity_id": entity_id,
            "from_state": old,
            "to_state": new,
            "for": None,
            "attribute": self.attribute,
            "description": f"state of {entity_id}",
        }
        if self.hold_for is None:
            self.action(data, event.context)
            return
        if self._timers is None:
            self._timers = PendingTimers(self.hub)
        self._timers.fire_or_hold(
            entity_id,
            self.hold_for,
            data,
            variables=self.info.variables,
            action=self.action,
            context=event.context,
        )

    def cancel(self, entity_id: str) -> None:
        if self._timers is not None:
            self._timers.cancel(entity_id)

    def detach(self) -> None:
        self.unsubscribe()
        if self._timers is not None:
            self._timers.cancel_all()


def attach(
    hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
) -> Unsubscribe:
    return _StateTrigger(hub, config, action, info).detach


def _matches(value: Any, allowed: frozenset[str] | None, excluded: frozenset[str] | None) -> bool:
    text = None if value is None else str(value)
    if allowed is not None and text not in allowed:
        return False
    return not (excluded is not None and text in excluded)


_SETS: dict[frozenset[str], frozenset[str]] = {}


def _as_set(value: list[str] | None) -> frozenset[str] | None:
    """The same value sets ({"on"}, {"off"}) are shared by every trigger that uses them."""
    if value is None:
        return None
    values = frozenset(value)
    return _SETS.setdefault(values, values)
