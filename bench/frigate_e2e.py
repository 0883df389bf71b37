"""End-to-end latency of the headline scenario through a real broker (target: p99 under 20 ms
at 1,000 Frigate messages per second on 2 cores).

Frigate simulator -> Mosquitto (own instance, like the tests start) -> the hub (a separate
``shouwang run`` process: mqtt, frigate, intercom, the ``stranger_at_night`` blueprint) ->
``intercom.call`` -> the guard station's ring command on the broker -> a raw paho subscriber.

Every tracked person plays ``new``, two ``update``s, a ``face`` result with no match and
``end`` on ``frigate/events`` and ``frigate/tracked_object_update``, plus the camera's person
count going up and down: seven Frigate messages, one stranger sighting, one guard call. Every
one of them counts toward the rate (1,000 msg/s is 143 strangers a second). The messages are
built before a run and written by the playing thread itself; the subscriber is a process of
its own with one thread, so neither waits for an interpreter lock to take its timestamps.
Latency is measured from just before the ``end`` message is written (the message that settles
the stranger) to the ring command's arrival, matched by the Frigate event id in the snapshot
URL. The load is spread over 50 cameras; the Frigate and trigger cooldowns are 0 so that every
stranger must ring. ``--echo`` replaces the hub with a bare paho client that rings on every
``end``: the floor this machine, the broker and the harness set on their own.

    .venv/bin/python bench/frigate_e2e.py                     # 200 and 1000 msg/s, 20 s each
    .venv/bin/python bench/frigate_e2e.py --rates 200,1000 --seconds 20 --sustain 1000,1500

``--sustain`` runs each rate for 60 s and reports whether every guard call arrived (the highest
rate held without loss). Prints a markdown table and one JSON line per run; ``--dump`` writes
every call's latency for a closer look.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
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

from shouwang.integrations.frigate.simulator import FrigateSimulator  # noqa: E402
from shouwang.integrations.mqtt.client import no_delay  # noqa: E402
from tests.services import Mosquitto  # noqa: E402

CAMERAS = [f"cam{n:02d}" for n in range(50)]
FRIGATE_PREFIX = "frigate"
#: Mosquitto's default: the broker saves its persistence file every 30 minutes
MOSQUITTO_AUTOSAVE = 1800


def write_config(config_dir: Path, broker: Mosquitto, frigate_url: str) -> None:
    cameras = "\n".join(f"    {name}: {{place: P-{name.upper()}}}" for name in CAMERAS)
    (config_dir / "configuration.yaml").write_text(
        textwrap.dedent(
            f"""\
            shouwang:
              time_zone: Asia/Shanghai
            mqtt: {{broker: {broker.host}, port: {broker.port}, discovery: false}}
            frigate:
              url: {frigate_url}
              stranger_cooldown: 0
              cameras:
            """
        )
        + cameras
        + textwrap.dedent(
            """
            intercom:
              stations:
                guard_room: {name: 保安室, kind: guard, protocol: mqtt, topic: bench/guard}
            """
        ),
        encoding="utf-8",
    )
    (config_dir / "automations").mkdir()
    (config_dir / "automations" / "bench.yaml").write_text(
        textwrap.dedent(
            f"""\
            - id: stranger_any_time
              use_blueprint:
                path: shouwang/stranger_at_night.yaml
                input:
                  cameras: {json.dumps([f"camera.{name}" for name in CAMERAS])}
                  after: "00:00:00"
                  before: "23:59:59"
                  guard_station: intercom.guard_room
                  min_score: 0
                  cooldown: 0
            """
        ),
        encoding="utf-8",
    )


class GuardListener:
    """The raw subscriber on the guard station's ring topic, in a process of its own whose only
    thread runs paho's loop: arrival times are taken the moment paho hands over the message,
    never after waiting for this process's interpreter lock."""

    def __init__(self, broker: Mosquitto) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._process = context.Process(
            target=_listen, args=(broker.host, broker.port, child), daemon=True
        )
        self._process.start()
        if not self._pipe.poll(20) or self._pipe.recv() != "ready":
            raise RuntimeError("guard listener could not subscribe")

    def arrived(self, clear: bool = False) -> dict[str, float]:
        """Event id -> ``perf_counter`` arrival time of every ring so far."""
        self._pipe.send("clear" if clear else "get")
        result: dict[str, float] = self._pipe.recv()
        return result

    def stop(self) -> None:
        self._pipe.send("stop")
        self._process.join(10)


def _listen(host: str, port: int, pipe: Any) -> None:
    arrived: dict[str, float] = {}
    ready = threading.Event()

    def on_message(_client: Any, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        now = time.perf_counter()
        url = json.loads(message.payload).get("snapshot_url") or ""
        event_id = url.rsplit("/events/", 1)[-1].split("/", 1)[0]
        arrived.setdefault(event_id, now)

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-guard")
    client.on_subscribe = lambda *_a: ready.set()
    client.on_message = on_message
    client.connect(host, port)
    client.subscribe("bench/guard/ring", qos=1)
    while not ready.is_set():
        client.loop(0.1)
    pipe.send("ready")
    while True:
        client.loop(0.01)
        if pipe.poll():
            command = pipe.recv()
            if command == "stop":
                client.disconnect()
                return
            pipe.send(dict(arrived))
            if command == "clear":
                arrived.clear()


class Publisher:
    """The Frigate simulator's messages, written to the broker by this thread itself (paho
    without its network thread: ``publish`` writes at once), so a send time is the moment the
    message leaves."""

    def __init__(self, broker: Mosquitto) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-frigate")
        self.client.max_queued_messages_set(0)
        self.client.connect(broker.host, broker.port)
        no_delay(self.client)
        self.client.loop(0.1)

    def __call__(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, 0)

    def service(self) -> None:
        """Read what the broker sent (keepalive answers) without waiting."""
        self.client.loop(0)


Message = tuple[float, str | None, str, bytes]


def render(sim: FrigateSimulator, rate: float, seconds: float) -> list[Message]:
    """Every message of a run, built before it starts (so building JSON does not take CPU
    from the hub while it is measured): ``(offset s, event id if it is a track's end, topic,
    payload)``, one every ``1/rate`` seconds. Every message Frigate sends counts toward the
    rate, the per-camera object counts included (seven per track)."""
    recorded: list[tuple[str | None, str, bytes]] = []
    end: list[str | None] = [None]
    sink = sim.sink
    sim.sink = lambda topic, payload: recorded.append((end[0], topic, payload))
    try:
        total = int(rate * seconds)
        n = 0
        while len(recorded) < total:
            track = sim.track(CAMERAS[n % len(CAMERAS)], score=0.85)
            track.new()
            track.update()
            track.update()
            track.face(None, 0.5)
            end[0] = track.id
            track.end()
            end[0] = None
            n += 1
    finally:
        sim.sink = sink
    # an end's id marks the ``frigate/events`` end message, the one that settles the stranger
    return [
        (index / rate, event if topic.endswith("/events") else None, topic, payload)
        for index, (event, topic, payload) in enumerate(recorded[:total])
    ]


def play(publisher: Publisher, messages: list[Message]) -> dict[str, float]:
    """Publish the rendered messages on time; returns the send time of each ``end`` by event
    id."""
    sent: dict[str, float] = {}
    start = time.perf_counter()
    for n, (offset, end, topic, payload) in enumerate(messages):
        delay = start + offset - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        if n % 250 == 0:
            publisher.service()
        if end is not None:
            sent[end] = time.perf_counter()
        publisher(topic, payload)
    return sent


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    sim: FrigateSimulator,
    publisher: Publisher,
    guard: GuardListener,
    *,
    rate: float,
    seconds: float,
    hub_pid: int,
    dump: Path | None = None,
) -> dict[str, Any]:
    messages = render(sim, rate, seconds)
    guard.arrived(clear=True)
    cpu_before = cpu_seconds(hub_pid)
    started = time.perf_counter()
    sent = play(publisher, messages)
    elapsed = time.perf_counter() - started
    deadline = time.perf_counter() + 10
    arrived = guard.arrived()
    while time.perf_counter() < deadline and not all(event_id in arrived for event_id in sent):
        time.sleep(0.05)
        publisher.service()
        arrived = guard.arrived()
    latencies = [
        (arrived[event_id] - at) * 1000 for event_id, at in sent.items() if event_id in arrived
    ]
    lost = len(sent) - len(latencies)
    if dump is not None:
        with dump.open("a", encoding="utf-8") as stream:
            for event_id, at in sorted(sent.items(), key=lambda item: item[1]):
                came = arrived.get(event_id)
                late = "" if came is None else f"{(came - at) * 1000:.2f}"
                stream.write(f"{rate:g}\t{at:.6f}\t{late}\t{event_id}\n")
    hub_cpu = cpu_seconds(hub_pid) - cpu_before
    return {
        "rate_msgs_per_s": rate,
        "achieved_msgs_per_s": round(len(messages) / elapsed, 1),
        "seconds": seconds,
        "strangers": len(sent),
        "guard_calls": len(latencies),
        "lost": lost,
        "p50_ms": round(statistics.median(latencies), 2) if latencies else None,
        "p90_ms": round(percentile(latencies, 90), 2) if latencies else None,
        "p99_ms": round(percentile(latencies, 99), 2) if latencies else None,
        "max_ms": round(max(latencies), 2) if latencies else None,
        # what the hub itself spent: independent of other load on the machine
        "hub_cpu_percent": round(100 * hub_cpu / elapsed, 1),
        "hub_cpu_us_per_msg": round(1e6 * hub_cpu / len(messages), 1),
        "load_average": round(os.getloadavg()[0], 1),
    }


def wait_for_hub(
    sim: FrigateSimulator, publisher: Publisher, guard: GuardListener, timeout: float = 60
) -> None:
    """Warm up: strangers until one rings (the hub is up and subscribed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        track = sim.track(CAMERAS[0]).new()
        track.face(None, 0.5)
        track.end()
        time.sleep(0.5)
        publisher.service()
        if track.id in guard.arrived():
            return
    raise RuntimeError("the hub never rang the guard; see the hub log")


async def start_sim(publisher: Publisher) -> FrigateSimulator:
    # the simulator's HTTP API runs on this process's event loop thread; its MQTT messages go
    # through the publisher, on the thread that plays the load
    sim = FrigateSimulator(CAMERAS, now=time.time, sink=publisher)
    await sim.start()
    return sim


def echo(host: str, port: int) -> None:
    """The floor: a bare paho client (one thread) that rings the guard for every Frigate
    ``end`` the moment it arrives, with no hub in between. What the broker, this machine and
    the harness cost on their own; run with ``--echo`` in place of the hub."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-echo")

    def on_connect(*_args: Any) -> None:
        no_delay(client)
        client.subscribe(f"{FRIGATE_PREFIX}/events", qos=0)

    def on_message(_client: Any, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        event = json.loads(message.payload)
        if event["type"] == "end":
            url = f"http://frigate/api/events/{event['after']['id']}/snapshot.jpg"
            client.publish("bench/guard/ring", json.dumps({"snapshot_url": url}), qos=1)

    client.on_connect = on_connect
    client.on_message = on_message
    client.connect(host, port)
    client.loop_forever()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="200,1000", help="msg/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--sustain", default="", help="rates to hold for 60 s each")
    parser.add_argument("--profile", type=Path, help="run the hub under cProfile, stats here")
    parser.add_argument(
        "--echo", action="store_true", help="a bare paho echo instead of the hub (the floor)"
    )
    parser.add_argument("--echo-worker", nargs=2, metavar=("HOST", "PORT"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--dump",
        type=Path,
        help="append 'rate, send perf_counter s, latency ms, event id' per call here (TSV)",
    )
    args = parser.parse_args()
    if args.echo_worker:
        echo(args.echo_worker[0], int(args.echo_worker[1]))
        return 0
    work = Path(tempfile.mkdtemp(prefix="shouwang-frigate-bench-"))
    broker = Mosquitto(work / "mosquitto", autosave_interval=MOSQUITTO_AUTOSAVE)
    broker.start()
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    publisher = Publisher(broker)
    publisher(f"{FRIGATE_PREFIX}/available", b"online")
    sim = asyncio.run_coroutine_threadsafe(start_sim(publisher), loop).result()
    config_dir = work / "config"
    config_dir.mkdir()
    write_config(config_dir, broker, sim.url)
    log = (work / "hub.log").open("wb")
    command = [str(Path(sys.executable).with_name("shouwang")), "run", "-c", str(config_dir)]
    if args.profile:
        command = [sys.executable, "-m", "cProfile", "-o", str(args.profile), *command]
    if args.echo:
        command = [sys.executable, __file__, "--echo-worker", broker.host, str(broker.port)]
    hub = subprocess.Popen(
        command,
        stdout=log,
        stderr=log,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    guard = GuardListener(broker)
    results: list[dict[str, Any]] = []
    try:
        wait_for_hub(sim, publisher, guard)
        runs = [(float(rate), args.seconds, "latency") for rate in args.rates.split(",") if rate]
        runs += [(float(rate), 60.0, "sustain") for rate in args.sustain.split(",") if rate]
        for rate, seconds, kind in runs:
            measured = measure(
                sim, publisher, guard, rate=rate, seconds=seconds, hub_pid=hub.pid, dump=args.dump
            )
            result = {"kind": kind, **measured}
            results.append(result)
            print(json.dumps(result), flush=True)
            time.sleep(2)
    finally:
        guard.stop()
        hub.terminate()
        try:
            hub.wait(20)
        except subprocess.TimeoutExpired:
            hub.kill()
        asyncio.run_coroutine_threadsafe(sim.stop(), loop).result(10)
        broker.stop()
        log.close()
    print()
    columns = ["run", "target msg/s", "achieved msg/s", "strangers", "guard calls", "lost"]
    columns += ["p50 ms", "p99 ms", "max ms", "hub CPU %", "hub CPU µs/msg", "load avg"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for r in results:
        print(
            f"| {r['kind']} {r['seconds']:g} s | {r['rate_msgs_per_s']:g} | "
            f"{r['achieved_msgs_per_s']:g} | {r['strangers']} | {r['guard_calls']} | {r['lost']} "
            f"| {r['p50_ms']} | {r['p99_ms']} | {r['max_ms']} | {r['hub_cpu_percent']} "
            f"| {r['hub_cpu_us_per_msg']} | {r['load_average']} |"
        )
    print(f"\nhub log: {work / 'hub.log'}")
    if not any(r["lost"] for r in results):
        shutil.rmtree(work / "mosquitto", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
