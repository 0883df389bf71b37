"""Home Assistant's login flow and token endpoint over real HTTP, the admin account endpoints,
and the lockout seen from the network (a stale client cannot lock the user's address out)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from shouwang.core.clock import ManualClock
from shouwang.core.hub import Hub
from shouwang.integrations.auth.throttle import LOCKOUT, MAX_FAILURES

from .test_http_support import (
    CLIENT_ID,
    PASSWORD,
    REDIRECT_URI,
    add_user,
    auth_of,
    login,
    server_of,
    start_http_hub,
    token_for,
)


@pytest.fixture
async def http_hub(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Hub]:
    hub = await start_http_hub(tmp_path, clock)
    yield hub
    await hub.stop(timeout=1)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def _start_flow(session: aiohttp.ClientSession, base: str, **body: Any) -> tuple[int, Any]:
    payload = {
        "client_id": CLIENT_ID,
        "handler": ["homeassistant", None],
        "redirect_uri": REDIRECT_URI,
    }
    payload.update(body)
    async with session.post(f"{base}/auth/login_flow", json=payload) as resp:
        return resp.status, await resp.json()


async def _step(
    session: aiohttp.ClientSession, base: str, flow_id: str, **body: Any
) -> aiohttp.ClientResponse:
    payload = {"client_id": CLIENT_ID, "username": "staff1", "password": PASSWORD}
    payload.update(body)
    resp = await session.post(f"{base}/auth/login_flow/{flow_id}", json=payload)
    await resp.read()
    return resp


async def test_login_flow_end_to_end_refresh_and_revoke(
    http_hub: Hub, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    base = server_of(http_hub).url
    user = await add_user(http_hub, "staff1", "staff")
    async with session.get(f"{base}/auth/providers") as resp:
        assert await resp.json() == {
            "providers": [{"name": "Shouwang", "id": None, "type": "homeassistant"}],
            "preselect_remember_me": False,
        }
    status, flow = await _start_flow(session, base)
    assert status == 200
    assert flow["type"] == "form" and flow["step_id"] == "init" and flow["errors"] == {}
    assert flow["handler"] == ["homeassistant", None]
    assert [field["name"] for field in flow["data_schema"]] == ["username", "password"]
    resp = await _step(session, base, flow["flow_id"], password="wrong password")
    step = await resp.json()
    assert step["type"] == "form" and step["errors"] == {"base": "invalid_auth"}
    resp = await _step(session, base, flow["flow_id"])
    step = await resp.json()
    assert step["type"] == "create_entry" and step["title"] == "staff1"
    code = step["result"]
    resp = await _step(session, base, flow["flow_id"])  # a finished flow is gone
    assert resp.status == 404
    token_url = f"{base}/auth/token"
    async with session.post(
        token_url,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": "http://evil.example/",
        },
    ) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"] == "invalid_request"
    status, flow = await _start_flow(session, base)
    code = (await (await _step(session, base, flow["flow_id"])).json())["result"]
    async with session.post(
        token_url, data={"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID}
    ) as resp:
        assert resp.status == 200
        assert resp.headers["Cache-Control"] == "no-store"
        tokens = await resp.json()
    assert set(tokens) == {
        "access_token",
        "token_type",
        "refresh_token",
        "expires_in",
        "ha_auth_provider",
    }
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 1800
    async with session.post(
        token_url, data={"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID}
    ) as resp:
        assert resp.status == 400  # codes are single use
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    async with session.get(f"{base}/api/auth/current_user", headers=bearer) as resp:
        assert await resp.json() == user.as_dict()
    await clock.advance(1801)
    async with session.get(f"{base}/api/auth/current_user", headers=bearer) as resp:
        assert resp.status == 401
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": CLIENT_ID,
    }
    async with session.post(token_url, data=refresh) as resp:
        renewed = await resp.json()
        assert set(renewed) == {"access_token", "token_type", "expires_in"}
    bearer = {"Authorization": f"Bearer {renewed['access_token']}"}
    async with session.get(f"{base}/api/auth/current_user", headers=bearer) as resp:
        assert resp.status == 200
    revoked: list[str] = []
    auth_of(http_hub).on_revoke(revoked.append)
    async with session.post(
        token_url, data={"action": "revoke", "token": tokens["refresh_token"]}
    ) as resp:
        assert resp.status == 200
    assert len(revoked) == 1
    async with session.get(f"{base}/api/auth/current_user", headers=bearer) as resp:
        assert resp.status == 401
    async with session.post(token_url, data=refresh) as resp:
        assert resp.status == 400 and (await resp.json())["error"] == "invalid_grant"
    async with session.post(token_url, data={"action": "revoke", "token": "unknown"}) as resp:
        assert resp.status == 200
    async with session.post(token_url, data={"grant_type": "password", "username": "x"}) as resp:
        assert (await resp.json())["error"] == "unsupported_grant_type"
    async with session.post(token_url, data={"grant_type": "refresh_token"}) as resp:
        assert (await resp.json())["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"client_id": "not a url"}, 400, "Invalid client id"),
        ({"client_id": "ftp://client.example/"}, 400, "Invalid client id"),
        ({"redirect_uri": "http://evil.example/cb"}, 400, "Invalid redirect URI"),
        ({"redirect_uri": None}, 400, "Invalid redirect URI"),
        ({"handler": ["insecure_example", None]}, 404, "Unknown auth provider"),
    ],
)
async def test_login_flow_refuses_bad_clients(
    http_hub: Hub, session: aiohttp.ClientSession, body: dict[str, Any], status: int, message: str
) -> None:
    got_status, got = await _start_flow(session, server_of(http_hub).url, **body)
    assert (got_status, got) == (status, {"message": message})


async def test_home_assistant_app_client_ids(http_hub: Hub, session: aiohttp.ClientSession) -> None:
    base = server_of(http_hub).url
    for client_id in ("https://home-assistant.io/iOS", "https://home-assistant.io/android"):
        status, flow = await _start_flow(
            session, base, client_id=client_id, redirect_uri="homeassistant://auth-callback"
        )
        assert status == 200 and flow["type"] == "form"
    status, _ = await _start_flow(
        session, base, client_id="https://home-assistant.io/android", redirect_uri="evil://cb"
    )
    assert status == 400


async def test_flow_bad_inputs(
    http_hub: Hub, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    base = server_of(http_hub).url
    await add_user(http_hub, "staff1", "staff")
    async with session.post(f"{base}/auth/login_flow", data="{not json") as resp:
        assert resp.status == 400
    async with session.post(f"{base}/auth/login_flow", json=["a"]) as resp:
        assert resp.status == 400
    _, flow = await _start_flow(session, base)
    resp = await _step(session, base, flow["flow_id"], client_id="http://other.example/")
    assert resp.status == 400
    resp = await _step(session, base, flow["flow_id"], username=None)
    assert (await resp.json())["errors"] == {"base": "invalid_auth"}
    resp = await _step(session, base, "no-such-flow")
    assert resp.status == 404
    async with session.delete(f"{base}/auth/login_flow/{flow['flow_id']}") as resp:
        assert resp.status == 200
    resp = await _step(session, base, flow["flow_id"])
    assert resp.status == 404
    _, flow = await _start_flow(session, base)
    await clock.advance(601)
    resp = await _step(session, base, flow["flow_id"])
    assert resp.status == 404


async def test_lockout_over_http_and_stale_tokens_never_lock(
    http_hub: Hub, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """All requests come from 127.0.0.1: the user's own address."""
    base = server_of(http_hub).url
    user = await add_user(http_hub, "staff1", "staff")
    stale = await token_for(http_hub, user)
    await clock.advance(3600)  # the old app's access token has long expired
    for _ in range(3 * MAX_FAILURES):
        async with session.get(
            f"{base}/api/auth/current_user", headers={"Authorization": f"Bearer {stale}"}
        ) as resp:
            assert resp.status == 401
        async with session.post(
            f"{base}/auth/token",
            data={"grant_type": "refresh_token", "refresh_token": "stale", "client_id": CLIENT_ID},
        ) as resp:
            assert resp.status == 400
    tokens = await login(session, base, "staff1")  # the real user still logs in
    assert tokens["token_type"] == "Bearer"
    _, flow = await _start_flow(session, base)
    for _ in range(MAX_FAILURES):
        resp = await _step(session, base, flow["flow_id"], password="old password")
        assert (await resp.json())["errors"] == {"base": "invalid_auth"}
    resp = await _step(session, base, flow["flow_id"])
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) == LOCKOUT
    assert (await resp.json())["reason"] == "too_many_attempts"
    await clock.advance(LOCKOUT + 1)
    assert (await login(session, base, "staff1"))["token_type"] == "Bearer"


async def test_attacker_behind_trusted_proxy_does_not_lock_the_user(
    tmp_path: Path, clock: ManualClock
) -> None:
    """Behind a trusted reverse proxy, lockout follows X-Forwarded-For: the attacker's address
    is locked, the user's is not; the header is ignored from untrusted peers."""
    hub = await start_http_hub(tmp_path, clock, http="server_port: 0\ntrusted_proxies: [127.0.0.1]")
    try:
        await add_user(hub, "staff1", "staff")
        base = server_of(hub).url
        async with aiohttp.ClientSession(headers={"X-Forwarded-For": "203.0.113.66"}) as attacker:
            _, flow = await _start_flow(attacker, base)
            for _ in range(MAX_FAILURES):
                await _step(attacker, base, flow["flow_id"], password="guess")
            resp = await _step(attacker, base, flow["flow_id"])
            assert resp.status == 429
        async with aiohttp.ClientSession(
            headers={"X-Forwarded-For": "198.51.100.5, 203.0.113.66"}
        ) as user:
            # a client cannot pick its address by prepending hops: the proxy appends the real one
            _, flow = await _start_flow(user, base)
            assert (await _step(user, base, flow["flow_id"])).status == 429
        async with aiohttp.ClientSession(headers={"X-Forwarded-For": "192.168.1.20"}) as user:
            assert (await login(user, base, "staff1"))["token_type"] == "Bearer"
    finally:
        await hub.stop(timeout=1)


async def test_admin_endpoints(http_hub: Hub, session: aiohttp.ClientSession) -> None:
    base = server_of(http_hub).url
    admin = await add_user(http_hub, "admin", "admin")
    staff = await add_user(http_hub, "staff1", "staff")
    as_admin = {"Authorization": f"Bearer {await token_for(http_hub, admin)}"}
    as_staff = {"Authorization": f"Bearer {await token_for(http_hub, staff)}"}
    async with session.get(f"{base}/api/auth/users", headers=as_staff) as resp:
        assert resp.status == 403
    async with session.get(f"{base}/api/auth/users", headers=as_admin) as resp:
        assert [u["name"] for u in await resp.json()] == ["admin", "staff1"]
    new = {"name": "王芳", "role": "resident", "households": ["B01-U1-0101"], "password": PASSWORD}
    async with session.post(f"{base}/api/auth/users", json=new, headers=as_admin) as resp:
        assert resp.status == 201
        created = await resp.json()
    assert created["households"] == ["B01-U1-0101"] and "password" not in str(created)
    async with session.post(
        f"{base}/api/auth/users", json={**new, "role": "god"}, headers=as_admin
    ) as resp:
        assert resp.status == 400 and "role" in (await resp.json())["message"]
    async with session.post(f"{base}/api/auth/users", json=new, headers=as_admin) as resp:
        assert resp.status == 400 and "exists" in (await resp.json())["message"]
    async with session.post(
        f"{base}/api/auth/tokens",
        json={"user_id": created["id"], "name": "panel"},
        headers=as_admin,
    ) as resp:
        assert resp.status == 201
        token = await resp.json()
    resident_bearer = {"Authorization": f"Bearer {token['token']}"}
    async with session.get(f"{base}/api/auth/current_user", headers=resident_bearer) as resp:
        assert (await resp.json())["name"] == "王芳"
    async with session.get(f"{base}/api/auth/tokens", headers=as_admin) as resp:
        listed = await resp.json()
    assert [t["name"] for t in listed if t["type"] == "long_lived"] == ["panel"]
    assert all("token" not in t and "jwt_key" not in t for t in listed)
    async with session.post(
        f"{base}/api/auth/tokens", json={"user_id": "nobody", "name": "x"}, headers=as_admin
    ) as resp:
        assert resp.status == 400
    async with session.post(
        f"{base}/api/auth/tokens", json={"user_id": created["id"]}, headers=as_admin
    ) as resp:
        assert resp.status == 400 and "name" in (await resp.json())["message"]
    async with session.delete(f"{base}/api/auth/tokens/{token['id']}", headers=as_admin) as resp:
        assert resp.status == 200
    async with session.delete(f"{base}/api/auth/tokens/{token['id']}", headers=as_admin) as resp:
        assert resp.status == 404
    async with session.get(f"{base}/api/auth/current_user", headers=resident_bearer) as resp:
        assert resp.status == 401
    async with session.patch(
        f"{base}/api/auth/users/{created['id']}", json={"is_active": False}, headers=as_admin
    ) as resp:
        assert (await resp.json())["is_active"] is False
    async with session.patch(
        f"{base}/api/auth/users/{created['id']}", json={"password": "x"}, headers=as_admin
    ) as resp:
        assert resp.status == 400
    async with session.patch(
        f"{base}/api/auth/users/{created['id']}", json={"role": "admin"}, headers=as_admin
    ) as resp:
        assert resp.status == 400
    async with session.patch(
        f"{base}/api/auth/users/{created['id']}",
        json={"role": "guard", "households": []},
        headers=as_admin,
    ) as resp:
        assert (await resp.json())["role"] == "guard"
    async with session.patch(
        f"{base}/api/auth/users/{created['id']}", json={"name": "x"}, headers=as_admin
    ) as resp:
        assert resp.status == 400
    async with session.patch(
        f"{base}/api/auth/users/{admin.id}", json={"is_active": False}, headers=as_admin
    ) as resp:
        assert resp.status == 400 and "last active admin" in (await resp.json())["message"]
    async with session.patch(f"{base}/api/auth/users/nobody", json={}, headers=as_admin) as resp:
        assert resp.status == 404
    async with session.delete(f"{base}/api/auth/users/{admin.id}", headers=as_admin) as resp:
        assert resp.status == 400
    async with session.delete(f"{base}/api/auth/users/{created['id']}", headers=as_admin) as resp:
        assert resp.status == 200
    async with session.delete(f"{base}/api/auth/users/{created['id']}", headers=as_admin) as resp:
        assert resp.status == 404
