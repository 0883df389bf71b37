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
    COLD_AUTOMATIONS,
    DISPATCH_ACTIVE,
    DISPATCH_LARGE,
    DISPATCH_SAMPLES,
    DISPATCH_SMALL,
    DISPATCH_WARMUP,
    DONE_EVENT,
    EVENT_DATA,
    FIRE_EVENTS,
    GUARD_ENTITY,
    RUN_AUTOMATIONS,
    RUN_TIMEOUT,
    RUN_WRITES,
    RUNS,
    SERIALIZE_STATES,
    STATE_WRITES,
    TRACK_ENTITIES,
    TRACK_EVENTS,
    WRITE_ENTITIES,
    Garbage,
    GcWatch,
    current_rss_mb,
    latency_summary,
    main,
    peak_rss_mb,
    result,
    time_calls,
    trigger_entity,
    write_config_dir,
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


# -- automation engine: (f) runs, (g) cold start, (h) dispatch latency -----------------------
async def _automation_hub(config_dir: Path, count: int) -> tuple[Hub, dict[str, float]]:
    """A hub started on a config dir holding ``count`` automations (the YAML of
    ``automations_yaml``), every automation entity present and its triggers attached.
    Returns the hub and the seconds each start-up phase took (``total`` from the start)."""
    write_config_dir(config_dir, "sw", count)
    phases: dict[str, float] = {}
    start = time.perf_counter()
    import shouwang.integrations.automation as automation_integration

    import_done = time.perf_counter()
    phases["import"] = import_done - start
    from shouwang.core import hub as hub_module
    from shouwang.integrations.automation import config as automation_config

    # each wrapped function runs once per start, so the wrappers cost nothing measurable
    time_calls(hub_module, "load_config_dir", phases, "config")
    time_calls(automation_config, "load_yaml", phases, "parse")
    time_calls(automation_integration, "load_automations", phases, "load")
    time_calls(automation_integration.AutomationRuntime, "apply", phases, "create+attach")
    time_calls(hub_module, "freeze_startup_objects", phases, "gc freeze")
    hub = Hub(config_dir=config_dir)
    started = time.perf_counter()
    await hub.start()
    runtime = hub.integrations.runtime("automation")
    attached = sum(a._detach is not None for a in runtime.automations.values())
    entities = len(hub.states.entity_ids("automation"))
    phases["start"] = time.perf_counter() - started
    assert entities == count and attached == count, (entities, attached)
    phases["validate"] = phases.pop("load") - phases.get("parse", 0.0)  # parse runs inside
    phases["total"] = phases["import"] + phases["start"]
    phases["other"] = phases["start"] - sum(
        seconds for name, seconds in phases.items() if name not in ("import", "start", "total")
    )
    return hub, phases


async def automation_runs() -> dict[str, Any]:
    """(f) RUN_WRITES state writes on RUN_AUTOMATIONS watched entities (alternating on/off),
    so RUNS automation runs happen; timed until the RUNS-th action event has fired."""
    with tempfile.TemporaryDirectory() as tmp:
        hub, _ = await _automation_hub(Path(tmp), RUN_AUTOMATIONS)
        set_state = hub.states.set
        set_state(GUARD_ENTITY, "ok")
        entity_ids = [trigger_entity(i) for i in range(RUN_AUTOMATIONS)]
        for entity_id in entity_ids:
            set_state(entity_id, "off")
        await hub.block_till_done()
        done = hub.loop.create_future()
        count = 0

        def on_done(event: Any) -> None:
            nonlocal count
            count += 1
            if count == RUNS:
                done.set_result(None)

        hub.bus.listen(DONE_EVENT, on_done)
        start = time.perf_counter()
        for _ in range(RUN_WRITES // (2 * RUN_AUTOMATIONS)):
            for entity_id in entity_ids:
                set_state(entity_id, "on")
            for entity_id in entity_ids:
                set_state(entity_id, "off")
            await asyncio.sleep(0)  # one loop turn per burst of 2 x RUN_AUTOMATIONS writes
        await asyncio.wait_for(done, RUN_TIMEOUT)
        elapsed = time.perf_counter() - start
        await hub.block_till_done()
        assert count == RUNS, count
        runtime = hub.integrations.runtime("automation")
        traces = len(runtime.traces.list())
        assert traces == RUN_AUTOMATIONS * 5, traces  # the default 5 kept per automation
        await hub.stop()
    return result(elapsed, RUNS, writes=RUN_WRITES, traces_kept=traces)


async def _cold_start(count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        hub, phases = await _automation_hub(Path(tmp), count)
        rss = peak_rss_mb()
        now_rss = current_rss_mb()
        await hub.stop()
    return {
        "value": phases["total"],
        "unit": "s",
        "ops": count,
        "peak_rss_mb": rss,
        "rss_mb": now_rss,
        "phases": phases,
    }


async def cold_start() -> dict[str, Any]:
    """(g) Start on a config dir with COLD_AUTOMATIONS automations: time, peak RSS."""
    return await _cold_start(COLD_AUTOMATIONS)


async def cold_start_bare() -> dict[str, Any]:
    """(g) baseline: the same start-up with no automations in the file."""
    return await _cold_start(0)


async def _dispatch(count: int) -> dict[str, Any]:
    """(h) Latency from a state write to the triggered automation's action event."""
    with tempfile.TemporaryDirectory() as tmp:
        hub, _ = await _automation_hub(Path(tmp), count)
        set_state = hub.states.set
        set_state(GUARD_ENTITY, "ok")
        for i in range(count):
            set_state(trigger_entity(i), "off")
        await hub.block_till_done()
        active = min(count, DISPATCH_ACTIVE)
        entity_ids = [trigger_entity(i * count // active) for i in range(active)]
        garbage = Garbage()
        fired_at = 0.0
        fired = hub.loop.create_future()

        def on_done(event: Any) -> None:
            nonlocal fired_at
            fired_at = time.perf_counter()
            if not fired.done():
                fired.set_result(None)

        hub.bus.listen(DONE_EVENT, on_done)
        samples: list[float] = []
        with_gc = 0  # samples during which a collection ran
        warmup = DISPATCH_WARMUP * active
        with GcWatch() as watch:
            for k in range(warmup + DISPATCH_SAMPLES):
                entity_id = entity_ids[k % active]
                set_state(entity_id, "off")  # re-arm: "off" does not trigger (to: "on")
                garbage.allocate()
                fired = hub.loop.create_future()
                collections = watch.finished
                start = time.perf_counter()
                set_state(entity_id, "on")
                await asyncio.wait_for(fired, RUN_TIMEOUT)
                if k >= warmup:
                    samples.append(fired_at - start)
                    with_gc += watch.finished != collections
                await asyncio.sleep(0)  # untimed: the run's own tail (trace end, state write)
        await hub.block_till_done()
        await hub.stop()
    summary = latency_summary(samples)
    return {
        "value": summary["p99_ms"],
        "unit": "ms",
        **summary,
        "samples": len(samples),
        "samples_with_gc": with_gc,
        **watch.summary(),
    }


async def dispatch_small() -> dict[str, Any]:
    """(h) Dispatch latency with DISPATCH_SMALL automations loaded."""
    return await _dispatch(DISPATCH_SMALL)


async def dispatch_large() -> dict[str, Any]:
    """(h') Dispatch latency with DISPATCH_LARGE automations loaded."""
    return await _dispatch(DISPATCH_LARGE)


WORKLOADS = {
    "fire_events": fire_events,
    "state_writes": state_writes,
    "state_tracking": state_tracking,
    "serialize_states": serialize_states,
    "serialize_states_cached": serialize_states_cached,
    "start_rss": start_rss,
    "core_rss": core_rss,
    "automation_runs": automation_runs,
    "cold_start": cold_start,
    "cold_start_bare": cold_start_bare,
    "dispatch_small": dispatch_small,
    "dispatch_large": dispatch_large,
}

if __name__ == "__main__":
    main(WORKLOADS)
