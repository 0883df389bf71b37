"""The MQTT integration through a real Mosquitto: relay latency and discovery speed.

relay: a device (raw paho, in its own process) publishes numbered messages at a fixed rate on
``bench/in/<n>``; the hub's shared client receives them through a ``bench/in/+`` wildcard
subscription and answers each with a QoS 1 publish on ``bench/out``; the device measures
publish -> answer. That is the path every MQTT integration's traffic takes (socket -> paho on
the hub loop -> callback -> publish -> ack).

discovery: N retained binary_sensor configs (abbreviated keys, availability) are published,
then the time until the hub has all N entities is measured, and then one state message per
entity until every state is written.

    .venv/bin/python bench/mqtt_client.py                       # 200 and 1000 msg/s, 10 s
    .venv/bin/python bench/mqtt_client.py --rates 2000 --seconds 5 --entities 5000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from shouwang.core.hub import Hub  # noqa: E402
from shouwang.integrations.mqtt import MqttClient, MqttMessage  # noqa: E402
from shouwang.integrations.mqtt.client import no_delay  # noqa: E402
from tests.services import Mosquitto  # noqa: E402


class Device:
    """A raw paho client in its own thread: sends, and records when answers arrive."""

    def __init__(self, broker: Mosquitto, subscribe: str | None = None) -> None:
        self.arrived: dict[int, float] = {}
        self._ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        # Nagle off, as on the hub's and the broker's sockets: else every small publish
        # waits for the broker's delayed ACK (tens of milliseconds), measuring TCP, not MQTT
        if subscribe:

            def on_connect(client: mqtt.Client, *_a: Any) -> None:
                no_delay(client)
                client.subscribe(subscribe, qos=1)

            self.client.on_connect = on_connect
            self.client.on_subscribe = lambda *_a: self._ready.set()
        else:

            def on_connect_only(client: mqtt.Client, *_a: Any) -> None:
                no_delay(client)
                self._ready.set()

            self.client.on_connect = on_connect_only
        self.client.on_message = self._message
        self.client.max_inflight_messages_set(1000)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        if not self._ready.wait(10):
            raise RuntimeError("device did not connect")

    def _message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self.arrived[int(msg.payload)] = time.perf_counter()

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


async def start_hub(broker: Mosquitto, discovery: bool, prefix: str = "bench_ha") -> Hub:
    hub = Hub()
    await hub.start()
    block = {"broker": broker.host, "port": broker.port, "discovery": discovery}
    if discovery:
        block["discovery_prefix"] = prefix
    await hub.integrations.setup_many({"mqtt": block})
    return hub


def _device_process(host: str, port: int, rate: int, seconds: float, out: Any) -> None:
    """The device side of the relay, in its own process (its own GIL): send at ``rate``,
    time each answer, put the latencies (ms) on ``out``."""
    broker = Mosquitto.__new__(Mosquitto)
    broker.host, broker.port = host, port
    device = Device(broker, "bench/out")
    total = int(rate * seconds)
    sent: dict[int, float] = {}
    start = time.perf_counter()
    for n in range(total):
        due = start + n / rate
        while (now := time.perf_counter()) < due:
            time.sleep(min(due - now, 0.0005))
        sent[n] = time.perf_counter()
        device.client.publish(f"bench/in/{n % 16}", str(n), qos=1)
    deadline = time.perf_counter() + 15
    while len(device.arrived) < total and time.perf_counter() < deadline:
        time.sleep(0.05)
    device.stop()
    out.put([(device.arrived[n] - sent[n]) * 1000 for n in sent if n in device.arrived])


async def relay(rate: int, seconds: float, broker: Mosquitto) -> dict[str, Any]:
    hub = await start_hub(broker, discovery=False)
    client: MqttClient = hub.integrations.runtime("mqtt")

    async def answer(message: MqttMessage) -> None:
        await client.publish("bench/out", message.payload, qos=1)

    await client.subscribe("bench/in/+", answer, qos=1)
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    device = context.Process(
        target=_device_process, args=(broker.host, broker.port, rate, seconds, results)
    )
    device.start()
    loop = asyncio.get_running_loop()
    latencies = sorted(await loop.run_in_executor(None, results.get, True, seconds + 60))
    await loop.run_in_executor(None, device.join)
    await hub.stop(timeout=5)
    total = int(rate * seconds)
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "rate": rate,
        "sent": total,
        "answered": len(latencies),
        "lost": total - len(latencies),
        "p50_ms": round(quantiles[49], 2),
        "p99_ms": round(quantiles[98], 2),
        "max_ms": round(latencies[-1], 2) if latencies else None,
    }


async def discovery(entities: int, broker: Mosquitto) -> dict[str, Any]:
    prefix = f"bench_ha_{int(time.time())}"
    hub = await start_hub(broker, discovery=True, prefix=prefix)
    device = Device(broker)
    started = time.perf_counter()
    for n in range(entities):
        config = {
            "name": f"Contact {n}",
            "uniq_id": f"bench-contact-{n}",
            "stat_t": f"bench/contact/{n}",
            "avty_t": "bench/bridge",
            "dev_cla": "door",
            "dev": {"ids": [f"bench-dev-{n // 10}"], "name": f"Box {n // 10}"},
        }
        device.client.publish(
            f"{prefix}/binary_sensor/c{n}/config", json.dumps(config), qos=1, retain=True
        )
    device.client.publish("bench/bridge", "online", qos=1, retain=True)
    while len(hub.entities.all("binary_sensor")) < entities:  # noqa: ASYNC110 - 10 ms resolution
        await asyncio.sleep(0.01)
    discovered = time.perf_counter() - started
    started = time.perf_counter()
    for n in range(entities):
        device.client.publish(f"bench/contact/{n}", "ON", qos=1)
    while sum(1 for s in hub.states.all("binary_sensor") if s.state == "on") < entities:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    states = time.perf_counter() - started
    for n in range(entities):  # leave the broker clean
        device.client.publish(f"{prefix}/binary_sensor/c{n}/config", "", qos=1, retain=True)
    device.client.publish("bench/bridge", "", qos=1, retain=True)
    await hub.stop(timeout=5)
    device.stop()
    return {
        "entities": entities,
        "discovered_s": round(discovered, 2),
        "per_entity_ms": round(discovered / entities * 1000, 3),
        "first_states_s": round(states, 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="200,1000")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--entities", type=int, default=1000)
    parser.add_argument(
        "--broker-inflight", type=int, help="Mosquitto's max_inflight_messages (default 20)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        broker = Mosquitto(Path(workdir) / "mosquitto")
        if args.broker_inflight is not None:
            with broker.config.open("a") as config:
                config.write(f"max_inflight_messages {args.broker_inflight}\n")
        broker.start()
        try:
            print("| rate msg/s | sent | answered | lost | p50 ms | p99 ms | max ms |")
            print("|---|---|---|---|---|---|---|")
            for rate in (int(r) for r in args.rates.split(",")):
                r = await relay(rate, args.seconds, broker)
                print(
                    f"| {r['rate']} | {r['sent']} | {r['answered']} | {r['lost']} "
                    f"| {r['p50_ms']} | {r['p99_ms']} | {r['max_ms']} |",
                    flush=True,
                )
            d = await discovery(args.entities, broker)
            print(
                f"\ndiscovery: {d['entities']} entities in {d['discovered_s']} s "
                f"({d['per_entity_ms']} ms each); first states of all in {d['first_states_s']} s"
            )
        finally:
            broker.stop()


if __name__ == "__main__":
    asyncio.run(main())
