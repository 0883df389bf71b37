"""Access policy: the one place that decides who may do what.

Every HTTP route declares an :class:`Access` level when it is registered (the HTTP server refuses
routes without one); :func:`allowed` answers "may this user reach a route of this level", and a
:class:`Scope` (built per request or WebSocket connection by ``AuthManager.scope_for``) answers
the finer questions handlers must ask for data: which entities, events and service calls a user
may see or make. Residents are confined to their households; everyone else sees the community.

Household membership (the rule residents are scoped by):

* an **entity** belongs to household ``H`` if its state attribute ``household_id`` (a string or a
  list) names ``H``, or if the place it is bound to (``hub.places.place_of``, else its
  ``place_id`` attribute) is the place ``H`` of kind ``household`` or lies under it — the
  registry loads each household as a place of kind ``household`` under its unit entrance, so a
  household's devices are bound to that place;
* an **event** is about household ``H`` if its data names ``H`` (``household_id``/``household``,
  string or list), names an entity of ``H`` (``entity_id``, string or list), a place inside ``H``
  (``place_id``), or a registered person of ``H`` (``person_id``, via the registry).

Nothing else is visible to a resident: shared places (gates, car park, perimeter) are not any
household's, so their entities and events are not shown to residents.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from shouwang.core.events import Event
    from shouwang.core.hub import Hub


class Access(StrEnum):
    """What a route (or WebSocket command) needs."""

    #: no login (the login flow itself, static assets of the login page)
    PUBLIC = "public"
    #: any logged-in, active user; the handler must scope data with ``request["scope"]``
    USER = "user"
    #: read everything in the community: admin, staff, guard, service
    READ_ALL = "read_all"
    #: call any service: admin, staff, guard, service
    CONTROL = "control"
    #: edit automations and the registry: admin, staff
    CONFIG = "config"
    #: manage users and tokens: admin
    ADMIN = "admin"


class Role(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    GUARD = "guard"
    RESIDENT = "resident"
    SERVICE = "service"


ROLES: Final = tuple(role.value for role in Role)

#: the Access levels each role reaches (PUBLIC is everyone's, logged in or not)
_GRANTS: Final[Mapping[str, frozenset[Access]]] = {
    Role.ADMIN: frozenset(Access),
    Role.STAFF: frozenset(
        {Access.PUBLIC, Access.USER, Access.READ_ALL, Access.CONTROL, Access.CONFIG}
    ),
    Role.GUARD: frozenset({Access.PUBLIC, Access.USER, Access.READ_ALL, Access.CONTROL}),
    # integrations and voice hooks: read and act on the community, never configure it
    Role.SERVICE: frozenset({Access.PUBLIC, Access.USER, Access.READ_ALL, Access.CONTROL}),
    Role.RESIDENT: frozenset({Access.PUBLIC, Access.USER}),
}

HOUSEHOLD_PLACE_KIND: Final = "household"
#: how long a scope trusts what it worked out about a place (hub clock seconds)
PLACE_MEMO_SECONDS: Final = 30.0


@dataclass(frozen=True, slots=True)
class User:
    """An account as the rest of the hub sees it (no password hash, no tokens)."""

    id: str
    name: str
    role: str
    households: frozenset[str] = frozenset()
    is_active: bool = True

    @property
    def is_resident(self) -> bool:
        return self.role == Role.RESIDENT

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "households": sorted(self.households),
            "is_active": self.is_active,
        }


def allowed(user: User | None, access: Access) -> bool:
    """May ``user`` (None: not logged in) reach something that needs ``access``?"""
    if access is Access.PUBLIC:
        return True
    if user is None or not user.is_active:
        return False
    return access in _GRANTS.get(user.role, frozenset())


def _names(value: Any) -> list[str] | tuple[str]:
    """A string or a list of strings from event data or attributes; anything else is nothing."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple | set | frozenset):
        return [item for item in value if isinstance(item, str)]
    return []


class Scope:
    """What one user may see and do, asked per entity, event and service call.

    Built by ``AuthManager.scope_for(user)`` for each request or WebSocket connection; it reads
    the hub's live places and states, so it stays right as entities come and go.
    """

    __slots__ = (
        "_hub",
        "_memo_until",
        "_place_memo",
        "_sees_all",
        "household_ids",
        "is_resident",
        "user",
    )

    def __init__(self, hub: Hub, user: User) -> None:
        self._hub = hub
        self.user = user
        self.is_resident = user.role == Role.RESIDENT
        self.household_ids: frozenset[str] = user.households if self.is_resident else frozenset()
        self._sees_all = allowed(user, Access.READ_ALL)
        # place id -> inside one of my households; a scope lives as long as a WebSocket, so
        # the answers are forgotten every PLACE_MEMO_SECONDS to follow registry reloads
        self._place_memo: dict[str, bool] = {}
        self._memo_until = 0.0

    # -- households ---------------------------------------------------------------------------
    def households_of_place(self, place_id: str | None) -> set[str]:
        """The households a place is (or lies inside)."""
        found: set[str] = set()
        seen: set[str] = set()
        while place_id is not None and place_id not in seen:
            seen.add(place_id)
            place = self._hub.places.get(place_id)
            if place is None:
                break
            if place.kind == HOUSEHOLD_PLACE_KIND:
                found.add(place.place_id)
            place_id = place.parent_id
        return found

    def households_of_entity(self, entity_id: str) -> set[str]:
        """The households an entity belongs to (see the module doc for the rule)."""
        state = self._hub.states.get(entity_id)
        found: set[str] = set()
        place_id = self._hub.places.place_of(entity_id)
        if state is not None:
            found.update(_names(state.attributes.get("household_id")))
            if place_id is None and isinstance(state.attributes.get("place_id"), str):
                place_id = state.attributes["place_id"]
        found |= self.households_of_place(place_id)
        return found

    def _place_is_mine(self, place_id: str) -> bool:
        now = self._hub.clock.time()
        if now >= self._memo_until:
            self._place_memo.clear()
            self._memo_until = now + PLACE_MEMO_SECONDS
        mine = self._place_memo.get(place_id)
        if mine is None:
            mine = bool(self.households_of_place(place_id) & self.household_ids)
            self._place_memo[place_id] = mine
        return mine

    def _entity_is_mine(self, entity_id: str) -> bool:
        """``households_of_entity(entity_id) & household_ids``, without building sets."""
        place_id = self._hub.places.place_of(entity_id)
        state = self._hub.states.get(entity_id)
        if state is not None:
            attributes = state.attributes
            named = attributes.get("household_id")
            if named is not None and not self.household_ids.isdisjoint(_names(named)):
                return True
            if place_id is None:
                attribute = attributes.get("place_id")
                place_id = attribute if isinstance(attribute, str) else None
        return place_id is not None and self._place_is_mine(place_id)

    def _person_household(self, person_id: str) -> str | None:
        loaded = self._hub.integrations.loaded.get("registry")
        if loaded is None:
            return None
        person = loaded.runtime.people.get(person_id)
        return person.household_id if person is not None else None

    def households_of_record(self, data: Mapping[str, Any]) -> set[str]:
        """Every household event data (or a record shaped like it) is about, by the module
        doc's rule. For a resident, ``can_read_event(e)`` is exactly
        ``bool(households_of_record(e.data) & household_ids)``; a dispatcher serving many
        residents can compute this once per event and deliver to those households only."""
        found: set[str] = set()
        for key in ("household_id", "household"):
            found.update(_names(data.get(key)))
        for entity_id in _names(data.get("entity_id")):
            found |= self.households_of_entity(entity_id)
        for place_id in _names(data.get("place_id")):
            found |= self.households_of_place(place_id)
        for person_id in _names(data.get("person_id")):
            household = self._person_household(person_id)
            if household is not None:
                found.add(household)
        return found

    # -- questions handlers ask -------------------------------------------------------------
    def can_read_entity(self, entity_id: str) -> bool:
        if not self.is_resident:
            return self._sees_all
        return self.user.is_active and self._entity_is_mine(entity_id)

    def can_control_entity(self, entity_id: str) -> bool:
        if not self.is_resident:
            return allowed(self.user, Access.CONTROL)
        return self.user.is_active and self._entity_is_mine(entity_id)

    def can_read_event(self, event: Event) -> bool:
        """Residents: only events about their households' entities, places or people."""
        if not self.is_resident:
            return self._sees_all
        return self.user.is_active and self.is_about_own_household(event.data)

    def is_about_own_household(self, data: Mapping[str, Any]) -> bool:
        """Whether event data (or any record shaped like it: a snapshot, call, pass) names one
        of this user's households, their entities, places or people."""
        mine = self.household_ids
        if not mine or not self.user.is_active:
            return False
        for key in ("household_id", "household"):
            value = data.get(key)
            if value is not None and not mine.isdisjoint(_names(value)):
                return True
        entity_ids = data.get("entity_id")
        if entity_ids is not None and any(map(self._entity_is_mine, _names(entity_ids))):
            return True
        place_ids = data.get("place_id")
        if place_ids is not None and any(map(self._place_is_mine, _names(place_ids))):
            return True
        person_ids = data.get("person_id")
        if person_ids is not None:
            return any(self._person_household(p) in mine for p in _names(person_ids))
        return False

    def can_call_service(self, domain: str, service: str, entity_ids: Iterable[str]) -> bool:
        """May this user call ``domain.service`` on these (already resolved) entities?

        Staff, guards, admins and service accounts may call anything. A resident may only call
        a service that targets entities, all of them their own: callers must resolve place and
        area targets (and ``all``) to entity ids first; an empty list is refused.
        """
        if not self.user.is_active:
            return False
        if not self.is_resident:
            return allowed(self.user, Access.CONTROL)
        ids = list(entity_ids)
        return bool(ids) and all(self.can_control_entity(entity_id) for entity_id in ids)

    def filter_entities(self, entity_ids: Iterable[str]) -> list[str]:
        """The readable ones of ``entity_ids``, in order."""
        if not self.is_resident:
            return list(entity_ids) if self._sees_all else []
        if not self.user.is_active:
            return []
        return [entity_id for entity_id in entity_ids if self._entity_is_mine(entity_id)]
