"""The ``access:`` block of configuration.yaml: doors, door groups, schedules, rules, PIN
credentials, throttling and anti-passback, validated with voluptuous.

Place in the whole: the loader validates the block with :data:`CONFIG_SCHEMA` (errors carry
``file:line`` of the bad field, because every cross-reference check raises with the path of the
field it is about) and :func:`build` turns the validated mapping into the frozen objects the
decision function (:mod:`.decision`) and the door monitor (:mod:`.doors`) work from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Final

import voluptuous as vol

from shouwang.core.durations import time_of_day
from shouwang.core.states import InvalidEntityId, normalize_entity_id

from .schedule import DAY_NAMES, HOLIDAY, Schedule, TimeRange

DIRECTIONS: Final = ("in", "out")
PASSBACK_MODES: Final = ("hard", "soft")
VEHICLE_LISTS: Final = ("resident", "visitor", "blocked")
_ID: Final = re.compile(r"^[A-Za-z0-9_\-]+$")
_UNIT_SECONDS: Final = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}
_DURATION_TEXT: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|min|m|h)?\s*$")


def duration(value: Any) -> timedelta:
    """``30``, ``"30s"``, ``"10min"``, ``"2h"`` or ``"HH:MM:SS"`` -> a positive timedelta."""
    if isinstance(value, timedelta):
        result = value
    elif isinstance(value, bool):
        raise vol.Invalid(f"expected a duration like 30s or 10min, got {value!r}")
    elif isinstance(value, int | float):
        result = timedelta(seconds=value)
    elif isinstance(value, str) and (match := _DURATION_TEXT.match(value)):
        result = timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2] or "s"])
    elif isinstance(value, str) and ":" in value:
        parts = value.split(":")
        try:
            numbers = [float(part) for part in parts]
        except ValueError:
            raise vol.Invalid(f"expected a duration like 30s or 10min, got {value!r}") from None
        if len(numbers) not in (2, 3):
            raise vol.Invalid(f"expected a duration like 30s or 10min, got {value!r}")
        hours, minutes, seconds = [*numbers, 0.0][:3]
        result = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    else:
        raise vol.Invalid(f"expected a duration like 30s or 10min, got {value!r}")
    if result <= timedelta(0):
        raise vol.Invalid("a duration must be positive")
    return result


def identifier(value: Any) -> str:
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
    if text is None or not _ID.match(text):
        raise vol.Invalid(f"expected an id of letters, digits, _ and -, got {value!r}")
    return text


def entity_of(*domains: str) -> Any:
    def validate(value: Any) -> str:
        try:
            entity_id = normalize_entity_id(str(value))
        except InvalidEntityId as err:
            raise vol.Invalid(str(err)) from None
        if entity_id.partition(".")[0] not in domains:
            raise vol.Invalid(f"expected a {' or '.join(domains)} entity")
        return entity_id

    return validate


def _days(value: Any) -> tuple[int, ...]:
    items = value if isinstance(value, list) else [value]
    days = []
    for item in items:
        if str(item).lower() == "holiday":
            days.append(HOLIDAY)
            continue
        name = str(item).lower()[:3]
        if name not in DAY_NAMES:
            raise vol.Invalid(f"unknown day {item!r} (mon, tue, wed, thu, fri, sat, sun, holiday)")
        days.append(DAY_NAMES.index(name))
    return tuple(sorted(set(days)))


def _str_list(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str | int) and not isinstance(item, bool) for item in items):
        raise vol.Invalid("expected a name or a list of names")
    return [str(item) for item in items]


def _date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise vol.Invalid("expected a date YYYY-MM-DD") from None


def _topic_prefix(value: Any) -> str:
    if not isinstance(value, str) or not value.strip("/") or "+" in value or "#" in value:
        raise vol.Invalid("expected an MQTT topic prefix without wildcards")
    return value.strip("/")


def _argon2_hash(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("$argon2"):
        # never echo the value: it may be a PIN typed in clear by mistake
        raise vol.Invalid(
            "expected an argon2 hash ($argon2id$...); create one with "
            "`python -m shouwang.integrations.access.pins`"
        )
    return value


READER_SCHEMA: Final = vol.Schema(
    {
        vol.Required("id"): identifier,
        vol.Optional("direction", default="in"): vol.In(DIRECTIONS),
    }
)

DOOR_SCHEMA: Final = vol.Schema(
    {
        vol.Required("id"): identifier,
        vol.Optional("name"): str,
        vol.Optional("place"): str,
        vol.Optional("lock"): entity_of("lock", "gate"),
        vol.Optional("contact"): entity_of("binary_sensor"),
        vol.Optional("exit_button"): entity_of("binary_sensor"),
        vol.Optional("camera"): entity_of("camera"),
        vol.Optional("face_camera"): str,
        vol.Optional("intercom"): entity_of("intercom"),
        vol.Optional("readers"): vol.All([READER_SCHEMA], vol.Length(min=1)),
        vol.Optional("area"): identifier,
        vol.Optional("held_open", default=dict): {
            vol.Optional("reminder", default=30): duration,
            vol.Optional("alarm", default=60): duration,
        },
        vol.Optional("unlock_pulse", default=5): duration,
        vol.Optional("open_window", default=10): duration,
        vol.Optional("turnstile"): {
            vol.Optional("passage_in"): entity_of("binary_sensor"),
            vol.Optional("passage_out"): entity_of("binary_sensor"),
            vol.Optional("window", default=10): duration,
        },
    }
)

RANGE_SCHEMA: Final = vol.Schema(
    {
        # no days: every day, holidays included
        vol.Optional("days", default=[*DAY_NAMES, "holiday"]): _days,
        vol.Required("from"): time_of_day,
        vol.Required("to"): time_of_day,
    }
)

RULE_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("name"): str,
        vol.Optional("deny", default=False): bool,
        vol.Optional("everyone", default=False): bool,
        vol.Optional("people"): _str_list,
        vol.Optional("person_types"): _str_list,
        vol.Optional("categories"): _str_list,
        vol.Optional("households"): _str_list,
        vol.Optional("organisations"): _str_list,
        vol.Optional("vehicle_lists"): vol.All(_str_list, [vol.In(VEHICLE_LISTS)]),
        vol.Required("doors"): _str_list,
        vol.Optional("schedule"): str,
        # a temporary rule (contractors, a renovation): local dates, both inclusive
        vol.Optional("valid_from"): _date,
        vol.Optional("valid_until"): _date,
    }
)

CREDENTIAL_SCHEMA: Final = vol.Schema(
    {
        vol.Required("person"): str,
        vol.Optional("pin"): _argon2_hash,
        vol.Optional("duress_pin"): _argon2_hash,
    }
)

_BLOCK: Final = vol.Schema(
    {
        vol.Optional("doors", default=list): [DOOR_SCHEMA],
        vol.Optional("door_groups", default=dict): {identifier: _str_list},
        vol.Optional("holidays", default=list): [_date],
        vol.Optional("schedules", default=dict): {
            identifier: vol.All([RANGE_SCHEMA], vol.Length(min=1))
        },
        vol.Optional("rules", default=list): [RULE_SCHEMA],
        vol.Optional("credentials", default=list): [CREDENTIAL_SCHEMA],
        vol.Optional("blocked_people", default=list): _str_list,
        vol.Optional("throttle", default=dict): {
            vol.Optional("max_failures", default=5): vol.All(int, vol.Range(min=1)),
            vol.Optional("window", default=50): duration,
            vol.Optional("lockout", default=600): duration,
        },
        vol.Optional("mqtt"): vol.Any(
            None,
            {vol.Optional("topic_prefix", default="shouwang/access"): _topic_prefix},
        ),
        vol.Optional("anti_passback", default=dict): {
            vol.Optional("areas", default=list): [identifier],
            vol.Optional("mode", default="hard"): vol.In(PASSBACK_MODES),
            # a daily fresh start (local time), for people who left by a door without a reader
            vol.Optional("reset_at"): time_of_day,
        },
    }
)


def _cross_check(block: dict[str, Any]) -> dict[str, Any]:
    """References between sections: each error points at the field that names the unknown."""
    errors: list[vol.Invalid] = []
    doors: set[str] = set()
    readers: set[str] = set()
    for index, door in enumerate(block["doors"]):
        if door["id"] in doors:
            errors.append(vol.Invalid(f"duplicate door id {door['id']!r}", ["doors", index, "id"]))
        doors.add(door["id"])
        for r_index, reader in enumerate(door.get("readers") or ()):
            if reader["id"] in readers:
                path = ["doors", index, "readers", r_index, "id"]
                errors.append(vol.Invalid(f"duplicate reader id {reader['id']!r}", path))
            readers.add(reader["id"])
        if door["held_open"]["alarm"] < door["held_open"]["reminder"]:
            errors.append(
                vol.Invalid("alarm must not come before reminder", ["doors", index, "held_open"])
            )
    groups = block["door_groups"]
    for name, members in groups.items():
        if name in doors:
            errors.append(
                vol.Invalid(f"door group {name!r} has a door's id", ["door_groups", name])
            )
        for m_index, member in enumerate(members):
            if member not in doors:
                path = ["door_groups", name, m_index]
                errors.append(vol.Invalid(f"unknown door {member!r}", path))
    for index, rule in enumerate(block["rules"]):
        for d_index, name in enumerate(rule["doors"]):
            if name not in doors and name not in groups:
                path = ["rules", index, "doors", d_index]
                errors.append(vol.Invalid(f"unknown door or door group {name!r}", path))
        if (
            rule.get("valid_until")
            and rule.get("valid_from", rule["valid_until"]) > rule["valid_until"]
        ):
            path = ["rules", index, "valid_until"]
            errors.append(vol.Invalid("valid_until is before valid_from", path))
        if "schedule" in rule and rule["schedule"] not in block["schedules"]:
            path = ["rules", index, "schedule"]
            errors.append(vol.Invalid(f"unknown schedule {rule['schedule']!r}", path))
        selectors = (
            "people", "person_types", "categories", "households", "organisations", "vehicle_lists",
        )  # fmt: skip
        if not rule["everyone"] and not any(rule.get(key) for key in selectors):
            message = f"a rule needs everyone: true or one of {', '.join(selectors)}"
            errors.append(vol.Invalid(message, ["rules", index]))
    seen: set[str] = set()
    for index, credential in enumerate(block["credentials"]):
        if credential["person"] in seen:
            path = ["credentials", index, "person"]
            errors.append(vol.Invalid(f"second entry for {credential['person']!r}", path))
        seen.add(credential["person"])
        if "pin" not in credential and "duress_pin" in credential:
            path = ["credentials", index, "duress_pin"]
            errors.append(vol.Invalid("a duress PIN needs a normal pin as well", path))
    areas = {door["area"] for door in block["doors"] if "area" in door}
    for index, area in enumerate(block["anti_passback"]["areas"]):
        if area not in areas:
            path = ["anti_passback", "areas", index]
            errors.append(vol.Invalid(f"no door leads into area {area!r}", path))
    if errors:
        raise vol.MultipleInvalid(errors)
    return block


#: the loader validates the ``access:`` block with this (errors become ``file:line``)
CONFIG_SCHEMA: Final = vol.Schema(
    vol.All(vol.Any(None, dict), lambda v: v or {}, _BLOCK, _cross_check)
)


@dataclass(frozen=True, slots=True)
class Reader:
    reader_id: str
    door_id: str
    direction: str


@dataclass(frozen=True, slots=True)
class Turnstile:
    passage_in: str | None
    passage_out: str | None
    window: timedelta


@dataclass(frozen=True, slots=True)
class Door:
    door_id: str
    name: str
    place: str | None
    lock: str | None
    contact: str | None
    exit_button: str | None
    camera: str | None
    face_camera: str | None
    intercom: str | None
    readers: tuple[Reader, ...]
    area: str | None
    reminder: timedelta
    alarm: timedelta
    unlock_pulse: timedelta
    open_window: timedelta
    turnstile: Turnstile | None

    @property
    def default_reader(self) -> Reader:
        return self.readers[0]


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    deny: bool
    everyone: bool
    people: frozenset[str]
    person_types: frozenset[str]
    categories: frozenset[str]
    households: tuple[str, ...]  # glob patterns (B01-* = every household of building 1)
    organisations: frozenset[str]
    vehicle_lists: frozenset[str]
    doors: frozenset[str]
    schedule: Schedule | None
    valid_from: date | None = None
    valid_until: date | None = None

    def active(self, local: datetime) -> bool:
        """Whether the rule applies at ``local`` (its dates and its schedule)."""
        if self.valid_from is not None or self.valid_until is not None:
            day = local.date()
            if (self.valid_from and day < self.valid_from) or (
                self.valid_until and day > self.valid_until
            ):
                return False
        return self.schedule is None or self.schedule.active(local)


@dataclass(frozen=True, slots=True)
class PinCredential:
    person_id: str
    pin_hash: str | None
    duress_hash: str | None


@dataclass(frozen=True, slots=True)
class AccessConfig:
    doors: dict[str, Door] = field(default_factory=dict)
    readers: dict[str, Reader] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    #: door id -> the door groups it is in (visitor passes may name door groups)
    groups_of_door: dict[str, tuple[str, ...]] = field(default_factory=dict)
    pins: dict[str, PinCredential] = field(default_factory=dict)
    blocked_people: frozenset[str] = frozenset()
    max_failures: int = 5
    failure_window: timedelta = timedelta(seconds=50)
    lockout: timedelta = timedelta(minutes=10)
    passback_areas: frozenset[str] = frozenset()
    passback_mode: str = "hard"
    passback_reset: time | None = None
    #: readers over MQTT: the topic prefix, None when not configured
    mqtt_prefix: str | None = None


def build(block: Mapping[str, Any], category_aliases: Mapping[str, str]) -> AccessConfig:
    """The runtime configuration from a validated block (``CONFIG_SCHEMA`` output)."""
    doors: dict[str, Door] = {}
    readers: dict[str, Reader] = {}
    for raw in block["doors"]:
        door_id = raw["id"]
        reader_list = tuple(
            Reader(item["id"], door_id, item["direction"])
            for item in raw.get("readers") or [{"id": door_id, "direction": "in"}]
        )
        turnstile = raw.get("turnstile")
        doors[door_id] = Door(
            door_id=door_id,
            name=raw.get("name", door_id),
            place=raw.get("place"),
            lock=raw.get("lock"),
            contact=raw.get("contact"),
            exit_button=raw.get("exit_button"),
            camera=raw.get("camera"),
            face_camera=raw.get("face_camera"),
            intercom=raw.get("intercom"),
            readers=reader_list,
            area=raw.get("area"),
            reminder=raw["held_open"]["reminder"],
            alarm=raw["held_open"]["alarm"],
            unlock_pulse=raw["unlock_pulse"],
            open_window=raw["open_window"],
            turnstile=(
                Turnstile(turnstile.get("passage_in"), turnstile.get("passage_out"),
                          turnstile["window"])
                if turnstile is not None else None
            ),
        )  # fmt: skip
        for reader in reader_list:
            readers[reader.reader_id] = reader
    groups: dict[str, list[str]] = block["door_groups"]
    schedules = {
        name: Schedule(
            name,
            tuple(TimeRange(item["days"], item["from"], item["to"]) for item in ranges),
            frozenset(block["holidays"]),
        )
        for name, ranges in block["schedules"].items()
    }
    rules = []
    for index, raw in enumerate(block["rules"]):
        door_ids: set[str] = set()
        for name in raw["doors"]:
            door_ids.update(groups.get(name, [name]))
        rules.append(
            Rule(
                name=raw.get("name", f"rule {index + 1}"),
                deny=raw["deny"],
                everyone=raw["everyone"],
                people=frozenset(raw.get("people") or ()),
                person_types=frozenset(raw.get("person_types") or ()),
                categories=frozenset(
                    category_aliases.get(c, c) for c in raw.get("categories") or ()
                ),
                households=tuple(raw.get("households") or ()),
                organisations=frozenset(raw.get("organisations") or ()),
                vehicle_lists=frozenset(raw.get("vehicle_lists") or ()),
                doors=frozenset(door_ids),
                schedule=schedules[raw["schedule"]] if "schedule" in raw else None,
                valid_from=raw.get("valid_from"),
                valid_until=raw.get("valid_until"),
            )
        )
    pins = {
        item["person"]: PinCredential(item["person"], item.get("pin"), item.get("duress_pin"))
        for item in block["credentials"]
    }
    groups_of_door: dict[str, tuple[str, ...]] = {}
    for name, members in groups.items():
        for member in members:
            groups_of_door[member] = (*groups_of_door.get(member, ()), name)
    return AccessConfig(
        doors=doors,
        readers=readers,
        rules=tuple(rules),
        groups_of_door=groups_of_door,
        pins=pins,
        blocked_people=frozenset(block["blocked_people"]),
        max_failures=block["throttle"]["max_failures"],
        failure_window=block["throttle"]["window"],
        lockout=block["throttle"]["lockout"],
        passback_areas=frozenset(block["anti_passback"]["areas"]),
        passback_mode=block["anti_passback"]["mode"],
        passback_reset=block["anti_passback"].get("reset_at"),
        mqtt_prefix=(
            (block["mqtt"] or {}).get("topic_prefix", "shouwang/access")
            if "mqtt" in block
            else None
        ),
    )
