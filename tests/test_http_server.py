"""The HTTP server: listening with the hub, deny-by-default routes, security headers, Origin
checks, CORS, client address behind trusted proxies, path attacks, static files."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from shouwang.core.clock import ManualClock
from shouwang.integrations.auth import Access

from .test_http_support import (
    add_user,
    bare_server,
    server_of,
    start_auth_hub,
    start_http_hub,
    token_for,
)


async def test_server_listens_after_start_and_stops_with_hub(
    tmp_path: Path, clock: ManualClock
) -> None:
    hub = await start_http_hub(tmp_path, clock)
    server = server_of(hub)
    assert server.port > 0
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{server.url}/auth/providers") as resp:
            assert resp.status == 200
            body = await resp.json()
            assert body["providers"][0]["type"] == "homeassistant"
            assert resp.headers["X-Frame-Options"] == "DENY"
        await hub.stop(timeout=1)
        with pytest.raises(aiohttp.ClientConnectionError):
            async with session.get(f"{server.url}/auth/providers"):
                pass


async def _who(request: web.Request) -> web.Response:
    user = request["user"]
    return web.Response(text=user.name if user else "anonymous")


async def test_route_access_enforced(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start_auth_hub(tmp_path, clock)
    server = bare_server(hub)
    server.add_route("GET", "/t/admin", _who, access=Access.ADMIN)
    server.add_route("GET", "/t/user", _who, access=Access.USER)
    server.add_route("GET", "/t/public", _who, access=Access.PUBLIC)
    server.app.router.add_get("/t/undeclared", _who)
    await server.start()
    admin = await add_user(hub, "admin", "admin")
    resident = await add_user(hub, "r1", "resident", ("B01-U1-0101",))
    try:
        async with aiohttp.ClientSession() as session:
            url = server.url
            async with session.get(f"{url}/t/admin") as resp:
                assert resp.status == 401
                assert resp.headers["WWW-Authenticate"] == "Bearer"
            async with session.get(f"{url}/t/public") as resp:
                assert resp.status == 200
                assert await resp.text() == "anonymous"
            headers = {"Authorization": f"Bearer {await token_for(hub, resident)}"}
            async with session.get(f"{url}/t/admin", headers=headers) as resp:
                assert resp.status == 403
            async with session.get(f"{url}/t/user", headers=headers) as resp:
                assert resp.status == 200
                assert await resp.text() == "r1"
            async with session.get(f"{url}/t/public", headers=headers) as resp:
                assert await resp.text() == "r1"
            async with session.get(f"{url}/t/undeclared", headers=headers) as resp:
                assert resp.status == 403
            headers = {"Authorization": f"Bearer {await token_for(hub, admin)}"}
            async with session.get(f"{url}/t/admin", headers=headers) as resp:
                assert resp.status == 200
            async with session.head(f"{url}/t/admin", headers=headers) as resp:
                assert resp.status == 200
            async with session.get(f"{url}/t/undeclared", headers=headers) as resp:
                assert resp.status == 403
            bad = {"Authorization": "Bearer x.y.z"}
            async with session.get(f"{url}/t/admin", headers=bad) as resp:
                assert resp.status == 401
            async with session.get(f"{url}/t/public", headers=bad) as resp:
                assert await resp.text() == "anonymous"
            async with session.get(
                f"{url}/t/admin", headers={"Authorization": "Basic eDp5"}
            ) as resp:
                assert resp.status == 401
    finally:
        await hub.stop(timeout=1)


def test_add_route_requires_an_access_level(tmp_path: Path) -> None:
    from shouwang.integrations.http.server import HttpServer

    server = HttpServer(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="access must be an Access level"):
        server.add_route("GET", "/x", _who, access="public")  # type: ignore[arg-type]
