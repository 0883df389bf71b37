"""Configuration: core block, includes and secrets through the config dir, errors with file:line."""

from __future__ import annotations

from pathlib import Path

from shouwang.core.config import CONFIG_FILE, ConfigError, ensure_config_dir, load_config_dir


def write(config_dir: Path, text: str, name: str = CONFIG_FILE) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / name).write_text(text, encoding="utf-8")


def test_starter_configuration_is_created_once(tmp_path: Path) -> None:
    assert ensure_config_dir(tmp_path / "c")
    assert not ensure_config_dir(tmp_path / "c")
    loaded = load_config_dir(tmp_path / "c")
    assert loaded.errors == []
    assert loaded.core.name == "示例花园"


def test_core_block_and_homeassistant_alias(tmp_path: Path) -> None:
    write(tmp_path, "homeassistant:\n  name: Garden\n  time_zone: Europe/Berlin\n  latitude: 52\n")
    loaded = load_config_dir(tmp_path)
    assert loaded.errors == []
    assert (loaded.core.name, loaded.core.time_zone, loaded.core.latitude) == (
        "Garden",
        "Europe/Berlin",
        52.0,
    )
    assert loaded.core.tzinfo.key == "Europe/Berlin"


def test_core_errors_name_file_line_and_key(tmp_path: Path) -> None:
    write(tmp_path, "shouwang:\n  name: x\n  time_zone: Mars/Olympus\n  latitude: 123\n  foo: 1\n")
    loaded = load_config_dir(tmp_path)
    text = sorted(str(e) for e in loaded.errors)
    path = str(tmp_path / CONFIG_FILE)
    assert any(
        t.startswith(f"{path}:3: [shouwang] shouwang.time_zone: unknown time zone 'Mars/Olympus'")
        for t in text
    ), text
    assert any(t.startswith(f"{path}:4:") and "latitude" in t for t in text)
    assert any(t.startswith(f"{path}:5:") and "unknown key 'foo'" in t for t in text)


def test_blocks_with_includes_and_secrets(tmp_path: Path) -> None:
    write(tmp_path, "mqtt: !include mqtt.yaml\ndemo:\n  interval: 3\n")
    write(tmp_path, "broker: localhost\npassword: !secret mqtt_password\n", "mqtt.yaml")
    write(tmp_path, "mqtt_password: hunter2\n", "secrets.yaml")
    loaded = load_config_dir(tmp_path)
    assert loaded.errors == []
    assert loaded.blocks["mqtt"] == {"broker": "localhost", "password": "hunter2"}
    assert "hunter2" not in repr(loaded.blocks["mqtt"]["password"])
    assert loaded.where("mqtt", ("broker",)) == (str(tmp_path / "mqtt.yaml"), 1)


def test_yaml_errors_are_reported_not_raised(tmp_path: Path) -> None:
    write(tmp_path, "demo:\n  interval: 3\ndemo:\n  interval: 4\n")
    loaded = load_config_dir(tmp_path)
    assert len(loaded.errors) == 1
    assert loaded.errors[0].line == 3
    assert "demo" in loaded.errors[0].message
    write(tmp_path, "- a list\n- at the top\n")
    assert "mapping" in load_config_dir(tmp_path).errors[0].message
    write(tmp_path, "demo: !secret nope\n")
    error = load_config_dir(tmp_path).errors[0]
    assert (error.line, "nope" in error.message) == (1, True)


def test_config_error_formatting() -> None:
    assert str(ConfigError("bad", "c.yaml", 3, "mqtt")) == "c.yaml:3: [mqtt] bad"
    assert str(ConfigError("bad", "c.yaml")) == "c.yaml: bad"
    assert str(ConfigError("bad")) == "bad"
