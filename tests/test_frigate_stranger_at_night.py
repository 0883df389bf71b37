"""The headline scenario end to end over the real broker, with the shipped automation
(``automations/stranger_at_night.yaml`` using the ``stranger_at_night`` blueprint):

Frigate simulator -> broker -> hub (frigate: sighting) -> automation -> ``intercom.call`` on the
guard-room station -> ring command on the broker, seen by a raw paho subscriber; plus the
``notify`` message. A known resident at night and a stranger by day ring nobody."""

from __future__ import annotations

import asyncio
import itertools
import json
import queue
import shutil
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from shouwang.core.clock import ManualClock
from shouwang.core.hub import Hub
from shouwang.integrations.frigate.simulator import FrigateSimulator

from .mqtt_helpers import Peer, wait_for
from .services import Mosquitto
from .test_sightings import fill_registry

REPO = Path(__file__).resolve().parents[1]
#: 01:30 and 12:00 in Shanghai (the automation's window is 23:00-05:00 local time)
NIGHT = datetime(2026, 11, 28, 17, 30, tzinfo=UTC)
DAY = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
_ids = itertools.count()


@dataclass
class Community:
    hub: Hub
    sim: FrigateSimulator
    clock: ManualClock
    peer: Peer
    ring_topic: str
    notify_topic: str

    def next_message(self, timeout: float = 10) -> tuple[str, dict[str, Any]]:
        message = self.peer.received.get(timeout=timeout)
        return message.topic, json.loads(message.payload)

    async def rings(self, count: int) -> list[dict[str, Any]]:
        """The next ``count`` ring commands (notify messages are collected on the side)."""
        found: list[dict[str, Any]] = []
        while len(found) < count:
            topic, payload = await asyncio.to_thread(self.next_message)
            if topic == self.ring_topic:
                found.append(payload)
        return found


StartFn = Callable[..., Awaitable[Community]]


@pytest.fixture
async def community(tmp_path: Path, mosquitto: Mosquitto) -> AsyncIterator[StartFn]:
    running: list[Community] = []

    async def start(when: datetime, broker: Mosquitto = mosquitto, peer_id: str = "") -> Community:
        clock = ManualClock(when)
        n = next(_ids)
        prefix = f"frigate_night{n}"
        base = f"test/night{n}"
        sim = FrigateSimulator(
            ["north_gate", "south_gate"],
            broker=(broker.host, broker.port),
            topic_prefix=prefix,
            now=clock.time,
        )
        await sim.start()
        fill_registry(tmp_path)
        (tmp_path / "configuration.yaml").write_text(
            textwrap.dedent(
                f"""\
                shouwang:
                  time_zone: Asia/Shanghai
                mqtt: {{broker: {broker.host}, port: {broker.port}, discovery: false}}
                registry: {{}}
                frigate:
                  url: {sim.url}
                  topic_prefix: {prefix}
                  cameras:
                    north_gate: {{place: P-GATE-N}}
                    south_gate: {{place: P-GATE-S}}
                intercom:
                  stations:
                    guard_room: {{name: 保安室, kind: guard, protocol: mqtt, topic: {base}/guard}}
                notify:
                  targets:
                    guards: {{mqtt: {base}/notify/guards}}
                """
            ),
            encoding="utf-8",
        )
        (tmp_path / "automations").mkdir(exist_ok=True)
        shutil.copy(REPO / "automations" / "stranger_at_night.yaml", tmp_path / "automations")
        peer = Peer(broker, client_id=peer_id)
        peer.subscribe(f"{base}/#", qos=1)
        hub = Hub(tmp_path, clock=clock)
        await hub.start()
        assert not hub.integrations.failed, hub.integrations.failed
        assert "automation.stranger_at_night_gates" in hub.states
        setup = Community(hub, sim, clock, peer, f"{base}/guard/ring", f"{base}/notify/guards")
        running.append(setup)
        return setup

    yield start
    for setup in running:
        await setup.hub.stop(timeout=1)
        await setup.sim.stop()
        setup.peer.client.loop_stop()
        setup.peer.client.disconnect()


def stranger(sim: FrigateSimulator, camera: str = "north_gate") -> str:
    track = sim.track(camera, score=0.88).new()
    for _ in range(5):
        track.update()
    track.face(None, 0.52)
    track.end()
    return track.id


async def test_stranger_at_night_rings_the_guard_with_the_snapshot(
    community: StartFn,
) -> None:
    c = await community(NIGHT)
    event_id = stranger(c.sim)
    (ring,) = await c.rings(1)
    assert ring["snapshot_url"] == f"{c.sim.url}/api/events/{event_id}/snapshot.jpg"
    assert ring["reason"] == "stranger"
    assert ring["message"] == "夜间陌生人 Stranger at night: camera.north_gate (P-GATE-N)"
    assert ring["caller"] == "hub"
    # and the guards' notification carries the same snapshot
    notes: list[dict[str, Any]] = []
    await wait_for(lambda: _drain(c, notes))
    assert notes[0]["data"]["snapshot_url"] == ring["snapshot_url"]
    assert notes[0]["data"]["event_id"] == event_id
    assert notes[0]["target"] == "guards"


def _drain(c: Community, notes: list[dict[str, Any]]) -> bool:
    try:
        while True:
            message = c.peer.received.get_nowait()
            if message.topic == c.notify_topic:
                notes.append(json.loads(message.payload))
    except queue.Empty:
        return bool(notes)


async def test_known_resident_at_night_rings_nobody(community: StartFn) -> None:
    c = await community(NIGHT)
    resident = c.sim.track("north_gate", score=0.9).new()
    resident.face(None, 0.6)
    resident.face("zhang_san", 0.96)
    for _ in range(10):
        resident.update()
    resident.end()
    # a stranger afterwards at the other gate: its ring must be the first one
    event_id = stranger(c.sim, "south_gate")
    (ring,) = await c.rings(1)
    assert event_id in ring["snapshot_url"]
    assert resident.id not in ring["snapshot_url"]


async def test_stranger_by_day_rings_nobody(community: StartFn) -> None:
    c = await community(DAY)
    frigate = c.hub.integrations.runtime("frigate")
    stranger(c.sim)
    await wait_for(lambda: frigate.tracker.stats.stranger_detected == 1)
    await c.hub.block_till_done()
    # 12 hours later it is night (00:00 local): the next stranger rings
    await c.clock.advance(12 * 3600)
    night_id = stranger(c.sim)
    (ring,) = await c.rings(1)
    assert night_id in ring["snapshot_url"]


class GuardPanel:
    """The guard room's panel: a persistent MQTT session (clean_session off), so a ring sent
    while it was away from a restarting broker reaches it when it is back."""

    def __init__(self, broker: Mosquitto, topic: str) -> None:
        self.rings: queue.Queue[dict[str, Any]] = queue.Queue()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=f"guard-panel-{broker.port}", clean_session=False
        )
        self.client.on_connect = lambda client, *_a: client.subscribe(topic, qos=1)
        self.client.on_message = lambda _c, _u, message: self.rings.put(json.loads(message.payload))
        self.client.reconnect_delay_set(0.1, 0.5)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def next_ring(self, timeout: float = 30) -> dict[str, Any]:
        return self.rings.get(timeout=timeout)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


async def test_guard_call_during_a_broker_restart_is_not_lost(
    own_mosquitto: Mosquitto, community: StartFn
) -> None:
    c = await community(NIGHT, broker=own_mosquitto)
    panel = GuardPanel(own_mosquitto, c.ring_topic)
    try:
        first = stranger(c.sim)
        assert first in (await asyncio.to_thread(panel.next_ring))["snapshot_url"]
        frigate = c.hub.integrations.runtime("frigate")
        track = c.sim.track("south_gate", score=0.9).new()
        track.face(None, 0.5)
        await wait_for(lambda: frigate.tracker.live_tracks == 1)
        own_mosquitto.stop()
        # the face stays unknown: the stranger is decided, and the guard called, while the
        # broker is down; the QoS 1 ring waits in the hub's MQTT client
        await c.clock.advance(11)
        await wait_for(lambda: frigate.tracker.stats.stranger_detected == 2)
        own_mosquitto.start()
        ring = await asyncio.to_thread(panel.next_ring)
        assert track.id in ring["snapshot_url"]
        assert ring["reason"] == "stranger"
    finally:
        panel.close()
