"""A Frigate NVR stand-in: Frigate 0.16's MQTT messages on a real broker and its HTTP API.

Used by the demo (its cameras), the Frigate tests and ``bench/frigate_e2e.py``. It speaks what
Frigate documents, so the hub cannot tell it from a real NVR:

* MQTT (paho, on the broker the test started): ``frigate/available`` (retained, last will
  ``offline``), ``frigate/events`` (``new``/``update``/``end`` with ``before``/``after``),
  ``frigate/reviews``, ``frigate/tracked_object_update`` (``face`` and ``lpr`` results) and the
  per-camera/zone object counts ``frigate/<camera>/<object>``.
* HTTP (aiohttp on 127.0.0.1, a free port): ``GET /api/version`` (plain text), ``/api/stats``,
  ``/api/config``, ``/api/events`` (filters ``cameras``, ``labels``, ``sub_labels``, ``zones``,
  ``after``, ``before``, ``limit``), ``/api/events/<id>``, ``/api/events/<id>/snapshot.jpg`` and
  ``thumbnail.jpg``, ``/api/<camera>/latest.jpg``, ``POST /api/events/<camera>/<label>/create``,
  ``GET /api/faces``, ``POST /api/faces/<name>/register`` (multipart). With ``auth=(user,
  password)`` it behaves like Frigate's authenticated port: ``POST /api/login`` sets the
  ``frigate_token`` JWT cookie and every other endpoint wants that cookie or a Bearer token.

A :class:`Track` plays one tracked object through its life (``new``, any number of
``update``, face/plate results, ``end``) with timestamps from the clock it is given.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import random
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import jwt
import orjson
import paho.mqtt.client as mqtt
from aiohttp import web
from paho.mqtt.enums import CallbackAPIVersion

from shouwang.integrations.mqtt.client import no_delay

#: a real 16x16 baseline JPEG, served for every snapshot, thumbnail and latest frame
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsO"
    "CwkJDRENDg8QEBEQCgwSExIQEw8QEBD/2wBDAQMDAwQDBAgEBAgQCwkLEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ"
    "EBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBD/wAARCAAQABADASIAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAA"
    "BwQF/8QAJBAAAQQBBAICAwAAAAAAAAAAAQIDBAYFBwgSExEiABQJMTL/xAAVAQEBAAAAAAAAAAAAAAAAAAAABv/E"
    "ACMRAAECBQMFAAAAAAAAAAAAAAECEQMEBQYhABIxFRZhgeH/2gAMAwEAAhEDEQA/ABSm0mobc8HmExLUlRzzEWPk"
    "JWW+ulrsaUVAseUgslSlH9LKuPryIKuWPZdskzXmm3fX5m2nF4GlVxx/HOpx4ks51+MiU/Iaad7UcUo4tILoS4kq"
    "cWkezS0hO/HvuRp0rO6hWnWO1UisZVuFi4GFeyEpmGepa5S5SWVPuciFKRFLgSrwetnyPIB+Vb4N9mKhQMzo5po9"
    "XLdDs9d6ZVix2VEhiL9kuNPxw2gEKcDQ/rs8AuA8VAe0vdl7VOYn+27flGAUgmITjbhSmCg3BYlyeWDkMolvw4KO"
    "p1KM6iCNvngZHwetf//Z"
)

DEFAULT_VERSION = "0.16.1-e664cb2"
TOKEN_COOKIE = "frigate_token"


def event_id(timestamp: float) -> str:
    """Frigate's event id form: ``"1607123955.475377-mxklsc"``."""
    suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=6))
    return f"{timestamp:.6f}-{suffix}"


@dataclass
class SimCamera:
    name: str
    zones: tuple[str, ...] = ()


@dataclass
class Track:
    """One tracked object on one camera, played through its life by the test."""

    sim: FrigateSimulator
    camera: str
    label: str
    id: str
    start_time: float
    zones: tuple[str, ...] = ()
    score: float = 0.8
    top_score: float = 0.8
    sub_label: list[Any] | None = None
    face_score: float | None = None
    plate: str | None = None
    plate_score: float | None = None
    end_time: float | None = None
    entered: list[str] = field(default_factory=list)
    _previous: dict[str, Any] | None = None

    def as_object(self) -> dict[str, Any]:
        """The object as ``frigate/events`` carries it (``before``/``after``)."""
        attributes = {"face": self.face_score} if self.face_score is not None else {}
        current_attributes = (
            [{"label": "face", "score": self.face_score, "box": [10, 10, 40, 40]}]
            if self.face_score is not None and self.end_time is None
            else []
        )
        return {
            "id": self.id,
            "camera": self.camera,
            "frame_time": self.sim.now(),
            "snapshot": None,
            "label": self.label,
            "sub_label": self.sub_label,
            "top_score": self.top_score,
            "false_positive": False,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "score": self.score,
            "box": [424, 500, 536, 712],
            "area": 23744,
            "ratio": 0.5283,
            "region": [264, 450, 667, 853],
            "current_zones": list(self.zones) if self.end_time is None else [],
            "entered_zones": list(self.entered),
            "thumbnail": None,
            "has_snapshot": True,
            "has_clip": True,
            "stationary": False,
            "motionless_count": 0,
            "position_changes": 2,
            "attributes": attributes,
            "current_attributes": current_attributes,
            "recognized_license_plate": self.plate,
            "recognized_license_plate_score": self.plate_score,
        }

    def _publish_event(self, kind: str) -> None:
        for zone in self.zones:
            if zone not in self.entered:
                self.entered.append(zone)
        after = self.as_object()
        self.sim.publish_json(
            f"{self.sim.topic_prefix}/events",
            {"type": kind, "before": self._previous or after, "after": after},
        )
        self._previous = after
        self.sim.store_event(self)

    def new(self) -> Track:
        self.sim.object_entered(self)
        self._publish_event("new")
        return self

    def update(self, **changes: Any) -> Track:
        """Publish an ``update`` after changing fields (``score=0.9``, ``zones=(...)`` …)."""
        for key, value in changes.items():
            setattr(self, key, value)
        self.top_score = max(self.top_score, self.score)
        self._publish_event("update")
        return self

    def face(self, name: str | None, score: float) -> Track:
        """A face recognition attempt (``tracked_object_update`` type ``face``). At or above
        the recognition threshold Frigate also sets the event's ``sub_label``."""
        self.face_score = max(self.face_score or 0.0, score)
        self.sim.publish_json(
            f"{self.sim.topic_prefix}/tracked_object_update",
            {
                "type": "face",
                "id": self.id,
                "name": name,
                "score": score,
                "camera": self.camera,
                "timestamp": self.sim.now(),
            },
        )
        if name is not None and score >= self.sim.recognition_threshold:
            self.sub_label = [name, score]
            self._publish_event("update")
        return self

    def lpr(self, plate: str, score: float, name: str | None = None) -> Track:
        """A plate read (``tracked_object_update`` type ``lpr``) and the event update."""
        self.plate, self.plate_score = plate, score
        self.sim.publish_json(
            f"{self.sim.topic_prefix}/tracked_object_update",
            {
                "type": "lpr",
                "id": self.id,
                "name": name,
                "plate": plate,
                "score": score,
                "camera": self.camera,
                "timestamp": self.sim.now(),
            },
        )
        if name:
            self.sub_label = [name, score]
        self._publish_event("update")
        return self

    def end(self) -> Track:
        self.end_time = self.sim.now()
        self._publish_event("end")
        self.sim.object_left(self)
        return self


class FrigateSimulator:
    """The stand-in NVR. ``broker``: (host, port) of the MQTT broker, or None for HTTP only."""

    def __init__(
        self,
        cameras: Iterable[SimCamera | str] = ("north_gate",),
        *,
        broker: tuple[str, int] | None = None,
        topic_prefix: str = "frigate",
        now: Callable[[], float] | None = None,
        version: str = DEFAULT_VERSION,
        auth: tuple[str, str] | None = None,
        recognition_threshold: float = 0.9,
        qos: int = 0,
        sink: Callable[[str, bytes], None] | None = None,
    ) -> None:
        self.cameras = {
            cam.name: cam
            for cam in (c if isinstance(c, SimCamera) else SimCamera(c) for c in cameras)
        }
        self.topic_prefix = topic_prefix
        self.now = now or _wall_clock
        self.version = version
        self.auth = auth
        self.recognition_threshold = recognition_threshold
        self.qos = qos
        #: without a broker, messages go to this function (topic, payload) instead
        self.sink = sink
        self.events: dict[str, dict[str, Any]] = {}
        self.faces: dict[str, list[str]] = {}
        self.requests: list[str] = []  # "GET /api/version", for tests
        self.logins = 0
        self._secret = secrets.token_hex(32)
        self._counts: dict[tuple[str, str], int] = {}
        self._broker = broker
        self._mqtt: mqtt.Client | None = None
        self._connected = threading.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._ids = itertools.count(1)

    # -- lifecycle ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application(middlewares=[self._auth_middleware])
        app.add_routes(
            [
                web.post("/api/login", self._login),
                web.get("/api/version", self._version),
                web.get("/api/stats", self._stats),
                web.get("/api/config", self._config),
                web.get("/api/events", self._events),
                web.get("/api/faces", self._faces),
                web.post("/api/faces/{name}/register", self._register_face),
                web.post("/api/events/{camera}/{label}/create", self._create_event),
                web.get("/api/events/{id}", self._event),
                web.get("/api/events/{id}/snapshot.jpg", self._event_image),
                web.get("/api/events/{id}/thumbnail.jpg", self._event_image),
                web.get("/api/{camera}/latest.jpg", self._latest),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        if self._broker is not None:
            await asyncio.to_thread(self._connect_mqtt)

    def _connect_mqtt(self) -> None:
        assert self._broker is not None
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"frigate-sim-{random.randrange(1 << 30)}"
        )
        client.will_set(f"{self.topic_prefix}/available", "offline", qos=1, retain=True)

        def on_connect(*_args: Any) -> None:
            no_delay(client)  # as a real NVR's sockets would (and as the hub's do)
            self._connected.set()

        client.on_connect = on_connect
        client.max_queued_messages_set(0)
        client.max_inflight_messages_set(1000)
        client.connect(*self._broker)
        client.loop_start()
        if not self._connected.wait(10):
            raise RuntimeError(f"Frigate simulator cannot connect to the broker {self._broker}")
        self._mqtt = client
        self.publish(f"{self.topic_prefix}/available", b"online", qos=1, retain=True)

    async def stop(self, *, graceful: bool = True) -> None:
        """Stop; ``graceful`` publishes ``offline`` like Frigate does on shutdown."""
        if self._mqtt is not None:
            if graceful:
                self.publish(f"{self.topic_prefix}/available", b"offline", qos=1, retain=True)
            client = self._mqtt
            self._mqtt = None
            await asyncio.to_thread(_disconnect, client)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- MQTT -----------------------------------------------------------------------------------
    def publish(
        self, topic: str, payload: bytes | str, qos: int | None = None, retain: bool = False
    ) -> None:
        data = payload.encode() if isinstance(payload, str) else payload
        if self._mqtt is not None:
            self._mqtt.publish(topic, data, self.qos if qos is None else qos, retain)
        elif self.sink is not None:
            self.sink(topic, data)
        else:
            raise RuntimeError("the Frigate simulator has neither a broker nor a sink")

    def publish_json(self, topic: str, data: Any) -> None:
        self.publish(topic, orjson.dumps(data))

    def track(
        self,
        camera: str,
        label: str = "person",
        *,
        zones: Iterable[str] = (),
        score: float = 0.8,
    ) -> Track:
        """A new tracked object (publish it with :meth:`Track.new`)."""
        if camera not in self.cameras:
            raise KeyError(f"the simulator has no camera {camera!r}")
        start = self.now()
        return Track(self, camera, label, event_id(start), start, tuple(zones), score, score)

    def object_entered(self, track: Track) -> None:
        self._count(track, +1)

    def object_left(self, track: Track) -> None:
        self._count(track, -1)

    def _count(self, track: Track, step: int) -> None:
        for area in (track.camera, *track.zones):
            key = (area, track.label)
            self._counts[key] = max(0, self._counts.get(key, 0) + step)
            self.publish(f"{self.topic_prefix}/{area}/{track.label}", str(self._counts[key]))

    def review(
        self, kind: str, camera: str, severity: str, tracks: Iterable[Track], review_id: str = ""
    ) -> str:
        """Publish a ``frigate/reviews`` message for ``tracks``; returns the review id."""
        tracks = list(tracks)
        review_id = review_id or f"{self.now():.6f}-r{next(self._ids)}"
        after = {
            "id": review_id,
            "camera": camera,
            "start_time": min((t.start_time for t in tracks), default=self.now()),
            "end_time": self.now() if kind == "end" else None,
            "severity": severity,
            "thumb_path": f"/media/frigate/clips/review/thumb-{camera}-{review_id}.webp",
            "data": {
                "detections": [t.id for t in tracks],
                "objects": sorted({t.label for t in tracks}),
                "sub_labels": sorted({t.sub_label[0] for t in tracks if t.sub_label}),
                "zones": sorted({z for t in tracks for z in t.entered}),
                "audio": [],
            },
        }
        self.publish_json(
            f"{self.topic_prefix}/reviews", {"type": kind, "before": after, "after": after}
        )
        return review_id

    # -- the event store the API serves ---------------------------------------------------------
    def store_event(self, track: Track) -> None:
        self.events[track.id] = {
            "id": track.id,
            "camera": track.camera,
            "label": track.label,
            "sub_label": track.sub_label[0] if track.sub_label else None,
            "top_score": track.top_score,
            "false_positive": False,
            "start_time": track.start_time,
            "end_time": track.end_time,
            "zones": list(track.entered),
            "thumbnail": None,
            "has_clip": True,
            "has_snapshot": True,
            "retain_indefinitely": False,
            "plus_id": None,
            "model_hash": "b1",
            "detector_type": "cpu",
            "model_type": "ssd",
            "data": {
                "box": [0.4, 0.5, 0.1, 0.2],
                "region": [0.3, 0.4, 0.4, 0.4],
                "score": track.score,
                "top_score": track.top_score,
                "attributes": [],
                "type": "object",
                "recognized_license_plate": track.plate,
            },
        }

    # -- HTTP -----------------------------------------------------------------------------------
    @web.middleware
    async def _auth_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        self.requests.append(f"{request.method} {request.path}")
        if self.auth is not None and request.path != "/api/login":
            token = request.cookies.get(TOKEN_COOKIE)
            header = request.headers.get("Authorization", "")
            if header.startswith("Bearer "):
                token = header[7:]
            try:
                jwt.decode(token or "", self._secret, algorithms=["HS256"])
            except jwt.PyJWTError:
                return web.json_response({"success": False, "message": "Unauthorized"}, status=401)
        response: web.StreamResponse = await handler(request)
        return response

    def revoke_tokens(self) -> None:
        """Invalidate every issued token (as a Frigate restart with a new secret would)."""
        self._secret = secrets.token_hex(32)

    async def _login(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"success": False, "message": "Invalid JSON"}, status=400)
        if self.auth is None or (body.get("user"), body.get("password")) != self.auth:
            return web.json_response({"success": False, "message": "Login failed"}, status=401)
        self.logins += 1
        token = jwt.encode(
            {"sub": body["user"], "role": "admin", "exp": int(_wall_clock()) + 3600},
            self._secret,
            algorithm="HS256",
        )
        response = web.json_response({})
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict")
        return response

    async def _version(self, request: web.Request) -> web.Response:
        return web.Response(text=self.version, content_type="text/plain")

    async def _stats(self, request: web.Request) -> web.Response:
        cameras = {
            name: {
                "camera_fps": 5.0, "process_fps": 5.0, "skipped_fps": 0.0,
                "detection_fps": 1.2, "detection_enabled": True, "pid": 100, "capture_pid": 101,
                "ffmpeg_pid": 102, "audio_rms": 0.0, "audio_dBFS": 0.0,
            }
            for name in self.cameras
        }  # fmt: skip
        return web.json_response(
            {
                "cameras": cameras,
                "detectors": {"cpu": {"inference_speed": 12.5, "detection_start": 0.0, "pid": 90}},
                "detection_fps": 1.2 * len(cameras),
                "service": {
                    "uptime": 3600,
                    "version": self.version,
                    "latest_version": self.version.split("-")[0],
                    "storage": {},
                    "last_updated": int(self.now()),
                },
            }
        )

    async def _config(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "mqtt": {"enabled": True, "topic_prefix": self.topic_prefix},
                "face_recognition": {
                    "enabled": True,
                    "recognition_threshold": self.recognition_threshold,
                    "unknown_score": 0.8,
                },
                "lpr": {"enabled": True},
                "cameras": {
                    cam.name: {
                        "name": cam.name,
                        "enabled": True,
                        "zones": {zone: {"coordinates": "0,0,1,0,1,1,0,1"} for zone in cam.zones},
                        "objects": {"track": ["person", "car"]},
                    }
                    for cam in self.cameras.values()
                },
            }
        )

    async def _events(self, request: web.Request) -> web.Response:
        query = request.query

        def wanted(key: str) -> set[str] | None:
            value = query.get(key, "all")
            return None if value == "all" else set(value.split(","))

        cameras, labels = wanted("cameras"), wanted("labels")
        sub_labels, zones = wanted("sub_labels"), wanted("zones")
        try:
            after = float(query["after"]) if "after" in query else None
            before = float(query["before"]) if "before" in query else None
            limit = int(query.get("limit", "100"))
        except ValueError:
            return web.json_response(
                {"success": False, "message": "after/before/limit must be numbers"}, status=400
            )
        found = [
            event
            for event in self.events.values()
            if (cameras is None or event["camera"] in cameras)
            and (labels is None or event["label"] in labels)
            and (sub_labels is None or (event["sub_label"] or "None") in sub_labels)
            and (zones is None or zones & set(event["zones"]))
            and (after is None or event["start_time"] > after)
            and (before is None or event["start_time"] < before)
        ]
        found.sort(key=lambda event: event["start_time"], reverse=True)
        return web.json_response(found[:limit])

    def _find(self, request: web.Request) -> dict[str, Any]:
        event = self.events.get(request.match_info["id"])
        if event is None:
            raise web.HTTPNotFound(
                text=orjson.dumps({"success": False, "message": "Event not found"}).decode(),
                content_type="application/json",
            )
        return event

    async def _event(self, request: web.Request) -> web.Response:
        return web.json_response(self._find(request))

    async def _event_image(self, request: web.Request) -> web.Response:
        self._find(request)
        return web.Response(body=JPEG, content_type="image/jpeg")

    async def _latest(self, request: web.Request) -> web.Response:
        if request.match_info["camera"] not in self.cameras:
            return web.json_response({"success": False, "message": "Camera not found"}, status=404)
        return web.Response(body=JPEG, content_type="image/jpeg")

    async def _create_event(self, request: web.Request) -> web.Response:
        camera, label = request.match_info["camera"], request.match_info["label"]
        if camera not in self.cameras:
            return web.json_response(
                {"success": False, "message": f"{camera} is not a valid camera."}, status=404
            )
        body = await request.json() if request.can_read_body else {}
        start = self.now()
        new_id = event_id(start)
        self.events[new_id] = {
            "id": new_id, "camera": camera, "label": label,
            "sub_label": body.get("sub_label"), "top_score": body.get("score", 0),
            "false_positive": False, "start_time": start,
            "end_time": start + float(body.get("duration") or 30), "zones": [],
            "has_clip": bool(body.get("include_recording", True)), "has_snapshot": True,
            "data": {"type": "api"},
        }  # fmt: skip
        return web.json_response(
            {"success": True, "message": "Successfully created event.", "event_id": new_id}
        )

    async def _faces(self, request: web.Request) -> web.Response:
        return web.json_response(self.faces)

    async def _register_face(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if not request.content_type.startswith("multipart/"):
            return web.json_response(
                {"success": False, "message": "Expected multipart form data with a file"},
                status=400,
            )
        image = b""
        async for part in await request.multipart():
            if getattr(part, "name", None) == "file":
                image = await part.read()  # type: ignore[union-attr]
        if not image.startswith(b"\xff\xd8"):
            return web.json_response(
                {"success": False, "message": "No face image (JPEG) in the form"}, status=400
            )
        files = self.faces.setdefault(name, [])
        files.append(f"{name}-{len(files) + 1}.webp")
        return web.json_response({"success": True, "message": "Successfully registered face."})


def _disconnect(client: mqtt.Client) -> None:
    client.disconnect()
    client.loop_stop()


def _wall_clock() -> float:
    return time.time()
