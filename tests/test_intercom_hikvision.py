"""Hikvision ISAPI door stations against the stand-in: digest auth, call status and signals,
remote door open, the alert stream (incremental parsing, reconnect), and the errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from shouwang.core.clock import ManualClock
from shouwang.core.events import Event
from shouwang.core.hub import Hub
from shouwang.integrations.intercom.hikvision import (
    AlertParseError,
    IsapiAuthError,
    IsapiClient,
    IsapiError,
    MultipartReader,
    open_session,
    parse_alert,
)
from shouwang.integrations.intercom.hikvision_link import HikvisionLink
from shouwang.integrations.intercom.manager import CallManager

from .simulators.hikvision import (
    HikvisionSimulator,
    access_event_xml,
    heartbeat_xml,
    part,
)


@pytest.fixture
async def device() -> AsyncIterator[HikvisionSimulator]:
    sim = HikvisionSimulator()
    await sim.start()
    yield sim
    await sim.stop()


async def setup_intercom(
    hub: Hub, device: HikvisionSimulator, password: str = "hik12345"
) -> CallManager:
    await hub.integrations.setup_many(
        {
            "intercom": {
                "ring_timeout": 30,
                "stations": {
                    "guard_room": {"kind": "guard", "protocol": "console"},
                    "b01_door": {
                        "kind": "door",
                        "place": "B01-U1",
                        "protocol": "hikvision",
                        "url": device.url,
                        "username": "admin",
                        "password": password,
                        "poll_interval": 2,
                    },
                },
            }
        }
    )
    assert "intercom" in hub.integrations.loaded, hub.integrations.failed
    manager = hub.integrations.runtime("intercom")
    assert isinstance(manager, CallManager)
    return manager


def link_of(manager: CallManager) -> HikvisionLink:
    link = manager.links["intercom.b01_door"]
    assert isinstance(link, HikvisionLink)
    return link


async def until(condition: Any, timeout: float = 5.0) -> None:
    """Wait (real time: HTTP round trips to the stand-in) until ``condition()`` holds."""
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - set by HTTP I/O, not an Event
            await asyncio.sleep(0.01)


def capture(hub: Hub, event_type: str) -> list[Event]:
    seen: list[Event] = []
    hub.bus.listen(event_type, seen.append)
    return seen


# -- the stream parser ----------------------------------------------------------------------
def test_multipart_reader_takes_parts_in_any_pieces() -> None:
    stream = part(heartbeat_xml()) + part(access_event_xml(0x19)) + part(b"<broken")
    whole = MultipartReader("multipart/mixed; boundary=boundary").feed(stream)
    reader = MultipartReader('multipart/mixed; boundary="boundary"')
    pieces = [p for i in range(len(stream)) for p in reader.feed(stream[i : i + 1])]
    assert [body for _h, body in pieces] == [body for _h, body in whole]
    assert len(whole) == 3
    assert parse_alert(whole[0][1]).event_type == "videoloss"
    door = parse_alert(whole[1][1])
    assert (door.event_type, door.major, door.minor, door.door) == (
        "AccessControllerEvent",
        5,
        0x19,
        1,
    )
    with pytest.raises(AlertParseError, match="not well-formed XML"):
        parse_alert(whole[2][1])


def test_multipart_reader_without_content_length() -> None:
    reader = MultipartReader("multipart/mixed; boundary=b1")
    body = access_event_xml(0x1A).encode()
    parts = reader.feed(b"--b1\r\nContent-Type: application/xml\r\n\r\n" + body + b"\r\n--b1")
    assert [p[1] for p in parts] == [body]


def test_parse_alert_errors_name_the_problem() -> None:
    with pytest.raises(AlertParseError, match="expected EventNotificationAlert, got Other"):
        parse_alert(b"<Other/>")
    with pytest.raises(AlertParseError, match="without eventType"):
        parse_alert(b"<EventNotificationAlert><dateTime>x</dateTime></EventNotificationAlert>")
    with pytest.raises(IsapiError, match="expected multipart/mixed"):
        MultipartReader("text/plain")


# -- the client against the stand-in -------------------------------------------------------
async def test_client_digest_auth_and_commands(device: HikvisionSimulator) -> None:
    async with open_session("admin", "hik12345") as session:
        client = IsapiClient(session, device.url)
        assert await client.call_status() == "idle"
        device.status = "ring"
        assert await client.call_status() == "ring"
        await client.call_signal("answer")
        await client.open_door(2)
    assert device.signals == ["answer"] and device.status == "onCall"
    assert device.doors_opened == [2]


async def test_wrong_password_is_a_clear_error(device: HikvisionSimulator) -> None:
    async with open_session("admin", "wrong") as session:
        client = IsapiClient(session, device.url)
        with pytest.raises(
            IsapiAuthError, match=r"callStatus: HTTP 401: wrong username or password"
        ):
            await client.call_status()
        with pytest.raises(IsapiAuthError, match="HTTP 401"):
            await client.open_door(1)
    assert device.doors_opened == []
    assert device.rejected_logins >= 2


async def test_device_refusal_is_reported_with_its_status(device: HikvisionSimulator) -> None:
    async with open_session("admin", "hik12345") as session:
        client = IsapiClient(session, device.url)
        # the stand-in rejects a malformed body the way ISAPI does: ResponseStatus, HTTP 400
        with pytest.raises(IsapiError, match=r"HTTP 400 statusCode 5 \(badXmlFormat\)"):
            await client._request("PUT", "/ISAPI/AccessControl/RemoteControl/door/1", data="<x/>")
        with pytest.raises(ValueError, match="callSignal command"):
            await client.call_signal("dance")
    unreachable = IsapiClient(open_session("a", "b"), "http://127.0.0.1:9")
    with pytest.raises(
        IsapiError, match=r"http://127.0.0.1:9: GET /ISAPI/VideoIntercom/callStatus: Client"
    ):
        await unreachable.call_status()
    await unreachable._session.close()


# -- the station in the hub ----------------------------------------------------------------
async def test_visitor_ring_answer_unlock_hangup(
    hub: Hub, clock: ManualClock, device: HikvisionSimulator
) -> None:
    manager = await setup_intercom(hub, device)
    events = capture(hub, "intercom_call")
    assert hub.states.is_state("intercom.b01_door", "idle")
    device.status = "ring"
    await clock.advance(2)
    await until(lambda: bool(manager.calls))
    call = next(iter(manager.calls.values()))
    assert (call.caller, call.stations) == ("intercom.b01_door", ["intercom.guard_room"])
    assert hub.states.is_state("intercom.guard_room", "ringing")

    await hub.services.call(
        "intercom", "answer", target={"entity_id": "intercom.guard_room"}, blocking=True
    )
    assert device.signals == ["answer"]
    await hub.services.call(
        "intercom", "unlock", target={"entity_id": "intercom.guard_room"}, blocking=True
    )
    assert device.doors_opened == [1]
    await clock.advance(2)  # a poll during the call changes nothing
    await manager.drain()
    await asyncio.sleep(0.05)
    assert hub.states.is_state("intercom.b01_door", "in_call")
    await hub.services.call(
        "intercom", "hangup", target={"entity_id": "intercom.guard_room"}, blocking=True
    )
    assert device.signals == ["answer", "hangUp"]
    assert [e.data["phase"] for e in events] == ["ringing", "answered", "ended"]


async def test_unanswered_ring_is_missed_and_rejected(
    hub: Hub, clock: ManualClock, device: HikvisionSimulator
) -> None:
    manager = await setup_intercom(hub, device)
    device.status = "ring"
    await clock.advance(2)
    await until(lambda: bool(manager.calls))
    await clock.advance(30)
    await until(lambda: device.signals == ["reject"])
    await manager.drain()
    assert not manager.calls
    assert manager.recent[-1].phase == "missed"


async def test_visitor_hanging_up_at_the_door_ends_the_call(
    hub: Hub, clock: ManualClock, device: HikvisionSimulator
) -> None:
    manager = await setup_intercom(hub, device)
    device.status = "ring"
    await clock.advance(2)
    await until(lambda: bool(manager.calls))
    device.status = "idle"
    await clock.advance(2)
    await until(lambda: not manager.calls)
    assert manager.recent[-1].end_reason == "hangup"
    assert device.signals == []  # the device ended it: nothing to send back
    assert hub.states.is_state("intercom.guard_room", "idle")


async def test_wrong_password_marks_the_station_unavailable(
    hub: Hub, clock: ManualClock, device: HikvisionSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    await setup_intercom(hub, device, password="wrong")
    assert hub.states.is_state("intercom.b01_door", "unavailable")
    errors = [r.getMessage() for r in caplog.records if "b01_door" in r.getMessage()]
    assert any("HTTP 401: wrong username or password" in e for e in errors)
    assert all("wrong" not in e.split("password")[-1] for e in errors)  # never the secret
    await clock.advance(2)
    await asyncio.sleep(0.05)
    assert len([r for r in caplog.records if "HTTP 401" in r.getMessage()]) == 1  # once
    # the guard room still works
    await hub.services.call("intercom", "call", {"target": "guard_room"}, blocking=True)
    assert hub.states.is_state("intercom.guard_room", "ringing")


async def test_alert_stream_events_malformed_parts_and_reconnect(
    hub: Hub, clock: ManualClock, device: HikvisionSimulator
) -> None:
    manager = await setup_intercom(hub, device)
    doors = capture(hub, "intercom_door")
    cards = capture(hub, "intercom_credential")
    await device.wait_streams(1)
    device.alert(heartbeat_xml())
    data = part(access_event_xml(0x19))
    device.send(data[:50])  # one alert in two writes
    await asyncio.sleep(0.05)
    device.send(data[50:])
    device.alert(access_event_xml(0x01, card_no="AD8E9029"))
    device.alert(b"<EventNotificationAlert><eventType>AccessControllerEvent")
    await until(lambda: bool(doors) and bool(cards))
    assert doors[0].data["state"] == "open" and doors[0].data["door"] == 1
    assert cards[0].data == {
        "station": "intercom.b01_door",
        "place": "B01-U1",
        "credential_type": "card",
        "credential": "AD8E9029",
    }
    await until(
        lambda: hub.states.get("intercom.b01_door").attributes["malformed_messages"] == 1  # type: ignore[union-attr]
    )

    # the device drops the stream: reopened after the backoff, on the hub clock
    device.drop_streams()
    link = link_of(manager)
    await until(lambda: link._stop_retry is not None)
    assert device.streams_opened == 1
    await clock.advance(1)
    await device.wait_streams(2)
    device.alert(access_event_xml(0x1A))
    await until(lambda: len(doors) == 2)
    assert doors[1].data["state"] == "closed"
    assert hub.states.get("intercom.b01_door").attributes["door"] == "closed"  # type: ignore[union-attr]


async def test_hikvision_config_is_validated(hub: Hub) -> None:
    await hub.integrations.setup_many(
        {
            "intercom": {
                "stations": {"x": {"kind": "indoor", "protocol": "hikvision", "url": "http://a"}}
            }
        }
    )
    reason = hub.integrations.failed["intercom"]
    assert "hikvision station needs username, password" in reason


async def test_unknown_call_target_is_reported_at_setup(
    hub: Hub, device: HikvisionSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    await hub.integrations.setup_many(
        {
            "intercom": {
                "stations": {
                    "b01_door": {
                        "kind": "door",
                        "protocol": "hikvision",
                        "url": device.url,
                        "username": "admin",
                        "password": "hik12345",
                        "call_target": "B09-U9-0909",
                    }
                }
            }
        }
    )
    assert any(
        "intercom.stations.b01_door.call_target: target: no intercom station" in r.getMessage()
        for r in caplog.records
    )


async def test_answered_on_a_device_outside_the_hub(
    hub: Hub, clock: ManualClock, device: HikvisionSimulator
) -> None:
    manager = await setup_intercom(hub, device)
    events = capture(hub, "intercom_call")
    device.status = "ring"
    await clock.advance(2)
    await until(lambda: bool(manager.calls))
    device.status = "onCall"  # a Hikvision indoor station picked up, not through the hub
    await clock.advance(2)
    await until(lambda: hub.states.is_state("intercom.guard_room", "idle"))
    assert hub.states.is_state("intercom.b01_door", "in_call")
    await clock.advance(30)  # past the ring timeout: not missed, and the device is left alone
    await manager.drain()
    assert [e.data["phase"] for e in events] == ["ringing", "answered"]
    assert events[-1].data["answered_by"] is None
    assert device.signals == []
    device.status = "idle"
    await clock.advance(2)
    await until(lambda: not manager.calls)
    assert [e.data["phase"] for e in events][-1] == "ended"
    assert manager.recent[-1].talk_seconds() == 32.0  # answered at +4 s, ended at +36 s
