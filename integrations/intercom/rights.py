"""Who may open a door through the intercom.

The acting party of an ``intercom.unlock`` is an :class:`Actor`:

* a **user**, when the call's ``Context.user_id`` is set (the API passes the logged-in user):
  resolved to a resident of households, to staff, or to nobody by an :data:`ActorResolver` —
  the hub's accounts (``auth``: role and households) first, then the community registry (a
  person id -> their household and type);
* else a **station**, when the service targets an indoor or guard station (someone pressed
  "open" on that panel): the guard room acts as the guard, a household panel as its residents;
* else the **hub** itself (an automation or script written by staff), which is trusted.

Rules: the guard room, staff and the hub may open any door station. A resident may open a door
station only while it is calling *their* household, or the entrance of their own unit (the
station's ``serves``: household ids or unit places such as ``B01-U1``). A tenant whose lease
has ended has no rights. Everything else is denied with a reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from .station import KIND_DOOR, KIND_GUARD, StationConfig

ACTOR_HUB: Final = "hub"
ACTOR_GUARD: Final = "guard"
ACTOR_RESIDENT: Final = "resident"
ACTOR_NOBODY: Final = "nobody"

#: registry person types and account roles that act as the guard room
STAFF_TYPES: Final = frozenset({"staff", "guard"})
STAFF_ROLES: Final = frozenset({"admin", "staff", "guard", "service"})


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str
    #: for logs and the call log: ``intercom.guard_room``, ``user:R00001``, ``hub``
    label: str
    households: frozenset[str] = frozenset()
    #: why a user has no rights (unknown user, lease ended), for the denial message
    why_nobody: str | None = None


HUB: Final = Actor(ACTOR_HUB, "hub")

#: resolves a ``Context.user_id`` to an actor (None: unknown user)
ActorResolver = Callable[[str], Actor | None]


def station_actor(station: StationConfig) -> Actor:
    """The actor of someone pressing "open" on an indoor or guard station."""
    if station.kind == KIND_GUARD:
        return Actor(ACTOR_GUARD, station.entity_id)
    if station.household:
        return Actor(ACTOR_RESIDENT, station.entity_id, frozenset({station.household}))
    return Actor(ACTOR_NOBODY, station.entity_id, why_nobody="it belongs to no household")


def registry_resolver(registry: Any, today: Callable[[], date]) -> ActorResolver:
    """An :data:`ActorResolver` over the community registry's people (user id = person id)."""

    def resolve(user_id: str) -> Actor | None:
        person = registry.people.get(user_id)
        if person is None:
            return None
        label = f"user:{user_id}"
        if person.type in STAFF_TYPES:
            return Actor(ACTOR_GUARD, label)
        if person.lease_end is not None and person.lease_end < today():
            return Actor(ACTOR_NOBODY, label, why_nobody="lease ended")
        if person.household_id is None:
            return Actor(ACTOR_NOBODY, label, why_nobody="no household")
        return Actor(ACTOR_RESIDENT, label, frozenset({person.household_id}))

    return resolve


def auth_resolver(auth: Any) -> ActorResolver:
    """An :data:`ActorResolver` over the hub's accounts (``auth`` runtime: ``get_user`` ->
    ``User`` with ``role``, ``households``, ``is_active``)."""

    def resolve(user_id: str) -> Actor | None:
        user = auth.get_user(user_id)
        if user is None:
            return None
        label = f"user:{user_id}"
        if not user.is_active:
            return Actor(ACTOR_NOBODY, label, why_nobody="account disabled")
        if user.role in STAFF_ROLES:
            return Actor(ACTOR_GUARD, label)
        if user.role == "resident" and user.households:
            return Actor(ACTOR_RESIDENT, label, frozenset(user.households))
        return Actor(ACTOR_NOBODY, label, why_nobody=f"role {user.role} without a household")

    return resolve


def first_of(*resolvers: ActorResolver) -> ActorResolver:
    """The first resolver that knows the user."""

    def resolve(user_id: str) -> Actor | None:
        for resolver in resolvers:
            actor = resolver(user_id)
            if actor is not None:
                return actor
        return None

    return resolve


def unit_of(household_id: str) -> str:
    """``B01-U1-0101`` -> ``B01-U1``: the unit place of the community's household ids."""
    return household_id.rsplit("-", 1)[0]


def unlock_denial(
    actor: Actor, door: StationConfig, calling_households: Iterable[str]
) -> str | None:
    """None if ``actor`` may open ``door`` now; else the reason it may not.
    ``calling_households``: the households the door station is calling right now."""
    if door.kind != KIND_DOOR:
        return f"{door.entity_id} is a {door.kind} station, not a door station"
    if actor.kind in (ACTOR_HUB, ACTOR_GUARD):
        return None
    if actor.kind == ACTOR_NOBODY:
        return f"{actor.label} has no right to open doors ({actor.why_nobody})"
    households = actor.households
    if households & set(calling_households):
        return None
    if households & set(door.serves) or {unit_of(h) for h in households} & set(door.serves):
        return None
    return (
        f"{actor.label} (household {', '.join(sorted(households))}) may only open a door "
        f"station that is calling their household or their own unit entrance; "
        f"{door.entity_id} is neither"
    )
