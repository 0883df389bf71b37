"""The gate's decision on a visitor-pass token: ``ok`` or the one reason it is denied.

Place in the whole: pure and I/O-free, so the hub's :class:`~.book.PassBook` and an offline gate
(holding only the key, the revocation list and its own use counts) decide the same way. The
checks run in a fixed order, and the first failing one is the reason:

``malformed`` / ``bad_signature`` (the token itself) → ``unknown_pass`` (signed with our key but
not in the book; only when a book is consulted) → ``revoked`` → ``not_yet_valid`` → ``expired``
→ ``wrong_door`` → ``used_up``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from shouwang.core.places import PlaceIndex

from .tokens import Claims

OK: Final = "ok"
BAD_SIGNATURE: Final = "bad_signature"
MALFORMED: Final = "malformed"
NOT_YET_VALID: Final = "not_yet_valid"
EXPIRED: Final = "expired"
WRONG_DOOR: Final = "wrong_door"
USED_UP: Final = "used_up"
REVOKED: Final = "revoked"
UNKNOWN_PASS: Final = "unknown_pass"
REASONS: Final = (
    OK, BAD_SIGNATURE, MALFORMED, NOT_YET_VALID, EXPIRED, WRONG_DOOR, USED_UP, REVOKED,
    UNKNOWN_PASS,
)  # fmt: skip

#: the door groups a door belongs to (the access-control integration knows them)
DoorGroups = Callable[[str], Iterable[str]]
#: where a door stands, for doors that are neither places nor bound entities (access control's)
DoorPlaces = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class PassCheck:
    """The answer for one presented token at one door."""

    ok: bool
    reason: str
    pass_id: str | None = None
    host_household: str | None = None
    visitor_name: str | None = None


class DoorMatcher:
    """Whether a door is on a pass's route: named directly, in (or under) one of the route's
    places, or in one of its door groups.

    A door id may itself be a place id (gates are places in the registry) or an entity bound
    to a place; either way the places above it count."""

    def __init__(
        self,
        places: PlaceIndex,
        door_groups: DoorGroups | None = None,
        door_places: DoorPlaces | None = None,
    ) -> None:
        self.places = places
        self.door_groups = door_groups
        self.door_places = door_places

    def places_of(self, door_id: str) -> set[str]:
        """The door's own place (if it is one), the place it is bound to, and their ancestors."""
        found: set[str] = set()
        starts = [door_id, self.places.place_of(door_id)]
        if self.door_places is not None:
            starts.append(self.door_places(door_id))
        for start in starts:
            place_id = start
            while place_id is not None and place_id not in found:
                place = self.places.get(place_id)
                if place is None:
                    break
                found.add(place_id)
                place_id = place.parent_id
        return found

    def allows(self, claims: Claims, door_id: str) -> bool:
        if door_id in claims.doors:
            return True
        if claims.places and not self.places_of(door_id).isdisjoint(claims.places):
            return True
        if claims.door_groups and self.door_groups is not None:
            return not set(self.door_groups(door_id)).isdisjoint(claims.door_groups)
        return False


def check_claims(
    claims: Claims,
    door_id: str,
    now: float,
    *,
    uses: int,
    revoked: bool,
    doors: DoorMatcher,
) -> str:
    """The reason (``ok`` or why not) for verified claims at ``door_id`` at Unix time ``now``."""
    if revoked:
        return REVOKED
    if now < claims.valid_from:
        return NOT_YET_VALID
    if now >= claims.valid_until:
        return EXPIRED
    if not doors.allows(claims, door_id):
        return WRONG_DOOR
    if uses >= claims.max_uses:
        return USED_UP
    return OK
