"""The Frigate HTTP API client against the Frigate simulator: every endpoint the hub uses,
login on the authenticated port, and errors that name the endpoint and the reason."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from shouwang.integrations.frigate.api import FrigateApiError, FrigateClient, parse_version
from shouwang.integrations.frigate.simulator import JPEG, FrigateSimulator, SimCamera

from .services import free_port

CAMERAS = [SimCamera("north_gate", ("gate_lane",)), SimCamera("car_park", ("lane_in",))]


@pytest.fixture
async def sim() -> AsyncIterator[FrigateSimulator]:
    simulator = FrigateSimulator(CAMERAS, sink=lambda _topic, _payload: None, now=lambda: 1000.0)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def secured() -> AsyncIterator[FrigateSimulator]:
    simulator = FrigateSimulator(CAMERAS, sink=lambda _t, _p: None, auth=("admin", "s3cret"))
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def client(sim: FrigateSimulator) -> AsyncIterator[FrigateClient]:
    api = FrigateClient(sim.url, timeout=5)
    yield api
    await api.close()


def test_versions_compare_numerically() -> None:
    assert parse_version("0.16.0-abc1234") == (0, 16, 0)
    assert parse_version("0.9.2") < parse_version("0.16.0")
    assert parse_version("v1.0") == (1, 0)
    with pytest.raises(ValueError, match="not a version"):
        parse_version("beta")


async def test_version_config_stats(client: FrigateClient, sim: FrigateSimulator) -> None:
    assert await client.version() == sim.version
    assert await client.version_tuple() == (0, 16, 1)
    config = await client.config()
    assert set(config["cameras"]) == {"north_gate", "car_park"}
    assert "gate_lane" in config["cameras"]["north_gate"]["zones"]
    stats = await client.stats()
    assert stats["service"]["version"] == sim.version
    assert set(stats["cameras"]) == {"north_gate", "car_park"}


async def test_events_filters_and_lookup(client: FrigateClient, sim: FrigateSimulator) -> None:
    person = sim.track("north_gate", zones=["gate_lane"]).new()
    person.face("zhang_san", 0.95)
    car = sim.track("car_park", "car").new().lpr("沪A12345", 0.93)
    car.end()
    assert {e["id"] for e in await client.events()} == {person.id, car.id}
    assert [e["id"] for e in await client.events(cameras=["car_park"])] == [car.id]
    assert [e["id"] for e in await client.events(labels=["person"])] == [person.id]
    assert [e["id"] for e in await client.events(sub_labels=["zhang_san"])] == [person.id]
    assert [e["id"] for e in await client.events(zones=["gate_lane"])] == [person.id]
    assert await client.events(after=2000) == []
    assert len(await client.events(limit=1)) == 1
    looked_up = await client.event(car.id)
    assert looked_up["data"]["recognized_license_plate"] == "沪A12345"
    assert looked_up["end_time"] is not None


async def test_images(client: FrigateClient, sim: FrigateSimulator) -> None:
    track = sim.track("north_gate").new()
    assert await client.event_snapshot(track.id) == JPEG
    assert await client.event_thumbnail(track.id) == JPEG
    assert await client.latest("north_gate") == JPEG
    assert client.event_snapshot_url(track.id) == f"{sim.url}/api/events/{track.id}/snapshot.jpg"
    assert client.latest_url("north_gate") == f"{sim.url}/api/north_gate/latest.jpg"


async def test_create_event_and_faces(client: FrigateClient, sim: FrigateSimulator) -> None:
    event_id = await client.create_event("north_gate", "intrusion", sub_label="guard", duration=5)
    assert sim.events[event_id]["label"] == "intrusion"
    assert sim.events[event_id]["sub_label"] == "guard"
    assert await client.faces() == {}
    result = await client.register_face("stranger_0001", JPEG)
    assert result["success"] is True
    assert await client.faces() == {"stranger_0001": ["stranger_0001-1.webp"]}


async def test_errors_name_endpoint_and_reason(client: FrigateClient) -> None:
    with pytest.raises(FrigateApiError) as caught:
        await client.event("nope")
    assert caught.value.endpoint == "GET /api/events/nope"
    assert caught.value.status == 404
    assert "HTTP 404: Event not found" in str(caught.value)
    with pytest.raises(
        FrigateApiError, match=r"POST /api/events/back_door/person/create: HTTP 404"
    ):
        await client.create_event("back_door", "person")
    with pytest.raises(FrigateApiError, match="HTTP 400: No face image"):
        await client.register_face("x", b"not a jpeg")
    with pytest.raises(FrigateApiError, match=r"GET /api/nowhere/latest\.jpg: HTTP 404"):
        await client.latest("nowhere")


async def test_refused_and_timeout() -> None:
    refused = FrigateClient(f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(FrigateApiError, match=r"GET /api/version: ClientConnectorError"):
        await refused.version()
    await refused.close()

    async def slow(_request: web.Request) -> web.Response:
        import asyncio

        await asyncio.sleep(5)
        return web.Response(text="0.16.0")

    app = web.Application()
    app.router.add_get("/api/version", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    client = FrigateClient(f"http://127.0.0.1:{port}", timeout=0.2)
    try:
        with pytest.raises(FrigateApiError, match=r"GET /api/version: no answer within 0.2 s"):
            await client.version()
    finally:
        await client.close()
        await runner.cleanup()


async def test_not_json_is_an_error(sim: FrigateSimulator) -> None:
    client = FrigateClient(sim.url)
    try:
        # /api/version is plain text: asking for it as JSON must fail with a clear reason
        with pytest.raises(FrigateApiError, match="GET /api/version: answer is not JSON"):
            await client._json("GET", "/api/version")
    finally:
        await client.close()


async def test_authenticated_port(secured: FrigateSimulator) -> None:
    anonymous = FrigateClient(secured.url)
    with pytest.raises(FrigateApiError, match="GET /api/version: HTTP 401: Unauthorized"):
        await anonymous.version()
    await anonymous.close()

    wrong = FrigateClient(secured.url, username="admin", password="guess")
    with pytest.raises(FrigateApiError, match="POST /api/login: HTTP 401: Login failed"):
        await wrong.version()
    await wrong.close()

    client = FrigateClient(secured.url, username="admin", password="s3cret")
    try:
        assert await client.version() == secured.version
        assert client.logged_in and secured.logins == 1
        await client.stats()
        assert secured.logins == 1  # the token is reused
        secured.revoke_tokens()  # e.g. Frigate restarted with a new secret
        assert await client.latest("north_gate") == JPEG
        assert secured.logins == 2  # logged in again once, transparently
    finally:
        await client.close()
