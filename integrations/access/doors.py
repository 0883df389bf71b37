"""Door monitoring from the door contact: held open (reminder, then alarm) and forced doors.

Place in the whole: the runtime (:mod:`.runtime`) makes one :class:`DoorMonitor` per door that
has a ``contact`` entity and tells it about every grant (and exit-button press). The monitor
follows the contact's state (``on`` = open) through the state machine and fires:

* ``door_held_open`` with ``level: reminder`` after ``held_open.reminder`` (30 s) and
  ``level: alarm`` after ``held_open.alarm`` (60 s), both counted from the opening; closing the
  door cancels what has not fired yet;
* ``door_forced`` when the door opens without a grant, exit-button press or unlocked lock
  within ``open_window`` (10 s) before.

Timers run on the hub clock (:mod:`shouwang.core.tracking`), so tests drive them by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from shouwang.core.events import Context, Event, Unsubscribe
from shouwang.core.tracking import track_point_in_time, track_state_change

from .config import Door

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

OPEN: Final = "on"
#: lock states in which opening the door is expected
RELEASED: Final = frozenset({"unlocked", "unlocking", "open", "opening"})
#: states that say nothing about the door (so a change from them is no evidence of force)
NO_INFORMATION: Final = frozenset({"unknown", "unavailable"})

Fire = Callable[[str, dict[str, Any], Context | None], None]


class DoorMonitor:
    """Follows one door's contact (and exit button) and fires held-open and forced events."""

    def __init__(
        self, hub: Hub, door: Door, fire: Fire, describe: Callable[[Door], Mapping[str, Any]]
    ) -> None:
        self._hub = hub
        self.door = door
        self._fire = fire
        self._describe = describe
        self._allowed_until = float("-inf")
        self._opened_at: float | None = None
        self._timers: list[Unsubscribe] = []
        self._removers: list[Unsubscribe] = []
        if door.contact is not None:
            self._removers.append(track_state_change(hub, door.contact, self._contact_changed))
        if door.exit_button is not None:
            self._removers.append(track_state_change(hub, door.exit_button, self._exit_pressed))

    def allow_opening(self) -> None:
        """A grant (or remote unlock): opening within ``open_window`` from now is legitimate."""
        self._allowed_until = self._hub.clock.time() + self.door.open_window.total_seconds()

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def stop(self) -> None:
        self._cancel_timers()
        while self._removers:
            self._removers.pop()()

    def _exit_pressed(self, event: Event) -> None:
        new = event.data.get("new_state")
        if new is not None and new.state == OPEN:
            self.allow_opening()

    def _contact_changed(self, event: Event) -> None:
        old, new = event.data.get("old_state"), event.data.get("new_state")
        if new is None:
            return
        was_open = old is not None and old.state == OPEN
        if new.state == OPEN and not was_open:
            self._opened(old.state if old is not None else None, event.context)
        elif new.state != OPEN and was_open:
            self._opened_at = None
            self._cancel_timers()

    def _opened(self, previous: str | None, context: Context) -> None:
        now = self._hub.clock.time()
        self._opened_at = now
        if previous is not None and previous not in NO_INFORMATION and not self._legitimate(now):
            self._fire("door_forced", self._forced_data(), context)
        self._cancel_timers()
        for level, delay in (("reminder", self.door.reminder), ("alarm", self.door.alarm)):
            self._timers.append(self._at(now, delay, level))

    def _legitimate(self, now: float) -> bool:
        if now <= self._allowed_until:
            return True
        lock = self._hub.states.get(self.door.lock) if self.door.lock else None
        return lock is not None and lock.state in RELEASED

    def _forced_data(self) -> dict[str, Any]:
        lock = self._hub.states.get(self.door.lock) if self.door.lock else None
        return {
            **self._describe(self.door),
            "entity_id": self.door.contact,  # the shape of the forced_door blueprint's event
            "lock_state": lock.state if lock is not None else None,
        }

    def _at(self, opened: float, delay: timedelta, level: str) -> Unsubscribe:
        seconds = delay.total_seconds()

        def due(_now: Any) -> None:
            if self._opened_at != opened:
                return
            data = {
                **self._describe(self.door),
                "entity_id": self.door.contact,  # as the door_held_open blueprint's event
                "level": level,
                "open_seconds": seconds,
            }
            self._fire("door_held_open", data, None)

        when = self._hub.clock.now() + delay
        return track_point_in_time(self._hub, when, due)

    def _cancel_timers(self) -> None:
        while self._timers:
            self._timers.pop()()
