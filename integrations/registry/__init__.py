"""The community registry: places, households, people, vehicles, organisations and the device
ledger of one community (人、车、物、地、组织; events arrive with the recorder and sightings).

Stored in the hub's shared SQL storage (``core/storage.py``; ``<config>/shouwang.db`` unless
``registry: {db_url: …}`` names another SQLAlchemy URL). Filled with ``shouwang registry import``
(CSV with the property office's Chinese headers or English ones, or YAML) and written out with
``shouwang registry export``; see :mod:`.transfer`. Personal data is protected as
:mod:`.protect` describes.

``setup`` loads the places into ``hub.places`` (so service targets by place work) — households
too, as places of kind ``household`` under their unit entrance (``B01-U1-0101`` under
``B01-U1``), so a household's devices are bound to its place and "what belongs to household X"
is one place query (the API's resident scoping uses it) — and returns a :class:`Registry`:
in-memory lookups (person by face name, vehicle by plate, household members, people by tag,
person by ID-card number via its keyed hash) that never block the loop.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from sqlalchemy import select

from shouwang.core.places import Place
from shouwang.core.storage import Storage

from . import model
from .address import StandardAddress, parse_address
from .protect import Protector, normalise_plate

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

DOMAIN: Final = "registry"
CONFIG_SCHEMA: Final = vol.Schema({vol.Optional("db_url"): str})


@dataclass(frozen=True, slots=True)
class Person:
    """A registered person; personal data only masked."""

    person_id: str
    name: str
    gender: str | None
    birth_date: date | None
    id_masked: str | None
    phone_masked: str | None
    household_id: str | None
    type: str
    lease_end: date | None
    face_name: str | None
    card_number: str | None
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A registered vehicle (plate normalised)."""

    plate: str
    colour: str | None
    household_id: str | None
    list_type: str
    valid_until: date | None
    parking_space: str | None


@dataclass(frozen=True, slots=True)
class Household:
    household_id: str
    building: str
    unit: str
    floor: int
    room: str
    address: str | None
    occupancy: str
    area: float | None

    @property
    def standard_address(self) -> StandardAddress:
        """The standard address's parts: district/street/number from the address text, the
        rest from the household's own columns (which win over the text)."""
        parsed = parse_address(self.address or "")
        return StandardAddress(
            parsed.province if parsed else None, parsed.city if parsed else None,
            parsed.district if parsed else None, parsed.street if parsed else None,
            parsed.number if parsed else None, self.building, self.unit, self.floor, self.room,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Organisation:
    """A property company, police station, neighbourhood committee …; phone only masked."""

    organisation_id: str
    name: str
    type: str
    address: str | None
    phone_masked: str | None
    #: (person id, role or None)
    members: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True, slots=True)
class Device:
    """A device in the ledger (设施台账): the entity it is in the hub, and where it stands."""

    entity_id: str
    name: str
    type: str
    place_id: str
    x: float | None
    y: float | None
    manufacturer: str | None
    model: str | None
    serial: str | None
    installed: date | None


@dataclass
class Snapshot:
    """Everything the registry holds, read in one go (blocking)."""

    places: list[Place]
    households: dict[str, Household]
    people: dict[str, Person]
    vehicles: dict[str, Vehicle]
    id_hashes: dict[str, str]
    organisations: dict[str, Organisation]
    devices: dict[str, Device]


def read_snapshot(storage: Storage) -> Snapshot:
    """Read the whole registry (blocking: run in an executor)."""
    with storage.transaction() as conn:
        places = [
            Place(row.id, row.name, row.kind, row.parent, row.x, row.y)
            for row in conn.execute(select(model.places))
        ]
        households = {
            row.id: Household(
                row.id, row.building, row.unit, row.floor, row.room, row.address,
                row.occupancy, row.area,
            )
            for row in conn.execute(select(model.households))
        }  # fmt: skip
        people: dict[str, Person] = {}
        id_hashes: dict[str, str] = {}
        for row in conn.execute(select(model.people)):
            people[row.id] = Person(
                row.id, row.name, row.gender, row.birth_date, row.id_masked, row.phone_masked,
                row.household, row.type, row.lease_end, row.face_name, row.card_number,
                tuple(tag for tag in row.tags.split(";") if tag),
            )  # fmt: skip
            if row.id_hash:
                id_hashes[row.id_hash] = row.id
        vehicles = {
            row.plate: Vehicle(
                row.plate, row.colour, row.household, row.list_type, row.valid_until,
                row.parking_space,
            )
            for row in conn.execute(select(model.vehicles))
        }  # fmt: skip
        organisations = {
            row.id: Organisation(
                row.id, row.name, row.type, row.address, row.phone_masked,
                tuple(_member(item) for item in row.members.split(";") if item),
            )
            for row in conn.execute(select(model.organisations))
        }  # fmt: skip
        devices = {
            row.id: Device(
                row.id, row.name, row.type, row.place, row.x, row.y, row.manufacturer,
                row.model, row.serial, row.installed,
            )
            for row in conn.execute(select(model.devices))
        }  # fmt: skip
    return Snapshot(places, households, people, vehicles, id_hashes, organisations, devices)


def _member(item: str) -> tuple[str, str | None]:
    person, _, role = item.partition(":")
    return person, role or None


class Registry:
    """The registry's runtime object: lookups from an in-memory snapshot of the database."""

    def __init__(self, storage: Storage, protector: Protector, snapshot: Snapshot) -> None:
        self.storage = storage
        self.protector = protector
        self._apply(snapshot)

    def _apply(self, snapshot: Snapshot) -> None:
        self.places = snapshot.places
        self.households = snapshot.households
        self.people = snapshot.people
        self.vehicles = snapshot.vehicles
        self._id_hashes = snapshot.id_hashes
        self.organisations = snapshot.organisations
        self.devices = snapshot.devices
        self._places = {
            place.place_id: place
            for place in (*snapshot.places, *household_places(snapshot.places, snapshot.households))
        }
        self._memberships: dict[str, list[tuple[Organisation, str | None]]] = {}
        for organisation in sorted(self.organisations.values(), key=lambda o: o.organisation_id):
            for person_id, role in organisation.members:
                self._memberships.setdefault(person_id, []).append((organisation, role))
        self._by_face = {p.face_name: p for p in self.people.values() if p.face_name}
        self._members: dict[str, list[Person]] = {}
        self._tagged: dict[str, list[Person]] = {}
        for person in sorted(self.people.values(), key=lambda p: p.person_id):
            if person.household_id:
                self._members.setdefault(person.household_id, []).append(person)
            for tag in person.tags:
                self._tagged.setdefault(tag, []).append(person)

    async def reload(self, hub: Hub) -> None:
        """Re-read the database (after an import) and refresh ``hub.places``."""
        snapshot = await hub.loop.run_in_executor(None, read_snapshot, self.storage)
        self._apply(snapshot)
        _load_places(hub, snapshot)

    def person_by_face(self, face_name: str) -> Person | None:
        """The person enrolled under this face name (e.g. Frigate's ``sub_label``)."""
        return self._by_face.get(face_name)

    def person_by_id_number(self, number: str) -> Person | None:
        """The person with this ID-card number, matched by its keyed hash."""
        person_id = self._id_hashes.get(self.protector.hash_id(number))
        return self.people.get(person_id) if person_id else None

    def vehicle_by_plate(self, plate: str) -> Vehicle | None:
        """The vehicle with this plate, in any spelling (``沪a·d1234`` finds ``沪AD1234``)."""
        return self.vehicles.get(normalise_plate(plate))

    def household_members(self, household_id: str) -> list[Person]:
        """The people of a household, by person id."""
        return list(self._members.get(household_id, ()))

    def organisations_of(self, person_id: str) -> list[tuple[Organisation, str | None]]:
        """The organisations a person belongs to, with their role there."""
        return list(self._memberships.get(person_id, ()))

    def organisation_members(self, organisation_id: str) -> list[tuple[Person, str | None]]:
        """The registered people of an organisation, with their roles."""
        organisation = self.organisations.get(organisation_id)
        if organisation is None:
            return []
        return [
            (self.people[person_id], role)
            for person_id, role in organisation.members
            if person_id in self.people
        ]

    def device_position(self, entity_id: str, hub: Hub | None = None) -> tuple[float, float] | None:
        """Where a device is on the site plan: its ledger coordinates, else those of the nearest
        place up from where it is bound (the ledger's place, or — with ``hub`` — the place the
        entity was added with) that has coordinates."""
        device = self.devices.get(entity_id)
        if device is not None and device.x is not None and device.y is not None:
            return device.x, device.y
        place_id = device.place_id if device is not None else None
        if place_id is None and hub is not None:
            place_id = hub.places.place_of(entity_id)
        seen: set[str] = set()
        while place_id is not None and place_id not in seen:
            seen.add(place_id)
            place = self._places.get(place_id) or (hub.places.get(place_id) if hub else None)
            if place is None:
                return None
            if place.x is not None and place.y is not None:
                return place.x, place.y
            place_id = place.parent_id
        return None

    def people_with_tag(self, tag: str) -> list[Person]:
        """People with a tag, given as written (``独居老人``) or in English."""
        return list(self._tagged.get(model.TAG_ALIASES.get(tag, tag), ()))


HOUSEHOLD_KIND: Final = "household"


def household_places(places: list[Place], households: Mapping[str, Household]) -> list[Place]:
    """A place per household, under the longest place id its id starts with (``B01-U1-0101``
    goes under ``B01-U1``), at that place's site-plan coordinates."""
    by_id = {place.place_id: place for place in places}
    out: list[Place] = []
    for household in households.values():
        parts = household.household_id.split("-")
        parent: Place | None = None
        for end in range(len(parts) - 1, 0, -1):
            parent = by_id.get("-".join(parts[:end]))
            if parent is not None:
                break
        name = household.address or household.household_id
        out.append(
            Place(
                household.household_id, name, HOUSEHOLD_KIND,
                parent.place_id if parent else None,
                parent.x if parent else None, parent.y if parent else None,
            )
        )  # fmt: skip
    return out


def _load_places(hub: Hub, snapshot: Snapshot) -> None:
    for place in snapshot.places:
        hub.places.add(place)
    for place in household_places(snapshot.places, snapshot.households):
        hub.places.add(place)
    for device in snapshot.devices.values():
        # where the ledger says each device stands, for entities added without a place
        hub.places.assign(device.entity_id, device.place_id)


def open_registry(config_dir: Path, db_url: str | None = None) -> tuple[Storage, Protector]:
    """Storage (tables created) and protector of a config directory (blocking)."""
    storage = Storage.open(config_dir, db_url)
    storage.create_tables(model.METADATA)
    return storage, Protector(config_dir)


async def setup(hub: Hub, config: Mapping[str, Any]) -> Registry | bool:
    """Open the registry, load its places into ``hub.places`` and return the lookups."""
    if hub.config_dir is None:
        _LOGGER.error("The registry needs a config directory")
        return False
    storage, protector = await hub.loop.run_in_executor(
        None, open_registry, hub.config_dir, config.get("db_url")
    )
    snapshot = await hub.loop.run_in_executor(None, read_snapshot, storage)
    _load_places(hub, snapshot)
    hub.on_stop(storage.close)
    _LOGGER.info(
        "Registry: %d places, %d households, %d people, %d vehicles, %d organisations, "
        "%d devices",
        len(snapshot.places), len(snapshot.households), len(snapshot.people),
        len(snapshot.vehicles), len(snapshot.organisations), len(snapshot.devices),
    )  # fmt: skip
    return Registry(storage, protector, snapshot)
