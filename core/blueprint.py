"""Blueprints: Home Assistant's reusable automation templates, loaded and expanded.

Place in the whole: this sits between the YAML loader (:mod:`.yaml_loader`, which turns
``!input NAME`` into :class:`~.yaml_loader.Input` markers) and the automation engine
(``integrations/automation``). The engine reads ``automations.yaml``; for every automation
that :func:`is_blueprint_config` (it has ``use_blueprint:``) it calls :func:`expand_automation`
and then validates and runs the result exactly like a hand-written automation. The automation
editor uses :class:`BlueprintStore` (``available``/``get``) to offer blueprints and their
inputs (:class:`BlueprintInput`: label, description, default, selector, section).

The format is Home Assistant's, unchanged, so its published blueprints load as they are::

    blueprint:
      name: ...               # required
      description: ...
      domain: automation      # required; the store only hands out the domain asked for
      source_url: https://...
      author: ...
      homeassistant: {min_version: 2024.10.0}   # accepted, checked for form, not enforced
      input:
        motion_entity: {name: ..., description: ..., default: ..., selector: {entity: {}}}
        timing:                                  # a section: its inputs join the same namespace
          name: ...
          icon: mdi:timer
          collapsed: true
          input:
            wait: {default: 120}
    triggers: ...                                # the automation body, with !input anywhere
    actions: ...

Substitution is HA's: every whole ``!input NAME`` node in the body (a mapping value or a list
item, at any depth, ``variables:`` and ``trigger_variables:`` included) is replaced by the
value given for NAME, else by the input's declared ``default``. Text inside templates is never
touched. For ``domain: automation`` the body's legacy singular keys ``trigger``/``condition``/
``action`` are renamed to ``triggers``/``conditions``/``actions`` at load time, as HA's
``AUTOMATION_BLUEPRINT_SCHEMA`` does, so a user's own ``triggers:`` beside ``use_blueprint``
overrides the blueprint's whatever spelling either side used.

Deliberate differences from HA, all stricter and all reported with ``file:line``: an input
that the blueprint does not declare is an error (HA silently ignores it); ``!input`` inside
the ``blueprint:`` block or as a mapping key is an error; ``!secret`` is not available in
blueprint files (as in HA); ``blueprint:`` and ``_blueprint`` are not allowed beside
``use_blueprint``. Selector types are not checked against a list (HA rejects unknown ones),
so blueprints written for a newer HA still load; a selector must still be a one-key mapping.

Marks: :func:`substitute` and :func:`expand_automation` return :class:`~.yaml_loader.NodeDict`
trees, so :func:`~.yaml_loader.mark_of` on a validation error path points into the blueprint
file for parts that came from the blueprint, and into the automation's file for the values
the user gave (and for the keys written beside ``use_blueprint``).

Every problem raises :class:`BlueprintError`, ``str(err) == "file:line: message"``.
"""

from __future__ import annotations

import copy
import enum
import os
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Final
from urllib.parse import urlparse

from .yaml_loader import Input, NodeDict, NodeList, YamlError, mark_of, parse_yaml

__all__ = [
    "AUTOMATION_DOMAIN",
    "BLUEPRINT_KEY",
    "BUNDLED_BLUEPRINTS",
    "NO_DEFAULT",
    "Blueprint",
    "BlueprintError",
    "BlueprintInput",
    "BlueprintSection",
    "BlueprintStore",
    "expand_automation",
    "is_blueprint_config",
    "load_blueprint",
    "substitute",
]

BUNDLED_BLUEPRINTS: Final[Path] = Path(__file__).resolve().parents[1] / "blueprints"
"""The blueprints shipped in the repository (``<repo>/blueprints/<domain>/...``).

Found relative to this file: ``core/`` sits in the repository root and installs as
``shouwang.core`` through a path mapping, so in a source checkout and in an editable install
``Path(__file__).resolve().parents[1]`` is the repository root. A wheel (non-editable install)
does *not* ship the ``blueprints/`` directory yet: there this path points at
``site-packages/shouwang/blueprints``, which does not exist, and :class:`BlueprintStore` simply
finds nothing in it. Shipping them needs a packaging change (package data or a
``shouwang.blueprints`` package), not done here.
"""

AUTOMATION_DOMAIN: Final = "automation"

BLUEPRINT_KEY: Final = "_blueprint"
"""Key that :func:`expand_automation` adds to its result to record where it came from:
``{"path", "name", "file", "inputs"}``. Pop it before validating the automation schema."""

USE_BLUEPRINT: Final = "use_blueprint"

_BLUEPRINT_BLOCK: Final = "blueprint"
_METADATA_KEYS: Final = (
    "name",
    "description",
    "domain",
    "source_url",
    "author",
    "homeassistant",
    "input",
)
_INPUT_KEYS: Final = ("name", "description", "default", "selector")
_SECTION_KEYS: Final = ("name", "icon", "description", "collapsed", "input")
_USE_BLUEPRINT_KEYS: Final = ("path", "input")
# HA's automation ``_backward_compat_schema``: old singular top-level keys -> plural.
_PLURAL_KEYS: Final = (("trigger", "triggers"), ("condition", "conditions"), ("action", "actions"))
_DOMAIN_RE: Final = re.compile(r"[a-z0-9_]+")


class _NoDefault(enum.Enum):
    NO_DEFAULT = "NO_DEFAULT"

    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Final = _NoDefault.NO_DEFAULT
""":attr:`BlueprintInput.default` of an input declared without ``default:`` (a declared
``default: null`` is a real default, ``None``)."""


class BlueprintError(Exception):
    """A blueprint problem: ``str(err)`` is ``"file:line: message"`` (``"file: message"``
    without a line, just ``message`` without a file)."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        super().__init__(message, file, line)
        self.message = message
        self.file = file
        self.line = line

    def __str__(self) -> str:
        if self.file is None:
            return self.message
        if self.line is None:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class BlueprintInput:
    """One declared input. ``label`` is the input's ``name:`` (the display name); ``name`` is
    its key, the one ``!input`` and ``use_blueprint: input:`` use. ``section`` is the key of
    the section it was declared in, or None."""

    name: str
    label: str | None = None
    description: str | None = None
    default: Any = NO_DEFAULT
    selector: dict[str, Any] | None = None
    section: str | None = None

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT


@dataclass(frozen=True, slots=True)
class BlueprintSection:
    """An input section (for the editor; its inputs are in :attr:`Blueprint.inputs`)."""

    key: str
    name: str | None = None
    icon: str | None = None
    description: str | None = None
    collapsed: bool = False
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Blueprint:
    """A loaded blueprint. ``inputs`` is flattened (section inputs included), in declaration
    order; ``body`` is the file without its ``blueprint:`` block (automation legacy keys
    renamed, see the module docstring), still holding :class:`~.yaml_loader.Input` markers.
    Instances are cached and shared by :class:`BlueprintStore`: treat them as read-only."""

    path: Path
    name: str
    domain: str
    description: str | None
    source_url: str | None
    inputs: dict[str, BlueprintInput]
    body: dict[str, Any]
    author: str | None = None
    sections: dict[str, BlueprintSection] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Loading


def load_blueprint(path: str | Path, *, expected_domain: str | None = None) -> Blueprint:
    """Read and check one blueprint file.

    ``expected_domain`` (e.g. ``"automation"``) rejects a blueprint of another domain.
    ``!include`` works relative to the file; ``!secret`` does not (as in HA). Raises
    :class:`BlueprintError` with ``file:line`` for every problem: unreadable file, YAML errors,
    no ``blueprint:`` block, a bad metadata or input declaration, an ``!input`` naming an
    input the blueprint does not declare.
    """
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError as err:
        raise BlueprintError("blueprint file not found", file) from err
    except OSError as err:
        raise BlueprintError(f"cannot read blueprint file: {err.strerror or err}", file) from err
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise BlueprintError("file is not valid UTF-8", file, line) from err
    try:
        data = parse_yaml(text, file, allow_includes=True)
    except YamlError as err:
        raise BlueprintError(err.message, err.file, err.line) from err
    return _build_blueprint(Path(path), file, data, expected_domain)


def _error_at(message: str, data: Any, path: Sequence[object], file: str) -> BlueprintError:
    mark = mark_of(data, path)
    if mark is None:
        return BlueprintError(message, file, None)
    return BlueprintError(message, mark[0], mark[1])


def _build_blueprint(path: Path, file: str, data: Any, expected_domain: str | None) -> Blueprint:
    if not isinstance(data, dict):
        raise _error_at(
            f"a blueprint file must be a mapping with a `blueprint:` block, found "
            f"{_type_name(data)}",
            data,
            (),
            file,
        )
    if _BLUEPRINT_BLOCK not in data:
        raise BlueprintError(
            "not a blueprint: the file has no `blueprint:` block (name, domain, input)", file, 1
        )
    meta = data[_BLUEPRINT_BLOCK]
    where: tuple[object, ...] = (_BLUEPRINT_BLOCK,)
    if not isinstance(meta, dict):
        raise _error_at(
            f"`blueprint:` must be a mapping (name, domain, input, ...), found {_type_name(meta)}",
            data,
            where,
            file,
        )
    for key in meta:
        if key not in _METADATA_KEYS:
            raise _error_at(
                f"unknown key {key!r} in `blueprint:` (allowed: {', '.join(_METADATA_KEYS)})",
                data,
                (*where, key),
                file,
            )
    for marker, _ in _input_markers(meta)[:1]:
        raise BlueprintError(
            f"!input {marker.name} cannot be used inside the `blueprint:` block",
            marker.file or file,
            marker.line,
        )
    for key in ("name", "domain"):
        if key not in meta:
            raise _error_at(f"`blueprint:` needs a `{key}:`", data, where, file)
    name = _optional_str(data, meta, "name", file)
    domain = _optional_str(data, meta, "domain", file)
    assert name is not None and domain is not None  # required above
    description = _optional_str(data, meta, "description", file)
    author = _optional_str(data, meta, "author", file)
    source_url = _optional_str(data, meta, "source_url", file)
    if source_url is not None:
        parsed = urlparse(source_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise _error_at(
                f"source_url must be an http(s) URL, got {source_url!r}",
                data,
                (*where, "source_url"),
                file,
            )
    _check_homeassistant(data, meta, file)
    if expected_domain is not None and domain != expected_domain:
        raise _error_at(
            f"this is a {domain!r} blueprint (blueprint: domain: {domain}), it cannot be used "
            f"as {_a(expected_domain)} {expected_domain}; put {expected_domain} blueprints "
            f"under blueprints/{expected_domain}/ with `domain: {expected_domain}`",
            data,
            (*where, "domain"),
            file,
        )
    inputs, sections = _parse_inputs(data, meta, file)

    body = _body_of(data, domain, file)
    markers = _input_markers(body)
    for marker, is_key in markers:
        if is_key:
            raise BlueprintError(
                f"!input {marker.name} cannot be used as a mapping key (only as a value or a "
                "list item)",
                marker.file or file,
                marker.line,
            )
    undeclared = [marker for marker, _ in markers if marker.name not in inputs]
    if undeclared:
        names = list(dict.fromkeys(marker.name for marker in undeclared))
        first = undeclared[0]
        raise BlueprintError(
            f"!input {', '.join(names)}: not declared under `blueprint: input:` "
            f"(declared: {', '.join(inputs) or 'none'})",
            first.file or file,
            first.line,
        )
    return Blueprint(
        path=path,
        name=name,
        domain=domain,
        description=description,
        source_url=source_url,
        inputs=inputs,
        body=body,
        author=author,
        sections=sections,
    )


def _a(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, Input):
        return f"!input {value.name}"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _optional_str(data: Any, meta: Mapping[str, Any], key: str, file: str) -> str | None:
    value = meta.get(key)
    if value is None and key not in meta:
        return None
    if not isinstance(value, str):
        raise _error_at(
            f"blueprint {key} must be a string, found {_type_name(value)}",
            data,
            (_BLUEPRINT_BLOCK, key),
            file,
        )
    return str(value)


def _check_homeassistant(data: Any, meta: Mapping[str, Any], file: str) -> None:
    """``homeassistant: {min_version: X.Y.Z}``: accepted and ignored, but checked for form so
    a file HA would refuse is refused here too."""
    if "homeassistant" not in meta:
        return
    block = meta["homeassistant"]
    where = (_BLUEPRINT_BLOCK, "homeassistant")
    if not isinstance(block, dict):
        raise _error_at("`homeassistant:` must be a mapping (min_version)", data, where, file)
    for key in block:
        if key != "min_version":
            raise _error_at(
                f"unknown key {key!r} in `homeassistant:` (allowed: min_version)",
                data,
                (*where, key),
                file,
            )
    if "min_version" in block:
        version = block["min_version"]
        parts = version.split(".") if isinstance(version, str) else []
        if len(parts) != 3 or not all(part.isdigit() for part in parts):
            raise _error_at(
                f"min_version must be a string 'major.minor.patch' such as '2024.10.0', "
                f"found {_type_name(version)}",
                data,
                (*where, "min_version"),
                file,
            )


def _parse_inputs(
    data: Any, meta: Mapping[str, Any], file: str
) -> tuple[dict[str, BlueprintInput], dict[str, BlueprintSection]]:
    declared = meta.get("input")
    where: tuple[object, ...] = (_BLUEPRINT_BLOCK, "input")
    if declared is None:
        return {}, {}
    if not isinstance(declared, dict):
        raise _error_at(
            f"`input:` must be a mapping of input name -> declaration, found "
            f"{_type_name(declared)}",
            data,
            where,
            file,
        )
    inputs: dict[str, BlueprintInput] = {}
    sections: dict[str, BlueprintSection] = {}
    for key, spec in declared.items():
        if not isinstance(key, str):
            raise _error_at(f"input name {key!r} must be a string", data, (*where, key), file)
        if isinstance(spec, dict) and "input" in spec:
            section = _parse_section(data, key, spec, file)
            for input_name, input_spec in spec["input"].items():
                _add_input(
                    data,
                    inputs,
                    _parse_input(
                        data,
                        (*where, key, "input", input_name),
                        input_name,
                        input_spec,
                        section=key,
                        file=file,
                    ),
                    (*where, key, "input", input_name),
                    file,
                )
            sections[key] = section
        else:
            _add_input(
                data,
                inputs,
                _parse_input(data, (*where, key), key, spec, section=None, file=file),
                (*where, key),
                file,
            )
    return inputs, sections


def _add_input(
    data: Any,
    inputs: dict[str, BlueprintInput],
    item: BlueprintInput,
    path: tuple[object, ...],
    file: str,
) -> None:
    previous = inputs.get(item.name)
    if previous is not None:
        first = f"section {previous.section!r}" if previous.section else "the top level"
        raise _error_at(
            f"input {item.name!r} is declared twice (also in {first}); inputs in sections "
            "share one namespace",
            data,
            path,
            file,
        )
    inputs[item.name] = item


def _parse_section(data: Any, key: str, spec: dict[str, Any], file: str) -> BlueprintSection:
    where: tuple[object, ...] = (_BLUEPRINT_BLOCK, "input", key)
    for field_name in spec:
        if field_name not in _SECTION_KEYS:
            raise _error_at(
                f"unknown key {field_name!r} in input section {key!r} (a section has "
                f"{', '.join(_SECTION_KEYS)})",
                data,
                (*where, field_name),
                file,
            )
    texts: dict[str, str | None] = {}
    for field_name in ("name", "icon", "description"):
        value = spec.get(field_name)
        if field_name in spec and not isinstance(value, str):
            raise _error_at(
                f"section {key!r}: {field_name} must be a string, found {_type_name(value)}",
                data,
                (*where, field_name),
                file,
            )
        texts[field_name] = str(value) if value is not None else None
    collapsed = spec.get("collapsed", False)
    if not isinstance(collapsed, bool):
        raise _error_at(
            f"section {key!r}: collapsed must be true or false, found {_type_name(collapsed)}",
            data,
            (*where, "collapsed"),
            file,
        )
    members = spec["input"]
    if members is None:
        members = spec["input"] = _empty_like(spec)
    if not isinstance(members, dict):
        raise _error_at(
            f"section {key!r}: `input:` must be a mapping of input name -> declaration, found "
            f"{_type_name(members)}",
            data,
            (*where, "input"),
            file,
        )
    for member, member_spec in members.items():
        if not isinstance(member, str):
            raise _error_at(
                f"input name {member!r} must be a string", data, (*where, "input", member), file
            )
        if isinstance(member_spec, dict) and "input" in member_spec:
            raise _error_at(
                f"input {member!r} in section {key!r} has its own `input:`: sections cannot "
                "be nested",
                data,
                (*where, "input", member, "input"),
                file,
            )
    return BlueprintSection(
        key=key,
        name=texts["name"],
        icon=texts["icon"],
        description=texts["description"],
        collapsed=collapsed,
        inputs=tuple(members),
    )


def _empty_like(parent: Any) -> dict[str, Any]:
    result = NodeDict()
    result.file = getattr(parent, "file", "<blueprint>")
    result.line = getattr(parent, "line", 1)
    result._key_lines = {}
    return result


def _parse_input(
    data: Any,
    where: tuple[object, ...],
    name: str,
    spec: Any,
    *,
    section: str | None,
    file: str,
) -> BlueprintInput:
    if spec is None:
        return BlueprintInput(name=name, section=section)
    if not isinstance(spec, dict):
        raise _error_at(
            f"input {name!r} must be a mapping (name, description, default, selector) or "
            f"empty, found {_type_name(spec)}",
            data,
            where,
            file,
        )
    for key in spec:
        if key not in _INPUT_KEYS:
            hint = (
                "; icon/collapsed belong to sections, which have their own `input:`"
                if key in ("icon", "collapsed")
                else ""
            )
            raise _error_at(
                f"unknown key {key!r} in input {name!r} (allowed: {', '.join(_INPUT_KEYS)}){hint}",
                data,
                (*where, key),
                file,
            )
    texts: dict[str, str | None] = {}
    for key in ("name", "description"):
        value = spec.get(key)
        if key in spec and not isinstance(value, str):
            raise _error_at(
                f"input {name!r}: {key} must be a string, found {_type_name(value)}",
                data,
                (*where, key),
                file,
            )
        texts[key] = str(value) if value is not None else None
    selector: dict[str, Any] | None = None
    if "selector" in spec:
        selector = _check_selector(data, where, name, spec["selector"], file)
    return BlueprintInput(
        name=name,
        label=texts["name"],
        description=texts["description"],
        default=spec.get("default", NO_DEFAULT),
        selector=selector,
        section=section,
    )


def _check_selector(
    data: Any, where: tuple[object, ...], name: str, selector: Any, file: str
) -> dict[str, Any]:
    if not isinstance(selector, dict) or len(selector) != 1:
        raise _error_at(
            f"input {name!r}: selector must be a mapping with exactly one selector type "
            f"(e.g. `entity: {{domain: binary_sensor}}`), found {_type_name(selector)}"
            + (f" with {len(selector)} keys" if isinstance(selector, dict) else ""),
            data,
            (*where, "selector"),
            file,
        )
    ((kind, options),) = selector.items()
    if not isinstance(kind, str) or not _DOMAIN_RE.fullmatch(kind):
        raise _error_at(
            f"input {name!r}: {kind!r} is not a selector type",
            data,
            (*where, "selector", kind),
            file,
        )
    if options is None:
        selector[kind] = options = _empty_like(selector)  # HA: `entity:` == `entity: {}`
    if not isinstance(options, dict):
        raise _error_at(
            f"input {name!r}: options of the {kind} selector must be a mapping, found "
            f"{_type_name(options)}",
            data,
            (*where, "selector", kind),
            file,
        )
    return selector


def _body_of(data: dict[str, Any], domain: str, file: str) -> dict[str, Any]:
    """The file without ``blueprint:``; for automations, legacy singular keys renamed."""
    body = _copy_dict_shell(data)
    for key, value in data.items():
        if key != _BLUEPRINT_BLOCK:
            body[key] = value
            _set_key_mark(body, key, _key_mark(data, key))
    if domain == AUTOMATION_DOMAIN:
        body = _renamed_plural_keys(body, file)
    return body


def _renamed_plural_keys(config: Mapping[str, Any], file: str | None) -> dict[str, Any]:
    """HA's automation ``_backward_compat_schema``: ``trigger`` -> ``triggers`` etc., in place
    (key order and marks kept); both spellings together are an error."""
    if not any(old in config for old, _ in _PLURAL_KEYS):
        return dict(config) if not isinstance(config, dict) else config
    for old, new in _PLURAL_KEYS:
        if old in config and new in config:
            mark = mark_of(config, (old,))
            raise BlueprintError(
                f"both `{old}:` and `{new}:` are given; use `{new}:` only",
                mark[0] if mark else file,
                mark[1] if mark else None,
            )
    renamed = dict(_PLURAL_KEYS)
    result = _copy_dict_shell(config)
    for key, value in config.items():
        new_key = renamed.get(key, key) if isinstance(key, str) else key
        result[new_key] = value
        _set_key_mark(result, new_key, _key_mark(config, key))
    return result


def _input_markers(obj: Any) -> list[tuple[Input, bool]]:
    """Every ``!input`` in ``obj`` in document order, each with True if it is a mapping key."""
    found: list[tuple[Input, bool]] = []
    stack: list[Any] = [obj]
    while stack:
        current = stack.pop()
        if isinstance(current, Input):
            found.append((current, False))
        elif isinstance(current, dict):
            found.extend((key, True) for key in current if isinstance(key, Input))
            stack.extend(reversed(list(current.values())))
        elif isinstance(current, list):
            stack.extend(reversed(current))
    return found


# -- marks on rebuilt mappings ----------------------------------------------------------------


def _copy_dict_shell(source: Mapping[str, Any]) -> dict[str, Any]:
    """An empty mapping of the same kind: a :class:`NodeDict` with ``source``'s own mark (no
    key marks yet) when ``source`` is one, else a plain dict."""
    if isinstance(source, NodeDict):
        result = NodeDict()
        result.file = source.file
        result.line = source.line
        result._key_lines = {}
        return result
    return {}


def _key_mark(mapping: Mapping[Any, Any], key: Any) -> tuple[str, int] | None:
    return mapping.key_mark(key) if isinstance(mapping, NodeDict) else None


def _set_key_mark(mapping: dict[Any, Any], key: Any, mark: tuple[str, int] | None) -> None:
    if isinstance(mapping, NodeDict):
        if mark is None:
            mapping._key_lines.pop(key, None)
        else:
            mapping._key_lines[key] = mark


# --------------------------------------------------------------------------------------------
# Substitution


def is_blueprint_config(config: Mapping[str, Any]) -> bool:
    """True if ``config`` (one automation) uses a blueprint (has ``use_blueprint:``).

    (HA calls this ``is_blueprint_instance_config``; its ``is_blueprint_config`` tests for a
    ``blueprint:`` block, i.e. a blueprint file.)"""
    return isinstance(config, Mapping) and USE_BLUEPRINT in config


def substitute(
    blueprint: Blueprint,
    inputs: Mapping[str, Any],
    *,
    file: str | None = None,
    line: int | None = None,
) -> dict[str, Any]:
    """The blueprint's body with every ``!input`` replaced, as a new tree.

    Each ``!input NAME`` becomes a deep copy of ``inputs[NAME]``, else of the input's declared
    default. Missing inputs (no value, no default) and inputs the blueprint does not declare
    are reported together, every name listed, in one :class:`BlueprintError` located at
    ``file:line`` (the automation using the blueprint) when given, else at the ``inputs``
    mapping's own mark. ``inputs`` may be None (no inputs given).
    """
    if file is None:
        mark = mark_of(inputs)
        if mark is not None:
            file, line = mark
    where = f"blueprint {blueprint.name!r} ({blueprint.path})"
    if inputs is None:
        inputs = {}
    if not isinstance(inputs, Mapping):
        raise BlueprintError(
            f"{where}: `use_blueprint: input:` must be a mapping of input name -> value, found "
            f"{_type_name(inputs)}",
            file,
            line,
        )
    unknown = [str(name) for name in inputs if name not in blueprint.inputs]
    missing = [
        name
        for name, declared in blueprint.inputs.items()
        if name not in inputs and not declared.has_default
    ]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing input{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        if unknown:
            problems.append(
                f"unknown input{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                f"(the blueprint declares: {', '.join(blueprint.inputs) or 'none'})"
            )
        raise BlueprintError(f"{where}: {'; '.join(problems)}", file, line)
    values: dict[str, Any] = {
        name: inputs.get(name, declared.default) for name, declared in blueprint.inputs.items()
    }
    result = _substituted(blueprint.body, values)
    assert isinstance(result, dict)
    return result


def _substituted(obj: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(obj, Input):
        return copy.deepcopy(values[obj.name])
    if isinstance(obj, dict):
        result = _copy_dict_shell(obj)
        for key, value in obj.items():
            result[key] = _substituted(value, values)
            _set_key_mark(result, key, _key_mark(obj, key))
        return result
    if isinstance(obj, list):
        items = [_substituted(item, values) for item in obj]
        if isinstance(obj, NodeList):
            marked = NodeList(items)
            marked.file = obj.file
            marked.line = obj.line
            return marked
        return items
    return copy.deepcopy(obj)


def expand_automation(
    store: BlueprintStore,
    config: Mapping[str, Any],
    *,
    file: str | None = None,
    line: int | None = None,
) -> dict[str, Any]:
    """Turn an automation that uses a blueprint into a plain automation config.

    ``config`` is one automation: ``use_blueprint: {path, input}`` plus any other keys. As in
    HA (``BlueprintInputs.async_substitute``: ``{**substituted_body, **config}``), every key
    written beside ``use_blueprint`` is kept and, if the blueprint's body has the same
    top-level key, replaces it whole (no deep merge): normally ``id``, ``alias``,
    ``description``, but also ``mode``, ``variables``, ``triggers``, ... (legacy singular
    ``trigger``/``condition``/``action`` are renamed first, as in HA). ``blueprint`` and
    ``_blueprint`` are refused there.

    The blueprint is ``store.get("automation", path)``. The result also holds
    ``_blueprint: {"path": path, "name": ..., "file": <blueprint file>, "inputs": <inputs as
    given>}`` (see :data:`BLUEPRINT_KEY`). Errors name ``file:line`` (default: the mark of
    ``config``) except problems inside the blueprint file itself, which name the blueprint's
    ``file:line`` and say which automation used it.
    """
    if file is None:
        mark = mark_of(config)
        if mark is not None:
            file, line = mark
    if not isinstance(config, Mapping) or USE_BLUEPRINT not in config:
        raise BlueprintError("this automation has no `use_blueprint:`", file, line)
    use = config[USE_BLUEPRINT]
    if not isinstance(use, Mapping):
        raise BlueprintError(
            f"use_blueprint must be a mapping with `path:` and `input:`, found {_type_name(use)}",
            file,
            line,
        )
    for key in use:
        if key not in _USE_BLUEPRINT_KEYS:
            raise BlueprintError(
                f"unknown key {key!r} in use_blueprint (allowed: path, input)", file, line
            )
    path = use.get("path")
    if not isinstance(path, str) or not path:
        raise BlueprintError(
            "use_blueprint needs `path:`, the blueprint's file relative to blueprints/automation/"
            " (e.g. homeassistant/motion_light.yaml)",
            file,
            line,
        )
    for key in (_BLUEPRINT_BLOCK, BLUEPRINT_KEY):
        if key in config:
            raise BlueprintError(
                f"`{key}:` is not allowed beside use_blueprint", *_location(config, key, file, line)
            )
    own = _renamed_plural_keys(
        {key: value for key, value in config.items() if key != USE_BLUEPRINT}, file
    )
    try:
        blueprint = store.get(AUTOMATION_DOMAIN, path)
    except BlueprintError as err:
        if err.file is None:  # not found / bad path: the automation's problem
            raise BlueprintError(err.message, file, line) from err
        used_by = f" (blueprint used by {file}:{line})" if file and line else ""
        raise BlueprintError(err.message + used_by, err.file, err.line) from err
    inputs = use.get("input")
    result = substitute(blueprint, inputs if inputs is not None else {}, file=file, line=line)
    for key, value in own.items():
        result[key] = copy.deepcopy(value)
        _set_key_mark(result, key, _key_mark(config, _legacy_key(config, key)))
    if isinstance(result, NodeDict) and file is not None and line is not None:
        result.file = file
        result.line = line
    result[BLUEPRINT_KEY] = {
        "path": str(path),
        "name": blueprint.name,
        "file": str(blueprint.path),
        "inputs": copy.deepcopy(dict(inputs)) if isinstance(inputs, Mapping) else {},
    }
    return result


def _legacy_key(config: Mapping[str, Any], key: str) -> str:
    """The key as written in ``config`` (``trigger`` for a renamed ``triggers``)."""
    if key in config:
        return key
    for old, new in _PLURAL_KEYS:
        if new == key and old in config:
            return old
    return key


def _location(
    config: Mapping[str, Any], key: str, file: str | None, line: int | None
) -> tuple[str | None, int | None]:
    mark = _key_mark(config, key)
    return mark if mark is not None else (file, line)


# --------------------------------------------------------------------------------------------
# Store


@dataclass(frozen=True, slots=True)
class _Cached:
    mtime_ns: int
    size: int
    result: Blueprint | BlueprintError


class BlueprintStore:
    """Finds blueprints by ``(domain, relative path)`` in ``search_dirs``, first match wins.

    Layout as in HA: ``<dir>/<domain>/<path>``, e.g. with ``[config_dir / "blueprints",
    BUNDLED_BLUEPRINTS]`` a community's own ``blueprints/automation/shouwang/x.yaml``
    overrides the bundled one of the same path. Parsed blueprints (and load errors) are cached
    per file and reused while the file's modification time and size are unchanged; files
    pulled in with ``!include`` are not watched (edit the main file, or :meth:`clear`).

    File I/O is blocking: call from an executor when the event loop is running.
    """

    def __init__(self, search_dirs: Sequence[Path]) -> None:
        self.search_dirs: tuple[Path, ...] = tuple(Path(d) for d in search_dirs)
        self._cache: dict[Path, _Cached] = {}

    def find(self, domain: str, path: str) -> Path:
        """The file ``path`` refers to (first search dir holding it), or BlueprintError
        (without file/line: the caller knows who asked) if it is refused or found nowhere."""
        rel = _checked_relative_path(domain, path)
        tried: list[str] = []
        for directory in self.search_dirs:
            candidate = directory / domain / rel
            tried.append(str(candidate))
            try:
                if stat.S_ISREG(candidate.stat().st_mode):
                    return candidate
            except OSError:
                continue
        raise BlueprintError(f"blueprint {path!r} not found (looked for {', '.join(tried)})")

    def get(self, domain: str, path: str) -> Blueprint:
        """The blueprint at ``path`` (relative to ``<dir>/<domain>/``), checked to be of
        ``domain``. ``../`` components, absolute paths and names not ending in ``.yaml`` are
        refused."""
        found = self.find(domain, path)
        try:
            info = found.stat()
        except OSError as err:  # deleted between find and here
            raise BlueprintError(f"blueprint {path!r} cannot be read: {err}") from err
        cached = self._cache.get(found)
        if cached is None or (cached.mtime_ns, cached.size) != (info.st_mtime_ns, info.st_size):
            result: Blueprint | BlueprintError
            try:
                result = load_blueprint(found, expected_domain=domain)
            except BlueprintError as err:
                result = err
            cached = _Cached(info.st_mtime_ns, info.st_size, result)
            self._cache[found] = cached
        if isinstance(cached.result, BlueprintError):
            failure = cached.result
            raise BlueprintError(failure.message, failure.file, failure.line)
        return cached.result

    def available(self, domain: str) -> dict[str, Path]:
        """Every ``*.yaml`` under ``<dir>/<domain>/`` of every search dir, by relative path
        (POSIX form, as ``use_blueprint: path:`` takes it), first dir winning; sorted. Hidden
        files and directories are skipped. Nothing is parsed."""
        if not _DOMAIN_RE.fullmatch(domain):
            raise BlueprintError(f"invalid blueprint domain {domain!r}")
        found: dict[str, Path] = {}
        for directory in self.search_dirs:
            root = directory / domain
            if not root.is_dir():
                continue
            for current, dirs, files in os.walk(root):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if name.endswith(".yaml") and not name.startswith("."):
                        full = Path(current) / name
                        found.setdefault(full.relative_to(root).as_posix(), full)
        return dict(sorted(found.items()))

    def clear(self) -> None:
        """Forget every cached blueprint."""
        self._cache.clear()


def _checked_relative_path(domain: str, path: str) -> PurePosixPath:
    if not isinstance(domain, str) or not _DOMAIN_RE.fullmatch(domain):
        raise BlueprintError(f"invalid blueprint domain {domain!r}")
    if not isinstance(path, str) or not path.strip():
        raise BlueprintError(f"blueprint path must be a non-empty string, got {path!r}")
    rel = PurePosixPath(path)
    if (
        rel.is_absolute()
        or PureWindowsPath(path).drive
        or path.startswith("~")
        or "\\" in path
        or "\0" in path
    ):
        raise BlueprintError(
            f"blueprint path {path!r} must be relative to blueprints/{domain}/ "
            "(e.g. homeassistant/motion_light.yaml)"
        )
    if ".." in rel.parts:
        raise BlueprintError(
            f"blueprint path {path!r} must stay inside blueprints/{domain}/ (no '..')"
        )
    if not path.endswith(".yaml"):
        raise BlueprintError(f"blueprint path {path!r} must end in .yaml")
    return rel
