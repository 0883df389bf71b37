"""The call manager: every intercom call of the community, from ring to hang-up.

It owns the stations (entities + device links), the active calls and their timers on the hub
clock (``ring_timeout`` -> missed, ``call_timeout`` -> cut), writes each station's state, fires
``intercom_call`` events (phases ``ringing``, ``answered``, ``ended``, ``missed``) and
``intercom_unlock`` events, keeps the call log, and checks door openings against
:mod:`.rights`. Services (:mod:`.services`) and the device links call into it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from shouwang.core.events import Context, ulid_at
from shouwang.core.services import ServiceError, ServiceValidationError
from shouwang.core.tracking import Deadlines

from .calls import (
    END_DECLINED,
    END_FAILED,
    END_HANGUP,
    END_NO_ANSWER,
    END_TIMEOUT,
    PHASE_ANSWERED,
    PHASE_ENDED,
    PHASE_MISSED,
    PHASE_RINGING,
    Call,
)
from .log import CallLog, CallRecord
from .rights import (
    HUB,
    Actor,
    ActorResolver,
    station_actor,
    unlock_denial,
)
from .station import KIND_DOOR, KIND_INDOOR, IntercomStation, LinkError, StationLink

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

EVENT_INTERCOM_CALL: Final = "intercom_call"
EVENT_INTERCOM_UNLOCK: Final = "intercom_unlock"
EVENT_INTERCOM_CREDENTIAL: Final = "intercom_credential"
EVENT_INTERCOM_DOOR: Final = "intercom_door"
#: calls kept in memory after they end (the log has all of them)
RECENT_KEPT: Final = 200
#: ring and talk timeouts may end a call up to this much late (seconds), so a storm of calls
#: times out in a few batches a second rather than one timer run per call
TIMEOUT_RESOLUTION: Final = 0.25


class UnlockDenied(ServiceError):
    """The acting user or station may not open that door; the message says why."""


class CallManager:
    def __init__(
        self,
        hub: Hub,
        *,
        ring_timeout: timedelta,
        call_timeout: timedelta,
        log: CallLog | None,
    ) -> None:
        self._hub = hub
        self.ring_timeout = ring_timeout
        self.call_timeout = call_timeout
        self.log = log
        self.stations: dict[str, IntercomStation] = {}
        self.links: dict[str, StationLink] = {}
        self.calls: dict[str, Call] = {}  # active calls by id
        # per station, its active calls by phase (in order): the guard room may have thousands
        # ringing in a storm, and every state write asks for the station's current call
        self._ringing: dict[str, dict[str, Call]] = {}
        self._answered: dict[str, dict[str, Call]] = {}
        self.recent: list[Call] = []  # ended calls, newest last
        # each active call's ring or talk timeout, all on one timer
        self._deadlines: Deadlines[str] = Deadlines(
            hub, self._deadline_passed, resolution=TIMEOUT_RESOLUTION
        )
        self._pending: set[asyncio.Task[Any]] = set()
        self.resolve_user: ActorResolver | None = None
        #: whether a household id exists in the registry (for a clearer error), if loaded
        self.known_household: Callable[[str], bool] | None = None

    # -- stations --------------------------------------------------------------------------
    def add_station(self, station: IntercomStation, link: StationLink) -> None:
        self.stations[station.config.entity_id] = station
        self.links[station.config.entity_id] = link

    def station(self, name: str) -> IntercomStation | None:
        """A station by entity id (``intercom.guard_room``) or by its id (``guard_room``)."""
        found = self.stations.get(name)
        if found is None and "." not in name:
            found = self.stations.get(f"intercom.{name}")
        return found

    def current_call(self, entity_id: str) -> Call | None:
        """The call a station shows: its latest answered call, else the oldest one ringing."""
        answered = self._answered.get(entity_id)
        if answered:
            return next(reversed(answered.values()))
        ringing = self._ringing.get(entity_id)
        return next(iter(ringing.values())) if ringing else None

    def calls_at(self, entity_id: str, *phases: str) -> list[Call]:
        """The station's active calls (answered first), of ``phases`` if given."""
        found: list[Call] = []
        if not phases or PHASE_ANSWERED in phases:
            found.extend(self._answered.get(entity_id, {}).values())
        if not phases or PHASE_RINGING in phases:
            found.extend(self._ringing.get(entity_id, {}).values())
        return found

    def _track(self, call: Call, before: Iterable[str | None]) -> None:
        """Re-file ``call`` under the stations in it now (it was under ``before``)."""
        now = set(call.participants()) if call.active else set()
        for entity_id in set(before) - now:
            if entity_id is not None:
                self._ringing.get(entity_id, {}).pop(call.call_id, None)
                self._answered.get(entity_id, {}).pop(call.call_id, None)
        into, out = (
            (self._answered, self._ringing)
            if call.phase == PHASE_ANSWERED
            else (self._ringing, self._answered)
        )
        for entity_id in now:
            out.get(entity_id, {}).pop(call.call_id, None)
            into.setdefault(entity_id, {})[call.call_id] = call

    def _refresh(self, entity_ids: Iterable[str | None], context: Context | None) -> None:
        for entity_id in set(entity_ids):
            station = self.stations.get(entity_id or "")
            if station is not None:
                station.refresh(context)

    # -- placing a call --------------------------------------------------------------------
    def resolve_target(self, target: str) -> tuple[list[IntercomStation], str | None]:
        """The stations that ring for ``target`` and the household it means: a station (by
        entity id or id), or a household id (its indoor stations)."""
        station = self.station(target)
        if station is not None:
            return [station], station.config.household
        panels = [
            s
            for s in self.stations.values()
            if s.config.household == target and s.config.kind == KIND_INDOOR
        ]
        if panels:
            return panels, target
        if self.known_household is not None and self.known_household(target):
            raise ServiceValidationError(
                f"target: household {target} has no indoor station (add one under intercom: "
                "stations: with kind: indoor and this household)"
            )
        raise ServiceValidationError(
            f"target: no intercom station or household with an indoor station named {target!r}"
        )

    async def call(
        self,
        target: str,
        *,
        caller: str | None = None,
        message: str | None = None,
        snapshot_url: str | None = None,
        reason: str | None = None,
        context: Context | None = None,
        placed: Callable[[Call], Awaitable[None]] | None = None,
    ) -> Call:
        """Ring ``target``'s stations; ``caller`` is the calling station (None: the hub).
        ``placed`` is awaited once the call exists, before anything rings (the calling
        device's acknowledgement goes out first)."""
        context = context or Context()
        if caller is not None and caller not in self.stations:
            raise ServiceValidationError(f"{caller} is not a configured intercom station")
        callees, household = self.resolve_target(target)
        stations = [s.config.entity_id for s in callees if s.config.entity_id != caller]
        if not stations:
            raise ServiceValidationError(f"target: {caller} cannot call itself")
        now = self._hub.clock.now()
        call = Call(
            call_id=ulid_at(self._hub.clock.time()),
            caller=caller,
            target=target,
            household=household,
            stations=stations,
            started=now,
            context=context,
            message=message,
            snapshot_url=snapshot_url,
            reason=reason,
        )
        self.calls[call.call_id] = call
        self._track(call, ())
        self._deadlines.set(call.call_id, now + self.ring_timeout)
        self._refresh(call.participants(), context)
        self._fire(call)
        self._save(call)
        if placed is not None:
            await placed(call)
        results = await asyncio.gather(
            *(self.links[s].ring(call) for s in stations), return_exceptions=True
        )
        failed = [
            f"{entity_id}: {error}"
            for entity_id, error in zip(stations, results, strict=True)
            if isinstance(error, Exception)
        ]
        for problem in failed:
            _LOGGER.error("Intercom call %s: cannot ring %s", call.call_id, problem)
        if len(failed) == len(stations):
            await self._end(call, PHASE_ENDED, END_FAILED, context, tell=False)
            raise ServiceError(f"intercom.call to {target}: no station could be rung: {failed}")
        return call

    # -- answering, declining, hanging up --------------------------------------------------
    def _find_call(self, entity_id: str | None, call_id: str | None, *phases: str) -> Call:
        if call_id is not None:
            call = self.calls.get(call_id)
            if call is None:
                raise ServiceValidationError(f"call_id: no active call {call_id!r}")
            if entity_id is not None and not call.involves(entity_id):
                raise ServiceValidationError(f"{entity_id} is not in call {call_id}")
            if phases and call.phase not in phases:
                raise ServiceValidationError(f"call {call_id} is {call.phase}")
            return call
        if entity_id is None:
            raise ServiceValidationError("give a station (entity_id) or a call_id")
        for call in self.calls_at(entity_id, *phases):
            return call
        wanted = " or ".join(phases) if phases else "active"
        raise ServiceValidationError(f"{entity_id} has no {wanted} call")

    async def answer(
        self,
        entity_id: str | None,
        *,
        call_id: str | None = None,
        context: Context | None = None,
        origin: str | None = None,
    ) -> Call:
        """``entity_id`` (a station rung by the call) picks up."""
        context = context or Context()
        call = self._find_call(entity_id, call_id, PHASE_RINGING)
        answering = entity_id
        if answering is None or answering == call.caller:
            if len(call.stations) != 1:
                raise ServiceValidationError(
                    f"call {call.call_id} rings {len(call.stations)} stations: name the one "
                    "that answers"
                )
            answering = call.stations[0]
        self._cancel_timer(call.call_id)
        before = call.participants()
        others = [s for s in call.stations if s != answering]
        if answering in self.stations:
            self.stations[answering].missed_calls = 0
        call.phase = PHASE_ANSWERED
        call.answered_by = answering
        call.answered_at = self._hub.clock.now()
        self._track(call, before)
        self._deadlines.set(call.call_id, call.answered_at + self.call_timeout)
        self._refresh([call.caller, *call.stations], context)
        self._fire(call)
        self._save(call)
        await self._tell([s for s in (call.caller, answering) if s and s != origin], "answer", call)
        await self._tell(others, "hangup", call)
        return call

    async def answered_elsewhere(self, call_id: str, *, origin: str | None = None) -> Call:
        """The calling device reports its call answered by a station the hub does not know
        (a vendor indoor station talking to it directly): the hub's stations stop ringing,
        the call counts as answered (``answered_by`` None) and the call timeout applies."""
        call = self._find_call(None, call_id, PHASE_RINGING)
        self._cancel_timer(call.call_id)
        before = call.participants()
        call.phase = PHASE_ANSWERED
        call.answered_at = self._hub.clock.now()
        self._track(call, before)
        self._deadlines.set(call.call_id, call.answered_at + self.call_timeout)
        context = call.context.child()
        self._refresh(before, context)
        self._fire(call)
        self._save(call)
        await self._tell([s for s in call.stations if s != origin], "hangup", call)
        return call

    async def decline(
        self,
        entity_id: str | None,
        *,
        call_id: str | None = None,
        context: Context | None = None,
        origin: str | None = None,
    ) -> Call:
        """A rung station declines; the call ends (declined) when no station is left."""
        context = context or Context()
        call = self._find_call(entity_id, call_id, PHASE_RINGING)
        if entity_id is None or entity_id == call.caller:
            declined = list(call.stations)
        else:
            declined = [entity_id]
        before = call.participants()
        call.stations = [s for s in call.stations if s not in declined]
        call.declined_by.extend(declined)
        self._track(call, before)
        if call.stations:
            self._refresh(declined, context)
        else:
            call.end_reason = END_DECLINED  # what the declined stations are told
        await self._tell([s for s in declined if s != origin], "hangup", call)
        if not call.stations:
            await self._end(call, PHASE_ENDED, END_DECLINED, context, origin=origin)
        return call

    async def hangup(
        self,
        entity_id: str | None,
        *,
        call_id: str | None = None,
        context: Context | None = None,
        origin: str | None = None,
    ) -> Call:
        """End the call (any participant, or the console by call id)."""
        call = self._find_call(entity_id, call_id)
        await self._end(call, PHASE_ENDED, END_HANGUP, context or Context(), origin=origin)
        return call

    def _deadline_passed(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None:
            return
        if call.phase == PHASE_RINGING:  # nobody answered in ring_timeout
            self._spawn(self._end(call, PHASE_MISSED, END_NO_ANSWER, call.context.child()))
        elif call.phase == PHASE_ANSWERED:  # talked for call_timeout
            self._spawn(self._end(call, PHASE_ENDED, END_TIMEOUT, call.context.child()))

    async def _end(
        self,
        call: Call,
        phase: str,
        end_reason: str,
        context: Context,
        *,
        origin: str | None = None,
        tell: bool = True,
    ) -> None:
        in_call = call.participants()
        if phase == PHASE_MISSED:
            for entity_id in call.stations:
                if entity_id in self.stations:
                    self.stations[entity_id].missed_calls += 1
        self._cancel_timer(call.call_id)
        call.phase = phase
        call.end_reason = end_reason
        call.ended_at = self._hub.clock.now()
        self.calls.pop(call.call_id, None)
        self._track(call, in_call)
        self.recent.append(call)
        del self.recent[:-RECENT_KEPT]
        self._refresh([*in_call, *call.declined_by], context)
        self._fire(call)
        self._save(call)
        if tell:
            await self._tell([s for s in in_call if s != origin], "hangup", call)

    # -- opening the door ------------------------------------------------------------------
    def actor_for(self, entity_id: str | None, context: Context) -> Actor:
        """Who acts (see :mod:`.rights`): the context's user, else the indoor/guard station
        pressed, else the hub."""
        if context.user_id is not None:
            resolved = self.resolve_user(context.user_id) if self.resolve_user else None
            if resolved is None:
                return Actor("nobody", f"user:{context.user_id}", why_nobody="unknown user")
            return resolved
        station = self.stations.get(entity_id or "")
        if station is not None and station.config.kind != KIND_DOOR:
            return station_actor(station.config)
        return HUB

    async def unlock(
        self,
        entity_id: str | None,
        *,
        door: int | None = None,
        call_id: str | None = None,
        context: Context | None = None,
    ) -> Call | None:
        """Open a door station's door: the station itself (a door station), or the door
        station calling the targeted indoor/guard station (or call ``call_id``)."""
        context = context or Context()
        actor = self.actor_for(entity_id, context)
        station = self.stations.get(entity_id or "")
        call: Call | None = None
        if station is not None and station.config.kind == KIND_DOOR:
            door_station = station
            if call_id is not None:
                call = self._find_call(entity_id, call_id)
            else:
                call = self.current_call(station.config.entity_id)
        else:
            call = self._find_call(entity_id, call_id)
            door_station = self.stations.get(call.caller or "")  # type: ignore[assignment]
            if door_station is None or door_station.config.kind != KIND_DOOR:
                raise ServiceValidationError(
                    f"call {call.call_id} has no door station to open (caller: "
                    f"{call.caller or 'the hub'})"
                )
        door_id = door_station.config.entity_id
        calling = [
            c.household for c in self.calls_at(door_id) if c.caller == door_id and c.household
        ]
        denial = unlock_denial(actor, door_station.config, calling)
        event = {
            "station": door_id,
            "door": door,
            "call_id": call.call_id if call else None,
            "actor": actor.label,
        }
        if denial is not None:
            self._hub.bus.fire(
                EVENT_INTERCOM_UNLOCK, {**event, "granted": False, "reason": denial}, context
            )
            _LOGGER.warning("Intercom unlock denied: %s", denial)
            raise UnlockDenied(f"unlock denied: {denial}")
        await self._open(door_station, door, call, context)
        if call is not None:
            call.unlocked_by.append(actor.label)
            self._save(call)
        self._hub.bus.fire(
            EVENT_INTERCOM_UNLOCK, {**event, "granted": True, "reason": None}, context
        )
        return call

    async def _open(
        self, station: IntercomStation, door: int | None, call: Call | None, context: Context
    ) -> None:
        lock = station.config.door_lock
        if lock is not None:
            await self._hub.services.call(
                "lock", "unlock", target={"entity_id": lock}, context=context, blocking=True
            )
            return
        try:
            await self.links[station.config.entity_id].unlock(door, call)
        except LinkError as err:
            raise ServiceError(f"{station.config.entity_id}: cannot open the door: {err}") from err

    # -- what the device links report ------------------------------------------------------
    def station_available(self, entity_id: str, available: bool) -> None:
        station = self.stations.get(entity_id)
        if station is not None:
            station.set_available(available)

    def station_door(self, entity_id: str, state: str, door: int | None = None) -> None:
        station = self.stations.get(entity_id)
        if station is None:
            return
        station.door_state = state
        station.refresh()
        self._hub.bus.fire(
            EVENT_INTERCOM_DOOR,
            {"station": entity_id, "place": station.config.place, "door": door, "state": state},
        )

    def station_credential(self, entity_id: str, kind: str, value: str) -> None:
        """A card was read or a code typed at a station: fired as ``intercom_credential``
        for access control to decide on (never logged)."""
        station = self.stations.get(entity_id)
        place = station.config.place if station is not None else None
        self._hub.bus.fire(
            EVENT_INTERCOM_CREDENTIAL,
            {"station": entity_id, "place": place, "credential_type": kind, "credential": value},
        )

    def malformed(self, entity_id: str, where: str, problem: str) -> None:
        """Count and log a message from a station that could not be understood."""
        station = self.stations.get(entity_id)
        if station is not None:
            station.malformed_messages += 1
            station.refresh()
        _LOGGER.warning("Intercom %s: malformed message on %s: %s", entity_id, where, problem)

    # -- the log ---------------------------------------------------------------------------
    async def call_log(
        self,
        *,
        limit: int = 50,
        station: str | None = None,
        household: str | None = None,
        phase: str | None = None,
    ) -> list[dict[str, Any]]:
        """Newest first: the persisted log, or the calls kept in memory when the hub has no
        storage (no config directory)."""
        if self.log is not None:
            await self.drain()
            records: list[CallRecord] = await self.log.recent(
                limit=limit, station=station, household=household, phase=phase
            )
            return [record.as_dict() for record in records]
        found = []
        for call in reversed([*self.recent, *self.calls.values()]):
            if household is not None and call.household != household:
                continue
            if phase is not None and call.phase != phase:
                continue
            if station is not None and not (
                station in (call.caller, call.answered_by) or station in call.stations
            ):
                continue
            found.append(call.event_data() | {"started": call.started.isoformat()})
        return found[:limit]

    async def drain(self) -> None:
        """Wait for the call-ending work, link commands and log writes started so far."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
        if self.log is not None:
            await self.log.flush()

    async def stop(self) -> None:
        self._deadlines.clear()
        await self.drain()
        for link in self.links.values():
            await link.stop()

    # -- helpers ---------------------------------------------------------------------------
    def _fire(self, call: Call) -> None:
        self._hub.bus.fire(EVENT_INTERCOM_CALL, call.event_data(), call.context)

    def _save(self, call: Call) -> None:
        if self.log is not None:
            self.log.save(call)

    def _spawn(self, coro: Any) -> None:
        task = self._hub.create_task(coro, "intercom")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _cancel_timer(self, call_id: str) -> None:
        self._deadlines.cancel(call_id)

    async def _tell(self, entity_ids: Iterable[str], command: str, call: Call) -> None:
        """Send ``command`` to the stations' devices; a failure is logged, not raised (the
        call's state in the hub is already right, and a device back online resyncs)."""
        targets = [e for e in dict.fromkeys(entity_ids) if e in self.links]
        results = await asyncio.gather(
            *(getattr(self.links[e], command)(call) for e in targets), return_exceptions=True
        )
        for entity_id, result in zip(targets, results, strict=True):
            if isinstance(result, Exception):
                _LOGGER.error(
                    "Intercom call %s: cannot send %s to %s: %s",
                    call.call_id,
                    command,
                    entity_id,
                    result,
                )
