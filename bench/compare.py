"""Run every workload on Shouwang and Home Assistant and print a side-by-side table.

Each run of each workload is a fresh subprocess of the side's venv interpreter; the sides take
turns run by run, and the median of ``--repeat`` runs is reported. Results also go to
``bench/results/latest.json``. Usually started through ``bench/run``; standard library only.
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
from typing import Any

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
}


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
    noise on the shared machine falls on both sides alike; summarize each side by its median."""
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    failed: dict[str, dict[str, Any]] = {}
    for _ in range(repeat):
        for side in sides:
            if side in failed:
                continue
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
        values = [r["value"] for r in runs[side]]
        first = {k: v for k, v in runs[side][0].items() if k not in ("value", "workload")}
        summary[side] = {
            **first,
            "median": statistics.median(values),
            "min": min(values),
            "runs": values,
        }
    return summary


def fmt(res: dict[str, Any] | None) -> str:
    """Human cell: seconds with throughput, or MB."""
    if res is None:
        return "—"
    if "error" in res:
        return "error"
    if res["unit"] == "MB":
        return f"{res['median']:.1f} MB"
    rate = res["ops"] / res["median"]
    return f"{res['median'] * 1000:.0f} ms ({rate / 1e6:.2f} M/s)"


def ratio(ours: dict[str, Any] | None, theirs: dict[str, Any] | None) -> float | None:
    """HA / Shouwang: above 1 means Shouwang is faster (or smaller)."""
    if not ours or not theirs or "error" in ours or "error" in theirs:
        return None
    return float(theirs["median"] / ours["median"])


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
        cell = f"{r:.2f}x" if r is not None else "—"
        print(f"| {WORKLOADS[name]} | {fmt(ours)} | {fmt(theirs)} | {cell} |")

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
