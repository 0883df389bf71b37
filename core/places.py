"""Places: where entities are (community -> building -> unit …, gates, lanes, zones).

The runtime index the rest of the core asks "which entities are in building 5?" (service
targets by ``place_id``, templates, the site plan). The persistent community registry fills it;
integrations bind the entities they create to places.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Place:
    """One place. ``x``/``y`` are coordinates on the community's site plan, if known."""

    place_id: str
    name: str
    kind: str = "area"
    parent_id: str | None = None
    x: float | None = None
    y: float | None = None


class UnknownPlace(KeyError):
    """A place id nobody registered."""


class PlaceIndex:
    """Places, their hierarchy, and which entity is bound to which place."""

    def __init__(self) -> None:
        self._places: dict[str, Place] = {}
        self._children: dict[str, set[str]] = {}
        self._entities: dict[str, set[str]] = {}
        self._place_of: dict[str, str] = {}  # where each entity effectively is
        self._own: dict[str, str] = {}  # the place an entity was added with
        self._assigned: dict[str, str] = {}  # the place the device ledger gives it

    def add(self, place: Place) -> None:
        """Add or replace a place (its parent need not exist yet)."""
        previous = self._places.get(place.place_id)
        if previous is not None and previous.parent_id is not None:
            self._children.get(previous.parent_id, set()).discard(place.place_id)
        if place.parent_id == place.place_id:
            raise ValueError(f"Place {place.place_id} cannot be its own parent")
        self._places[place.place_id] = place
        if place.parent_id is not None:
            self._children.setdefault(place.parent_id, set()).add(place.place_id)

    def get(self, place_id: str) -> Place | None:
        return self._places.get(place_id)

    def all(self) -> list[Place]:
        return list(self._places.values())

    def descendants(self, place_id: str) -> set[str]:
        """``place_id`` and every place under it."""
        if place_id not in self._places and place_id not in self._children:
            raise UnknownPlace(place_id)
        found = {place_id}
        stack = [place_id]
        while stack:
            for child in self._children.get(stack.pop(), ()):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return found

    def bind(self, entity_id: str, place_id: str | None) -> None:
        """Put an entity in a place (None unbinds it); this wins over a ledger assignment."""
        if place_id is None:
            self._own.pop(entity_id, None)
        else:
            self._own[entity_id] = place_id
        self._rebind(entity_id)

    def assign(self, entity_id: str, place_id: str | None) -> None:
        """Record where the device ledger says an entity stands (None forgets it). It applies
        whenever the entity has no place of its own, before or after the entity exists."""
        if place_id is None:
            self._assigned.pop(entity_id, None)
        else:
            self._assigned[entity_id] = place_id
        self._rebind(entity_id)

    def _rebind(self, entity_id: str) -> None:
        old = self._place_of.pop(entity_id, None)
        if old is not None:
            self._entities.get(old, set()).discard(entity_id)
        place_id = self._own.get(entity_id) or self._assigned.get(entity_id)
        if place_id is not None:
            self._place_of[entity_id] = place_id
            self._entities.setdefault(place_id, set()).add(entity_id)

    def place_of(self, entity_id: str) -> str | None:
        return self._place_of.get(entity_id)

    def entities_in(self, place_ids: str | Iterable[str]) -> set[str]:
        """Entities bound to these places or to any place under them."""
        ids = [place_ids] if isinstance(place_ids, str) else list(place_ids)
        entities: set[str] = set()
        for place_id in ids:
            for place in self.descendants(place_id):
                entities |= self._entities.get(place, set())
        return entities
