"""Templates: Home Assistant's language over this hub's states, places and clock; result
parsing; what a render read; the sandbox (escape payloads) and the bounds (memory, work, output).
"""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shouwang.core import template as template_module
from shouwang.core.clock import ManualClock
from shouwang.core.hub import Hub
from shouwang.core.places import Place
from shouwang.core.template import (
    MAX_OUTPUT,
    RenderInfo,
    Template,
    TemplateEnvironment,
    TemplateError,
    is_template_string,
    parse_result,
    result_as_boolean,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def site(hub: Hub) -> Hub:
    """The hub with a few entities and places, in Shanghai time."""
    hub.config.time_zone = "Asia/Shanghai"
    hub.states.set("lock.gate_north", "unlocked", {"friendly_name": "North gate", "battery": 80})
    hub.states.set("lock.gate_south", "locked")
    hub.states.set("sensor.temp", "4.5", {"unit_of_measurement": "°C", "display_precision": 0})
    hub.states.set("sensor.flaky", "unavailable")
    hub.states.set("binary_sensor.door_5_1", "on")
    hub.states.set("group.gates", "on", {"entity_id": ["lock.gate_north", "lock.gate_south"]})
    hub.states.set(
        "group.all_doors", "on", {"entity_id": ["group.gates", "binary_sensor.door_5_1"]}
    )
    hub.places.add(Place("community", "示例花园", "community"))
    hub.places.add(Place("building_5", "5号楼", "building", parent_id="community"))
    hub.places.add(Place("unit_5_1", "5号楼1单元", "unit", parent_id="building_5"))
    hub.places.bind("binary_sensor.door_5_1", "unit_5_1")
    hub.places.bind("lock.gate_north", "community")
    return hub


def render(hub: Hub, source: str, **variables: Any) -> Any:
    return hub.templates.template(source).render(variables)


def info_of(hub: Hub, source: str, **variables: Any) -> RenderInfo:
    return hub.templates.template(source).render_with_info(variables)[1]


# -- basics -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ x }}", True),
        ("{% if x %}{% endif %}", True),
        ("{# note #}", True),
        ("plain text", False),
        ("{ not a template }", False),
        ("50%", False),
        ("", False),
    ],
)
def test_is_template_string(text: str, expected: bool) -> None:
    assert is_template_string(text) is expected


async def test_hub_property_is_one_lazily_created_environment(hub: Hub) -> None:
    assert isinstance(hub.templates, TemplateEnvironment)
    assert hub.templates is hub.templates


def test_a_bare_hub_start_does_not_import_jinja() -> None:
    code = (
        "import asyncio, sys\n"
        "from shouwang.core.hub import Hub\n"
        "async def main():\n"
        "    hub = Hub()\n"
        "    await hub.start()\n"
        "    await hub.stop(timeout=1)\n"
        "asyncio.run(main())\n"
        "print('jinja2' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


async def test_static_strings_never_touch_jinja(hub: Hub) -> None:
    template = hub.templates.template("  North gate  ")
    assert template.is_static
    assert template.render() == "North gate"
    assert hub.templates.template("21.5").render() == 21.5
    assert hub.templates.template("21.5").render(parse_result=False) == "21.5"
    result, info = hub.templates.template("locked").render_with_info()
    assert result == "locked"
    assert not info.entities and not info.domains and not info.all_states
    assert hub.templates._sandbox is None  # nothing compiled, no Jinja environment built


async def test_compilation_is_lazy_and_cached(hub: Hub) -> None:
    source = "{{ 1 + }}"
    template = hub.templates.template(source)  # a broken template is accepted …
    assert template._compiled is None
    with pytest.raises(TemplateError, match="syntax error"):  # … and reported when rendered
        template.render()
    with pytest.raises(TemplateError, match="syntax error"):
        template.ensure_valid()
    good = hub.templates.template("{{ 1 + 1 }}")
    assert hub.templates.template("{{ 1 + 1 }}") is good
    assert good.render() == 2
    assert good._compiled is not None


async def test_template_cache_is_bounded(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(template_module, "MAX_CACHED_TEMPLATES", 3)
    env = hub.templates
    first = env.template("{{ 1 }}")
    for number in range(2, 6):
        env.template(f"{{{{ {number} }}}}")
    assert len(env._templates) == 3
    assert env.template("{{ 1 }}") is not first  # evicted, made again
    assert first.render() == 1  # an evicted template still works for whoever holds it


async def test_template_needs_a_string(hub: Hub) -> None:
    with pytest.raises(TypeError):
        Template(42, hub.templates)  # type: ignore[arg-type]


# -- parse_result -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", 5),
        ("-1.5", -1.5),
        ("+5", 5),
        ("5.", 5.0),
        (".5", 0.5),
        ("0", 0),
        ("0.25", 0.25),
        ("0123", "0123"),  # a code, not a number
        ("00", "00"),
        ("-0123", "-0123"),
        ("1e5", "1e5"),
        ("0x10", "0x10"),
        ("1_000", "1_000"),
        ("1j", "1j"),
        ("True", True),
        ("False", False),
        ("None", None),
        ("true", "true"),
        ("on", "on"),
        ("[1, 'a']", [1, "a"]),
        ("{'a': 1}", {"a": 1}),
        ("(1, 2)", (1, 2)),
        ("1, 2", (1, 2)),
        ("{1, 2}", {1, 2}),
        ("'quoted'", "'quoted'"),
        ("b'x'", "b'x'"),
        ("...", "..."),
        ("hello, world", "hello, world"),
        ("[1, 2", "[1, 2"),
        ("9007199254740991", 9007199254740991),
        ("9007199254740992", "9007199254740992"),  # beyond 2**53: kept exactly, as text
        ("110105194912310021", "110105194912310021"),  # an 18-digit resident id
        ("1" * 5000, "1" * 5000),  # too long to be an int
        ("", ""),
    ],
)
def test_parse_result(text: str, expected: Any) -> None:
    result = parse_result(text)
    assert result == expected
    assert type(result) is type(expected)


async def test_rendered_results_are_parsed_after_stripping(hub: Hub) -> None:
    assert render(hub, "  {{ 40 + 2 }}  ") == 42
    assert render(hub, "{{ '0123' }}") == "0123"
    assert render(hub, "{{ [1, 2] }}") == [1, 2]
    assert render(hub, "{{ 1 > 0 }}") is True
    assert render(hub, "{{ none }}") is None
    assert hub.templates.template("{{ 42 }}").render(parse_result=False) == "42"


async def test_parsed_lists_are_not_shared_between_renders(hub: Hub) -> None:
    template = hub.templates.template("{{ [1, 2] }}")
    first = template.render()
    first.append(3)
    assert template.render() == [1, 2]


def test_result_as_boolean() -> None:
    truthy: list[Any] = [True, "true", "On", " yes ", "enable", "1", 1, 2.5, -1]
    falsy: list[Any] = [False, "false", "off", "no", "disable", "0", 0, 0.0, None, "", "maybe", [1]]
    for value in truthy:
        assert result_as_boolean(value) is True, value
    for value in falsy:
        assert result_as_boolean(value) is False, value


# -- states -----------------------------------------------------------------------------------
async def test_states_function_and_objects(site: Hub) -> None:
    assert render(site, "{{ states('lock.gate_north') }}") == "unlocked"
    assert render(site, "{{ states('LOCK.Gate_North') }}") == "unlocked"
    assert render(site, "{{ states('lock.nope') }}") == "unknown"
    assert render(site, "{{ states('sensor.temp', with_unit=True) }}") == "4.5 °C"
    assert render(site, "{{ states('sensor.temp', rounded=True) }}") == 4  # display_precision 0
    assert render(site, "{{ states.lock.gate_north.state }}") == "unlocked"
    assert render(site, "{{ states.lock.gate_north.name }}") == "North gate"
    assert render(site, "{{ states.lock.gate_south.name }}") == "gate south"
    assert render(site, "{{ states.lock.gate_north.attributes.battery }}") == 80
    assert render(site, "{{ states.lock.gate_north.entity_id }}") == "lock.gate_north"
    assert render(site, "{{ states.lock.gate_north.domain }}") == "lock"
    assert render(site, "{{ states.lock.gate_north.object_id }}") == "gate_north"
    assert render(site, "{{ states.sensor.temp.state_with_unit }}") == "4.5 °C"
    assert render(site, "{{ states['lock.gate_north'].state }}") == "unlocked"
    assert render(site, "{{ states.lock['gate_north']['state'] }}") == "unlocked"
    assert render(site, "{{ states.lock.nope is none }}") is True
    assert render(site, "{{ states.lock.gate_north == states.lock.gate_north }}") is True


async def test_last_changed_is_a_datetime_from_the_hub_clock(site: Hub, clock: ManualClock) -> None:
    changed = render(site, "{{ states.lock.gate_north.last_changed.isoformat() }}")
    assert changed == "2026-11-28T22:00:00+00:00"
    await clock.advance(90)
    assert render(site, "{{ (now() - states.lock.gate_north.last_changed).seconds }}") == 90


async def test_iterating_a_domain_and_all_states(site: Hub) -> None:
    assert render(site, "{{ states.lock | map(attribute='entity_id') | list }}") == [
        "lock.gate_north",
        "lock.gate_south",
    ]
    assert render(site, "{{ states.lock | count }}") == 2
    assert render(site, "{{ states | selectattr('state', 'eq', 'on') | list | count }}") == 3
    names = render(site, "{% for s in states %}{{ s.entity_id }} {% endfor %}").split()
    assert names == sorted(names) and len(names) == 7
    locked = (
        "{{ states.lock | selectattr('state', 'eq', 'locked') | map(attribute='name') | join }}"
    )
    assert render(site, locked) == "gate south"


async def test_invalid_domain_or_entity_id_is_an_error(site: Hub) -> None:
    with pytest.raises(TemplateError, match="Invalid domain name"):
        render(site, "{{ states['Lock'] }}")
    with pytest.raises(TemplateError, match="Invalid entity ID"):
        render(site, "{{ states['lock.bad id'] }}")


async def test_is_state_state_attr_has_value(site: Hub) -> None:
    assert render(site, "{{ is_state('lock.gate_north', 'unlocked') }}") is True
    assert render(site, "{{ is_state('lock.gate_north', ['locked', 'jammed']) }}") is False
    assert render(site, "{{ is_state('lock.gate_north', ['locked', 'unlocked']) }}") is True
    assert render(site, "{{ is_state('lock.nope', 'unlocked') }}") is False
    assert render(site, "{{ is_state(42, 'unlocked') }}") is False
    assert render(site, "{{ state_attr('lock.gate_north', 'battery') }}") == 80
    assert render(site, "{{ state_attr('lock.gate_north', 'nope') }}") is None
    assert render(site, "{{ state_attr('lock.nope', 'battery') }}") is None
    assert render(site, "{{ 'lock.gate_north' | state_attr('battery') }}") == 80
    assert render(site, "{{ is_state_attr('lock.gate_north', 'battery', 80) }}") is True
    assert render(site, "{{ is_state_attr('lock.gate_north', 'battery', 79) }}") is False
    assert render(site, "{{ is_state_attr('lock.gate_north', 'nope', None) }}") is False
    assert render(site, "{{ has_value('lock.gate_north') }}") is True
    assert render(site, "{{ has_value('sensor.flaky') }}") is False
    assert render(site, "{{ has_value('lock.nope') }}") is False
    assert render(site, "{{ 'lock.gate_north' is has_value }}") is True
    assert render(site, "{{ 'lock.gate_north' is is_state('unlocked') }}") is True
    assert render(site, "{{ 'lock.gate_north' is is_state_attr('battery', 80) }}") is True
    assert render(site, "{{ 'lock.gate_north' | has_value }}") is True


async def test_state_filters_and_tests_follow_changes(site: Hub) -> None:
    """Filters and tests that read state must not be computed once at compile time."""
    template = site.templates.template(
        "{{ 'lock.gate_south' | states }} {{ 'lock.gate_south' is is_state('locked') }}"
    )
    assert template.render() == "locked True"
    site.states.set("lock.gate_south", "unlocked")
    assert template.render() == "unlocked False"


async def test_trigger_and_this_come_in_as_variables(site: Hub) -> None:
    trigger = {"id": "north", "to_state": site.states.get("lock.gate_north")}
    assert render(site, "{{ trigger.id }}", trigger=trigger) == "north"
    assert render(site, "{{ trigger.to_state.state }}", trigger=trigger) == "unlocked"
    assert render(site, "{{ trigger.to_state.attributes.friendly_name }}", trigger=trigger) == (
        "North gate"
    )
    assert render(site, "{{ this.entity_id }}", this={"entity_id": "automation.x"}) == (
        "automation.x"
    )
    assert render(site, "{{ now }}", now="shadowed") == "shadowed"  # variables win


async def test_expand(site: Hub) -> None:
    ids = "{{ expand(%s) | map(attribute='entity_id') | list }}"
    both = ["lock.gate_north", "lock.gate_south"]
    assert render(site, ids % "'group.gates'") == both
    assert render(site, ids % "'group.all_doors'") == ["binary_sensor.door_5_1", *both]
    assert render(site, ids % "'lock.gate_south', ['lock.gate_north', 'lock.nope']") == both
    assert render(site, ids % "states.lock.gate_north, 'lock.gate_north'") == both[:1]
    assert render(site, ids % "states.lock") == both
    assert render(site, "{{ 'group.gates' | expand | map(attribute='state') | list }}") == [
        "unlocked",
        "locked",
    ]
    site.states.set("group.loop_a", "on", {"entity_id": ["group.loop_b", "lock.gate_south"]})
    site.states.set("group.loop_b", "on", {"entity_id": ["group.loop_a"]})
    assert render(site, ids % "'group.loop_a'") == ["lock.gate_south"]  # cycles end


async def test_places(site: Hub) -> None:
    assert render(site, "{{ place_name('building_5') }}") == "5号楼"
    assert render(site, "{{ place_name('nowhere') }}") is None
    assert render(site, "{{ place_id('binary_sensor.door_5_1') }}") == "unit_5_1"
    assert render(site, "{{ place_id(states.lock.gate_north) }}") == "community"
    assert render(site, "{{ place_id('lock.gate_south') }}") is None
    assert render(site, "{{ place_entities('building_5') }}") == ["binary_sensor.door_5_1"]
    assert render(site, "{{ place_entities('community') }}") == [
        "binary_sensor.door_5_1",
        "lock.gate_north",
    ]
    assert render(site, "{{ place_entities('nowhere') }}") == []
    assert render(site, "{{ 'unit_5_1' | place_name }}") == "5号楼1单元"
    assert render(site, "{{ 'binary_sensor.door_5_1' | place_id | place_name }}") == "5号楼1单元"
    doors = "{{ place_entities('building_5') | select('is_state', 'on') | list }}"
    assert render(site, doors) == ["binary_sensor.door_5_1"]


# -- numbers and conversions ------------------------------------------------------------------
async def test_float_int_bool_filters_and_functions(site: Hub) -> None:
    assert render(site, "{{ states('sensor.temp') | float }}") == 4.5
    assert render(site, "{{ float(states('sensor.temp')) + 1 }}") == 5.5
    assert render(site, "{{ 'abc' | float(0) }}") == 0
    assert render(site, "{{ float('abc', default=-1) }}") == -1
    assert render(site, "{{ '4.7' | int }}") == 4
    assert render(site, "{{ 'ff' | int(base=16) }}") == 255
    assert render(site, "{{ int('x', 7) }}") == 7
    assert render(site, "{{ 'on' | bool }}") is True
    assert render(site, "{{ bool('off') }}") is False
    assert render(site, "{{ 'maybe' | bool(none) }}") is None
    assert render(site, "{{ states('sensor.temp') | is_number }}") is True
    assert render(site, "{{ 'nan' is is_number }}") is False
    for source, name in (
        ("{{ states('sensor.flaky') | float }}", "float"),
        ("{{ int('abc') }}", "int"),
        ("{{ 'maybe' | bool }}", "bool"),
    ):
        with pytest.raises(TemplateError, match=f"{name} got invalid input") as caught:
            render(site, source)
        assert "no default" in str(caught.value)


async def test_iif_min_max_round_multiply(hub: Hub) -> None:
    assert render(hub, "{{ iif(1 > 0, 'yes', 'no') }}") == "yes"
    assert render(hub, "{{ (1 < 0) | iif('yes', 'no') }}") == "no"
    assert render(hub, "{{ none | iif('yes', 'no', 'none') }}") == "none"
    assert render(hub, "{{ iif(0) }}") is False
    assert render(hub, "{{ min([3, 1, 2]) }} {{ max(3, 1, 2) }} {{ [4, 9] | max }}") == "1 3 9"
    assert render(hub, "{{ 2.567 | round(2) }}") == 2.57
    assert render(hub, "{{ 2.5 | round }}") == 2
    assert render(hub, "{{ 2.1 | round(0, 'ceil') }}") == 3
    assert render(hub, "{{ 2.9 | round(0, 'floor') }}") == 2
    assert render(hub, "{{ 2.3 | round(1, 'half') }}") == 2.5
    assert render(hub, "{{ 'x' | round(default=0) }}") == 0
    assert render(hub, "{{ '3' | multiply(2) }}") == 6.0
    with pytest.raises(TemplateError, match="multiply got invalid input"):
        render(hub, "{{ 'x' | multiply(2) }}")
    with pytest.raises(TemplateError, match="round got invalid input"):
        render(hub, "{{ 'x' | round }}")


async def test_regex_functions(hub: Hub) -> None:
    assert render(hub, "{{ 'gate_north_2' | regex_match('gate_') }}") is True
    assert render(hub, "{{ 'north_gate' | regex_match('gate') }}") is False
    assert render(hub, "{{ 'north_gate' | regex_search('GATE', ignorecase=True) }}") is True
    assert render(hub, "{{ 'door 5-1' | regex_replace('(\\\\d)-(\\\\d)', '\\\\2-\\\\1') }}") == (
        "door 1-5"
    )
    assert render(hub, "{{ 'a1b22c333' | regex_findall('\\\\d+') }}") == ["1", "22", "333"]
    assert render(hub, "{{ 'a1b22' | regex_findall_index('\\\\d+', 1) }}") == 22
    assert render(hub, "{{ 'unit_5' is match('unit_') }}") is True
    assert render(hub, "{{ 'x unit_5' is search('unit_') }}") is True
    with pytest.raises(TemplateError, match="error"):
        render(hub, "{{ 'x' | regex_match('(') }}")


async def test_json_and_slugify(hub: Hub) -> None:
    assert render(hub, "{{ {'b': 1, 'a': [1, 2]} | to_json }}") == {
        "b": 1,
        "a": [1, 2],
    }
    text = hub.templates.template("{{ {'b': 1, 'a': '门'} | to_json(sort_keys=True) }}")
    assert text.render(parse_result=False) == '{"a":"门","b":1}'
    ascii_text = hub.templates.template("{{ {'a': '门'} | to_json(ensure_ascii=True) }}")
    assert ascii_text.render(parse_result=False) == '{"a": "\\u95e8"}'
    pretty = hub.templates.template("{{ {'a': 1} | to_json(pretty_print=True) }}")
    assert pretty.render(parse_result=False) == '{\n  "a": 1\n}'
    assert render(hub, "{{ ('{\"a\": [1, 2]}' | from_json).a[1] }}") == 2
    assert render(hub, "{{ 'not json' | from_json(default='bad') }}") == "bad"
    with pytest.raises(TemplateError, match="from_json got invalid input"):
        render(hub, "{{ 'not json' | from_json }}")
    assert render(hub, "{{ 'North Gate #2' | slugify }}") == "north_gate_2"
    assert render(hub, "{{ slugify('Ünïcode Straße', '-') }}") == "unicode-strae"
    assert render(hub, "{{ '北门' | slugify }}") == "unknown"


# -- time -------------------------------------------------------------------------------------
async def test_now_is_local_and_from_the_hub_clock(site: Hub, clock: ManualClock) -> None:
    # 22:00 UTC on Saturday 28 November is 06:00 on Sunday 29 November in Shanghai
    assert render(site, "{{ now().isoformat() }}") == "2026-11-29T06:00:00+08:00"
    assert render(site, "{{ now().tzinfo }}") == "Asia/Shanghai"
    assert render(site, "{{ now().weekday() }}") == 6
    assert render(site, "{{ utcnow().isoformat() }}") == "2026-11-28T22:00:00+00:00"
    await clock.advance(3600)
    assert render(site, "{{ now().hour }}") == 7
    assert render(site, "{{ (now() - timedelta(hours=8)).hour }}") == 23


async def test_today_at(site: Hub) -> None:
    assert render(site, "{{ today_at('23:00').isoformat() }}") == "2026-11-29T23:00:00+08:00"
    assert render(site, "{{ today_at().isoformat() }}") == "2026-11-29T00:00:00+08:00"
    assert render(site, "{{ now() > today_at('05:30') }}") is True
    assert render(site, "{{ ('07:15:30' | today_at).minute }}") == 15
    with pytest.raises(TemplateError, match="could not convert"):
        render(site, "{{ today_at('late') }}")


async def test_timestamps_and_datetimes(site: Hub) -> None:
    assert (
        render(site, "{{ as_timestamp(now()) }}")
        == datetime(2026, 11, 28, 22, tzinfo=UTC).timestamp()
    )
    assert render(site, "{{ as_timestamp('2026-11-29T06:00:00+08:00') }}") == 1795903200.0
    assert render(site, "{{ as_timestamp('2026-11-29 06:00:00') }}") == 1795903200.0  # local
    assert render(site, "{{ as_timestamp('soon', 0) }}") == 0
    with pytest.raises(TemplateError, match="as_timestamp got invalid input"):
        render(site, "{{ as_timestamp('soon') }}")
    assert render(site, "{{ as_datetime('2026-11-29T06:00:00+08:00').hour }}") == 6
    assert render(site, "{{ as_datetime(1795903200).isoformat() }}") == "2026-11-28T22:00:00+00:00"
    assert render(site, "{{ as_datetime('soon') }}") is None
    assert render(site, "{{ as_datetime('soon', 'x') }}") == "x"
    when = render(site, "{{ as_local(as_datetime('2026-11-28T22:00:00+00:00')).isoformat() }}")
    assert when == "2026-11-29T06:00:00+08:00"
    assert render(site, "{{ (as_datetime('2026-11-28T22:00:00Z') | as_local).hour }}") == 6
    assert render(site, "{{ 1795903200 | timestamp_local }}") == "2026-11-29T06:00:00+08:00"
    assert render(site, "{{ 1795903200 | timestamp_utc }}") == "2026-11-28T22:00:00+00:00"
    assert render(site, "{{ 1795903200 | timestamp_custom('%H:%M') }}") == "06:00"
    assert render(site, "{{ strptime('2026-11-29', '%Y-%m-%d').day }}") == 29
    assert render(site, "{{ timedelta(minutes=5).total_seconds() }}") == 300.0


async def test_relative_time(site: Hub, clock: ManualClock) -> None:
    template = site.templates.template("{{ relative_time(states.lock.gate_north.last_changed) }}")
    assert template.render() == "0 seconds"
    await clock.advance(1)
    assert template.render() == "1 second"
    await clock.advance(2 * 3600)
    assert template.render() == "2 hours"
    await clock.advance(86400 * 3)
    assert template.render() == "3 days"
    assert render(site, "{{ relative_time('not a date') }}") == "not a date"


# -- render info ------------------------------------------------------------------------------
async def test_render_info_tracks_what_was_read(site: Hub) -> None:
    source = "{{ is_state('lock.gate_north', 'unlocked') and states('sensor.temp')|float(0) > 3 }}"
    result, info = site.templates.template(source).render_with_info()
    assert result is True
    assert info.entities == {"lock.gate_north", "sensor.temp"}
    assert not info.domains and not info.all_states and not info.has_time
    assert info.matches("sensor.temp") and not info.matches("lock.gate_south")

    assert info_of(site, "{{ state_attr('LOCK.GATE_SOUTH', 'x') }}").entities == {"lock.gate_south"}
    assert info_of(site, "{{ has_value('lock.gate_south') }}").entities == {"lock.gate_south"}
    assert info_of(site, "{{ states.lock.gate_north.state }}").entities == {"lock.gate_north"}
    # a missing entity is tracked too: the result changes when it appears
    assert info_of(site, "{{ states.lock.gate_east }}").entities == {"lock.gate_east"}
    assert info_of(site, "{{ is_state('lock.gate_east', 'on') }}").entities == {"lock.gate_east"}
    # taking the object without reading it is not a read
    assert info_of(site, "{% set x = states.lock.gate_north %}").entities == set()
    assert info_of(site, "{{ expand('group.gates') | count }}").entities == {
        "group.gates",
        "lock.gate_north",
        "lock.gate_south",
    }


async def test_render_info_domains_all_states_and_time(site: Hub) -> None:
    info = info_of(site, "{% for s in states.lock %}{{ s.state }}{% endfor %}")
    assert info.domains == {"lock"} and not info.all_states and not info.entities
    assert info.matches("lock.gate_east") and not info.matches("sensor.temp")
    info = info_of(site, "{{ states | count }}")
    assert info.all_states and info.matches("anything.at_all")
    assert info_of(site, "{{ now() }}").has_time
    assert info_of(site, "{{ today_at('10:00') }}").has_time
    assert not info_of(site, "{{ 1 }}").has_time
    assert "lock" in repr(info_of(site, "{{ states.lock | list }}"))


async def test_a_failed_render_still_reports_what_it_read(site: Hub) -> None:
    template = site.templates.template("{{ states('sensor.flaky') | float }}")
    with pytest.raises(TemplateError) as caught:
        template.render_with_info()
    assert caught.value.render_info is not None
    assert caught.value.render_info.entities == {"sensor.flaky"}


async def test_template_state_objects_are_made_on_access(
    site: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading one entity builds one wrapper, not one per state in the machine."""
    made: list[str] = []
    original = template_module.TemplateState.__init__

    def counting(self: Any, state: Any, collect: bool = True) -> None:
        made.append(state.entity_id)
        original(self, state, collect)

    monkeypatch.setattr(template_module.TemplateState, "__init__", counting)
    assert render(site, "{{ states.lock.gate_north.state }}") == "unlocked"
    assert render(site, "{{ states('sensor.temp') }}") == 4.5
    assert render(site, "{{ is_state('lock.gate_south', 'locked') }}") is True
    assert made == ["lock.gate_north"]


# -- Jinja features still work under the hardening --------------------------------------------
async def test_jinja_language_features(site: Hub) -> None:
    loop = "{% for i in range(3) %}{{ loop.index }}{{ '-' if not loop.last }}{% endfor %}"
    assert render(site, loop) == "1-2-3"
    assert render(site, loop.replace("'-'", "','")) == (1, 2, 3)  # parsed like Home Assistant
    early = "{% for i in range(9) %}{% if i > 2 %}{% break %}{% endif %}{{ i }}{% endfor %}"
    assert render(site, early) == "012"
    assert render(site, "{% for i in [] %}x{% else %}empty{% endfor %}") == "empty"
    assert render(site, "{% for i in range(6) if i is even %}{{ i }}{% endfor %}") == "024"
    counter = "{% set ns = namespace(n=0) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}"
    assert render(site, counter + "{% endfor %}{{ ns.n }}") == 6
    macro = "{% macro door(n) %}door {{ n }}{% endmacro %}{{ door(5) ~ '/' ~ door(6) }}"
    assert render(site, macro) == "door 5/door 6"
    assert render(site, "{% set x %}a{{ 1 + 1 }}b{% endset %}{{ x }}") == "a2b"
    tree = (
        "{% for item in tree recursive %}{{ item.name }}"
        "{% if item.children %}({{ loop(item.children) }}){% endif %}{% endfor %}"
    )
    data = [{"name": "a", "children": [{"name": "b", "children": []}]}, {"name": "c"}]
    assert render(site, tree, tree=data) == "a(b)c"
    assert render(site, "{{ [3, 1, 2] | sort | join(' ') }}") == "1 2 3"
    assert render(site, "{{ [[1], [2]] | sum(start=[]) }}") == [1, 2]
    assert render(site, "{{ [1, 2, 3] | sum }}") == 6
    assert render(site, "{{ 'a' ~ 1 ~ none }}") == "a1None"
    assert render(site, "{{ '%s=%d' % ('a', 5) }}") == "a=5"
    assert render(site, "{{ '%.1f' | format(2.25) }}") == 2.2
    assert render(site, "|{{ '{:>5}|'.format('ab') }}") == "|   ab|"
    assert render(site, "{{ 'a,b'.split(',') | length }}") == 2
    assert render(site, "{{ 'x' | center(5) }}|") == "x  |"
    assert render(site, "{{ 'ab'.replace('a', 'c') ~ 'ab'.center(4, '*') }}") == "cb*ab*"
    assert render(site, "{{ dict(a=1, b=2) }}") == {"a": 1, "b": 2}
    assert render(site, "{{ {'k': 'v'}.items() | list }}") == [("k", "v")]
    assert render(site, "{{ 2 ** 10 }} {{ 3 * 4 }} {{ 'ab' * 2 }} {{ [0] * 2 }}") == (
        "1024 12 abab [0, 0]"
    )
    assert render(site, "{{ ['a', 'b'] | join('-') }} {{ 'x'.join(['1', '2']) }}") == "a-b 1x2"
    assert render(site, "{{ range(3) | list | batch(2) | list }}") == [[0, 1], [2]]
    assert render(site, "{% do [1].count(1) %}ok") == "ok"


async def test_undefined_variables_render_empty_with_a_warning(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="shouwang.core.template"):
        assert render(hub, "<{{ missing }}>") == "<>"
    assert "'missing' is undefined" in caplog.text
    with pytest.raises(TemplateError, match="UndefinedError: 'missing' is undefined"):
        render(hub, "{{ missing.attribute }}")
    assert render(hub, "{{ missing | default('d') }}") == "d"
    assert render(hub, "{{ missing is defined }}") is False


# -- render_complex ---------------------------------------------------------------------------
async def test_render_complex(site: Hub) -> None:
    data: dict[str, Any] = {
        "message": "{{ states('lock.gate_north') }} at {{ trigger.where }}",
        "code": "0123",
        "count": "5",
        "{{ trigger.key }}": ["{{ 1 + 1 }}", "plain", 3, None, {"deep": "{{ [1, 2] }}"}],
        "when": date(2026, 11, 29),
    }
    variables = {"trigger": {"where": "north", "key": "items"}}
    assert site.templates.render_complex(data, variables) == {
        "message": "unlocked at north",
        "code": "0123",  # static strings are left alone, not parsed
        "count": "5",
        "items": [2, "plain", 3, None, {"deep": [1, 2]}],
        "when": date(2026, 11, 29),
    }
    assert data["{{ trigger.key }}"][0] == "{{ 1 + 1 }}"  # the input is not changed
    assert site.templates.render_complex("{{ 6 * 7 }}") == 42
    assert site.templates.render_complex(site.templates.template("{{ 1 }}")) == 1
    assert site.templates.render_complex(7) == 7


# -- errors -----------------------------------------------------------------------------------
async def test_error_messages_name_the_problem_and_the_template(hub: Hub) -> None:
    with pytest.raises(TemplateError) as caught:
        render(hub, "{{ 1 / 0 }}")
    assert str(caught.value) == "ZeroDivisionError: division by zero (template: '{{ 1 / 0 }}')"
    assert caught.value.source == "{{ 1 / 0 }}"
    with pytest.raises(TemplateError) as caught:
        render(hub, "{% if %}")
    assert "syntax error" in str(caught.value) and "line 1" in str(caught.value)
    long_source = "{{ 1 / 0 }}" + " " * 10 + "x" * 500
    with pytest.raises(TemplateError) as caught:
        render(hub, long_source)
    assert str(caught.value).endswith("…')")
    assert len(str(caught.value)) < 250


# -- sandbox: escape payloads -----------------------------------------------------------------
@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ ().__class__.__bases__[0].__subclasses__() }}",
        "{{ x.__init__.__globals__ }}",
        "{{ '{0.__class__}'.format(x) }}",
        "{{ '{0.__class__.__mro__}'.format('') }}",
        "{{ '{a.__globals__}'.format_map({'a': cycler.__init__}) }}",
        "{{ '{a.__class__}'.format_map({'a': 1}) }}",
        "{{ x | attr('__class__') }}",
        "{{ (x | attr('__class__')).__mro__ }}",
        "{{ [x] | map(attribute='__class__') | list }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ joiner.__init__.__globals__.os }}",
        "{{ namespace.__init__.__globals__ }}",
        "{{ self._TemplateReference__context.cycler.__init__.__globals__.os }}",
        "{{ states.__class__ }}",
        "{{ states._hub }}",
        "{{ states.lock._hub }}",
        "{{ states.lock.gate_north._state }}",
        "{{ states.lock.gate_north.__class__ }}",
        "{{ states['_hub'] }}",
        "{{ is_state.__self__ }}",
        "{{ is_state.__globals__ }}",
        "{{ now.__self__._hub }}",
        "{{ range.__globals__ }}",
        "{{ trigger.to_state._replace(state='x') }}",
        "{{ [].append(1) }}",
        "{{ {}.update({'a': 1}) }}",
        "{{ {}.fromkeys(range(10), 1) }}",
        "{{ ''.maketrans('a', 'b') }}",
        "{{ 'a'.translate({97: 'b'}) }}",
        "{{ lipsum(10) }}",
    ],
)
async def test_escape_payloads_are_rejected(site: Hub, source: str) -> None:
    trigger = {"to_state": site.states.get("lock.gate_north")}
    with pytest.raises(TemplateError) as caught:
        render(site, source, x="text", trigger=trigger)
    assert caught.value.source == source


async def test_unsafe_access_is_a_security_error_not_an_empty_string(hub: Hub) -> None:
    with pytest.raises(TemplateError, match="SecurityError: access to attribute '__class__'"):
        render(hub, "{{ ''.__class__ }}")
    with pytest.raises(TemplateError, match="SecurityError"):
        render(hub, "{{ '{0.__class__}'.format(1) }}")


# -- bounds -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ range(10**10) }}", "Range too big"),
        ("{{ range(100001) | list }}", "Range too big"),
        ("{{ 'a' * 10**9 }}", "repeated string"),
        ("{{ 10**9 * 'a' }}", "repeated string"),
        ("{{ [1, 2] * 10**9 }}", "repeated list"),
        ("{{ ('ab',) * 10**9 }}", "repeated list"),
        ("{{ [['x' * 200000]] * 10 }}", "repeated list"),
        ("{{ 2 ** 100000 }}", "integer result too large"),
        ("{{ 10 ** (10 ** 10) }}", "integer result too large"),
        ("{{ (2 ** 10000) * (2 ** 10000) }}", "integer result too large"),
        ("{{ '%0999999999d' % 1 }}", "format width"),
        ("{{ '%*d' % (10, 1) }}", "'*' widths"),
        ("{{ '%.999999999f' | format(1) }}", "format width"),
        ("{{ '{:>999999999}'.format(1) }}", "format width"),
        ("{{ '{:{w}}'.format(1, w=10**9) }}", "nested replacement"),
        ("{{ 'x' | center(10**9) }}", "center()"),
        ("{{ 'x'.center(10**9) }}", "str.center()"),
        ("{{ 'x'.ljust(10**9) }}", "str.ljust()"),
        ("{{ 'x'.zfill(10**9) }}", "str.zfill()"),
        ("{{ ('\\t' * 1000).expandtabs(10**6) }}", "str.expandtabs()"),
        ("{{ ('a' * 100000).replace('a', 'a' * 100) }}", "replaced string"),
        ("{{ ('a' * 100000) | replace('a', 'aaaa') }}", "replaced string"),
        ("{{ ('a' * 100000) | regex_replace('a', 'aaaa') }}", "replaced string"),
        (
            "{{ ('a' * 100000) | regex_replace('(a)', '\\\\1\\\\1\\\\1') }}",
            "replaced string|too much work",
        ),
        ("{{ 'x' | indent(10**9) }}", "indent()"),
        ("{{ range(100000) | join('x' * 100) }}", "joined string"),
        ("{{ ('x' * 100).join(range(100000) | map('string')) }}", "joined string"),
        ("{{ ('x' * 200000) ~ ('y' * 200000) }}", "joined string"),
        ("{{ ('x' * 200000) + ('y' * 200000) }}", "joined string"),
        ("{{ [1] | batch(10**9, 'x') | list }}", "batch size"),
        ("{{ [1] | slice(10**9) | list }}", "slice count"),
        ("{{ ([[0] * 100000] * 11) | sum(start=[]) }}", "too large"),
        (
            "{% set ns = namespace(a=[1]) %}{% for i in range(40) %}"
            "{% set ns.a = [ns.a, ns.a] %}{% endfor %}{{ ns.a }}",
            "too large|too much work",
        ),
        (
            "{% set ns = namespace(a=[1]) %}{% for i in range(40) %}"
            "{% set ns.a = ns.a + ns.a %}{% endfor %}{{ ns.a | length }}",
            "too large|too much work",
        ),
        (
            "{% set ns = namespace(s='x') %}{% for i in range(40) %}"
            "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
            "joined string",
        ),
        (
            "{% set ns = namespace(d={}) %}{% for i in range(40) %}"
            "{% set ns.d = dict(a=ns.d, b=ns.d) %}{% endfor %}{{ ns.d }}",
            "too large|too much work",
        ),
        (
            "{% for i in range(100) %}{% set s = 'x' * 200000 %}{% endfor %}",
            "too much text",
        ),
        ("{% for i in items %}{% endfor %}", "more than 100000 items"),
        (
            "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
            "too much work",
        ),
        (
            "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
            "{{ f(40) }}",
            "too much work",
        ),
        (
            "{% set big = range(100000) | list %}"
            "{% for i in range(1000) %}{{ big | sort | length }}{% endfor %}",
            "too much work",
        ),
        ("{% for i in range(300) %}{{ 'x' * 1000 }}{% endfor %}", "maximum size"),
        ("{% set x %}{% for i in range(300) %}{{ 'x' * 1000 }}{% endfor %}{% endset %}", "output"),
        (
            "{% macro m() %}{% for i in range(300) %}{{ 'x' * 1000 }}{% endfor %}{% endmacro %}"
            "{% set y = m() %}",
            "output",
        ),
    ],
)
async def test_bounds(hub: Hub, source: str, message: str) -> None:
    """Each payload is stopped by a bound ("a|b": by either, whichever is reached first)."""
    with pytest.raises(TemplateError) as caught:
        render(hub, source, items=list(range(100_001)))
    assert any(part in str(caught.value) for part in message.split("|")), str(caught.value)


async def test_output_limit_counts_variables_too(hub: Hub) -> None:
    big = "x" * 100_000
    assert len(render(hub, "{{ big }}{{ big }}", big=big)) == 200_000
    with pytest.raises(TemplateError, match=f"maximum size of {MAX_OUTPUT}"):
        render(hub, "{% for i in range(10) %}{{ big }}{% endfor %}", big=big)


async def test_bounds_leave_ordinary_templates_alone(site: Hub) -> None:
    assert render(site, "{{ range(100000) | list | length }}") == 100_000
    assert render(site, "{% for i in range(100000) %}{% endfor %}done") == "done"
    assert len(render(site, "{{ 'x' * 200000 }}")) == 200_000
    assert render(site, "{{ ([0] * 1000) | length }}") == 1000
    assert render(site, "{{ 2 ** 1000 > 0 }}") is True
    assert render(site, "{{ '%5.1f' % 3.14159 }}") == 3.1


async def test_budgets_are_per_render(hub: Hub) -> None:
    template = hub.templates.template("{% for i in range(100000) %}{% endfor %}ok")
    for _ in range(4):  # 100,000 steps each: would exceed 250,000 if budgets leaked
        assert template.render() == "ok"


async def test_environment_has_no_lipsum_and_bounded_globals(hub: Hub) -> None:
    hub.templates.template("{{ 1 }}").render()
    sandbox = hub.templates.sandbox
    assert "lipsum" not in sandbox.globals
    assert sandbox.globals["range"] is not range


async def test_other_hub_time_zone_and_default_utc(clock: ManualClock) -> None:
    hub = Hub(clock=clock)
    await hub.start()
    try:
        assert render(hub, "{{ now().isoformat() }}") == "2026-11-28T22:00:00+00:00"
        hub.config.time_zone = "Europe/Berlin"
        assert render(hub, "{{ now().hour }}") == 23
    finally:
        await hub.stop(timeout=1)


def test_environment_shortens_sources_in_errors() -> None:
    error = TemplateError("boom", "{{ x }}\n\n   {{ y }}")
    assert str(error) == "boom (template: '{{ x }} {{ y }}')"
    assert str(TemplateError("plain")) == "plain"


async def test_dict_attribute_access_prefers_keys_but_keeps_methods(hub: Hub) -> None:
    env = hub.templates
    variables = {"trigger": {"event": {"data": {"camera": "north_gate", "items": 3}}}}
    assert env.template("{{ trigger.event.data.camera }}").render(variables) == "north_gate"
    assert env.template("{{ trigger.event.data.missing is undefined }}").render(variables) is True
    # a dict's own methods still resolve as methods, as in Jinja
    assert env.template("{{ trigger.event.data.items() | list | length }}").render(variables) == 2
    assert env.template("{{ trigger.event.data['items'] }}").render(variables) == 3
