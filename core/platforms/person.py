"""The ``person`` platform: residents, staff and registered visitors, and where they were last
seen (``home``, ``not_home``, or a place such as ``P-GATE-N``). No services: the state follows
access events and trackers, through :meth:`PersonEntity.seen_at` or :attr:`location`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final, Unpack

from ..entity import Entity, EntityOptions
from ..events import Context

DOMAIN: Final = "person"

STATE_HOME: Final = "home"
STATE_NOT_HOME: Final = "not_home"


class PersonEntity(Entity):
    """A person. The state is any string: ``home``, ``not_home`` or a place id or name."""

    domain: ClassVar[str] = DOMAIN

    #: None until first seen
    location: str | None = None
    #: what reported the last sighting (an entity id such as ``lock.gate_north``)
    source: str | None = None
    #: the place of the last sighting, kept when ``location`` turns to ``not_home``
    last_seen_place: str | None = None

    def __init__(
        self,
        name: str,
        *,
        person_id: str,
        household_id: str | None = None,
        **options: Unpack[EntityOptions],
    ) -> None:
        super().__init__(name, **options)
        self.person_id = person_id
        self.household_id = household_id

    @property
    def state(self) -> str | None:
        return self.location

    def state_attributes(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "household_id": self.household_id,
            "source": self.source,
            "last_seen_place": self.last_seen_place,
        }

    def seen_at(
        self,
        place: str,
        *,
        source: str | None = None,
        location: str | None = None,
        context: Context | None = None,
    ) -> None:
        """Record a sighting at ``place`` and write the state. The state becomes ``location``
        if given (``home`` when seen at the own unit's door), otherwise the place itself."""
        self.last_seen_place = place
        self.source = source
        self.location = location if location is not None else place
        self.write_state(context)
