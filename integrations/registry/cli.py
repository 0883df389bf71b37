"""``shouwang registry import|export``: runs what ``core/cli.py`` parsed.

``shouwang registry import FILE -c DIR [--kind KIND] [--db-url URL]`` validates the whole file,
prints every problem as ``FILE:LINE: field: problem`` and exits 1 without applying anything, or
upserts every row. ``shouwang registry export KIND -c DIR [-o FILE] [--format csv|yaml]`` writes
English headers with personal data masked (see :mod:`.transfer`).
"""

from __future__ import annotations

import argparse
import sys
import time

from . import open_registry
from .transfer import RegistryImportError, export_kind, import_file


def run(args: argparse.Namespace) -> int:
    """Run a parsed ``registry`` command; returns the exit code."""
    storage, protector = open_registry(args.config, args.db_url)
    try:
        if args.registry_command == "import":
            started = time.perf_counter()
            try:
                result = import_file(storage, protector, args.file, args.kind, sys.stderr)
            except RegistryImportError as err:
                print(err, file=sys.stderr)
                return 1
            for error in result.errors:
                print(error, file=sys.stderr)
            if result.errors:
                print(f"{len(result.errors)} error(s); nothing imported", file=sys.stderr)
                return 1
            elapsed = time.perf_counter() - started
            print(f"{args.file}: {result.rows} {result.kind} imported in {elapsed:.2f} s")
            return 0
        fmt = args.format or (
            "yaml" if args.output and args.output.suffix in (".yaml", ".yml") else "csv"
        )
        if args.output is None:
            export_kind(storage, args.kind, sys.stdout, fmt)
        else:
            with args.output.open("w", encoding="utf-8", newline="") as stream:
                count = export_kind(storage, args.kind, stream, fmt)
            print(f"{args.output}: {count} {args.kind} exported", file=sys.stderr)
        return 0
    finally:
        storage.close()
