"""Shared sizes and the tiny runner used by both workload files.

Each workload file calls :func:`main` with a mapping of workload name to coroutine function.
The chosen workload runs once inside ``asyncio.run`` and the result is printed as one JSON
line on stdout, which ``compare.py`` reads. Only the standard library is imported here so the
RSS workload measures the hub, not the harness.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import sys
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

# Workload sizes: identical on both sides.
FIRE_EVENTS = 1_000_000  # (a) events fired to one listener
WRITE_ENTITIES = 1_000  # (b) entities cycled over
STATE_WRITES = 100_000  # (b) state writes in total
TRACK_ENTITIES = 1_000  # (c) entities, one tracker each
TRACK_EVENTS = 1_000_000  # (c) state_changed events in total
SERIALIZE_STATES = 50_000  # (d) states serialized

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


def main(workloads: Mapping[str, Workload]) -> None:
    """Run the workload named in ``sys.argv[1]`` and print its result as JSON."""
    if len(sys.argv) != 2 or sys.argv[1] not in workloads:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(workloads)}}}")
    logging.basicConfig(level=logging.WARNING)
    name = sys.argv[1]
    out = asyncio.run(workloads[name]())
    print(json.dumps({"workload": name, **out}), flush=True)
