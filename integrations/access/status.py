"""One status entity per door for the guard console: ``sensor.door_<id>``.

Place in the whole: the runtime (:mod:`.runtime`) adds a :class:`DoorStatus` for every
configured door and passes it each door event it fires. The state is ``closed``, ``open``,
``held_open`` (the alarm stage was reached) or ``forced`` while that opening lasts, from the
door contact (unknown without one). Attributes: the door's lock, contact, camera and readers,
the readers locked by throttling, and the last attempt's result, reason, credential type and
time — no person, and a duress grant looks like any other grant.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final

from shouwang.core.events import Context, Event, Unsubscribe
from shouwang.core.platforms import SensorEntity
from shouwang.core.tracking import track_state_change

from .config import Door

CLOSED: Final = "closed"
OPEN: Final = "open"
HELD_OPEN: Final = "held_open"
FORCED: Final = "forced"


class DoorStatus(SensorEntity):
    """What the guard console shows for one door."""

    states: ClassVar[frozenset[str]] = frozenset({CLOSED, OPEN, HELD_OPEN, FORCED})

    def __init__(self, door: Door) -> None:
        super().__init__(
            door.name,
            unique_id=f"door_{door.door_id}",
            entity_id=f"sensor.door_{door.door_id.lower().replace('-', '_')}",
            place_id=door.place,
            icon="mdi:door",
        )
        self.door = door
        self.locked_readers: set[str] = set()
        self.last: dict[str, Any] = {}
        self._remove: Unsubscribe | None = None

    async def added_to_hub(self) -> None:
        assert self.hub is not None
        if self.door.contact is None:
            return
        contact = self.hub.states.get(self.door.contact)
        self.native_value = _from_contact(contact.state if contact is not None else None)
        self._remove = track_state_change(self.hub, self.door.contact, self._contact_changed)

    async def will_remove(self) -> None:
        if self._remove is not None:
            self._remove()

    def state_attributes(self) -> dict[str, Any]:
        return {
            "door": self.door.door_id,
            "lock": self.door.lock,
            "contact": self.door.contact,
            "camera": self.door.camera,
            "readers": [reader.reader_id for reader in self.door.readers],
            "locked_readers": sorted(self.locked_readers),
            "last_result": self.last.get("result"),
            "last_reason": self.last.get("reason"),
            "last_credential_type": self.last.get("credential_type"),
            "last_time": self.last.get("time"),
        }

    def _contact_changed(self, event: Event) -> None:
        new = event.data.get("new_state")
        state = _from_contact(new.state if new is not None else None)
        if state == OPEN and self.native_value in (FORCED, HELD_OPEN):
            return  # still the same opening
        self.native_value = state
        self.write_state(event.context)

    def observe(self, event_type: str, data: dict[str, Any], context: Context | None) -> None:
        """A door event the runtime fired for this door."""
        if event_type in ("access_granted", "access_denied"):
            self.last = {key: data.get(key) for key in ("result", "reason", "credential_type")}
            self.last["time"] = data.get("time")
        elif event_type == "access_reader_locked":
            self.locked_readers.add(data["reader"])
        elif event_type == "access_reader_unlocked":
            self.locked_readers.discard(data["reader"])
        elif event_type == "door_forced":
            self.native_value = FORCED
        elif event_type == "door_held_open" and data.get("level") == "alarm":
            if self.native_value != FORCED:
                self.native_value = HELD_OPEN
        else:
            return
        self.write_state(context)


def _from_contact(state: str | None) -> str | None:
    if state == "on":
        return OPEN
    if state == "off":
        return CLOSED
    return None
