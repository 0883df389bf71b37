"""From Frigate's stream of tracked-object messages to sightings: ``person_sighted``,
``stranger_detected`` and ``plate_recognized`` events on the hub's bus.

Place in the whole: the bridge (``bridge.py``) feeds parsed ``frigate/events`` and
``frigate/tracked_object_update`` messages here; the ``face``/``stranger``/``plate`` triggers
(``triggers.py``) listen to the events fired here, and automations such as the
``stranger_at_night`` blueprint act on them.

One tracked object (a Frigate event id) is followed from its first message to its ``end``:

* a face recognised at or above ``min_score`` (the event's ``sub_label`` or a ``face`` result's
  ``name``) -> one ``person_sighted`` per person per track, with the registered person or
  ``person: None`` when the registry has nobody under that face name;
* a face that is still not matched to a registered person ``face_unknown_after`` after the
  track was first seen (or after ``unknown_face_attempts`` unmatched face results, if set), or
  when the track ends, -> ONE ``stranger_detected`` for the track
  (with ``require_face``, only once Frigate has actually seen a face on it), and then none on
  the same camera for ``stranger_cooldown``; a recognised name the registry does not know
  (e.g. a generated name from Frigate's stranger library) is a stranger too;
* a plate -> one ``plate_recognized`` per track, as soon as a read looks like a valid Chinese
  plate, otherwise the best read when the track ends.

Every time decision uses ``hub.clock``. Messages for cameras the ``frigate:`` block does not
list are ignored (counted).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from shouwang.core.events import Context
from shouwang.core.tracking import Deadlines
from shouwang.integrations.registry.protect import normalise_plate, plate_ok

from .identity import Identities, person_data
from .payloads import EventMessage, FaceResult, PlateResult, TrackedObject

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

    from .config import CameraConfig, FrigateConfig

_LOGGER = logging.getLogger(__name__)

PERSON_SIGHTED: Final = "person_sighted"
STRANGER_DETECTED: Final = "stranger_detected"
PLATE_RECOGNIZED: Final = "plate_recognized"

PLATE_LABELS: Final = frozenset({"car", "motorcycle", "bus", "truck", "license_plate"})
#: tracks followed at once; the oldest is dropped beyond this (a Frigate that never sends end)
MAX_TRACKS: Final = 10_000
#: face_unknown_after may pass up to this much late (seconds): tracks starting within it share
#: one timer run
DEADLINE_RESOLUTION: Final = 0.1
#: ended track ids remembered so that late messages do not start them again
MAX_ENDED: Final = 10_000


@dataclass(slots=True)
class _Track:
    id: str
    camera: CameraConfig
    label: str
    first_seen: float
    zones: list[str] = field(default_factory=list)
    top_score: float = 0.0
    face_seen: bool = False
    unmatched_name: str | None = None  # recognised by Frigate, unknown to the registry
    face_score: float | None = None
    unmatched_attempts: int = 0  # face results that matched nobody registered
    known: bool = False  # a registered person was recognised
    sighted: set[str] = field(default_factory=set)  # person ids / face names announced
    stranger_settled: bool = False
    deadline_passed: bool = False
    plate_sent: bool = False
    best_plate: tuple[str, float] | None = None
    plate_name: str | None = None


@dataclass
class SightingStats:
    tracks: int = 0
    person_sighted: int = 0
    stranger_detected: int = 0
    strangers_suppressed: int = 0  # by the per-camera cooldown
    plate_recognized: int = 0
    ignored: int = 0  # unknown cameras, late messages for ended tracks, false positives


class SightingTracker:
    """Follows Frigate's tracked objects and fires sighting events."""

    def __init__(
        self,
        hub: Hub,
        config: FrigateConfig,
        identities: Identities,
        snapshot_url: Callable[[str], str],
    ) -> None:
        self._hub = hub
        self._config = config
        self._identities = identities
        self._snapshot_url = snapshot_url
        self._tracks: OrderedDict[str, _Track] = OrderedDict()
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._last_stranger: dict[str, float] = {}
        self._unknown_cameras: set[str] = set()
        # each live person track's face_unknown_after, all on one timer
        self._deadlines: Deadlines[str] = Deadlines(
            hub, self._deadline, resolution=DEADLINE_RESOLUTION
        )
        self.stats = SightingStats()

    # -- input ----------------------------------------------------------------------------------
    def handle_event(self, message: EventMessage) -> None:
        obj = message.after
        track = self._track(obj.id, obj.camera, obj.label)
        if track is None:
            return
        if obj.false_positive and message.type != "end":
            return  # Frigate has not confirmed the object yet
        for zone in (*obj.entered_zones, *obj.current_zones):
            if zone not in track.zones:
                track.zones.append(zone)
        track.top_score = max(track.top_score, obj.top_score, obj.score)
        if track.label == "person":
            self._person_update(track, obj)
        elif track.label in PLATE_LABELS and obj.plate:
            self._plate_read(track, obj.plate, obj.plate_score, None)
        if message.type == "end":
            self._end(track, obj)

    def handle_face(self, result: FaceResult) -> None:
        track = self._track(result.id, result.camera, "person")
        if track is None or track.label != "person":
            return
        track.face_seen = True
        if result.score is not None:
            track.face_score = max(track.face_score or 0.0, result.score)
        if result.name is not None and (result.score or 0.0) >= self._config.min_score:
            self._recognised(track, result.name, result.score)
            return
        track.unmatched_attempts += 1
        attempts = self._config.unknown_face_attempts
        if attempts and track.unmatched_attempts >= attempts:
            track.deadline_passed = True
        if track.deadline_passed:
            self._maybe_stranger(track)

    def handle_plate(self, result: PlateResult) -> None:
        track = self._track(result.id, result.camera, "car")
        if track is None:
            return
        self._plate_read(track, result.plate, result.score, result.name)

    def shutdown(self) -> None:
        self._deadlines.clear()
        self._tracks.clear()

    @property
    def live_tracks(self) -> int:
        return len(self._tracks)

    # -- tracks ---------------------------------------------------------------------------------
    def _track(self, track_id: str, camera_name: str, label: str) -> _Track | None:
        track = self._tracks.get(track_id)
        if track is not None:
            return track
        camera = self._config.cameras.get(camera_name)
        if camera is None:
            self.stats.ignored += 1
            if camera_name not in self._unknown_cameras:
                self._unknown_cameras.add(camera_name)
                _LOGGER.info(
                    "Frigate camera %r is not in the frigate: cameras block; its objects are "
                    "ignored",
                    camera_name,
                )
            return None
        if track_id in self._ended:
            self.stats.ignored += 1
            return None
        track = _Track(track_id, camera, label, self._hub.clock.time())
        self._tracks[track_id] = track
        self.stats.tracks += 1
        if len(self._tracks) > MAX_TRACKS:
            _, oldest = self._tracks.popitem(last=False)
            self._forget(oldest)
        if label == "person":
            self._deadlines.set(track_id, self._hub.clock.now() + self._config.face_unknown_after)
        return track

    def _forget(self, track: _Track) -> None:
        self._deadlines.cancel(track.id)
        self._ended[track.id] = None
        if len(self._ended) > MAX_ENDED:
            self._ended.popitem(last=False)

    def _end(self, track: _Track, obj: TrackedObject) -> None:
        if track.label == "person" and not obj.false_positive:
            track.deadline_passed = True
            self._maybe_stranger(track)
        if track.best_plate is not None and not track.plate_sent:
            self._send_plate(track, *track.best_plate)
        self._tracks.pop(track.id, None)
        self._forget(track)

    # -- faces ----------------------------------------------------------------------------------
    def _person_update(self, track: _Track, obj: TrackedObject) -> None:
        if obj.face_score is not None:
            track.face_seen = True
            track.face_score = max(track.face_score or 0.0, obj.face_score)
        if obj.sub_label is not None:
            score = obj.sub_label_score
            # a bare name (Frigate < 0.14) carries no score: Frigate's threshold applied
            if score is None or score >= self._config.min_score:
                track.face_seen = True
                self._recognised(track, obj.sub_label, score)

    def _recognised(self, track: _Track, name: str, score: float | None) -> None:
        person = self._identities.person(name)
        if person is None:
            track.unmatched_name = name
            if f"face:{name}" not in track.sighted:
                track.sighted.add(f"face:{name}")
                self.stats.person_sighted += 1
                self._fire(
                    PERSON_SIGHTED,
                    track,
                    {"person": None, "person_id": None, "face_name": name, "score": score},
                )
            if track.deadline_passed:
                self._maybe_stranger(track)
            return
        track.known = True
        self._deadlines.cancel(track.id)
        if person.person_id in track.sighted:
            return
        track.sighted.add(person.person_id)
        self.stats.person_sighted += 1
        self._fire(
            PERSON_SIGHTED,
            track,
            {
                "person": person_data(person),
                "person_id": person.person_id,
                "face_name": name,
                "score": score,
            },
        )

    def _deadline(self, track_id: str) -> None:
        track = self._tracks.get(track_id)
        if track is not None:
            track.deadline_passed = True
            self._maybe_stranger(track)

    def _maybe_stranger(self, track: _Track) -> None:
        if track.known or track.stranger_settled:
            return
        if self._config.require_face and not track.face_seen:
            return  # nobody has seen a face yet: wait for one, or for the end
        track.stranger_settled = True
        camera = track.camera.name
        now = self._hub.clock.time()
        last = self._last_stranger.get(camera)
        if last is not None and now - last < self._config.stranger_cooldown.total_seconds():
            self.stats.strangers_suppressed += 1
            return
        self._last_stranger[camera] = now
        self.stats.stranger_detected += 1
        self._fire(
            STRANGER_DETECTED,
            track,
            {
                "person": None,
                "face_name": track.unmatched_name,
                "face_score": track.face_score,
                "score": track.top_score,
            },
        )

    # -- plates ---------------------------------------------------------------------------------
    def _plate_read(self, track: _Track, raw: str, score: float | None, name: str | None) -> None:
        if name:
            track.plate_name = name
        if track.plate_sent:
            return
        plate = normalise_plate(raw)
        if not plate:
            return
        value = score or 0.0
        if track.best_plate is None or value >= track.best_plate[1]:
            track.best_plate = (raw, value)
        if plate_ok(plate):
            self._send_plate(track, raw, value)

    def _send_plate(self, track: _Track, raw: str, score: float) -> None:
        track.plate_sent = True
        match = self._identities.plate(raw, self._hub.clock.now().date())
        self.stats.plate_recognized += 1
        self._fire(
            PLATE_RECOGNIZED,
            track,
            {
                "plate": match.plate,
                "raw_plate": raw,
                "vehicle": match.vehicle_data(),
                "list_type": match.list_type,
                "expired": match.expired,
                "frigate_name": track.plate_name,
                "score": score,
            },
        )

    # -- firing ---------------------------------------------------------------------------------
    def _fire(self, event_type: str, track: _Track, extra: dict[str, Any]) -> None:
        camera = track.camera
        data = {
            "event_id": track.id,
            "camera": camera.entity_id,
            "frigate_camera": camera.name,
            # the block's place, else where the device ledger puts the camera entity
            "place": camera.place or self._hub.places.place_of(camera.entity_id),
            "zones": list(track.zones),
            "zone_places": sorted(
                {place for zone in track.zones if (place := camera.zones.get(zone))}
            ),
            "label": track.label,
            "time": self._hub.clock.now().isoformat(),
            "snapshot_url": self._snapshot_url(track.id),
            **extra,
        }
        self._hub.bus.fire(event_type, data, Context())
