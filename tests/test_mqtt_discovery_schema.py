"""Discovery payload parsing without a broker: abbreviations, ``~`` and schema errors."""

from __future__ import annotations

import pytest
import voluptuous as vol

from shouwang.integrations.mqtt.discovery.abbreviations import ABBREVIATIONS, expand
from shouwang.integrations.mqtt.discovery.schemas import SCHEMAS


def test_abbreviations_expand_everywhere_with_base_topic() -> None:
    config = expand(
        {
            "~": "tasmota/gate",
            "name": "Gate",
            "stat_t": "~/STATE",
            "cmd_t": "cmnd/~",
            "json_attr_t": "~/attr",
            "avty": [{"t": "~/LWT", "pl_avail": "Online", "pl_not_avail": "Offline"}],
            "avty_mode": "all",
            "pl_lock": "ON",
            "dev": {"ids": ["a1"], "mf": "Tasmota", "mdl": "Sonoff", "sw": "14.1", "sa": "gate"},
            "o": {"name": "tasmota", "sw": "14.1", "url": "https://tasmota.github.io"},
            "uniq_id": "gate-1",
        }
    )
    assert config["state_topic"] == "tasmota/gate/STATE"
    assert config["command_topic"] == "cmnd/tasmota/gate"
    assert config["json_attributes_topic"] == "tasmota/gate/attr"
    assert config["availability"] == [
        {
            "topic": "tasmota/gate/LWT",
            "payload_available": "Online",
            "payload_not_available": "Offline",
        }
    ]
    assert config["availability_mode"] == "all" and config["payload_lock"] == "ON"
    assert config["device"] == {
        "identifiers": ["a1"],
        "manufacturer": "Tasmota",
        "model": "Sonoff",
        "sw_version": "14.1",
        "suggested_area": "gate",
    }
    assert config["origin"]["support_url"] == "https://tasmota.github.io"
    assert "~" not in config and config["unique_id"] == "gate-1"


def test_full_key_wins_over_its_abbreviation() -> None:
    assert expand({"stat_t": "a", "state_topic": "b"})["state_topic"] == "b"
    assert expand({"state_topic": "b", "stat_t": "a"})["state_topic"] == "b"


def test_table_covers_the_keys_the_issue_names() -> None:
    for short in (
        "stat_t", "cmd_t", "avty_t", "avty", "avty_mode", "dev", "uniq_id", "val_tpl",
        "json_attr_t", "json_attr_tpl", "pl_on", "pl_off", "pl_avail", "pl_not_avail",
        "pl_lock", "pl_unlk", "stat_locked", "stat_unlocked", "dev_cla", "unit_of_meas",
    ):  # fmt: skip
        assert short in ABBREVIATIONS
    assert len(set(ABBREVIATIONS.values())) == len(ABBREVIATIONS)  # no two shorts for one key


@pytest.mark.parametrize(
    ("component", "config", "field"),
    [
        ("sensor", {"name": "x"}, "state_topic"),
        ("lock", {"state_topic": "a"}, "command_topic"),
        ("binary_sensor", {"state_topic": "a/#/b"}, "state_topic"),
        ("binary_sensor", {"state_topic": "a", "qos": 3}, "qos"),
        ("binary_sensor", {"state_topic": "a", "availability": []}, "availability"),
        (
            "binary_sensor",
            {"state_topic": "a", "availability_topic": "b", "availability": [{"topic": "c"}]},
            "availability",
        ),
        ("binary_sensor", {"state_topic": "a", "availability_mode": "most"}, "availability_mode"),
        ("binary_sensor", {"state_topic": "a", "device": {"name": "no ids"}}, "device"),
        (
            "alarm_control_panel",
            {"state_topic": "a", "command_topic": "b", "supported_features": ["arm_moon"]},
            "supported_features",
        ),
        ("light", {"command_topic": "a", "schema": "template"}, "schema"),
        ("event", {"state_topic": "a", "event_types": []}, "event_types"),
        ("device_automation", {"automation_type": "trigger", "topic": "a", "type": "t"}, "subtype"),
        ("sensor", {"state_topic": "a", "name": ["list"]}, "name"),
        ("lock", {"command_topic": "a", "code_format": "^(\\d{4}$"}, "code_format"),
    ],
)
def test_schema_errors_name_the_field(
    component: str, config: dict[str, object], field: str
) -> None:
    with pytest.raises(vol.Invalid) as caught:
        SCHEMAS[component](config)
    errors = (
        caught.value.errors if isinstance(caught.value, vol.MultipleInvalid) else [caught.value]
    )
    assert any(field in [str(p) for p in error.path] for error in errors), errors


def test_defaults_are_home_assistants() -> None:
    lock = SCHEMAS["lock"]({"command_topic": "a"})
    assert (lock["payload_lock"], lock["payload_unlock"]) == ("LOCK", "UNLOCK")
    assert (lock["state_locked"], lock["state_unlocked"]) == ("LOCKED", "UNLOCKED")
    sensor = SCHEMAS["binary_sensor"]({"state_topic": "a", "extra_key_from_newer_ha": 1})
    assert (sensor["payload_on"], sensor["payload_off"]) == ("ON", "OFF")
    assert sensor["availability_mode"] == "latest" and sensor["qos"] == 0
    assert "extra_key_from_newer_ha" not in sensor
    panel = SCHEMAS["alarm_control_panel"]({"state_topic": "a", "command_topic": "b"})
    assert panel["command_template"] == "{{ action }}" and panel["payload_disarm"] == "DISARM"
    assert (
        SCHEMAS["binary_sensor"]({"state_topic": "a", "payload_on": True})["payload_on"] == "True"
    )
