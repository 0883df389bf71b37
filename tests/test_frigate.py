"""The Frigate integration on a real broker, fed by the Frigate simulator: entities and
availability, sightings and the face/stranger/plate triggers in automations, reviews,
malformed payloads (counted, harmless), snapshots, configuration errors."""

from __future__ import annotations

import itertools
import json
import logging
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol

from shouwang.core.clock import ManualClock
from shouwang.core.hub import Hub
from shouwang.core.services import ServiceError, ServiceValidationError
from shouwang.integrations.frigate import CONFIG_SCHEMA, Frigate
from shouwang.integrations.frigate.simulator import JPEG, FrigateSimulator, SimCamera

from .automation_helpers import capture
from .mqtt_helpers import wait_for
from .services import Mosquitto
from .test_sightings import fill_registry, register_people

_prefixes = itertools.count()


class Setup:
    def __init__(self, hub: Hub, sim: FrigateSimulator) -> None:
        self.hub = hub
        self.sim = sim
        frigate = hub.integrations.runtime("frigate")
        assert isinstance(frigate, Frigate)
        self.frigate = frigate


StartFn = Callable[..., Awaitable[Setup]]


@pytest.fixture
async def start(tmp_path: Path, clock: ManualClock, mosquitto: Mosquitto) -> AsyncIterator[StartFn]:
    """Start the simulator and a hub with mqtt, registry, frigate and the given automations."""
    started: list[tuple[Hub, FrigateSimulator]] = []

    async def start_hub(automations: str = "[]", version: str = "0.16.1-e664cb2") -> Setup:
        prefix = f"frigate_t{next(_prefixes)}_{id(tmp_path) % 100000}"
        sim = FrigateSimulator(
            [SimCamera("north_gate", ("gate_lane",)), "car_park"],
            broker=(mosquitto.host, mosquitto.port),
            topic_prefix=prefix,
            now=clock.time,
            version=version,
        )
        await sim.start()
        fill_registry(tmp_path)
        (tmp_path / "configuration.yaml").write_text(
            textwrap.dedent(
                f"""\
                shouwang:
                  time_zone: Asia/Shanghai
                mqtt: {{broker: {mosquitto.host}, port: {mosquitto.port}, discovery: false}}
                registry: {{}}
                frigate:
                  url: {sim.url}
                  topic_prefix: {prefix}
                  stranger_cooldown: 0
                  cameras:
                    north_gate: {{place: P-GATE-N, zones: {{gate_lane: P-GATE-N-LANE}}}}
                    car_park: {{place: P-PARK}}
                """
            ),
            encoding="utf-8",
        )
        (tmp_path / "automations").mkdir(exist_ok=True)
        (tmp_path / "automations" / "main.yaml").write_text(
            textwrap.dedent(automations), encoding="utf-8"
        )
        hub = Hub(tmp_path, clock=clock)
        await hub.start()
        started.append((hub, sim))
        assert "frigate" in hub.integrations.loaded, hub.integrations.failed
        return Setup(hub, sim)

    yield start_hub
    for hub, sim in started:
        await hub.stop(timeout=1)
        await sim.stop()


async def test_entities_and_availability(start: StartFn) -> None:
    rig = await start()
    hub, sim = rig.hub, rig.sim
    await wait_for(lambda: hub.states.get("binary_sensor.frigate_available").state == "on")
    camera = hub.states.get("camera.north_gate")
    assert camera.state == "idle"
    assert camera.attributes["snapshot_url"] == f"{sim.url}/api/north_gate/latest.jpg"
    assert camera.attributes["stream_url"] == f"{sim.url}/api/north_gate"
    assert camera.attributes["place_id"] == "P-GATE-N"
    for entity_id in (
        "binary_sensor.north_gate_person_occupancy",
        "binary_sensor.north_gate_car_occupancy",
        "binary_sensor.gate_lane_person_occupancy",
        "binary_sensor.car_park_car_occupancy",
    ):
        assert entity_id in hub.states, entity_id
    assert hub.states.get("binary_sensor.gate_lane_person_occupancy").attributes["place_id"] == (
        "P-GATE-N-LANE"
    )

    track = sim.track("north_gate", zones=["gate_lane"]).new()
    await wait_for(lambda: hub.states.get("binary_sensor.gate_lane_person_occupancy").state == "on")
    sensor = hub.states.get("binary_sensor.north_gate_person_occupancy")
    assert sensor.state == "on"
    assert sensor.attributes["count"] == 1
    assert sensor.attributes["device_class"] == "occupancy"
    track.end()
    await wait_for(
        lambda: hub.states.get("binary_sensor.north_gate_person_occupancy").state == "off"
    )

    await sim.stop()  # publishes "offline", as Frigate does when it shuts down
    await wait_for(lambda: hub.states.get("camera.north_gate").state == "unavailable")
    assert hub.states.get("binary_sensor.frigate_available").state == "off"
    assert hub.states.get("binary_sensor.north_gate_person_occupancy").state == "unavailable"


AUTOMATIONS = """\
- id: stranger_seen
  triggers:
    - trigger: stranger
      cameras: [camera.north_gate]
      zones: [gate_lane]
      min_score: 0.6
  actions:
    - event: test_stranger
      event_data:
        camera: "{{ trigger.camera }}"
        place: "{{ trigger.place }}"
        snapshot_url: "{{ trigger.snapshot_url }}"
        event_id: "{{ trigger.event_id }}"
        platform: "{{ trigger.platform }}"
- id: resident_seen
  triggers:
    - trigger: face
      categories: [resident]
      places: [P-GATE-N]
  actions:
    - event: test_resident
      event_data:
        person: "{{ trigger.person.person_id }}"
        camera: "{{ trigger.camera }}"
- id: blocked_car
  triggers:
    - trigger: plate
      lists: [blocked]
      cameras: camera.car_park
  actions:
    - event: test_blocked
      event_data:
        plate: "{{ trigger.plate }}"
        snapshot_url: "{{ trigger.snapshot_url }}"
- id: one_plate
  triggers:
    - trigger: plate
      plates: ["沪a 12345"]
  actions:
    - event: test_plate
      event_data: {plate: "{{ trigger.plate }}", list: "{{ trigger.list_type }}"}
"""


async def test_sightings_drive_automations_over_the_broker(start: StartFn) -> None:
    rig = await start(AUTOMATIONS)
    hub, sim = rig.hub, rig.sim
    strangers = capture(hub, "test_stranger")
    residents = capture(hub, "test_resident")
    blocked = capture(hub, "test_blocked")
    plates = capture(hub, "test_plate")

    outside = sim.track("north_gate", score=0.9).new()  # not in the gate lane zone
    outside.face(None, 0.5)
    outside.end()
    low = sim.track("north_gate", zones=["gate_lane"], score=0.4).new()  # below min_score
    low.face(None, 0.5)
    low.end()
    stranger = sim.track("north_gate", zones=["gate_lane"], score=0.85).new()
    for _ in range(30):
        stranger.update()
    stranger.face(None, 0.55)
    stranger.end()
    resident = sim.track("north_gate", zones=["gate_lane"]).new().face("wang_wu", 0.97).end()
    staff = sim.track("north_gate").new().face("li_si", 0.97).end()  # staff: not "resident"
    sim.track("car_park", "car").new().lpr("京B·66666", 0.93).end()
    sim.track("car_park", "car").new().lpr("沪A12345", 0.93).end()

    await wait_for(lambda: len(plates) == 1 and len(blocked) == 1 and len(strangers) >= 1)
    await wait_for(lambda: rig.frigate.tracker.stats.tracks == 7)
    assert [e.data["event_id"] for e in strangers] == [stranger.id]
    assert strangers[0].data == {
        "camera": "camera.north_gate",
        "place": "P-GATE-N",
        "snapshot_url": f"{sim.url}/api/events/{stranger.id}/snapshot.jpg",
        "event_id": stranger.id,
        "platform": "stranger",
    }
    assert [e.data for e in residents] == [{"person": "T1", "camera": "camera.north_gate"}]
    assert blocked[0].data["plate"] == "京B66666"
    assert plates[0].data == {"plate": "沪A12345", "list": "resident"}
    stats = rig.frigate.tracker.stats
    assert stats.person_sighted == 2  # wang_wu and li_si
    assert stats.stranger_detected == 3  # outside the zone and low score: sightings all the same
    assert resident.id != staff.id
    # the automation's run is caused by the sighting: its context is the sighting's child
    assert strangers[0].context.parent_id is not None


async def test_reviews(start: StartFn) -> None:
    rig = await start()
    hub, sim = rig.hub, rig.sim
    reviews = capture(hub, "frigate_review")
    track = sim.track("north_gate", zones=["gate_lane"]).new().face("zhang_san", 0.95)
    review_id = sim.review("new", "north_gate", "alert", [track])
    await wait_for(lambda: reviews)
    data = reviews[0].data
    assert data["review_id"] == review_id
    assert data["camera"] == "camera.north_gate"
    assert data["place"] == "P-GATE-N"
    assert data["severity"] == "alert"
    assert data["objects"] == ["person"]
    assert data["sub_labels"] == ["zhang_san"]
    assert data["zones"] == ["gate_lane"]
    assert data["detections"] == [track.id]
    last = hub.states.get("camera.north_gate").attributes["last_review"]
    assert last["review_id"] == review_id


MALFORMED: list[tuple[str, bytes]] = [
    ("events", b"{not json"),
    ("events", b"\xff\xfe\x00garbage"),
    ("events", b"[1, 2, 3]"),
    ("events", b'{"type": "new"}'),
    ("events", b'{"type": "moved", "after": {}}'),
    ("events", b'{"type": "new", "after": {"id": 5, "camera": "north_gate"}}'),
    (
        "events",
        b'{"type": "new", "after": {"id": "1.0-x", "camera": "north_gate", "label": "person",'
        b' "start_time": 1, "sub_label": {"name": "x"}}}',
    ),
    ("reviews", b'{"type": "new", "after": {"id": "r", "camera": "north_gate"}}'),
    (
        "reviews",
        b'{"type": "new", "after": {"id": "r", "camera": "c", "severity": "panic",'
        b' "start_time": 1}}',
    ),
    ("tracked_object_update", b'{"type": "face", "id": "x", "camera": "c", "name": 7}'),
    ("tracked_object_update", b'{"type": "lpr", "id": "x", "camera": "c"}'),
    ("north_gate/person", b"many"),
    ("available", b"maybe"),
]


async def test_malformed_payloads_are_counted_and_harmless(
    start: StartFn, caplog: pytest.LogCaptureFixture
) -> None:
    rig = await start()
    hub, sim = rig.hub, rig.sim
    mqtt = hub.integrations.runtime("mqtt")
    before = mqtt.stats["malformed"]
    with caplog.at_level(logging.WARNING):
        for topic, payload in MALFORMED:
            sim.publish(f"{sim.topic_prefix}/{topic}", payload)
        # unknown tracked_object_update types are ignored, not malformed
        sim.publish(f"{sim.topic_prefix}/tracked_object_update", b'{"type": "description"}')
        await wait_for(lambda: rig.frigate.bridge.malformed == len(MALFORMED))
    assert mqtt.stats["malformed"] - before == len(MALFORMED)
    assert f"{sim.topic_prefix}/events: malformed payload: Frigate payload: not JSON" in caplog.text
    assert "after.id: expected a non-empty string, got 5" in caplog.text
    assert "after.sub_label: expected null or [name, score]" in caplog.text
    assert "after.severity: missing" in caplog.text
    assert "name: expected a string or null, got 7" in caplog.text
    assert "expected an object count, got 'many'" in caplog.text
    # the hub carries on: the next stranger is still seen
    strangers = capture(hub, "stranger_detected")
    track = sim.track("north_gate").new().face(None, 0.5).end()
    await wait_for(lambda: strangers)
    assert strangers[0].data["event_id"] == track.id
    assert hub.states.get("binary_sensor.frigate_available").state == "on"


async def test_camera_snapshot_through_frigate(start: StartFn, tmp_path: Path) -> None:
    rig = await start()
    response = await rig.hub.services.call(
        "camera",
        "snapshot",
        {"filename": "north.jpg"},
        target={"entity_id": "camera.north_gate"},
        return_response=True,
    )
    path = tmp_path / "www" / "snapshots" / "north.jpg"
    assert response == {"camera.north_gate": {"path": str(path), "size": len(JPEG)}}
    assert path.read_bytes() == JPEG
    assert "GET /api/north_gate/latest.jpg" in rig.sim.requests


async def test_old_frigate_version_is_reported(
    start: StartFn, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        rig = await start(version="0.9.3-aaaa")
        await rig.hub.block_till_done()
    assert rig.frigate.version == "0.9.3"
    assert "has no face or plate recognition (needs 0.16 or later)" in caplog.text


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        ({}, "required key not provided @ data['url']"),
        ({"url": "nvr:5000"}, "expected an http(s) URL"),
        ({"url": "http://nvr", "username": "admin"}, "some but not all values in the same group"),
        ({"url": "http://nvr", "topic_prefix": "a/b"}, "topic_prefix"),
        ({"url": "http://nvr", "cameras": {"north/gate": {}}}, "without '/'"),
        ({"url": "http://nvr", "cameras": {"n": {"zones": {"z": 5}}}}, "data['cameras']['n']"),
        ({"url": "http://nvr", "min_score": 2}, "min_score"),
        ({"url": "http://nvr", "face_unknown_after": "-00:00:05"}, "negative duration"),
        ({"url": "http://nvr", "stranger_cooldown": "soon"}, "stranger_cooldown"),
    ],
)
def test_config_errors_name_the_field(block: dict[str, Any], problem: str) -> None:
    with pytest.raises(vol.Invalid) as caught:
        CONFIG_SCHEMA(block)
    assert problem in str(caught.value)


def test_config_defaults() -> None:
    from shouwang.integrations.frigate.config import FrigateConfig

    config = FrigateConfig.from_block(
        CONFIG_SCHEMA({"url": "http://nvr:5000/", "cameras": {"north_gate": None}})
    )
    assert config.url == "http://nvr:5000"
    assert config.topic_prefix == "frigate"
    assert config.face_unknown_after.total_seconds() == 10
    assert config.stranger_cooldown.total_seconds() == 60
    assert config.min_score == 0.9
    assert config.cameras["north_gate"].entity_id == "camera.north_gate"
    assert config.cameras["north_gate"].place is None


def test_automations_using_frigate_triggers_pass_check_config(tmp_path: Path) -> None:
    """check-config imports every configured integration (which registers its trigger
    platforms) before it checks the automations; a bad stranger trigger names file:line."""
    from shouwang.core.config import load_config_dir
    from shouwang.core.loader import check_integration_config

    (tmp_path / "configuration.yaml").write_text(
        "mqtt: {broker: 127.0.0.1}\nfrigate: {url: 'http://nvr:5000'}\n", encoding="utf-8"
    )
    (tmp_path / "automations").mkdir()
    good = (
        "- id: a\n  triggers: [{trigger: stranger, cameras: [camera.north_gate]}]\n  actions: []\n"
    )
    (tmp_path / "automations" / "a.yaml").write_text(good, encoding="utf-8")
    assert check_integration_config(load_config_dir(tmp_path)) == []
    bad = "- id: b\n  triggers:\n    - trigger: stranger\n      cameras: [lock.x]\n  actions: []\n"
    (tmp_path / "automations" / "a.yaml").write_text(bad, encoding="utf-8")
    errors = [str(error) for error in check_integration_config(load_config_dir(tmp_path))]
    assert len(errors) == 1
    assert "a.yaml:3" in errors[0] or "a.yaml:4" in errors[0]
    assert "expected camera entity ids (camera.north_gate), got 'lock.x'" in errors[0]


def test_automations_are_set_up_after_the_integrations_they_use() -> None:
    from shouwang.core.loader import discover, resolve_order

    available, _problems = discover()
    levels, errors = resolve_order(["automation", "frigate", "notify"], available)
    assert errors == {}
    assert levels[-1] == ["automation"]
    assert levels.index(["automation"]) > max(
        i for i, level in enumerate(levels) if "frigate" in level
    )


async def test_create_event_service(start: StartFn) -> None:

    rig = await start()
    response = await rig.hub.services.call(
        "frigate",
        "create_event",
        {"camera": "camera.north_gate", "label": "stranger", "sub_label": "night", "duration": 60},
        return_response=True,
    )
    event_id = response["event_id"]
    assert rig.sim.events[event_id]["label"] == "stranger"
    assert rig.sim.events[event_id]["sub_label"] == "night"
    assert response["snapshot_url"] == f"{rig.sim.url}/api/events/{event_id}/snapshot.jpg"
    with pytest.raises(ServiceValidationError, match=r"camera\.back_door is not a Frigate camera"):
        await rig.hub.services.call(
            "frigate", "create_event", {"camera": "camera.back_door"}, blocking=True
        )
    with pytest.raises(ServiceValidationError, match="duration"):
        await rig.hub.services.call(
            "frigate", "create_event", {"camera": "camera.north_gate", "duration": 0}, blocking=True
        )
    await rig.sim.stop()  # Frigate gone: the error says which endpoint failed
    with pytest.raises(ServiceError, match="POST /api/events/north_gate/manual/create"):
        await rig.hub.services.call(
            "frigate", "create_event", {"camera": "camera.north_gate"}, blocking=True
        )


async def test_cameras_discovered_when_none_configured(
    tmp_path: Path, clock: ManualClock, mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    sim = FrigateSimulator(
        [SimCamera("north_gate", ("gate_lane",)), "car_park"],
        broker=(mosquitto.host, mosquitto.port),
        topic_prefix="frigate_discover",
        now=clock.time,
    )
    await sim.start()
    (tmp_path / "configuration.yaml").write_text(
        f"mqtt: {{broker: {mosquitto.host}, port: {mosquitto.port}, discovery: false}}\n"
        f"frigate: {{url: '{sim.url}', topic_prefix: frigate_discover}}\n",
        encoding="utf-8",
    )
    hub = Hub(tmp_path, clock=clock)
    await hub.start()
    try:
        assert "camera.north_gate" in hub.states
        assert "camera.car_park" in hub.states
        assert "binary_sensor.car_park_car_occupancy" in hub.states
        # the zones Frigate lists are followed too, with occupancy sensors of their own
        assert "binary_sensor.gate_lane_person_occupancy" in hub.states
        lane = sim.track("north_gate", zones=("gate_lane",)).new()
        await wait_for(
            lambda: hub.states.get("binary_sensor.gate_lane_person_occupancy").state == "on"
        )
        lane.end()  # settled before the strangers below are counted
        await wait_for(
            lambda: hub.states.get("binary_sensor.gate_lane_person_occupancy").state == "off"
        )
        strangers = capture(hub, "stranger_detected")
        track = sim.track("car_park").new().face(None, 0.5).end()
        await wait_for(lambda: strangers)
        assert strangers[0].data["event_id"] == track.id
        assert strangers[0].data["place"] is None
        # the device ledger (设施台账) puts the camera at a place: later sightings carry it
        hub.places.assign("camera.car_park", "P-PARK")
        await clock.advance(3600)  # past the camera's stranger cooldown
        sim.track("car_park").new().face(None, 0.5).end()
        await wait_for(lambda: len(strangers) == 2)
        assert strangers[1].data["place"] == "P-PARK"
    finally:
        await hub.stop(timeout=1)
        await sim.stop()
    # Frigate unreachable and no cameras listed: set up all the same, with a clear error
    (tmp_path / "configuration.yaml").write_text(
        f"mqtt: {{broker: {mosquitto.host}, port: {mosquitto.port}, discovery: false}}\n"
        f"frigate: {{url: '{sim.url}', timeout: 1}}\n",
        encoding="utf-8",
    )
    hub = Hub(tmp_path, clock=clock)
    with caplog.at_level(logging.ERROR):
        await hub.start()
    try:
        assert "frigate" in hub.integrations.loaded
        assert hub.integrations.runtime("frigate").cameras == {}
        assert "no cameras in the frigate: block and Frigate GET /api/config" in caplog.text
    finally:
        await hub.stop(timeout=1)


def test_payload_shapes_across_frigate_releases() -> None:
    from shouwang.integrations.frigate.payloads import (
        PayloadError,
        PlateResult,
        parse_available,
        parse_count,
        parse_event,
        parse_review,
        parse_tracked_object_update,
    )

    base = {"id": "1.0-a", "camera": "c", "label": "person", "start_time": 1.0, "score": 0.7}
    # a bare sub_label string (before 0.14) and a face only in current_attributes
    old = parse_event(
        json.dumps(
            {
                "type": "update",
                "before": None,
                "after": {
                    **base,
                    "sub_label": "zhang_san",
                    "current_attributes": [{"label": "face", "score": 0.81, "box": [1, 2, 3, 4]}],
                },
            }
        ).encode()
    )
    assert (old.after.sub_label, old.after.sub_label_score) == ("zhang_san", None)
    assert old.after.face_score == 0.81
    assert old.after.top_score == 0.7  # top_score missing: the score
    # 0.17 sends data.sub_labels as null in reviews
    review = parse_review(
        b'{"type": "end", "before": {}, "after": {"id": "r1", "camera": "c", "start_time": 1,'
        b' "end_time": 2, "severity": "detection", "data": {"detections": ["1.0-a"],'
        b' "objects": ["person"], "sub_labels": null, "zones": null}}}'
    )
    assert (review.sub_labels, review.zones, review.end_time) == ((), (), 2.0)
    plate = parse_tracked_object_update(
        b'{"type": "lpr", "id": "x", "camera": "c", "plate": "\xe4\xba\xacB66666",'
        b' "name": null, "score": 0.9, "timestamp": 5}'
    )
    assert isinstance(plate, PlateResult) and plate.plate == "京B66666" and plate.name is None
    assert parse_tracked_object_update(b'{"type": "description", "id": "x"}') is None
    assert parse_available(b"online") is True
    assert parse_available(b"offline") is False
    assert parse_count(b"3") == 3
    with pytest.raises(PayloadError, match="expected an object count, got -1"):
        parse_count(b"-1")
    with pytest.raises(PayloadError, match="before: expected an object or null"):
        parse_event(b'{"type": "new", "before": 5, "after": {}}')
    no_start = {key: value for key, value in base.items() if key != "start_time"}
    with pytest.raises(PayloadError, match=r"after\.start_time: missing"):
        parse_event(json.dumps({"type": "new", "after": no_start}).encode())
    with pytest.raises(PayloadError, match=r"after\.start_time: expected a number, got None"):
        parse_event(json.dumps({"type": "new", "after": {**base, "start_time": None}}).encode())
    with pytest.raises(PayloadError, match=r"after\.score: expected a number, got True"):
        parse_event(json.dumps({"type": "new", "after": {**base, "score": True}}).encode())


async def test_enroll_a_stranger_face_under_a_registered_person(
    start: StartFn, tmp_path: Path
) -> None:
    rig = await start()
    hub, sim = rig.hub, rig.sim
    strangers = capture(hub, "stranger_detected")
    enrolled = capture(hub, "frigate_face_enrolled")
    track = sim.track("north_gate").new().face(None, 0.5).end()
    await wait_for(lambda: strangers)

    async def enroll(person: str, event_id: str) -> Any:
        return await hub.services.call(
            "frigate",
            "enroll_face",
            {"person": person, "event_id": event_id},
            blocking=True,
            return_response=True,
        )

    # the stranger was 王五, a new tenant: their face goes into Frigate's library
    result = await enroll("T1", track.id)
    assert result == {"person": "T1", "face_name": "wang_wu", "event_id": track.id}
    assert sim.faces == {"wang_wu": ["wang_wu-1.webp"]}
    assert [e.data for e in enrolled] == [result]
    # next time Frigate recognises them: a person sighting, no stranger
    people = capture(hub, "person_sighted")
    sim.track("north_gate").new().face("wang_wu", 0.93).end()
    await wait_for(lambda: people)
    assert people[0].data["person"]["person_id"] == "T1"
    assert len(strangers) == 1

    with pytest.raises(ServiceValidationError, match="person: nobody is not in the registry"):
        await enroll("nobody", track.id)
    # a registered person with no face name: the registry must name them first
    await register_people(hub, tmp_path, "person_id,name,type,face_name\nN1,赵六,tenant,\n")
    with pytest.raises(ServiceValidationError, match="person: N1 has no face name"):
        await enroll("N1", track.id)
    with pytest.raises(ServiceError, match=r"GET /api/events/nope/snapshot\.jpg"):
        await enroll("T1", "nope")
    with pytest.raises(ServiceValidationError, match="event_id: does not match"):
        await enroll("T1", "../../etc/passwd")
    assert sim.faces == {"wang_wu": ["wang_wu-1.webp"]}
