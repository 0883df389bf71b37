"""The Home Assistant-compatible WebSocket API on a running hub: the handshake, message ids,
each command's result and error shapes, scoped event delivery, and revocation closing live
sockets. The WebSocket half of the policy route-walk is in ``test_api_policy.py``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from shouwang.core.clock import ManualClock
from shouwang.core.events import Context

from .test_api_support import ApiHub, start_api_hub

TIMEOUT = 5.0  # real seconds: only ever waited out if a message never comes


class Client:
    """A raw WebSocket client speaking the protocol by hand."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 1

    async def send(self, **message: Any) -> int:
        if "id" not in message:
            message["id"] = self.next_id
            self.next_id += 1
        await self.ws.send_str(orjson.dumps(message).decode())
        return int(message["id"])

    async def receive(self) -> Any:
        message = await self.ws.receive(timeout=TIMEOUT)
        assert message.type is aiohttp.WSMsgType.TEXT, message
        return orjson.loads(message.data)

    async def command(self, kind: str, **fields: Any) -> Any:
        msg_id = await self.send(type=kind, **fields)
        reply = await self.receive()
        assert reply["id"] == msg_id
        return reply


@pytest.fixture
async def api(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ApiHub]:
    api_hub = await start_api_hub(
        tmp_path,
        clock,
        automations="""\
        - id: open_on_drill
          alias: Drill opens the north gate
          triggers:
            - trigger: event
              event_type: drill
          actions:
            - action: lock.unlock
              target: {entity_id: lock.gate_north}
        """,
    )
    yield api_hub
    await api_hub.hub.stop(timeout=1)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def connect(session: aiohttp.ClientSession, api: ApiHub, role: str) -> Client:
    ws = await session.ws_connect(api.ws_url)
    client = Client(ws)
    assert (await client.receive())["type"] == "auth_required"
    await ws.send_str(orjson.dumps({"type": "auth", "access_token": api.tokens[role]}).decode())
    reply = await client.receive()
    assert reply["type"] == "auth_ok", reply
    return client


async def test_handshake(api: ApiHub, session: aiohttp.ClientSession) -> None:
    async with session.ws_connect(api.ws_url) as ws:
        first = orjson.loads((await ws.receive(timeout=TIMEOUT)).data)
        assert first == {"type": "auth_required", "ha_version": "2025.4.0"}
        await ws.send_str('{"type": "auth", "access_token": "' + api.tokens["guard"] + '"}')
        assert orjson.loads((await ws.receive(timeout=TIMEOUT)).data) == {
            "type": "auth_ok",
            "ha_version": "2025.4.0",
        }


@pytest.mark.parametrize(
    ("first_message", "expected"),
    [
        ({"type": "auth", "access_token": "not-a-token"}, "Invalid access token or password"),
        ({"type": "auth"}, "Auth message incorrectly formatted."),
        ({"id": 1, "type": "get_states"}, "Auth message incorrectly formatted."),
        ([1, 2], "Auth message incorrectly formatted."),
    ],
)
async def test_auth_invalid_closes(
    api: ApiHub, session: aiohttp.ClientSession, first_message: Any, expected: str
) -> None:
    async with session.ws_connect(api.ws_url) as ws:
        await ws.receive(timeout=TIMEOUT)
        await ws.send_str(orjson.dumps(first_message).decode())
        reply = orjson.loads((await ws.receive(timeout=TIMEOUT)).data)
        assert reply == {"type": "auth_invalid", "message": expected}
        closing = await ws.receive(timeout=TIMEOUT)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_ids_must_increase_and_formats(api: ApiHub, session: aiohttp.ClientSession) -> None:
    client = await connect(session, api, "guard")
    assert await client.command("ping", id=5) == {"id": 5, "type": "pong"}
    for reused in (5, 3):
        reply = await client.command("ping", id=reused)
        assert reply == {
            "id": reused,
            "type": "result",
            "success": False,
            "error": {"code": "id_reuse", "message": "Identifier values have to increase."},
        }
    await client.ws.send_str('{"type": "ping"}')
    reply = await client.receive()
    assert reply["id"] is None and reply["error"]["code"] == "invalid_format"
    await client.ws.send_str('{"id": "7", "type": "ping"}')
    assert (await client.receive())["error"]["code"] == "invalid_format"
    await client.ws.send_str("not json")
    assert (await client.receive())["error"]["code"] == "invalid_format"
    reply = await client.command("no_such_command", id=10)
    assert reply["error"] == {"code": "unknown_command", "message": "Unknown command."}
    reply = await client.command("get_states", id=11, surprise=True)
    assert reply["success"] is False and reply["error"]["code"] == "invalid_format"
    assert "surprise" in reply["error"]["message"]


async def test_get_states_scoped(api: ApiHub, session: aiohttp.ClientSession) -> None:
    guard = await connect(session, api, "guard")
    reply = await guard.command("get_states")
    assert reply["type"] == "result" and reply["success"] is True
    assert {"lock.door_101", "lock.door_102", "lock.gate_north"} <= {
        state["entity_id"] for state in reply["result"]
    }
    resident = await connect(session, api, "resident")
    reply = await resident.command("get_states")
    assert sorted(s["entity_id"] for s in reply["result"]) == ["camera.camera_101", "lock.door_101"]


async def test_get_config_services_current_user(
    api: ApiHub, session: aiohttp.ClientSession
) -> None:
    client = await connect(session, api, "resident")
    config = (await client.command("get_config"))["result"]
    assert config["time_zone"] == "Asia/Shanghai" and "api" in config["components"]
    services = (await client.command("get_services"))["result"]
    assert "unlock" in services["lock"]
    user = (await client.command("auth/current_user"))["result"]
    assert user["id"] == api.users["resident"].id
    assert user["is_admin"] is False and user["households"] == ["h101"]


async def test_subscribe_events_scoped(api: ApiHub, session: aiohttp.ClientSession) -> None:
    resident = await connect(session, api, "resident")
    guard = await connect(session, api, "guard")
    sub_resident = await resident.send(type="subscribe_events", event_type="state_changed")
    assert (await resident.receive()) == {
        "id": sub_resident,
        "type": "result",
        "success": True,
        "result": None,
    }
    sub_guard = await guard.send(type="subscribe_events")  # every event type
    assert (await guard.receive())["success"] is True
    door_102 = api.hub.entities.get("lock.door_102")
    door_101 = api.hub.entities.get("lock.door_101")
    assert door_102 is not None and door_101 is not None
    await door_102.unlock(context=Context())  # type: ignore[attr-defined]
    await door_101.unlock(context=Context())  # type: ignore[attr-defined]
    # the guard sees both; the resident only their own door
    seen_by_guard = [await guard.receive(), await guard.receive()]
    assert [m["event"]["data"]["entity_id"] for m in seen_by_guard] == [
        "lock.door_102",
        "lock.door_101",
    ]
    event = await resident.receive()
    assert event["id"] == sub_resident and event["type"] == "event"
    assert event["event"]["event_type"] == "state_changed"
    assert event["event"]["origin"] == "LOCAL"
    assert event["event"]["data"]["entity_id"] == "lock.door_101"
    assert event["event"]["data"]["new_state"]["state"] == "unlocked"
    assert seen_by_guard[0]["id"] == sub_guard
    # an event about nobody's household never reaches a resident
    api.hub.bus.fire("stranger_detected", {"camera": "north_gate"})
    api.hub.bus.fire("doorbell", {"household_id": "h101"})
    resident_sub_all = await resident.send(type="subscribe_events")
    assert (await resident.receive())["success"] is True
    api.hub.bus.fire("stranger_detected", {"camera": "north_gate"})
    api.hub.bus.fire("doorbell", {"household_id": "h101"})
    event = await resident.receive()
    assert event["id"] == resident_sub_all and event["event"]["event_type"] == "doorbell"

    # unsubscribing stops delivery; an unknown subscription is not_found
    reply = await resident.command("unsubscribe_events", subscription=resident_sub_all)
    assert reply["success"] is True
    reply = await resident.command("unsubscribe_events", subscription=resident_sub_all)
    assert reply["error"] == {"code": "not_found", "message": "Subscription not found."}
    api.hub.bus.fire("doorbell", {"household_id": "h101"})
    assert (await resident.command("ping"))["type"] == "pong"  # nothing arrived before it


async def test_call_service(api: ApiHub, session: aiohttp.ClientSession) -> None:
    resident = await connect(session, api, "resident")
    reply = await resident.command(
        "call_service", domain="lock", service="unlock", target={"entity_id": "lock.door_101"}
    )
    assert reply["success"] is True
    assert reply["result"]["response"] is None
    assert reply["result"]["context"]["user_id"] == api.users["resident"].id
    assert api.hub.states.is_state("lock.door_101", "unlocked")
    reply = await resident.command(
        "call_service", domain="lock", service="unlock", target={"entity_id": "lock.door_102"}
    )
    assert reply["success"] is False and reply["error"]["code"] == "unauthorized"
    assert api.hub.states.is_state("lock.door_102", "locked")

    staff = await connect(session, api, "staff")
    reply = await staff.command(
        "call_service", domain="tests", service="echo", service_data={"a": 1},
        return_response=True,
    )  # fmt: skip
    assert reply["result"]["response"] == {"echo": {"a": 1}}
    reply = await staff.command("call_service", domain="lock", service="nope")
    assert reply["error"]["code"] == "not_found"
    reply = await staff.command(
        "call_service", domain="lock", service="unlock",
        service_data={"code": []}, target={"entity_id": "lock.door_101"},
    )  # fmt: skip
    assert reply["error"]["code"] == "service_validation_error"


async def test_subscribe_trigger(api: ApiHub, session: aiohttp.ClientSession) -> None:
    staff = await connect(session, api, "staff")
    sub = await staff.send(
        type="subscribe_trigger",
        trigger={"platform": "state", "entity_id": "lock.door_102", "to": "unlocked"},
    )
    assert (await staff.receive())["success"] is True
    door = api.hub.entities.get("lock.door_102")
    await door.unlock(context=Context())  # type: ignore[union-attr]
    event = await staff.receive()
    assert event["id"] == sub and event["type"] == "event"
    trigger = event["event"]["variables"]["trigger"]
    assert trigger["platform"] == "state" and trigger["entity_id"] == "lock.door_102"
    assert trigger["to_state"]["state"] == "unlocked"
    reply = await staff.command("subscribe_trigger", trigger={"platform": "nonsense"})
    assert reply["error"]["code"] == "invalid_format"
    assert "unknown trigger" in reply["error"]["message"]
    reply = await staff.command("unsubscribe_events", subscription=sub)
    assert reply["success"] is True


async def test_validate_config(api: ApiHub, session: aiohttp.ClientSession) -> None:
    staff = await connect(session, api, "staff")
    reply = await staff.command(
        "validate_config",
        trigger={"platform": "state", "entity_id": "lock.door_101"},
        condition=[{"condition": "state", "entity_id": "lock.door_101", "state": "locked"}],
        action={"action": "lock.unlock", "target": {"entity_id": "lock.door_101"}},
    )
    assert reply["result"] == {
        "trigger": {"valid": True, "error": None},
        "condition": {"valid": True, "error": None},
        "action": {"valid": True, "error": None},
    }
    reply = await staff.command(
        "validate_config", triggers=[{"trigger": "time", "at": "25:99"}], actions=[{"delay": "x"}]
    )
    assert reply["result"]["triggers"]["valid"] is False
    assert reply["result"]["triggers"]["error"].startswith("[0]")
    assert reply["result"]["actions"]["valid"] is False


async def test_render_template_follows_states(api: ApiHub, session: aiohttp.ClientSession) -> None:
    staff = await connect(session, api, "staff")
    sub = await staff.send(type="render_template", template="{{ states('lock.door_101') }}")
    assert (await staff.receive())["success"] is True
    first = await staff.receive()
    assert first["id"] == sub and first["event"]["result"] == "locked"
    assert first["event"]["listeners"]["entities"] == ["lock.door_101"]
    await api.hub.entities.get("lock.door_101").unlock(context=Context())  # type: ignore[union-attr]
    assert (await staff.receive())["event"]["result"] == "unlocked"
    reply = await staff.command("render_template", template="{{ broken")
    assert reply["error"]["code"] == "template_error"


async def test_traces(api: ApiHub, session: aiohttp.ClientSession) -> None:
    api.hub.bus.fire("drill", {})
    await api.hub.block_till_done()
    guard = await connect(session, api, "guard")
    traces = (await guard.command("trace/list", domain="automation"))["result"]
    assert len(traces) == 1
    summary = traces[0]
    assert summary["domain"] == "automation" and summary["item_id"] == "open_on_drill"
    assert summary["script_execution"] == "finished"
    reply = await guard.command(
        "trace/get", domain="automation", item_id="open_on_drill", run_id=summary["run_id"]
    )
    assert reply["result"]["run_id"] == summary["run_id"]
    assert reply["result"]["steps"]
    reply = await guard.command("trace/get", domain="automation", item_id="x", run_id="y")
    assert reply["error"]["code"] == "not_found"
    assert (await guard.command("trace/list", domain="script"))["result"] == []


async def test_coalesced_messages(api: ApiHub, session: aiohttp.ClientSession) -> None:
    client = await connect(session, api, "guard")
    reply = await client.command("supported_features", features={"coalesce_messages": 1})
    assert reply["success"] is True
    sub = await client.send(type="subscribe_events", event_type="burst")
    messages: list[Any] = []
    first = await client.receive()
    messages.extend(first if isinstance(first, list) else [first])
    for number in range(20):
        api.hub.bus.fire("burst", {"n": number})
    while len(messages) < 21:
        batch = await client.receive()
        messages.extend(batch if isinstance(batch, list) else [batch])
    assert messages[0]["id"] == sub
    assert [m["event"]["data"]["n"] for m in messages[1:]] == list(range(20))


async def test_revoking_token_closes_socket(api: ApiHub, session: aiohttp.ClientSession) -> None:
    resident = await connect(session, api, "resident")
    staff = await connect(session, api, "staff")
    await api.auth.revoke_token(api.token_ids["resident"])
    closing = await resident.ws.receive(timeout=TIMEOUT)
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert (await staff.command("ping"))["type"] == "pong"  # others stay connected
    # and the token no longer opens a socket
    async with session.ws_connect(api.ws_url) as ws:
        await ws.receive(timeout=TIMEOUT)
        await ws.send_str(
            orjson.dumps({"type": "auth", "access_token": api.tokens["resident"]}).decode()
        )
        assert orjson.loads((await ws.receive(timeout=TIMEOUT)).data)["type"] == "auth_invalid"


async def test_disabling_user_closes_socket(api: ApiHub, session: aiohttp.ClientSession) -> None:
    guard = await connect(session, api, "guard")
    await api.auth.set_active(api.users["guard"].id, False)
    closing = await guard.ws.receive(timeout=TIMEOUT)
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_slow_client_is_disconnected(api: ApiHub, session: aiohttp.ClientSession) -> None:
    from shouwang.integrations.api import ApiRuntime
    from shouwang.integrations.api.websocket import MAX_PENDING

    client = await connect(session, api, "guard")
    await client.command("subscribe_events", event_type="flood")
    runtime = api.hub.integrations.runtime("api")
    assert isinstance(runtime, ApiRuntime)
    (connection,) = runtime.websocket.connections
    # fire more events than may wait, without giving the writer a chance to run
    for number in range(MAX_PENDING + 1):
        api.hub.bus.fire("flood", {"n": number})
    assert connection.ws.closed or not runtime.websocket.connections or connection.closing
    await asyncio.sleep(0)
    while True:
        message = await client.ws.receive(timeout=TIMEOUT)
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            break


async def test_subscribe_entities_compressed(api: ApiHub, session: aiohttp.ClientSession) -> None:
    resident = await connect(session, api, "resident")
    sub = await resident.send(type="subscribe_entities")
    assert (await resident.receive())["success"] is True
    first = await resident.receive()
    assert first["id"] == sub and first["type"] == "event"
    assert sorted(first["event"]["a"]) == ["camera.camera_101", "lock.door_101"]
    door = first["event"]["a"]["lock.door_101"]
    assert door["s"] == "locked" and door["a"]["friendly_name"] == "Door 101"
    assert isinstance(door["lc"], float) and "lu" not in door
    # the neighbour's door changes: nothing; their own: only what changed
    await api.hub.entities.get("lock.door_102").unlock(context=Context())  # type: ignore[union-attr]
    await api.hub.entities.get("lock.door_101").unlock(context=Context())  # type: ignore[union-attr]
    change = (await resident.receive())["event"]
    assert list(change) == ["c"] and list(change["c"]) == ["lock.door_101"]
    plus = change["c"]["lock.door_101"]["+"]
    assert set(plus) == {"s", "c"} and plus["s"] == "unlocked"  # same clock time: no "lc"
    # an attribute changes and one goes away
    api.hub.states.set("lock.door_101", "unlocked", {"friendly_name": "Front door"})
    change = (await resident.receive())["event"]["c"]["lock.door_101"]
    assert change["+"]["a"] == {"friendly_name": "Front door"}
    assert change["-"] == {"a": ["changed_by", "place_id"]}


async def test_subscribe_entities_filtered(api: ApiHub, session: aiohttp.ClientSession) -> None:
    guard = await connect(session, api, "guard")
    await guard.send(type="subscribe_entities", entity_ids=["lock.gate_north"])
    assert (await guard.receive())["success"] is True
    assert list((await guard.receive())["event"]["a"]) == ["lock.gate_north"]
    await api.hub.entities.get("lock.door_101").unlock(context=Context())  # type: ignore[union-attr]
    await api.hub.entities.get("lock.gate_north").unlock(context=Context())  # type: ignore[union-attr]
    assert list((await guard.receive())["event"]["c"]) == ["lock.gate_north"]
    await api.hub.entities.remove("lock.gate_north")
    assert (await guard.receive())["event"] == {"r": ["lock.gate_north"]}


async def test_registry_lists_scoped(api: ApiHub, session: aiohttp.ClientSession) -> None:
    resident = await connect(session, api, "resident")
    areas = (await resident.command("config/area_registry/list"))["result"]
    assert [area["area_id"] for area in areas] == ["h101"]
    entities = (await resident.command("config/entity_registry/list"))["result"]
    assert [e["entity_id"] for e in entities] == ["camera.camera_101", "lock.door_101"]
    door = entities[1]
    assert door["area_id"] == "h101" and door["platform"] == "tests" and door["device_id"]
    devices = (await resident.command("config/device_registry/list"))["result"]
    assert [(d["id"], d["name"]) for d in devices] == [(door["device_id"], "Door 101")]
    assert devices[0]["identifiers"] == [["tests", "Door 101"]]

    guard = await connect(session, api, "guard")
    areas = (await guard.command("config/area_registry/list"))["result"]
    assert {"h101", "h102", "gate_north", "b1u1"} <= {area["area_id"] for area in areas}
    devices = (await guard.command("config/device_registry/list"))["result"]
    assert {d["name"] for d in devices} == {"Door 101", "Door 102", "Gate north"}


async def test_client_vanishing_mid_stream(
    api: ApiHub, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    from shouwang.integrations.api import ApiRuntime

    runtime = api.hub.integrations.runtime("api")
    assert isinstance(runtime, ApiRuntime)
    client = await connect(session, api, "guard")
    await client.command("subscribe_events", event_type="stream")
    transport = client.ws._response.connection.transport  # type: ignore[union-attr]
    assert transport is not None
    transport.abort()  # the phone lost its network
    for number in range(200):
        api.hub.bus.fire("stream", {"n": number, "padding": "x" * 1000})
        await asyncio.sleep(0)
    for _ in range(500):  # real time: the server notices the dead socket
        if not runtime.websocket.connections:
            break
        await asyncio.sleep(0.01)
    assert not runtime.websocket.connections
    assert api.hub.bus.listener_counts().get("stream", 0) == 0  # its subscription is gone
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text
    other = await connect(session, api, "staff")
    assert (await other.command("ping"))["type"] == "pong"


async def test_fire_event(api: ApiHub, session: aiohttp.ClientSession) -> None:
    seen: list[Any] = []
    api.hub.bus.listen("drill_started", seen.append)
    admin = await connect(session, api, "admin")
    reply = await admin.command("fire_event", event_type="drill_started", event_data={"zone": "n"})
    assert reply["success"] is True
    assert reply["result"]["context"]["user_id"] == api.users["admin"].id
    assert [(dict(e.data), e.origin) for e in seen] == [({"zone": "n"}, "remote")]
    staff = await connect(session, api, "staff")
    reply = await staff.command("fire_event", event_type="drill_started")
    assert reply["error"]["code"] == "unauthorized" and len(seen) == 1


async def test_auth_times_out(
    api: ApiHub, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shouwang.integrations.api import websocket

    monkeypatch.setattr(websocket, "AUTH_TIMEOUT", 0.05)  # real time: a silent client
    async with session.ws_connect(api.ws_url) as ws:
        await ws.receive(timeout=TIMEOUT)
        reply = orjson.loads((await ws.receive(timeout=TIMEOUT)).data)
        assert reply == {"type": "auth_invalid", "message": "Authentication timed out."}
        closing = await ws.receive(timeout=TIMEOUT)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
