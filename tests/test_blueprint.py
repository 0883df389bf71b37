"""Tests for shouwang.core.blueprint: loading, inputs and sections, substitution, the store,
Home Assistant's own blueprints (unmodified) and the blueprints shipped in blueprints/."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

from shouwang.core.blueprint import (
    BLUEPRINT_KEY,
    BUNDLED_BLUEPRINTS,
    NO_DEFAULT,
    Blueprint,
    BlueprintError,
    BlueprintStore,
    expand_automation,
    is_blueprint_config,
    load_blueprint,
    substitute,
)
from shouwang.core.yaml_loader import Input, NodeDict, load_yaml, mark_of

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "blueprints"
HA_FIXTURES = FIXTURES / "automation" / "homeassistant"
HA_VENV = REPO / "bench" / ".venv-ha"
HA_PYTHON = HA_VENV / "bin" / "python"
HA_BLUEPRINTS = (
    HA_VENV
    / "lib"
    / "python3.13"
    / "site-packages"
    / "homeassistant"
    / "components"
    / "automation"
    / "blueprints"
)
HA_SHA256 = {
    "motion_light.yaml": "e07ac35fae7270131f118da767b036e7f7776672077691d9fbcd026e5a7e3f9c",
    "notify_leaving_zone.yaml": "51305e94301a54e2cd9f99989ab0cbfe281140403b95c21097da93d060316861",
}
SHIPPED = tuple(
    sorted(p.name for p in (BUNDLED_BLUEPRINTS / "automation" / "shouwang").glob("*.yaml"))
)


def write(base: Path, rel: str, text: str) -> Path:
    path = base / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def blueprint_file(base: Path, rel: str, text: str) -> Path:
    """Write a blueprint under ``base/blueprints/automation/rel``."""
    return write(base, f"blueprints/automation/{rel}", text)


SIMPLE = """\
blueprint:
  name: Simple
  domain: automation
  input:
    sensor:
      name: Sensor
      selector:
        entity: {}
    wait:
      default: 60
triggers:
  - trigger: state
    entity_id: !input sensor
actions:
  - delay: !input wait
"""


@pytest.fixture
def store(tmp_path: Path) -> BlueprintStore:
    return BlueprintStore([tmp_path / "blueprints"])


def error_of(excinfo: pytest.ExceptionInfo[BlueprintError]) -> BlueprintError:
    return excinfo.value


# --------------------------------------------------------------------------------------------
# Loading


def test_load_reads_metadata_inputs_and_body(tmp_path: Path) -> None:
    path = blueprint_file(
        tmp_path,
        "mine/full.yaml",
        """\
blueprint:
  name: Full
  description: Everything declared
  domain: automation
  source_url: https://example.org/full.yaml
  author: Somebody
  homeassistant:
    min_version: 2024.10.0
  input:
    door:
      name: Door
      description: The door contact
      selector:
        entity:
          filter:
            - domain: binary_sensor
              device_class: door
    bare:
    nothing_default:
      default: null
    wait:
      default: 30
      selector:
        number: {min: 0, max: 600}
mode: restart
triggers:
  - trigger: state
    entity_id: !input door
conditions: []
actions:
  - delay: !input wait
  - event: x
    event_data: {a: !input bare, b: !input nothing_default}
""",
    )
    bp = load_blueprint(path)
    assert isinstance(bp, Blueprint)
    assert (bp.path, bp.name, bp.domain) == (path, "Full", "automation")
    assert bp.description == "Everything declared"
    assert bp.source_url == "https://example.org/full.yaml"
    assert bp.author == "Somebody"
    assert list(bp.inputs) == ["door", "bare", "nothing_default", "wait"]
    door = bp.inputs["door"]
    assert (door.name, door.label, door.description) == ("door", "Door", "The door contact")
    assert door.selector == {
        "entity": {"filter": [{"domain": "binary_sensor", "device_class": "door"}]}
    }
    assert door.default is NO_DEFAULT and not door.has_default
    assert door.section is None
    assert bp.inputs["bare"].label is None and bp.inputs["bare"].selector is None
    # `default: null` is a real default, distinct from no default
    assert bp.inputs["nothing_default"].has_default
    assert bp.inputs["nothing_default"].default is None
    assert bp.inputs["wait"].default == 30
    assert "blueprint" not in bp.body
    assert list(bp.body) == ["mode", "triggers", "conditions", "actions"]
    assert bp.body["triggers"][0]["entity_id"] == Input("door")
    assert bp.sections == {}


def test_selector_without_options_means_empty_options(tmp_path: Path) -> None:
    path = blueprint_file(
        tmp_path,
        "s.yaml",
        "blueprint:\n  name: S\n  domain: automation\n  input:\n"
        "    x:\n      selector:\n        entity:\n",
    )
    assert load_blueprint(path).inputs["x"].selector == {"entity": {}}


def test_sections_are_flattened_into_one_namespace(tmp_path: Path, store: BlueprintStore) -> None:
    blueprint_file(
        tmp_path,
        "sec.yaml",
        """\
blueprint:
  name: Sections
  domain: automation
  input:
    door:
      name: Door
    timing:
      name: Timing
      icon: mdi:timer
      description: When things happen
      collapsed: true
      input:
        reminder:
          name: Reminder after
          default: 30
        alarm:
          default: 180
    empty_section:
      name: Nothing here
      input: {}
triggers:
  - trigger: state
    entity_id: !input door
    for: {seconds: !input reminder}
actions:
  - delay: !input alarm
""",
    )
    bp = store.get("automation", "sec.yaml")
    assert list(bp.inputs) == ["door", "reminder", "alarm"]
    assert bp.inputs["reminder"].section == "timing"
    assert bp.inputs["reminder"].label == "Reminder after"
    assert bp.inputs["door"].section is None
    timing = bp.sections["timing"]
    assert (timing.name, timing.icon, timing.description, timing.collapsed) == (
        "Timing",
        "mdi:timer",
        "When things happen",
        True,
    )
    assert timing.inputs == ("reminder", "alarm")
    assert bp.sections["empty_section"].inputs == ()
    assert not bp.sections["empty_section"].collapsed
    result = expand_automation(
        store, {"use_blueprint": {"path": "sec.yaml", "input": {"door": "binary_sensor.d"}}}
    )
    assert result["triggers"] == [
        {"trigger": "state", "entity_id": "binary_sensor.d", "for": {"seconds": 30}}
    ]
    assert result["actions"] == [{"delay": 180}]
    # a section key is not an input
    with pytest.raises(BlueprintError, match="unknown input timing"):
        expand_automation(
            store,
            {"use_blueprint": {"path": "sec.yaml", "input": {"door": "d", "timing": {}}}},
        )


@pytest.mark.parametrize(
    ("input_block", "line", "message"),
    [
        (
            "    a: {}\n    sec:\n      input:\n        a: {default: 1}\n",
            8,
            "input 'a' is declared twice (also in the top level)",
        ),
        (
            "    s1:\n      input:\n        a:\n    s2:\n      input:\n        a:\n",
            10,
            "input 'a' is declared twice (also in section 's1')",
        ),
        (
            "    s1:\n      input:\n        inner:\n          input:\n            a:\n",
            8,
            "sections cannot be nested",
        ),
        ("    a:\n      icon: mdi:x\n", 6, "icon/collapsed belong to sections"),
        ("    a:\n      label: A\n", 6, "unknown key 'label' in input 'a'"),
        ("    a: just text\n", 5, "input 'a' must be a mapping"),
        ("    a:\n      name: 3\n", 6, "input 'a': name must be a string"),
        ("    s:\n      collapsed: 1\n      input: {}\n", 6, "collapsed must be true or false"),
        (
            "    s:\n      colour: red\n      input: {}\n",
            6,
            "unknown key 'colour' in input section",
        ),
        ("    s:\n      input: [a]\n", 6, "`input:` must be a mapping"),
        (
            "    a:\n      selector:\n        entity: {}\n        area: {}\n",
            6,
            "exactly one selector type",
        ),
        ("    a:\n      selector: entity\n", 6, "exactly one selector type"),
        ("    a:\n      selector:\n        entity: [x]\n", 7, "must be a mapping"),
        ("    a:\n      selector:\n        Bad-Type: {}\n", 7, "'Bad-Type' is not a selector type"),
    ],
)
def test_bad_input_declarations(tmp_path: Path, input_block: str, line: int, message: str) -> None:
    path = blueprint_file(
        tmp_path,
        "bad.yaml",
        "blueprint:\n  name: Bad\n  domain: automation\n  input:\n" + input_block,
    )
    with pytest.raises(BlueprintError) as excinfo:
        load_blueprint(path)
    err = error_of(excinfo)
    assert message in err.message
    assert (err.file, err.line) == (str(path), line)
    assert str(err) == f"{path}:{line}: {err.message}"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("triggers: []\nactions: []\n", 1, "no `blueprint:` block"),
        ("- a\n- b\n", 1, "must be a mapping with a `blueprint:` block"),
        ("blueprint: [x]\n", 1, "`blueprint:` must be a mapping"),
        ("blueprint:\n  domain: automation\n", 1, "`blueprint:` needs a `name:`"),
        ("blueprint:\n  name: X\n", 1, "`blueprint:` needs a `domain:`"),
        ("blueprint:\n  name: X\n  domain: automation\n  colour: red\n", 4, "unknown key 'colour'"),
        ("blueprint:\n  name: 5\n  domain: automation\n", 2, "name must be a string"),
        (
            "blueprint:\n  name: X\n  domain: automation\n  source_url: ftp://x/y\n",
            4,
            "source_url must be an http(s) URL",
        ),
        (
            "blueprint:\n  name: X\n  domain: automation\n"
            "  homeassistant:\n    min_version: 2024.6\n",
            5,
            "min_version must be a string 'major.minor.patch'",
        ),
        (
            "blueprint:\n  name: X\n  domain: automation\n"
            "  homeassistant:\n    max_version: 1.0.0\n",
            5,
            "unknown key 'max_version' in `homeassistant:`",
        ),
        ("blueprint:\n  name: X\n  domain: automation\n  input: [a]\n", 4, "`input:` must be a"),
        (
            "blueprint:\n  name: X\n  domain: automation\n  description: !input a\n",
            4,
            "!input a cannot be used inside the `blueprint:` block",
        ),
        ("blueprint:\n  name: X\n  domain: automation\nmode: [\n", 5, "expected"),
        (
            "blueprint:\n  name: X\n  domain: automation\nmode: single\nmode: restart\n",
            5,
            "duplicate key 'mode'",
        ),
        (
            "blueprint:\n  name: X\n  domain: automation\nvariables:\n  !input a : 1\n",
            5,
            "!input a cannot be used as a mapping key",
        ),
        (
            "blueprint:\n  name: X\n  domain: automation\nvariables:\n  s: !secret pw\n",
            5,
            "secret 'pw' not found",
        ),
        (
            "blueprint:\n  name: X\n  domain: automation\ntrigger: []\ntriggers: []\n",
            4,
            "both `trigger:` and `triggers:`",
        ),
    ],
)
def test_bad_blueprint_files(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = blueprint_file(tmp_path, "bad.yaml", text)
    write(path.parent, "secrets.yaml", "pw: hunter2\n")  # blueprints never see secrets
    with pytest.raises(BlueprintError) as excinfo:
        load_blueprint(path)
    err = error_of(excinfo)
    assert message in err.message, err.message
    assert (err.file, err.line) == (str(path), line)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(BlueprintError) as excinfo:
        load_blueprint(tmp_path / "missing.yaml")
    assert str(excinfo.value) == f"{tmp_path / 'missing.yaml'}: blueprint file not found"
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"blueprint:\n  name: caf\xe9\n")
    with pytest.raises(BlueprintError) as excinfo:
        load_blueprint(bad)
    assert (excinfo.value.line, excinfo.value.message) == (2, "file is not valid UTF-8")


def test_includes_work_relative_to_the_blueprint(tmp_path: Path) -> None:
    write(tmp_path, "blueprints/automation/parts/actions.yaml", "- delay: !input wait\n")
    path = blueprint_file(
        tmp_path,
        "main.yaml",
        "blueprint:\n  name: M\n  domain: automation\n  input:\n    wait: {default: 5}\n"
        "triggers: []\nactions: !include parts/actions.yaml\n",
    )
    assert substitute(load_blueprint(path), {})["actions"] == [{"delay": 5}]


def test_undeclared_input_in_body_names_its_line(tmp_path: Path) -> None:
    path = blueprint_file(
        tmp_path,
        "undeclared.yaml",
        """\
blueprint:
  name: U
  domain: automation
  input:
    known:
triggers:
  - trigger: state
    entity_id: !input known
actions:
  - action: light.turn_on
    target: !input lights
  - delay: !input wait
  - action: light.turn_off
    target: !input lights
""",
    )
    with pytest.raises(BlueprintError) as excinfo:
        load_blueprint(path)
    err = error_of(excinfo)
    assert (err.file, err.line) == (str(path), 11)
    assert err.message == (
        "!input lights, wait: not declared under `blueprint: input:` (declared: known)"
    )


def test_domain_is_checked(tmp_path: Path, store: BlueprintStore) -> None:
    text = "blueprint:\n  name: A script\n  domain: script\n  input: {}\nsequence: []\n"
    path = blueprint_file(tmp_path, "script_one.yaml", text)
    assert load_blueprint(path).domain == "script"  # fine when no domain is expected
    with pytest.raises(BlueprintError) as excinfo:
        load_blueprint(path, expected_domain="automation")
    assert excinfo.value.line == 3
    assert "this is a 'script' blueprint" in excinfo.value.message
    assert "cannot be used as an automation" in excinfo.value.message
    with pytest.raises(BlueprintError) as excinfo:
        store.get("automation", "script_one.yaml")
    assert (excinfo.value.file, excinfo.value.line) == (str(path), 3)
    # through expand_automation the error stays in the blueprint and names the automation
    with pytest.raises(BlueprintError) as excinfo:
        expand_automation(
            store,
            {"use_blueprint": {"path": "script_one.yaml"}},
            file="automations.yaml",
            line=7,
        )
    err = error_of(excinfo)
    assert (err.file, err.line) == (str(path), 3)
    assert err.message.endswith("(blueprint used by automations.yaml:7)")


def test_legacy_singular_keys_are_renamed_for_automations(tmp_path: Path) -> None:
    path = blueprint_file(
        tmp_path,
        "old.yaml",
        "blueprint:\n  name: Old\n  domain: automation\n"
        "trigger:\n  platform: state\n  entity_id: a.b\ncondition: []\naction:\n  - delay: 1\n",
    )
    bp = load_blueprint(path)
    assert list(bp.body) == ["triggers", "conditions", "actions"]
    assert mark_of(bp.body, ("triggers",)) == (str(path), 4)
    assert mark_of(bp.body, ("actions", 0)) == (str(path), 9)


# --------------------------------------------------------------------------------------------
# Substitution


def test_substitute_replaces_whole_input_nodes_everywhere(tmp_path: Path) -> None:
    path = blueprint_file(
        tmp_path,
        "everywhere.yaml",
        """\
blueprint:
  name: Everywhere
  domain: automation
  input:
    sensor:
    lights:
    wait: {default: 10}
    extra: {default: {level: low}}
trigger_variables:
  watched: !input sensor
variables:
  lights: !input lights
  text: "!input sensor stays text, and so does {{ '!input sensor' }}"
triggers:
  - trigger: state
    entity_id:
      - !input sensor
      - binary_sensor.fixed
actions:
  - action: light.turn_on
    target: !input lights
  - delay: !input wait
  - event: e
    event_data: !input extra
  - action: light.turn_off
    target: !input lights
""",
    )
    bp = load_blueprint(path)
    given = {"sensor": "binary_sensor.door", "lights": {"entity_id": ["light.a", "light.b"]}}
    result = substitute(bp, given)
    assert result == {
        "trigger_variables": {"watched": "binary_sensor.door"},
        "variables": {
            "lights": {"entity_id": ["light.a", "light.b"]},
            "text": "!input sensor stays text, and so does {{ '!input sensor' }}",
        },
        "triggers": [
            {"trigger": "state", "entity_id": ["binary_sensor.door", "binary_sensor.fixed"]}
        ],
        "actions": [
            {"action": "light.turn_on", "target": {"entity_id": ["light.a", "light.b"]}},
            {"delay": 10},
            {"event": "e", "event_data": {"level": "low"}},
            {"action": "light.turn_off", "target": {"entity_id": ["light.a", "light.b"]}},
        ],
    }
    # every use is its own copy; neither the inputs nor the blueprint are touched
    result["actions"][0]["target"]["entity_id"].append("light.c")
    result["actions"][2]["event_data"]["level"] = "high"
    assert result["actions"][3]["target"] == {"entity_id": ["light.a", "light.b"]}
    assert given["lights"] == {"entity_id": ["light.a", "light.b"]}
    assert bp.inputs["extra"].default == {"level": "low"}
    assert bp.body["actions"][0]["target"] == Input("lights")
    assert substitute(bp, given)["actions"][2]["event_data"] == {"level": "low"}


def test_given_value_beats_default_and_none_is_a_value(tmp_path: Path) -> None:
    bp = load_blueprint(blueprint_file(tmp_path, "simple.yaml", SIMPLE))
    assert substitute(bp, {"sensor": "a.b"})["actions"] == [{"delay": 60}]
    assert substitute(bp, {"sensor": "a.b", "wait": 5})["actions"] == [{"delay": 5}]
    assert substitute(bp, {"sensor": "a.b", "wait": None})["actions"] == [{"delay": None}]


def test_missing_and_unknown_inputs_are_all_listed(tmp_path: Path) -> None:
    path = blueprint_file(
        tmp_path,
        "many.yaml",
        "blueprint:\n  name: Many\n  domain: automation\n  input:\n"
        "    a:\n    b:\n    c: {default: 1}\n    d:\n"
        "triggers: []\nactions:\n  - event: x\n    event_data: {a: !input a, b: !input b}\n",
    )
    bp = load_blueprint(path)
    with pytest.raises(BlueprintError) as excinfo:
        substitute(bp, {"b": 1}, file="automations.yaml", line=12)
    err = error_of(excinfo)
    assert (err.file, err.line) == ("automations.yaml", 12)
    assert err.message == f"blueprint 'Many' ({path}): missing inputs a, d"
    with pytest.raises(BlueprintError) as excinfo:
        substitute(bp, {"a": 1, "b": 2, "d": 3, "zz": 4, "c2": 5}, file="x.yaml", line=3)
    assert str(excinfo.value) == (
        f"x.yaml:3: blueprint 'Many' ({path}): unknown inputs zz, c2 "
        "(the blueprint declares: a, b, c, d)"
    )
    with pytest.raises(BlueprintError) as excinfo:
        substitute(bp, {"b": 2, "nope": 1})
    assert excinfo.value.message.endswith(
        "missing inputs a, d; unknown input nope (the blueprint declares: a, b, c, d)"
    )
    with pytest.raises(BlueprintError, match="must be a mapping of input name -> value"):
        substitute(bp, ["a", "b"], file="x.yaml", line=1)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# expand_automation


def test_expand_keeps_own_keys_and_records_provenance(
    tmp_path: Path, store: BlueprintStore
) -> None:
    blueprint_file(tmp_path, "simple.yaml", SIMPLE)
    config: dict[str, Any] = {
        "id": "stairs",
        "alias": "Stairs",
        "description": "Mine",
        "mode": "queued",
        "use_blueprint": {"path": "simple.yaml", "input": {"sensor": "binary_sensor.s"}},
    }
    assert is_blueprint_config(config)
    result = expand_automation(store, config)
    assert result == {
        "triggers": [{"trigger": "state", "entity_id": "binary_sensor.s"}],
        "actions": [{"delay": 60}],
        "id": "stairs",
        "alias": "Stairs",
        "description": "Mine",
        "mode": "queued",
        BLUEPRINT_KEY: {
            "path": "simple.yaml",
            "name": "Simple",
            "file": str(tmp_path / "blueprints/automation/simple.yaml"),
            "inputs": {"sensor": "binary_sensor.s"},
        },
    }
    # HA's merge: the automation's keys win over the body's, whole
    config["triggers"] = [{"trigger": "event", "event_type": "go"}]
    assert expand_automation(store, config)["triggers"] == [
        {"trigger": "event", "event_type": "go"}
    ]
    del config["triggers"]
    config["trigger"] = {"trigger": "event", "event_type": "legacy"}
    result = expand_automation(store, config)
    assert result["triggers"] == {"trigger": "event", "event_type": "legacy"}
    assert "trigger" not in result
    config["triggers"] = []
    with pytest.raises(BlueprintError, match="both `trigger:` and `triggers:`"):
        expand_automation(store, config)


def test_is_blueprint_config() -> None:
    assert is_blueprint_config({"use_blueprint": {"path": "a.yaml"}})
    assert not is_blueprint_config({"triggers": [], "actions": []})
    assert not is_blueprint_config(["use_blueprint"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("use_blueprint", "message"),
    [
        (
            ["simple.yaml"],
            "use_blueprint must be a mapping with `path:` and `input:`, found a list",
        ),
        ("simple.yaml", "use_blueprint must be a mapping"),
        (None, "use_blueprint must be a mapping"),
        ({"input": {}}, "use_blueprint needs `path:`"),
        ({"path": "simple.yaml", "inputs": {}}, "unknown key 'inputs' in use_blueprint"),
        ({"path": "simple.yaml", "input": ["sensor"]}, "must be a mapping of input name -> value"),
        ({"path": "nope.yaml"}, "blueprint 'nope.yaml' not found"),
        ({"path": "../simple.yaml"}, "must stay inside blueprints/automation/"),
        ({"path": "simple.yaml"}, "missing input sensor"),
    ],
)
def test_expand_errors_name_the_automation(
    tmp_path: Path, store: BlueprintStore, use_blueprint: Any, message: str
) -> None:
    blueprint_file(tmp_path, "simple.yaml", SIMPLE)
    with pytest.raises(BlueprintError) as excinfo:
        expand_automation(
            store, {"id": "x", "use_blueprint": use_blueprint}, file="automations.yaml", line=40
        )
    err = error_of(excinfo)
    assert message in err.message
    assert (err.file, err.line) == ("automations.yaml", 40)


def test_expand_refuses_reserved_keys(tmp_path: Path, store: BlueprintStore) -> None:
    blueprint_file(tmp_path, "simple.yaml", SIMPLE)
    use = {"path": "simple.yaml", "input": {"sensor": "a.b"}}
    for key in ("blueprint", "_blueprint"):
        with pytest.raises(BlueprintError, match=f"`{key}:` is not allowed beside use_blueprint"):
            expand_automation(store, {key: {}, "use_blueprint": use})
    with pytest.raises(BlueprintError, match="no `use_blueprint:`"):
        expand_automation(store, {"triggers": []})


def test_expand_keeps_marks_for_error_reporting(tmp_path: Path, store: BlueprintStore) -> None:
    bp_path = blueprint_file(tmp_path, "simple.yaml", SIMPLE)
    automations = write(
        tmp_path,
        "automations.yaml",
        """\
- id: one
  alias: Stairs
  use_blueprint:
    path: simple.yaml
    input:
      sensor: binary_sensor.stairs
- id: two
  use_blueprint:
    path: simple.yaml
    input:
      sensr: binary_sensor.typo
""",
    )
    loaded = load_yaml(automations)
    result = expand_automation(store, loaded[0])
    assert isinstance(result, NodeDict)
    here = str(automations)
    assert mark_of(result) == (here, 1)
    assert mark_of(result, ("alias",)) == (here, 2)  # own keys: the automation's file
    given = result["triggers"][0]["entity_id"]  # the value given keeps its own mark
    assert (given, given.file, given.line) == ("binary_sensor.stairs", here, 6)
    assert mark_of(result, ("triggers", 0)) == (str(bp_path), 12)
    assert mark_of(result, ("triggers", 0, "trigger")) == (str(bp_path), 12)  # blueprint
    assert mark_of(result, ("actions", 0, "delay")) == (str(bp_path), 15)
    # no file/line given: errors use the automation's own mark
    with pytest.raises(BlueprintError) as excinfo:
        expand_automation(store, loaded[1])
    err = error_of(excinfo)
    assert (err.file, err.line) == (here, 7)
    assert "missing input sensor; unknown input sensr" in err.message


# --------------------------------------------------------------------------------------------
# The store


@pytest.mark.parametrize(
    "bad",
    [
        "../outside.yaml",
        "mine/../../outside.yaml",
        "mine/../../../etc/x.yaml",
        "/etc/outside.yaml",
        "C:/outside.yaml",
        "mine\\..\\..\\outside.yaml",
        "~/outside.yaml",
        "",
        "simple",
        "simple.yml",
    ],
)
def test_path_traversal_and_bad_paths_are_refused(tmp_path: Path, bad: str) -> None:
    blueprint_file(tmp_path, "simple.yaml", SIMPLE)
    blueprint_file(tmp_path, "mine/simple.yaml", SIMPLE)
    write(tmp_path, "blueprints/outside.yaml", SIMPLE)  # what "../outside.yaml" would reach
    write(tmp_path, "outside.yaml", SIMPLE)
    store = BlueprintStore([tmp_path / "blueprints"])
    with pytest.raises(BlueprintError) as excinfo:
        store.get("automation", bad)
    assert excinfo.value.file is None  # the caller (expand_automation) adds the location
    with pytest.raises(BlueprintError):
        store.get("../automation", "simple.yaml")
    assert store.get("automation", "mine/simple.yaml").name == "Simple"
    assert store.get("automation", "./simple.yaml").name == "Simple"


def test_store_search_order_config_dir_overrides_bundled(tmp_path: Path) -> None:
    config_dir = tmp_path / "config" / "blueprints"
    bundled = tmp_path / "bundled"
    write(bundled, "automation/shouwang/a.yaml", SIMPLE.replace("Simple", "Bundled A"))
    write(bundled, "automation/shouwang/b.yaml", SIMPLE.replace("Simple", "Bundled B"))
    write(config_dir, "automation/shouwang/a.yaml", SIMPLE.replace("Simple", "Mine A"))
    write(config_dir, "automation/other/c.yaml", SIMPLE.replace("Simple", "Mine C"))
    write(config_dir, "automation/.hidden/d.yaml", SIMPLE)
    write(config_dir, "automation/notes.txt", "not a blueprint")
    store = BlueprintStore([config_dir, bundled, tmp_path / "does-not-exist"])
    assert store.get("automation", "shouwang/a.yaml").name == "Mine A"
    assert store.get("automation", "shouwang/b.yaml").name == "Bundled B"
    assert store.get("automation", "other/c.yaml").name == "Mine C"
    assert store.find("automation", "shouwang/a.yaml") == config_dir / "automation/shouwang/a.yaml"
    assert store.available("automation") == {
        "other/c.yaml": config_dir / "automation/other/c.yaml",
        "shouwang/a.yaml": config_dir / "automation/shouwang/a.yaml",
        "shouwang/b.yaml": bundled / "automation/shouwang/b.yaml",
    }
    assert store.available("script") == {}
    with pytest.raises(BlueprintError) as excinfo:
        store.get("automation", "shouwang/zz.yaml")
    message = excinfo.value.message
    assert message.startswith("blueprint 'shouwang/zz.yaml' not found (looked for ")
    assert str(config_dir / "automation/shouwang/zz.yaml") in message
    assert str(bundled / "automation/shouwang/zz.yaml") in message


def _touch(path: Path, text: str, mtime_ns: int) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_store_caches_by_mtime(tmp_path: Path, store: BlueprintStore) -> None:
    path = blueprint_file(tmp_path, "cached.yaml", SIMPLE)
    os.utime(path, ns=(1_000_000_000_000, 1_000_000_000_000))
    first = store.get("automation", "cached.yaml")
    assert store.get("automation", "cached.yaml") is first
    _touch(path, SIMPLE.replace("Simple", "Edited"), 2_000_000_000_000)
    second = store.get("automation", "cached.yaml")
    assert second is not first and second.name == "Edited"
    assert store.get("automation", "cached.yaml") is second
    # errors are cached too, and go away when the file is fixed
    _touch(path, "blueprint: [\n", 3_000_000_000_000)
    for _ in range(2):
        with pytest.raises(BlueprintError) as excinfo:
            store.get("automation", "cached.yaml")
        assert excinfo.value.file == str(path)
    _touch(path, SIMPLE.replace("Simple", "Fixed"), 4_000_000_000_000)
    assert store.get("automation", "cached.yaml").name == "Fixed"
    # same mtime but a different size is noticed as well
    _touch(path, SIMPLE.replace("Simple", "Fixed again"), 4_000_000_000_000)
    assert store.get("automation", "cached.yaml").name == "Fixed again"
    store.clear()
    assert store.get("automation", "cached.yaml") is not second


def test_bundled_blueprints_constant_points_at_the_repository() -> None:
    assert REPO / "blueprints" == BUNDLED_BLUEPRINTS
    assert (BUNDLED_BLUEPRINTS / "automation" / "shouwang").is_dir()


# --------------------------------------------------------------------------------------------
# Home Assistant's own blueprints, unmodified


@pytest.mark.parametrize("name", sorted(HA_SHA256))
def test_ha_fixtures_are_unmodified(name: str) -> None:
    data = (HA_FIXTURES / name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == HA_SHA256[name]


@pytest.mark.parametrize("name", sorted(HA_SHA256))
def test_ha_fixtures_equal_the_installed_package(name: str) -> None:
    original = HA_BLUEPRINTS / name
    if not original.exists():
        pytest.skip("bench/.venv-ha (homeassistant==2025.4.4) is not installed")
    assert (HA_FIXTURES / name).read_bytes() == original.read_bytes()


@pytest.fixture
def ha_store(tmp_path: Path) -> BlueprintStore:
    """The config dir's blueprints first (empty here), then the fixtures, as in the hub."""
    return BlueprintStore([tmp_path / "config" / "blueprints", FIXTURES])


MOTION_LIGHT_AUTOMATION: dict[str, Any] = {
    "id": "stairwell_b1_light",
    "alias": "B1 楼梯灯 / Stairwell B1 light",
    "description": "Motion in the B1 stairwell turns its light on for two minutes",
    "use_blueprint": {
        "path": "homeassistant/motion_light.yaml",
        "input": {
            "motion_entity": "binary_sensor.stairwell_motion",
            "light_target": {"entity_id": "light.stairwell_b1"},
            "no_motion_wait": 120,
        },
    },
}

NOTIFY_ZONE_AUTOMATION: dict[str, Any] = {
    "id": "guard_left_community",
    "alias": "Guard left the community",
    "use_blueprint": {
        "path": "homeassistant/notify_leaving_zone.yaml",
        "input": {
            "person_entity": "person.guard_wang",
            "zone_entity": "zone.community",
            "notify_device": "5f0f3c8a2b7d4e21a9c1d2e3f4a5b6c7",
        },
    },
}


def test_ha_motion_light_expands_like_home_assistant(ha_store: BlueprintStore) -> None:
    bp = ha_store.get("automation", "homeassistant/motion_light.yaml")
    assert bp.name == "Motion-activated Light"
    assert bp.author == "Home Assistant"
    assert list(bp.inputs) == ["motion_entity", "light_target", "no_motion_wait"]
    assert bp.inputs["no_motion_wait"].default == 120
    assert bp.inputs["motion_entity"].selector == {
        "entity": {
            "filter": [
                {"device_class": "occupancy", "domain": "binary_sensor"},
                {"device_class": "motion", "domain": "binary_sensor"},
            ]
        }
    }
    result = expand_automation(ha_store, MOTION_LIGHT_AUTOMATION)
    provenance = result.pop(BLUEPRINT_KEY)
    assert provenance == {
        "path": "homeassistant/motion_light.yaml",
        "name": "Motion-activated Light",
        "file": str(HA_FIXTURES / "motion_light.yaml"),
        "inputs": MOTION_LIGHT_AUTOMATION["use_blueprint"]["input"],
    }
    assert result == {
        "mode": "restart",
        "max_exceeded": "silent",
        "triggers": {
            "trigger": "state",
            "entity_id": "binary_sensor.stairwell_motion",
            "from": "off",
            "to": "on",
        },
        "actions": [
            {
                "alias": "Turn on the light",
                "action": "light.turn_on",
                "target": {"entity_id": "light.stairwell_b1"},
            },
            {
                "alias": "Wait until there is no motion from device",
                "wait_for_trigger": {
                    "trigger": "state",
                    "entity_id": "binary_sensor.stairwell_motion",
                    "from": "on",
                    "to": "off",
                },
            },
            {"alias": "Wait the number of seconds that has been set", "delay": 120},
            {
                "alias": "Turn off the light",
                "action": "light.turn_off",
                "target": {"entity_id": "light.stairwell_b1"},
            },
        ],
        "id": "stairwell_b1_light",
        "alias": "B1 楼梯灯 / Stairwell B1 light",
        "description": "Motion in the B1 stairwell turns its light on for two minutes",
    }
    # HA's key order: the blueprint's keys, then the automation's own
    assert list(result) == [
        "mode",
        "max_exceeded",
        "triggers",
        "actions",
        "id",
        "alias",
        "description",
    ]
    # the default applies when the wait is not given
    use = dict(MOTION_LIGHT_AUTOMATION["use_blueprint"])
    use["input"] = {k: v for k, v in use["input"].items() if k != "no_motion_wait"}
    again = expand_automation(ha_store, {"use_blueprint": use})
    assert again["actions"][2] == {
        "alias": "Wait the number of seconds that has been set",
        "delay": 120,
    }
    assert again[BLUEPRINT_KEY]["inputs"] == use["input"]


def test_ha_notify_leaving_zone_expands_like_home_assistant(ha_store: BlueprintStore) -> None:
    result = expand_automation(ha_store, NOTIFY_ZONE_AUTOMATION)
    assert result.pop(BLUEPRINT_KEY)["name"] == "Zone Notification"
    assert result == {
        "triggers": {"trigger": "state", "entity_id": "person.guard_wang"},
        "variables": {
            "zone_entity": "zone.community",
            "zone_state": "{{ states[zone_entity].name }}",
            "person_entity": "person.guard_wang",
            "person_name": "{{ states[person_entity].name }}",
        },
        "conditions": {
            "condition": "template",
            "value_template": (
                "{{ zone_entity == 'zone.home' and trigger.from_state.state == 'home' and "
                "trigger.to_state.state != 'home' or trigger.from_state.state == zone_state "
                "and trigger.to_state.state != zone_state }}"
            ),
        },
        "actions": [
            {
                "alias": "Notify that a person has left the zone",
                "domain": "mobile_app",
                "type": "notify",
                "device_id": "5f0f3c8a2b7d4e21a9c1d2e3f4a5b6c7",
                "message": "{{ person_name }} has left {{ zone_state }}",
            }
        ],
        "id": "guard_left_community",
        "alias": "Guard left the community",
    }
    with pytest.raises(BlueprintError) as excinfo:
        expand_automation(
            ha_store,
            {"use_blueprint": {"path": "homeassistant/notify_leaving_zone.yaml", "input": {}}},
            file="automations.yaml",
            line=3,
        )
    assert str(excinfo.value).startswith("automations.yaml:3: blueprint 'Zone Notification'")
    assert excinfo.value.message.endswith(
        "missing inputs person_entity, zone_entity, notify_device"
    )


def test_config_dir_blueprint_overrides_ha_fixture(
    tmp_path: Path, ha_store: BlueprintStore
) -> None:
    write(
        tmp_path,
        "config/blueprints/automation/homeassistant/motion_light.yaml",
        SIMPLE.replace("Simple", "Local motion light"),
    )
    assert ha_store.get("automation", "homeassistant/motion_light.yaml").name == (
        "Local motion light"
    )


# --------------------------------------------------------------------------------------------
# Shipped community blueprints


@pytest.fixture
def shipped_store(tmp_path: Path) -> BlueprintStore:
    return BlueprintStore([tmp_path / "config" / "blueprints", BUNDLED_BLUEPRINTS])


DOOR_HELD_OPEN_AUTOMATION: dict[str, Any] = {
    "id": "b1_unit_door_held_open",
    "alias": "1 号楼单元门未关 / Building 1 unit door held open",
    "use_blueprint": {
        "path": "shouwang/door_held_open.yaml",
        "input": {"door_sensor": "binary_sensor.b1_unit_door"},
    },
}
FORCED_DOOR_AUTOMATION: dict[str, Any] = {
    "id": "plant_room_forced",
    "alias": "设备间非法开门 / Plant room forced door",
    "use_blueprint": {
        "path": "shouwang/forced_door.yaml",
        "input": {
            "door_sensor": "binary_sensor.plant_room_door",
            "lock_entity": "lock.plant_room",
            "grace_seconds": 15,
            "siren_target": {"entity_id": "siren.guard_room"},
        },
    },
}
PANIC_AUTOMATION: dict[str, Any] = {
    "id": "b1_lobby_panic",
    "alias": "1 号楼大堂紧急按钮 / Building 1 lobby panic button",
    "use_blueprint": {
        "path": "shouwang/panic_button.yaml",
        "input": {
            "panic_sensor": "binary_sensor.b1_lobby_panic",
            "guard_target": {"entity_id": "intercom.b1_unit_station"},
            "guard_data": {"target": "GUARD-ROOM"},
            "camera": ["camera.b1_lobby"],
        },
    },
}


def _strings(obj: Any) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _strings(value)
    elif isinstance(obj, list):
        for item in obj:
            yield from _strings(item)


def check_automation_shape(config: dict[str, Any]) -> None:
    """What the engine needs from any automation: HA's top-level keys, triggers with a
    ``trigger:`` type, actions that each name one known action, templates that compile."""
    allowed = {
        "id",
        "alias",
        "description",
        "mode",
        "max",
        "max_exceeded",
        "initial_state",
        "variables",
        "trigger_variables",
        "triggers",
        "conditions",
        "actions",
        "trace",
        BLUEPRINT_KEY,
    }
    assert set(config) <= allowed, set(config) - allowed
    assert config.get("mode", "single") in {"single", "restart", "queued", "parallel"}
    triggers = config["triggers"]
    for trigger in triggers if isinstance(triggers, list) else [triggers]:
        assert isinstance(trigger.get("trigger"), str)
    action_keys = {
        "action",
        "event",
        "delay",
        "wait_for_trigger",
        "wait_template",
        "choose",
        "if",
        "repeat",
        "parallel",
        "sequence",
        "variables",
        "stop",
        "condition",
    }

    def check_actions(actions: Any) -> None:
        assert isinstance(actions, list)
        for action in actions:
            kinds = action_keys & set(action)
            if "condition" in kinds and len(kinds) > 1:
                kinds.discard("condition")
            assert len(kinds) == 1, action
            for nested in ("then", "else", "default"):
                if nested in action:
                    check_actions(action[nested])

    check_actions(config["actions"])
    env = jinja2.Environment()
    for text in _strings(config):
        if "{{" in text or "{%" in text:
            env.parse(text)  # raises TemplateSyntaxError


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_blueprints_load_with_bilingual_names(
    name: str, shipped_store: BlueprintStore
) -> None:
    bp = shipped_store.get("automation", f"shouwang/{name}")
    assert bp.path == BUNDLED_BLUEPRINTS / "automation" / "shouwang" / name
    assert bp.domain == "automation"
    assert bp.author == "Shouwang"
    for text in (bp.name, bp.description or ""):
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text), text  # Chinese
        assert any("a" <= ch.lower() <= "z" for ch in text), text  # and English
    for item in bp.inputs.values():
        assert item.label and " / " in item.label, item
        assert item.selector, item
        assert item.description, item

    # valid YAML for plain PyYAML plus the !input tag, i.e. nothing Shouwang-only
    class PlainLoader(yaml.SafeLoader):
        pass

    PlainLoader.add_constructor("!input", lambda loader, node: Input(str(node.value)))
    with bp.path.open(encoding="utf-8") as handle:
        assert "blueprint" in yaml.load(handle, Loader=PlainLoader)


def test_door_held_open_expands(shipped_store: BlueprintStore) -> None:
    bp = shipped_store.get("automation", "shouwang/door_held_open.yaml")
    assert bp.inputs["reminder_after"].default == 30
    assert bp.inputs["alarm_after"].default == 180
    assert bp.inputs["door_sensor"].selector == {
        "entity": {"filter": [{"domain": "binary_sensor", "device_class": "door"}]}
    }
    assert bp.inputs["alarm_actions"].section == "extra_actions"
    result = expand_automation(shipped_store, DOOR_HELD_OPEN_AUTOMATION)
    check_automation_shape(result)
    assert result["mode"] == "single"
    assert result["variables"] == {
        "door_sensor": "binary_sensor.b1_unit_door",
        "reminder_after": 30,
        "alarm_after": 180,
    }
    assert result["triggers"] == [
        {
            "trigger": "state",
            "entity_id": "binary_sensor.b1_unit_door",
            "to": "on",
            "for": {"seconds": 30},
        }
    ]
    reminder, reminder_actions, wait, alarm = result["actions"]
    assert reminder["event"] == "door_held_open"
    assert reminder["event_data"]["level"] == "reminder"
    assert reminder["event_data"]["entity_id"] == "{{ door_sensor }}"
    assert "place_id" in reminder["event_data"]["place"]
    assert reminder_actions == {"choose": [], "default": []}
    assert wait["wait_for_trigger"] == [
        {"trigger": "state", "entity_id": "binary_sensor.b1_unit_door", "to": "off"}
    ]
    assert wait["continue_on_timeout"] is True
    timeout = jinja2.Environment().from_string(wait["timeout"])
    assert timeout.render(alarm_after=180, reminder_after=30) == "150"
    assert timeout.render(alarm_after=20, reminder_after=30) == "0"
    assert alarm["if"] == [
        {"condition": "template", "value_template": "{{ wait.trigger is none }}"}
    ]
    assert alarm["then"][0]["event"] == "door_held_open"
    assert alarm["then"][0]["event_data"]["level"] == "alarm"
    assert alarm["then"][1] == {"choose": [], "default": []}
    # given times and actions are used
    custom = {
        "use_blueprint": {
            "path": "shouwang/door_held_open.yaml",
            "input": {
                "door_sensor": "binary_sensor.x",
                "reminder_after": 60,
                "alarm_after": 300,
                "alarm_actions": [{"action": "siren.turn_on", "target": {"entity_id": "siren.s"}}],
            },
        }
    }
    result = expand_automation(shipped_store, custom)
    assert result["triggers"][0]["for"] == {"seconds": 60}
    assert result["variables"]["alarm_after"] == 300
    assert result["actions"][3]["then"][1]["default"] == [
        {"action": "siren.turn_on", "target": {"entity_id": "siren.s"}}
    ]


def test_forced_door_expands(shipped_store: BlueprintStore) -> None:
    result = expand_automation(shipped_store, FORCED_DOOR_AUTOMATION)
    check_automation_shape(result)
    assert result["variables"] == {
        "lock_entity": "lock.plant_room",
        "grace_seconds": 15,
        "siren_target": {"entity_id": "siren.guard_room"},
    }
    assert result["triggers"] == [
        {
            "trigger": "state",
            "entity_id": "binary_sensor.plant_room_door",
            "from": "off",
            "to": "on",
        }
    ]
    (condition,) = result["conditions"]
    assert condition["condition"] == "template"
    assert "lock_entity" in condition["value_template"]
    assert "grace_seconds" in condition["value_template"]
    event, siren = result["actions"]
    assert event["event"] == "door_forced"
    assert set(event["event_data"]) == {"entity_id", "place", "lock", "lock_state"}
    assert siren["then"] == [
        {"action": "siren.turn_on", "target": {"entity_id": "siren.guard_room"}}
    ]
    # sirens are optional; the grace time has a default
    minimal = expand_automation(
        shipped_store,
        {
            "use_blueprint": {
                "path": "shouwang/forced_door.yaml",
                "input": {"door_sensor": "binary_sensor.d", "lock_entity": "lock.l"},
            }
        },
    )
    assert minimal["variables"]["grace_seconds"] == 10
    assert minimal["variables"]["siren_target"] == {}
    assert minimal["actions"][1]["then"][0]["target"] == {}


def test_forced_door_condition_logic(shipped_store: BlueprintStore) -> None:
    """The template condition, rendered with plain Jinja2 and stand-ins for HA's helpers."""
    from collections import defaultdict
    from datetime import UTC, datetime, timedelta

    result = expand_automation(shipped_store, FORCED_DOOR_AUTOMATION)
    template = jinja2.Environment().from_string(result["conditions"][0]["value_template"])
    now = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)

    class Lock:
        def __init__(self, state: str, seconds_ago: float) -> None:
            self.state = state
            self.last_changed = now - timedelta(seconds=seconds_ago)

    def forced(lock: Lock | None) -> bool:
        states: dict[str, Lock | None] = defaultdict(lambda: None)  # HA: None if unknown
        if lock is not None:
            states["lock.plant_room"] = lock
        text = template.render(
            states=states,
            lock_entity="lock.plant_room",
            grace_seconds=15,
            now=lambda: now,
        )
        return text.strip() == "True"

    assert forced(Lock("locked", 3600))
    assert forced(Lock("locked", 2))
    assert not forced(Lock("unlocked", 5))  # unlocked just before: a resident
    assert forced(Lock("unlocked", 600))  # unlocked long ago: suspicious
    assert forced(Lock("jammed", 1))
    assert forced(None)


def test_panic_button_expands(shipped_store: BlueprintStore) -> None:
    bp = shipped_store.get("automation", "shouwang/panic_button.yaml")
    assert bp.inputs["panic_sensor"].selector == {
        "entity": {
            "filter": [
                {"domain": "binary_sensor", "device_class": "panic"},
                {"domain": "binary_sensor", "device_class": "safety"},
            ]
        }
    }
    assert bp.inputs["guard_service"].default == "intercom.call"
    assert bp.inputs["camera"].section == "snapshot"
    result = expand_automation(shipped_store, PANIC_AUTOMATION)
    check_automation_shape(result)
    assert result["mode"] == "parallel"
    assert result["triggers"] == [
        {"trigger": "state", "entity_id": "binary_sensor.b1_lobby_panic", "from": "off", "to": "on"}
    ]
    event, snapshot, call = result["actions"]
    assert event["event"] == "panic_pressed"
    assert set(event["event_data"]) == {"entity_id", "place"}
    assert snapshot["then"] == [
        {
            "action": "camera.snapshot",
            "target": {"entity_id": ["camera.b1_lobby"]},
            "data": {
                "filename": "panic/{{ trigger.entity_id }}_"
                "{{ now().strftime('%Y%m%d_%H%M%S') }}.jpg"
            },
            "continue_on_error": True,
        }
    ]
    assert {k: v for k, v in call.items() if k != "alias"} == {
        "action": "intercom.call",
        "target": {"entity_id": "intercom.b1_unit_station"},
        "data": {"target": "GUARD-ROOM"},
    }
    # the guard call cannot be left out by accident
    with pytest.raises(BlueprintError) as excinfo:
        expand_automation(
            shipped_store,
            {
                "use_blueprint": {
                    "path": "shouwang/panic_button.yaml",
                    "input": {"panic_sensor": "binary_sensor.p"},
                }
            },
            file="automations.yaml",
            line=9,
        )
    assert excinfo.value.line == 9
    assert excinfo.value.message.endswith("missing inputs guard_target, guard_data")
    # another service, no cameras
    notify = expand_automation(
        shipped_store,
        {
            "use_blueprint": {
                "path": "shouwang/panic_button.yaml",
                "input": {
                    "panic_sensor": "binary_sensor.p",
                    "guard_service": "notify.guard_room",
                    "guard_target": {},
                    "guard_data": {"message": "SOS"},
                },
            }
        },
    )
    assert notify["variables"] == {"camera": []}
    assert notify["actions"][2]["action"] == "notify.guard_room"


# --------------------------------------------------------------------------------------------
# Cross-check with Home Assistant itself (bench/.venv-ha), when it is installed

HA_CHECK = """
import asyncio, json, sys, tempfile
from homeassistant.core import HomeAssistant
from homeassistant.helpers import frame
from homeassistant.components.automation.config import (
    AUTOMATION_BLUEPRINT_SCHEMA, PLATFORM_SCHEMA, _backward_compat_schema,
)
from homeassistant.components.blueprint.models import Blueprint, BlueprintInputs
from homeassistant.components.blueprint.schemas import BLUEPRINT_INSTANCE_FIELDS
from homeassistant.util.yaml import load_yaml_dict


async def main(cases):
    hass = HomeAssistant(tempfile.mkdtemp())
    frame.async_setup(hass)
    out = []
    for case in cases:
        blueprint = Blueprint(
            load_yaml_dict(case["file"]),
            expected_domain="automation",
            path=case["file"],
            schema=AUTOMATION_BLUEPRINT_SCHEMA,
        )
        inputs = BlueprintInputs(
            blueprint, BLUEPRINT_INSTANCE_FIELDS(_backward_compat_schema(case["config"]))
        )
        inputs.validate()
        config = inputs.async_substitute()
        PLATFORM_SCHEMA(dict(config))  # HA's own automation schema accepts it
        out.append(config)
    await hass.async_stop(force=True)
    return out


json.dump(asyncio.run(main(json.load(sys.stdin))), sys.stdout)
"""


def test_expansions_match_home_assistant(
    ha_store: BlueprintStore, shipped_store: BlueprintStore
) -> None:
    if not HA_PYTHON.exists():
        pytest.skip("bench/.venv-ha (homeassistant==2025.4.4) is not installed")
    cases: list[tuple[BlueprintStore, dict[str, Any]]] = [
        (ha_store, MOTION_LIGHT_AUTOMATION),
        (ha_store, NOTIFY_ZONE_AUTOMATION),
        (shipped_store, DOOR_HELD_OPEN_AUTOMATION),
        (shipped_store, FORCED_DOOR_AUTOMATION),
        (shipped_store, PANIC_AUTOMATION),
    ]
    ours = []
    request = []
    for store, config in cases:
        result = expand_automation(store, config)
        request.append({"file": result.pop(BLUEPRINT_KEY)["file"], "config": config})
        ours.append(json.loads(json.dumps(result)))
    done = subprocess.run(
        [str(HA_PYTHON), "-c", HA_CHECK],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    theirs = json.loads(done.stdout)
    for mine, ha in zip(ours, theirs, strict=True):
        assert mine == ha
        assert list(mine) == list(ha)  # same key order too
