"""A Hikvision door station as an intercom station link (ISAPI over HTTP, digest auth).

* **Calls**: the station's call state is polled (``callStatus``, every ``poll_interval`` on the
  hub clock). ``ring`` while the hub has no call from the station places one to the station's
  ``call_target`` (default: the first guard station); ``onCall`` while it still rings in the
  hub means a station outside the hub answered (the hub's stations stop ringing, nothing is
  missed); ``idle`` while the hub still has it means the visitor hung up. When the call is
  answered or ended in the hub, the station gets ``callSignal`` ``answer`` / ``hangUp``
  (``reject`` if it was never answered).
* **Door**: ``RemoteControl/door/<n>`` ``open``.
* **Events**: the ``alertStream`` is read continuously; ``AccessControllerEvent`` major type 5
  (events) with minor 0x19/0x1a (door opened/closed normally) and any with a ``cardNo`` become
  ``intercom_door`` / ``intercom_credential``; other alert types (heartbeats, video loss) are
  ignored; an unreadable part is counted as malformed. A stream that ends or breaks is
  reopened after a backoff (1 s doubling to 60 s) on the hub clock.

A refused login (HTTP 401) is reported once with the station and marks it unavailable.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

import aiohttp

from shouwang.core.services import ServiceError
from shouwang.core.tracking import track_point_in_time, track_time_interval

from .calls import Call
from .hikvision import Alert, AlertParseError, IsapiAuthError, IsapiClient, IsapiError, open_session
from .station import KIND_GUARD, LinkError, StationConfig

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

    from .manager import CallManager

_LOGGER = logging.getLogger(__name__)

MAJOR_EVENT: Final = 5
#: AccessControllerEvent minor types (Hikvision's MINOR_* codes) the intercom uses
MINOR_DOOR_OPEN_NORMAL: Final = 0x19
MINOR_DOOR_CLOSE_NORMAL: Final = 0x1A
RECONNECT_MIN: Final = 1.0
RECONNECT_MAX: Final = 60.0
DEFAULT_POLL: Final = timedelta(seconds=2)


class HikvisionLink:
    def __init__(self, hub: Hub, manager: CallManager, config: StationConfig) -> None:
        self._hub = hub
        self._manager = manager
        self._config = config
        self._session: aiohttp.ClientSession | None = None
        self.client: IsapiClient | None = None
        self.last_status: str | None = None
        self.last_error: str | None = None
        self.stream_connects = 0
        self._backoff = RECONNECT_MIN
        self._stop_poll: Any = None
        self._stop_retry: Any = None
        self._stream_task: asyncio.Task[None] | None = None
        self._polling: asyncio.Task[None] | None = None
        self._stopped = False

    @property
    def entity_id(self) -> str:
        return self._config.entity_id

    # -- life ----------------------------------------------------------------------------
    async def start(self) -> None:
        assert self._config.url and self._config.username and self._config.password
        self._session = open_session(self._config.username, self._config.password)
        self.client = IsapiClient(self._session, self._config.url)
        await self.poll()
        self._stop_poll = track_time_interval(
            self._hub, self._config.poll_interval or DEFAULT_POLL, self._poll_tick
        )
        self._open_stream()

    async def stop(self) -> None:
        self._stopped = True
        for cancel in (self._stop_poll, self._stop_retry):
            if cancel is not None:
                cancel()
        for task in (self._stream_task, self._polling):
            if task is not None and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    # -- call state by polling -----------------------------------------------------------
    def _poll_tick(self, _now: Any) -> None:
        if self._polling is None or self._polling.done():
            self._polling = self._hub.create_task(self.poll(), f"hikvision poll {self.entity_id}")

    def _failed(self, error: IsapiError) -> None:
        # once per kind of problem (a refused login is one problem on every endpoint), not
        # at every poll
        key = "login refused" if isinstance(error, IsapiAuthError) else str(error)
        if key != self.last_error:
            _LOGGER.error("Intercom %s: %s", self.entity_id, error)
        self.last_error = key
        self._manager.station_available(self.entity_id, False)

    async def poll(self) -> None:
        """Read the call status once and bring the hub's call in line with it."""
        assert self.client is not None
        try:
            status = await self.client.call_status()
        except IsapiError as err:
            self._failed(err)
            return
        if self.last_error is not None:
            _LOGGER.info("Intercom %s: reachable again", self.entity_id)
        self.last_error = None
        self._manager.station_available(self.entity_id, True)
        previous, self.last_status = self.last_status, status
        mine = self._my_call()
        try:
            if status == "ring" and mine is None:
                await self._manager.call(self._call_target(), caller=self.entity_id)
            elif status == "onCall" and mine is not None and mine.phase == "ringing":
                # answered on a device outside the hub (a Hikvision indoor station)
                await self._manager.answered_elsewhere(mine.call_id, origin=self.entity_id)
            elif status == "idle" and mine is not None and previous in ("ring", "onCall"):
                await self._manager.hangup(
                    self.entity_id, call_id=mine.call_id, origin=self.entity_id
                )
        except ServiceError as err:
            _LOGGER.error("Intercom %s: call status %s: %s", self.entity_id, status, err)

    def _my_call(self) -> Call | None:
        for call in self._manager.calls_at(self.entity_id):
            if call.caller == self.entity_id:
                return call
        return None

    def _call_target(self) -> str:
        if self._config.call_target:
            return self._config.call_target
        for station in self._manager.stations.values():
            if station.config.kind == KIND_GUARD:
                return station.config.entity_id
        raise ServiceError(f"{self.entity_id} rang but has no call_target and there is no guard")

    # -- hub -> station ------------------------------------------------------------------
    async def _do(self, what: str, action: Any) -> None:
        try:
            await action
        except IsapiError as err:
            raise LinkError(f"{self.entity_id}: {what}: {err}") from err

    async def ring(self, call: Call) -> None:
        raise LinkError(f"{self.entity_id} is a Hikvision door station: the hub cannot ring it")

    async def answer(self, call: Call) -> None:
        if call.caller == self.entity_id and self.client is not None:
            await self._do("answer", self.client.call_signal("answer"))

    async def hangup(self, call: Call) -> None:
        if call.caller == self.entity_id and self.client is not None:
            command = "hangUp" if call.answered_at is not None else "reject"
            await self._do(command, self.client.call_signal(command))

    async def unlock(self, door: int | None, call: Call | None) -> None:
        if self.client is None:
            raise LinkError(f"{self.entity_id}: not connected")
        await self._do("open door", self.client.open_door(door or 1))

    # -- the event stream ----------------------------------------------------------------
    def _open_stream(self) -> None:
        self._stop_retry = None
        if not self._stopped:
            self._stream_task = self._hub.create_task(
                self._read_stream(), f"hikvision alertStream {self.entity_id}"
            )

    async def _read_stream(self) -> None:
        assert self.client is not None
        self.stream_connects += 1
        try:
            async for alert in self.client.alert_stream():
                self._backoff = RECONNECT_MIN  # the stream works
                if isinstance(alert, AlertParseError):
                    self._manager.malformed(self.entity_id, "alertStream", str(alert))
                else:
                    self.handle_alert(alert)
            _LOGGER.warning("Intercom %s: alertStream closed by the device", self.entity_id)
        except IsapiAuthError as err:
            self._failed(err)
        except IsapiError as err:
            _LOGGER.warning("Intercom %s: alertStream: %s", self.entity_id, err)
        if not self._stopped:
            delay, self._backoff = self._backoff, min(self._backoff * 2, RECONNECT_MAX)
            self._stop_retry = track_point_in_time(
                self._hub,
                self._hub.clock.now() + timedelta(seconds=delay),
                lambda _now: self._open_stream(),
            )

    def handle_alert(self, alert: Alert) -> None:
        if alert.event_type.lower() != "accesscontrollerevent" or alert.major != MAJOR_EVENT:
            return
        if alert.minor in (MINOR_DOOR_OPEN_NORMAL, MINOR_DOOR_CLOSE_NORMAL):
            state = "open" if alert.minor == MINOR_DOOR_OPEN_NORMAL else "closed"
            self._manager.station_door(self.entity_id, state, alert.door)
        elif alert.card_no:  # any card event (valid or not): access control decides
            self._manager.station_credential(self.entity_id, "card", alert.card_no)
