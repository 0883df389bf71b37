"""Who a face or a plate belongs to, answered by the community registry.

Place in the whole: the sighting tracker asks here; the answers come from the ``registry``
integration's runtime (``person_by_face``, ``vehicle_by_plate``), the one identity store of the
hub. Without a registry every face is unknown and every plate is ``unknown``; the Frigate setup
says so in the log. Plates are normalised (``沪a·d1234`` -> ``沪AD1234``) before matching.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Final

from shouwang.integrations.registry.protect import normalise_plate

if TYPE_CHECKING:
    from shouwang.core.hub import Hub
    from shouwang.integrations.registry import Person, Registry, Vehicle

_LOGGER = logging.getLogger(__name__)

#: person types that count as the category "resident" in face triggers
RESIDENT_TYPES: Final = frozenset({"owner", "family", "tenant"})
LIST_UNKNOWN: Final = "unknown"


def person_categories(person: Person) -> frozenset[str]:
    """What a ``face`` trigger's ``categories`` can match: the person's type (owner, family,
    tenant, staff), ``resident`` for the first three, and the person's tags."""
    categories = {person.type, *person.tags}
    if person.type in RESIDENT_TYPES:
        categories.add("resident")
    return frozenset(categories)


def person_data(person: Person) -> dict[str, Any]:
    """A person as sighting events carry it: ids and categories, no personal data."""
    return {
        "person_id": person.person_id,
        "type": person.type,
        "household_id": person.household_id,
        "face_name": person.face_name,
        "categories": sorted(person_categories(person)),
    }


@dataclass(frozen=True, slots=True)
class PlateMatch:
    plate: str  # normalised
    vehicle: Vehicle | None
    list_type: str  # resident | visitor | blocked | unknown
    expired: bool  # a registered vehicle whose validity has ended

    def vehicle_data(self) -> dict[str, Any] | None:
        if self.vehicle is None:
            return None
        return {
            "plate": self.vehicle.plate,
            "household_id": self.vehicle.household_id,
            "list_type": self.vehicle.list_type,
            "valid_until": (
                self.vehicle.valid_until.isoformat() if self.vehicle.valid_until else None
            ),
            "parking_space": self.vehicle.parking_space,
        }


class Identities:
    """Lookups through the hub's registry (looked up on each call: it may be reloaded)."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    @property
    def registry(self) -> Registry | None:
        try:
            registry: Registry = self._hub.integrations.runtime("registry")
        except KeyError:
            return None
        return registry

    def person(self, face_name: str) -> Person | None:
        registry = self.registry
        return registry.person_by_face(face_name) if registry is not None else None

    def plate(self, raw: str, today: date) -> PlateMatch:
        plate = normalise_plate(raw)
        registry = self.registry
        vehicle = registry.vehicle_by_plate(plate) if registry is not None else None
        if vehicle is None:
            return PlateMatch(plate, None, LIST_UNKNOWN, False)
        expired = vehicle.valid_until is not None and vehicle.valid_until < today
        return PlateMatch(plate, vehicle, vehicle.list_type, expired)
