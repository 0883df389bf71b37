"""Shared sizes and the tiny runner used by both workload files.

Each workload file calls :func:`main` with a mapping of workload name to coroutine function.
The chosen workload runs once inside ``asyncio.run`` and the result is printed as one JSON
line on stdout, which ``compare.py`` reads. Only the standard library is imported here so the
RSS workload measures the hub, not the harness.

The automation workloads (runs, cold start, dispatch latency) load the very same YAML on both
sides: :func:`automations_yaml` writes it, :func:`write_config_dir` lays it out the way each
side reads it (``automations/bench.yaml`` for Shouwang, ``automations.yaml`` pulled in with
``automation: !include automations.yaml`` for Home Assistant).
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import json
import logging
import math
import os
import random
import resource
import sys
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any

# Workload sizes: identical on both sides.
FIRE_EVENTS = 1_000_000  # (a) events fired to one listener
WRITE_ENTITIES = 1_000  # (b) entities cycled over
STATE_WRITES = 100_000  # (b) state writes in total
TRACK_ENTITIES = 1_000  # (c) entities, one tracker each
TRACK_EVENTS = 1_000_000  # (c) state_changed events in total
SERIALIZE_STATES = 50_000  # (d) states serialized

# Automation engine workloads: identical on both sides.
RUN_AUTOMATIONS = 100  # (f) automations, each on its own entity
RUN_WRITES = 10_000  # (f) state writes: every entity alternates on/off
RUNS = RUN_WRITES // 2  # (f) runs: only the writes to "on" trigger
COLD_AUTOMATIONS = 10_000  # (g) automations in the YAML for the cold start
DISPATCH_SMALL = 10  # (h) automations loaded, small hub
DISPATCH_LARGE = 10_000  # (h') automations loaded, large hub
DISPATCH_SAMPLES = 2_000  # (h) timed state change -> action samples per run
DISPATCH_ACTIVE = 100  # (h) automations the samples cycle over, spread over those loaded
DISPATCH_WARMUP = 2  # (h) untimed runs of each active automation first (first-run setup)
GARBAGE_OBJECTS = 1_000  # (h) containers allocated between two samples, kept a while ...
GARBAGE_KEPT = 20  # (h) ... for this many samples, then freed by reference counting
GARBAGE_CYCLES = 500  # (h) tiny reference cycles per sample (mean), garbage at once
GARBAGE_SEED = 2025  # (h) the random numbers of cycles: the same sequence on both sides
RUN_TIMEOUT = 300.0  # seconds; a side that never reaches the expected count fails loudly

DONE_EVENT = "bench_automation_done"  # the event every benchmark automation's action fires
GUARD_ENTITY = "sensor.bench_guard"  # read by every condition template
MODE = "parallel"  # never refuses a run while fewer than MAX_RUNS are in flight
MAX_RUNS = 1_000

EVENT_DATA: dict[str, Any] = {"value": 1}
ATTRIBUTES: dict[str, Any] = {
    "unit_of_measurement": "°C",
    "device_class": "temperature",
    "friendly_name": "Bench sensor",
}

Workload = Callable[[], Coroutine[Any, Any, dict[str, Any]]]


def result(seconds: float, ops: int, **extra: Any) -> dict[str, Any]:
    """Build a timing result: seconds taken for ``ops`` operations."""
    return {"value": seconds, "unit": "s", "ops": ops, **extra}


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def trigger_entity(index: int) -> str:
    """The entity watched by automation ``index``."""
    return f"binary_sensor.bench_{index:05d}"


def automations_yaml(count: int) -> str:
    """``count`` automations as one YAML list (Home Assistant's syntax, read by both sides).

    Each has its own state trigger on its own entity (``to: "on"``), a template condition
    that reads the trigger and another entity, and an ``event`` action. Mode ``parallel`` with
    a high ``max`` so no run is ever refused; traces stay at their default (on, 5 kept).
    """
    parts = []
    for i in range(count):
        parts.append(
            f"""- id: bench_{i:05d}
  alias: Bench automation {i:05d}
  mode: {MODE}
  max: {MAX_RUNS}
  triggers:
    - trigger: state
      entity_id: {trigger_entity(i)}
      to: "on"
  conditions:
    - condition: template
      value_template: >-
        {{{{ trigger.to_state.state == 'on' and states('{GUARD_ENTITY}') != 'unavailable' }}}}
  actions:
    - event: {DONE_EVENT}
      event_data:
        automation: bench_{i:05d}
"""
        )
    return "".join(parts) if parts else "[]\n"


def write_config_dir(config_dir: Path, side: str, count: int) -> None:
    """Lay out ``count`` automations the way ``side`` ("sw" or "ha") reads them."""
    text = automations_yaml(count)
    if side == "sw":
        (config_dir / "configuration.yaml").write_text(
            "shouwang:\n  name: Bench\n  time_zone: UTC\n", encoding="utf-8"
        )
        (config_dir / "automations").mkdir()
        (config_dir / "automations" / "bench.yaml").write_text(text, encoding="utf-8")
    else:
        (config_dir / "configuration.yaml").write_text(
            "homeassistant:\n  name: Bench\n  time_zone: UTC\n"
            "automation: !include automations.yaml\n",
            encoding="utf-8",
        )
        (config_dir / "automations.yaml").write_text(text, encoding="utf-8")


class Garbage:
    """What a busy hub allocates between two state changes, so CPython's cyclic GC runs its
    young *and* full collections as it would in a long-running hub.

    * ``GARBAGE_OBJECTS`` small containers (dicts and lists, like event payloads, history
      rows, cache entries) stay referenced for the next ``GARBAGE_KEPT`` samples, then are
      dropped and freed by reference counting. Alive across young collections, they age into
      the old generation: that is what eventually triggers a full collection (CPython runs one
      when the objects promoted since the last one exceed a quarter of the old generation).
    * On average ``GARBAGE_CYCLES`` tiny reference cycles (a dict pointing at itself, like an
      object and its context pointing at each other), garbage at once. Only the cyclic GC
      frees them, so they drive the allocation count that schedules the collections (freeing
      by reference counting lowers it again). They die young, so freeing them costs the full
      collections nothing: a full pass then costs what walking the hub's live objects costs.
      Their number per sample is random (uniform 0 to twice the mean, the same seeded
      sequence on both sides), so where the count crosses the GC's threshold is spread
      evenly: a collection falls inside a timed sample about as often as that side's dispatch
      path allocates, not by an accident of the loop's rhythm.
    """

    def __init__(self) -> None:
        self._kept: list[list[Any]] = []
        self._serial = 0
        self._random = random.Random(GARBAGE_SEED)

    def allocate(self) -> None:
        self._serial += 1
        if len(self._kept) >= GARBAGE_KEPT:
            del self._kept[0]  # first, so the batch below adds nothing net to the GC's count
        batch: list[Any] = []
        for i in range(GARBAGE_OBJECTS // 2):
            batch.append({"serial": self._serial, "i": i, "tags": ["bench", i]})
        self._kept.append(batch)
        for i in range(self._random.randint(0, 2 * GARBAGE_CYCLES)):
            cycle: dict[str, Any] = {"i": i}
            cycle["self"] = cycle


class GcWatch:
    """Times every cyclic-GC collection (``gc.callbacks``) while active: the pauses the
    collector itself caused, whether or not one fell inside a timed sample."""

    def __init__(self) -> None:
        self.collections = [0, 0, 0]
        self.max_pause = [0.0, 0.0, 0.0]
        self.finished = 0  # collections finished so far: a sample compares before/after
        self._start = 0.0

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
            return
        generation = info["generation"]
        pause = time.perf_counter() - self._start
        self.collections[generation] += 1
        self.max_pause[generation] = max(self.max_pause[generation], pause)
        self.finished += 1

    def __enter__(self) -> GcWatch:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def summary(self) -> dict[str, Any]:
        return {
            "gc_collections": self.collections,
            "gc_max_pause_ms": [round(p * 1000, 3) for p in self.max_pause],
        }


def latency_summary(samples: Sequence[float]) -> dict[str, float]:
    """p50/p99/max (and mean) in milliseconds of ``samples`` given in seconds."""
    ordered = sorted(samples)
    n = len(ordered)

    def pct(p: float) -> float:  # nearest rank
        return ordered[min(n - 1, max(0, math.ceil(p / 100 * n) - 1))] * 1000

    return {
        "p50_ms": pct(50),
        "p99_ms": pct(99),
        "max_ms": ordered[-1] * 1000,
        "mean_ms": sum(ordered) / n * 1000,
    }


def time_calls(owner: Any, name: str, phases: dict[str, float], key: str) -> None:
    """Wrap ``owner.name`` (a function or coroutine function) so the seconds spent in it add
    up in ``phases[key]``. Only for functions called a handful of times per start-up (the
    wrapper's own cost, about a microsecond per call, then stays out of the numbers)."""
    original = getattr(owner, name)

    if inspect.iscoroutinefunction(original):

        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                phases[key] = phases.get(key, 0.0) + time.perf_counter() - start

        setattr(owner, name, async_wrapper)
        return

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            phases[key] = phases.get(key, 0.0) + time.perf_counter() - start

    setattr(owner, name, wrapper)


def current_rss_mb() -> float:
    """Resident set size of this process now, in MiB (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm", encoding="ascii") as file:
        resident_pages = int(file.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def main(workloads: Mapping[str, Workload]) -> None:
    """Run the workload named in ``sys.argv[1]`` and print its result as JSON."""
    if len(sys.argv) != 2 or sys.argv[1] not in workloads:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(workloads)}}}")
    logging.basicConfig(level=logging.WARNING)
    name = sys.argv[1]
    out = asyncio.run(workloads[name]())
    print(json.dumps({"workload": name, **out}), flush=True)
