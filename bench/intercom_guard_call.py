"""Guard-call latency of the intercom: ``intercom.call`` (no target, as an automation makes it)
-> call manager (state, ``intercom_call`` event, call log row in SQLite) -> the guard station's
``ring`` command through a real Mosquitto -> a raw paho subscriber.

The hub runs in this process on the real clock (one event loop, like ``shouwang run``); the
subscriber is a paho thread. Calls are placed at a fixed rate; each ring is matched to its call
by the ``message`` field. Every call stays ringing (ring timeout 60 s), so the guard room holds
thousands of concurrent calls — the worst case for the station's state.

    .venv/bin/python bench/intercom_guard_call.py                    # 100 and 500 calls/s, 10 s
    .venv/bin/python bench/intercom_guard_call.py --rates 200 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from shouwang.core.hub import Hub  # noqa: E402
from tests.services import Mosquitto  # noqa: E402


class Desk:
    """The guard station: a raw subscriber on its ring topic."""

    def __init__(self, broker: Mosquitto, topic: str) -> None:
        self.arrived: dict[str, float] = {}
        self._ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-desk")
        self.client.on_connect = lambda c, *_a: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_a: self._ready.set()
        self.client.on_message = self._message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        if not self._ready.wait(10):
            raise RuntimeError("subscriber did not connect")

    def _message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self.arrived[json.loads(msg.payload)["message"]] = time.perf_counter()

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


async def run(rate: int, seconds: float, broker: Mosquitto) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder)
        (config / "configuration.yaml").write_text(
            textwrap.dedent(
                f"""\
                mqtt: {{broker: {broker.host}, port: {broker.port}, discovery: false}}
                intercom:
                  ring_timeout: 60
                  stations:
                    guard_room: {{kind: guard, protocol: mqtt, topic: bench/intercom/guard}}
                """
            ),
            encoding="utf-8",
        )
        desk = Desk(broker, "bench/intercom/guard/ring")
        hub = Hub(config)
        await hub.start()
        sent: dict[str, float] = {}
        total = int(rate * seconds)
        start = time.perf_counter()
        for n in range(total):
            due = start + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            key = f"c{n}"
            sent[key] = time.perf_counter()
            await hub.services.call("intercom", "call", {"target": "guard_room", "message": key})
        deadline = time.perf_counter() + 10
        while len(desk.arrived) < total and time.perf_counter() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        manager = hub.integrations.runtime("intercom")
        await manager.drain()
        logged = len(await manager.call_log(limit=1000000))
        await hub.stop()
        desk.stop()
    latencies = sorted((desk.arrived[k] - t) * 1000 for k, t in sent.items() if k in desk.arrived)
    return {
        "rate": rate,
        "seconds": seconds,
        "calls": total,
        "rings": len(latencies),
        "logged": logged,
        "p50_ms": round(statistics.median(latencies), 2) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2) if latencies else None,
        "max_ms": round(latencies[-1], 2) if latencies else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="100,500")
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        broker = Mosquitto(Path(folder))
        broker.start()
        try:
            results = [
                asyncio.run(run(int(rate), args.seconds, broker)) for rate in args.rates.split(",")
            ]
        finally:
            broker.stop()
    print("| calls/s | calls | rings received | logged | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['rate']} | {r['calls']} | {r['rings']} | {r['logged']} | {r['p50_ms']} "
            f"| {r['p99_ms']} | {r['max_ms']} |"
        )
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
