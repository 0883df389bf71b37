"""``trigger: access``: automations on access decisions, filtered by door, result, reason,
person, category, household and credential type.

Place in the whole: registered by the integration's ``setup`` with
:func:`~shouwang.core.triggers.register_trigger_platform`; listens to the ``access_granted`` /
``access_denied`` events the runtime (:mod:`.runtime`) fires. Every filter is optional; a list
matches any of its values. Categories are registry tags, as written (``独居老人``) or by their
English alias (``elderly_living_alone``)::

    triggers:
      - trigger: access
        doors: [gate_north, gate_south]
        results: [denied]
        reasons: [lease_expired]

The ``trigger`` variable carries ``door``, ``result``, ``reason``, ``person``, ``household``,
``credential_type``, ``categories`` and the ``event``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from shouwang.core.events import Event, Unsubscribe
from shouwang.core.triggers import TriggerAction, TriggerInfo, schema
from shouwang.integrations.registry.model import TAG_ALIASES

from .decision import CREDENTIAL_TYPES

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

RESULTS: Final = {"granted": "access_granted", "denied": "access_denied"}


def _names(value: Any) -> list[str]:
    """A name or a list of names; an empty list (a blueprint's default) means any."""
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(i, str | int) and not isinstance(i, bool) for i in items):
        raise vol.Invalid("expected a name or a list of names")
    return [str(item) for item in items]


SCHEMA: Final = schema(
    "access",
    {
        vol.Optional("doors"): _names,
        vol.Optional("results", default=list(RESULTS)): vol.All(
            _names, vol.Length(min=1), [vol.In(list(RESULTS))]
        ),
        vol.Optional("reasons"): _names,
        vol.Optional("people"): _names,
        vol.Optional("households"): _names,
        vol.Optional("categories"): _names,
        vol.Optional("credential_types"): vol.All(_names, [vol.In([*CREDENTIAL_TYPES, "remote"])]),
    },
)


def _set(config: Mapping[str, Any], key: str) -> frozenset[str] | None:
    return frozenset(config[key]) if config.get(key) else None


def _matcher(config: Mapping[str, Any]) -> Any:
    doors = _set(config, "doors")
    reasons = _set(config, "reasons")
    people = _set(config, "people")
    households = _set(config, "households")
    kinds = _set(config, "credential_types")
    categories = _set(config, "categories")
    if categories is not None:
        categories = frozenset(TAG_ALIASES.get(c, c) for c in categories)

    def matches(data: Mapping[str, Any]) -> bool:
        return (
            (doors is None or data.get("door") in doors)
            and (reasons is None or data.get("reason") in reasons)
            and (people is None or data.get("person") in people)
            and (households is None or data.get("household") in households)
            and (kinds is None or data.get("credential_type") in kinds)
            and (categories is None or not categories.isdisjoint(data.get("categories") or ()))
        )

    return matches


def attach(
    hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
) -> Unsubscribe:
    matches = _matcher(config)

    def fired(event: Event) -> None:
        data = event.data
        variables = {
            **info.base("access"),
            "event": event,
            "door": data.get("door"),
            "result": data.get("result"),
            "reason": data.get("reason"),
            "person": data.get("person"),
            "household": data.get("household"),
            "credential_type": data.get("credential_type"),
            "categories": data.get("categories"),
            "description": f"access {data.get('result')} at {data.get('door')}",
        }
        action(variables, event.context)

    removers = [hub.bus.listen(RESULTS[result], fired, matches) for result in config["results"]]

    def detach() -> None:
        for remove in removers:
            remove()

    return detach
