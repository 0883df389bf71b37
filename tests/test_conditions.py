"""Conditions (Home Assistant semantics) and the shared duration / time-of-day parsing: every
condition type, shorthand forms, ``enabled: false``, error messages, validation paths. Time runs
on the manual clock: the fixtures start at Saturday 2026-11-28 22:00 UTC, which is Sunday
06:00 in Shanghai.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import voluptuous as vol
from astral import Observer
from astral.sun import sunrise, sunset

from shouwang.core.clock import ManualClock
from shouwang.core.conditions import (
    CONDITION_SCHEMA,
    Condition,
    ConditionError,
    compile_condition,
    compile_conditions,
    validate_conditions,
)
from shouwang.core.durations import (
    DURATION,
    POSITIVE_DURATION,
    parse_duration,
    parse_time_of_day,
    render_duration,
    time_of_day,
)
from shouwang.core.hub import Hub
from shouwang.core.yaml_loader import parse_yaml

SHANGHAI = ZoneInfo("Asia/Shanghai")
LATITUDE, LONGITUDE = 31.23, 121.47


@pytest.fixture
def site(hub: Hub) -> Hub:
    hub.config.time_zone = "Asia/Shanghai"
    hub.config.latitude = LATITUDE
    hub.config.longitude = LONGITUDE
    hub.states.set("lock.gate_north", "unlocked", {"friendly_name": "North gate", "battery": 20})
    hub.states.set("lock.gate_south", "locked")
    hub.states.set("sensor.temp", "4.5")
    hub.states.set("input_number.min_temp", "3")
    hub.states.set("input_select.wanted", "locked")
    return hub


def condition(hub: Hub, config: Any) -> Condition:
    return compile_conditions(hub, validate_conditions(config))


def check(hub: Hub, config: Any, **variables: Any) -> bool:
    return condition(hub, config).check(variables)


def local(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


# -- durations and times of day ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("00:05:00", timedelta(minutes=5)),
        ("01:30", timedelta(hours=1, minutes=30)),
        ("48:00:00", timedelta(hours=48)),
        ("00:00:01.5", timedelta(seconds=1.5)),
        ("-00:30:00", timedelta(minutes=-30)),
        ("+00:30", timedelta(minutes=30)),
        (90, timedelta(seconds=90)),
        (1.5, timedelta(seconds=1.5)),
        ("45", timedelta(seconds=45)),
        ({"minutes": 5, "seconds": 30}, timedelta(minutes=5, seconds=30)),
        (
            {"days": 1, "hours": 2, "milliseconds": 500},
            timedelta(days=1, hours=2, milliseconds=500),
        ),
        ({"minutes": "5"}, timedelta(minutes=5)),
        (timedelta(seconds=3), timedelta(seconds=3)),
    ],
)
def test_parse_duration(value: Any, expected: timedelta) -> None:
    assert parse_duration(value) == expected
    assert DURATION(value) == expected


@pytest.mark.parametrize(
    "value",
    ["soon", "1:2:3:4", "a:b", "", True, None, [1], {"weeks": 1}, {}, {"minutes": "x"}, "1e999"],
)
def test_parse_duration_rejects(value: Any) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(value)
    with pytest.raises(vol.Invalid):
        DURATION(value)


def test_duration_validators_keep_templates_and_check_sign() -> None:
    assert DURATION("{{ states('input_number.hold') | int }}") == (
        "{{ states('input_number.hold') | int }}"
    )
    assert POSITIVE_DURATION({"minutes": "{{ m }}"}) == {"minutes": "{{ m }}"}
    assert DURATION("-00:30:00") == timedelta(minutes=-30)  # sun offsets may be negative
    with pytest.raises(vol.Invalid, match="negative"):
        POSITIVE_DURATION("-00:30:00")
    with pytest.raises(vol.Invalid, match="unknown duration key"):
        POSITIVE_DURATION({"fortnights": "{{ 1 }}"})
    with pytest.raises(ValueError, match="rendered"):
        parse_duration("{{ 5 }}")


async def test_render_duration(hub: Hub) -> None:
    assert render_duration(hub, "{{ hold }}", {"hold": 300}) == timedelta(minutes=5)
    assert render_duration(hub, {"minutes": "{{ m }}"}, {"m": 2}) == timedelta(minutes=2)
    assert render_duration(hub, "00:01:00") == timedelta(minutes=1)
    with pytest.raises(ValueError, match="negative"):
        render_duration(hub, "{{ -5 }}", {})
    assert render_duration(hub, "{{ -5 }}", {}, allow_negative=True) == timedelta(seconds=-5)


def test_time_of_day() -> None:
    assert time_of_day("23:00") == time(23, 0)
    assert time_of_day("7:05:09") == time(7, 5, 9)
    assert time_of_day(time(1, 2)) == time(1, 2)
    assert parse_time_of_day(" 06:30 ") == time(6, 30)
    for bad in ("24:00", "12:60", "noon", "12", "1:2:3:4", "-1:00", None, 1.5):
        with pytest.raises(vol.Invalid):
            time_of_day(bad)
    with pytest.raises(vol.Invalid, match="quote it"):  # YAML reads unquoted 23:00 as 1380
        time_of_day(parse_yaml("at: 23:00")["at"])


# -- validation -------------------------------------------------------------------------------
def test_validate_normalises_every_form() -> None:
    assert validate_conditions(None) == []
    assert validate_conditions("{{ is_state('lock.x', 'on') }}") == [
        {"condition": "template", "value_template": "{{ is_state('lock.x', 'on') }}"}
    ]
    state = {"condition": "state", "entity_id": "Lock.Gate_North", "state": "locked"}
    assert validate_conditions(state) == [
        {
            "condition": "state",
            "entity_id": ["lock.gate_north"],
            "state": ["locked"],
            "match": "all",
        }
    ]
    assert CONDITION_SCHEMA(state) == validate_conditions(state)[0]
    shorthand = validate_conditions([{"or": [state], "alias": "either", "enabled": True}])
    assert shorthand == [
        {
            "condition": "or",
            "conditions": validate_conditions(state),
            "alias": "either",
            "enabled": True,
        }
    ]
    assert validate_conditions({"not": state})[0]["condition"] == "not"
    assert validate_conditions({"and": [state, "{{ true }}"]})[0]["conditions"][1] == {
        "condition": "template",
        "value_template": "{{ true }}",
    }
    assert validate_conditions({"condition": [state]})[0]["condition"] == "and"
    assert validate_conditions({"condition": "{{ x }}", "alias": "t"}) == [
        {"condition": "template", "value_template": "{{ x }}", "alias": "t"}
    ]
    assert (
        validate_conditions({"condition": "and", "conditions": state, "enabled": "{{ true }}"})[0][
            "enabled"
        ]
        == "{{ true }}"
    )


def test_validate_coerces_values_as_home_assistant_yaml_needs() -> None:
    (config,) = validate_conditions(
        {
            "condition": "state",
            "entity_id": "lock.a, lock.b",
            "state": [True, 5, "open"],  # YAML: on -> True
            "match": "ANY",
            "for": {"minutes": 5},
        }
    )
    assert config["entity_id"] == ["lock.a", "lock.b"]
    assert config["state"] == ["on", "5", "open"]
    assert config["match"] == "any"
    assert config["for"] == timedelta(minutes=5)
    (config,) = validate_conditions(
        {"condition": "state", "entity_id": "lock.a", "attribute": "battery", "state": 20}
    )
    assert config["state"] == [20]  # attribute values keep their type
    (config,) = validate_conditions(
        {"condition": "time", "after": "23:00", "before": "input_datetime.wake", "weekday": "MON"}
    )
    assert config["after"] == time(23) and config["before"] == "input_datetime.wake"
    assert config["weekday"] == ["mon"]
    (config,) = validate_conditions(
        {"condition": "numeric_state", "entity_id": "sensor.t", "above": "3", "below": 10}
    )
    assert config["above"] == 3.0 and config["below"] == 10.0
    (config,) = validate_conditions(
        {"condition": "sun", "after": "Sunset", "after_offset": "-00:30:00"}
    )
    assert config["after"] == "sunset" and config["after_offset"] == timedelta(minutes=-30)
    (config,) = validate_conditions({"condition": "trigger", "id": [1, "door"]})
    assert config["id"] == ["1", "door"]
    assert (
        validate_conditions(
            {"condition": "state", "entity_id": "lock.a", "state": "x", "for": "{{ t }}"}
        )[0]["for"]
        == "{{ t }}"
    )


def test_validated_configs_validate_again_unchanged() -> None:
    configs = validate_conditions(
        [
            {"condition": "time", "after": "23:00", "weekday": ["mon"]},
            {"condition": "sun", "before": "sunrise", "before_offset": 600},
            {"condition": "state", "entity_id": "lock.a", "state": "on", "for": 5},
            {"or": ["{{ 1 }}", {"condition": "trigger", "id": "x"}]},
        ]
    )
    assert validate_conditions(configs) == configs


@pytest.mark.parametrize(
    ("config", "path", "message"),
    [
        ([{"condition": "nope"}], [0, "condition"], "unknown condition 'nope'"),
        ([{"entity_id": "lock.a"}], [0, "condition"], "missing 'condition:'"),
        (["just text"], [0], "expected a condition"),
        ([42], [0], "expected a condition"),
        (
            [{"condition": "state", "entity_id": "lock.a"}],
            [0, "state"],
            "required key not provided",
        ),
        (
            [{"condition": "state", "entity_id": "lock.a", "state": "on", "bogus": 1}],
            [0, "bogus"],
            "extra keys not allowed",
        ),
        (
            [{}, {"condition": "state", "entity_id": "Not An Id", "state": "on"}],
            [0, "condition"],
            "missing 'condition:'",
        ),
        (
            ["{{ 1 }}", {"condition": "state", "entity_id": ["lock.a", "bad id"], "state": "on"}],
            [1, "entity_id", 1],
            "Invalid entity id 'bad id'",
        ),
        (
            [{"or": ["{{ 1 }}", {"condition": "state", "entity_id": "lock.a"}]}],
            [0, "or", 1, "state"],
            "required key not provided",
        ),
        (
            [{"condition": "and", "conditions": [{"condition": "time", "after": "25:00"}]}],
            [0, "conditions", 0, "after"],
            "invalid time of day",
        ),
        (
            [{"condition": ["{{ 1 }}", {"condition": "trigger"}]}],
            [0, "condition", 1, "id"],
            "required key not provided",
        ),
        (
            [{"not": [{"condition": "time", "weekday": ["mon", "funday"]}]}],
            [0, "not", 0, "weekday", 1],
            "expected a weekday",
        ),
        (
            [{"condition": "time", "after": 1380}],
            [0, "after"],
            "quote it",
        ),
        ([{"condition": "time"}], [0], "at least one of after, before, weekday"),
        ([{"condition": "numeric_state", "entity_id": "sensor.t"}], [0], "at least one of above"),
        (
            [{"condition": "numeric_state", "entity_id": "sensor.t", "above": "light.x"}],
            [0, "above"],
            "expected a number or an entity id",
        ),
        ([{"condition": "time", "after": "light.x"}], [0, "after"], "expected an entity of"),
        ([{"condition": "sun"}], [0], "at least one of after, before"),
        ([{"condition": "sun", "after": "noon"}], [0, "after"], "sunrise or sunset"),
        (
            [{"condition": "sun", "after": "sunset", "after_offset": "{{ 1 }}"}],
            [0, "after_offset"],
            "cannot be a template",
        ),
        (
            [{"condition": "state", "entity_id": "lock.a", "state": "on", "for": "-00:01:00"}],
            [0, "for"],
            "negative",
        ),
        ([{"condition": "template", "value_template": 5}], [0, "value_template"], "expected"),
        (
            [{"condition": "state", "entity_id": "lock.a", "state": "on", "enabled": "maybe"}],
            [0, "enabled"],
            "expected true, false",
        ),
        ([{"or": [], "bogus": 1}], [0, "bogus"], "extra keys not allowed"),
    ],
)
def test_validation_errors_have_precise_paths(config: Any, path: list[Any], message: str) -> None:
    with pytest.raises(vol.Invalid) as caught:
        validate_conditions(config)
    error = caught.value
    if isinstance(error, vol.MultipleInvalid):
        error = error.errors[0]
    assert error.path == path
    assert message in error.msg


# -- state ------------------------------------------------------------------------------------
async def test_state_condition(site: Hub) -> None:
    base = {"condition": "state", "entity_id": "lock.gate_north"}
    assert check(site, {**base, "state": "unlocked"})
    assert not check(site, {**base, "state": "locked"})
    assert check(site, {**base, "state": ["locked", "unlocked"]})
    both = {"condition": "state", "entity_id": ["lock.gate_north", "lock.gate_south"]}
    assert not check(site, {**both, "state": "locked"})  # match: all
    assert check(site, {**both, "state": "locked", "match": "any"})
    assert check(site, {**both, "state": ["locked", "unlocked"]})
    # a helper entity's state as the wanted value (Home Assistant)
    assert check(
        site, {"condition": "state", "entity_id": "lock.gate_south", "state": "input_select.wanted"}
    )


async def test_state_condition_attribute(site: Hub) -> None:
    base = {"condition": "state", "entity_id": "lock.gate_north", "attribute": "battery"}
    assert check(site, {**base, "state": 20})
    assert not check(site, {**base, "state": "20"})  # attribute values compare by value
    assert check(site, {**base, "state": [10, 20]})
    assert not check(site, {**base, "attribute": "nope", "state": 20})


async def test_state_condition_unknown_entity_is_an_error(site: Hub) -> None:
    config = {"condition": "state", "entity_id": "lock.gate_nope", "state": "on", "alias": "Gate"}
    with pytest.raises(ConditionError) as caught:
        check(site, config)
    assert str(caught.value) == (
        "In 'condition':\n  In 'state' condition 'Gate': unknown entity lock.gate_nope"
    )
    with pytest.raises(
        ConditionError, match=r"the 'state' entity input_select.gone is unavailable"
    ):
        check(
            site,
            {"condition": "state", "entity_id": "lock.gate_south", "state": "input_select.gone"},
        )


async def test_state_condition_for(site: Hub, clock: ManualClock) -> None:
    held = condition(
        site,
        {
            "condition": "state",
            "entity_id": "lock.gate_north",
            "state": "unlocked",
            "for": "00:05:00",
        },
    )
    assert not held.check({})
    await clock.advance(299)
    assert not held.check({})
    await clock.advance(1)
    assert held.check({})  # exactly 5 minutes: held (the instant a `for:` trigger fires)
    site.states.set("lock.gate_north", "locked")
    site.states.set("lock.gate_north", "unlocked")
    assert not held.check({})
    site.states.set("lock.gate_north", "unlocked", {"battery": 19})  # attributes only
    await clock.advance(300)
    assert held.check({})


async def test_state_condition_templated_for(site: Hub, clock: ManualClock) -> None:
    config = {"condition": "state", "entity_id": "lock.gate_north", "state": "unlocked"}
    templated = condition(site, {**config, "for": "{{ hold }}"})
    in_minutes = condition(site, {**config, "for": {"minutes": "{{ hold_minutes }}"}})
    await clock.advance(120)
    assert templated.check({"hold": 60})
    assert not templated.check({"hold": 180})
    assert in_minutes.check({"hold_minutes": 2})
    assert not in_minutes.check({"hold_minutes": 3})
    with pytest.raises(ConditionError, match="invalid 'for'"):
        templated.check({"hold": "soon"})
    with pytest.raises(ConditionError, match=r"invalid 'for': duration minutes must be a number"):
        in_minutes.check({})


# -- numeric_state ----------------------------------------------------------------------------
async def test_numeric_state_thresholds(site: Hub) -> None:
    base = {"condition": "numeric_state", "entity_id": "sensor.temp"}
    assert check(site, {**base, "above": 3})
    assert not check(site, {**base, "above": 4.5})  # strictly above
    assert not check(site, {**base, "below": 4.5})  # strictly below
    assert check(site, {**base, "below": "5"})
    assert check(site, {**base, "above": 4, "below": 5})
    assert not check(site, {**base, "above": 5, "below": 10})
    assert check(site, {**base, "above": "input_number.min_temp"})
    site.states.set("input_number.min_temp", "6")
    assert not check(site, {**base, "above": "input_number.min_temp"})
    site.states.set("input_number.min_temp", "unavailable")
    assert not check(site, {**base, "above": "input_number.min_temp"})
    site.states.set("input_number.min_temp", "warm")
    with pytest.raises(
        ConditionError, match=r"the 'above' entity input_number.min_temp state 'warm'"
    ):
        check(site, {**base, "above": "input_number.min_temp"})
    with pytest.raises(ConditionError, match=r"unknown 'below' entity sensor.limit"):
        check(site, {**base, "below": "sensor.limit"})


async def test_numeric_state_values(site: Hub) -> None:
    base = {"condition": "numeric_state", "entity_id": "sensor.temp", "above": 3}
    site.states.set("sensor.temp", "unknown")
    assert not check(site, base)
    site.states.set("sensor.temp", "unavailable")
    assert not check(site, base)
    site.states.set("sensor.temp", "fifty")  # Home Assistant: an error, not just false
    with pytest.raises(ConditionError) as caught:
        check(site, base)
    assert "In 'numeric_state' condition: entity sensor.temp state 'fifty' cannot be processed" in (
        str(caught.value)
    )
    with pytest.raises(ConditionError, match=r"unknown entity sensor.nope"):
        check(site, {**base, "entity_id": "sensor.nope"})


async def test_numeric_state_attribute_template_and_several_entities(site: Hub) -> None:
    battery = {"condition": "numeric_state", "entity_id": "lock.gate_north", "attribute": "battery"}
    assert check(site, {**battery, "below": 25})
    assert not check(site, {**battery, "below": 20})
    assert not check(site, {**battery, "attribute": "nope", "below": 25})
    doubled = {
        "condition": "numeric_state",
        "entity_id": "sensor.temp",
        "value_template": "{{ state.state | float * factor }}",
        "above": 8,
    }
    assert check(site, doubled, factor=2)
    assert not check(site, doubled, factor=1)
    with pytest.raises(ConditionError, match="template error"):
        check(site, doubled)  # factor undefined
    site.states.set("sensor.other", "10")
    both = {"condition": "numeric_state", "entity_id": ["sensor.temp", "sensor.other"]}
    assert check(site, {**both, "above": 4})
    assert not check(site, {**both, "above": 5})


# -- time -------------------------------------------------------------------------------------
async def test_time_condition_in_local_time(site: Hub, clock: ManualClock) -> None:
    morning = condition(site, {"condition": "time", "after": "05:30", "before": "07:00"})
    assert morning.check({})  # 06:00 in Shanghai, 22:00 UTC
    assert check(site, {"condition": "time", "after": "06:00"})  # after is inclusive
    assert not check(site, {"condition": "time", "before": "06:00"})  # before is exclusive
    assert check(site, {"condition": "time", "weekday": "sun"})  # Sunday in Shanghai …
    assert not check(site, {"condition": "time", "weekday": ["sat"]})  # … Saturday in UTC
    assert check(site, {"condition": "time", "weekday": ["sat", "sun"], "before": "06:00:01"})
    await clock.advance_to(local(2026, 11, 29, 7, 0))
    assert not morning.check({})


async def test_time_condition_across_midnight(site: Hub, clock: ManualClock) -> None:
    night = condition(site, {"condition": "time", "after": "23:00", "before": "05:00"})
    expected = [
        (local(2026, 11, 29, 6, 0), False),
        (local(2026, 11, 29, 12, 0), False),
        (local(2026, 11, 29, 22, 59, 59), False),
        (local(2026, 11, 29, 23, 0), True),
        (local(2026, 11, 29, 23, 30), True),
        (local(2026, 11, 30, 0, 0), True),
        (local(2026, 11, 30, 2, 0), True),
        (local(2026, 11, 30, 4, 59, 59), True),
        (local(2026, 11, 30, 5, 0), False),
    ]
    for moment, result in expected:
        await clock.advance_to(moment)
        assert night.check({}) is result, moment
    weeknight = condition(
        site, {"condition": "time", "after": "23:00", "before": "05:00", "weekday": "mon"}
    )
    await clock.advance_to(local(2026, 11, 30, 23, 30))  # Monday night
    assert weeknight.check({})
    await clock.advance_to(local(2026, 12, 1, 1, 0))  # after midnight it is Tuesday (as in HA)
    assert not weeknight.check({})


async def test_time_condition_with_entities(site: Hub, clock: ManualClock) -> None:
    site.states.set(
        "input_datetime.night_start", "23:00:00", {"has_time": True, "hour": 23, "minute": 0}
    )
    site.states.set("time.night_end", "05:30:00")
    site.states.set(
        "sensor.next_patrol", "2026-11-29T06:30:00+08:00", {"device_class": "timestamp"}
    )
    night = condition(
        site,
        {"condition": "time", "after": "input_datetime.night_start", "before": "time.night_end"},
    )
    patrol = condition(site, {"condition": "time", "before": "sensor.next_patrol"})
    assert not night.check({})
    assert patrol.check({})  # 06:00 < 06:30
    await clock.advance_to(local(2026, 11, 29, 23, 15))
    assert night.check({})
    assert not patrol.check({})
    site.states.set("time.night_end", "unavailable")
    assert not night.check({})
    with pytest.raises(ConditionError, match=r"unknown 'after' entity input_datetime.nope"):
        check(site, {"condition": "time", "after": "input_datetime.nope"})


# -- sun --------------------------------------------------------------------------------------
def _sun_times(day: date) -> tuple[datetime, datetime]:
    observer = Observer(LATITUDE, LONGITUDE, 0.0)
    return sunrise(observer, day, SHANGHAI), sunset(observer, day, SHANGHAI)


async def test_sun_condition_follows_astral(site: Hub, clock: ManualClock) -> None:
    rise, fall = _sun_times(date(2026, 11, 29))
    assert local(2026, 11, 29, 6, 1) < rise < fall  # sanity: the clock starts before sunrise
    configs = {
        "after_sunrise": {"condition": "sun", "after": "sunrise"},
        "before_sunrise": {"condition": "sun", "before": "sunrise"},
        "after_sunset": {"condition": "sun", "after": "sunset"},
        "before_sunset": {"condition": "sun", "before": "sunset"},
        "day": {"condition": "sun", "after": "sunrise", "before": "sunset"},
        "night": {"condition": "sun", "after": "sunset", "before": "sunrise"},
        "late_evening": {"condition": "sun", "after": "sunset", "after_offset": "01:00:00"},
        "early_evening": {"condition": "sun", "before": "sunset", "before_offset": "-01:00:00"},
    }
    compiled = {name: condition(site, config) for name, config in configs.items()}

    def results() -> set[str]:
        return {name for name, cond in compiled.items() if cond.check({})}

    second = timedelta(seconds=1)
    minute = timedelta(minutes=1)
    timeline = [
        (local(2026, 11, 29, 6, 0), {"before_sunrise", "before_sunset", "night", "early_evening"}),
        (rise - second, {"before_sunrise", "before_sunset", "night", "early_evening"}),
        (rise + second, {"after_sunrise", "before_sunset", "day", "early_evening"}),
        (fall - 61 * minute, {"after_sunrise", "before_sunset", "day", "early_evening"}),
        (fall - 59 * minute, {"after_sunrise", "before_sunset", "day"}),
        (fall - second, {"after_sunrise", "before_sunset", "day"}),
        (fall + second, {"after_sunrise", "after_sunset", "night"}),
        (fall + 59 * minute, {"after_sunrise", "after_sunset", "night"}),
        (fall + 61 * minute, {"after_sunrise", "after_sunset", "night", "late_evening"}),
        # a new local day: "before sunrise" is about the coming sunrise again
        (local(2026, 11, 30, 0, 30), {"before_sunrise", "before_sunset", "night", "early_evening"}),
    ]
    for moment, expected in timeline:
        await clock.advance_to(moment)
        assert results() == expected, moment


async def test_sun_condition_without_sunrise(site: Hub, clock: ManualClock) -> None:
    site.config.latitude = 89.0  # polar night in November: no sunrise, no sunset
    assert not check(site, {"condition": "sun", "after": "sunrise"})
    assert not check(site, {"condition": "sun", "before": "sunset"})
    assert not check(site, {"condition": "sun", "after": "sunset", "before": "sunrise"})
    site.config.latitude = LATITUDE  # the per-day cache follows the location
    rise, _fall = _sun_times(date(2026, 11, 29))
    await clock.advance_to(rise + timedelta(minutes=1))
    assert check(site, {"condition": "sun", "after": "sunrise"})


# -- template and trigger ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ true }}", True),
        ("{{ 'true' }}", True),
        ("{{ 'On' }}", True),
        ("{{ 'yes' }}", True),
        ("{{ 'enable' }}", True),
        ("{{ 1 }}", True),
        ("{{ 2.5 }}", True),
        ("{{ -1 }}", True),
        ("{{ false }}", False),
        ("{{ 'off' }}", False),
        ("{{ 'no' }}", False),
        ("{{ 0 }}", False),
        ("{{ 0.0 }}", False),
        ("{{ '' }}", False),
        ("{{ none }}", False),
        ("{{ 'unlocked' }}", False),
        ("{{ [1] }}", False),
        ("true", True),
        ("off", False),
    ],
)
async def test_template_condition_truth(site: Hub, source: str, expected: bool) -> None:
    assert check(site, {"condition": "template", "value_template": source}) is expected


async def test_template_condition_reads_states_and_variables(site: Hub) -> None:
    gate = "{{ is_state('lock.gate_north', 'unlocked') and trigger.id == 'north' }}"
    assert check(site, gate, trigger={"id": "north"})
    assert not check(site, gate, trigger={"id": "south"})
    with pytest.raises(ConditionError) as caught:
        check(site, [{"condition": "template", "value_template": "{{ 1 / 0 }}", "alias": "bad"}])
    assert str(caught.value).startswith(
        "In 'condition':\n  In 'template' condition 'bad': ZeroDivisionError: division by zero"
    )


async def test_trigger_condition(site: Hub) -> None:
    one = {"condition": "trigger", "id": "north"}
    several = {"condition": "trigger", "id": ["north", 2]}
    assert check(site, one, trigger={"id": "north"})
    assert not check(site, one, trigger={"id": "south"})
    assert not check(site, one, trigger={"platform": "state"})
    assert not check(site, one)
    assert not check(site, one, trigger="north")
    assert check(site, several, trigger={"id": 2})
    assert check(site, several, trigger={"id": "2"})


# -- and / or / not, enabled, errors ----------------------------------------------------------
T = {"condition": "template", "value_template": "{{ true }}"}
F = {"condition": "template", "value_template": "{{ false }}"}
BROKEN = {"condition": "state", "entity_id": "lock.missing", "state": "on"}
OFF = {**T, "enabled": False}


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"condition": "and", "conditions": [T, T]}, True),
        ({"condition": "and", "conditions": [T, F]}, False),
        ({"condition": "or", "conditions": [F, T]}, True),
        ({"condition": "or", "conditions": [F, F]}, False),
        ({"condition": "not", "conditions": [F, F]}, True),
        ({"condition": "not", "conditions": [F, T]}, False),
        ({"and": [T, {"or": [F, {"not": [F]}]}]}, True),
        ({"condition": [T, F]}, False),
        # errors decide only when nothing else does (Home Assistant)
        ({"condition": "and", "conditions": [BROKEN, F]}, False),
        ({"condition": "or", "conditions": [BROKEN, T]}, True),
        ({"condition": "not", "conditions": [BROKEN, T]}, False),
        # enabled: false skips a condition: it neither passes nor fails its parent
        (OFF, True),
        ({**F, "enabled": False}, True),
        ({"condition": "and", "conditions": [OFF, F]}, False),
        ({"condition": "and", "conditions": [OFF, T]}, True),
        ({"condition": "or", "conditions": [OFF]}, False),
        ({"condition": "or", "conditions": [OFF, T]}, True),
        ({"condition": "not", "conditions": [{**T, "enabled": False}]}, True),
        ({"condition": "and", "conditions": [BROKEN], "enabled": False}, True),
        ({"or": [BROKEN], "enabled": "{{ 1 == 2 }}"}, True),
        ({**F, "enabled": "{{ 1 == 1 }}"}, False),
    ],
)
async def test_logic(site: Hub, config: Any, expected: bool) -> None:
    assert check(site, config) is expected


@pytest.mark.parametrize(
    "config",
    [
        {"condition": "and", "conditions": [BROKEN, T]},
        {"condition": "or", "conditions": [BROKEN, F]},
        {"condition": "not", "conditions": [BROKEN, F]},
    ],
)
async def test_logic_errors(site: Hub, config: Any) -> None:
    with pytest.raises(ConditionError, match=r"unknown entity lock.missing"):
        check(site, config)


async def test_error_messages_name_position_and_alias(site: Hub) -> None:
    conditions = condition(
        site,
        [
            T,
            {"or": [F, {**BROKEN, "alias": "Alarm armed"}], "alias": "Either"},
            {**BROKEN, "entity_id": "lock.gone"},
        ],
    )
    with pytest.raises(ConditionError) as caught:
        conditions.check({})
    assert str(caught.value) == (
        "In 'condition' (item 2 of 3):\n"
        "  In 'or' 'Either' (item 2 of 2):\n"
        "    In 'state' condition 'Alarm armed': unknown entity lock.missing\n"
        "In 'condition' (item 3 of 3):\n"
        "  In 'state' condition: unknown entity lock.gone"
    )


async def test_enabled_template_is_rendered_once_at_setup(site: Hub) -> None:
    flag = {**F, "enabled": "{{ is_state('lock.gate_south', 'locked') }}"}
    compiled = compile_condition(site, validate_conditions(flag)[0])
    assert not compiled.check({})  # enabled (south gate locked), and false
    site.states.set("lock.gate_south", "unlocked")
    assert not compiled.check({})  # still enabled: decided when compiled
    assert compile_condition(site, validate_conditions(flag)[0]).check({})  # now disabled
    with pytest.raises(ConditionError, match="'enabled' template failed"):
        compile_condition(site, validate_conditions({**F, "enabled": "{{ 1 / 0 }}"})[0])


async def test_compiled_conditions_are_reusable_objects(site: Hub) -> None:
    empty = compile_conditions(site, [])
    assert empty.check({}) and empty.check()
    single = compile_condition(site, validate_conditions(T)[0])
    assert isinstance(single, Condition) and single.kind == "template"
    assert "template" in repr(single)
    with pytest.raises(ValueError, match="unknown condition"):
        compile_condition(site, {"condition": "zone"})


# -- a Home Assistant automation's conditions, as written in YAML -----------------------------
async def test_home_assistant_yaml_conditions(site: Hub, clock: ManualClock) -> None:
    configs = parse_yaml(
        """
        conditions:
          - condition: time
            after: "23:00:00"
            before: "05:00:00"
            weekday: [mon, tue, wed, thu, fri, sat, sun]
          - or:
              - "{{ is_state('lock.gate_north', 'unlocked') }}"
              - condition: state
                entity_id: lock.gate_south
                state: unlocked
                for: {minutes: 5}
          - not:
              - condition: trigger
                id: manual
          - condition: numeric_state
            entity_id: sensor.temp
            below: 30
          - alias: Disabled while testing
            condition: state
            entity_id: lock.missing
            state: "on"
            enabled: false
        """
    )["conditions"]
    night_watch = condition(site, configs)
    assert not night_watch.check({"trigger": {"id": "camera"}})  # 06:00: not night
    await clock.advance_to(local(2026, 11, 29, 23, 30))
    assert night_watch.check({"trigger": {"id": "camera"}})
    assert not night_watch.check({"trigger": {"id": "manual"}})
    site.states.set("lock.gate_north", "locked")
    assert not night_watch.check({"trigger": {"id": "camera"}})
    site.states.set("lock.gate_south", "unlocked")
    await clock.advance(300)
    assert night_watch.check({"trigger": {"id": "camera"}})


def test_durations_module_does_not_import_jinja() -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom shouwang.core.durations import DURATION\n"
        "DURATION('{{ x }}'); DURATION('00:01')\nprint('jinja2' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
