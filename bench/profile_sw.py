"""Where Shouwang's cold start with many automations spends its time and memory.

Not part of ``bench/run``: a tool for looking into a number that misses its target. It starts
a hub on the same config dir as the ``cold_start`` workload (``_common.write_config_dir``) and
reports one of:

``python profile_sw.py gc [N]``
    wall time of ``hub.start()`` and every cyclic-GC collection during it, by generation.
``python profile_sw.py garbage [N]``
    the reference-cycle garbage start-up leaves for the collector (GC paused during start,
    then ``DEBUG_SAVEALL``): object types, and which functions' frames are in the cycles.
``python profile_sw.py cprofile [N]``
    cProfile of ``hub.start()`` (all threads: the YAML is loaded in the executor), top
    functions by internal and by cumulative time. The profiler roughly doubles the run time.
``python profile_sw.py memory [N]``
    tracemalloc: the traced peak and what is left after each phase (YAML parse, load and
    validation, entity creation), then the source lines holding the most memory after start.

``N`` is the number of automations (default ``COLD_AUTOMATIONS``, 10,000). Run it with the
Shouwang venv: ``bench/.venv-sw/bin/python bench/profile_sw.py memory``.
"""

from __future__ import annotations

import asyncio
import atexit
import cProfile
import gc
import linecache
import pstats
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import COLD_AUTOMATIONS, current_rss_mb, peak_rss_mb, write_config_dir

from shouwang.core import hub as hub_module
from shouwang.core.hub import Hub

MiB = 1024 * 1024


def _short(filename: str) -> str:
    for prefix in (str(Path(__file__).resolve().parent.parent) + "/", "site-packages/"):
        if prefix in filename:
            return filename.split(prefix, 1)[1]
    return filename


async def _start(count: int, before: Callable[[Hub], None] | None = None) -> tuple[Hub, float]:
    """A started hub on a fresh config dir with ``count`` automations, and the start time."""
    import shouwang.integrations.automation  # noqa: F401  (imported untimed)

    tmp = Path(tempfile.mkdtemp(prefix="shouwang-profile-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    write_config_dir(tmp, "sw", count)
    hub = Hub(config_dir=tmp)
    if before is not None:
        before(hub)
    start = time.perf_counter()
    await hub.start()
    return hub, time.perf_counter() - start


async def gc_pauses(count: int) -> None:
    pauses: list[tuple[int, float]] = []
    started = [0.0]

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses.append((info["generation"], time.perf_counter() - started[0]))

    gc.callbacks.append(callback)
    hub, seconds = await _start(count)
    gc.callbacks.remove(callback)
    print(f"hub.start(): {seconds:.2f} s with {count} automations")
    for generation in range(3):
        times = [p for g, p in pauses if g == generation]
        print(
            f"  gen {generation}: {len(times)} collections, {sum(times) * 1000:.0f} ms in all, "
            f"longest {max(times, default=0) * 1000:.0f} ms"
        )
    print(f"  GC share of start: {sum(p for _, p in pauses) / seconds:.0%}")
    await hub.stop()


async def garbage(count: int) -> None:
    report: dict[str, Any] = {}

    def freeze() -> None:  # replaces freeze_startup_objects for this run
        gc.set_debug(gc.DEBUG_SAVEALL)
        report["collected"] = gc.collect()
        found = list(gc.garbage)
        gc.garbage.clear()
        gc.set_debug(0)
        report["types"] = Counter(type(o).__name__ for o in found).most_common(12)
        report["frames"] = Counter(
            f"{o.f_code.co_qualname} ({_short(o.f_code.co_filename)})"
            for o in found
            if type(o).__name__ == "frame"
        ).most_common(12)
        report["exceptions"] = Counter(
            f"{type(o).__name__}: {str(o)[:70]}" for o in found if isinstance(o, BaseException)
        ).most_common(5)
        gc.freeze()

    original = hub_module.freeze_startup_objects
    hub_module.freeze_startup_objects = freeze
    gc.disable()
    try:
        hub, _ = await _start(count)
    finally:
        gc.enable()
        hub_module.freeze_startup_objects = original
    print(f"cyclic garbage left by start-up: {report['collected']} objects")
    for title in ("types", "frames", "exceptions"):
        print(f"  {title}:")
        for name, n in report[title]:
            print(f"    {n:8d}  {name}")
    await hub.stop()


async def profile(count: int) -> None:
    profiler = cProfile.Profile()
    hub, seconds = await _start(count, before=lambda _hub: profiler.enable())
    profiler.disable()
    print(f"hub.start(): {seconds:.2f} s under cProfile")
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    await hub.stop()


async def memory(count: int) -> None:
    from shouwang.integrations import automation as integration
    from shouwang.integrations.automation import config as automation_config

    phases: list[str] = []

    def mark(name: str, before: int) -> None:
        now, peak = tracemalloc.get_traced_memory()
        phases.append(
            f"  {name:<32} before {before / MiB:6.1f}  peak {peak / MiB:6.1f}  "
            f"after {now / MiB:6.1f} MiB"
        )

    def measured(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            try:
                return function(*args, **kwargs)
            finally:
                mark(name, before)

        return wrapper

    apply = integration.AutomationRuntime.apply

    async def measured_apply(self: Any, result: Any) -> None:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        await apply(self, result)
        mark("apply (entities, triggers)", before)

    for owner, name, label in (
        (automation_config, "load_yaml", "parse (load_yaml)"),
        (integration, "load_automations", "load_automations (parse+validate)"),
    ):
        setattr(owner, name, measured(label, getattr(owner, name)))
    setattr(integration.AutomationRuntime, "apply", measured_apply)  # noqa: B010
    hub, _ = await _start(count, before=lambda _hub: tracemalloc.start(1))
    snapshot = tracemalloc.take_snapshot()
    now = tracemalloc.get_traced_memory()[0]
    gc.collect()
    freed = now - tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(f"tracemalloc, {count} automations (MiB; peak = highest point within the phase):")
    print("\n".join(phases))
    print(
        f"  after start: {now / MiB:.1f} MiB traced = {now / count / 1024:.1f} KiB per "
        f"automation; process peak RSS {peak_rss_mb():.0f} MiB, now {current_rss_mb():.0f} MiB"
    )
    print(f"  a full collection after start frees {freed / MiB:.1f} MiB")
    print("\nlargest holders after start (source line of the allocation):")
    for stat in snapshot.statistics("lineno")[:30]:
        frame = stat.traceback[0]
        line = linecache.getline(frame.filename, frame.lineno).strip()[:70]
        print(
            f"  {stat.size / MiB:6.1f} MiB {stat.count:8d}  "
            f"{_short(frame.filename)}:{frame.lineno}  {line}"
        )
    await hub.stop()


COMMANDS = {"gc": gc_pauses, "garbage": garbage, "cprofile": profile, "memory": memory}

if __name__ == "__main__":
    if len(sys.argv) not in (2, 3) or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(COMMANDS)}}} [automations]")
    automations = int(sys.argv[2]) if len(sys.argv) == 3 else COLD_AUTOMATIONS
    asyncio.run(COMMANDS[sys.argv[1]](automations))
