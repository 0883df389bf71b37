"""Sightings: Frigate's tracked-object messages (from the Frigate simulator, parsed as the
integration parses them) become person_sighted / stranger_detected / plate_recognized events,
resolved against the community registry, with one stranger per track and a per-camera
cooldown, all on the manual clock."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from shouwang.core.clock import ManualClock
from shouwang.core.events import Event
from shouwang.core.hub import Hub
from shouwang.integrations.frigate.config import CONFIG_SCHEMA, FrigateConfig
from shouwang.integrations.frigate.identity import Identities
from shouwang.integrations.frigate.payloads import (
    FaceResult,
    parse_event,
    parse_tracked_object_update,
)
from shouwang.integrations.frigate.sightings import SightingTracker
from shouwang.integrations.frigate.simulator import FrigateSimulator, SimCamera
from shouwang.integrations.registry import open_registry
from shouwang.integrations.registry.transfer import import_file

from .automation_helpers import capture

PEOPLE = """\
person_id,name,type,face_name,tags
R1,张三,owner,zhang_san,
T1,王五,tenant,wang_wu,
S1,李四,staff,li_si,
"""
VEHICLES = """\
plate,list_type,valid_until
沪A12345,resident,
沪AD12345,visitor,2026-12-31
京B66666,blocked,
苏E88888,visitor,2026-01-31
"""
SNAPSHOT = "http://nvr.local:5000/api/events/{}/snapshot.jpg"


def fill_registry(config_dir: Path) -> None:
    """The community registry of these tests, imported as a property office would."""
    storage, protector = open_registry(config_dir)
    for kind, text in (("people", PEOPLE), ("vehicles", VEHICLES)):
        path = config_dir / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        result = import_file(storage, protector, path)
        assert result.applied, result.errors
    storage.close()


async def register_people(hub: Hub, config_dir: Path, people_csv: str) -> None:
    """The property office imports more people while the hub runs; the registry re-reads."""
    storage, protector = open_registry(config_dir)
    try:
        path = config_dir / "more-people.csv"
        path.write_text(people_csv, encoding="utf-8")
        result = import_file(storage, protector, path)
        assert result.applied, result.errors
    finally:
        storage.close()
    await hub.integrations.runtime("registry").reload(hub)


async def registry_hub(tmp_path: Path, clock: ManualClock, extra: str = "") -> Hub:
    fill_registry(tmp_path)
    (tmp_path / "configuration.yaml").write_text(
        "shouwang:\n  time_zone: Asia/Shanghai\nregistry: {}\n" + textwrap.dedent(extra),
        encoding="utf-8",
    )
    hub = Hub(tmp_path, clock=clock)
    await hub.start()
    return hub


def frigate_config(**overrides: Any) -> FrigateConfig:
    block = {
        "url": "http://nvr.local:5000",
        "cameras": {
            "north_gate": {"place": "P-GATE-N", "zones": {"gate_lane": "P-GATE-N-LANE"}},
            "car_park": {"place": "P-PARK"},
            "south_gate": {"place": "P-GATE-S"},
        },
        **overrides,
    }
    return FrigateConfig.from_block(CONFIG_SCHEMA(block))


class Rig:
    """A tracker on a hub and a simulator whose messages go straight to the tracker."""

    def __init__(self, hub: Hub, clock: ManualClock, config: FrigateConfig) -> None:
        self.hub = hub
        self.clock = clock
        self.tracker = SightingTracker(hub, config, Identities(hub), SNAPSHOT.format)
        self.sim = FrigateSimulator(
            [SimCamera("north_gate", ("gate_lane",)), "car_park", "south_gate", "back_door"],
            sink=self.route,
            now=clock.time,
        )
        self.persons = capture(hub, "person_sighted")
        self.strangers = capture(hub, "stranger_detected")
        self.plates = capture(hub, "plate_recognized")

    def route(self, topic: str, payload: bytes) -> None:
        if topic == "frigate/events":
            self.tracker.handle_event(parse_event(payload))
        elif topic == "frigate/tracked_object_update":
            result = parse_tracked_object_update(payload)
            if isinstance(result, FaceResult):
                self.tracker.handle_face(result)
            elif result is not None:
                self.tracker.handle_plate(result)

    async def advance(self, seconds: float) -> None:
        await self.clock.advance(seconds)


@pytest.fixture
async def make_rig(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Callable[..., Rig]]:
    hub = await registry_hub(tmp_path, clock)

    def make(**overrides: Any) -> Rig:
        return Rig(hub, clock, frigate_config(**overrides))

    yield make
    await hub.stop(timeout=1)


def only(events: list[Event]) -> dict[str, Any]:
    assert len(events) == 1, [e.data for e in events]
    return dict(events[0].data)


async def test_one_track_with_30_updates_is_one_stranger(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    track = rig.sim.track("north_gate", zones=["gate_lane"], score=0.7).new()
    track.face(None, 0.42)  # a recognition attempt: nothing beats "unknown"
    for step in range(30):
        await rig.advance(0.5)
        track.update(score=0.7 + step / 100)
        if step % 5 == 0:
            track.face(None, 0.5)
    # 15 s in: the face stayed unknown past face_unknown_after (10 s) -> exactly one sighting
    data = only(rig.strangers)
    track.update(score=0.9)
    track.end()
    assert len(rig.strangers) == 1
    assert data["event_id"] == track.id
    assert data["camera"] == "camera.north_gate"
    assert data["frigate_camera"] == "north_gate"
    assert data["place"] == "P-GATE-N"
    assert data["zones"] == ["gate_lane"]
    assert data["zone_places"] == ["P-GATE-N-LANE"]
    assert data["person"] is None
    assert data["face_score"] == 0.5
    assert data["score"] == pytest.approx(0.88)  # the top score when it was decided
    assert data["snapshot_url"] == SNAPSHOT.format(track.id)
    # decided at the deadline, on the hub's clock
    assert data["time"] == (rig.clock.now() - timedelta(seconds=5)).isoformat()
    assert rig.persons == []
    assert rig.tracker.live_tracks == 0


async def test_stranger_when_the_track_ends_before_the_deadline(
    make_rig: Callable[..., Rig],
) -> None:
    rig = make_rig()
    track = rig.sim.track("north_gate").new()
    track.update(face_score=0.8)  # Frigate saw a face (attributes.face)
    await rig.advance(3)
    assert rig.strangers == []
    track.end()
    assert only(rig.strangers)["event_id"] == track.id
    await rig.advance(30)  # the cancelled deadline does not fire a second time
    assert len(rig.strangers) == 1


async def test_known_resident_is_sighted_not_a_stranger(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    track = rig.sim.track("north_gate", zones=["gate_lane"]).new()
    track.face(None, 0.6)
    await rig.advance(2)
    track.face("zhang_san", 0.95)  # also sets the event's sub_label
    for _ in range(10):
        track.update()
    await rig.advance(30)
    track.end()
    assert rig.strangers == []
    data = only(rig.persons)
    assert data["person_id"] == "R1"
    assert data["person"] == {
        "person_id": "R1",
        "type": "owner",
        "household_id": None,
        "face_name": "zhang_san",
        "categories": ["owner", "resident"],
    }
    assert data["face_name"] == "zhang_san"
    assert data["score"] == 0.95
    assert data["camera"] == "camera.north_gate"
    assert data["place"] == "P-GATE-N"
    assert data["snapshot_url"] == SNAPSHOT.format(track.id)


async def test_sub_label_alone_recognises(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    track = rig.sim.track("south_gate").new()
    track.update(sub_label=["li_si", 0.97], face_score=0.9)
    track.end()
    assert only(rig.persons)["person_id"] == "S1"
    assert rig.strangers == []


async def test_score_below_min_score_stays_unknown(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(min_score=0.9)
    track = rig.sim.track("north_gate").new()
    track.face("zhang_san", 0.85)  # a guess below the threshold
    await rig.advance(11)
    data = only(rig.strangers)
    assert data["face_score"] == 0.85
    assert rig.persons == []
    # with a lower threshold the same guess recognises
    rig2 = make_rig(min_score=0.8, stranger_cooldown=0)
    track2 = rig2.sim.track("north_gate").new()
    track2.face("zhang_san", 0.85)
    await rig2.advance(11)
    assert only(rig2.persons)["person_id"] == "R1"
    assert len(rig2.strangers) == 0


async def test_name_unknown_to_the_registry_is_a_stranger(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    track = rig.sim.track("north_gate").new()
    track.face("stranger_0007", 0.96)  # enrolled in Frigate's library, not a community member
    sighted = only(rig.persons)
    assert sighted["person"] is None
    assert sighted["face_name"] == "stranger_0007"
    await rig.advance(10)
    data = only(rig.strangers)
    assert data["face_name"] == "stranger_0007"


async def test_no_face_seen_is_no_stranger_unless_configured(
    make_rig: Callable[..., Rig],
) -> None:
    rig = make_rig()
    track = rig.sim.track("north_gate").new()  # a person seen from behind: no face at all
    await rig.advance(20)
    track.update()
    track.end()
    assert rig.strangers == []
    # a face that shows up after the deadline and is not recognised settles it at once
    late = rig.sim.track("north_gate").new()
    await rig.advance(12)
    assert rig.strangers == []
    late.face(None, 0.5)
    assert only(rig.strangers)["event_id"] == late.id

    anyone = make_rig(require_face=False, stranger_cooldown=0)
    faceless = anyone.sim.track("car_park").new()
    await anyone.advance(10)
    assert only(anyone.strangers)["event_id"] == faceless.id


async def test_cooldown_per_camera(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(stranger_cooldown=60)
    first = rig.sim.track("north_gate").new().face(None, 0.5).end()
    await rig.advance(20)
    rig.sim.track("north_gate").new().face(None, 0.5).end()  # within 60 s: suppressed
    other = rig.sim.track("south_gate").new().face(None, 0.5).end()  # another camera
    assert [e.data["event_id"] for e in rig.strangers] == [first.id, other.id]
    assert rig.tracker.stats.strangers_suppressed == 1
    await rig.advance(41)
    later = rig.sim.track("north_gate").new().face(None, 0.5).end()
    assert rig.strangers[-1].data["event_id"] == later.id
    assert rig.tracker.stats.stranger_detected == 3


async def test_plates_resolve(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    reads = {
        "沪a·12345": ("沪A12345", "resident"),
        "沪AD12345": ("沪AD12345", "visitor"),  # new-energy: 8 characters
        "京B 66666": ("京B66666", "blocked"),
        "粤B00001": ("粤B00001", "unknown"),
    }
    for raw, (plate, list_type) in reads.items():
        car = rig.sim.track("car_park", "car").new()
        car.lpr(raw, 0.92)
        car.lpr(raw, 0.95)  # later reads of the same track: no second event
        car.end()
        data = rig.plates[-1].data
        assert (data["plate"], data["list_type"]) == (plate, list_type), raw
        assert data["raw_plate"] == raw
        assert data["event_id"] == car.id
        assert data["camera"] == "camera.car_park"
        assert data["place"] == "P-PARK"
    assert len(rig.plates) == 4
    assert rig.plates[0].data["vehicle"]["list_type"] == "resident"
    assert rig.plates[1].data["vehicle"]["valid_until"] == "2026-12-31"
    assert rig.plates[3].data["vehicle"] is None
    assert not any(e.data["expired"] for e in rig.plates)


async def test_plate_expired_and_partial_reads(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    car = rig.sim.track("car_park", "car").new()
    car.lpr("苏E8888", 0.7)  # a partial read is not a plate yet
    assert rig.plates == []
    car.lpr("苏E88888", 0.9, name="guest car")
    data = only(rig.plates)
    assert data["plate"] == "苏E88888"
    assert data["list_type"] == "visitor"
    assert data["expired"] is True  # valid until 2026-01-31; the clock says 2026-11-28
    assert data["frigate_name"] == "guest car"
    # a read that never looks like a plate is still reported, once, when the track ends
    odd = rig.sim.track("car_park", "car").new()
    odd.lpr("AB1", 0.6)
    odd.lpr("AB12", 0.8)
    assert len(rig.plates) == 1
    odd.end()
    assert rig.plates[-1].data["plate"] == "AB12"
    assert rig.plates[-1].data["list_type"] == "unknown"


async def test_ignored_messages(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    rig.sim.track("back_door").new().face(None, 0.5).end()  # not configured
    track = rig.sim.track("north_gate").new().face(None, 0.5).end()
    assert only(rig.strangers)["event_id"] == track.id
    ignored = rig.tracker.stats.ignored
    track.update()  # late message for an ended track: does not start it again
    track.face(None, 0.3)
    assert rig.tracker.live_tracks == 0
    assert rig.tracker.stats.ignored == ignored + 2
    assert len(rig.strangers) == 1


async def test_false_positive_until_confirmed(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(stranger_cooldown=0)
    track = rig.sim.track("north_gate")
    payload = {
        "type": "new",
        "before": None,
        "after": {**track.as_object(), "false_positive": True, "attributes": {"face": 0.8}},
    }
    rig.sim.publish_json("frigate/events", payload)
    end = {**payload, "type": "end"}
    end["after"] = {**payload["after"], "end_time": rig.clock.time()}
    rig.sim.publish_json("frigate/events", end)
    assert rig.strangers == []  # Frigate never confirmed the person


async def test_unknown_face_attempts_decide_before_the_deadline(
    make_rig: Callable[..., Rig],
) -> None:
    rig = make_rig(unknown_face_attempts=3)
    track = rig.sim.track("north_gate").new()
    track.face(None, 0.4)
    track.face("zhang_san", 0.7)  # below min_score: an unmatched attempt too
    assert rig.strangers == []
    await rig.advance(0.5)
    track.face(None, 0.5)
    data = only(rig.strangers)  # 0.5 s after the track started, not 10 s
    assert data["event_id"] == track.id
    track.face(None, 0.5)
    await rig.advance(20)
    track.end()
    assert len(rig.strangers) == 1
    # a resident recognised within the attempts is no stranger
    resident = rig.sim.track("south_gate").new()
    resident.face(None, 0.4)
    resident.face("zhang_san", 0.95)
    for _ in range(5):
        resident.face(None, 0.3)
    resident.end()
    assert len(rig.strangers) == 1
    assert rig.persons[-1].data["person_id"] == "R1"
