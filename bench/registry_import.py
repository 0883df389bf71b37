"""Registry import at community scale: time and peak memory to import N residents.

Builds a people CSV of N rows (default 10,000) from the synthetic community's people.csv
(ids renumbered, ID numbers re-derived with valid checksums, phones and cards made unique),
then, in a fresh process per run, imports places, households and that file into a new SQLite
(or ``--db-url``) registry, with every row validated, ID numbers hashed and phones encrypted.

    .venv/bin/python bench/registry_import.py [--people 10000] [--repeat 5] [--db-url URL]

Prints the median wall time of the people import, rows/s, and the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = next(
    (
        path
        for path in (
            Path(__file__).resolve().parents[2] / "shared" / "data" / "community",
            Path("/work/shared/data/community"),
        )
        if (path / "people.csv").is_file()
    ),
    Path("/work/shared/data/community"),
)


def make_people(target: Path, count: int) -> None:
    """``count`` people rows shaped like the shared people.csv, all unique."""
    from shouwang.integrations.registry.protect import id_check_digit

    with (DATA / "people.csv").open(encoding="utf-8-sig", newline="") as source:
        reader = csv.reader(source)
        header = next(reader)
        rows = list(reader)
    with target.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for index in range(count):
            row = list(rows[index % len(rows)])
            row[0] = f"X{index:06d}"
            first17 = row[4][:14] + f"{index % 1000:03d}"
            row[4] = first17 + id_check_digit(first17)
            row[5] = f"139{index:08d}"
            row[9] = f"x{index:06d}"
            row[10] = f"{index:08X}"
            writer.writerow(row)


def one_run(config: Path, people: Path, db_url: str | None) -> dict[str, float]:
    from shouwang.integrations.registry import open_registry
    from shouwang.integrations.registry.transfer import import_file

    storage, protector = open_registry(config, db_url)
    for kind in ("places", "households"):
        assert import_file(storage, protector, DATA / f"{kind}.csv", kind).applied
    start = time.perf_counter()
    result = import_file(storage, protector, people, "people")
    elapsed = time.perf_counter() - start
    assert result.applied, result.errors[:3]
    storage.close()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": elapsed, "rows": result.rows, "peak_rss_mb": peak_kib / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db-url", default=None)
    parser.add_argument("--child", nargs=2, metavar=("CONFIG", "PEOPLE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_run(Path(args.child[0]), Path(args.child[1]), args.db_url)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        people = Path(tmp) / "people.csv"
        make_people(people, args.people)
        runs = []
        for index in range(args.repeat):
            config = Path(tmp) / f"config{index}"
            command = [sys.executable, __file__, "--child", str(config), str(people)]
            if args.db_url:
                command += ["--db-url", args.db_url]
            done = subprocess.run(command, check=True, capture_output=True, text=True)
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    seconds = statistics.median(run["seconds"] for run in runs)
    rss = statistics.median(run["peak_rss_mb"] for run in runs)
    print(f"registry import of {args.people} people ({args.repeat} fresh processes, medians)")
    print(f"  time      {seconds:.2f} s  ({args.people / seconds:,.0f} rows/s)")
    print(f"  peak RSS  {rss:.1f} MB (whole process: interpreter, SQLAlchemy, all rows)")
    each = ", ".join(f"{run['seconds']:.2f}" for run in runs)
    print(f"  runs      {each} s")


if __name__ == "__main__":
    main()
