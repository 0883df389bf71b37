"""Benchmark workloads on Home Assistant core; kept line-for-line parallel with ``workloads_sw.py``.

Run one workload per fresh process: ``python workloads_ha.py fire_events``.
Timers (``time.perf_counter``) wrap only the measured loop; setup and checks sit outside.
The hass for (a)-(d) is set up like HA's own ``async_test_home_assistant``: a bare
``HomeAssistant`` with a time zone, started, with no integrations loaded.
Listeners are ``@callback`` functions, which HA runs inline in the firing call.
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
from homeassistant.core import Event, HomeAssistant, callback


async def _hass(config_dir: str) -> HomeAssistant:
    hass = HomeAssistant(config_dir)
    await hass.config.async_set_time_zone("UTC")
    await hass.async_start()
    return hass


async def fire_events() -> dict[str, Any]:
    """(a) Fire FIRE_EVENTS events of one type to one sync listener."""
    with tempfile.TemporaryDirectory() as tmp:
        hass = await _hass(tmp)
        count = 0

        @callback
        def listener(event: Event) -> None:
            nonlocal count
            count += 1

        hass.bus.async_listen("bench_event", listener)
        fire = hass.bus.async_fire_internal
        data = EVENT_DATA
        start = time.perf_counter()
        for _ in range(FIRE_EVENTS):
            fire("bench_event", data)
        await asyncio.sleep(0)  # drain: run callbacks deferred with call_soon
        elapsed = time.perf_counter() - start
        assert count == FIRE_EVENTS, count
        await hass.async_stop()
    return result(elapsed, FIRE_EVENTS)


async def state_writes() -> dict[str, Any]:
    """(b) STATE_WRITES real state changes cycling over WRITE_ENTITIES entities."""
    with tempfile.TemporaryDirectory() as tmp:
        hass = await _hass(tmp)
        entity_ids = [f"sensor.bench_{i}" for i in range(WRITE_ENTITIES)]
        for entity_id in entity_ids:
            hass.states.async_set(entity_id, "init", ATTRIBUTES)
        changed = 0

        @callback
        def on_changed(event: Event) -> None:
            nonlocal changed
            changed += 1

        hass.bus.async_listen("state_changed", on_changed)
        set_state = hass.states.async_set
        attributes = ATTRIBUTES
        start = time.perf_counter()
        for value in range(STATE_WRITES // WRITE_ENTITIES):
            state = str(value)
            for entity_id in entity_ids:
                set_state(entity_id, state, attributes)
        await asyncio.sleep(0)  # drain: run callbacks deferred with call_soon
        elapsed = time.perf_counter() - start
        assert changed == STATE_WRITES, changed
        await hass.async_stop()
    return result(elapsed, STATE_WRITES)


async def state_tracking() -> dict[str, Any]:
    """(c) TRACK_EVENTS state_changed events routed to one tracker per entity."""
    from homeassistant.helpers.event import async_track_state_change_event

    with tempfile.TemporaryDirectory() as tmp:
        hass = await _hass(tmp)
        entity_ids = [f"sensor.track_{i}" for i in range(TRACK_ENTITIES)]
        payloads = []
        for entity_id in entity_ids:
            hass.states.async_set(entity_id, "off", ATTRIBUTES)
            old_state = hass.states.get(entity_id)
            hass.states.async_set(entity_id, "on", ATTRIBUTES)
            new_state = hass.states.get(entity_id)
            payloads.append(
                {"entity_id": entity_id, "old_state": old_state, "new_state": new_state}
            )
        calls = dict.fromkeys(entity_ids, 0)

        @callback
        def tracker(event: Event) -> None:
            calls[event.data["entity_id"]] += 1

        for entity_id in entity_ids:
            async_track_state_change_event(hass, [entity_id], tracker)
        fire = hass.bus.async_fire_internal
        start = time.perf_counter()
        for _ in range(TRACK_EVENTS // TRACK_ENTITIES):
            for payload in payloads:
                fire("state_changed", payload)
            await asyncio.sleep(0)  # drain each round: HA dispatches trackers via call_soon
        elapsed = time.perf_counter() - start
        per_tracker = TRACK_EVENTS // TRACK_ENTITIES
        assert all(n == per_tracker for n in calls.values()), set(calls.values())
        await hass.async_stop()
    return result(elapsed, TRACK_EVENTS)


def _states_json(hass: HomeAssistant) -> tuple[bytes, str]:
    """The /api/states body, built exactly as HA's REST API view builds it."""
    body = b"".join((b"[", b",".join(s.as_dict_json for s in hass.states.async_all()), b"]"))
    return body, "State.as_dict_json (cached per State)"


async def _serialize(passes: int) -> dict[str, Any]:
    import orjson

    with tempfile.TemporaryDirectory() as tmp:
        hass = await _hass(tmp)
        for i in range(SERIALIZE_STATES):
            hass.states.async_set(f"sensor.ser_{i}", str(i), ATTRIBUTES)
        _states_json(hass)  # throwaway pass so imports/lazy setup are not timed
        for i in range(SERIALIZE_STATES):  # fresh State objects: nothing cached on them
            hass.states.async_set(f"sensor.ser_{i}", str(i + 1), ATTRIBUTES)
        for _ in range(passes - 1):
            _states_json(hass)
        start = time.perf_counter()
        body, method = _states_json(hass)
        elapsed = time.perf_counter() - start
        assert len(orjson.loads(body)) == SERIALIZE_STATES
        await hass.async_stop()
    return result(elapsed, SERIALIZE_STATES, bytes=len(body), method=method)


async def serialize_states() -> dict[str, Any]:
    """(d) First serialization of SERIALIZE_STATES freshly written states."""
    return await _serialize(passes=1)


async def serialize_states_cached() -> dict[str, Any]:
    """(d') Second serialization of the same states (HA caches as_dict_json per State)."""
    return await _serialize(passes=2)


async def start_rss() -> dict[str, Any]:
    """(e) Peak RSS after bootstrapping an empty configuration, as ``hass --config`` does.

    ``async_from_config_dict({})`` loads the registries, the core integrations and HA's
    DEFAULT_INTEGRATIONS (http, api, automation, script, person, backup, ...). ``skip_pip``
    stops runtime installs, so ``frontend`` (needs the home-assistant-frontend wheel) fails.
    """
    from homeassistant import bootstrap, loader

    with tempfile.TemporaryDirectory() as tmp:
        hass = HomeAssistant(tmp)
        loader.async_setup(hass)
        hass.config.skip_pip = True
        assert await bootstrap.async_from_config_dict({}, hass) is not None
        await hass.async_start()
        rss = peak_rss_mb()
        components = len(hass.config.components)
        await hass.async_stop()
    return {"value": rss, "unit": "MB", "components": components}


async def core_rss() -> dict[str, Any]:
    """(e') Peak RSS of the core runtime alone: the hass used for (a)-(d), no integrations."""
    with tempfile.TemporaryDirectory() as tmp:
        hass = await _hass(tmp)
        rss = peak_rss_mb()
        await hass.async_stop()
    return {"value": rss, "unit": "MB"}


# -- automation engine: (f) runs, (g) cold start, (h) dispatch latency -----------------------
async def _automation_hass(config_dir: Path, count: int) -> tuple[HomeAssistant, dict[str, float]]:
    """A hass on a config dir holding ``count`` automations (the YAML of ``automations_yaml``
    in ``automations.yaml``, ``automation: !include automations.yaml``), loaded through HA's
    own path, started, every automation entity present and its triggers attached.
    Returns the hass and the seconds each start-up phase took (``total`` from the start)."""
    write_config_dir(config_dir, "ha", count)
    phases: dict[str, float] = {}
    start = time.perf_counter()
    import homeassistant.components.automation as automation_integration
    import homeassistant.components.blueprint
    import homeassistant.components.trace  # noqa: F401  (automation's dependencies)

    import_done = time.perf_counter()
    phases["import"] = import_done - start
    # HA's equivalents of our core hub/config/loader modules, imported untimed like those
    from homeassistant import bootstrap, config_entries, loader
    from homeassistant import config as conf_util
    from homeassistant.components.automation import config as automation_config
    from homeassistant.setup import async_setup_component

    # each wrapped function runs once per start, so the wrappers cost nothing measurable
    time_calls(automation_config, "async_validate_config", phases, "validate")
    # what bootstrap does before any integration, untimed like creating our Hub object
    hass = HomeAssistant(str(config_dir))
    loader.async_setup(hass)
    hass.config.skip_pip = True
    await hass.config.async_set_time_zone("UTC")
    hass.config_entries = config_entries.ConfigEntries(hass, {})
    await bootstrap.async_load_base_functionality(hass)
    started = time.perf_counter()
    config = await conf_util.async_hass_config_yaml(hass)
    parsed = time.perf_counter()
    assert await async_setup_component(hass, "automation", config)
    loaded = time.perf_counter()
    await hass.async_start()  # automations attach their triggers on homeassistant_started
    await hass.async_block_till_done()
    component = hass.data[automation_integration.DATA_COMPONENT]
    attached = sum(a._async_detach_triggers is not None for a in component.entities)
    entities = len(hass.states.async_entity_ids("automation"))
    done = time.perf_counter()
    assert entities == count and attached == count, (entities, attached)
    phases["parse"] = parsed - started
    phases["create"] = loaded - parsed - phases.get("validate", 0.0)
    phases["attach"] = done - loaded
    phases["start"] = done - started
    phases["total"] = phases["import"] + phases["start"]
    phases["other"] = phases["start"] - sum(
        seconds for name, seconds in phases.items() if name not in ("import", "start", "total")
    )
    return hass, phases


async def automation_runs() -> dict[str, Any]:
    """(f) RUN_WRITES state writes on RUN_AUTOMATIONS watched entities (alternating on/off),
    so RUNS automation runs happen; timed until the RUNS-th action event has fired."""
    from homeassistant.components.trace.const import DATA_TRACE

    with tempfile.TemporaryDirectory() as tmp:
        hass, _ = await _automation_hass(Path(tmp), RUN_AUTOMATIONS)
        set_state = hass.states.async_set
        set_state(GUARD_ENTITY, "ok")
        entity_ids = [trigger_entity(i) for i in range(RUN_AUTOMATIONS)]
        for entity_id in entity_ids:
            set_state(entity_id, "off")
        await hass.async_block_till_done()
        done = hass.loop.create_future()
        count = 0

        @callback
        def on_done(event: Event) -> None:
            nonlocal count
            count += 1
            if count == RUNS:
                done.set_result(None)

        hass.bus.async_listen(DONE_EVENT, on_done)
        start = time.perf_counter()
        for _ in range(RUN_WRITES // (2 * RUN_AUTOMATIONS)):
            for entity_id in entity_ids:
                set_state(entity_id, "on")
            for entity_id in entity_ids:
                set_state(entity_id, "off")
            await asyncio.sleep(0)  # one loop turn per burst of 2 x RUN_AUTOMATIONS writes
        await asyncio.wait_for(done, RUN_TIMEOUT)
        elapsed = time.perf_counter() - start
        await hass.async_block_till_done()
        assert count == RUNS, count
        traces = sum(len(kept) for kept in hass.data[DATA_TRACE].values())
        assert traces == RUN_AUTOMATIONS * 5, traces  # the default 5 kept per automation
        await hass.async_stop()
    return result(elapsed, RUNS, writes=RUN_WRITES, traces_kept=traces)


async def _cold_start(count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        hass, phases = await _automation_hass(Path(tmp), count)
        rss = peak_rss_mb()
        now_rss = current_rss_mb()
        await hass.async_stop()
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
        hass, _ = await _automation_hass(Path(tmp), count)
        set_state = hass.states.async_set
        set_state(GUARD_ENTITY, "ok")
        for i in range(count):
            set_state(trigger_entity(i), "off")
        await hass.async_block_till_done()
        active = min(count, DISPATCH_ACTIVE)
        entity_ids = [trigger_entity(i * count // active) for i in range(active)]
        garbage = Garbage()
        fired_at = 0.0
        fired = hass.loop.create_future()

        @callback
        def on_done(event: Event) -> None:
            nonlocal fired_at
            fired_at = time.perf_counter()
            if not fired.done():
                fired.set_result(None)

        hass.bus.async_listen(DONE_EVENT, on_done)
        samples: list[float] = []
        with_gc = 0  # samples during which a collection ran
        warmup = DISPATCH_WARMUP * active
        with GcWatch() as watch:
            for k in range(warmup + DISPATCH_SAMPLES):
                entity_id = entity_ids[k % active]
                set_state(entity_id, "off")  # re-arm: "off" does not trigger (to: "on")
                garbage.allocate()
                fired = hass.loop.create_future()
                collections = watch.finished
                start = time.perf_counter()
                set_state(entity_id, "on")
                await asyncio.wait_for(fired, RUN_TIMEOUT)
                if k >= warmup:
                    samples.append(fired_at - start)
                    with_gc += watch.finished != collections
                await asyncio.sleep(0)  # untimed: the run's own tail (trace end, state write)
        await hass.async_block_till_done()
        await hass.async_stop()
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
