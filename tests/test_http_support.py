"""Helpers for HTTP and auth tests (no tests here): a hub with the HTTP server on a random port,
accounts, and Home Assistant's login flow driven as a client would."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import aiohttp

from shouwang.core.clock import ManualClock
from shouwang.core.hub import Hub
from shouwang.integrations.auth import AuthManager, User
from shouwang.integrations.http import HttpServer

CLIENT_ID = "http://client.example/"
REDIRECT_URI = "http://client.example/auth_callback"
PASSWORD = "correct horse battery"


def write_config(config_dir: Path, text: str) -> None:
    """``configuration.yaml`` (a tiny file written before the hub starts)."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(text, encoding="utf-8")


async def start_http_hub(
    tmp_path: Path, clock: ManualClock, extra: str = "", http: str = "server_port: 0"
) -> Hub:
    """A started hub on ``tmp_path`` with ``http:`` listening on 127.0.0.1 (random port)."""
    config = textwrap.dedent(
        """\
        shouwang:
          time_zone: Asia/Shanghai
        http:
          server_host: 127.0.0.1
        """
    )
    config += textwrap.indent(textwrap.dedent(http), "  ") + "\n" + textwrap.dedent(extra)
    write_config(tmp_path, config)
    hub = Hub(tmp_path, clock=clock)
    await hub.start()
    return hub


def server_of(hub: Hub) -> HttpServer:
    server = hub.integrations.runtime("http")
    assert isinstance(server, HttpServer)
    return server


def auth_of(hub: Hub) -> AuthManager:
    auth = hub.integrations.runtime("auth")
    assert isinstance(auth, AuthManager)
    return auth


async def add_user(
    hub: Hub, name: str, role: str, households: tuple[str, ...] = (), password: str = PASSWORD
) -> User:
    return await auth_of(hub).create_user(name, role, households, password)


async def login(
    session: aiohttp.ClientSession,
    base: str,
    username: str,
    password: str = PASSWORD,
    client_id: str = CLIENT_ID,
) -> dict[str, Any]:
    """The whole login flow; returns the token response (asserting each step worked)."""
    async with session.post(
        f"{base}/auth/login_flow",
        json={"client_id": client_id, "handler": ["homeassistant", None],
              "redirect_uri": REDIRECT_URI if client_id == CLIENT_ID else client_id},
    ) as resp:  # fmt: skip
        assert resp.status == 200, await resp.text()
        flow = await resp.json()
    async with session.post(
        f"{base}/auth/login_flow/{flow['flow_id']}",
        json={"client_id": client_id, "username": username, "password": password},
    ) as resp:
        step = await resp.json()
        assert step["type"] == "create_entry", step
    async with session.post(
        f"{base}/auth/token",
        data={"grant_type": "authorization_code", "code": step["result"], "client_id": client_id},
    ) as resp:
        assert resp.status == 200, await resp.text()
        tokens: dict[str, Any] = await resp.json()
    return tokens


async def token_for(hub: Hub, user: User) -> str:
    """An access token for ``user`` without the HTTP login (a fresh session)."""
    _refresh, access = await auth_of(hub).create_refresh_token(user, CLIENT_ID)
    return access


async def start_auth_hub(tmp_path: Path, clock: ManualClock) -> Hub:
    """A started hub with accounts but no HTTP server (tests build their own servers)."""
    write_config(tmp_path, "auth:\n")
    hub = Hub(tmp_path, clock=clock)
    await hub.start()
    return hub


def bare_server(hub: Hub, **options: Any) -> HttpServer:
    """An HTTP server on 127.0.0.1, random port, not started (add routes, then start it)."""
    server = HttpServer(auth_of(hub), host="127.0.0.1", port=0, **options)
    hub.on_stop(server.stop)
    return server
