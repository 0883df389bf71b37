"""Automation triggers on sightings: ``face``, ``stranger`` and ``plate``.

Place in the whole: the Frigate integration registers these with
``register_trigger_platform``; each listens to the sighting events the tracker
(``sightings.py``) fires and passes the sighting on as ``trigger.*``: ``camera``, ``place``,
``zones``, ``snapshot_url``, ``event_id``, ``time``, ``score`` and ``person`` / ``plate``,
``vehicle``, ``list_type``, plus ``event`` (the bus event).

```yaml
- trigger: face
  people: [zhang_san]            # person ids, or
  categories: [resident]         # person types (owner, family, tenant, staff), resident, tags
  cameras: [camera.north_gate]
  places: [P-GATE-N]             # the camera's place or a zone's place (or one under them)
- trigger: stranger
  cameras: [camera.north_gate]
  zones: [gate_lane]             # Frigate zone names
  min_score: 0.7                 # the person detection's top score
  cooldown: 120                  # this trigger, per camera
- trigger: plate
  plates: [京B66666]             # any spelling; normalised
  lists: [blocked]               # resident, visitor, blocked, unknown
```
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from shouwang.core.events import Event, Unsubscribe
from shouwang.core.places import UnknownPlace
from shouwang.core.triggers import TriggerAction, TriggerInfo, TriggerPlatform, schema
from shouwang.core.triggers._helpers import entity_ids
from shouwang.integrations.registry.protect import normalise_plate

from .config import duration
from .sightings import PERSON_SIGHTED, PLATE_RECOGNIZED, STRANGER_DETECTED

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

LISTS: Final = ("resident", "visitor", "blocked", "unknown")


def _strings(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str | int) and str(item) for item in items):
        raise vol.Invalid(f"expected a name or a list of names, got {value!r}")
    return [str(item) for item in items]


def _plates(value: Any) -> list[str]:
    return [normalise_plate(plate) for plate in _strings(value)]


def _cameras(value: Any) -> list[str]:
    ids = entity_ids(value)
    wrong = [entity_id for entity_id in ids if not entity_id.startswith("camera.")]
    if wrong:
        raise vol.Invalid(f"expected camera entity ids (camera.north_gate), got {wrong[0]!r}")
    return ids


_WHERE: Final[dict[Any, Any]] = {
    vol.Optional("cameras"): _cameras,
    vol.Optional("places"): _strings,
}


def _place_filter(hub: Hub, places: list[str] | None) -> set[str] | None:
    """The places asked for and every place under them (as far as ``hub.places`` knows)."""
    if not places:
        return None
    wanted: set[str] = set()
    for place in places:
        try:
            wanted |= hub.places.descendants(place)
        except UnknownPlace:
            wanted.add(place)
    return wanted


def _where_matches(
    data: Mapping[str, Any], cameras: set[str] | None, places: set[str] | None
) -> bool:
    if cameras is not None and data.get("camera") not in cameras:
        return False
    if places is not None:
        seen = {data.get("place"), *data.get("zone_places", ())}
        if not seen & places:
            return False
    return True


def _variables(platform: str, info: TriggerInfo, event: Event, what: str) -> dict[str, Any]:
    data = event.data
    return {
        **info.base(platform),
        **data,
        "event": event,
        "description": f"{what} at {data.get('camera')}",
    }


class FaceTrigger:
    """``trigger: face``: a registered person recognised."""

    SCHEMA = schema(
        "face",
        {
            **_WHERE,
            vol.Optional("people"): _strings,
            vol.Optional("categories"): _strings,
        },
    )

    def attach(
        self, hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
    ) -> Unsubscribe:
        cameras = set(config["cameras"]) if "cameras" in config else None
        places = _place_filter(hub, config.get("places"))
        people = set(config["people"]) if "people" in config else None
        categories = set(config["categories"]) if "categories" in config else None

        def matches(data: Mapping[str, Any]) -> bool:
            person = data.get("person") or {}
            if people is not None and person.get("person_id") not in people:
                return False
            if categories is not None and not categories & set(person.get("categories", ())):
                return False
            return _where_matches(data, cameras, places)

        def fire(event: Event) -> None:
            action(_variables("face", info, event, "face recognised"), event.context)

        return hub.bus.listen(PERSON_SIGHTED, fire, matches)


class StrangerTrigger:
    """``trigger: stranger``: a face nobody in the registry knows."""

    SCHEMA = schema(
        "stranger",
        {
            **_WHERE,
            vol.Optional("zones"): _strings,
            vol.Optional("min_score"): vol.All(vol.Coerce(float), vol.Range(min=0, max=1)),
            vol.Optional("cooldown"): duration,
        },
    )

    def attach(
        self, hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
    ) -> Unsubscribe:
        cameras = set(config["cameras"]) if "cameras" in config else None
        places = _place_filter(hub, config.get("places"))
        zones = set(config["zones"]) if "zones" in config else None
        min_score: float = config.get("min_score", 0.0)
        cooldown: timedelta = config.get("cooldown", timedelta(0))
        last_fired: dict[str, float] = {}

        def matches(data: Mapping[str, Any]) -> bool:
            if zones is not None and not zones & set(data.get("zones", ())):
                return False
            if (data.get("score") or 0.0) < min_score:
                return False
            return _where_matches(data, cameras, places)

        def fire(event: Event) -> None:
            if cooldown:
                camera = str(event.data.get("camera"))
                now = hub.clock.time()
                last = last_fired.get(camera)
                if last is not None and now - last < cooldown.total_seconds():
                    return
                last_fired[camera] = now
            action(_variables("stranger", info, event, "stranger"), event.context)

        return hub.bus.listen(STRANGER_DETECTED, fire, matches)


class PlateTrigger:
    """``trigger: plate``: a plate read, by plate or by list type."""

    SCHEMA = schema(
        "plate",
        {
            **_WHERE,
            vol.Optional("plates"): _plates,
            vol.Optional("lists"): [vol.In(LISTS)],
        },
    )

    def attach(
        self, hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
    ) -> Unsubscribe:
        cameras = set(config["cameras"]) if "cameras" in config else None
        places = _place_filter(hub, config.get("places"))
        plates = set(config["plates"]) if "plates" in config else None
        lists = set(config["lists"]) if "lists" in config else None

        def matches(data: Mapping[str, Any]) -> bool:
            if plates is not None and data.get("plate") not in plates:
                return False
            if lists is not None and data.get("list_type") not in lists:
                return False
            return _where_matches(data, cameras, places)

        def fire(event: Event) -> None:
            action(
                _variables("plate", info, event, f"plate {event.data.get('plate')}"), event.context
            )

        return hub.bus.listen(PLATE_RECOGNIZED, fire, matches)


PLATFORMS: Final[dict[str, TriggerPlatform]] = {
    "face": FaceTrigger(),
    "stranger": StrangerTrigger(),
    "plate": PlateTrigger(),
}
