"""Frigate's MQTT payloads, parsed into small typed records.

Place in the whole: the Frigate integration's MQTT handlers (``bridge.py``) hand every raw
payload to one of the parsers here; the sighting tracker and the entities only ever see the
records. The shapes are Frigate 0.16/0.17's documented ones (``frigate/events``,
``frigate/reviews``, ``frigate/tracked_object_update`` with ``face`` and ``lpr`` results, the
per-camera object counts). A payload that does not fit raises :class:`PayloadError` naming the
field, so the handler can log it with its topic and count it; nothing here touches the hub.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

EVENT_TYPES: Final = frozenset({"new", "update", "end"})
REVIEW_SEVERITIES: Final = frozenset({"alert", "detection"})


class PayloadError(ValueError):
    """A Frigate payload that does not have the documented shape; the message names the
    field."""


def load_json(payload: bytes) -> Mapping[str, Any]:
    """The JSON object in ``payload``; PayloadError if it is not UTF-8 JSON or not an
    object."""
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError as err:
        raise PayloadError(f"not JSON: {err}") from None
    if not isinstance(value, Mapping):
        raise PayloadError(f"expected a JSON object, got {type(value).__name__}")
    return value


def _field(data: Mapping[str, Any], name: str, where: str) -> Any:
    if name not in data:
        raise PayloadError(f"{where}{name}: missing")
    return data[name]


# The checks below run for every field of every message on Frigate's busiest topic: each
# tests the usual case first with ``type(...) is`` (orjson gives exact types) and only
# builds the error message when that fails.


def _text(data: Mapping[str, Any], name: str, where: str, *, optional: bool = False) -> Any:
    value = data.get(name)
    if type(value) is str and value:
        return value
    if value is None and optional:
        return None
    if value is None and name not in data:
        raise PayloadError(f"{where}{name}: missing")
    raise PayloadError(f"{where}{name}: expected a non-empty string, got {value!r}")


def _number(data: Mapping[str, Any], name: str, where: str, *, optional: bool = False) -> Any:
    value: Any = data.get(name)
    kind = type(value)
    if kind is float:
        return value
    if kind is int:
        return float(value)
    if value is None and optional:
        return None
    if value is None and name not in data:
        raise PayloadError(f"{where}{name}: missing")
    raise PayloadError(f"{where}{name}: expected a number, got {value!r}")


def _strings(data: Mapping[str, Any], name: str, where: str) -> tuple[str, ...]:
    value = data.get(name)
    if not value:
        return ()
    if type(value) is not list or not all(type(item) is str for item in value):
        raise PayloadError(f"{where}{name}: expected a list of strings, got {value!r}")
    return tuple(value)


@dataclass(frozen=True, slots=True)
class TrackedObject:
    """One side (``before`` or ``after``) of a ``frigate/events`` message."""

    id: str
    camera: str
    label: str
    sub_label: str | None  # the recognised name (a face, or a known plate's name)
    sub_label_score: float | None
    score: float  # current detection score
    top_score: float
    false_positive: bool
    start_time: float
    end_time: float | None
    current_zones: tuple[str, ...]
    entered_zones: tuple[str, ...]
    has_snapshot: bool
    face_score: float | None  # the ``face`` attribute's score, if a face was seen
    plate: str | None
    plate_score: float | None


def _sub_label(value: Any, where: str) -> tuple[str | None, float | None]:
    """``null``, ``[name, score]`` (Frigate >= 0.14) or a bare name (older releases)."""
    if value is None:
        return None, None
    if isinstance(value, str):
        return (value or None), None
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int | float)
        and not isinstance(value[1], bool)
    ):
        return (value[0] or None), float(value[1])
    raise PayloadError(f"{where}sub_label: expected null or [name, score], got {value!r}")


def _face_score(data: Mapping[str, Any], where: str) -> float | None:
    """The best ``face`` attribute score: ``attributes: {"face": 0.86}`` or
    ``current_attributes: [{"label": "face", "score": 0.86, ...}]``."""
    best: float | None = None
    attributes = data.get("attributes")
    if attributes is not None:
        if not isinstance(attributes, Mapping):
            raise PayloadError(f"{where}attributes: expected an object, got {attributes!r}")
        score = attributes.get("face")
        if isinstance(score, int | float) and not isinstance(score, bool):
            best = float(score)
    current = data.get("current_attributes")
    if isinstance(current, list):
        for item in current:
            if isinstance(item, Mapping) and item.get("label") == "face":
                score = item.get("score")
                if isinstance(score, int | float) and not isinstance(score, bool):
                    best = float(score) if best is None else max(best, float(score))
    return best


def parse_object(data: Any, where: str) -> TrackedObject:
    """One tracked object; ``where`` (``"after."``) prefixes field names in errors."""
    if not isinstance(data, Mapping):
        raise PayloadError(f"{where.rstrip('.')}: expected an object, got {data!r}")
    sub_label, sub_score = _sub_label(data.get("sub_label"), where)
    plate = data.get("recognized_license_plate")
    if plate is not None and not isinstance(plate, str):
        raise PayloadError(f"{where}recognized_license_plate: expected a string, got {plate!r}")
    score = _number(data, "score", where, optional=True)
    return TrackedObject(
        id=_text(data, "id", where),
        camera=_text(data, "camera", where),
        label=_text(data, "label", where),
        sub_label=sub_label,
        sub_label_score=sub_score,
        score=score or 0.0,
        top_score=_number(data, "top_score", where, optional=True) or score or 0.0,
        false_positive=bool(data.get("false_positive", False)),
        start_time=_number(data, "start_time", where),
        end_time=_number(data, "end_time", where, optional=True),
        current_zones=_strings(data, "current_zones", where),
        entered_zones=_strings(data, "entered_zones", where),
        has_snapshot=bool(data.get("has_snapshot", False)),
        face_score=_face_score(data, where),
        plate=plate or None,
        plate_score=_number(data, "recognized_license_plate_score", where, optional=True),
    )


@dataclass(frozen=True, slots=True)
class EventMessage:
    """A ``frigate/events`` message: the object before and after the change."""

    type: str  # new | update | end
    #: the object as it was, unparsed: the hub acts on ``after`` (parsing both sides of every
    #: message would double the cost of the busiest topic)
    before: Mapping[str, Any] | None
    after: TrackedObject


def parse_event(payload: bytes) -> EventMessage:
    data = load_json(payload)
    kind = _field(data, "type", "")
    if kind not in EVENT_TYPES:
        raise PayloadError(f"type: expected new, update or end, got {kind!r}")
    before = data.get("before")
    if before is not None and not isinstance(before, Mapping):
        raise PayloadError(f"before: expected an object or null, got {before!r}")
    return EventMessage(kind, before or None, parse_object(_field(data, "after", ""), "after."))


@dataclass(frozen=True, slots=True)
class Review:
    """The ``after`` side of a ``frigate/reviews`` message (a review item)."""

    type: str  # new | update | end
    id: str
    camera: str
    severity: str
    start_time: float
    end_time: float | None
    objects: tuple[str, ...]
    sub_labels: tuple[str, ...]
    zones: tuple[str, ...]
    detections: tuple[str, ...]


def parse_review(payload: bytes) -> Review:
    data = load_json(payload)
    kind = _field(data, "type", "")
    if kind not in EVENT_TYPES:
        raise PayloadError(f"type: expected new, update or end, got {kind!r}")
    after = _field(data, "after", "")
    if not isinstance(after, Mapping):
        raise PayloadError(f"after: expected an object, got {after!r}")
    severity = _text(after, "severity", "after.")
    if severity not in REVIEW_SEVERITIES:
        raise PayloadError(f"after.severity: expected alert or detection, got {severity!r}")
    details = after.get("data") or {}
    if not isinstance(details, Mapping):
        raise PayloadError(f"after.data: expected an object, got {details!r}")
    return Review(
        type=kind,
        id=_text(after, "id", "after."),
        camera=_text(after, "camera", "after."),
        severity=severity,
        start_time=_number(after, "start_time", "after."),
        end_time=_number(after, "end_time", "after.", optional=True),
        objects=_strings(details, "objects", "after.data."),
        sub_labels=_strings(details, "sub_labels", "after.data."),
        zones=_strings(details, "zones", "after.data."),
        detections=_strings(details, "detections", "after.data."),
    )


@dataclass(frozen=True, slots=True)
class FaceResult:
    """``frigate/tracked_object_update`` of type ``face``: one recognition attempt."""

    id: str  # the tracked object's (event's) id
    camera: str
    name: str | None  # null while nothing beats "unknown"
    score: float | None
    timestamp: float | None


@dataclass(frozen=True, slots=True)
class PlateResult:
    """``frigate/tracked_object_update`` of type ``lpr``: a plate read on a tracked car."""

    id: str
    camera: str
    plate: str
    name: str | None  # the plate's name in Frigate's known_plates, if any
    score: float | None
    timestamp: float | None


def parse_tracked_object_update(payload: bytes) -> FaceResult | PlateResult | None:
    """A face or plate result; None for the other documented types (``description`` …),
    which the hub does not use."""
    data = load_json(payload)
    kind = _field(data, "type", "")
    if not isinstance(kind, str):
        raise PayloadError(f"type: expected a string, got {kind!r}")
    if kind == "face":
        name = data.get("name")
        if name is not None and not isinstance(name, str):
            raise PayloadError(f"name: expected a string or null, got {name!r}")
        return FaceResult(
            id=_text(data, "id", ""),
            camera=_text(data, "camera", ""),
            name=name or None,
            score=_number(data, "score", "", optional=True),
            timestamp=_number(data, "timestamp", "", optional=True),
        )
    if kind == "lpr":
        name = data.get("name")
        if name is not None and not isinstance(name, str):
            raise PayloadError(f"name: expected a string or null, got {name!r}")
        return PlateResult(
            id=_text(data, "id", ""),
            camera=_text(data, "camera", ""),
            plate=_text(data, "plate", ""),
            name=name or None,
            score=_number(data, "score", "", optional=True),
            timestamp=_number(data, "timestamp", "", optional=True),
        )
    return None


def parse_count(payload: bytes) -> int:
    """``frigate/<camera or zone>/<object>``: the number of objects in view."""
    text = payload.decode("ascii", errors="replace").strip()
    try:
        count = int(text)
    except ValueError:
        raise PayloadError(f"expected an object count, got {text[:40]!r}") from None
    if count < 0:
        raise PayloadError(f"expected an object count, got {count}")
    return count


def parse_available(payload: bytes) -> bool:
    """``frigate/available``: ``online`` or ``offline``."""
    text = payload.decode("ascii", errors="replace").strip()
    if text not in ("online", "offline"):
        raise PayloadError(f"expected online or offline, got {text[:40]!r}")
    return text == "online"
