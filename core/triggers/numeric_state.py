"""``trigger: numeric_state``: a value crossed into a range (above/below, of the state, an
attribute or a ``value_template``), optionally held ``for`` a duration.

As in Home Assistant it fires on the crossing, not on every change inside the range, and an
entity already inside the range when the automation starts must leave it first.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from ..durations import POSITIVE_DURATION
from ..events import Event, Unsubscribe
from ..states import State
from . import TriggerAction, TriggerInfo, schema
from ._helpers import PendingTimers, entity_ids

if TYPE_CHECKING:
    from ..hub import Hub

_LOGGER = logging.getLogger(__name__)

_LIMIT = vol.Any(vol.Coerce(float), vol.All(str, vol.Match(r"^[a-z_]+\.[a-z0-9_]+$")))


def _has_limit(config: dict[str, Any]) -> dict[str, Any]:
    if "above" not in config and "below" not in config:
        raise vol.Invalid("numeric_state needs 'above', 'below' or both")
    return config


SCHEMA = vol.All(
    schema(
        "numeric_state",
        {
            vol.Required("entity_id"): entity_ids,
            vol.Optional("above"): _LIMIT,
            vol.Optional("below"): _LIMIT,
            vol.Optional("attribute"): str,
            vol.Optional("value_template"): str,
            vol.Optional("for"): POSITIVE_DURATION,
        },
    ),
    _has_limit,
)


def numeric_value(
    hub: Hub, state: State | None, attribute: str | None, value_template: str | None
) -> float | None:
    """The number a state stands for, or None when it is not a number (unknown, unavailable…)."""
    if state is None:
        return None
    if value_template is not None:
        raw: Any = hub.templates.template(value_template).render({"state": state})
    elif attribute is not None:
        raw = state.attributes.get(attribute)
    else:
        raw = state.state
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


def limit_value(hub: Hub, limit: Any) -> float | None:
    if isinstance(limit, float | int):
        return float(limit)
    state = hub.states.get(limit)
    try:
        return float(state.state) if state is not None else None
    except ValueError:
        return None


def in_range(hub: Hub, value: float | None, above: Any, below: Any) -> bool:
    if value is None:
        return False
    if above is not None:
        low = limit_value(hub, above)
        if low is None or value <= low:
            return False
    if below is not None:
        high = limit_value(hub, below)
        if high is None or value >= high:
            return False
    return True


def attach(
    hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
) -> Unsubscribe:
    above, below = config.get("above"), config.get("below")
    attribute, template = config.get("attribute"), config.get("value_template")
    hold_for = config.get("for")
    timers = PendingTimers(hub)
    inside: set[str] = set()
    for entity_id in config["entity_id"]:
        value = numeric_value(hub, hub.states.get(entity_id), attribute, template)
        if in_range(hub, value, above, below):
            inside.add(entity_id)  # already in range: must leave before it can fire

    def changed(event: Event) -> None:
        entity_id = event.data["entity_id"]
        old, new = event.data["old_state"], event.data["new_state"]
        try:
            value = numeric_value(hub, new, attribute, template)
        except Exception as err:  # a broken value_template must not break the bus
            _LOGGER.warning("%s: numeric_state value of %s: %s", info.name, entity_id, err)
            return
        if not in_range(hub, value, above, below):
            inside.discard(entity_id)
            timers.cancel(entity_id)
            return
        if entity_id in inside:
            return
        inside.add(entity_id)
        data = {
            **info.base("numeric_state"),
            "entity_id": entity_id,
            "from_state": old,
            "to_state": new,
            "above": above,
            "below": below,
            "attribute": attribute,
            "for": None,
            "description": f"numeric state of {entity_id}",
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
