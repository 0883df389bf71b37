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
