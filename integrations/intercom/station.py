"""A configured intercom station: its settings, the link to its device, and its entity.

Every station (door station at a gate or unit entrance, a household's indoor panel, the guard
room's master station) is an ``intercom.<id>`` entity whose state the call manager writes. How
the hub reaches the device is a :class:`StationLink`: the generic MQTT protocol
(:mod:`.mqtt_link`), Hikvision ISAPI over HTTP (:mod:`.hikvision_link`), or ``console`` — a
station that is the staff console itself (the guard room answering on screen), with no device
to tell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final, Protocol

from shouwang.core.events import Context
from shouwang.core.platforms import IntercomEntity

from .calls import Call

if TYPE_CHECKING:
    from .manager import CallManager

KIND_DOOR: Final = "door"
KIND_INDOOR: Final = "indoor"
KIND_GUARD: Final = "guard"
KINDS: Final = (KIND_DOOR, KIND_INDOOR, KIND_GUARD)

PROTOCOL_MQTT: Final = "mqtt"
PROTOCOL_HIKVISION: Final = "hikvision"
PROTOCOL_CONSOLE: Final = "console"
PROTOCOLS: Final = (PROTOCOL_MQTT, PROTOCOL_HIKVISION, PROTOCOL_CONSOLE)


@dataclass(frozen=True, slots=True)
class StationConfig:
    """One entry of ``intercom: {stations: {<id>: …}}`` after validation."""

    station_id: str
    name: str
    kind: str
    protocol: str
    place: str | None = None
    household: str | None = None
    #: households or unit places (``B01-U1``) whose residents may open this door station
    #: without a call; defaults to the station's place
    serves: tuple[str, ...] = ()
    door_lock: str | None = None
    topic: str | None = None
    url: str | None = None
    username: str | None = None
    password: str | None = None
    #: what a Hikvision station's ring calls (household or station); default the guard room
    call_target: str | None = None
    poll_interval: timedelta | None = None

    @property
    def entity_id(self) -> str:
        return f"intercom.{self.station_id}"

    @classmethod
    def from_config(cls, station_id: str, block: Mapping[str, Any]) -> StationConfig:
        serves = tuple(block.get("serves") or ())
        if not serves and block.get("place") and block["kind"] == KIND_DOOR:
            serves = (block["place"],)
        return cls(
            station_id=station_id,
            name=block.get("name") or station_id,
            kind=block["kind"],
            protocol=block["protocol"],
            place=block.get("place"),
            household=block.get("household"),
            serves=serves,
            door_lock=block.get("door_lock"),
            topic=block.get("topic"),
            url=block.get("url"),
            username=block.get("username"),
            password=block.get("password"),
            call_target=block.get("call_target"),
            poll_interval=block.get("poll_interval"),
        )


class StationLink(Protocol):
    """How the hub tells a station's device what happened to a call. Raise
    :class:`LinkError` with a message that says what failed."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def ring(self, call: Call) -> None:
        """Ring this (indoor or guard) station for ``call``."""

    async def answer(self, call: Call) -> None:
        """``call`` was answered: open the audio on this station."""

    async def hangup(self, call: Call) -> None:
        """``call`` is over for this station (ended, missed, declined or answered elsewhere)."""

    async def unlock(self, door: int | None, call: Call | None) -> None:
        """Open this (door) station's door."""


class LinkError(Exception):
    """A station's device could not be reached or refused a command; the message says which
    station, what was asked and what failed."""


class ConsoleLink:
    """A station that is the staff console itself: calls live in the hub's state and events,
    which the console shows; there is no device to tell, and no door of its own to open."""

    def __init__(self, config: StationConfig) -> None:
        self._config = config

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def ring(self, call: Call) -> None:
        return None

    async def answer(self, call: Call) -> None:
        return None

    async def hangup(self, call: Call) -> None:
        return None

    async def unlock(self, door: int | None, call: Call | None) -> None:
        if self._config.door_lock is None:
            raise LinkError(
                f"{self._config.entity_id} is a console station with no door_lock to open"
            )


class IntercomStation(IntercomEntity):
    """The entity of one configured station. Its state is the call manager's view: ``ringing``
    while a call to or from it rings, ``in_call`` once answered, ``idle`` otherwise."""

    def __init__(self, config: StationConfig, manager: CallManager) -> None:
        super().__init__(
            config.name,
            unique_id=f"intercom_{config.station_id}",
            place_id=config.place,
            entity_id=config.entity_id,
        )
        self.config = config
        self._manager = manager
        self.door_state: str | None = None
        self.malformed_messages = 0
        #: calls that rang here unanswered since this station last answered one
        self.missed_calls = 0

    def state_attributes(self) -> dict[str, Any]:
        attributes = super().state_attributes()
        attributes.update(
            kind=self.config.kind,
            household=self.config.household,
            protocol=self.config.protocol,
            door=self.door_state,
            missed_calls=self.missed_calls,
            malformed_messages=self.malformed_messages,
        )
        return attributes

    def refresh(self, context: Context | None = None) -> None:
        """Recompute state, caller and call id from the manager's active calls and write."""
        if self.hub is None:
            return
        current = self._manager.current_call(self.config.entity_id)
        if current is None:
            self.intercom_state, self.caller, self.call_id = "idle", None, None
        else:
            self.intercom_state = "in_call" if current.phase == "answered" else "ringing"
            self.call_id = current.call_id
            if current.caller == self.config.entity_id:
                self.caller = current.answered_by or current.target
            else:
                self.caller = current.caller or "hub"
        self.write_state(context)

    # The platform methods, for code that drives the entity directly; the intercom services
    # go through the manager with the acting user (see services.py).
    async def call(self, *, target: str, context: Context | None = None) -> None:
        await self._manager.call(target, caller=self.config.entity_id, context=context)

    async def answer(self, *, context: Context | None = None) -> None:
        await self._manager.answer(self.config.entity_id, context=context)

    async def hangup(self, *, context: Context | None = None) -> None:
        await self._manager.hangup(self.config.entity_id, context=context)

    async def unlock(self, *, door: int | None = None, context: Context | None = None) -> None:
        await self._manager.unlock(self.config.entity_id, door=door, context=context)
