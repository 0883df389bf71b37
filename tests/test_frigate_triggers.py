"""The face / stranger / plate trigger platforms: their filters (people, categories, cameras,
places with the places under them, zones, min_score, plates in any spelling, lists), the
stranger trigger's own per-camera cooldown on the hub clock, and schema errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol

import shouwang.integrations.frigate
from shouwang.core.clock import ManualClock
from shouwang.core.hub import Hub
from shouwang.core.places import Place
from shouwang.core.triggers import attach_triggers, validate_trigger

# importing the integration registers face/stranger/plate
from shouwang.integrations.frigate.sightings import (
    PERSON_SIGHTED,
    PLATE_RECOGNIZED,
    STRANGER_DETECTED,
)

REPO = Path(__file__).resolve().parents[1]


def attach(hub: Hub, config: dict[str, Any]) -> list[dict[str, Any]]:
    fired: list[dict[str, Any]] = []
    attach_triggers(hub, [validate_trigger(config)], lambda data, _ctx: fired.append(data), "t")
    return fired


def sighting(**data: Any) -> dict[str, Any]:
    return {
        "event_id": "1.0-abc",
        "camera": "camera.north_gate",
        "frigate_camera": "north_gate",
        "place": "P-GATE-N",
        "zones": [],
        "zone_places": [],
        "snapshot_url": "http://nvr/api/events/1.0-abc/snapshot.jpg",
        "score": 0.8,
        **data,
    }


def person(person_id: str, *categories: str) -> dict[str, Any]:
    return {"person_id": person_id, "categories": list(categories)}


@pytest.fixture
def fire(hub: Hub) -> Callable[..., None]:
    def fire_event(event_type: str, **data: Any) -> None:
        hub.bus.fire(event_type, sighting(**data))

    return fire_event


async def test_face_filters(hub: Hub, fire: Callable[..., None]) -> None:
    hub.places.add(Place("P-NORTH", "north side"))
    hub.places.add(Place("P-GATE-N", "north gate", parent_id="P-NORTH"))
    by_person = attach(hub, {"trigger": "face", "people": ["R1"]})
    residents = attach(hub, {"trigger": "face", "categories": ["resident"]})
    tagged = attach(hub, {"trigger": "face", "categories": ["focus_person"]})
    by_camera = attach(hub, {"trigger": "face", "cameras": "camera.south_gate"})
    by_place = attach(hub, {"trigger": "face", "places": ["P-NORTH"]})
    by_zone_place = attach(hub, {"trigger": "face", "places": "P-LANE"})

    fire(PERSON_SIGHTED, person=person("R1", "owner", "resident"))
    fire(PERSON_SIGHTED, person=person("S1", "staff", "focus_person"), camera="camera.south_gate")
    fire(
        PERSON_SIGHTED,
        person=None,
        face_name="stranger_7",
        place="P-GATE-S",
        zone_places=["P-LANE"],
    )

    assert [t["person"]["person_id"] for t in by_person] == ["R1"]
    assert [t["person"]["person_id"] for t in residents] == ["R1"]
    assert [t["person"]["person_id"] for t in tagged] == ["S1"]
    assert [t["camera"] for t in by_camera] == ["camera.south_gate"]
    assert len(by_place) == 2  # P-GATE-N is under P-NORTH
    assert [t["face_name"] for t in by_zone_place] == ["stranger_7"]
    first = by_person[0]
    assert first["platform"] == "face"
    assert first["snapshot_url"] == "http://nvr/api/events/1.0-abc/snapshot.jpg"
    assert first["event_id"] == "1.0-abc"
    assert first["event"].event_type == PERSON_SIGHTED
    assert first["description"] == "face recognised at camera.north_gate"


async def test_stranger_filters_and_cooldown(
    hub: Hub, clock: ManualClock, fire: Callable[..., None]
) -> None:
    in_lane = attach(hub, {"trigger": "stranger", "zones": ["gate_lane"]})
    confident = attach(hub, {"trigger": "stranger", "min_score": 0.75})
    cooled = attach(hub, {"trigger": "stranger", "cooldown": "00:02:00"})

    fire(STRANGER_DETECTED, zones=["gate_lane"], score=0.7)
    fire(STRANGER_DETECTED, zones=[], score=0.9, event_id="2")
    fire(STRANGER_DETECTED, camera="camera.south_gate", event_id="3")
    assert [t["event_id"] for t in in_lane] == ["1.0-abc"]
    assert [t["event_id"] for t in confident] == ["2", "3"]
    # cooldown per camera: the second north-gate stranger within 2 minutes is swallowed
    assert [t["event_id"] for t in cooled] == ["1.0-abc", "3"]
    await clock.advance(119)
    fire(STRANGER_DETECTED, event_id="4")
    assert len(cooled) == 2
    await clock.advance(2)
    fire(STRANGER_DETECTED, event_id="5")
    assert [t["event_id"] for t in cooled] == ["1.0-abc", "3", "5"]
    assert cooled[-1]["platform"] == "stranger"


async def test_plate_filters(hub: Hub, fire: Callable[..., None]) -> None:
    by_plate = attach(hub, {"trigger": "plate", "plates": ["京b·66666", "沪A12345"]})
    blocked = attach(hub, {"trigger": "plate", "lists": ["blocked", "unknown"]})
    fire(PLATE_RECOGNIZED, plate="京B66666", list_type="blocked", camera="camera.car_park")
    fire(PLATE_RECOGNIZED, plate="沪A12345", list_type="resident", camera="camera.car_park")
    fire(PLATE_RECOGNIZED, plate="粤B00001", list_type="unknown", camera="camera.car_park")
    assert [t["plate"] for t in by_plate] == ["京B66666", "沪A12345"]
    assert [t["plate"] for t in blocked] == ["京B66666", "粤B00001"]
    assert blocked[0]["description"] == "plate 京B66666 at camera.car_park"


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"trigger": "stranger", "cameras": ["lock.gate"]}, "expected camera entity ids"),
        ({"trigger": "stranger", "min_score": 3}, "min_score"),
        ({"trigger": "stranger", "cooldown": "later"}, "cooldown"),
        ({"trigger": "plate", "lists": ["vip"]}, "lists"),
        ({"trigger": "face", "people": []}, "people"),
        ({"trigger": "face", "colour": "red"}, "extra keys not allowed"),
    ],
)
def test_schema_errors(config: dict[str, Any], problem: str) -> None:
    with pytest.raises(vol.Invalid) as caught:
        validate_trigger(config)
    assert problem in str(caught.value)


def test_declared_triggers_are_found_without_the_integration_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``stranger`` is declared in frigate's manifest: an automation using it validates in a
    hub without a frigate: block (the demo, check-config) as if frigate were set up."""
    from shouwang.core import triggers

    monkeypatch.setattr(triggers, "_platforms", {})
    assert (
        triggers.get_platform("stranger")
        is shouwang.integrations.frigate.TRIGGER_PLATFORMS["stranger"]
    )
    assert set(triggers._platforms) >= {"face", "stranger", "plate"}
    with pytest.raises(vol.Invalid, match="unknown trigger 'strangers'"):
        triggers.get_platform("strangers")


async def test_shipped_stranger_automation_loads_without_frigate(tmp_path: Path) -> None:
    """The shipped automations/ (which `shouwang demo` copies) load without errors in a hub
    that has no Frigate: the stranger trigger is known and simply never fires."""
    import shutil

    from shouwang.core.hub import Hub

    (tmp_path / "configuration.yaml").write_text(
        "shouwang:\n  time_zone: Asia/Shanghai\n", encoding="utf-8"
    )
    (tmp_path / "automations").mkdir()
    shutil.copy(REPO / "automations" / "stranger_at_night.yaml", tmp_path / "automations")
    hub = Hub(tmp_path, clock=ManualClock(0))
    await hub.start()
    try:
        assert hub.integrations.runtime("automation").errors == []
        assert hub.states.get("automation.stranger_at_night_gates").state == "on"
    finally:
        await hub.stop(timeout=1)
