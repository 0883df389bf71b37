"""What access control remembers across restarts: locked readers, anti-passback positions and
turnstile passage counts, in ``<config>/.storage/access_state.json``.

Place in the whole: the runtime (:mod:`.runtime`) loads the file at setup and asks
:class:`StateStore` to save a few seconds after a change (one write for a burst of attempts)
and when the hub stops. Writes go through a temporary file and a rename, so a power cut leaves
the old file or the new one, never half of one; the file is readable by the hub's user only
(it names people). A missing or unreadable file means starting fresh (logged), never failing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

_LOGGER = logging.getLogger(__name__)

STATE_FILE: Final = ".storage/access_state.json"
VERSION: Final = 1


@dataclass(slots=True)
class Remembered:
    locked: dict[str, float] = field(default_factory=dict)  # reader -> locked until
    positions: dict[tuple[str, str], str] = field(default_factory=dict)  # (who, area) -> dir
    passages: dict[tuple[str, str], int] = field(default_factory=dict)  # (door, dir) -> count

    def as_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "locked": self.locked,
            "positions": [[who, area, d] for (who, area), d in sorted(self.positions.items())],
            "passages": [[door, d, n] for (door, d), n in sorted(self.passages.items())],
        }


def load(path: Path) -> Remembered:
    """The remembered state, or a fresh one if there is none or it cannot be read."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != VERSION:
            raise ValueError(f"unknown version {data.get('version')!r}")
        return Remembered(
            locked={str(k): float(v) for k, v in data["locked"].items()},
            positions={(str(w), str(a)): str(d) for w, a, d in data["positions"]},
            passages={(str(door), str(d)): int(n) for door, d, n in data["passages"]},
        )
    except FileNotFoundError:
        return Remembered()
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        _LOGGER.error("%s unreadable (%s); access control starts without it", path, err)
        return Remembered()


def save(path: Path, state: Remembered) -> None:
    """Write atomically, mode 0600 (blocking: run in an executor). Each save writes a temporary
    file of its own (mkstemp creates it 0600), so overlapping saves never rename each other's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(state.as_json(), handle, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
