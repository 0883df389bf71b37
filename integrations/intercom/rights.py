"""Who may open a door through the intercom.

The acting party of an ``intercom.unlock`` is an :class:`Actor`:

* a **user**, when the call's ``Context.user_id`` is set (the API passes the logged-in user):
  resolved to a resident of a household, to staff, or to nobody by an :data:`ActorResolver`
  (by default through the community registry: a person id -> their household and type);
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

STAFF_TYPES: Final = frozenset({"staff", "guard"})


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str
    #: for logs and the call log: ``intercom.guard_room``, ``user:R00001``, ``hub``
    label: str
    household: str | None = None
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
        return Actor(ACTOR_RESIDENT, station.entity_id, station.household)
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
            return Actor(ACTOR_NOBODY, label, person.household_id, why_nobody="lease ended")
        if person.household_id is None:
            return Actor(ACTOR_NOBODY, label, why_nobody="no household")
        return Actor(ACTOR_RESIDENT, label, person.household_id)

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
    household = actor.household or ""
    if household in set(calling_households):
        return None
    if household in door.serves or unit_of(household) in door.serves:
        return None
    return (
        f"{actor.label} (household {household}) may only open a door station that is calling "
        f"their household or their own unit entrance; {door.entity_id} is neither"
    )
