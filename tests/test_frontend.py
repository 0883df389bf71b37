"""The frontend integration without a browser: the pages and assets it serves (and what it
never serves), its configuration errors, and its endpoints for the apps — visitor passes and
door-station calls scoped per account — plus the identity it gives the intercom, so a
resident opens only the door that is calling them. The browser tests are in tests/browser/."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from shouwang.core.clock import ManualClock
from shouwang.core.hub import Hub

from .browser.community import (
    HAS_VISITOR_PASS,
    OTHER_HOUSEHOLD,
    RESIDENT_HOUSEHOLD,
    Community,
    start_community,
)

needs_passes = pytest.mark.skipif(not HAS_VISITOR_PASS, reason="visitor_pass not installed")


@pytest.fixture
async def community(tmp_path: Path) -> AsyncIterator[Community]:
    started = await start_community(tmp_path, passwords=False)
    yield started
    await started.hub.stop(timeout=1)


async def request(
    community: Community,
    method: str,
    path: str,
    role: str | None = None,
    *,
    body: Any = None,
) -> tuple[int, dict[str, str], bytes]:
    headers = community.headers(role) if role else {}
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method, community.url + path, headers=headers, json=body, allow_redirects=False
        ) as response,
    ):  # fmt: skip
        return response.status, dict(response.headers), await response.read()


# -- pages and assets ----------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/console", "/panel"])
async def test_pages_are_served_with_security_headers(community: Community, path: str) -> None:
    status, headers, body = await request(community, "GET", path)
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert b'<script type="module" src="/frontend/js/' in body
    assert b"<script>" not in body  # nothing inline: the CSP would block it


async def test_root_redirects_to_the_console(community: Community) -> None:
    status, headers, _ = await request(community, "GET", "/")
    assert status == 302 and headers["Location"] == "/console"


@pytest.mark.parametrize(
    "path",
    ["/frontend/js/console.js", "/frontend/css/app.css", "/frontend/i18n/zh-CN.json"],
)
async def test_assets_are_public(community: Community, path: str) -> None:
    status, _, body = await request(community, "GET", path)
    assert status == 200 and body


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/frontend/package.json", 404),
        ("/frontend/src/editor-entry.js", 404),
        ("/frontend/node_modules/codemirror/package.json", 404),
        ("/frontend/js/../package.json", 400),
        ("/frontend/js/%2e%2e/package.json", 400),
        ("/frontend/i18n/../../integrations/auth/manager.py", 400),
        ("/frontend/js/.hidden", 404),
    ],
)
async def test_nothing_else_is_served(community: Community, path: str, expected: int) -> None:
    # a raw request: HTTP clients would tidy the dot segments away before sending
    parts = urlsplit(community.url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    assert int(status_line.split()[1]) == expected, (path, status_line)


async def test_missing_folder_fails_setup_and_the_hub_runs(
    tmp_path: Path, clock: ManualClock
) -> None:
    (tmp_path / "configuration.yaml").write_text(
        "auth:\nhttp:\n  server_host: 127.0.0.1\n  server_port: 0\n"
        "frontend:\n  path: no/such/folder\n",
        encoding="utf-8",
    )
    hub = Hub(tmp_path, clock=clock)
    await hub.start()
    try:
        assert "frontend" not in hub.integrations.loaded
        assert "frontend" in hub.integrations.failed
        assert "http" in hub.integrations.loaded
    finally:
        await hub.stop(timeout=1)


async def test_bad_option_names_the_field(tmp_path: Path, clock: ManualClock) -> None:
    (tmp_path / "configuration.yaml").write_text(
        "auth:\nhttp:\n  server_port: 0\nfrontend:\n  root_redirect: maybe\n", encoding="utf-8"
    )
    hub = Hub(tmp_path, clock=clock)
    await hub.start()
    try:
        assert "frontend" not in hub.integrations.loaded
        assert "root_redirect" in str(hub.integrations.failed["frontend"])
    finally:
        await hub.stop(timeout=1)


# -- visitor passes ------------------------------------------------------------------------------
@needs_passes
async def test_resident_issues_lists_and_revokes_own_passes(community: Community) -> None:
    status, _, body = await request(
        community, "POST", "/api/shouwang/panel/passes", "resident",
        body={"visitor_name": "张伟", "phone": "13800138000"},
    )  # fmt: skip
    assert status == 201, body
    created = json.loads(body)
    assert created["host_household"] == RESIDENT_HOUSEHOLD
    assert created["qr_svg"].startswith("data:image/svg+xml")
    assert created["phone"] != "13800138000"  # masked
    assert "P-GATE-N" in created["places"] and "B01-U1" in created["places"]
    # staff issue one for the other household
    status, _, body = await request(
        community, "POST", "/api/shouwang/panel/passes", "staff",
        body={"visitor_name": "李娜", "host_household": OTHER_HOUSEHOLD, "places": ["P-GATE-S"]},
    )  # fmt: skip
    assert status == 201, body
    other = json.loads(body)
    _, _, body = await request(community, "GET", "/api/shouwang/panel/passes", "resident")
    mine = json.loads(body)["passes"]
    assert [p["pass_id"] for p in mine] == [created["pass_id"]]
    _, _, body = await request(community, "GET", "/api/shouwang/panel/passes", "guard")
    assert len(json.loads(body)["passes"]) == 2
    # another household's pass does not exist for the resident
    status, _, _ = await request(
        community, "DELETE", f"/api/shouwang/panel/passes/{other['pass_id']}", "resident"
    )
    assert status == 404
    status, _, body = await request(
        community, "DELETE", f"/api/shouwang/panel/passes/{created['pass_id']}", "resident"
    )
    assert status == 200 and json.loads(body)["status"] == "revoked"


@needs_passes
@pytest.mark.parametrize(
    ("role", "body", "status", "says"),
    [
        (
            "resident",
            {"visitor_name": "x", "host_household": OTHER_HOUSEHOLD},
            403,
            "own household",
        ),
        ("resident", {"visitor_name": "x", "phone": "12"}, 400, "phone"),
        ("resident", {"phone": "13800138000"}, 400, "visitor_name"),
        ("resident", [1, 2], 400, "JSON object"),
        (
            "staff",
            {"visitor_name": "x", "host_household": "NOPE", "places": ["P-GATE-N"]},
            400,
            "household",
        ),
    ],
)
async def test_bad_pass_requests(
    community: Community, role: str, body: Any, status: int, says: str
) -> None:
    got, _, answer = await request(community, "POST", "/api/shouwang/panel/passes", role, body=body)
    assert got == status, answer
    assert says in json.loads(answer)["message"]


async def test_pass_endpoints_need_a_login(community: Community) -> None:
    status, _, _ = await request(community, "GET", "/api/shouwang/panel/passes")
    assert status == 401
    status, _, _ = await request(community, "GET", "/api/shouwang/panel/calls/x")
    assert status == 401


# -- intercom calls ------------------------------------------------------------------------------
async def ring(community: Community, household: str) -> str:
    response = await community.post(
        "/api/services/intercom/call?return_response",
        "admin",
        {"entity_id": "intercom.b01_u1_door", "target": household},
    )
    return str(response["service_response"]["calls"][0]["call_id"])


async def test_call_details_and_snapshot_for_those_it_is_about(community: Community) -> None:
    mine = await ring(community, RESIDENT_HOUSEHOLD)
    theirs = await ring(community, OTHER_HOUSEHOLD)
    status, _, body = await request(
        community, "GET", f"/api/shouwang/panel/calls/{mine}", "resident"
    )
    assert status == 200
    details = json.loads(body)
    assert details["caller_name"] == "1号楼1单元门口机"
    assert details["caller_place"] == "1号楼1单元"
    assert details["household"] == RESIDENT_HOUSEHOLD
    status, headers, image = await request(
        community, "GET", f"/api/shouwang/panel/calls/{mine}/snapshot", "resident"
    )
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    assert image.startswith(b"\xff\xd8")
    for path in (
        f"/api/shouwang/panel/calls/{theirs}",
        f"/api/shouwang/panel/calls/{theirs}/snapshot",
    ):
        status, _, _ = await request(community, "GET", path, "resident")
        assert status == 404
    status, _, _ = await request(
        community, "GET", f"/api/shouwang/panel/calls/{theirs}/snapshot", "guard"
    )
    assert status == 200
    status, _, _ = await request(community, "GET", "/api/shouwang/panel/calls/nope", "guard")
    assert status == 404


async def test_call_without_a_camera_has_no_snapshot(community: Community) -> None:
    call_id = await ring(community, RESIDENT_HOUSEHOLD)
    await community.hub.entities.remove("camera.b01_u1_door")
    status, _, _ = await request(
        community, "GET", f"/api/shouwang/panel/calls/{call_id}/snapshot", "guard"
    )
    assert status == 404


async def test_resident_opens_only_the_door_calling_them(community: Community) -> None:
    other = await ring(community, OTHER_HOUSEHOLD)
    status, _, body = await request(
        community, "POST", "/api/services/intercom/unlock", "resident",
        body={"entity_id": "intercom.b01_u1_0101", "call_id": other},
    )  # fmt: skip
    assert status >= 400, body  # their indoor station is not in that call
    assert community.hub.states.get("lock.b01_u1_entrance").state == "locked"
    mine = await ring(community, RESIDENT_HOUSEHOLD)
    status, _, body = await request(
        community, "POST", "/api/services/intercom/unlock", "resident",
        body={"entity_id": "intercom.b01_u1_0101", "call_id": mine},
    )  # fmt: skip
    assert status == 200, body
    assert community.hub.states.get("lock.b01_u1_entrance").state == "unlocked"
    manager = community.hub.integrations.runtime("intercom")
    assert manager.calls[mine].unlocked_by == ["user:resident1"]


async def test_routes_and_their_access(community: Community) -> None:
    """Every route this integration adds, with the access it declares; the data ones refuse
    anonymous callers and the public ones are pages and assets only."""
    server = community.hub.integrations.runtime("http")
    prefixes = ("/console", "/panel", "/frontend/", "/api/shouwang/panel/")
    mine = {
        (method, path): access.value if access else None
        for method, path, access in server.routes()
        if method != "HEAD" and (path == "/" or path.startswith(prefixes))
    }
    expected = {
        ("GET", "/"): "public",
        ("GET", "/console"): "public",
        ("GET", "/panel"): "public",
        **{
            ("GET", f"/frontend/{name}{tail}"): "public"
            for name in ("js", "css", "i18n", "vendor")
            for tail in ("", "/{path}")
        },
        ("GET", "/api/shouwang/panel/calls/{call_id}"): "user",
        ("GET", "/api/shouwang/panel/calls/{call_id}/snapshot"): "user",
    }
    if HAS_VISITOR_PASS:
        expected |= {
            ("GET", "/api/shouwang/panel/passes"): "user",
            ("POST", "/api/shouwang/panel/passes"): "user",
            ("DELETE", "/api/shouwang/panel/passes/{pass_id}"): "user",
        }
    assert mine == expected
    for method, path in expected:
        if expected[(method, path)] != "user":
            continue
        concrete = path.replace("{call_id}", "c1").replace("{pass_id}", "p1")
        status, _, body = await request(community, method, concrete)
        assert status == 401, (method, path, body)
