"""The one access decision: who is this credential, may they pass this door now, and why not.

Place in the whole: every attempt — a card at a reader, a PIN on a keypad, a face from a
terminal or camera, a visitor's QR code, a plate — becomes an :class:`Attempt`, and
:meth:`Decider.decide` answers with a :class:`Decision` (granted or not, and a reason). The
runtime (:mod:`.runtime`) turns decisions into events and lock pulses; the decision itself
touches nothing outside this module except the registry snapshot it indexes and the visitor-pass
verifier it delegates QR codes to.

Speed: people are indexed by card number and their rules are resolved per person when the
registry is (re)loaded, so a decision is a few dictionary lookups plus the rules of one person.
The registry is re-indexed when it hands out a new snapshot (after an import and reload).

Order of checks, first failure wins: unknown door -> reader locked -> credential (unknown card,
face or plate, wrong PIN, pass refused) -> blocked person (or vehicle on the block list) ->
lease expired (or vehicle past its validity) -> deny rules -> allow rules (``no_rule`` or
``outside_schedule``) -> anti-passback. Vehicles are matched by the rules that name their list
(``vehicle_lists``) or their household.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any, Final, Protocol

from .config import AccessConfig, Door, PinCredential, Reader, Rule
from .limits import AntiPassback, Throttle
from .pins import PinMatch, check_pin

if TYPE_CHECKING:
    from shouwang.integrations.registry import Person, Registry

_LOGGER = logging.getLogger(__name__)

CREDENTIAL_TYPES: Final = ("card", "pin", "face", "qr", "plate")
GRANTED: Final = "granted"
#: denials that say nothing about the person at the reader, so they do not count as failures
NOT_FAILURES: Final = frozenset(
    {"reader_locked", "anti_passback", "unknown_door", "passes_not_configured"}
)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One presentation of a credential at a door."""

    door: str
    credential_type: str
    value: str
    reader: str | None = None
    #: for PINs, the result of the (slow) hash check when it was done beforehand, off the loop
    pin_match: tuple[str | None, PinMatch] | None = None
    #: False for passive sightings (a camera saw a face): a refusal then is no failed attempt
    counts_failures: bool = True


@dataclass(frozen=True, slots=True)
class Decision:
    granted: bool
    reason: str
    door: str
    credential_type: str
    person: str | None = None
    household: str | None = None
    person_type: str | None = None
    categories: tuple[str, ...] = ()
    reader: str | None = None
    direction: str | None = None
    time: float = 0.0
    pass_id: str | None = None
    visitor_name: str | None = None
    plate: str | None = None
    #: soft anti-passback: granted although the person is already inside (or outside)
    passback_violation: bool = False
    #: only for the runtime's silent duress event; never part of the access events
    duress: bool = field(default=False, repr=False, compare=False)


class PassCheck(Protocol):
    ok: bool
    reason: str
    pass_id: str | None
    host_household: str | None
    visitor_name: str | None


class PassVerifier(Protocol):
    """What the ``visitor_pass`` integration's runtime offers to gates."""

    def validate(self, token: str, door_id: str, now: datetime) -> PassCheck: ...

    def consume(self, pass_id: str, door_id: str, now: datetime) -> Any: ...


def normalise_card(value: str) -> str:
    """Card numbers as readers send them: case, spaces and leading zeros vary."""
    return value.strip().replace(" ", "").upper().lstrip("0") or "0"


@dataclass(frozen=True, slots=True)
class _PersonRules:
    allow: tuple[Rule, ...]
    deny: tuple[Rule, ...]


class Decider:
    """Indexes the registry and the rules, and decides attempts."""

    def __init__(
        self,
        config: AccessConfig,
        registry: Registry,
        *,
        now: Callable[[], float],
        tz: tzinfo,
        passes: Callable[[], PassVerifier | None],
        on_lockout: Callable[[Reader, int, float], None] | None = None,
    ) -> None:
        self.config = config
        self.registry = registry
        self._now = now
        self._tz = tz
        self._passes = passes
        self._on_lockout = on_lockout
        self.throttle = Throttle(
            config.max_failures,
            config.failure_window.total_seconds(),
            config.lockout.total_seconds(),
        )
        self.passback = AntiPassback(config.passback_areas)
        self._indexed: Mapping[str, Person] | None = None
        self._by_card: dict[str, Person] = {}
        self._rules: dict[str, _PersonRules] = {}
        self._vehicle_rules: dict[str, _PersonRules] = {}
        self.reindex()

    def adopt(self, previous: Decider) -> None:
        """Carry over failures, lockouts and anti-passback positions (after a reload)."""
        self.throttle.adopt(previous.throttle)
        self.passback.adopt(previous.passback)

    # -- indexing ---------------------------------------------------------------------------
    def reindex(self) -> None:
        """Index people by card and resolve each person's (and vehicle's) rules, after a
        registry reload. Rules are matched through the people of each type, tag, household
        and organisation, so the work grows with the matches, not people x rules."""
        registry = self.registry
        people = registry.people
        by_card: dict[str, Person] = {}
        by_type: dict[str, list[str]] = {}
        by_household: dict[str, list[str]] = {}
        for person in people.values():
            if person.card_number:
                by_card[normalise_card(person.card_number)] = person
            by_type.setdefault(person.type, []).append(person.person_id)
            if person.household_id:
                by_household.setdefault(person.household_id, []).append(person.person_id)
        cars_by_list: dict[str, list[str]] = {}
        cars_by_household: dict[str, list[str]] = {}
        for vehicle in registry.vehicles.values():
            cars_by_list.setdefault(vehicle.list_type, []).append(vehicle.plate)
            if vehicle.household_id:
                cars_by_household.setdefault(vehicle.household_id, []).append(vehicle.plate)
        households = set(by_household) | set(cars_by_household)
        person_matches: dict[str, list[int]] = {}
        vehicle_matches: dict[str, list[int]] = {}
        for index, rule in enumerate(self.config.rules):
            members: set[str] = set(people) if rule.everyone else set(rule.people & people.keys())
            for kind in rule.person_types:
                members.update(by_type.get(kind, ()))
            for tag in rule.categories:
                members.update(p.person_id for p in registry.people_with_tag(tag))
            for organisation in rule.organisations:
                members.update(p.person_id for p, _ in registry.organisation_members(organisation))
            cars: set[str] = set()
            for kind in rule.vehicle_lists:
                cars.update(cars_by_list.get(kind, ()))
            if rule.households:
                # patterns are matched once per household, not once per person
                matcher = re.compile("|".join(fnmatch.translate(p) for p in rule.households))
                for household in households:
                    if matcher.match(household):
                        members.update(by_household.get(household, ()))
                        cars.update(cars_by_household.get(household, ()))
            for person_id in members:
                person_matches.setdefault(person_id, []).append(index)
            for plate in cars:
                vehicle_matches.setdefault(plate, []).append(index)
        shared: dict[tuple[int, ...], _PersonRules] = {}

        def entry(matching: list[int]) -> _PersonRules:
            key = tuple(matching)  # in rule order: rules were walked in order
            found = shared.get(key)
            if found is None:
                found = shared[key] = _split(self.config.rules, key)
            return found

        rules = {person_id: entry(found) for person_id, found in person_matches.items()}
        vehicle_rules = {plate: entry(found) for plate, found in vehicle_matches.items()}
        self._by_card, self._rules, self._vehicle_rules = by_card, rules, vehicle_rules
        self._indexed = people
        missing = [p for p in self.config.pins if p not in people]
        if missing:
            _LOGGER.warning("PIN credentials for %d unknown people ignored", len(missing))

    @property
    def stale(self) -> bool:
        """Whether the registry has handed out a new snapshot since the last indexing."""
        return self.registry.people is not self._indexed

    def _fresh(self) -> None:
        if self.stale:
            self.reindex()

    def reader_locked(self, door_id: str, reader_id: str | None) -> bool:
        """Whether the reader an attempt would use is locked out right now."""
        door = self.config.doors.get(door_id)
        if door is None:
            return False
        reader = self._reader(door, reader_id)
        return self.throttle.locked_until(reader.reader_id, self._now()) is not None

    def _reader(self, door: Door, reader_id: str | None) -> Reader:
        reader = self.config.readers.get(reader_id or "")
        return (
            reader if reader is not None and reader.door_id == door.door_id else door.default_reader
        )

    # -- PINs -------------------------------------------------------------------------------
    def pin_subject(self, value: str) -> tuple[str | None, PinCredential | None, str]:
        """``"<person id or card>#<pin>"`` -> (person id, their PIN credential, the PIN)."""
        self._fresh()
        who, _, pin = value.rpartition("#")
        person = self.registry.people.get(who) or self._by_card.get(normalise_card(who or "-"))
        person_id = person.person_id if person is not None else None
        credential = self.config.pins.get(person_id) if person_id is not None else None
        return person_id, credential, pin

    # -- deciding ---------------------------------------------------------------------------
    def decide(self, attempt: Attempt) -> Decision:
        """Decide one attempt (and count it for throttling and anti-passback)."""
        decision = self._decide(attempt)
        if (
            not decision.granted
            and attempt.counts_failures
            and decision.reason not in NOT_FAILURES
            and decision.reader is not None
        ):
            count = self.throttle.failure(decision.reader, decision.time)
            if count is not None and self._on_lockout is not None:
                reader = self.config.readers[decision.reader]
                self._on_lockout(reader, count, decision.time + self.throttle.lockout)
        return decision

    def _decide(self, attempt: Attempt) -> Decision:
        self._fresh()
        now = self._now()
        door = self.config.doors.get(attempt.door)
        kind = attempt.credential_type
        if door is None:
            return Decision(False, "unknown_door", attempt.door, kind, time=now)
        reader = self._reader(door, attempt.reader)
        if self.throttle.locked_until(reader.reader_id, now) is not None:
            return self._result(door, reader, kind, now, "reader_locked")
        if kind == "qr":
            return self._visitor(door, reader, attempt, now)
        duress = False
        person: Person | None = None
        if kind == "card":
            person = self._by_card.get(normalise_card(attempt.value))
            reason = "unknown_credential"
        elif kind == "face":
            person = self.registry.person_by_face(attempt.value)
            reason = "unknown_credential"
        elif kind == "pin":
            person, duress = self._pin_person(attempt)
            reason = "invalid_pin"
        elif kind == "plate":
            return self._vehicle(door, reader, attempt.value, now)
        else:
            return self._result(door, reader, kind, now, "unknown_credential_type")
        if person is None:
            return self._result(door, reader, kind, now, reason)
        local = datetime.fromtimestamp(now, self._tz)
        refusal = self._check_person(person, door, local)
        if refusal is None and self.passback.violates(
            person.person_id, door.area, reader.direction
        ):
            if self.config.passback_mode == "hard":
                refusal = "anti_passback"
            else:
                decision = self._result(
                    door, reader, kind, now, GRANTED, person=person, duress=duress
                )
                self.passback.record(person.person_id, door.area, reader.direction)
                return replace(decision, passback_violation=True)
        if refusal is None:
            self.passback.record(person.person_id, door.area, reader.direction)
            return self._result(door, reader, kind, now, GRANTED, person=person, duress=duress)
        # a duress PIN is refused exactly like the normal one would be, and still raises the alarm
        return self._result(door, reader, kind, now, refusal, person=person, duress=duress)

    def _pin_person(self, attempt: Attempt) -> tuple[Person | None, bool]:
        if attempt.pin_match is not None:
            person_id, match = attempt.pin_match
        else:
            person_id, credential, pin = self.pin_subject(attempt.value)
            match = check_pin(credential, pin)
        if person_id is None or match is PinMatch.NONE:
            return None, False
        return self.registry.people.get(person_id), match is PinMatch.DURESS

    def _check_person(self, person: Person, door: Door, local: datetime) -> str | None:
        if person.person_id in self.config.blocked_people:
            return "blocked_person"
        lease_end = person.lease_end
        if person.type == "tenant" and lease_end is not None and local.date() > lease_end:
            return "lease_expired"
        return _rule_refusal(self._rules.get(person.person_id), door.door_id, local)

    def _vehicle(self, door: Door, reader: Reader, plate: str, now: float) -> Decision:
        vehicle = self.registry.vehicle_by_plate(plate)
        if vehicle is None:
            return self._result(door, reader, "plate", now, "unknown_credential")
        local = datetime.fromtimestamp(now, self._tz)
        refusal: str | None
        if vehicle.list_type == "blocked":
            refusal = "blocked_vehicle"
        elif vehicle.valid_until is not None and local.date() > vehicle.valid_until:
            refusal = "vehicle_expired"
        else:
            refusal = _rule_refusal(self._vehicle_rules.get(vehicle.plate), door.door_id, local)
        key = f"vehicle:{vehicle.plate}"
        violation = refusal is None and self.passback.violates(key, door.area, reader.direction)
        if violation and self.config.passback_mode == "hard":
            refusal = "anti_passback"
        if refusal is None:
            self.passback.record(key, door.area, reader.direction)
        decision = self._result(
            door, reader, "plate", now, refusal or GRANTED, household=vehicle.household_id
        )
        return replace(decision, plate=vehicle.plate, passback_violation=violation)

    def _visitor(self, door: Door, reader: Reader, attempt: Attempt, now: float) -> Decision:
        verifier = self._passes()
        if verifier is None:
            return self._result(door, reader, "qr", now, "passes_not_configured")
        moment = datetime.fromtimestamp(now, UTC)
        check = verifier.validate(attempt.value, door.door_id, moment)
        if not check.ok:
            # the pass's own reason, named as a pass reason: expired -> expired_pass
            reason = check.reason if check.reason.endswith("_pass") else f"{check.reason}_pass"
            decision = self._result(door, reader, "qr", now, reason)
            return replace(decision, **_visitor_fields(check))
        if check.pass_id is not None:
            verifier.consume(check.pass_id, door.door_id, moment)
        decision = self._result(door, reader, "qr", now, GRANTED)
        return replace(decision, **_visitor_fields(check))

    def _result(
        self,
        door: Door,
        reader: Reader,
        kind: str,
        now: float,
        reason: str,
        *,
        person: Person | None = None,
        household: str | None = None,
        duress: bool = False,
    ) -> Decision:
        return Decision(
            reason == GRANTED,
            reason,
            door.door_id,
            kind,
            person=person.person_id if person else None,
            household=person.household_id if person else household,
            person_type=person.type if person else None,
            categories=person.tags if person else (),
            reader=reader.reader_id,
            direction=reader.direction,
            time=now,
            duress=duress,
        )


def _split(rules: tuple[Rule, ...], matching: tuple[int, ...]) -> _PersonRules:
    chosen = [rules[i] for i in matching]
    return _PersonRules(tuple(r for r in chosen if not r.deny), tuple(r for r in chosen if r.deny))


def _rule_refusal(rules: _PersonRules | None, door_id: str, local: datetime) -> str | None:
    """None if an allow rule lets this person or vehicle through ``door_id`` now, else why not."""
    if rules is None:
        return "no_rule"
    for rule in rules.deny:
        if door_id in rule.doors and rule.active(local):
            return "denied_by_rule"
    covered = False
    for rule in rules.allow:
        if door_id in rule.doors:
            if rule.active(local):
                return None
            covered = True
    return "outside_schedule" if covered else "no_rule"


def _visitor_fields(check: PassCheck) -> dict[str, Any]:
    return {
        "household": check.host_household,
        "pass_id": check.pass_id,
        "visitor_name": check.visitor_name,
    }
