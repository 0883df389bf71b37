"""Pedestrian gates (turnstiles): passages counted per direction, linked to grants, and
tailgating found.

Place in the whole: a door with a ``turnstile:`` section gets a :class:`Turnstile` from the
runtime (:mod:`.runtime`) and two sensors, ``sensor.<door>_passages_in`` and ``..._out``
(``total_increasing`` since the hub started). Passages arrive through the ``access.passage``
service or from passage binary sensors (each ``off`` -> ``on`` is one person through). Every
grant at the door opens one credit for its direction, valid for ``window`` (10 s); a passage
uses a credit and fires ``access_passage`` with the person of that grant. A passage with no
credit left means more passages than grants within the window: a ``tailgating`` event, with the
linked camera's snapshot URL when the door has a camera.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from shouwang.core.events import Context, Event, Unsubscribe
from shouwang.core.platforms import SensorEntity, SensorStateClass
from shouwang.core.tracking import track_state_change

from .config import Door
from .config import Turnstile as TurnstileConfig
from .decision import Decision

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

DIRECTIONS: Final = ("in", "out")

Fire = Callable[[str, dict[str, Any], Context | None], None]


class PassageCounter(SensorEntity):
    """People through one turnstile in one direction since the hub started."""

    def __init__(self, door: Door, direction: str) -> None:
        super().__init__(
            f"{door.name} passages {direction}",
            unique_id=f"{door.door_id}_passages_{direction}",
            entity_id=f"sensor.{door.door_id.lower().replace('-', '_')}_passages_{direction}",
            place_id=door.place,
            state_class=SensorStateClass.TOTAL_INCREASING,
            unit_of_measurement="people",
            attributes={"door": door.door_id, "direction": direction},
        )
        self.native_value = 0

    def add(self, count: int, context: Context | None) -> None:
        assert isinstance(self.native_value, int)
        self.native_value += count
        self.write_state(context)


@dataclass(slots=True)
class _Credit:
    expires: float
    person: str | None
    household: str | None


class Turnstile:
    """Links grants to passages at one door and reports tailgating."""

    def __init__(
        self,
        hub: Hub,
        door: Door,
        settings: TurnstileConfig,
        fire: Fire,
        describe: Callable[[Door], Mapping[str, Any]],
    ) -> None:
        self._hub = hub
        self.door = door
        self._window = settings.window.total_seconds()
        self._fire = fire
        self._describe = describe
        self.counters = {direction: PassageCounter(door, direction) for direction in DIRECTIONS}
        self._credits: dict[str, deque[_Credit]] = {d: deque() for d in DIRECTIONS}
        self._grants: dict[str, deque[float]] = {d: deque() for d in DIRECTIONS}
        self._passages: dict[str, deque[float]] = {d: deque() for d in DIRECTIONS}
        self._removers: list[Unsubscribe] = []
        for direction, entity_id in (("in", settings.passage_in), ("out", settings.passage_out)):
            if entity_id is not None:
                self._removers.append(
                    track_state_change(hub, entity_id, self._sensor_listener(direction))
                )

    def stop(self) -> None:
        while self._removers:
            self._removers.pop()()

    def _sensor_listener(self, direction: str) -> Callable[[Event], None]:
        def changed(event: Event) -> None:
            old, new = event.data.get("old_state"), event.data.get("new_state")
            if new is not None and new.state == "on" and (old is None or old.state == "off"):
                self.passage(direction, 1, event.context)

        return changed

    def granted(self, decision: Decision) -> None:
        """A grant at this door: one person may pass in its direction within the window."""
        direction = decision.direction or "in"
        now = self._hub.clock.time()
        self._credits[direction].append(
            _Credit(now + self._window, decision.person, decision.household)
        )
        self._grants[direction].append(now)

    def passage(self, direction: str, count: int, context: Context | None) -> None:
        """``count`` people went through in ``direction``."""
        now = self._hub.clock.time()
        credits = self._credits[direction]
        while credits and credits[0].expires < now:
            credits.popleft()
        self.counters[direction].add(count, context)
        for _ in range(count):
            self._passages[direction].append(now)
            if credits:
                credit = credits.popleft()
                data = {
                    **self._describe(self.door),
                    "direction": direction,
                    "person": credit.person,
                    "household": credit.household,
                }
                self._fire("access_passage", data, context)
                continue
            self._tailgating(direction, now, context)

    def _tailgating(self, direction: str, now: float, context: Context | None) -> None:
        since = now - self._window
        for times in (self._grants[direction], self._passages[direction]):
            while times and times[0] < since:
                times.popleft()
        camera = self.door.camera
        camera_state = self._hub.states.get(camera) if camera else None
        data = {
            **self._describe(self.door),
            "direction": direction,
            "passages": len(self._passages[direction]),
            "grants": len(self._grants[direction]),
            "window_seconds": self._window,
            "snapshot_url": (
                camera_state.attributes.get("snapshot_url") if camera_state is not None else None
            ),
        }
        self._fire("tailgating", data, context)
