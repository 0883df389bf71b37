"""Tests for shouwang.core.yaml_loader: marks, tags, includes, secrets, errors, dumping."""

from __future__ import annotations

import copy
import datetime
import importlib.util
import pickle
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol
import yaml
from yaml.nodes import Node

from shouwang.core import yaml_loader
from shouwang.core.yaml_loader import (
    Input,
    NodeDict,
    NodeList,
    NodeStr,
    ShouwangLoader,
    TaggedStr,
    YamlError,
    add_constructor,
    dump_yaml,
    load_yaml,
    mark_of,
    parse_yaml,
)


def write(base: Path, rel: str, text: str) -> Path:
    path = base / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def raises_yaml(fn: Any, *args: Any, **kwargs: Any) -> YamlError:
    with pytest.raises(YamlError) as info:
        fn(*args, **kwargs)
    return info.value


# ---------------------------------------------------------------------------------------------
# Marks


AUTOMATION = """\
- id: gate_1
  alias: 北门夜间告警
  triggers:
    - trigger: state
      entity_id: binary_sensor.north_gate
      to: "on"
  conditions:
    - condition: template
      value_template: "{{ is_state('alarm_control_panel.block_1', 'armed_night') }}"
  actions:
    - event: gate_alarm
      event_data:
        gate: 1
"""


def test_marks_on_nested_nodes(tmp_path: Path) -> None:
    path = write(tmp_path, "automations.yaml", AUTOMATION)
    data = load_yaml(path)
    file = str(path)

    assert isinstance(data, NodeList)
    assert (data.file, data.line) == (file, 1)
    auto = data[0]
    assert isinstance(auto, NodeDict)
    assert (auto.file, auto.line) == (file, 1)
    assert auto.key_mark("alias") == (file, 2)
    assert auto.key_mark("actions") == (file, 10)

    alias = auto["alias"]
    assert isinstance(alias, NodeStr)
    assert alias == "北门夜间告警"
    assert (alias.file, alias.line) == (file, 2)

    triggers = auto["triggers"]
    assert isinstance(triggers, NodeList)
    assert triggers.line == 4
    trigger = triggers[0]
    assert isinstance(trigger, NodeDict)
    assert trigger.line == 4
    assert trigger.key_mark("entity_id") == (file, 5)
    assert trigger["to"].line == 6
    assert auto["conditions"][0]["value_template"].line == 9
    assert auto["actions"][0]["event_data"].key_mark("gate") == (file, 13)


def test_keys_are_plain_str_and_other_scalars_plain_values() -> None:
    data = parse_yaml("a: 1\nb: 2.5\nc: true\nd: null\ne: '1'\nf: [x, 3]\n")
    assert all(type(key) is str for key in data)
    assert data == {"a": 1, "b": 2.5, "c": True, "d": None, "e": "1", "f": ["x", 3]}
    assert type(data["a"]) is int
    assert isinstance(data["e"], NodeStr)
    assert data["f"][0].line == 6


def test_standard_safe_tags() -> None:
    data = parse_yaml(
        "s: !!set {a, b}\no: !!omap [{x: 1}, {y: 2}]\nb: !!binary aGk=\nf: !!float 1\n"
        "d: 2024-05-01\nq: !!str 12\n"
    )
    assert data["s"] == {"a", "b"}
    assert data["o"] == [("x", 1), ("y", 2)]
    assert data["b"] == b"hi"
    assert data["f"] == 1.0
    assert data["d"] == datetime.date(2024, 5, 1)
    assert isinstance(data["q"], NodeStr)
    assert data["q"] == "12"


def test_node_types_behave_like_builtins() -> None:
    data = parse_yaml("name: front\nitems: [a, b]\n")
    assert data == {"name": "front", "items": ["a", "b"]}
    assert {data["name"]: 1}["front"] == 1
    assert data["name"].upper() == "FRONT"
    assert type(data["name"].upper()) is str


def test_marks_survive_copy_and_pickle() -> None:
    data = parse_yaml("a:\n  b: [x]\n", "conf.yaml")
    for clone in (copy.deepcopy(data), pickle.loads(pickle.dumps(data))):
        assert clone == data
        assert isinstance(clone, NodeDict)
        assert clone.key_mark("a") == data.key_mark("a") == ("conf.yaml", 1)
        assert (clone["a"]["b"][0].file, clone["a"]["b"][0].line) == ("conf.yaml", 2)


def test_block_scalar_and_anchor_marks() -> None:
    data = parse_yaml("base: &b\n  mode: single\ncopy: *b\ntext: |\n  line one\n  line two\n")
    assert data["copy"] is data["base"]
    assert data["text"] == "line one\nline two\n"
    assert data["text"].line == 4


# ---------------------------------------------------------------------------------------------
# Duplicate keys, merges


def test_duplicate_key_names_second_occurrence(tmp_path: Path) -> None:
    path = write(tmp_path, "configuration.yaml", "hub:\n  name: a\n  port: 1\n  name: b\n")
    err = raises_yaml(load_yaml, path)
    assert (err.file, err.line) == (str(path), 4)
    assert "'name'" in err.message
    assert "line 2" in err.message
    assert str(err) == f"{path}:4: {err.message}"


def test_duplicate_key_in_flow_mapping() -> None:
    err = raises_yaml(parse_yaml, "x: 1\ny: {a: 1, a: 2}\n", "f.yaml")
    assert (err.file, err.line) == ("f.yaml", 2)


def test_merge_keys_can_be_overridden_but_not_duplicated() -> None:
    text = "base: &b {mode: single, max: 1}\nauto:\n  <<: *b\n  max: 5\n"
    data = parse_yaml(text)
    assert data["auto"] == {"max": 5, "mode": "single"}
    assert data["auto"].key_mark("max")[1] == 4
    assert data["auto"].key_mark("mode")[1] == 1

    many = parse_yaml("a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<: [*a, *b]\n")
    assert many["c"] == {"x": 1, "y": 2}

    err = raises_yaml(parse_yaml, text + "  max: 6\n")
    assert err.line == 5

    err = raises_yaml(parse_yaml, "a: &s scalar\nb:\n  <<: *s\n")
    assert err.line == 1
    assert "merge" in err.message


def test_explicit_tag_on_wrong_node_kind_is_error() -> None:
    assert raises_yaml(parse_yaml, "a: 1\nb: !!str [x]\n").line == 2
    assert raises_yaml(parse_yaml, "a: !!seq {x: 1}\n").line == 1
    assert raises_yaml(parse_yaml, "a: !!map [x]\n").line == 1


def test_unhashable_key_and_recursive_alias_are_errors() -> None:
    assert raises_yaml(parse_yaml, "x: 1\n? [a, b]\n: 3\n").line == 2
    assert "recursive" in raises_yaml(parse_yaml, "a: &r [*r]\n").message


# ---------------------------------------------------------------------------------------------
# !include


def test_include_relative_and_reports_own_file(tmp_path: Path) -> None:
    main = write(
        tmp_path, "configuration.yaml", "hub:\n  name: home\nautomation: !include a.yaml\n"
    )
    inc = write(tmp_path, "a.yaml", "# comment\n- alias: one\n")
    data = load_yaml(main)
    assert data["automation"] == [{"alias": "one"}]
    assert data.key_mark("automation") == (str(main), 3)
    assert (data["automation"].file, data["automation"].line) == (str(inc), 2)
    assert data["automation"][0]["alias"].file == str(inc)
    assert mark_of(data, ["automation", 0, "alias"]) == (str(inc), 2)


def test_nested_include_is_relative_to_the_including_file(tmp_path: Path) -> None:
    main = write(tmp_path, "configuration.yaml", "outer: !include sub/middle.yaml\n")
    write(tmp_path, "sub/middle.yaml", "inner: !include deeper/leaf.yaml\n")
    leaf = write(tmp_path, "sub/deeper/leaf.yaml", "a: 1\nb: x\n")
    data = load_yaml(main)
    assert data == {"outer": {"inner": {"a": 1, "b": "x"}}}
    assert data["outer"]["inner"]["b"].file == str(leaf)
    assert data["outer"]["inner"]["b"].line == 2


def test_error_in_nested_include_names_inner_file_and_line(tmp_path: Path) -> None:
    main = write(tmp_path, "configuration.yaml", "outer: !include sub/middle.yaml\n")
    write(tmp_path, "sub/middle.yaml", "inner: !include leaf.yaml\n")
    leaf = write(tmp_path, "sub/leaf.yaml", "a: 1\nb: 2\na: 3\n")
    err = raises_yaml(load_yaml, main)
    assert (err.file, err.line) == (str(leaf), 3)


def test_missing_include_is_error_at_include_line(tmp_path: Path) -> None:
    main = write(tmp_path, "configuration.yaml", "a: 1\nb: !include nope.yaml\n")
    err = raises_yaml(load_yaml, main)
    assert (err.file, err.line) == (str(main), 2)
    assert "nope.yaml" in err.message


def test_include_cycle_and_bad_argument(tmp_path: Path) -> None:
    main = write(tmp_path, "configuration.yaml", "a: !include b.yaml\n")
    b = write(tmp_path, "b.yaml", "x: 1\nback: !include configuration.yaml\n")
    err = raises_yaml(load_yaml, main)
    assert (err.file, err.line) == (str(b), 2)
    assert "cycle" in err.message

    bad = write(tmp_path, "bad.yaml", "a: !include [x]\n")
    assert raises_yaml(load_yaml, bad).line == 1
    dir_include = write(tmp_path, "dir.yaml", "a: !include sub\n")
    (tmp_path / "sub").mkdir()
    assert "directory" in raises_yaml(load_yaml, dir_include).message


def test_include_of_empty_file_gives_empty_dict(tmp_path: Path) -> None:
    main = write(tmp_path, "configuration.yaml", "a: !include empty.yaml\n")
    write(tmp_path, "empty.yaml", "# nothing here\n")
    data = load_yaml(main)
    assert data == {"a": {}}
    assert isinstance(data["a"], NodeDict)


# ---------------------------------------------------------------------------------------------
# !include_dir_*


@pytest.fixture
def dir_tree(tmp_path: Path) -> Path:
    """auto/ with files at two levels, plus everything the dir tags must skip."""
    write(tmp_path, "auto/b.yaml", "- alias: b1\n- alias: b2\n")
    write(tmp_path, "auto/a.yaml", "- alias: a1\n")
    write(tmp_path, "auto/sub/c.yaml", "- alias: c1\n")
    write(tmp_path, "auto/empty.yaml", "")
    write(tmp_path, "auto/.hidden.yaml", "- alias: hidden\n")
    write(tmp_path, "auto/.git/x.yaml", "- alias: in_hidden_dir\n")
    write(tmp_path, "auto/notes.yml", "- alias: wrong_extension\n")
    write(tmp_path, "auto/readme.txt", "not yaml: [\n")
    write(tmp_path, "auto/secrets.yaml", "password: hunter2\n")
    return tmp_path


def test_include_dir_list(dir_tree: Path) -> None:
    main = write(dir_tree, "configuration.yaml", "x: 1\nautomation: !include_dir_list auto\n")
    data = load_yaml(main)
    result = data["automation"]
    assert isinstance(result, NodeList)
    assert (result.file, result.line) == (str(main), 2)
    assert result == [[{"alias": "a1"}], [{"alias": "b1"}, {"alias": "b2"}], [{"alias": "c1"}]]
    assert result[2].file == str(dir_tree / "auto/sub/c.yaml")


def test_include_dir_merge_list(dir_tree: Path) -> None:
    main = write(dir_tree, "configuration.yaml", "automation: !include_dir_merge_list auto\n")
    result = load_yaml(main)["automation"]
    assert [a["alias"] for a in result] == ["a1", "b1", "b2", "c1"]
    assert mark_of(result, [2, "alias"]) == (str(dir_tree / "auto/b.yaml"), 2)
    assert mark_of(load_yaml(main), ["automation", 3]) == (str(dir_tree / "auto/sub/c.yaml"), 1)


def test_include_dir_merge_list_rejects_non_list_file(dir_tree: Path) -> None:
    bad = write(dir_tree, "auto/z.yaml", "\nalias: not_a_list\n")
    main = write(dir_tree, "configuration.yaml", "automation: !include_dir_merge_list auto\n")
    err = raises_yaml(load_yaml, main)
    assert (err.file, err.line) == (str(bad), 2)


def test_include_dir_named(tmp_path: Path) -> None:
    write(tmp_path, "scripts/wake.yaml", "sequence: []\n")
    write(tmp_path, "scripts/empty.yaml", "\n")
    write(tmp_path, "scripts/nested/lock.yaml", "sequence:\n  - event: lock\n")
    main = write(tmp_path, "configuration.yaml", "script: !include_dir_named scripts\n")
    result = load_yaml(main)["script"]
    assert isinstance(result, NodeDict)
    assert list(result) == ["wake", "lock"]
    assert result["lock"] == {"sequence": [{"event": "lock"}]}
    assert result.key_mark("lock") == (str(tmp_path / "scripts/nested/lock.yaml"), 1)
    assert mark_of(result, ["lock", "sequence", 0, "event"]) == (
        str(tmp_path / "scripts/nested/lock.yaml"),
        2,
    )


def test_include_dir_named_duplicate_stem_is_error(tmp_path: Path) -> None:
    write(tmp_path, "scripts/a/x.yaml", "sequence: []\n")
    second = write(tmp_path, "scripts/b/x.yaml", "sequence: []\n")
    main = write(tmp_path, "configuration.yaml", "script: !include_dir_named scripts\n")
    err = raises_yaml(load_yaml, main)
    assert (err.file, err.line) == (str(second), 1)
    assert "'x'" in err.message


def test_include_dir_merge_named(tmp_path: Path) -> None:
    one = write(tmp_path, "pkgs/one.yaml", "gate_a:\n  zone: north\n")
    two = write(tmp_path, "pkgs/two.yaml", "gate_b:\n  zone: south\ngate_c: {}\n")
    write(tmp_path, "pkgs/blank.yaml", "# nothing yet\n")
    main = write(tmp_path, "configuration.yaml", "gates: !include_dir_merge_named pkgs\n")
    data = load_yaml(main)
    assert data["gates"] == {"gate_a": {"zone": "north"}, "gate_b": {"zone": "south"}, "gate_c": {}}
    assert data["gates"].key_mark("gate_a") == (str(one), 1)
    assert data["gates"].key_mark("gate_c") == (str(two), 3)
    assert mark_of(data, ["gates", "gate_c"]) == (str(two), 3)

    write(tmp_path, "pkgs/three.yaml", "x: 1\ngate_a: {}\n")
    err = raises_yaml(load_yaml, main)
    assert (err.file, err.line) == (str(tmp_path / "pkgs/three.yaml"), 2)
    assert f"{one}:1" in err.message

    write(tmp_path, "pkgs/three.yaml", "- not a mapping\n")
    assert raises_yaml(load_yaml, main).file == str(tmp_path / "pkgs/three.yaml")


def test_include_dir_missing_directory_is_error(tmp_path: Path) -> None:
    main = write(tmp_path, "configuration.yaml", "a: 1\nb: !include_dir_list nowhere\n")
    err = raises_yaml(load_yaml, main)
    assert (err.file, err.line) == (str(main), 2)
    assert "nowhere" in err.message


# ---------------------------------------------------------------------------------------------
# !secret


def test_secret_found_next_to_file(tmp_path: Path) -> None:
    write(tmp_path, "secrets.yaml", "db_password: s3cr3t\nport: 5432\n")
    main = write(tmp_path, "configuration.yaml", "db:\n  password: !secret db_password\n")
    data = load_yaml(main)
    value = data["db"]["password"]
    assert value == "s3cr3t"
    assert isinstance(value, TaggedStr)
    assert (value.file, value.line) == (str(main), 2)
    assert "s3cr3t" not in repr(value)
    assert "s3cr3t" not in repr(data)
    assert dump_yaml(data) == "db:\n  password: !secret db_password\n"


def test_secret_non_string_value(tmp_path: Path) -> None:
    write(tmp_path, "secrets.yaml", "port: 5432\n")
    main = write(tmp_path, "configuration.yaml", "port: !secret port\n")
    assert load_yaml(main) == {"port": 5432}


def test_secret_found_in_parent_directory(tmp_path: Path) -> None:
    write(tmp_path, "secrets.yaml", "token: from_root\nshared: root_value\n")
    write(tmp_path, "packages/secrets.yaml", "shared: package_value\n")
    write(tmp_path, "packages/gate.yaml", "token: !secret token\nshared: !secret shared\n")
    main = write(tmp_path, "configuration.yaml", "gate: !include packages/gate.yaml\n")
    data = load_yaml(main)
    assert data["gate"] == {"token": "from_root", "shared": "package_value"}
    assert data["gate"]["token"].file == str(tmp_path / "packages/gate.yaml")


def test_secret_search_stops_at_secrets_root(tmp_path: Path) -> None:
    write(tmp_path, "secrets.yaml", "token: above_root\n")
    main = write(tmp_path, "config/configuration.yaml", "token: !secret token\n")
    err = raises_yaml(load_yaml, main)
    assert "'token'" in err.message
    assert load_yaml(main, secrets_root=tmp_path) == {"token": "above_root"}


def test_missing_secret_names_it_without_leaking_others(tmp_path: Path) -> None:
    write(tmp_path, "secrets.yaml", "other_name: other_value\nalarm_code: 1234\n")
    main = write(tmp_path, "configuration.yaml", "a: 1\ncode: !secret alarm_pin\n")
    err = raises_yaml(load_yaml, main)
    assert (err.file, err.line) == (str(main), 2)
    assert "'alarm_pin'" in err.message
    for leaked in ("other_name", "other_value", "alarm_code", "1234"):
        assert leaked not in str(err)


def test_secret_restrictions(tmp_path: Path) -> None:
    secrets = write(tmp_path, "secrets.yaml", "a: x\nb: !secret a\n")
    main = write(tmp_path, "configuration.yaml", "v: !secret a\n")
    err = raises_yaml(load_yaml, main)
    assert (err.file, err.line) == (str(secrets), 2)

    write(tmp_path, "secrets.yaml", "- not a mapping\n")
    assert raises_yaml(load_yaml, main).file == str(secrets)

    outside = write(tmp_path, "elsewhere/x.yaml", "v: !secret a\n")
    inside = write(tmp_path, "config/configuration.yaml", "x: !include ../elsewhere/x.yaml\n")
    err = raises_yaml(load_yaml, inside)
    assert (err.file, err.line) == (str(outside), 1)
    assert "outside" in err.message


def test_parse_yaml_secrets_need_a_root(tmp_path: Path) -> None:
    assert "'pin'" in raises_yaml(parse_yaml, "pin: !secret pin\n").message
    write(tmp_path, "secrets.yaml", "pin: '0042'\n")
    data = parse_yaml("pin: !secret pin\n", secrets_root=tmp_path)
    assert data == {"pin": "0042"}
    assert (data["pin"].file, data["pin"].line) == ("<string>", 1)


# ---------------------------------------------------------------------------------------------
# !env_var, !input, extra tags


def test_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SW_TEST_HOST", "10.0.0.2")
    monkeypatch.delenv("SW_TEST_UNSET", raising=False)
    data = parse_yaml(
        "host: !env_var SW_TEST_HOST\n"
        "port: !env_var SW_TEST_UNSET 8123\n"
        "name: !env_var SW_TEST_UNSET 北门 岗亭\n"
        "kept: !env_var SW_TEST_HOST fallback\n"
    )
    assert data == {"host": "10.0.0.2", "port": "8123", "name": "北门 岗亭", "kept": "10.0.0.2"}
    assert data["port"].line == 2
    assert dump_yaml(data).splitlines()[1] == "port: !env_var SW_TEST_UNSET 8123"

    err = raises_yaml(parse_yaml, "a: 1\nb: !env_var SW_TEST_UNSET\n", "c.yaml")
    assert (err.file, err.line) == ("c.yaml", 2)
    assert "SW_TEST_UNSET" in err.message


def test_input_markers() -> None:
    data = parse_yaml(
        "triggers:\n  - trigger: state\n    entity_id: !input gate_sensor\n", "bp.yaml"
    )
    marker = data["triggers"][0]["entity_id"]
    assert marker == Input("gate_sensor")
    assert (marker.file, marker.line) == ("bp.yaml", 3)
    assert mark_of(data, ["triggers", 0, "entity_id"]) == ("bp.yaml", 3)
    assert hash(marker) == hash(Input("gate_sensor"))
    with pytest.raises(AttributeError):
        marker.name = "x"
    assert dump_yaml(data).endswith("entity_id: !input gate_sensor\n")
    assert raises_yaml(parse_yaml, "x: !input\n").line == 1


@pytest.fixture
def restore_constructors() -> Iterator[None]:
    saved = dict(ShouwangLoader.yaml_constructors)
    yield
    ShouwangLoader.yaml_constructors.clear()
    ShouwangLoader.yaml_constructors.update(saved)


@pytest.mark.usefixtures("restore_constructors")
def test_add_constructor() -> None:
    def construct_upper(loader: ShouwangLoader, node: Node) -> str:
        if not isinstance(node.value, str):
            raise loader.error(node, "!upper expects a string")
        return node.value.upper()

    add_constructor("!upper", construct_upper)
    assert parse_yaml("a: !upper gate\n") == {"a": "GATE"}
    err = raises_yaml(parse_yaml, "a: 1\nb: !upper [x]\n", "u.yaml")
    assert str(err) == "u.yaml:2: !upper expects a string"


def test_unknown_and_python_tags_are_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "configuration.yaml", "a: 1\nb: !nonsense x\n")
    err = raises_yaml(load_yaml, path)
    assert (err.file, err.line) == (str(path), 2)
    assert "!nonsense" in err.message

    err = raises_yaml(parse_yaml, "x:\n  - !!python/object/apply:os.system [echo hi]\n")
    assert err.line == 2
    assert "python/object/apply" in err.message
    assert raises_yaml(parse_yaml, "x: !!python/name:os.system\n").line == 1


# ---------------------------------------------------------------------------------------------
# Syntax and file errors


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a: 1\nb: [1, 2\nc: 3\n", 3),
        ("a:\n  b: 1\n c: 2\n", 3),
        ("a: 1\nb:\n\t- x\n", 3),
        ("a: 1\n---\nb: 2\n", 2),
        ("a: *missing\n", 1),
        ("a: 'unterminated\n", 2),
    ],
)
def test_syntax_error_line(tmp_path: Path, text: str, line: int) -> None:
    path = write(tmp_path, "bad.yaml", text)
    err = raises_yaml(load_yaml, path)
    assert (err.file, err.line) == (str(path), line)
    assert str(err).startswith(f"{path}:{line}: ")
    assert isinstance(err.__cause__, yaml.YAMLError)


def test_invalid_utf8_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"a: 1\nb: \xff\xfe\n")
    err = raises_yaml(load_yaml, path)
    assert (err.file, err.line) == (str(path), 2)

    missing = tmp_path / "nope.yaml"
    err = raises_yaml(load_yaml, missing)
    assert (err.file, err.line) == (str(missing), None)
    assert str(err).startswith(f"{missing}: ")


def test_yaml_error_attributes_and_pickle() -> None:
    err = YamlError("configuration.yaml", 7, "bad thing")
    assert str(err) == "configuration.yaml:7: bad thing"
    clone = pickle.loads(pickle.dumps(err))
    assert (clone.file, clone.line, clone.message) == ("configuration.yaml", 7, "bad thing")


# ---------------------------------------------------------------------------------------------
# Empty documents, parse_yaml specifics


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "null\n", "~\n"])
def test_empty_document_is_empty_dict(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "configuration.yaml", text)
    data = load_yaml(path)
    assert data == {}
    assert isinstance(data, NodeDict)
    assert (data.file, data.line) == (str(path), 1)
    assert parse_yaml(text) == {}


def test_non_mapping_documents_are_kept() -> None:
    assert parse_yaml("[]\n") == []
    assert parse_yaml("hello\n") == "hello"
    assert parse_yaml("0\n") == 0


def test_parse_yaml_includes_are_opt_in(tmp_path: Path) -> None:
    write(tmp_path, "part.yaml", "x: 1\n")
    err = raises_yaml(parse_yaml, "a: 1\nb: !include part.yaml\n", str(tmp_path / "api.yaml"))
    assert err.line == 2
    assert "not allowed" in err.message
    text = "b: !include part.yaml\n"
    assert parse_yaml(text, str(tmp_path / "api.yaml"), allow_includes=True) == {"b": {"x": 1}}
    err = raises_yaml(parse_yaml, text, allow_includes=True)
    assert err.file == "<string>"


# ---------------------------------------------------------------------------------------------
# mark_of


MARK_TEXT = """\
automations:
  - id: one
    triggers:
      - trigger: state
        entity_id: binary_sensor.a
        for: 5
  - id: two
    triggers: []
"""


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ((), 1),
        (("automations",), 1),
        (("automations", 0), 2),
        (("automations", 0, "id"), 2),
        (("automations", 0, "triggers"), 3),
        (("automations", 0, "triggers", 0), 4),
        (("automations", 0, "triggers", 0, "entity_id"), 5),
        (("automations", 0, "triggers", 0, "for"), 6),  # int value: its key's line
        (("automations", 0, "triggers", 0, "missing"), 4),  # missing key: the mapping
        (("automations", 0, "triggers", 0, "entity_id", "deeper"), 5),  # past a scalar
        (("automations", 1, "triggers", 0), 8),  # index past the end: the list
        (("automations", -1, "id"), 7),
        (("automations", 9, "id"), 2),  # bad index: the list (it starts at its first item)
        (("automations", "0"), 2),  # string index into a list
        (("nothing", 0), 1),
        ((["unhashable"],), 1),
    ],
)
def test_mark_of_paths(path: tuple[Any, ...], line: int) -> None:
    data = parse_yaml(MARK_TEXT, "automations.yaml")
    assert mark_of(data, path) == ("automations.yaml", line)


def test_mark_of_list_mark_is_its_first_item() -> None:
    data = parse_yaml(MARK_TEXT, "automations.yaml")
    assert data["automations"].line == 2
    assert data.key_mark("automations") == ("automations.yaml", 1)
    assert mark_of(data["automations"], [9]) == ("automations.yaml", 2)


def test_key_mark_unknown_keys() -> None:
    data = parse_yaml("a: 1\n", "k.yaml")
    assert data.key_mark("a") == ("k.yaml", 1)
    assert data.key_mark("nope") is None
    assert data.key_mark(["unhashable"]) is None
    assert NodeDict().key_mark("a") is None


def test_mark_of_plain_objects_and_mixed_trees() -> None:
    assert mark_of({"a": 1}, ["a"]) is None
    assert mark_of(5) is None
    inner = parse_yaml("x:\n  y: 1\n", "inner.yaml")
    outer = {"plain": [inner]}
    assert mark_of(outer, ["plain", 0, "x", "y"]) == ("inner.yaml", 2)
    assert mark_of(outer, ["plain", 0, "x", "zzz"]) == ("inner.yaml", 2)
    assert mark_of(outer, ["plain"]) is None
    assert mark_of(parse_yaml("a: [x]\n", "s.yaml")["a"][0]) == ("s.yaml", 1)
    # A validator replaced a value with a plain dict: the key's line still answers.
    data = parse_yaml("x: 0\na: 1\n", "f.yaml")
    data["a"] = {"b": {"c": 1}}
    assert mark_of(data, ["a", "b", "c"]) == ("f.yaml", 2)


def test_mark_of_voluptuous_error_paths() -> None:
    schema = vol.Schema(
        [
            {
                vol.Required("id"): str,
                vol.Required("triggers"): [
                    {vol.Required("trigger"): vol.In(["state"]), vol.Optional("for"): int}
                ],
            }
        ]
    )
    data = parse_yaml(
        "- id: a\n  triggers:\n    - trigger: state\n      for: soon\n- triggers: []\n",
        "automations.yaml",
    )
    with pytest.raises(vol.MultipleInvalid) as info:
        schema(data)
    assert mark_of(data, info.value.path) == ("automations.yaml", 4)

    data = parse_yaml("- id: a\n  triggers:\n    - trigger: sun\n", "automations.yaml")
    with pytest.raises(vol.MultipleInvalid) as info:
        schema(data)
    assert mark_of(data, info.value.path) == ("automations.yaml", 3)

    # A missing key's path ends in a vol.Required marker: the enclosing mapping answers.
    data = parse_yaml("- id: a\n  triggers: []\n- triggers: []\n", "automations.yaml")
    with pytest.raises(vol.MultipleInvalid) as info:
        schema(data)
    assert isinstance(info.value.path[-1], vol.Required)
    assert mark_of(data, info.value.path) == ("automations.yaml", 3)


# ---------------------------------------------------------------------------------------------
# dump_yaml


def test_dump_yaml_chinese_round_trip_and_order() -> None:
    text = (
        "id: gate_1\n"
        "alias: 北门夜间告警\n"
        "description: 保安室收到通知\n"
        "zebra: 1\n"
        "actions:\n"
        "- event: 门禁\n"
        "  event_data:\n"
        "    楼栋: 3号楼\n"
    )
    data = parse_yaml(text)
    out = dump_yaml(data)
    assert out == text
    assert "\\u" not in out
    assert parse_yaml(out) == data


def test_dump_yaml_plain_values() -> None:
    data = {"b": [1, 2.5, True, None], "a": ("x", "y"), "t": "line 1\nline 2\n", "s": "on"}
    out = dump_yaml(data)
    assert out == (
        "b:\n- 1\n- 2.5\n- true\n- null\na:\n- x\n- y\nt: |\n  line 1\n  line 2\ns: 'on'\n"
    )
    assert parse_yaml(out) == {**data, "a": ["x", "y"]}


def test_dump_yaml_repeats_shared_objects_without_anchors() -> None:
    shared = {"mode": "single"}
    out = dump_yaml({"a": shared, "b": shared})
    assert "&" not in out
    assert "*" not in out
    assert out == "a:\n  mode: single\nb:\n  mode: single\n"


# ---------------------------------------------------------------------------------------------
# Pure-Python fallback


def test_pure_python_fallback_behaves_the_same(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delattr(yaml, "CSafeLoader")
    monkeypatch.delattr(yaml, "CSafeDumper")
    spec = importlib.util.spec_from_file_location("_yaml_loader_fallback", yaml_loader.__file__)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "_yaml_loader_fallback", module)
    spec.loader.exec_module(module)

    assert module.HAS_LIBYAML is False
    path = write(tmp_path, "automations.yaml", AUTOMATION)
    data = module.load_yaml(path)
    assert data == load_yaml(path)
    assert module.mark_of(data, [0, "actions", 0, "event_data", "gate"]) == (str(path), 13)
    with pytest.raises(module.YamlError, match=r"^f\.yaml:2: duplicate key 'a'"):
        module.parse_yaml("a: 1\na: 2\n", "f.yaml")
    assert module.dump_yaml(data) == dump_yaml(load_yaml(path))


# ---------------------------------------------------------------------------------------------
# Construction from parser events (no whole-document node tree)


def test_aliases_share_containers_and_keep_anchor_marks() -> None:
    text = "a: &v [1]\nb: *v\nc: [*v, &s str, *s, &n 5, *n]\n&k key: 1\nd: {*k : 2}\n"
    data = parse_yaml(text, "a.yaml")
    assert data["b"] is data["a"]
    assert data["c"][0] is data["a"]
    assert data["c"][1:] == ["str", "str", 5, 5]
    assert (data["c"][2].file, data["c"][2].line) == ("a.yaml", 3)  # the anchor's line
    assert type(next(iter(data["d"]))) is str
    assert data["d"].key_mark("key") == ("a.yaml", 4)  # an alias key: the anchor's line
    err = raises_yaml(parse_yaml, "a: &x 1\nb: &x 2\n")
    assert err.line == 2
    assert "duplicate anchor" in err.message


def test_merges_of_inline_mappings_and_at_top_level() -> None:
    data = parse_yaml("<<: {top: 1, x: 0}\nx: 2\nl:\n  <<: [{p: 1}, {p: 2, q: 3}]\n", "m.yaml")
    assert data == {"x": 2, "top": 1, "l": {"p": 1, "q": 3}}
    assert data.key_mark("top") == ("m.yaml", 1)
    assert raises_yaml(parse_yaml, "a:\n  <<: [{p: 1}, x]\n").line == 2
    assert "recursive" in raises_yaml(parse_yaml, "a: &r {k: *r}\n").message


@pytest.mark.usefixtures("restore_constructors")
def test_add_constructor_gets_nodes_for_collections() -> None:
    seen: list[Node] = []

    def construct_count(loader: ShouwangLoader, node: Node) -> int:
        seen.append(node)
        return len(node.value)

    add_constructor("!count", construct_count)
    data = parse_yaml("a: !count [x, [y], z]\nb: !count {k: v}\n")
    assert data == {"a": 3, "b": 1}
    assert [type(node).__name__ for node in seen] == ["SequenceNode", "MappingNode"]
    assert [type(child).__name__ for child in seen[0].value] == [
        "ScalarNode",
        "SequenceNode",
        "ScalarNode",
    ]
    assert ShouwangLoader.line_of(seen[1]) == 2
