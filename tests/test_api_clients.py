"""Published Home Assistant client libraries from PyPI against a running hub, used as their
users use them: ``hass-client`` (asyncio, WebSocket) and ``homeassistant-api`` (REST and
WebSocket, blocking; run in a worker thread so the hub's loop keeps serving)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hass_client import HomeAssistantClient
from hass_client.exceptions import AuthenticationFailed, FailedCommand
from homeassistant_api import Client, WebsocketClient
from homeassistant_api.errors import UnauthorizedError

from shouwang.core.clock import ManualClock

from .test_api_support import ApiHub, start_api_hub

TIMEOUT = 5.0


@pytest.fixture
async def api(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ApiHub]:
    api_hub = await start_api_hub(tmp_path, clock)
    yield api_hub
    await api_hub.hub.stop(timeout=1)


async def test_hass_client_reads_states_and_calls_a_service(api: ApiHub) -> None:
    async with HomeAssistantClient(api.ws_url, api.tokens["resident"]) as client:
        assert client.version == "2025.4.0"
        states = await client.get_states()
        assert sorted(s["entity_id"] for s in states) == ["camera.camera_101", "lock.door_101"]
        config = await client.get_config()
        assert config["time_zone"] == "Asia/Shanghai"
        assert "lock" in await client.get_services()
        registry = await client.get_entity_registry()
        assert [entry["entity_id"] for entry in registry] == ["camera.camera_101", "lock.door_101"]
        assert [area["area_id"] for area in await client.get_area_registry()] == ["h101"]

        changes: asyncio.Queue[Any] = asyncio.Queue()
        unsubscribe = await client.subscribe_events(changes.put_nowait, "state_changed")
        await client.call_service("lock", "unlock", target={"entity_id": "lock.door_101"})
        event = await asyncio.wait_for(changes.get(), TIMEOUT)
        assert event["data"]["entity_id"] == "lock.door_101"
        assert event["data"]["new_state"]["state"] == "unlocked"
        assert api.hub.states.is_state("lock.door_101", "unlocked")

        with pytest.raises(FailedCommand, match="Not allowed"):
            await client.call_service("lock", "unlock", target={"entity_id": "lock.door_102"})
        assert api.hub.states.is_state("lock.door_102", "locked")
        unsubscribe()

        entities: asyncio.Queue[Any] = asyncio.Queue()
        await client.subscribe_entities(entities.put_nowait, ["lock.door_101"])
        initial = await asyncio.wait_for(entities.get(), TIMEOUT)
        assert initial["a"]["lock.door_101"]["s"] == "unlocked"
        await client.call_service("lock", "lock", target={"entity_id": "lock.door_101"})
        change = await asyncio.wait_for(entities.get(), TIMEOUT)
        assert change["c"]["lock.door_101"]["+"]["s"] == "locked"


async def test_hass_client_bad_token(api: ApiHub) -> None:
    with pytest.raises(AuthenticationFailed):
        async with HomeAssistantClient(api.ws_url, "not-a-token"):
            pass


def rest_session(api: ApiHub, role: str) -> dict[str, Any]:
    """What a script using homeassistant-api's REST client does (blocking)."""
    with Client(api.url + "/api", api.tokens[role]) as client:
        states = client.get_states()
        door = client.get_state(entity_id="lock.door_101")
        changed = client.trigger_service("lock", "unlock", entity_id="lock.door_101")
        domains = client.get_domains()
        config = client.get_config()
        return {
            "states": sorted(state.entity_id for state in states),
            "door": door.state,
            "changed": [(state.entity_id, state.state) for state in changed],
            "has_lock_unlock": domains["lock"].get_service("unlock") is not None,
            "time_zone": config["time_zone"],
        }


async def test_homeassistant_api_rest_client(api: ApiHub) -> None:
    result = await asyncio.to_thread(rest_session, api, "resident")
    assert result == {
        "states": ["camera.camera_101", "lock.door_101"],
        "door": "locked",
        "changed": [("lock.door_101", "unlocked")],
        "has_lock_unlock": True,
        "time_zone": "Asia/Shanghai",
    }
    assert api.hub.states.is_state("lock.door_101", "unlocked")


def rest_staff_session(api: ApiHub) -> dict[str, Any]:
    with Client(api.url + "/api", api.tokens["staff"]) as client:
        rendered = client.get_rendered_template("{{ states('lock.gate_north') }}")
        changed, response = client.trigger_service_with_response("tests", "echo", value=7)
        valid = client.check_api_config()
        return {"rendered": rendered, "changed": changed, "response": response, "valid": valid}


async def test_homeassistant_api_rest_template_and_response(api: ApiHub) -> None:
    result = await asyncio.to_thread(rest_staff_session, api)
    assert result == {
        "rendered": "locked",
        "changed": (),
        "response": {"echo": {"value": 7}},
        "valid": True,
    }


def rest_bad_token(api: ApiHub) -> None:
    with Client(api.url + "/api", "not-a-token") as client:
        client.get_states()


async def test_homeassistant_api_rest_bad_token(api: ApiHub) -> None:
    with pytest.raises(UnauthorizedError):
        await asyncio.to_thread(rest_bad_token, api)


def websocket_session(api: ApiHub, role: str) -> dict[str, Any]:
    with WebsocketClient(api.ws_url, api.tokens[role]) as client:
        states = client.get_states()
        client.trigger_service("lock", "unlock", entity_id="lock.door_101")
        after = client.get_state(entity_id="lock.door_101")
        response = client.trigger_service_with_response("tests", "echo", value=1)
        return {
            "states": len(states),
            "after": after.state,
            "response": response,
            "latency_ms": client.ping_latency(),
        }


async def test_homeassistant_api_websocket_client(api: ApiHub) -> None:
    result = await asyncio.to_thread(websocket_session, api, "staff")
    assert result["states"] == len(api.hub.states)
    assert result["after"] == "unlocked"
    assert result["response"] == {"echo": {"value": 1}}
    assert result["latency_ms"] >= 0
