"""The Home Assistant-compatible REST API on a running hub (real HTTP server, real tokens):
response shapes, status codes, and that each user sees and controls only what their scope
allows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import orjson
import pytest

from shouwang.core import __version__
from shouwang.core.clock import ManualClock

from .test_api_support import JPEG, ApiHub, start_api_hub


@pytest.fixture
async def api(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ApiHub]:
    api_hub = await start_api_hub(tmp_path, clock)
    yield api_hub
    await api_hub.hub.stop(timeout=1)


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def request(
    client: aiohttp.ClientSession,
    api: ApiHub,
    method: str,
    path: str,
    role: str | None = "admin",
    **kwargs: object,
) -> tuple[int, object]:
    headers = api.headers(role) if role else {}
    async with client.request(method, api.url + path, headers=headers, **kwargs) as response:
        body = await response.read()
        if response.content_type == "application/json":
            return response.status, orjson.loads(body)
        return response.status, body


async def test_api_running_and_unauthenticated(api: ApiHub, client: aiohttp.ClientSession) -> None:
    assert await request(client, api, "GET", "/api/") == (200, {"message": "API running."})
    status, _ = await request(client, api, "GET", "/api/", role=None)
    assert status == 401
    status, _ = await request(client, api, "GET", "/api/states", role=None)
    assert status == 401


async def test_config_shape(api: ApiHub, client: aiohttp.ClientSession) -> None:
    status, config = await request(client, api, "GET", "/api/config", "resident")
    assert status == 200
    assert isinstance(config, dict)
    assert config["time_zone"] == "Asia/Shanghai"
    assert {"api", "http", "auth", "automation"} <= set(config["components"])
    assert config["unit_system"]["temperature"] == "°C"
    assert config["state"] == "RUNNING"
    assert config["config_dir"] is None  # the server's path is not a client's business
    assert config["version"] == "2025.4.0"  # the HA API level mirrored
    assert config["shouwang_version"] == __version__


async def test_states_list_scoped_per_user(api: ApiHub, client: aiohttp.ClientSession) -> None:
    status, states = await request(client, api, "GET", "/api/states", "guard")
    assert status == 200
    assert isinstance(states, list)
    ids = {state["entity_id"] for state in states}
    assert {"lock.door_101", "lock.door_102", "lock.gate_north", "camera.camera_101"} <= ids
    door = next(state for state in states if state["entity_id"] == "lock.door_101")
    assert set(door) == {
        "entity_id", "state", "attributes", "last_changed", "last_reported", "last_updated",
        "context",
    }  # fmt: skip
    assert door["state"] == "locked"
    assert door["attributes"]["friendly_name"] == "Door 101"

    status, states = await request(client, api, "GET", "/api/states", "resident")
    assert status == 200
    assert isinstance(states, list)
    assert sorted(state["entity_id"] for state in states) == ["camera.camera_101", "lock.door_101"]


async def test_single_state_and_not_found(api: ApiHub, client: aiohttp.ClientSession) -> None:
    status, state = await request(client, api, "GET", "/api/states/lock.door_101", "resident")
    assert status == 200
    assert isinstance(state, dict) and state["entity_id"] == "lock.door_101"
    missing = (404, {"message": "Entity not found."})
    assert await request(client, api, "GET", "/api/states/lock.nothing_here") == missing
    assert await request(client, api, "GET", "/api/states/not-an-id") == missing
    # another household's door is "not found" for a resident, not "forbidden"
    assert await request(client, api, "GET", "/api/states/lock.door_102", "resident") == missing


async def test_post_state_staff_only(api: ApiHub, client: aiohttp.ClientSession) -> None:
    body = {"state": "on", "attributes": {"friendly_name": "Test"}}
    status, created = await request(
        client, api, "POST", "/api/states/sensor.test", "staff", json=body
    )
    assert status == 201
    assert isinstance(created, dict) and created["state"] == "on"
    assert api.hub.states.get("sensor.test") is not None
    status, updated = await request(
        client, api, "POST", "/api/states/sensor.test", "staff", json={"state": "off"}
    )
    assert status == 200 and isinstance(updated, dict) and updated["state"] == "off"
    for role in ("guard", "resident", "service"):
        status, _ = await request(client, api, "POST", "/api/states/sensor.test", role, json=body)
        assert status == 403, role
    assert await request(client, api, "POST", "/api/states/sensor.test", "staff", json={}) == (
        400,
        {"message": "No state specified."},
    )
    assert await request(
        client, api, "POST", "/api/states/Bad Id!", "staff", json={"state": "x"}
    ) == (400, {"message": "Invalid entity ID specified."})
    status, error = await request(
        client, api, "POST", "/api/states/sensor.test", "staff", data=b"{not json"
    )
    assert status == 400 and error == {"message": "Data should be valid JSON."}
    status, error = await request(
        client, api, "POST", "/api/states/sensor.test", "staff", json={"state": "x" * 300}
    )
    assert status == 400 and isinstance(error, dict) and "255" in error["message"]
    assert await request(client, api, "DELETE", "/api/states/sensor.test", "staff") == (
        200,
        {"message": "Entity removed."},
    )
    assert api.hub.states.get("sensor.test") is None


async def test_services_and_events_lists(api: ApiHub, client: aiohttp.ClientSession) -> None:
    status, services = await request(client, api, "GET", "/api/services", "resident")
    assert status == 200 and isinstance(services, list)
    by_domain = {item["domain"]: item["services"] for item in services}
    assert {"lock", "unlock", "open"} <= set(by_domain["lock"])
    assert by_domain["tests"]["echo"]["response"] == {"optional": True}
    status, events = await request(client, api, "GET", "/api/events", "guard")
    assert status == 200 and isinstance(events, list)
    assert all(set(item) == {"event", "listener_count"} for item in events)
    status, _ = await request(client, api, "GET", "/api/events", "resident")
    assert status == 403


async def test_call_service_returns_changed_states(
    api: ApiHub, client: aiohttp.ClientSession
) -> None:
    status, changed = await request(
        client, api, "POST", "/api/services/lock/unlock", "resident",
        json={"entity_id": "lock.door_101"},
    )  # fmt: skip
    assert status == 200
    assert isinstance(changed, list)
    assert [(s["entity_id"], s["state"]) for s in changed] == [("lock.door_101", "unlocked")]
    assert changed[0]["context"]["user_id"] == api.users["resident"].id
    assert api.hub.states.is_state("lock.door_101", "unlocked")


async def test_call_service_refused_outside_scope(
    api: ApiHub, client: aiohttp.ClientSession
) -> None:
    for data in (
        {"entity_id": "lock.door_102"},  # the neighbour's door
        {"entity_id": ["lock.door_101", "lock.gate_north"]},  # one of them shared
        {"entity_id": "all"},
        {},  # no target: a resident may only call services on their own entities
    ):
        status, error = await request(
            client, api, "POST", "/api/services/lock/unlock", "resident", json=data
        )
        assert status == 403, data
        assert isinstance(error, dict) and "Not allowed" in error["message"]
    assert api.hub.states.is_state("lock.door_102", "locked")
    assert api.hub.states.is_state("lock.gate_north", "locked")
    # the guard controls the whole community
    status, _ = await request(
        client, api, "POST", "/api/services/lock/unlock", "guard",
        json={"entity_id": "lock.gate_north"},
    )  # fmt: skip
    assert status == 200 and api.hub.states.is_state("lock.gate_north", "unlocked")


async def test_call_service_errors(api: ApiHub, client: aiohttp.ClientSession) -> None:
    status, error = await request(
        client, api, "POST", "/api/services/lock/explode", "staff", json={}
    )
    assert status == 400 and error == {"message": "Service lock.explode not found."}
    status, error = await request(
        client, api, "POST", "/api/services/lock/unlock", "staff",
        json={"entity_id": "lock.door_101", "code": 1234},
    )  # fmt: skip
    assert status == 400 and isinstance(error, dict) and "code" in error["message"]
    status, error = await request(
        client, api, "POST", "/api/services/lock/unlock", "staff", data=b"[1, 2]"
    )
    assert status == 400 and error == {"message": "Data should be a JSON object."}


async def test_call_service_return_response(api: ApiHub, client: aiohttp.ClientSession) -> None:
    status, body = await request(
        client, api, "POST", "/api/services/tests/echo?return_response", "staff", json={"x": 1}
    )
    assert status == 200
    assert body == {"changed_states": [], "service_response": {"echo": {"x": 1}}}
    status, body = await request(
        client, api, "POST", "/api/services/lock/lock?return_response", "staff",
        json={"entity_id": "lock.door_101"},
    )  # fmt: skip
    assert status == 400 and isinstance(body, dict) and "response" in body["message"]


async def test_fire_event_admin_only(api: ApiHub, client: aiohttp.ClientSession) -> None:
    seen = []
    api.hub.bus.listen("drill_started", seen.append)
    status, body = await request(
        client, api, "POST", "/api/events/drill_started", "admin", json={"zone": "north"}
    )
    assert (status, body) == (200, {"message": "Event drill_started fired."})
    assert [dict(e.data) for e in seen] == [{"zone": "north"}]
    assert seen[0].origin == "remote" and seen[0].context.user_id == api.users["admin"].id
    status, _ = await request(client, api, "POST", "/api/events/drill_started", "staff", json={})
    assert status == 403
    status, body = await request(
        client, api, "POST", "/api/events/drill_started", "admin", json=[1]
    )
    assert status == 400 and body == {"message": "Event data should be a JSON object"}
    assert len(seen) == 1


async def test_template(api: ApiHub, client: aiohttp.ClientSession) -> None:
    status, text = await request(
        client, api, "POST", "/api/template", "staff",
        json={"template": "{{ states('lock.door_101') }} {{ x }}", "variables": {"x": 5}},
    )  # fmt: skip
    assert (status, text) == (200, b"locked 5")
    status, error = await request(
        client, api, "POST", "/api/template", "staff", json={"template": "{{ broken"}
    )
    assert status == 400 and isinstance(error, dict)
    assert error["message"].startswith("Error rendering template:")
    status, _ = await request(
        client, api, "POST", "/api/template", "resident", json={"template": "{{ 1 }}"}
    )
    assert status == 403


async def test_camera_proxy(api: ApiHub, client: aiohttp.ClientSession) -> None:
    async with client.get(
        api.url + "/api/camera_proxy/camera.camera_101", headers=api.headers("resident")
    ) as response:
        assert response.status == 200
        assert response.content_type == "image/jpeg"
        assert await response.read() == JPEG
    status, _ = await request(client, api, "GET", "/api/camera_proxy/lock.door_101", "staff")
    assert status == 404  # not a camera
    status, _ = await request(client, api, "GET", "/api/camera_proxy/camera.camera_101", None)
    assert status == 401


async def test_no_history_without_recorder(api: ApiHub, client: aiohttp.ClientSession) -> None:
    status, _ = await request(client, api, "GET", "/api/history/period/2026-11-28T00:00:00Z")
    assert status == 404


async def test_check_config(api: ApiHub, client: aiohttp.ClientSession) -> None:
    status, result = await request(client, api, "POST", "/api/config/core/check_config", "staff")
    assert (status, result) == (200, {"result": "valid", "errors": None, "warnings": None})
    config = api.hub.config_dir
    assert config is not None
    text = (config / "configuration.yaml").read_text(encoding="utf-8")
    (config / "configuration.yaml").write_text(text + "http:\n  server_port: nope\n")
    status, result = await request(client, api, "POST", "/api/config/core/check_config", "staff")
    assert status == 200 and isinstance(result, dict) and result["result"] == "invalid"
    assert "configuration.yaml:" in result["errors"] and str(config) not in result["errors"]
    status, _ = await request(client, api, "POST", "/api/config/core/check_config", "guard")
    assert status == 403


async def test_device_failures_are_reported(api: ApiHub, client: aiohttp.ClientSession) -> None:
    # the simulated door cannot unlatch: the platform says so, the API passes it on as a 500
    status, error = await request(
        client, api, "POST", "/api/services/lock/open", "staff",
        json={"entity_id": "lock.door_101"},
    )  # fmt: skip
    assert status == 500 and isinstance(error, dict) and "lock.door_101" in error["message"]
    camera = api.hub.entities.get("camera.camera_101")
    assert camera is not None

    async def no_image() -> bytes | None:
        return None

    camera.camera_image = no_image  # type: ignore[method-assign]
    status, error = await request(client, api, "GET", "/api/camera_proxy/camera.camera_101")
    assert (status, error) == (503, {"message": "The camera has no image right now."})
