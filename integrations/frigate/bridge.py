"""Frigate's MQTT topics, routed to the entities and the sighting tracker.

Place in the whole: ``__init__.py`` starts one :class:`FrigateBridge` on the hub's shared MQTT
client. It subscribes to ``<prefix>/available``, ``<prefix>/events``, ``<prefix>/reviews``,
``<prefix>/tracked_object_update`` and the object counts ``<prefix>/<camera or zone>/<person|
car>`` of the configured cameras, parses each payload (``payloads.py``) and hands the result on.
A payload that does not parse is logged with its topic and the field, counted here and in the
MQTT client's ``malformed`` statistic, and dropped; nothing else happens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from shouwang.core.events import Context

from .config import OCCUPANCY_OBJECTS, FrigateConfig
from .entities import FrigateAvailable, FrigateCamera, OccupancySensor
from .payloads import (
    FaceResult,
    PayloadError,
    Review,
    parse_available,
    parse_count,
    parse_event,
    parse_review,
    parse_tracked_object_update,
)
from .sightings import SightingTracker

if TYPE_CHECKING:
    from shouwang.core.hub import Hub
    from shouwang.integrations.mqtt import MqttClient, MqttMessage

_LOGGER = logging.getLogger(__name__)

FRIGATE_REVIEW: Final = "frigate_review"


class FrigateBridge:
    """Subscriptions and dispatch for one Frigate instance."""

    def __init__(
        self,
        hub: Hub,
        config: FrigateConfig,
        mqtt: MqttClient,
        *,
        tracker: SightingTracker,
        cameras: Mapping[str, FrigateCamera],
        occupancy: Mapping[tuple[str, str], OccupancySensor],
        available: FrigateAvailable,
    ) -> None:
        self._hub = hub
        self._config = config
        self._mqtt = mqtt
        self.tracker = tracker
        self.cameras = cameras
        self.occupancy = occupancy
        self.available = available
        self.malformed = 0
        self.messages = 0
        self._unsubscribe: list[Callable[[], None]] = []

    async def start(self) -> None:
        prefix = self._config.topic_prefix
        routes: dict[str, Callable[[MqttMessage], None]] = {
            f"{prefix}/available": self._on_available,
            f"{prefix}/events": self._on_event,
            f"{prefix}/reviews": self._on_review,
            f"{prefix}/tracked_object_update": self._on_tracked_object_update,
        }
        for area, obj in self.occupancy:
            routes[f"{prefix}/{area}/{obj}"] = self._on_count
        for topic, handler in routes.items():
            self._unsubscribe.append(await self._mqtt.subscribe(topic, handler, qos=1))

    def stop(self) -> None:
        while self._unsubscribe:
            self._unsubscribe.pop()()
        self.tracker.shutdown()

    def _malformed(self, message: MqttMessage, err: PayloadError) -> None:
        self.malformed += 1
        self._mqtt.count_malformed(message.topic, f"Frigate payload: {err}")

    # -- handlers ---------------------------------------------------------------------------
    def _on_available(self, message: MqttMessage) -> None:
        self.messages += 1
        try:
            online = parse_available(message.payload)
        except PayloadError as err:
            self._malformed(message, err)
            return
        self.available.is_on = online
        self.available.write_state()
        for entity in (*self.cameras.values(), *self.occupancy.values()):
            entity.set_available(online)

    def _on_event(self, message: MqttMessage) -> None:
        self.messages += 1
        try:
            event = parse_event(message.payload)
        except PayloadError as err:
            self._malformed(message, err)
            return
        self.tracker.handle_event(event)

    def _on_tracked_object_update(self, message: MqttMessage) -> None:
        self.messages += 1
        try:
            result = parse_tracked_object_update(message.payload)
        except PayloadError as err:
            self._malformed(message, err)
            return
        if result is None:
            return  # a type the hub does not use (e.g. a generated description)
        if isinstance(result, FaceResult):
            self.tracker.handle_face(result)
        else:
            self.tracker.handle_plate(result)

    def _on_review(self, message: MqttMessage) -> None:
        self.messages += 1
        try:
            review = parse_review(message.payload)
        except PayloadError as err:
            self._malformed(message, err)
            return
        camera = self.cameras.get(review.camera)
        if camera is None:
            return
        camera.last_review = _review_data(review)
        if camera.available:
            camera.write_state()
        self._hub.bus.fire(
            FRIGATE_REVIEW,
            {**_review_data(review), "camera": camera.entity_id, "place": camera.place_id},
            Context(),
        )

    def _on_count(self, message: MqttMessage) -> None:
        self.messages += 1
        prefix_len = len(self._config.topic_prefix) + 1
        area, _, obj = message.topic[prefix_len:].rpartition("/")
        sensor = self.occupancy.get((area, obj))
        if sensor is None:
            return
        try:
            count = parse_count(message.payload)
        except PayloadError as err:
            self._malformed(message, err)
            return
        if sensor.available:
            sensor.set_count(count)
        else:
            sensor.count = count


def _review_data(review: Review) -> dict[str, Any]:
    return {
        "type": review.type,
        "review_id": review.id,
        "frigate_camera": review.camera,
        "severity": review.severity,
        "objects": list(review.objects),
        "sub_labels": list(review.sub_labels),
        "zones": list(review.zones),
        "detections": list(review.detections),
        "start_time": review.start_time,
        "end_time": review.end_time,
    }


def occupancy_sensors(config: FrigateConfig) -> dict[tuple[str, str], OccupancySensor]:
    """One sensor per configured camera and zone, for each of person and car."""
    sensors: dict[tuple[str, str], OccupancySensor] = {}
    for camera in config.cameras.values():
        areas = [(camera.name, camera.place)] + [
            (zone, place) for zone, place in camera.zones.items()
        ]
        for area, place in areas:
            for obj in OCCUPANCY_OBJECTS:
                sensors[(area, obj)] = OccupancySensor(area, obj, place, camera.name)
    return sensors
