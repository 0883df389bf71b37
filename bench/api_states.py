"""API benchmarks (Shouwang only; Home Assistant's figure is quoted, not run here).

1. ``GET /api/states`` with 50,000 entities: time and body size, first request (states just
   written, nothing cached) and warm repeats, as an admin (the whole array from the state
   machine's cached JSON) and as a resident (filtered by scope, entity by entity). Issue #6
   quotes Home Assistant at 0.17 s for an 18.9 MB body the first time.
2. 1,000 concurrent WebSocket clients, each a resident subscribed to ``state_changed`` and
   receiving only their own household's events: delivery latency (state written in the hub
   -> message parsed by the client, both on this machine's clock) p50/p99/max, and the hub's
   RSS.

The hub runs in a child process (real HTTP server on a free port, real tokens); the clients
run in this process, so neither's CPU time is counted in the other's. Standard library plus
aiohttp and orjson (the hub's own dependencies).

    .venv/bin/python bench/api_states.py                       # both parts, default sizes
    .venv/bin/python bench/api_states.py --ws-clients 0        # REST only
    .venv/bin/python bench/api_states.py --entities 5000 --ws-clients 100 --events 500

Prints one JSON object with every number.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

HA_SECONDS = 0.17
HA_MEGABYTES = 18.9

CONFIG = """\
shouwang:
  time_zone: Asia/Shanghai
auth:
http:
  server_host: 127.0.0.1
  server_port: 0
api:
"""

# about the size of a Home Assistant sensor's attributes
ATTRIBUTES = {
    "state_class": "measurement",
    "unit_of_measurement": "°C",
    "device_class": "temperature",
    "friendly_name": "1号楼1单元 温度传感器",
    "place_id": "b01-u1",
    "icon": "mdi:thermometer",
}


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- the hub (child process) -------------------------------------------------------------------
def serve(conn: Connection, config_dir: str, entities: int, households: int) -> None:
    raise_fd_limit()
    asyncio.run(_serve(conn, Path(config_dir), entities, households))


async def _serve(conn: Connection, config_dir: Path, entities: int, households: int) -> None:
    from shouwang.core.hub import Hub
    from shouwang.core.places import Place

    (config_dir / "configuration.yaml").write_text(CONFIG, encoding="utf-8")
    hub = Hub(config_dir)
    await hub.start()
    http = hub.integrations.runtime("http")
    auth = hub.integrations.runtime("auth")
    admin = await auth.create_user("bench-admin", "admin")
    admin_token, _ = await auth.create_long_lived_token(admin.id, "bench")
    resident_tokens = []
    for number in range(households):
        household = f"h{number:04d}"
        hub.places.add(Place(household, f"Room {number}", "household"))
        hub.states.set(
            f"lock.door_{number:04d}",
            "locked",
            {"friendly_name": f"Door {number}", "household_id": household},
        )
        user = await auth.create_user(f"resident-{number}", "resident", [household])
        token, _ = await auth.create_long_lived_token(user.id, "bench")
        resident_tokens.append(token)
    for number in range(entities):
        hub.states.set(f"sensor.bench_{number:05d}", str(number % 40), ATTRIBUTES)
    conn.send({"port": http.port, "admin": admin_token, "residents": resident_tokens})
    loop = asyncio.get_running_loop()
    while True:
        command = await loop.run_in_executor(None, conn.recv)
        if command["do"] == "stop":
            break
        if command["do"] == "rss":
            conn.send({"rss_mb": rss_mb()})
        elif command["do"] == "fire":
            await _fire(hub, command["events"], command["rate"], households)
            conn.send({"rss_mb": rss_mb()})
    await hub.stop(timeout=5)


async def _fire(hub: Any, events: int, rate: float, households: int) -> None:
    """``events`` state changes, round-robin over the households' doors, at ``rate`` per s."""
    start = time.perf_counter()
    for sequence in range(events):
        due = start + sequence / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        number = sequence % households
        hub.states.set(
            f"lock.door_{number:04d}",
            "unlocked" if sequence // households % 2 == 0 else "locked",
            {
                "friendly_name": f"Door {number}",
                "household_id": f"h{number:04d}",
                "sent_at": time.time(),
                "sequence": sequence,
            },
        )


# -- REST (this process) -------------------------------------------------------------------------
def get_states(port: int, token: str) -> tuple[float, int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    start = time.perf_counter()
    connection.request("GET", "/api/states", headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - start
    connection.close()
    assert response.status == 200, (response.status, body[:200])
    return elapsed, len(body)


def rest(port: int, admin: str, resident: str | None, repeats: int) -> dict[str, Any]:
    first, size = get_states(port, admin)
    warm = [get_states(port, admin)[0] for _ in range(repeats)]
    result: dict[str, Any] = {
        "admin_first_s": round(first, 4),
        "admin_warm_median_s": round(statistics.median(warm), 4),
        "body_mb": round(size / 1e6, 2),
        "home_assistant_first_s": HA_SECONDS,
        "home_assistant_body_mb": HA_MEGABYTES,
    }
    if resident is not None:
        times = [get_states(port, resident) for _ in range(repeats)]
        result["resident_scoped_median_s"] = round(statistics.median(t for t, _ in times), 4)
        result["resident_body_bytes"] = times[0][1]
    return result


# -- WebSocket clients (this process) ------------------------------------------------------------
async def websocket(
    port: int, tokens: list[str], conn: Connection, events: int, rate: float
) -> dict[str, Any]:
    import aiohttp
    import orjson

    latencies: list[float] = []
    wrong = 0
    received = asyncio.Event()
    url = f"ws://127.0.0.1:{port}/api/websocket"
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client(index: int, token: str) -> aiohttp.ClientWebSocketResponse:
            ws = await session.ws_connect(url, max_msg_size=0)
            await ws.receive()
            await ws.send_str(json.dumps({"type": "auth", "access_token": token}))
            assert orjson.loads((await ws.receive()).data)["type"] == "auth_ok"
            await ws.send_str(
                '{"id": 1, "type": "subscribe_events", "event_type": "state_changed"}'
            )
            assert orjson.loads((await ws.receive()).data)["success"] is True
            return ws

        async def listen(index: int, ws: aiohttp.ClientWebSocketResponse) -> None:
            nonlocal wrong
            mine = f"h{index:04d}"
            async for message in ws:
                data = orjson.loads(message.data)
                attributes = data["event"]["data"]["new_state"]["attributes"]
                latencies.append(time.time() - attributes["sent_at"])
                if attributes["household_id"] != mine:
                    wrong += 1
                if len(latencies) >= events:
                    received.set()

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, conn.send, {"do": "rss"})
        before_rss = (await loop.run_in_executor(None, conn.recv))["rss_mb"]
        start = time.perf_counter()
        sockets = []
        for batch in range(0, len(tokens), 100):  # connect in batches: no accept-queue storm
            sockets += await asyncio.gather(
                *(client(i, t) for i, t in enumerate(tokens[batch : batch + 100], batch))
            )
        connect_s = time.perf_counter() - start
        listeners = [asyncio.create_task(listen(i, ws)) for i, ws in enumerate(sockets)]
        await loop.run_in_executor(None, conn.send, {"do": "rss"})
        idle_rss = (await loop.run_in_executor(None, conn.recv))["rss_mb"]
        await loop.run_in_executor(None, conn.send, {"do": "fire", "events": events, "rate": rate})
        fired = await loop.run_in_executor(None, conn.recv)
        with contextlib.suppress(TimeoutError):  # a shortfall shows in "delivered"
            await asyncio.wait_for(received.wait(), 60)
        for ws in sockets:
            await ws.close()
        for task in listeners:
            task.cancel()
    ordered = sorted(latencies)

    def percentile(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 2)

    return {
        "clients": len(tokens),
        "connect_and_subscribe_s": round(connect_s, 2),
        "events_fired": events,
        "rate_per_s": rate,
        "delivered": len(latencies),
        "delivered_to_wrong_household": wrong,
        "latency_p50_ms": percentile(0.50),
        "latency_p99_ms": percentile(0.99),
        "latency_max_ms": round(ordered[-1] * 1000, 2) if ordered else None,
        "hub_rss_before_clients_mb": round(before_rss, 1),
        "hub_rss_idle_mb": round(idle_rss, 1),
        "hub_rss_after_mb": round(fired["rss_mb"], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, default=50_000)
    parser.add_argument("--ws-clients", type=int, default=1_000)
    parser.add_argument("--events", type=int, default=2_000)
    parser.add_argument("--rate", type=float, default=200.0, help="state changes per second")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    raise_fd_limit()
    households = max(args.ws_clients, 1)
    with tempfile.TemporaryDirectory() as tmp:
        parent, child = multiprocessing.Pipe()
        process = multiprocessing.get_context("spawn").Process(
            target=serve, args=(child, tmp, args.entities, households)
        )
        process.start()
        ready = parent.recv()
        residents = ready["residents"]
        output: dict[str, Any] = {"entities": args.entities + households}
        output["rest"] = rest(ready["port"], ready["admin"], residents[0], args.repeats)
        if args.ws_clients:
            output["websocket"] = asyncio.run(
                websocket(
                    ready["port"], residents[: args.ws_clients], parent, args.events, args.rate
                )
            )
        parent.send({"do": "stop"})
        process.join(30)
    json.dump(output, sys.stdout, indent=2, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
