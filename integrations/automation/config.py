"""Finding and validating automations: the ``automation:`` block of configuration.yaml and
every ``automations/*.yaml`` file, Home Assistant's syntax (old and new key spellings),
blueprints expanded. One validator serves load, reload, check-config and the editor API; every
error names ``file:line``."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import voluptuous as vol

from shouwang.core.blueprint import (
    BUNDLED_BLUEPRINTS,
    BlueprintError,
    BlueprintStore,
    expand_automation,
    is_blueprint_config,
)
from shouwang.core.conditions import validate_conditions
from shouwang.core.config import CONFIG_FILE, ConfigError
from shouwang.core.entity import slugify
from shouwang.core.script import validate_actions
from shouwang.core.template import is_template_string, syntax_error
from shouwang.core.triggers import validate_triggers
from shouwang.core.yaml_loader import TaggedStr, YamlError, load_yaml, mark_of

_LOGGER = logging.getLogger(__name__)

AUTOMATIONS_DIR: Final = "automations"
MODES: Final = ("single", "restart", "queued", "parallel")
DEFAULT_MAX_RUNS: Final = 10
LOG_LEVELS: Final = ("silent", "critical", "error", "warning", "info", "debug")

_RENAMED: Final = {"trigger": "triggers", "condition": "conditions", "action": "actions"}

AUTOMATION_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("id"): vol.Coerce(str),
        vol.Optional("alias"): vol.Coerce(str),
        vol.Optional("description"): str,
        vol.Optional("mode", default="single"): vol.In(MODES),
        vol.Optional("max", default=DEFAULT_MAX_RUNS): vol.All(vol.Coerce(int), vol.Range(min=1)),
        vol.Optional("max_exceeded", default="warning"): vol.All(vol.Lower, vol.In(LOG_LEVELS)),
        vol.Optional("initial_state"): bool,
        vol.Optional("variables", default=dict): dict,
        vol.Optional("trigger_variables", default=dict): dict,
        vol.Required("triggers"): validate_triggers,
        vol.Optional("conditions", default=list): validate_conditions,
        vol.Required("actions"): validate_actions,
        vol.Optional("trace", default=dict): {
            vol.Optional("stored_traces", default=5): vol.All(
                vol.Coerce(int), vol.Range(min=0, max=1000)
            )
        },
        vol.Optional("_blueprint"): dict,
    }
)


def normalise_keys(config: Mapping[str, Any]) -> dict[str, Any]:
    """Accept the older singular spellings (``trigger:``, ``condition:``, ``action:``)."""
    result = dict(config)
    for old, new in _RENAMED.items():
        if old in result:
            if new in result:
                raise vol.Invalid(f"use either '{old}' or '{new}', not both", path=[old])
            result[new] = result.pop(old)
    return result


@dataclass(slots=True)
class AutomationConfig:
    """One valid automation, with where it came from (the parsed YAML is not kept)."""

    config: dict[str, Any]
    file: str
    line: int | None
    key: str = field(init=False)  # the id, else the alias: entity id and traces use it
    object_id: str = field(init=False)

    def __post_init__(self) -> None:
        self.key = str(
            self.config.get("id") or self.config.get("alias") or f"{self.file}:{self.line}"
        )
        self.object_id = slugify(self.key) or "automation"

    @property
    def name(self) -> str:
        return str(self.config.get("alias") or self.config.get("id") or self.object_id)


@dataclass(slots=True)
class LoadResult:
    automations: list[AutomationConfig] = field(default_factory=list)
    errors: list[ConfigError] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def validate_automation(
    raw: Any, store: BlueprintStore, file: str, line: int | None
) -> tuple[dict[str, Any] | None, list[ConfigError]]:
    """Validate one automation (expanding a blueprint); errors carry file:line of the field."""
    if not isinstance(raw, Mapping):
        return None, [ConfigError("an automation must be a mapping", file, line, "automation")]
    config: Mapping[str, Any] = raw
    try:
        if is_blueprint_config(config):
            # the expansion keeps line marks: blueprint parts point into the blueprint file
            config = expand_automation(store, config, file=file, line=line)
        normalised = normalise_keys(config)
        return AUTOMATION_SCHEMA(normalised), []
    except BlueprintError as err:
        return None, [ConfigError(err.message, err.file or file, err.line or line, "automation")]
    except vol.Invalid as err:
        errors = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
        return None, [_error(config, error, file, line) for error in errors]


def _error(raw: Any, error: vol.Invalid, file: str, line: int | None) -> ConfigError:
    path = [part if isinstance(part, int) else str(part) for part in error.path]
    # the error path uses the new key names; the file may use the old ones
    for index, part in enumerate(path[:1]):
        for old, new in _RENAMED.items():
            if part == new and isinstance(raw, Mapping) and old in raw:
                path[index] = old
    mark = mark_of(raw, path)
    where_file, where_line = mark if mark is not None else (file, line)
    name = raw.get("alias") or raw.get("id") if isinstance(raw, Mapping) else None
    label = f"automation {name!r}: " if name else ""
    dotted = ".".join(str(p) for p in path)
    message = error.error_message
    if message == "extra keys not allowed" and path:
        message = f"unknown key {path[-1]!r}"
    elif message == "required key not provided" and path:
        message = f"missing required key {path[-1]!r}"
    return ConfigError(
        f"{label}{dotted + ': ' if dotted else ''}{message}", where_file, where_line, "automation"
    )


def blueprint_store(config_dir: Path) -> BlueprintStore:
    return BlueprintStore([config_dir / "blueprints", BUNDLED_BLUEPRINTS])


def load_automations(
    config_dir: Path,
    block: Any,
    store: BlueprintStore | None = None,
    *,
    keep_marks: bool = False,
) -> LoadResult:
    """Every automation from the ``automation:`` block and ``automations/*.yaml``. Pass the
    hub's ``store`` so parsed blueprints are reused across reloads. Line marks are dropped
    from valid automations (a running hub does not need them) unless ``keep_marks``.
    Blocking: file I/O."""
    result = LoadResult()
    store = store if store is not None else blueprint_store(config_dir)
    sources: list[tuple[Any, str, bool]] = []  # (data, file, read here: ours to consume)
    if block is not None:
        sources.append((block, str(config_dir / CONFIG_FILE), False))
        result.files.append(config_dir / CONFIG_FILE)
    folder = config_dir / AUTOMATIONS_DIR
    if folder.is_dir():
        for path in sorted(folder.rglob("*.yaml")):
            if any(part.startswith(".") for part in path.relative_to(folder).parts):
                continue
            result.files.append(path)
            try:
                sources.append((load_yaml(path, secrets_root=config_dir), str(path), True))
            except YamlError as err:
                result.errors.append(ConfigError(err.message, err.file, err.line, "automation"))
    seen: dict[str, AutomationConfig] = {}
    sources.reverse()
    while sources:
        data, file, ours = sources.pop()
        items = data if isinstance(data, list) else [] if data in (None, {}) else [data]
        del data
        consume = ours and not keep_marks
        for index, raw in enumerate(items):
            if consume:
                items[index] = None  # the parsed tree is freed as we go, not all at the end
            mark = mark_of(raw)
            line = mark[1] if mark else None
            config, errors = validate_automation(raw, store, mark[0] if mark else file, line)
            result.errors.extend(errors)
            if config is None:
                continue
            if not keep_marks:
                config = plain(config)
            automation = AutomationConfig(config, mark[0] if mark else file, line)
            if automation.object_id in seen:
                other = seen[automation.object_id]
                result.errors.append(
                    ConfigError(
                        f"duplicate automation id {automation.key!r} "
                        f"(also at {other.file}:{other.line})",
                        automation.file,
                        automation.line,
                        "automation",
                    )
                )
                continue
            seen[automation.object_id] = automation
            result.automations.append(automation)
    return result


def check_config(config_dir: Path, block: Any) -> list[ConfigError]:
    """``shouwang check-config``: every error in automations and the blueprints they use,
    including template syntax (the running hub compiles templates only when they render)."""
    result = load_automations(config_dir, block, keep_marks=True)
    return result.errors + template_errors(result.automations)


def plain(value: Any) -> Any:
    """A copy without line marks: plain dicts, lists and (short ones interned) strings.
    Values from ``!secret``/``!env_var`` keep their type, which hides them in ``repr``."""
    if isinstance(value, str):
        if type(value) is str or isinstance(value, TaggedStr):
            return value
        text = str.__str__(value)
        return sys.intern(text) if len(text) <= 64 else text
    if isinstance(value, Mapping):
        return {plain(key): plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def template_errors(automations: list[AutomationConfig]) -> list[ConfigError]:
    """Syntax errors in the templates of valid automations, at the template's own line."""
    errors = []
    for automation in automations:
        for value in _strings(automation.config):
            if not is_template_string(value):
                continue
            problem = syntax_error(value)
            if problem is not None:
                errors.append(
                    ConfigError(
                        f"automation {automation.name!r}: template: {problem}",
                        getattr(value, "file", automation.file),
                        getattr(value, "line", automation.line),
                        "automation",
                    )
                )
    return errors


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
