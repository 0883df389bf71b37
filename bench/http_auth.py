"""Cost of the HTTP server's per-request work: path guard, Origin check, Bearer JWT validation,
Access check and security headers, measured end to end over real sockets.

A hub with ``http`` (random port) and one staff account; a trivial handler registered at
``/bench/user`` (Access.USER) and ``/bench/public`` (Access.PUBLIC). Clients on the same loop
fire N sequential requests per route (and one concurrent batch), first without a token on the
public route, then with a valid token on the authenticated one; the difference is what
authentication and the policy add. Also times ``AuthManager.authenticate`` alone, one
argon2 password check, and a resident's ``Scope`` over 50,000 entities (filtering all of them;
deciding per event).

    .venv/bin/python bench/http_auth.py [--requests 2000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from shouwang.core.hub import Hub
from shouwang.integrations.auth import Access, AuthManager, User
from shouwang.integrations.auth.manager import hash_password, verify_password
from shouwang.integrations.http import HttpServer


async def _ok(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _timed(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], n: int
) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        async with session.get(url, headers=headers) as resp:
            await resp.read()
            assert resp.status == 200, resp.status
        times.append(time.perf_counter() - started)
    return times


def _report(name: str, times: list[float]) -> None:
    ordered = sorted(times)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    print(
        f"{name:32s} n={len(times):6d}  median {statistics.median(times) * 1e6:8.0f} us"
        f"  p99 {p99 * 1e6:8.0f} us  ({len(times) / sum(times):7.0f} req/s sequential)"
    )


def _scope_bench(hub: Hub, auth: AuthManager, entities: int = 50_000) -> None:
    """A resident's scope over a community-sized hub: 40 units, 2,000 household places,
    ``entities`` entities (each household's own, the rest on shared places)."""
    from shouwang.core.events import Event
    from shouwang.core.places import Place

    households = []
    for unit in range(40):
        unit_id = f"B{unit // 2:02d}-U{unit % 2 + 1}"
        hub.places.add(Place(unit_id, unit_id, "unit_entrance"))
        for room in range(50):
            household = f"{unit_id}-{room:04d}"
            hub.places.add(Place(household, household, "household", unit_id))
            households.append(household)
    for index in range(entities):
        entity_id = f"sensor.e{index}"
        hub.states.set(entity_id, "1")
        hub.places.bind(entity_id, households[index % len(households)])
    all_ids = [state.entity_id for state in hub.states.all()]
    resident = User("r", "r", "resident", frozenset({households[7]}))
    scope = auth.scope_for(resident)
    started = time.perf_counter()
    visible = scope.filter_entities(all_ids)
    elapsed = time.perf_counter() - started
    print(
        f"{'resident filter, all entities':32s} {len(all_ids):6d} entities in"
        f" {elapsed * 1e3:6.1f} ms ({len(visible)} visible)"
    )
    events = [
        Event("state_changed", {"entity_id": entity_id}, None, 0.0)
        for entity_id in all_ids[:10_000]
    ]
    started = time.perf_counter()
    for event in events:
        scope.can_read_event(event)
    per = (time.perf_counter() - started) / len(events)
    print(f"{'resident can_read_event':32s} {per * 1e6:8.2f} us per event")


async def main(requests: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "configuration.yaml").write_text("auth:\n", encoding="utf-8")
        hub = Hub(tmp)
        await hub.start()
        auth: AuthManager = hub.integrations.runtime("auth")
        server = HttpServer(auth, host="127.0.0.1", port=0)
        server.add_route("GET", "/bench/public", _ok, access=Access.PUBLIC)
        server.add_route("GET", "/bench/user", _ok, access=Access.USER)
        await server.start()
        user = await auth.create_user("bench", "staff", [], "bench password")
        _refresh, token = await auth.create_refresh_token(user, "http://bench/")
        bearer = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession() as session:
            await _timed(session, server.url + "/bench/public", {}, 200)  # warm up
            _report(
                "GET public (no token)",
                await _timed(session, server.url + "/bench/public", {}, requests),
            )
            _report(
                "GET user (Bearer JWT)",
                await _timed(session, server.url + "/bench/user", bearer, requests),
            )
            started = time.perf_counter()
            batches = requests // concurrency
            for _ in range(batches):
                await asyncio.gather(
                    *(
                        _timed(session, server.url + "/bench/user", bearer, 1)
                        for _ in range(concurrency)
                    )
                )
            elapsed = time.perf_counter() - started
            label = f"GET user, {concurrency} concurrent"
            print(f"{label:32s} {batches * concurrency / elapsed:8.0f} req/s")
        started = time.perf_counter()
        for _ in range(requests):
            auth.authenticate(token)
        per = (time.perf_counter() - started) / requests
        print(f"{'AuthManager.authenticate':32s} {per * 1e6:8.1f} us per call")
        hashed = hash_password("bench password")
        started = time.perf_counter()
        for _ in range(5):
            verify_password(hashed, "bench password")
        per_check = (time.perf_counter() - started) / 5
        print(f"{'argon2 verify (executor)':32s} {per_check * 1e3:8.1f} ms per check")
        _scope_bench(hub, auth)
        await server.stop()
        await hub.stop(timeout=1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    options = parser.parse_args()
    asyncio.run(main(options.requests, options.concurrency))
    sys.exit(0)
