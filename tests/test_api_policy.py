"""The API half of the authorisation route-walk: every REST route of the ``api`` integration
and every WebSocket command is refused to whoever the policy says may not use it (not logged
in, or a role below its :class:`Access`), and reached by whoever may."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import orjson
import pytest

from shouwang.core.clock import ManualClock
from shouwang.integrations.api import COMMANDS, ApiRuntime
from shouwang.integrations.api.commands import COMMAND_TABLE
from shouwang.integrations.auth.policy import Access, allowed

from .test_api_support import ROLES, ApiHub, start_api_hub

TIMEOUT = 5.0
PATH_VALUES = {
    "entity_id": "lock.door_101",
    "domain": "lock",
    "service": "lock",
    "event_type": "policy_walk",
    "household_id": "h101",
    "item_id": "nothing",
    "run_id": "nothing",
}


@pytest.fixture
async def api(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ApiHub]:
    api_hub = await start_api_hub(tmp_path, clock)
    yield api_hub
    await api_hub.hub.stop(timeout=1)


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: PATH_VALUES[match.group(1)], path)


def test_every_command_declares_an_access() -> None:
    assert set(COMMANDS) == set(COMMAND_TABLE)
    assert all(isinstance(access, Access) for access in COMMANDS.values())
    # nothing is reachable over the socket without logging in
    assert Access.PUBLIC not in COMMANDS.values()


async def test_rest_routes_follow_the_policy(api: ApiHub) -> None:
    runtime = api.hub.integrations.runtime("api")
    assert isinstance(runtime, ApiRuntime)
    assert len(runtime.routes) >= 20
    async with aiohttp.ClientSession() as session:
        for route in runtime.routes:
            url = api.url + concrete(route.path)
            async with session.request(route.method, url, json={}) as response:
                assert response.status == 401, (route.method, route.path)
            for role in ROLES:
                headers = api.headers(role)
                async with session.request(route.method, url, headers=headers, json={}) as response:
                    body = await response.read()
                    where = (route.method, route.path, role, response.status, body[:200])
                    if not allowed(api.users[role], route.access):
                        assert response.status == 403, where
                        assert body == b"403: Forbidden", where
                    else:
                        assert response.status != 401, where
                        # a handler may still refuse out-of-scope data, in HA's JSON shape
                        if response.status == 403:
                            assert orjson.loads(body)["message"], where


async def test_websocket_commands_refused_before_auth(api: ApiHub) -> None:
    async with aiohttp.ClientSession() as session:
        for command in COMMANDS:
            async with session.ws_connect(api.ws_url) as ws:
                assert orjson.loads((await ws.receive(timeout=TIMEOUT)).data)["type"] == (
                    "auth_required"
                )
                await ws.send_str(orjson.dumps({"id": 1, "type": command}).decode())
                reply = orjson.loads((await ws.receive(timeout=TIMEOUT)).data)
                assert reply["type"] == "auth_invalid", command
                closing = await ws.receive(timeout=TIMEOUT)
                assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_websocket_commands_follow_the_policy(api: ApiHub) -> None:
    async with aiohttp.ClientSession() as session:
        for role in ROLES:
            async with session.ws_connect(api.ws_url) as ws:
                await ws.receive(timeout=TIMEOUT)
                await ws.send_str(
                    orjson.dumps({"type": "auth", "access_token": api.tokens[role]}).decode()
                )
                assert orjson.loads((await ws.receive(timeout=TIMEOUT)).data)["type"] == "auth_ok"
                for msg_id, (command, access) in enumerate(COMMANDS.items(), start=1):
                    # a bare command: the access check comes before the schema's
                    await ws.send_str(orjson.dumps({"id": msg_id, "type": command}).decode())
                    while True:
                        reply = orjson.loads((await ws.receive(timeout=TIMEOUT)).data)
                        if reply["id"] == msg_id and reply["type"] in ("result", "pong"):
                            break
                    refused = reply.get("error", {}).get("code") == "unauthorized"
                    assert refused is not allowed(api.users[role], access), (role, command, reply)


async def test_inactive_user_cannot_open_a_socket(api: ApiHub) -> None:
    await api.auth.set_active(api.users["staff"].id, False)
    async with aiohttp.ClientSession() as session, session.ws_connect(api.ws_url) as ws:
        await ws.receive(timeout=TIMEOUT)
        await ws.send_str(
            orjson.dumps({"type": "auth", "access_token": api.tokens["staff"]}).decode()
        )
        assert orjson.loads((await ws.receive(timeout=TIMEOUT)).data)["type"] == "auth_invalid"
