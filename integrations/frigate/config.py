"""The ``frigate:`` block of ``configuration.yaml`` and its validated form.

Place in the whole: ``__init__.py`` uses :data:`CONFIG_SCHEMA` (so ``shouwang check-config``
reports a bad block with file:line and the field) and turns the result into a
:class:`FrigateConfig` that the client, the bridge and the sighting tracker share.

```yaml
frigate:
  url: http://127.0.0.1:5000          # or https://nvr:8971 with username/password
  topic_prefix: frigate
  cameras:
    north_gate: {place: P-GATE-N, zones: {gate_lane: P-GATE-N-LANE}}
  face_unknown_after: 10               # a person's face still unknown after this -> stranger
  unknown_face_attempts: 0             # or after this many unmatched face results (0: off)
  min_score: 0.9                       # face recognition score that counts as recognised
  stranger_cooldown: 60                # per camera
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final
from urllib.parse import urlsplit

import voluptuous as vol

from shouwang.core.durations import parse_duration

DEFAULT_FACE_UNKNOWN_AFTER: Final = timedelta(seconds=10)
DEFAULT_STRANGER_COOLDOWN: Final = timedelta(seconds=60)
#: Frigate's own default recognition_threshold: a sub_label is set only at or above it
DEFAULT_MIN_SCORE: Final = 0.9
DEFAULT_TIMEOUT: Final = 10.0
OCCUPANCY_OBJECTS: Final = ("person", "car")


def _url(value: Any) -> str:
    if not isinstance(value, str):
        raise vol.Invalid(f"expected a URL like http://127.0.0.1:5000, got {value!r}")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise vol.Invalid(f"expected an http(s) URL like http://127.0.0.1:5000, got {value!r}")
    return value.rstrip("/")


def duration(value: Any) -> timedelta:
    """A fixed (not templated) non-negative duration."""
    try:
        period: timedelta = parse_duration(value)
    except ValueError as err:
        raise vol.Invalid(str(err)) from None
    if period < timedelta(0):
        raise vol.Invalid(f"a negative duration is not allowed here, got {value!r}")
    return period


def _name(value: Any) -> str:
    """A Frigate camera, zone or object name as it appears in MQTT topics."""
    if not isinstance(value, str) or not value or any(c in value for c in "/#+ "):
        raise vol.Invalid(f"expected a Frigate name without '/', '#', '+' or spaces: {value!r}")
    return value


_PLACE: Final = vol.All(str, vol.Length(min=1))

CAMERA_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("place"): _PLACE,
        vol.Optional("zones", default=dict): {_name: _PLACE},
        vol.Optional("name"): vol.All(str, vol.Length(min=1)),
    }
)

CONFIG_SCHEMA: Final = vol.Schema(
    {
        vol.Required("url"): _url,
        vol.Inclusive("username", "login"): vol.All(str, vol.Length(min=1)),
        vol.Inclusive("password", "login"): vol.All(str, vol.Length(min=1)),
        vol.Optional("topic_prefix", default="frigate"): _name,
        vol.Optional("cameras", default=dict): {_name: vol.Any(None, CAMERA_SCHEMA)},
        vol.Optional("face_unknown_after", default=DEFAULT_FACE_UNKNOWN_AFTER): duration,
        vol.Optional("min_score", default=DEFAULT_MIN_SCORE): vol.All(
            vol.Coerce(float), vol.Range(min=0, max=1)
        ),
        vol.Optional("require_face", default=True): bool,
        vol.Optional("unknown_face_attempts", default=0): vol.All(
            vol.Coerce(int), vol.Range(min=0, max=100)
        ),
        vol.Optional("stranger_cooldown", default=DEFAULT_STRANGER_COOLDOWN): duration,
        vol.Optional("timeout", default=DEFAULT_TIMEOUT): vol.All(
            vol.Coerce(float), vol.Range(min=0.1, max=300)
        ),
        vol.Optional("verify_ssl", default=True): bool,
    }
)


@dataclass(frozen=True, slots=True)
class CameraConfig:
    """One Frigate camera: the community place it watches and its zones' places."""

    name: str  # Frigate's camera name (MQTT topics, API paths)
    place: str | None = None
    #: zone -> its place (None: a zone Frigate lists that the block does not bind)
    zones: Mapping[str, str | None] = field(default_factory=dict)
    friendly_name: str | None = None

    @property
    def entity_id(self) -> str:
        return f"camera.{self.name}"


@dataclass(frozen=True, slots=True)
class FrigateConfig:
    """The validated ``frigate:`` block."""

    url: str
    username: str | None = None
    password: str | None = None
    topic_prefix: str = "frigate"
    cameras: Mapping[str, CameraConfig] = field(default_factory=dict)
    face_unknown_after: timedelta = DEFAULT_FACE_UNKNOWN_AFTER
    min_score: float = DEFAULT_MIN_SCORE
    require_face: bool = True
    #: decide a stranger after this many unmatched face results, before face_unknown_after
    #: (0: wait for face_unknown_after or the end of the track)
    unknown_face_attempts: int = 0
    stranger_cooldown: timedelta = DEFAULT_STRANGER_COOLDOWN
    timeout: float = DEFAULT_TIMEOUT
    verify_ssl: bool = True

    @classmethod
    def from_block(cls, block: Mapping[str, Any]) -> FrigateConfig:
        """From a block CONFIG_SCHEMA has validated."""
        cameras = {
            name: CameraConfig(
                name,
                (spec or {}).get("place"),
                dict((spec or {}).get("zones", {})),
                (spec or {}).get("name"),
            )
            for name, spec in block.get("cameras", {}).items()
        }
        return cls(
            url=block["url"],
            username=block.get("username"),
            password=block.get("password"),
            topic_prefix=block.get("topic_prefix", "frigate"),
            cameras=cameras,
            face_unknown_after=block.get("face_unknown_after", DEFAULT_FACE_UNKNOWN_AFTER),
            min_score=block.get("min_score", DEFAULT_MIN_SCORE),
            require_face=block.get("require_face", True),
            unknown_face_attempts=block.get("unknown_face_attempts", 0),
            stranger_cooldown=block.get("stranger_cooldown", DEFAULT_STRANGER_COOLDOWN),
            timeout=block.get("timeout", DEFAULT_TIMEOUT),
            verify_ssl=block.get("verify_ssl", True),
        )
