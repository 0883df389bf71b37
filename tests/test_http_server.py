"""The HTTP server: listening with the hub, deny-by-default routes, security headers, Origin
checks, CORS, client address behind trusted proxies, path attacks, static files."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

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


def test_add_route_requires_an_access_level(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from shouwang.integrations.http.server import HttpServer

    server = HttpServer(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="access must be an Access level"):
        server.add_route("GET", "/x", _who, access="public")  # type: ignore[arg-type]
    server.add_static("/www", tmp_path / "missing")
    assert "does not exist" in caplog.text


async def test_routes_cannot_be_added_once_listening(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start_http_hub(tmp_path, clock)
    try:
        with pytest.raises(RuntimeError, match="already listening"):
            server_of(hub).add_route("GET", "/late", _who, access=Access.PUBLIC)
        listed = list(server_of(hub).routes())
        assert ("POST", "/auth/token", Access.PUBLIC) in listed
        assert all(access is not None for _m, _p, access in listed)
    finally:
        await hub.stop(timeout=1)


async def _echo(request: web.Request) -> web.Response:
    return web.Response(text=f"{request.method} {request.path} {request['client_ip']}")


async def _security_server(tmp_path: Path, clock: ManualClock, **options: object):  # type: ignore[no-untyped-def]
    hub = await start_auth_hub(tmp_path, clock)
    server = bare_server(hub, **options)
    server.add_route("GET", "/t/public", _echo, access=Access.PUBLIC)
    server.add_route("POST", "/t/public", _echo, access=Access.PUBLIC)
    server.add_route("GET", "/t/item/{name}", _echo, access=Access.PUBLIC)
    server.add_route("GET", "/t/user", _echo, access=Access.USER)
    server.add_route("DELETE", "/t/user", _echo, access=Access.USER)
    static = tmp_path / "www"
    (static / "sub").mkdir(parents=True)
    (static / "index.html").write_text("<h1>home</h1>", encoding="utf-8")
    (static / "sub" / "page.html").write_text("page", encoding="utf-8")
    (static / "app.js").write_text("console.log(1)", encoding="utf-8")
    (static / ".env").write_text("SECRET=1", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("TOP SECRET", encoding="utf-8")
    (static / "escape").symlink_to(tmp_path / "secret.txt")
    server.add_static("/static", static)
    await server.start()
    return hub, server


async def test_security_headers_on_every_response(tmp_path: Path, clock: ManualClock) -> None:
    hub, server = await _security_server(tmp_path, clock)
    try:
        async with aiohttp.ClientSession() as session:
            for path, status in (
                ("/t/public", 200),
                ("/t/user", 401),
                ("/nope", 404),
                ("/static/app.js", 200),
                ("/a/%2e%2e/b", 400),
            ):
                async with session.get(URL(server.url + path, encoded=True)) as resp:
                    assert resp.status == status, path
                    headers = resp.headers
                    assert headers["X-Content-Type-Options"] == "nosniff"
                    assert headers["X-Frame-Options"] == "DENY"
                    assert headers["Referrer-Policy"] == "no-referrer"
                    csp = headers["Content-Security-Policy"]
                    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
                    assert "script-src 'self'" in csp and "unsafe-eval" not in csp
                    assert headers["Server"] == "Shouwang"
                    assert "Strict-Transport-Security" not in headers
    finally:
        await hub.stop(timeout=1)


async def test_origin_check_on_state_changing_requests(tmp_path: Path, clock: ManualClock) -> None:
    hub, server = await _security_server(
        tmp_path, clock, cors_allowed_origins=["https://console.example.org"]
    )
    user = await add_user(hub, "staff1", "staff")
    bearer = {"Authorization": f"Bearer {await token_for(hub, user)}"}
    url = server.url
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(url + "/t/public") as resp:  # no Origin: not a browser
                assert resp.status == 200
            same = {"Origin": url}
            async with session.post(url + "/t/public", headers=same) as resp:
                assert resp.status == 200
            for foreign in (
                "http://evil.example",
                "null",
                f"http://evil.example@{url[7:]}",
                url + ".evil.example",
            ):
                async with session.post(url + "/t/public", headers={"Origin": foreign}) as resp:
                    assert resp.status == 403, foreign
                async with session.delete(
                    url + "/t/user", headers={**bearer, "Origin": foreign}
                ) as resp:
                    assert resp.status == 403, foreign
            async with session.get(
                url + "/t/public", headers={"Origin": "http://evil.example"}
            ) as resp:
                assert resp.status == 200  # reads are not state changes (and get no CORS grant)
                assert "Access-Control-Allow-Origin" not in resp.headers
            async with session.post(
                url + "/t/public", headers={"Sec-Fetch-Site": "cross-site"}
            ) as resp:
                assert resp.status == 403
            ws_upgrade = {
                "Origin": "http://evil.example",
                "Upgrade": "websocket",
                "Connection": "Upgrade",
            }
            async with session.get(url + "/t/public", headers=ws_upgrade) as resp:
                assert resp.status == 403
            allowed = {"Origin": "https://console.example.org"}
            async with session.delete(url + "/t/user", headers={**bearer, **allowed}) as resp:
                assert resp.status == 200
                assert resp.headers["Access-Control-Allow-Origin"] == "https://console.example.org"
            preflight = {**allowed, "Access-Control-Request-Method": "DELETE"}
            async with session.options(url + "/t/user", headers=preflight) as resp:
                assert resp.status == 200
                assert "Authorization" in resp.headers["Access-Control-Allow-Headers"]
                assert "DELETE" in resp.headers["Access-Control-Allow-Methods"]
            preflight = {"Origin": "http://evil.example", "Access-Control-Request-Method": "DELETE"}
            async with session.options(url + "/t/user", headers=preflight) as resp:
                assert resp.status == 403
    finally:
        await hub.stop(timeout=1)


PATH_ATTACKS = [
    "/static/../secret.txt",
    "/static/%2e%2e/secret.txt",
    "/static/%2E%2E/secret.txt",
    "/static/.%2e/secret.txt",
    "/static/%2e./secret.txt",
    "/static/sub/../../secret.txt",
    "/static/..%2fsecret.txt",
    "/static/..%2Fsecret.txt",
    "/static/%2e%2e%2fsecret.txt",
    "/static/..%5csecret.txt",
    "/static/..\\secret.txt",
    "/static/%252e%252e/secret.txt",
    "/static//etc/passwd",
    "//static/app.js",
    "/static/./app.js",
    "/static/%2e/app.js",
    "/static/app.js%00.html",
    "/t/item/%2e%2e",
    "/t/item/a%2fb",
]


@pytest.mark.parametrize("path", PATH_ATTACKS)
async def test_path_attacks_rejected(tmp_path: Path, clock: ManualClock, path: str) -> None:
    hub, server = await _security_server(tmp_path, clock)
    try:
        reader, writer = await __import__("asyncio").open_connection("127.0.0.1", server.port)
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        response = await reader.read()
        writer.close()
        status_line = response.split(b"\r\n", 1)[0]
        assert status_line.split()[1] in (b"400", b"404"), (path, status_line)
        assert b"TOP SECRET" not in response and b"root:" not in response
    finally:
        await hub.stop(timeout=1)


async def test_static_files_stay_in_their_folder(tmp_path: Path, clock: ManualClock) -> None:
    hub, server = await _security_server(tmp_path, clock)
    try:
        async with aiohttp.ClientSession() as session:
            for path, status, body in (
                ("/static/app.js", 200, "console.log(1)"),
                ("/static/", 200, "<h1>home</h1>"),
                ("/static", 200, "<h1>home</h1>"),
                ("/static/sub", 404, None),  # a folder without index.html
                ("/static/sub/page.html", 200, "page"),
                ("/static/escape", 404, None),  # a symlink out of the folder
                ("/static/.env", 404, None),
                ("/static/missing.js", 404, None),
            ):
                async with session.get(server.url + path) as resp:
                    assert resp.status == status, path
                    if body is not None:
                        assert await resp.text() == body
            async with session.get(server.url + "/static/app.js") as resp:
                assert resp.headers["Content-Type"].startswith(
                    ("application/javascript", "text/javascript")
                )
    finally:
        await hub.stop(timeout=1)


def test_unsafe_path_rules() -> None:
    from shouwang.integrations.http.security import unsafe_path

    for ok in (
        "/",
        "/api/",
        "/api/states/lock.gate_north",
        "/api/states/%E5%8C%97",
        "/a/b?x=../..",
        "/a/..b/c",
        "/a/b..",
        "/a/.well-known",
    ):
        assert unsafe_path(ok) is None, ok
    for bad in ("a", "/a//b", "/a/../b", "/a/%2E%2e/b", "/a%2fb", "/a/%00", "/a\x01", "/%25%32%65"):
        assert unsafe_path(bad) is not None, bad


async def test_client_address_behind_trusted_proxy(tmp_path: Path, clock: ManualClock) -> None:
    hub, server = await _security_server(tmp_path, clock, trusted_proxies=["127.0.0.0/8"])
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(
                server.url + "/t/public", headers={"X-Forwarded-For": "1.2.3.4, 10.9.8.7"}
            ) as resp:
                assert (await resp.text()).endswith(" 10.9.8.7")
            async with session.get(
                server.url + "/t/public", headers={"X-Forwarded-For": "not-an-ip"}
            ) as resp:
                assert (await resp.text()).endswith(" not-an-ip")
            async with session.get(server.url + "/t/public") as resp:
                assert (await resp.text()).endswith(" 127.0.0.1")
    finally:
        await hub.stop(timeout=1)
    hub, server = await _security_server(tmp_path / "b", clock)
    try:
        # an untrusted peer: the header is ignored
        async with aiohttp.ClientSession(headers={"X-Forwarded-For": "1.2.3.4"}) as session:
            resp = await session.get(server.url + "/t/public")
            assert (await resp.text()).endswith(" 127.0.0.1")
    finally:
        await hub.stop(timeout=1)


async def test_port_in_use_is_reported_and_hub_keeps_running(
    tmp_path: Path, clock: ManualClock
) -> None:
    first = await start_http_hub(tmp_path / "one", clock)
    try:
        port = server_of(first).port
        second = await start_http_hub(tmp_path / "two", clock, http=f"server_port: {port}")
        try:
            note = second.states.get("persistent_notification.http_failed")
            assert note is not None and str(port) in note.attributes["message"]
            assert second.state.value == "running"
        finally:
            await second.stop(timeout=1)
    finally:
        await first.stop(timeout=1)


async def test_bad_http_config_names_the_field(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start_http_hub(
        tmp_path, clock, http="server_port: 70000\ntrusted_proxies: [nonsense]"
    )
    try:
        assert "http" in hub.integrations.failed
        assert hub.loaded_config is not None
        errors = "\n".join(map(str, hub.loaded_config.errors))
        assert "server_port" in errors and "configuration.yaml:" in errors
        assert "nonsense" in errors
    finally:
        await hub.stop(timeout=1)


async def test_https_with_ssl_config(tmp_path: Path, clock: ManualClock) -> None:
    import datetime as dt
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    hub = await start_http_hub(
        tmp_path, clock, http="server_port: 0\nssl: {certfile: cert.pem, keyfile: key.pem}"
    )
    try:
        server = server_of(hub)
        assert server.url.startswith("https://")
        context = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"https://localhost:{server.port}/auth/providers", ssl=context) as resp,
        ):
            assert resp.status == 200
            assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        await hub.stop(timeout=1)
    (tmp_path / "key.pem").write_text("broken", encoding="utf-8")
    hub = await start_http_hub(
        tmp_path, clock, http="server_port: 0\nssl: {certfile: cert.pem, keyfile: key.pem}"
    )
    try:
        assert "http" in hub.integrations.failed
    finally:
        await hub.stop(timeout=1)
