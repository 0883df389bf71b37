"""Intercom calls: the guard call over the real broker, ring -> answer -> unlock -> hang up,
timeouts and missed calls, the persisted call log, unlock rights, malformed station messages."""

from __future__ import annotations

import asyncio
import json
import queue
import textwrap
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from shouwang.core.clock import ManualClock
from shouwang.core.events import Context, Event
from shouwang.core.hub import Hub
from shouwang.core.services import ServiceError, ServiceValidationError
from shouwang.integrations.intercom.manager import CallManager
from shouwang.integrations.intercom.rights import Actor

from .services import Mosquitto
from .simulators.door_station import DoorStationSimulator


def stations_yaml(prefix: str) -> str:
    return f"""
    intercom:
      ring_timeout: 30
      call_timeout: 120
      stations:
        guard_room: {{name: 保安室, kind: guard, place: P-GUARD, topic: {prefix}/guard_room}}
        gate_north: {{name: 北门门口机, kind: door, place: P-GATE-N, topic: {prefix}/gate_north}}
        b01_u1_door: {{kind: door, place: B01-U1, topic: {prefix}/b01_u1_door}}
        b02_u1_door: {{kind: door, place: B02-U1, topic: {prefix}/b02_u1_door}}
        b01_u1_0101: {{kind: indoor, household: B01-U1-0101, topic: {prefix}/b01_u1_0101}}
        b02_u1_0301_bedroom: {{kind: indoor, household: B02-U1-0301, topic: {prefix}/b02_bed}}
        b02_u1_0301: {{kind: indoor, household: B02-U1-0301, topic: {prefix}/b02_u1_0301}}
        console: {{kind: guard, protocol: console}}
    """


async def start_hub(tmp_path: Path, clock: ManualClock, mosquitto: Mosquitto, body: str) -> Hub:
    config = f"mqtt:\n  broker: {mosquitto.host}\n  port: {mosquitto.port}\n"
    config += textwrap.dedent(body)
    (tmp_path / "configuration.yaml").write_text(config, encoding="utf-8")
    hub = Hub(tmp_path, clock=clock)
    await hub.start()
    assert "intercom" in hub.integrations.loaded, hub.integrations.failed
    return hub


@pytest.fixture
def prefix() -> str:
    return f"test/{uuid.uuid4().hex[:8]}/intercom"


@pytest.fixture
async def hub(
    tmp_path: Path, clock: ManualClock, mosquitto: Mosquitto, prefix: str
) -> AsyncIterator[Hub]:
    hub = await start_hub(tmp_path, clock, mosquitto, stations_yaml(prefix))
    yield hub
    await hub.stop(timeout=2)


def manager_of(hub: Hub) -> CallManager:
    manager = hub.integrations.runtime("intercom")
    assert isinstance(manager, CallManager)
    return manager


def capture(hub: Hub, event_type: str) -> list[Event]:
    seen: list[Event] = []
    hub.bus.listen(event_type, seen.append)
    return seen


@pytest.fixture
def station(mosquitto: Mosquitto, prefix: str) -> Iterator[Any]:
    started: list[DoorStationSimulator] = []

    def make(station_id: str) -> DoorStationSimulator:
        sim = DoorStationSimulator(mosquitto.host, mosquitto.port, f"{prefix}/{station_id}")
        sim.start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


async def until(condition: Any, timeout: float = 5.0) -> None:
    """Wait (real time, for broker round trips) until ``condition()`` holds."""
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - set by a broker round trip, not an Event
            await asyncio.sleep(0.01)


async def tick(clock: ManualClock, hub: Hub, seconds: float) -> None:
    await clock.advance(seconds)
    await hub.block_till_done()
    await manager_of(hub).drain()


# -- the guard call (the contract automations use) -----------------------------------------
async def test_guard_call_over_the_real_broker(hub: Hub, mosquitto: Mosquitto, prefix: str) -> None:
    received: queue.Queue[paho.MQTTMessage] = queue.Queue()
    raw = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"raw-{uuid.uuid4()}")
    raw.on_message = lambda _c, _u, msg: received.put(msg)
    raw.on_connect = lambda client, *_a: client.subscribe(f"{prefix}/guard_room/ring", 1)
    raw.connect(mosquitto.host, mosquitto.port)
    raw.loop_start()
    try:
        await asyncio.sleep(0.2)  # the raw subscriber's SUBACK
        events = capture(hub, "intercom_call")
        response = await hub.services.call(
            "intercom",
            "call",
            {
                "target": "intercom.guard_room",
                "message": "北门夜间陌生人",
                "snapshot_url": "http://frigate/api/events/1700.1-abc/snapshot.jpg",
                "reason": "stranger_detected",
            },
            return_response=True,
        )
        msg = await asyncio.to_thread(received.get, True, 5)
    finally:
        raw.loop_stop()
        raw.disconnect()
    assert msg.qos == 1 and not msg.retain
    ring = json.loads(msg.payload)
    assert ring["snapshot_url"] == "http://frigate/api/events/1700.1-abc/snapshot.jpg"
    assert ring["message"] == "北门夜间陌生人"
    assert ring["caller"] == "hub"
    assert ring["reason"] == "stranger_detected"
    assert ring["time"] == "2026-11-28T22:00:00+00:00"
    assert response is not None
    (placed,) = response["calls"]
    assert ring["call_id"] == placed["call_id"]
    assert placed["stations"] == ["intercom.guard_room"]
    assert hub.states.get("intercom.guard_room").state == "ringing"  # type: ignore[union-attr]
    assert hub.states.get("intercom.guard_room").attributes["caller"] == "hub"  # type: ignore[union-attr]
    assert [e.data["phase"] for e in events] == ["ringing"]
    assert events[0].data["snapshot_url"].endswith("snapshot.jpg")


async def test_guard_call_by_station_id_and_from_a_station(hub: Hub, station: Any) -> None:
    guard = station("guard_room")
    await hub.services.call(
        "intercom",
        "call",
        {"target": "guard_room", "message": "help"},
        target={"entity_id": "intercom.gate_north"},
        blocking=True,
    )
    ring = await guard.expect("ring")
    assert ring["caller"] == "intercom.gate_north"
    assert hub.states.is_state("intercom.gate_north", "ringing")
    assert hub.states.get("intercom.gate_north").attributes["caller"] == "guard_room"  # type: ignore[union-attr]


async def test_call_to_unknown_target_is_a_clear_error(hub: Hub) -> None:
    with pytest.raises(ServiceValidationError, match=r"target: no intercom station .*'B09-U9'"):
        await hub.services.call("intercom", "call", {"target": "B09-U9"}, blocking=True)
    with pytest.raises(ServiceValidationError, match="target"):
        await hub.services.call("intercom", "call", {}, blocking=True)
    with pytest.raises(ServiceValidationError, match="cannot call itself"):
        await hub.services.call(
            "intercom",
            "call",
            {"target": "guard_room"},
            target={"entity_id": "intercom.guard_room"},
            blocking=True,
        )
    assert manager_of(hub).calls == {}


# -- a visitor at the door: ring -> answer -> unlock -> hang up ------------------------------
async def test_visitor_rings_household_answer_unlock_hangup(
    hub: Hub, clock: ManualClock, station: Any
) -> None:
    door = station("b01_u1_door")
    panel = station("b01_u1_0101")
    events = capture(hub, "intercom_call")
    unlocks = capture(hub, "intercom_unlock")

    door.call("B01-U1-0101", request_id="r1")
    result = await door.expect("call_result")
    assert result["request_id"] == "r1" and result["error"] is None
    assert result["stations"] == ["intercom.b01_u1_0101"]
    ring = await panel.expect("ring")
    assert ring["caller"] == "intercom.b01_u1_door"
    assert ring["household"] == "B01-U1-0101"
    call_id = ring["call_id"]
    assert hub.states.is_state("intercom.b01_u1_0101", "ringing")
    assert hub.states.is_state("intercom.b01_u1_door", "ringing")

    await tick(clock, hub, 8)
    panel.answer(call_id)
    answered = await door.expect("answer")
    assert answered == {
        "call_id": call_id,
        "answered_by": "intercom.b01_u1_0101",
        "time": "2026-11-28T22:00:08+00:00",
    }
    await until(lambda: hub.states.is_state("intercom.b01_u1_0101", "in_call"))
    assert hub.states.is_state("intercom.b01_u1_door", "in_call")

    panel.unlock(call_id)
    opened = await door.expect("unlock")
    assert opened["door"] == 1 and opened["call_id"] == call_id
    await until(lambda: len(unlocks) == 1)
    assert unlocks[0].data["granted"] is True
    assert unlocks[0].data["actor"] == "intercom.b01_u1_0101"

    await tick(clock, hub, 20)
    panel.hangup()
    hung = await door.expect("hangup")
    assert hung["reason"] == "hangup"
    await until(lambda: hub.states.is_state("intercom.b01_u1_door", "idle"))
    assert hub.states.is_state("intercom.b01_u1_0101", "idle")
    assert [e.data["phase"] for e in events] == ["ringing", "answered", "ended"]
    ended = events[-1].data
    assert ended["duration"] == 20.0 and ended["ring_duration"] == 8.0
    assert ended["caller"] == "intercom.b01_u1_door"
    assert ended["callee"] == "intercom.b01_u1_0101"

    (logged,) = (
        await hub.services.call(
            "intercom", "call_log", {"household": "B01-U1-0101"}, return_response=True
        )
        or {}
    )["calls"]
    assert logged["phase"] == "ended" and logged["end_reason"] == "hangup"
    assert logged["unlocked_by"] == ["intercom.b01_u1_0101"]
    assert logged["duration"] == 20.0


async def test_guard_answers_by_service_and_opens_the_gate(
    hub: Hub, clock: ManualClock, station: Any
) -> None:
    gate = station("gate_north")
    gate.call("guard_room")
    await gate.expect("call_result")
    await until(
        lambda: hub.states.is_state("intercom.console", "idle") and bool(manager_of(hub).calls)
    )
    await hub.services.call(
        "intercom", "answer", target={"entity_id": "intercom.guard_room"}, blocking=True
    )
    await gate.expect("answer")
    await hub.services.call(
        "intercom",
        "unlock",
        {"door": 2},
        target={"entity_id": "intercom.guard_room"},
        blocking=True,
    )
    assert (await gate.expect("unlock"))["door"] == 2
    await hub.services.call(
        "intercom", "hangup", target={"entity_id": "intercom.gate_north"}, blocking=True
    )
    assert (await gate.expect("hangup"))["reason"] == "hangup"
    assert not manager_of(hub).calls


async def test_ring_timeout_makes_a_missed_call(hub: Hub, clock: ManualClock, station: Any) -> None:
    door = station("b01_u1_door")
    panel = station("b01_u1_0101")
    events = capture(hub, "intercom_call")
    door.call("B01-U1-0101")
    call_id = (await panel.expect("ring"))["call_id"]
    await tick(clock, hub, 29)
    assert hub.states.is_state("intercom.b01_u1_0101", "ringing")
    await tick(clock, hub, 1)
    assert hub.states.is_state("intercom.b01_u1_0101", "idle")
    assert hub.states.is_state("intercom.b01_u1_door", "idle")
    assert (await panel.expect("hangup"))["reason"] == "no_answer"
    assert (await door.expect("call_result"))["call_id"] == call_id
    assert (await door.expect("hangup"))["reason"] == "no_answer"
    assert [e.data["phase"] for e in events] == ["ringing", "missed"]
    assert events[-1].data["ring_duration"] == 30.0
    panel_state = hub.states.get("intercom.b01_u1_0101")
    assert panel_state is not None and panel_state.attributes["missed_calls"] == 1
    assert hub.states.get("intercom.b01_u1_door").attributes["missed_calls"] == 0  # type: ignore[union-attr]
    # answering a missed call is refused, and nothing changes
    with pytest.raises(ServiceValidationError, match="no active call"):
        await hub.services.call("intercom", "answer", {"call_id": call_id}, blocking=True)
    log = await manager_of(hub).call_log(phase="missed")
    assert [c["call_id"] for c in log] == [call_id]


async def test_call_timeout_cuts_an_answered_call(hub: Hub, clock: ManualClock) -> None:
    events = capture(hub, "intercom_call")
    await hub.services.call("intercom", "call", {"target": "console"}, blocking=True)
    await hub.services.call(
        "intercom", "answer", target={"entity_id": "intercom.console"}, blocking=True
    )
    await tick(clock, hub, 119)
    assert hub.states.is_state("intercom.console", "in_call")
    await tick(clock, hub, 1)
    assert hub.states.is_state("intercom.console", "idle")
    assert events[-1].data["phase"] == "ended"
    assert events[-1].data["end_reason"] == "timeout"
    assert events[-1].data["duration"] == 120.0


async def test_decline_ends_the_call_when_no_station_is_left(hub: Hub, station: Any) -> None:
    door = station("b01_u1_door")
    panel = station("b01_u1_0101")
    door.call("B01-U1-0101")
    call_id = (await panel.expect("ring"))["call_id"]
    panel.decline(call_id)
    await door.expect("call_result")
    assert (await door.expect("hangup"))["reason"] == "declined"
    await until(lambda: not manager_of(hub).calls)
    (logged,) = await manager_of(hub).call_log()
    assert logged["end_reason"] == "declined" and logged["phase"] == "ended"


# -- unlock rights ------------------------------------------------------------------------
async def test_resident_cannot_unlock_another_households_door(hub: Hub, station: Any) -> None:
    other_door = station("b02_u1_door")
    other_door.call("B02-U1-0301")
    await other_door.expect("call_result")
    denied = capture(hub, "intercom_unlock")
    # B01-U1-0101's panel has no call; the B02 door is calling another household
    with pytest.raises(ServiceError, match=r"intercom.b01_u1_0101 has no active call"):
        await hub.services.call(
            "intercom", "unlock", target={"entity_id": "intercom.b01_u1_0101"}, blocking=True
        )
    call_id = next(iter(manager_of(hub).calls))
    with pytest.raises(ServiceError, match=r"is not in call"):
        await hub.services.call(
            "intercom",
            "unlock",
            {"call_id": call_id},
            target={"entity_id": "intercom.b01_u1_0101"},
            blocking=True,
        )
    assert denied == []  # refused before any door was chosen
    # the logged-in resident of B01-U1-0101 (via the API's context) tries the B02 door
    resident = Context(user_id="R00001")
    manager_of(hub).resolve_user = lambda user_id: Actor(
        "resident", f"user:{user_id}", frozenset({"B01-U1-0101"})
    )
    with pytest.raises(ServiceError, match=r"unlock denied: user:R00001 \(household B01-U1-0101\)"):
        await hub.services.call(
            "intercom",
            "unlock",
            target={"entity_id": "intercom.b02_u1_door"},
            context=resident,
            blocking=True,
        )
    assert [e.data["granted"] for e in denied] == [False]
    with pytest.raises(queue.Empty):
        await other_door.next_command(timeout=0.3)
    # their own unit entrance they may open
    await hub.services.call(
        "intercom",
        "unlock",
        target={"entity_id": "intercom.b01_u1_door"},
        context=resident,
        blocking=True,
    )
    # the household being called may open the B02 door
    manager_of(hub).resolve_user = lambda user_id: Actor(
        "resident", f"user:{user_id}", frozenset({"B02-U1-0301"})
    )
    await hub.services.call(
        "intercom",
        "unlock",
        target={"entity_id": "intercom.b02_u1_door"},
        context=Context(user_id="R00777"),
        blocking=True,
    )
    assert (await other_door.expect("unlock"))["call_id"] == call_id


async def test_unknown_user_cannot_unlock_and_guard_can(hub: Hub, station: Any) -> None:
    gate = station("gate_north")
    with pytest.raises(ServiceError, match=r"user:nobody-1 has no right .*unknown user"):
        await hub.services.call(
            "intercom",
            "unlock",
            target={"entity_id": "intercom.gate_north"},
            context=Context(user_id="nobody-1"),
            blocking=True,
        )
    with pytest.raises(queue.Empty):
        await gate.next_command(timeout=0.3)
    # an automation (no user) acts as the hub
    await hub.services.call(
        "intercom", "unlock", target={"entity_id": "intercom.gate_north"}, blocking=True
    )
    assert (await gate.expect("unlock"))["call_id"] is None


# -- malformed station messages ------------------------------------------------------------
async def test_malformed_station_messages_are_counted_and_harmless(hub: Hub, station: Any) -> None:
    door = station("b01_u1_door")
    panel = station("b01_u1_0101")
    bad: list[bytes | dict[str, Any]] = [
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        {"event": "explode"},
        {"event": "call"},
        {"event": "call", "target": 12},
        {"event": "door", "state": "ajar"},
        {"no": "event"},
    ]
    for payload in bad:
        door.send(payload)
    door.send_availability("maybe")
    await until(
        lambda: hub.states.get("intercom.b01_u1_door").attributes["malformed_messages"] == 9  # type: ignore[union-attr]
    )
    assert hub.states.is_state("intercom.b01_u1_door", "idle")
    # still works afterwards
    door.call("B01-U1-0101")
    await panel.expect("ring")


async def test_availability_follows_the_station(hub: Hub, station: Any) -> None:
    door = station("b01_u1_door")
    await until(lambda: hub.states.is_state("intercom.b01_u1_door", "idle"))
    door.stop(gracefully=False)
    await until(lambda: hub.states.is_state("intercom.b01_u1_door", "unavailable"), 10)


async def test_door_and_credential_events(hub: Hub, station: Any) -> None:
    door = station("b01_u1_door")
    doors = capture(hub, "intercom_door")
    credentials = capture(hub, "intercom_credential")
    door.send({"event": "door", "state": "open"})
    door.send({"event": "card", "card": "AD8E9029"})
    await until(lambda: bool(doors) and bool(credentials))
    assert doors[0].data == {
        "station": "intercom.b01_u1_door",
        "place": "B01-U1",
        "door": None,
        "state": "open",
    }
    assert credentials[0].data["credential_type"] == "card"
    assert hub.states.get("intercom.b01_u1_door").attributes["door"] == "open"  # type: ignore[union-attr]


# -- the call log survives a restart -------------------------------------------------------
async def test_call_log_persists_across_restart(
    tmp_path: Path, clock: ManualClock, mosquitto: Mosquitto, prefix: str
) -> None:
    first = await start_hub(tmp_path, clock, mosquitto, stations_yaml(prefix))
    await first.services.call(
        "intercom", "call", {"target": "console", "reason": "test"}, blocking=True
    )
    await clock.advance(31)
    await first.block_till_done()
    await manager_of(first).drain()
    await first.stop(timeout=2)
    assert (tmp_path / "shouwang.db").exists()

    second = await start_hub(tmp_path, clock, mosquitto, stations_yaml(prefix))
    try:
        log = await second.services.call(
            "intercom", "call_log", {"station": "console"}, return_response=True
        )
        assert log is not None
        (logged,) = log["calls"]
        assert logged["phase"] == "missed"
        assert logged["reason"] == "test"
        assert logged["started"] == "2026-11-28T22:00:00+00:00"
        assert logged["ended_at"] == "2026-11-28T22:00:30+00:00"
    finally:
        await second.stop(timeout=2)


# -- the guard call from an automation, and through a broker restart ------------------------
async def test_automation_guard_call_carries_the_sighting(
    tmp_path: Path, clock: ManualClock, mosquitto: Mosquitto, prefix: str, station: Any
) -> None:
    automation = """
    automation:
      - id: stranger_guard_call
        triggers: [{trigger: event, event_type: stranger_detected}]
        actions:
          - action: intercom.call
            data:
              target: intercom.guard_room
              message: "陌生人 {{ trigger.event.data.camera }}"
              snapshot_url: "{{ trigger.event.data.snapshot_url }}"
              reason: stranger_detected
    """
    hub = await start_hub(
        tmp_path,
        clock,
        mosquitto,
        stations_yaml(prefix) + automation,
    )
    try:
        guard = station("guard_room")
        calls = capture(hub, "intercom_call")
        sighting = Context()
        hub.bus.fire(
            "stranger_detected",
            {"camera": "north_gate", "snapshot_url": "http://frigate/api/events/e1/snapshot.jpg"},
            sighting,
        )
        ring = await guard.expect("ring")
        assert ring["message"] == "陌生人 north_gate"
        assert ring["snapshot_url"] == "http://frigate/api/events/e1/snapshot.jpg"
        assert ring["caller"] == "hub"
        # the call's context leads back to the sighting
        assert calls[0].context.parent_id == sighting.id
    finally:
        await hub.stop(timeout=2)


async def test_guard_ring_survives_a_broker_restart(
    tmp_path: Path, clock: ManualClock, own_mosquitto: Mosquitto, prefix: str
) -> None:
    hub = await start_hub(tmp_path, clock, own_mosquitto, stations_yaml(prefix))
    received: queue.Queue[paho.MQTTMessage] = queue.Queue()
    subscribed = asyncio.Event()
    loop = asyncio.get_running_loop()
    desk = paho.Client(
        CallbackAPIVersion.VERSION2, client_id=f"desk-{uuid.uuid4().hex[:8]}", clean_session=False
    )
    desk.reconnect_delay_set(1, 2)
    desk.on_message = lambda _c, _u, msg: received.put(msg)

    def on_subscribe(*_args: Any) -> None:
        loop.call_soon_threadsafe(subscribed.set)

    desk.on_subscribe = on_subscribe
    desk.on_connect = lambda client, *_a: client.subscribe(f"{prefix}/guard_room/ring", 1)
    desk.connect(own_mosquitto.host, own_mosquitto.port)
    desk.loop_start()
    try:
        await asyncio.wait_for(subscribed.wait(), 5)
        await asyncio.to_thread(own_mosquitto.stop)
        await hub.services.call(
            "intercom", "call", {"target": "guard_room", "snapshot_url": "http://x/s.jpg"}
        )
        await until(lambda: hub.states.is_state("intercom.guard_room", "ringing"))
        await asyncio.to_thread(own_mosquitto.start)
        msg = await asyncio.to_thread(received.get, True, 20)
        assert json.loads(msg.payload)["snapshot_url"] == "http://x/s.jpg"
        assert msg.qos == 1
    finally:
        desk.loop_stop()
        desk.disconnect()
        await hub.stop(timeout=2)


async def test_console_declining_stops_every_panel(hub: Hub, station: Any) -> None:
    door = station("b01_u1_door")
    panel = station("b01_u1_0101")
    door.call("B01-U1-0101")
    call_id = (await panel.expect("ring"))["call_id"]
    await door.expect("call_result")
    await hub.services.call("intercom", "decline", {"call_id": call_id}, blocking=True)
    assert (await panel.expect("hangup"))["reason"] == "declined"
    assert (await door.expect("hangup"))["reason"] == "declined"
    assert hub.states.is_state("intercom.b01_u1_0101", "idle")


async def test_household_with_two_panels_one_answers(hub: Hub, station: Any) -> None:
    door = station("b02_u1_door")
    hall = station("b02_u1_0301")
    bedroom = station("b02_bed")
    door.call("B02-U1-0301")
    result = await door.expect("call_result")
    assert sorted(result["stations"]) == ["intercom.b02_u1_0301", "intercom.b02_u1_0301_bedroom"]
    call_id = (await hall.expect("ring"))["call_id"]
    assert (await bedroom.expect("ring"))["call_id"] == call_id
    bedroom.answer()
    assert (await door.expect("answer"))["answered_by"] == "intercom.b02_u1_0301_bedroom"
    assert (await hall.expect("hangup"))["reason"] == "answered_elsewhere"
    await until(lambda: hub.states.is_state("intercom.b02_u1_0301_bedroom", "in_call"))
    assert hub.states.is_state("intercom.b02_u1_0301", "idle")
