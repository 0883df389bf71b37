"""The access integration's runtime: attempts in, decisions out as events and lock pulses.

Place in the whole: ``setup`` (:mod:`.` package) builds one :class:`AccessControl` and returns
it, so other integrations (intercom, demo, visitor passes) reach it with
``hub.integrations.runtime("access")``. Readers, terminals and simulators report attempts
through :meth:`AccessControl.present` (the ``access.present_credential`` service); faces also
arrive as ``person_sighted`` events from cameras linked to a door. Each attempt is decided by
:class:`~.decision.Decider` and becomes ``access_granted`` or ``access_denied``; a grant pulses
the door's lock (``lock.unlock``/``lock.open`` or ``gate.open``, relocked after
``unlock_pulse``) and tells the door monitor and the turnstile.

A duress PIN is granted exactly like the person's normal PIN: the same ``access_granted``
data, the same lock pulse, the same service response. Only a separate ``duress`` event, with a
context of its own (no link to the attempt), tells the guards.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from shouwang.core.events import Context, Event, Unsubscribe
from shouwang.core.services import ServiceError
from shouwang.core.tracking import track_point_in_time

from .config import AccessConfig, Door, Reader
from .decision import Attempt, Decider, Decision, PassVerifier
from .doors import DoorMonitor
from .gates import PassageCounter, Turnstile
from .pins import check_pin
from .state import Remembered
from .state import save as state_save
from .status import DoorStatus

if TYPE_CHECKING:
    from shouwang.core.hub import Hub
    from shouwang.integrations.registry import Registry

_LOGGER = logging.getLogger(__name__)

ACCESS_GRANTED: Final = "access_granted"
ACCESS_DENIED: Final = "access_denied"
DURESS: Final = "duress"
READER_LOCKED: Final = "access_reader_locked"
READER_UNLOCKED: Final = "access_reader_unlocked"
PASSBACK_VIOLATION: Final = "anti_passback_violation"
PERSON_SIGHTED: Final = "person_sighted"
INTERCOM_CREDENTIAL: Final = "intercom_credential"
INTERCOM_UNLOCK: Final = "intercom_unlock"
#: the intercom's credential kinds -> ours
INTERCOM_KINDS: Final = {"card": "card", "code": "pin"}
#: events after which the remembered state may have changed
REMEMBERED_AFTER: Final = frozenset({ACCESS_GRANTED, READER_LOCKED, "access_passage", "tailgating"})
SAVE_DELAY: Final = timedelta(seconds=5)
FACE_MEMORY: Final = 1000  # face sightings remembered for de-duplication before pruning


class AccessControl:
    """Doors, readers, rules and their monitors for one hub."""

    def __init__(
        self,
        hub: Hub,
        config: AccessConfig,
        registry: Registry,
        state_path: Path | None = None,
    ) -> None:
        self.hub = hub
        self.registry = registry
        self.state_path = state_path
        self._save_timer: Unsubscribe | None = None
        self._last_face: dict[tuple[str, str], float] = {}
        self._configure(config, None)

    def _configure(self, config: AccessConfig, previous: Decider | None) -> None:
        hub = self.hub
        self.config = config
        self.decider = Decider(
            config,
            self.registry,
            now=hub.clock.time,
            tz=hub.config.tzinfo,
            passes=self._pass_verifier,
            on_lockout=self._reader_locked,
        )
        if previous is not None:
            self.decider.adopt(previous)
        self.statuses = {door_id: DoorStatus(door) for door_id, door in config.doors.items()}
        self.monitors: dict[str, DoorMonitor] = {}
        self.turnstiles: dict[str, Turnstile] = {}
        self._face_doors: dict[str, list[Door]] = {}
        self._intercom_doors: dict[str, Door] = {}
        for door in config.doors.values():
            if door.contact is not None or door.exit_button is not None:
                self.monitors[door.door_id] = DoorMonitor(hub, door, self._fire, describe)
            if door.turnstile is not None:
                self.turnstiles[door.door_id] = Turnstile(
                    hub, door, door.turnstile, self._fire, describe
                )
            if door.face_camera is not None:
                self._face_doors.setdefault(door.face_camera, []).append(door)
            if door.intercom is not None:
                self._intercom_doors[door.intercom] = door
        self._listeners: list[Unsubscribe] = []
        if self._face_doors:
            self._listeners.append(hub.bus.listen(PERSON_SIGHTED, self._person_sighted))
        if self._intercom_doors:
            self._listeners += [
                hub.bus.listen(INTERCOM_CREDENTIAL, self._intercom_credential),
                hub.bus.listen(INTERCOM_UNLOCK, self._intercom_unlock),
            ]
        self._reset_timer: Unsubscribe | None = None
        if config.passback_reset is not None:
            self._schedule_reset(config.passback_reset)

    def _entities(self) -> list[DoorStatus | PassageCounter]:
        counters = [c for t in self.turnstiles.values() for c in t.counters.values()]
        return [*self.statuses.values(), *counters]

    async def start(self) -> None:
        """Add the door status entities and the turnstiles' passage counters to the hub."""
        entities = self._entities()
        if entities:
            await self.hub.entities.add(entities, integration="access")

    def stop(self) -> None:
        for monitor in self.monitors.values():
            monitor.stop()
        for turnstile in self.turnstiles.values():
            turnstile.stop()
        while self._listeners:
            self._listeners.pop()()
        if self._reset_timer is not None:
            self._reset_timer()

    async def reload(self, config: AccessConfig) -> None:
        """Switch to a new (validated) configuration. Reader lockouts, anti-passback
        positions, passage counts and what the door status entities show carry over for the
        doors and readers that remain."""
        old_entities = self._entities()
        old_statuses = self.statuses
        counts = {
            (door_id, direction): counter.native_value
            for door_id, turnstile in self.turnstiles.items()
            for direction, counter in turnstile.counters.items()
        }
        self.stop()
        for entity in old_entities:
            if entity.entity_id is not None:
                await self.hub.entities.remove(entity.entity_id)
        self._configure(config, self.decider)
        for door_id, status in self.statuses.items():
            if (old := old_statuses.get(door_id)) is not None:
                status.last = old.last
                status.locked_readers = {r for r in old.locked_readers if r in config.readers}
        for door_id, turnstile in self.turnstiles.items():
            for direction, counter in turnstile.counters.items():
                counter.native_value = counts.get((door_id, direction), 0)
        await self.start()

    def _schedule_reset(self, at: time) -> None:
        """Forget every anti-passback position daily at ``at`` (the hub's local time)."""
        tz = self.hub.config.tzinfo
        local = self.hub.clock.now().astimezone(tz)
        when = datetime.combine(local.date(), at, tz)
        if when <= local:
            when = datetime.combine(local.date() + timedelta(days=1), at, tz)

        def reset(_now: Any) -> None:
            self.decider.passback.reset()
            _LOGGER.info("Anti-passback positions reset (daily at %s)", at)
            self._schedule_reset(at)

        self._reset_timer = track_point_in_time(self.hub, when, reset)

    # -- remembered state -------------------------------------------------------------------
    def restore(self, remembered: Remembered) -> None:
        """Take over what was remembered before a restart (call before :meth:`start`)."""
        now = self.hub.clock.time()
        for reader_id, until in remembered.locked.items():
            reader = self.config.readers.get(reader_id)
            if reader is not None and until > now:
                self.decider.throttle.lock(reader_id, until)
                self.statuses[reader.door_id].locked_readers.add(reader_id)
                self._announce_unlock(reader, until)
        self.decider.passback.restore(remembered.positions)
        for (door_id, direction), count in remembered.passages.items():
            turnstile = self.turnstiles.get(door_id)
            if turnstile is not None and direction in turnstile.counters:
                turnstile.counters[direction].native_value = count

    def remembered(self) -> Remembered:
        return Remembered(
            locked=self.decider.throttle.locked,
            positions=self.decider.passback.positions,
            passages={
                (door_id, direction): int(counter.native_value or 0)
                for door_id, turnstile in self.turnstiles.items()
                for direction, counter in turnstile.counters.items()
            },
        )

    async def save(self) -> None:
        """Write the remembered state now (the hub calls this on stop, too)."""
        if self._save_timer is not None:
            self._save_timer()
            self._save_timer = None
        if self.state_path is None:
            return
        state = self.remembered()
        try:
            await self.hub.loop.run_in_executor(None, state_save, self.state_path, state)
        except OSError as err:
            _LOGGER.error("Cannot save %s: %s", self.state_path, err)

    def _changed(self) -> None:
        if self.state_path is None or self._save_timer is not None:
            return

        def due(_now: Any) -> None:
            self._save_timer = None
            self.hub.create_task(self.save(), "access state save")

        self._save_timer = track_point_in_time(self.hub, self.hub.clock.now() + SAVE_DELAY, due)

    # -- attempts ---------------------------------------------------------------------------
    def reader_problem(self, door: str, reader: str | None) -> str | None:
        """Why ``reader`` cannot report for ``door`` (a misconfigured device), or None."""
        if reader is None:
            return None
        known = self.config.readers.get(reader)
        if known is None or known.door_id != door:
            readers = ", ".join(r.reader_id for r in self.config.doors[door].readers)
            return f"reader: {reader!r} is not a reader of door {door!r} (its readers: {readers})"
        return None

    async def present(
        self,
        door: str,
        credential_type: str,
        value: str,
        *,
        reader: str | None = None,
        context: Context | None = None,
        counts_failures: bool = True,
    ) -> Decision:
        """Decide one attempt, fire its event and, when granted, release the door."""
        if self.decider.stale:
            # a registry import was reloaded: index it off the loop (10,000 people take a
            # fraction of a second) rather than inside the first decision
            await self.hub.loop.run_in_executor(None, self.decider.reindex)
        attempt = Attempt(door, credential_type, value, reader, None, counts_failures)
        if (
            credential_type == "pin"
            and door in self.config.doors
            and not self.decider.reader_locked(door, reader)
        ):
            # argon2 takes milliseconds on purpose: keep it off the event loop (and skip it at
            # a locked reader, so guessing there costs the hub nothing)
            person_id, credential, pin = self.decider.pin_subject(value)
            match = await self.hub.loop.run_in_executor(None, check_pin, credential, pin)
            attempt = Attempt(
                door, credential_type, value, reader, (person_id, match), counts_failures
            )
        decision = self.decider.decide(attempt)
        await self.apply(decision, context)
        return decision

    async def apply(self, decision: Decision, context: Context | None) -> None:
        """Events and effects of a decision."""
        context = context.child() if context is not None else Context()
        data = self.event_data(decision, context)
        self._fire(ACCESS_GRANTED if decision.granted else ACCESS_DENIED, data, context)
        if decision.duress:
            # its own context: nothing links the silent alarm to the door's events; raised
            # whether or not the door opens (the person is under threat either way)
            keys = ("door", "door_name", "place", "person", "household", "result", "time")
            self._fire(DURESS, {key: data[key] for key in keys}, Context())
        if not decision.granted:
            return
        if decision.passback_violation:
            self._fire(PASSBACK_VIOLATION, data, context)
        door = self.config.doors[decision.door]
        self._granted(door, decision)
        await self._pulse(door, context)

    def _granted(self, door: Door, decision: Decision) -> None:
        monitor = self.monitors.get(door.door_id)
        if monitor is not None:
            monitor.allow_opening()
        turnstile = self.turnstiles.get(door.door_id)
        if turnstile is not None:
            turnstile.granted(decision)

    async def remote_unlock(self, door_id: str, note: str, context: Context) -> Decision:
        """Staff open a door from the console: granted without a credential, and audited as
        an ``access_granted`` event with ``credential_type: remote`` and the user."""
        door = self.config.doors[door_id]
        reader = door.default_reader
        decision = Decision(
            True, "remote_unlock", door_id, "remote", reader=reader.reader_id,
            direction=reader.direction, time=self.hub.clock.time(),
        )  # fmt: skip
        data = self.event_data(decision, context)
        data["note"] = note
        self._fire(ACCESS_GRANTED, data, context)
        self._granted(door, decision)
        await self._pulse(door, context)
        return decision

    def event_data(self, decision: Decision, context: Context) -> dict[str, Any]:
        door = self.config.doors.get(decision.door)
        data: dict[str, Any] = {
            "door": decision.door,
            "door_name": door.name if door is not None else None,
            "place": door.place if door is not None else None,
            "reader": decision.reader,
            "direction": decision.direction,
            "credential_type": decision.credential_type,
            "result": "granted" if decision.granted else "denied",
            "reason": decision.reason,
            "person": decision.person,
            "household": decision.household,
            "person_type": decision.person_type,
            "categories": list(decision.categories),
            "user": context.user_id,
            "time": datetime.fromtimestamp(decision.time, UTC).isoformat(),
        }
        if decision.credential_type == "qr":
            data["pass_id"] = decision.pass_id
            data["visitor_name"] = decision.visitor_name
        elif decision.credential_type == "plate":
            data["plate"] = decision.plate
        return data

    # -- lock pulses ------------------------------------------------------------------------
    async def _pulse(self, door: Door, context: Context) -> None:
        if door.lock is None:
            return
        domain = door.lock.partition(".")[0]
        target = {"entity_id": door.lock}
        release, relock = ("open", "close") if domain == "gate" else ("unlock", "lock")
        try:
            await self.hub.services.call(
                domain, release, target=target, context=context, blocking=True
            )
        except ServiceError as err:
            _LOGGER.error("Door %s: %s.%s failed: %s", door.door_id, domain, release, err)
            return

        def relock_now(_now: Any) -> None:
            state = self.hub.states.get(door.lock or "")
            if state is not None and state.state in ("unlocked", "open"):
                self.hub.create_task(self._relock(door, domain, relock, context), "relock")

        track_point_in_time(self.hub, self.hub.clock.now() + door.unlock_pulse, relock_now)

    async def _relock(self, door: Door, domain: str, service: str, context: Context) -> None:
        try:
            await self.hub.services.call(
                domain, service, target={"entity_id": door.lock}, context=context, blocking=True
            )
        except ServiceError as err:
            _LOGGER.error("Door %s: %s.%s failed: %s", door.door_id, domain, service, err)

    # -- throttling -------------------------------------------------------------------------
    def _reader_locked(self, reader: Reader, failures: int, until: float) -> None:
        door = self.config.doors[reader.door_id]
        data = {
            **describe(door),
            "reader": reader.reader_id,
            "failures": failures,
            "until": datetime.fromtimestamp(until, UTC).isoformat(),
        }
        self._fire(READER_LOCKED, data, None)
        self._announce_unlock(reader, until)

    def _announce_unlock(self, reader: Reader, until: float) -> None:
        door = self.config.doors[reader.door_id]

        def unlocked(_now: Any) -> None:
            self._fire(READER_UNLOCKED, {**describe(door), "reader": reader.reader_id}, None)

        track_point_in_time(self.hub, datetime.fromtimestamp(until, UTC), unlocked)

    # -- faces from cameras -----------------------------------------------------------------
    def _person_sighted(self, event: Event) -> None:
        # Frigate names the camera entity (``camera``) and its own camera name; either may be
        # the door's ``face_camera``
        data = event.data
        doors = self._face_doors.get(str(data.get("camera"))) or self._face_doors.get(
            str(data.get("frigate_camera"))
        )
        face = data.get("face_name") or data.get("name")
        # unrecognised faces are the camera integration's business (stranger_detected): a
        # passer-by is not an access attempt
        if (
            not doors
            or not isinstance(face, str)
            or self.decider.registry.person_by_face(face) is None
        ):
            return
        now = self.hub.clock.time()
        for door in doors:
            # a camera reports the same face many times while the person stands there
            key = (door.door_id, face)
            if now - self._last_face.get(key, float("-inf")) < door.open_window.total_seconds():
                continue
            self._last_face[key] = now
            self.hub.create_task(
                self.present(
                    door.door_id, "face", face, context=event.context, counts_failures=False
                ),
                "face attempt",
            )
        if len(self._last_face) > FACE_MEMORY:
            horizon = now - max(d.open_window.total_seconds() for d in self.config.doors.values())
            self._last_face = {k: t for k, t in self._last_face.items() if t >= horizon}

    # -- door stations (intercom integration) ----------------------------------------------
    def _intercom_credential(self, event: Event) -> None:
        """A card read or a code typed at a door station linked to a door: an attempt there
        (a code is a PIN, typed as ``<person id or card>#<pin>``)."""
        door = self._intercom_doors.get(str(event.data.get("station")))
        kind = INTERCOM_KINDS.get(str(event.data.get("credential_type")))
        value = event.data.get("credential")
        if door is None or kind is None or not isinstance(value, str) or not value:
            return
        self.hub.create_task(
            self.present(door.door_id, kind, value, context=event.context), "intercom attempt"
        )

    def _intercom_unlock(self, event: Event) -> None:
        """A resident or the guard room opened the door from the intercom: a legitimate
        opening (no forced-door alarm) and one passage for the turnstile."""
        door = self._intercom_doors.get(str(event.data.get("station")))
        if door is None or event.data.get("granted") is not True:
            return
        reader = door.default_reader
        self._granted(
            door,
            Decision(
                True, "intercom", door.door_id, "intercom", reader=reader.reader_id,
                direction=reader.direction, time=self.hub.clock.time(),
            ),
        )  # fmt: skip

    # -- visitor passes ---------------------------------------------------------------------
    def groups_of(self, door_id: str) -> tuple[str, ...]:
        """The door groups ``door_id`` belongs to."""
        return self.config.groups_of_door.get(door_id, ())

    def place_of(self, door_id: str) -> str | None:
        """The place a door stands at (its ``place:``), if it is one of ours."""
        door = self.config.doors.get(door_id)
        return door.place if door is not None else None

    def _pass_verifier(self) -> PassVerifier | None:
        try:
            runtime = self.hub.integrations.runtime("visitor_pass")
        except KeyError:
            return None
        return runtime if hasattr(runtime, "validate") and hasattr(runtime, "consume") else None

    def _fire(self, event_type: str, data: dict[str, Any], context: Context | None) -> None:
        self.hub.bus.fire(event_type, data, context)
        if event_type in REMEMBERED_AFTER:
            self._changed()
        status = self.statuses.get(data.get("door") or "")
        if status is not None and status.hub is not None and event_type != DURESS:
            status.observe(event_type, data, context)


def describe(door: Door) -> Mapping[str, Any]:
    """The door fields every door event carries."""
    return {
        "door": door.door_id,
        "door_name": door.name,
        "place": door.place,
        "contact": door.contact,
        "lock": door.lock,
        "camera": door.camera,
    }
