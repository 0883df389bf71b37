"""Automation conditions, Home-Assistant compatible: validate a ``conditions:`` block, compile it
once, check it cheaply on every trigger.

Place in the whole: automations (``conditions:``), script steps (``- condition: …``, ``if:``,
``choose:``, ``repeat: while/until``) and blueprints validate with :func:`validate_conditions`
(or :data:`CONDITION_SCHEMA` for one) when their configuration loads, and compile with
:func:`compile_conditions` when they are set up. :meth:`Condition.check` then reads the state
machine, the hub clock (in the hub's time zone) and the run's variables (``trigger``, ``this``).

Condition types: ``and``, ``or``, ``not`` (also the shorthands ``- and: [...]``,
``- or: [...]``, ``- not: [...]`` and ``condition: [...]``), ``state``, ``numeric_state``,
``time``, ``sun``, ``template`` (also a bare ``"{{ … }}"`` string) and ``trigger``. Any
condition may have an ``alias`` and ``enabled: false`` (skipped: it neither passes nor fails
its parent, as in Home Assistant).

Errors follow Home Assistant: an entity that does not exist, a template that fails or a state
that is not a number (other than ``unknown``/``unavailable``, which are simply false) raise
:class:`ConditionError`, whose message names the condition (position and alias) and the
problem. The automation logs that as a warning and does not run - false, with a reason.
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Final

import voluptuous as vol
from astral import Observer
from astral.sun import sunrise, sunset

from .config import validate_each
from .durations import DURATION, POSITIVE_DURATION, parse_duration, render_duration, time_of_day
from .states import InvalidEntityId, State, normalize_entity_id
from .template import (
    Template,
    TemplateError,
    forgiving_boolean,
    is_template_string,
    result_as_boolean,
)

if TYPE_CHECKING:
    from .hub import Hub

_LOGGER = logging.getLogger(__name__)

CONDITION_TYPES: Final = (
    "and",
    "not",
    "numeric_state",
    "or",
    "state",
    "sun",
    "template",
    "time",
    "trigger",
)
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SUN_EVENTS: Final = ("sunrise", "sunset")

_UNAVAILABLE: Final = ("unavailable", "unknown")
# A ``state:`` value naming a helper entity compares with that entity's state (Home Assistant)
_INPUT_ENTITY_ID: Final = re.compile(
    r"^input_(?:select|text|number|boolean|datetime)\.(?!.+__)(?!_)[\da-z_]+(?<!_)$"
)
_THRESHOLD_DOMAINS: Final = ("input_number", "number", "sensor")
_TIME_DOMAINS: Final = ("input_datetime", "time", "sensor")


# -- errors -----------------------------------------------------------------------------------
class ConditionError(Exception):
    """A condition that could not be evaluated. ``str()`` nests like Home Assistant's: a line
    ``In 'condition' (item 2 of 3):`` per failing position, and indented below it the failing
    condition with its alias, e.g. ``In 'state' condition 'North gate': unknown entity
    lock.gate_nort``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _label(kind: str, alias: str | None) -> str:
    return f"'{kind}' {alias!r}" if alias else f"'{kind}'"


def _leaf_label(kind: str, alias: str | None) -> str:
    return f"'{kind}' condition {alias!r}" if alias else f"'{kind}' condition"


def _nested(
    kind: str, alias: str | None, total: int, errors: list[tuple[int, ConditionError]]
) -> ConditionError:
    lines: list[str] = []
    for index, error in errors:
        where = f" (item {index + 1} of {total})" if total > 1 else ""
        lines.append(f"In {_label(kind, alias)}{where}:")
        lines.extend("  " + line for line in error.message.splitlines())
    return ConditionError("\n".join(lines))


# -- validation -------------------------------------------------------------------------------
def _alias(value: Any) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise vol.Invalid("expected a text alias")
    return str(value)


def _enabled(value: Any) -> bool | str:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and is_template_string(value):
        return value
    result = forgiving_boolean(value, None)
    if result is None:
        raise vol.Invalid(f"expected true, false or a template, got {value!r}")
    return bool(result)


_BASE: Final[dict[Any, Any]] = {
    vol.Optional("alias"): _alias,
    vol.Optional("enabled"): _enabled,
}


def _entity_ids(value: Any) -> list[str]:
    """One entity id, a comma-separated string of them, or a list -> normalised list."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise vol.Invalid("expected an entity id or a list of entity ids")
    result = []
    for index, item in enumerate(items):
        try:
            result.append(normalize_entity_id(item))
        except InvalidEntityId as err:
            raise vol.Invalid(str(err), path=[index] if isinstance(value, list) else []) from None
    return result


def _entity_in(domains: Sequence[str]) -> Callable[[Any], str]:
    def validate(value: Any) -> str:
        try:
            entity_id = normalize_entity_id(value)
        except InvalidEntityId as err:
            raise vol.Invalid(str(err)) from None
        if entity_id.partition(".")[0] not in domains:
            raise vol.Invalid(f"expected an entity of {', '.join(domains)}, got {value!r}")
        return entity_id

    return validate


def _state_text(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"  # YAML reads a bare on/off as a boolean
    if isinstance(value, str | int | float):
        return str(value)
    raise vol.Invalid(f"expected a state value (text), got {value!r}")


def _state_values(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    result = []
    for index, item in enumerate(items):
        try:
            result.append(_state_text(item))
        except vol.Invalid as err:
            raise vol.Invalid(err.msg, path=[index] if isinstance(value, list) else []) from None
    return result


def _attribute_values(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _threshold(value: Any) -> float | str:
    """A number, or the entity id of a number/sensor/input_number holding one."""
    if isinstance(value, bool):
        raise vol.Invalid(f"expected a number or an entity id, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            return _entity_in(_THRESHOLD_DOMAINS)(value)
        except vol.Invalid:
            pass
    raise vol.Invalid(
        f"expected a number or an entity id of {', '.join(_THRESHOLD_DOMAINS)}, got {value!r}"
    )


def _time_or_entity(value: Any) -> time | str:
    if isinstance(value, str) and "." in value:
        return _entity_in(_TIME_DOMAINS)(value)
    return time_of_day(value)


def _weekdays(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    result = []
    for index, item in enumerate(items):
        day = item.strip().lower() if isinstance(item, str) else item
        if day not in WEEKDAYS:
            raise vol.Invalid(
                f"expected a weekday ({', '.join(WEEKDAYS)}), got {item!r}",
                path=[index] if isinstance(value, list) else [],
            )
        result.append(day)
    return result


def _sun_event(value: Any) -> str:
    event = value.strip().lower() if isinstance(value, str) else value
    if event not in SUN_EVENTS:
        raise vol.Invalid(f"expected sunrise or sunset, got {value!r}")
    return str(event)


def _offset(value: Any) -> timedelta:
    result = DURATION(value)
    if not isinstance(result, timedelta):
        raise vol.Invalid("a sun offset cannot be a template")
    return result


def _template_text(value: Any) -> str:
    if not isinstance(value, str):
        raise vol.Invalid(f"expected a template (text), got {value!r}")
    return value


def _trigger_ids(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, str | int | float) or isinstance(item, bool):
            raise vol.Invalid(f"expected a trigger id (text), got {item!r}")
    return [str(item) for item in items]


def _at_least_one(*keys: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def validate(config: dict[str, Any]) -> dict[str, Any]:
        if not any(key in config for key in keys):
            raise vol.Invalid(f"must contain at least one of {', '.join(keys)}")
        return config

    return validate


def _conditions_list(value: Any) -> list[dict[str, Any]]:
    return validate_conditions(value)


def _state_fields(values: Callable[[Any], list[Any]]) -> Any:
    return vol.Schema(
        {
            **_BASE,
            vol.Required("condition"): "state",
            vol.Required("entity_id"): _entity_ids,
            vol.Required("state"): values,
            vol.Optional("attribute"): str,
            vol.Optional("match", default="all"): vol.All(vol.Lower, vol.In(["all", "any"])),
            vol.Optional("for"): POSITIVE_DURATION,
        }
    )


# ``state:`` is text (or a list of texts); with ``attribute:`` any value, compared as it is
_STATE_SCHEMA: Final = _state_fields(_state_values)
_STATE_ATTRIBUTE_SCHEMA: Final = _state_fields(_attribute_values)


def _state_schema(config: dict[str, Any]) -> dict[str, Any]:
    schema = _STATE_ATTRIBUTE_SCHEMA if "attribute" in config else _STATE_SCHEMA
    result: dict[str, Any] = schema(config)
    return result


_COMPOUND: Final = {
    kind: vol.Schema(
        {**_BASE, vol.Required("condition"): kind, vol.Required("conditions"): _conditions_list}
    )
    for kind in ("and", "or", "not")
}

_SCHEMAS: Final[dict[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    **_COMPOUND,
    "state": _state_schema,
    "numeric_state": vol.All(
        vol.Schema(
            {
                **_BASE,
                vol.Required("condition"): "numeric_state",
                vol.Required("entity_id"): _entity_ids,
                vol.Optional("attribute"): str,
                vol.Optional("above"): _threshold,
                vol.Optional("below"): _threshold,
                vol.Optional("value_template"): _template_text,
            }
        ),
        _at_least_one("above", "below"),
    ),
    "time": vol.All(
        vol.Schema(
            {
                **_BASE,
                vol.Required("condition"): "time",
                vol.Optional("after"): _time_or_entity,
                vol.Optional("before"): _time_or_entity,
                vol.Optional("weekday"): _weekdays,
            }
        ),
        _at_least_one("after", "before", "weekday"),
    ),
    "sun": vol.All(
        vol.Schema(
            {
                **_BASE,
                vol.Required("condition"): "sun",
                vol.Optional("after"): _sun_event,
                vol.Optional("before"): _sun_event,
                vol.Optional("after_offset"): _offset,
                vol.Optional("before_offset"): _offset,
            }
        ),
        _at_least_one("after", "before"),
    ),
    "template": vol.Schema(
        {
            **_BASE,
            vol.Required("condition"): "template",
            vol.Required("value_template"): _template_text,
        }
    ),
    "trigger": vol.Schema(
        {**_BASE, vol.Required("condition"): "trigger", vol.Required("id"): _trigger_ids}
    ),
}

_SHORTHANDS: Final = ("and", "or", "not")
_BASE_SCHEMA: Final = vol.Schema(_BASE)


def _shorthand(kind: str, key: str, config: dict[str, Any]) -> dict[str, Any]:
    try:
        conditions = validate_conditions(config[key])
    except vol.Invalid as err:
        err.prepend([key])
        raise
    base: dict[str, Any] = _BASE_SCHEMA({k: v for k, v in config.items() if k != key})
    return {"condition": kind, "conditions": conditions, **base}


def _validate_condition(value: Any) -> dict[str, Any]:
    """One condition config (or shorthand) -> a normalised dict with a ``condition`` key."""
    if isinstance(value, str):
        if not is_template_string(value):
            raise vol.Invalid(
                "expected a condition: a mapping with 'condition:' or a template such as "
                "\"{{ is_state('lock.gate_north', 'locked') }}\""
            )
        return {"condition": "template", "value_template": value}
    if not isinstance(value, Mapping):
        raise vol.Invalid("expected a condition: a mapping with 'condition:' or a template")
    config = dict(value)
    kind = config.get("condition")
    if kind is None:
        for key in _SHORTHANDS:
            if key in config:  # - or: [...]  ->  condition: or, conditions: [...]
                return _shorthand(key, key, config)
        raise vol.Invalid(
            "missing 'condition:' (or one of the shorthands 'and:', 'or:', 'not:')",
            path=["condition"],
        )
    if isinstance(kind, list):  # condition: [...] is an 'and' (Home Assistant shorthand)
        return _shorthand("and", "condition", config)
    if isinstance(kind, str) and is_template_string(kind):  # condition: "{{ ... }}"
        config["value_template"] = config.pop("condition")
        config["condition"] = "template"
        return _SCHEMAS["template"](config)
    schema = _SCHEMAS.get(kind) if isinstance(kind, str) else None
    if schema is None:
        raise vol.Invalid(
            f"unknown condition {kind!r}; expected one of {', '.join(CONDITION_TYPES)}",
            path=["condition"],
        )
    return schema(config)


CONDITION_SCHEMA: Final = vol.Schema(_validate_condition)
"""Voluptuous validator for one condition (including the shorthand forms)."""


def validate_conditions(value: Any) -> list[dict[str, Any]]:
    """A list of conditions (or a single one) -> list of normalised dicts. Raises
    :class:`voluptuous.Invalid` whose ``path`` points at the bad field (``[1, 'entity_id']``)."""
    if value is None:
        return []
    return validate_each(value, _validate_condition)


# -- compiled conditions ----------------------------------------------------------------------
class Condition(ABC):
    """A compiled condition. :meth:`check` is cheap: no parsing, no validation."""

    __slots__ = ("alias", "kind")

    def __init__(self, kind: str, alias: str | None) -> None:
        self.kind = kind
        self.alias = alias

    def check(self, variables: Mapping[str, Any] | None = None) -> bool:
        """True if the condition holds (a disabled condition holds). Raises
        :class:`ConditionError` when it cannot be evaluated."""
        return self._check(variables if variables is not None else {}) is not False

    @abstractmethod
    def _check(self, variables: Mapping[str, Any]) -> bool | None:
        """True/False, or None for a disabled condition (neither)."""

    def _error(self, message: str) -> ConditionError:
        return ConditionError(f"In {_leaf_label(self.kind, self.alias)}: {message}")

    def __repr__(self) -> str:
        alias = f" {self.alias!r}" if self.alias else ""
        return f"<Condition {self.kind}{alias}>"


class _Disabled(Condition):
    __slots__ = ()

    def _check(self, variables: Mapping[str, Any]) -> None:
        return None


class _And(Condition):
    """``and``; ``or`` and ``not`` differ only in which child result settles the answer.

    The first child that returns :attr:`settled_by` ends the check with :attr:`settled`;
    errors of the other children matter only if no child settled it."""

    __slots__ = ("conditions",)
    settled_by: ClassVar[bool] = False
    settled: ClassVar[bool] = False

    def __init__(self, kind: str, alias: str | None, conditions: list[Condition]) -> None:
        super().__init__(kind, alias)
        self.conditions = conditions

    def _check(self, variables: Mapping[str, Any]) -> bool:
        errors: list[tuple[int, ConditionError]] = []
        for index, condition in enumerate(self.conditions):
            try:
                if condition._check(variables) is self.settled_by:
                    return self.settled
            except ConditionError as err:
                errors.append((index, err))
        if errors:  # nothing settled it, so the errors decide
            raise _nested(self.kind, self.alias, len(self.conditions), errors)
        return not self.settled


class _Or(_And):
    __slots__ = ()
    settled_by = True
    settled = True


class _Not(_And):
    __slots__ = ()
    settled_by = True
    settled = False


class _StateCondition(Condition):
    __slots__ = ("attribute", "entity_ids", "for_", "hub", "match_all", "states")

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        super().__init__("state", config.get("alias"))
        self.hub = hub
        self.entity_ids: list[str] = config["entity_id"]
        self.states: list[Any] = config["state"]
        self.attribute: str | None = config.get("attribute")
        self.match_all: bool = config.get("match", "all") == "all"
        self.for_: Any = config.get("for")

    def _check(self, variables: Mapping[str, Any]) -> bool:
        errors: list[str] = []
        result = self.match_all
        for entity_id in self.entity_ids:
            try:
                if self._matches(entity_id, variables):
                    result = True
                elif self.match_all:
                    return False
            except ConditionError as err:
                errors.append(err.message)
        if errors:
            raise self._error("; ".join(errors))
        return result

    def _matches(self, entity_id: str, variables: Mapping[str, Any]) -> bool:
        state = self.hub.states.get(entity_id)
        if state is None:
            raise ConditionError(f"unknown entity {entity_id}")
        if self.attribute is None:
            value: Any = state.state
        elif self.attribute in state.attributes:
            value = state.attributes[self.attribute]
        else:
            return False
        for option in self.states:
            wanted = option
            if isinstance(option, str) and _INPUT_ENTITY_ID.match(option):
                helper = self.hub.states.get(option)
                if helper is None:
                    raise ConditionError(f"the 'state' entity {option} is unavailable")
                wanted = helper.state
            if value == wanted:
                break
        else:
            return False
        if self.for_ is None:
            return True
        try:
            period = render_duration(self.hub, self.for_, variables)
        except (TemplateError, ValueError) as err:
            raise ConditionError(f"invalid 'for': {err}") from err
        # ">=" where Home Assistant has ">": with a manual clock the instant a `for:` trigger
        # fires is exactly last_changed + for, and the condition must agree with it.
        return self.hub.clock.time() - period.total_seconds() >= state.last_changed_timestamp


class _NumericState(Condition):
    __slots__ = ("above", "attribute", "below", "entity_ids", "hub", "value_template")

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        super().__init__("numeric_state", config.get("alias"))
        self.hub = hub
        self.entity_ids: list[str] = config["entity_id"]
        self.attribute: str | None = config.get("attribute")
        self.above: float | str | None = config.get("above")
        self.below: float | str | None = config.get("below")
        source = config.get("value_template")
        self.value_template: Template | None = (
            hub.templates.template(source) if source is not None else None
        )

    def _check(self, variables: Mapping[str, Any]) -> bool:
        errors: list[str] = []
        for entity_id in self.entity_ids:
            try:
                if not self._holds(entity_id, variables):
                    return False
            except ConditionError as err:
                errors.append(err.message)
        if errors:
            raise self._error("; ".join(errors))
        return True

    def _holds(self, entity_id: str, variables: Mapping[str, Any]) -> bool:
        state = self.hub.states.get(entity_id)
        if state is None:
            raise ConditionError(f"unknown entity {entity_id}")
        if self.attribute is not None and self.attribute not in state.attributes:
            return False
        value: Any
        if self.value_template is not None:
            state_object = self.hub.templates.state_object(state)
            try:
                value = self.value_template.render({**variables, "state": state_object})
            except TemplateError as err:
                raise ConditionError(f"template error: {err}") from err
        elif self.attribute is not None:
            value = state.attributes[self.attribute]
        else:
            value = state.state
        if value is None or value in _UNAVAILABLE:
            return False  # no value is neither above nor below anything
        try:
            number = float(value)
        except (ValueError, TypeError):
            raise ConditionError(
                f"entity {entity_id} state {value!r} cannot be processed as a number"
            ) from None
        below = self._limit(self.below, "below")
        if below is False or (below is not None and number >= below):
            return False
        above = self._limit(self.above, "above")
        return not (above is False or (above is not None and number <= above))

    def _limit(self, limit: float | str | None, which: str) -> float | bool | None:
        """The threshold as a number; False if its entity has no value (condition false)."""
        if limit is None or isinstance(limit, float):
            return limit
        state = self.hub.states.get(limit)
        if state is None:
            raise ConditionError(f"unknown '{which}' entity {limit}")
        if state.state in _UNAVAILABLE:
            return False
        try:
            return float(state.state)
        except ValueError:
            raise ConditionError(
                f"the '{which}' entity {limit} state {state.state!r} cannot be processed as a "
                "number"
            ) from None


class _Time(Condition):
    __slots__ = ("after", "before", "hub", "weekdays")

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        super().__init__("time", config.get("alias"))
        self.hub = hub
        self.after: time | str | None = config.get("after")
        self.before: time | str | None = config.get("before")
        weekdays = config.get("weekday")
        self.weekdays: frozenset[str] | None = frozenset(weekdays) if weekdays else None

    def _check(self, variables: Mapping[str, Any]) -> bool:
        now = datetime.fromtimestamp(self.hub.clock.time(), self.hub.config.tzinfo)
        now_time = now.time()
        after = self._resolve(self.after, "after", time(0))
        before = self._resolve(self.before, "before", time(23, 59, 59, 999999))
        if after is None or before is None:
            return False
        if after < before:
            if not after <= now_time < before:
                return False
        elif before <= now_time < after:  # across midnight: after 23:00 before 05:00
            return False
        return self.weekdays is None or WEEKDAYS[now.weekday()] in self.weekdays

    def _resolve(self, value: time | str | None, which: str, default: time) -> time | None:
        if value is None:
            return default
        if isinstance(value, time):
            return value
        state = self.hub.states.get(value)
        if state is None:
            raise self._error(f"unknown '{which}' entity {value}")
        return _entity_time(state, self.hub)


def _entity_time(state: State, hub: Hub) -> time | None:
    """The local time of day an input_datetime / time / timestamp-sensor entity holds."""
    if state.state in _UNAVAILABLE:
        return None
    attributes = state.attributes
    if state.domain == "input_datetime" and "hour" in attributes:
        try:
            return time(
                int(attributes["hour"]),
                int(attributes.get("minute", 0)),
                int(attributes.get("second", 0)),
            )
        except (TypeError, ValueError):
            return None
    try:
        return time.fromisoformat(state.state)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(state.state)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(hub.config.tzinfo)
    return moment.time().replace(tzinfo=None)


class _Sun(Condition):
    __slots__ = ("_cache", "after", "after_offset", "before", "before_offset", "hub")

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        super().__init__("sun", config.get("alias"))
        self.hub = hub
        self.after: str | None = config.get("after")
        self.before: str | None = config.get("before")
        self.after_offset: timedelta = parse_duration(config.get("after_offset", 0))
        self.before_offset: timedelta = parse_duration(config.get("before_offset", 0))
        self._cache: tuple[tuple[Any, ...], datetime | None, datetime | None] | None = None

    def _events(self, day: date) -> tuple[datetime | None, datetime | None]:
        """Sunrise and sunset on the local ``day`` at the hub's location (cached per day)."""
        core = self.hub.config
        key = (day, core.latitude, core.longitude, core.elevation, core.time_zone)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1], self._cache[2]
        observer = Observer(core.latitude, core.longitude, core.elevation)
        tz = core.tzinfo
        rise: datetime | None
        fall: datetime | None
        try:
            rise = sunrise(observer, day, tz)
        except ValueError:  # the sun does not rise that day (polar night or day)
            rise = None
        try:
            fall = sunset(observer, day, tz)
        except ValueError:
            fall = None
        self._cache = (key, rise, fall)
        return rise, fall

    def _check(self, variables: Mapping[str, Any]) -> bool:
        timestamp = self.hub.clock.time()
        now = datetime.fromtimestamp(timestamp, UTC)
        rise, fall = self._events(now.astimezone(self.hub.config.tzinfo).date())
        before, after = self.before, self.after
        if before == "sunrise" and after == "sunset":  # the night: before sunrise OR after sunset
            if rise is None or fall is None:
                return False
            return now < rise + self.before_offset or now > fall + self.after_offset
        events = {"sunrise": rise, "sunset": fall}
        if before is not None:
            moment = events[before]
            if moment is None or now > moment + self.before_offset:
                return False
        if after is not None:
            moment = events[after]
            if moment is None or now < moment + self.after_offset:
                return False
        return True


class _TemplateCondition(Condition):
    __slots__ = ("template",)

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        super().__init__("template", config.get("alias"))
        self.template = hub.templates.template(config["value_template"])

    def _check(self, variables: Mapping[str, Any]) -> bool:
        try:
            result = self.template.render(variables)
        except TemplateError as err:
            raise self._error(str(err)) from err
        return result_as_boolean(result)


class _Trigger(Condition):
    __slots__ = ("ids",)

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__("trigger", config.get("alias"))
        self.ids = frozenset(config["id"])

    def _check(self, variables: Mapping[str, Any]) -> bool:
        trigger = variables.get("trigger")
        if not isinstance(trigger, Mapping):
            return False
        trigger_id = trigger.get("id")
        return trigger_id is not None and str(trigger_id) in self.ids


def _is_enabled(hub: Hub, config: Mapping[str, Any]) -> bool:
    enabled = config.get("enabled", True)
    if isinstance(enabled, str):  # a template, rendered once when the condition is set up
        try:
            return result_as_boolean(hub.templates.template(enabled).render({}))
        except TemplateError as err:
            kind = config.get("condition", "?")
            raise ConditionError(
                f"In {_leaf_label(str(kind), config.get('alias'))}: "
                f"'enabled' template failed: {err}"
            ) from err
    return bool(enabled)


def compile_condition(hub: Hub, config: Mapping[str, Any]) -> Condition:
    """Compile one validated condition config (see :data:`CONDITION_SCHEMA`)."""
    kind = config["condition"]
    alias = config.get("alias")
    if not _is_enabled(hub, config):
        return _Disabled(kind, alias)
    if kind in ("and", "or", "not"):
        children = [compile_condition(hub, child) for child in config["conditions"]]
        compound = {"and": _And, "or": _Or, "not": _Not}[kind]
        return compound(kind, alias, children)
    if kind == "state":
        return _StateCondition(hub, config)
    if kind == "numeric_state":
        return _NumericState(hub, config)
    if kind == "time":
        return _Time(hub, config)
    if kind == "sun":
        return _Sun(hub, config)
    if kind == "template":
        return _TemplateCondition(hub, config)
    if kind == "trigger":
        return _Trigger(config)
    raise ValueError(f"unknown condition {kind!r} (was the config validated?)")


def compile_conditions(hub: Hub, configs: Sequence[Mapping[str, Any]]) -> Condition:
    """Compile a validated ``conditions:`` list into one condition: all must hold."""
    return _And("condition", None, [compile_condition(hub, config) for config in configs])
