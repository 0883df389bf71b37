"""Run every workload on Shouwang and Home Assistant and print a side-by-side table.

Each run of each workload is a fresh subprocess of the side's venv interpreter; the sides take
turns run by run, and the median of ``--repeat`` runs is reported. Results also go to
``bench/results/latest.json``. Usually started through ``bench/run``; standard library only.

After the main table come the automation-engine details: the dispatch latency percentiles,
the cold start's phases and memory, and whether each of the issue's targets is met.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, TypeGuard

BENCH = Path(__file__).resolve().parent
SIDES = {"sw": ("Shouwang", "workloads_sw.py"), "ha": ("Home Assistant", "workloads_ha.py")}
WORKLOADS = {
    "fire_events": "(a) fire 1M events → 1 listener",
    "state_writes": "(b) 100k state writes (1k entities)",
    "state_tracking": "(c) 1M state_changed → 1k trackers",
    "serialize_states": "(d) /api/states JSON, 50k states, first pass",
    "serialize_states_cached": "(d') /api/states JSON, 50k states, second pass",
    "start_rss": "(e) peak RSS, start on empty config",
    "core_rss": "(e') peak RSS, core runtime only",
    "automation_runs": "(f) 10k state writes → 5k automation runs",
    "cold_start": "(g) cold start, 10k YAML automations",
    "dispatch_small": "(h) state change → action, p99, 10 automations",
    "dispatch_large": "(h') state change → action, p99, 10k automations",
}
#: workloads whose runs are paired with a baseline run (same rounds, same process order)
BASELINES = {"cold_start": "cold_start_bare"}
#: how each workload's ops are named in the table
OP_NAMES = {"automation_runs": "run"}


def run_once(python: str, side: str, workload: str) -> dict[str, Any]:
    """Run one workload in a fresh process and return its parsed JSON result."""
    script = BENCH / SIDES[side][1]
    try:
        proc = subprocess.run(
            [python, str(script), workload], capture_output=True, text=True, cwd=BENCH, check=False
        )
    except OSError as err:
        return {"error": str(err)}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": f"exit {proc.returncode}: {tail[0][:200]}"}
    out: dict[str, Any] = json.loads(lines[-1])
    return out


def run_interleaved(
    pythons: dict[str, str], sides: list[str], workload: str, repeat: int
) -> dict[str, dict[str, Any]]:
    """Run ``repeat`` rounds, each side once per round (sw, ha, sw, ha, ...), so background
    noise on the shared machine falls on both sides alike; summarize each side by its median.
    A workload with a baseline (:data:`BASELINES`) runs it right before itself each time."""
    baseline = BASELINES.get(workload)
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    base_runs: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    failed: dict[str, dict[str, Any]] = {}
    for _ in range(repeat):
        for side in sides:
            if side in failed:
                continue
            if baseline is not None:
                out = run_once(pythons[side], side, baseline)
                if "error" in out:
                    print(f"  {SIDES[side][0]} {baseline}: {out['error']}", file=sys.stderr)
                    failed[side] = out
                    continue
                base_runs[side].append(out)
            out = run_once(pythons[side], side, workload)
            if "error" in out:
                print(f"  {SIDES[side][0]} {workload}: {out['error']}", file=sys.stderr)
                failed[side] = out
            else:
                runs[side].append(out)
    summary: dict[str, dict[str, Any]] = dict(failed)
    for side in sides:
        if side in failed:
            continue
        summary[side] = summarize(runs[side])
        if baseline is not None:
            summary[side]["baseline"] = summarize(base_runs[side])
    return summary


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over runs: ``median``/``min``/``runs`` for the headline ``value``, and the
    median of every other numeric field (nested dicts and lists element by element)."""
    values = [r["value"] for r in runs]
    out: dict[str, Any] = {}
    for key, first in runs[0].items():
        if key in ("value", "workload"):
            continue
        out[key] = median_of([r.get(key, first) for r in runs])
    out.update(median=statistics.median(values), min=min(values), runs=values)
    if len(runs) > 1 and any(isinstance(v, dict | list) for v in runs[0].values()):
        out["all_runs"] = [{k: v for k, v in r.items() if k != "workload"} for r in runs]
    return out


def median_of(items: list[Any]) -> Any:
    """The median of numbers; element-wise for dicts and lists; the first item otherwise."""
    first = items[0]
    if isinstance(first, bool) or not isinstance(first, int | float | dict | list):
        return first
    if isinstance(first, dict):
        return {
            key: median_of([item.get(key, value) for item in items]) for key, value in first.items()
        }
    if isinstance(first, list):
        return [median_of([item[i] for item in items]) for i in range(len(first))]
    return statistics.median(items)


def fmt(name: str, res: dict[str, Any] | None) -> str:
    """Human cell: seconds with throughput (or µs per op), milliseconds, or MB."""
    if res is None:
        return "—"
    if "error" in res:
        return "error"
    if res["unit"] == "MB":
        return f"{res['median']:.1f} MB"
    if res["unit"] == "ms":
        return f"{res['median']:.2f} ms"
    if name in OP_NAMES:
        per_op = res["median"] / res["ops"] * 1e6
        return f"{res['median'] * 1000:.0f} ms ({per_op:.0f} µs/{OP_NAMES[name]})"
    if name == "cold_start":
        return f"{res['median']:.2f} s"
    rate = res["ops"] / res["median"]
    return f"{res['median'] * 1000:.0f} ms ({rate / 1e6:.2f} M/s)"


def ratio(ours: dict[str, Any] | None, theirs: dict[str, Any] | None) -> float | None:
    """HA / Shouwang: above 1 means Shouwang is faster (or smaller)."""
    if not ours or not theirs or "error" in ours or "error" in theirs:
        return None
    return float(theirs["median"] / ours["median"])


def ok(res: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
    """A side's summary that exists and did not fail."""
    return res is not None and "error" not in res


def cell_ratio(value: float | None) -> str:
    return f"{value:.2f}x" if value is not None else "—"


def print_cold_start(result: dict[str, Any]) -> None:
    """The cold start's memory rows for the main table (peak, bare peak, increase)."""
    ours, theirs = result.get("sw"), result.get("ha")
    for side_res in (ours, theirs):
        if ok(side_res) and "baseline" in side_res:
            increase = side_res["peak_rss_mb"] - side_res["baseline"]["peak_rss_mb"]
            side_res["rss_increase_mb"] = increase
            side_res["kib_per_automation"] = increase * 1024 / side_res["ops"]
    rows = [
        ("(g) peak RSS, 10k automations", "peak_rss_mb", "{:.1f} MB"),
        ("(g) peak RSS, same start with no automations", None, "{:.1f} MB"),
        ("(g) peak RSS increase over that bare start", "rss_increase_mb", "{:.1f} MB"),
        ("(g) ... per automation", "kib_per_automation", "{:.1f} KiB"),
    ]
    for label, key, pattern in rows:
        cells: list[str] = []
        values: list[float | None] = []
        for side_res in (ours, theirs):
            if not ok(side_res):
                cells.append("—")
                values.append(None)
                continue
            value = side_res["baseline"]["peak_rss_mb"] if key is None else side_res.get(key)
            cells.append(pattern.format(value) if value is not None else "—")
            values.append(value)
        mine, theirs_value = values
        r = theirs_value / mine if mine and theirs_value is not None else None
        print(f"| {label} | {cells[0]} | {cells[1]} | {cell_ratio(r)} |")


def print_details(results: dict[str, dict[str, Any]]) -> None:
    """The automation-engine tables: latency percentiles, cold-start phases, targets."""
    latency = [n for n in ("dispatch_small", "dispatch_large") if n in results]
    if latency:
        print("\n### Dispatch latency: state write → first action (median of runs)\n")
        print(
            "| automations loaded | side | p50 ms | p99 ms | max ms | samples with a GC inside "
            "| longest GC pause, gen 0 / 1 / 2 (ms) | collections, gen 0 / 1 / 2 |"
        )
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name in latency:
            loaded = "10" if name == "dispatch_small" else "10,000"
            for side in ("sw", "ha"):
                res = results[name].get(side)
                if not ok(res):
                    continue
                pauses = " / ".join(f"{p:.1f}" for p in res["gc_max_pause_ms"])
                counts = " / ".join(f"{c:.0f}" for c in res["gc_collections"])
                print(
                    f"| {loaded} | {SIDES[side][0]} | {res['p50_ms']:.3f} | {res['p99_ms']:.3f} "
                    f"| {res['max_ms']:.2f} | {res['samples_with_gc']:.0f} of "
                    f"{res['samples']:.0f} | {pauses} | {counts} |"
                )
    cold = results.get("cold_start")
    if cold:
        print("\n### Cold start phases (s, median of runs)\n")
        names: list[str] = []
        for side in ("sw", "ha"):
            if ok(cold.get(side)):
                names += [p for p in cold[side]["phases"] if p not in names]
        order = ["import", "config", "parse", "validate", "create+attach", "create", "attach"]
        order += ["gc freeze", "other", "start", "total"]
        print("| phase | Shouwang | Home Assistant |")
        print("| --- | ---: | ---: |")
        for phase in [p for p in order if p in names]:
            cells = []
            for side in ("sw", "ha"):
                side_res = cold.get(side)
                value = side_res["phases"].get(phase) if ok(side_res) else None
                cells.append(f"{value:.3f}" if value is not None else "—")
            label = {"start": "total without import", "total": "total (the table's number)"}
            print(f"| {label.get(phase, phase)} | {cells[0]} | {cells[1]} |")
    print_targets(results)


def print_targets(results: dict[str, dict[str, Any]]) -> None:
    """The issue's targets, met or missed, from the medians above."""
    checks: list[tuple[str, str, bool | None]] = []

    def get(name: str, side: str) -> dict[str, Any] | None:
        res = results.get(name, {}).get(side)
        return res if ok(res) else None

    runs_sw, runs_ha = get("automation_runs", "sw"), get("automation_runs", "ha")
    if runs_sw and runs_ha:
        r = runs_ha["median"] / runs_sw["median"]
        checks.append(("(f) runs: ours ≥ 4x faster than HA", f"{r:.2f}x", r >= 4))
    cold_sw, cold_ha = get("cold_start", "sw"), get("cold_start", "ha")
    if cold_sw and cold_ha:
        r = cold_ha["median"] / cold_sw["median"]
        checks.append(("(g) cold start time: ours ≤ 1/4 of HA's", f"{r:.2f}x", r >= 4))
        r = cold_ha["peak_rss_mb"] / cold_sw["peak_rss_mb"]
        checks.append(("(g) cold start peak RSS: ours ≤ 1/4 of HA's", f"{r:.2f}x", r >= 4))
        if "rss_increase_mb" in cold_sw and "rss_increase_mb" in cold_ha:
            r = cold_ha["rss_increase_mb"] / cold_sw["rss_increase_mb"]
            checks.append(("(g) RSS per automation: ours ≤ 1/4 of HA's", f"{r:.2f}x", r >= 4))
    small, large = get("dispatch_small", "sw"), get("dispatch_large", "sw")
    if small and large:
        growth = large["p99_ms"] / small["p99_ms"] - 1
        checks.append(
            ("(h) our p99 grows ≤ 20 % from 10 to 10k loaded", f"{growth:+.0%}", growth <= 0.2)
        )
    if large:
        runs = large.get("all_runs", [large])
        worst = max(r["max_ms"] for r in runs)
        checks.append(
            (
                "(h') our max < 10 ms with 10k loaded (median of runs; worst run)",
                f"{large['max_ms']:.2f} ms; {worst:.2f} ms",
                large["max_ms"] < 10,
            )
        )
        pause = max(max(r["gc_max_pause_ms"]) for r in runs)
        checks.append(
            (
                "(h') ... and no GC pause ≥ 10 ms anywhere in the run (worst run)",
                f"{pause:.2f} ms",
                pause < 10,
            )
        )
    if not checks:
        return
    print("\n### Targets\n")
    print("| target | measured | |")
    print("| --- | ---: | --- |")
    for label, measured, met in checks:
        print(f"| {label} | {measured} | {'met' if met else 'MISSED'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "5")))
    parser.add_argument("--only", default="", help="comma-separated workload names")
    parser.add_argument("--sides", default="sw,ha", help="comma-separated: sw, ha")
    parser.add_argument("--sw-python", default=str(BENCH / ".venv-sw/bin/python"))
    parser.add_argument("--ha-python", default=str(BENCH / ".venv-ha/bin/python"))
    parser.add_argument("--json", default=str(BENCH / "results/latest.json"))
    args = parser.parse_args()
    names = [w for w in args.only.split(",") if w] or list(WORKLOADS)
    unknown = set(names) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workload(s): {', '.join(sorted(unknown))}")
    sides = [s for s in args.sides.split(",") if s]
    pythons = {"sw": args.sw_python, "ha": args.ha_python}

    results: dict[str, dict[str, Any]] = {}
    for name in names:
        print(f"running {name} x{args.repeat} on {', '.join(sides)} ...", file=sys.stderr)
        results[name] = run_interleaved(pythons, sides, name, args.repeat)

    print(f"\nmedian of {args.repeat} fresh-process runs; ratio = HA / Shouwang\n")
    print("| workload | Shouwang | Home Assistant | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for name in names:
        ours, theirs = results[name].get("sw"), results[name].get("ha")
        r = ratio(ours, theirs)
        results[name]["ratio"] = r
        print(f"| {WORKLOADS[name]} | {fmt(name, ours)} | {fmt(name, theirs)} | {cell_ratio(r)} |")
        if name == "cold_start":
            print_cold_start(results[name])
        if name.startswith("dispatch_") and ok(ours) and ok(theirs):
            label = WORKLOADS[name].replace(", p99,", ", max,")
            r = theirs["max_ms"] / ours["max_ms"]
            print(
                f"| {label} | {ours['max_ms']:.2f} ms | {theirs['max_ms']:.2f} ms "
                f"| {cell_ratio(r)} |"
            )
    print_details(results)

    report = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "repeat": args.repeat,
        "python": {side: version(pythons[side]) for side in sides},
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "results": results,
    }
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten {out}", file=sys.stderr)


def version(python: str) -> str:
    """The exact interpreter version a side ran on."""
    try:
        proc = subprocess.run(
            [python, "-c", "import sys; print(sys.version.split()[0])"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return "unavailable"
    return proc.stdout.strip() or "unavailable"


if __name__ == "__main__":
    main()
