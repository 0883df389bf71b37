"""Configuration: the config directory, ``configuration.yaml`` and how blocks are validated.

The file is read by :mod:`.yaml_loader` (includes, secrets, line marks). The ``shouwang:`` block
(``homeassistant:`` is accepted too, for people bringing their files) configures the core; every
other top-level key is an integration's block, validated by that integration's own
``CONFIG_SCHEMA``. Every error is a :class:`ConfigError` naming ``file:line``, the key and what to
do; loading never raises for a user's mistake, so the hub (and ``check-config``) can report all
of them at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import voluptuous as vol

from .yaml_loader import TaggedStr, YamlError, load_yaml, mark_of

_LOGGER = logging.getLogger(__name__)

T = TypeVar("T")

CONFIG_FILE: Final = "configuration.yaml"
CORE_KEYS: Final = ("shouwang", "homeassistant")

STARTER_CONFIGURATION: Final = """\
# Shouwang configuration. Each top-level key is an integration; `shouwang:` is the core.
# Reference: README.md. Secrets go in secrets.yaml and are used as `!secret name`.
shouwang:
  name: 示例花园
  time_zone: Asia/Shanghai
  latitude: 31.2304
  longitude: 121.4737
  language: zh-CN
"""


@dataclass(frozen=True, slots=True)
class ConfigError:
    """One user-facing configuration problem and where it is."""

    message: str
    file: str | None = None
    line: int | None = None
    domain: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file and self.line else ""
        where = f"{self.file}: " if self.file and not self.line else where
        scope = f"[{self.domain}] " if self.domain else ""
        return f"{where}{scope}{self.message}"


@dataclass(slots=True)
class CoreConfig:
    """The ``shouwang:`` block."""

    name: str = "Shouwang"
    time_zone: str = "UTC"
    latitude: float = 0.0
    longitude: float = 0.0
    elevation: float = 0.0
    language: str = "zh-CN"
    country: str | None = None
    internal_url: str | None = None
    external_url: str | None = None

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def as_dict(self) -> dict[str, Any]:
        return {
            "location_name": self.name,
            "time_zone": self.time_zone,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "elevation": self.elevation,
            "language": self.language,
            "country": self.country,
        }


def _time_zone(value: Any) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise vol.Invalid(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from err
    return str(value)


CORE_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("name"): vol.Coerce(str),
        vol.Optional("time_zone"): _time_zone,
        vol.Optional("latitude"): vol.All(vol.Coerce(float), vol.Range(-90, 90)),
        vol.Optional("longitude"): vol.All(vol.Coerce(float), vol.Range(-180, 180)),
        vol.Optional("elevation"): vol.Coerce(float),
        vol.Optional("language"): str,
        vol.Optional("country"): str,
        vol.Optional("internal_url"): vol.Url(),
        vol.Optional("external_url"): vol.Url(),
        # Home Assistant keys we accept and ignore, so its files load unchanged
        vol.Optional("unit_system"): str,
        vol.Optional("currency"): str,
        vol.Optional("customize"): dict,
        vol.Optional("packages"): dict,
    }
)


@dataclass(slots=True)
class LoadedConfig:
    """A parsed configuration: the core block, the raw integration blocks and every error."""

    config_dir: Path
    core: CoreConfig
    blocks: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    errors: list[ConfigError] = field(default_factory=list)

    def where(self, domain: str, path: tuple[str | int, ...] = ()) -> tuple[str | None, int | None]:
        """``(file, line)`` of ``domain``'s block, or of a field inside it."""
        mark = mark_of(self.raw, (domain, *path))
        return mark if mark is not None else (str(self.config_dir / CONFIG_FILE), None)

    def error(
        self, domain: str | None, message: str, path: tuple[str | int, ...] = ()
    ) -> ConfigError:
        file, line = self.where(domain, path) if domain else (None, None)
        return ConfigError(message, file, line, domain)


def validate_each(value: Any, validate_one: Callable[[Any], T]) -> list[T]:
    """One item or a list of them (triggers, conditions, actions) -> validated list; an error's
    path starts with the bad item's index, so it can be turned into ``file:line``."""
    items = value if isinstance(value, list) else [value]
    result = []
    for index, item in enumerate(items):
        try:
            result.append(validate_one(item))
        except vol.Invalid as err:
            err.prepend([index])
            raise
    return result


def ensure_config_dir(config_dir: Path) -> bool:
    """Create ``config_dir`` with a starter ``configuration.yaml`` if it has none.
    Returns True if the file was created."""
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / CONFIG_FILE
    if path.exists():
        return False
    path.write_text(STARTER_CONFIGURATION, encoding="utf-8")
    _LOGGER.info("Created %s", path)
    return True


def load_config_dir(config_dir: Path) -> LoadedConfig:
    """Read and check ``configuration.yaml`` (creating a starter one if missing).

    Integration blocks are returned unvalidated in ``blocks``: the loader validates each with
    its integration's schema (see :func:`validate_block`)."""
    ensure_config_dir(config_dir)
    loaded = LoadedConfig(config_dir, CoreConfig())
    path = config_dir / CONFIG_FILE
    try:
        data = load_yaml(path, secrets_root=config_dir)
    except YamlError as err:
        loaded.errors.append(ConfigError(err.message, err.file, err.line))
        return loaded
    if data is None:
        data = {}
    if not isinstance(data, dict):
        loaded.errors.append(
            ConfigError("the top level must be a mapping of integration -> settings", str(path), 1)
        )
        return loaded
    loaded.raw = data
    core_keys = [key for key in CORE_KEYS if key in data]
    if len(core_keys) > 1:
        loaded.errors.append(loaded.error(core_keys[1], "use either shouwang: or homeassistant:"))
    for key in core_keys[:1]:
        loaded.core = _core_config(loaded, key, data[key])
    for domain, block in data.items():
        if domain in CORE_KEYS:
            continue
        if not isinstance(domain, str):
            loaded.errors.append(loaded.error(None, f"top-level key {domain!r} must be a string"))
            continue
        loaded.blocks[domain] = block
    return loaded


def _core_config(loaded: LoadedConfig, key: str, block: Any) -> CoreConfig:
    core = CoreConfig()
    try:
        values = CORE_SCHEMA(block or {})
    except vol.Invalid as err:
        for error in err.errors if isinstance(err, vol.MultipleInvalid) else [err]:
            loaded.errors.append(_invalid_error(loaded, key, block, error))
        return core
    for name in ("name", "time_zone", "latitude", "longitude", "elevation", "language"):
        if name in values:
            setattr(core, name, values[name])
    for name in ("country", "internal_url", "external_url"):
        if name in values:
            setattr(core, name, values[name])
    return core


def validate_block(
    loaded: LoadedConfig | None, domain: str, schema: vol.Schema | None, block: Any
) -> tuple[Any, list[ConfigError]]:
    """Validate one integration block with its schema; errors carry file:line of the field
    when the block came from a file (``loaded``)."""
    if schema is None:
        if block not in (None, {}):
            message = "this integration takes no settings; remove them"
            return None, [_error(loaded, domain, message)]
        return block, []
    try:
        return schema(block if block is not None else {}), []
    except vol.Invalid as err:
        errors = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
        return None, [_invalid_error(loaded, domain, block, error) for error in errors]


def _error(
    loaded: LoadedConfig | None, domain: str, message: str, path: tuple[str | int, ...] = ()
) -> ConfigError:
    if loaded is None:
        return ConfigError(message, domain=domain)
    return loaded.error(domain, message, path)


_SENSITIVE: Final = ("password", "token", "secret", "key", "code", "pin")


def _invalid_error(
    loaded: LoadedConfig | None, domain: str, block: Any, error: vol.Invalid
) -> ConfigError:
    path: tuple[str | int, ...] = tuple(
        part if isinstance(part, int) else str(part) for part in error.path
    )
    key = ".".join(str(part) for part in (domain, *path))
    message = error.error_message
    if message == "extra keys not allowed":
        message = f"unknown key {path[-1]!r}" if path else "unknown key"
    elif message == "required key not provided":
        message = f"missing required key {path[-1]!r}" if path else message
    value = _value_at(block, path)
    sensitive = isinstance(value, TaggedStr) or any(
        word in str(part).lower() for part in path for word in _SENSITIVE
    )
    shown = ""
    if value is not _MISSING and not isinstance(value, dict | list) and not sensitive:
        shown = f" (got {value!r})"
    return _error(loaded, domain, f"{key}: {message}{shown}", path)


_MISSING: Final = object()


def _value_at(block: Any, path: tuple[Any, ...]) -> Any:
    current = block
    for part in path:
        try:
            current = current[part]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return current
