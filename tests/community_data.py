"""Where the synthetic community's spreadsheets are (``shared/data/community``).

They live beside the repository (``../shared`` of a checkout at ``/work/main``), not in it; a
checkout elsewhere (CI clones) finds them at ``/work/shared``, or wherever
``SHOUWANG_COMMUNITY_DATA`` points. Tests that read them are skipped, saying why, when they are
nowhere to be found.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def _find() -> Path:
    candidates = [
        os.environ.get("SHOUWANG_COMMUNITY_DATA", ""),
        str(Path(__file__).resolve().parents[2] / "shared" / "data" / "community"),
        "/work/shared/data/community",
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "people.csv").is_file():
            return Path(candidate)
    return Path("/work/shared/data/community")


DATA = _find()
needs_data = pytest.mark.skipif(
    not (DATA / "people.csv").is_file(),
    reason="the synthetic community data (shared/data/community) is not on this machine",
)
