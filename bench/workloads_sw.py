"""Benchmark workloads on Shouwang; kept line-for-line parallel with ``workloads_ha.py``.

Run one workload per fresh process: ``python workloads_sw.py fire_events``.
Timers (``time.perf_counter``) wrap only the measured loop; setup and checks sit outside.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import (
    ATTRIBUTES,
    EVENT_DATA,
    FIRE_EVENTS,
    SERIALIZE_STATES,
    STATE_WRITES,
    TRACK_ENTITIES,
    TRACK_EVENTS,
    WRITE_ENTITIES,
    main,
    peak_rss_mb,
    result,
)

from shouwang.core.hub import Hub


async def _hub() -> Hub:
    hub = Hub(config_dir=None)
    await hub.start()
    return hub


async def fire_events() -> dict[str, Any]:
    """(a) Fire FIRE_EVENTS events of one type to one sync listener."""
    hub = await _hub()
    count = 0

    def listener(event: Any) -> None:
        nonlocal count
        count += 1

    hub.bus.listen("bench_event", listener)
    fire = hub.bus.fire
    data = EVENT_DATA
    start = time.perf_counter()
    for _ in range(FIRE_EVENTS):
        fire("bench_event", data)
    await asyncio.sleep(0)  # drain: run callbacks deferred with call_soon
    elapsed = time.perf_counter() - start
    assert count == FIRE_EVENTS, count
    await hub.stop()
    return result(elapsed, FIRE_EVENTS)


async def state_writes() -> dict[str, Any]:
    """(b) STATE_WRITES real state changes cycling over WRITE_ENTITIES entities."""
    hub = await _hub()
    entity_ids = [f"sensor.bench_{i}" for i in range(WRITE_ENTITIES)]
    for entity_id in entity_ids:
        hub.states.set(entity_id, "init", ATTRIBUTES)
    changed = 0

    def on_changed(event: Any) -> None:
        nonlocal changed
        changed += 1

    hub.bus.listen("state_changed", on_changed)
    set_state = hub.states.set
    attributes = ATTRIBUTES
    start = time.perf_counter()
    for value in range(STATE_WRITES // WRITE_ENTITIES):
        state = str(value)
        for entity_id in entity_ids:
            set_state(entity_id, state, attributes)
    await asyncio.sleep(0)  # drain: run callbacks deferred with call_soon
    elapsed = time.perf_counter() - start
    assert changed == STATE_WRITES, changed
    await hub.stop()
    return result(elapsed, STATE_WRITES)


async def state_tracking() -> dict[str, Any]:
    """(c) TRACK_EVENTS state_changed events routed to one tracker per entity."""
    from shouwang.core.tracking import track_state_change

    hub = await _hub()
    entity_ids = [f"sensor.track_{i}" for i in range(TRACK_ENTITIES)]
    payloads = []
    for entity_id in entity_ids:
        hub.states.set(entity_id, "off", ATTRIBUTES)
        old_state = hub.states.get(entity_id)
        hub.states.set(entity_id, "on", ATTRIBUTES)
        new_state = hub.states.get(entity_id)
        payloads.append({"entity_id": entity_id, "old_state": old_state, "new_state": new_state})
    calls = dict.fromkeys(entity_ids, 0)

    def tracker(event: Any) -> None:
        calls[event.data["entity_id"]] += 1

    for entity_id in entity_ids:
        track_state_change(hub, [entity_id], tracker)
    fire = hub.bus.fire
    start = time.perf_counter()
    for _ in range(TRACK_EVENTS // TRACK_ENTITIES):
        for payload in payloads:
            fire("state_changed", payload)
        await asyncio.sleep(0)  # drain each round: HA dispatches trackers via call_soon
    elapsed = time.perf_counter() - start
    per_tracker = TRACK_EVENTS // TRACK_ENTITIES
    assert all(n == per_tracker for n in calls.values()), set(calls.values())
    await hub.stop()
    return result(elapsed, TRACK_EVENTS)


def _states_json(hub: Hub) -> tuple[bytes, str]:
    """The /api/states body; falls back to orjson when StateMachine.as_json is missing."""
    as_json = getattr(hub.states, "as_json", None)
    if as_json is not None:
        return as_json(), "StateMachine.as_json()"
    import orjson

    return orjson.dumps([s.as_dict() for s in hub.states.all()]), "orjson fallback"


async def _serialize(passes: int) -> dict[str, Any]:
    import orjson

    hub = await _hub()
    for i in range(SERIALIZE_STATES):
        hub.states.set(f"sensor.ser_{i}", str(i), ATTRIBUTES)
    _states_json(hub)  # throwaway pass so imports/lazy setup are not timed
    for i in range(SERIALIZE_STATES):  # fresh State objects: nothing cached on them
        hub.states.set(f"sensor.ser_{i}", str(i + 1), ATTRIBUTES)
    for _ in range(passes - 1):
        _states_json(hub)
    start = time.perf_counter()
    body, method = _states_json(hub)
    elapsed = time.perf_counter() - start
    assert len(orjson.loads(body)) == SERIALIZE_STATES
    await hub.stop()
    return result(elapsed, SERIALIZE_STATES, bytes=len(body), method=method)


async def serialize_states() -> dict[str, Any]:
    """(d) First serialization of SERIALIZE_STATES freshly written states."""
    return await _serialize(passes=1)


async def serialize_states_cached() -> dict[str, Any]:
    """(d') Second serialization of the same states (HA caches per State; we may not)."""
    return await _serialize(passes=2)


async def start_rss() -> dict[str, Any]:
    """(e) Peak RSS after starting a hub on an empty config dir (loads config, no integrations)."""
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(config_dir=Path(tmp))
        await hub.start()
        rss = peak_rss_mb()
        components = len(getattr(hub.integrations, "loaded", ()))
        await hub.stop()
    return {"value": rss, "unit": "MB", "components": components}


async def core_rss() -> dict[str, Any]:
    """(e') Peak RSS of the core runtime alone: the hub used for (a)-(d), no config dir."""
    hub = await _hub()
    rss = peak_rss_mb()
    await hub.stop()
    return {"value": rss, "unit": "MB"}


WORKLOADS = {
    "fire_events": fire_events,
    "state_writes": state_writes,
    "state_tracking": state_tracking,
    "serialize_states": serialize_states,
    "serialize_states_cached": serialize_states_cached,
    "start_rss": start_rss,
    "core_rss": core_rss,
}

if __name__ == "__main__":
    main(WORKLOADS)
