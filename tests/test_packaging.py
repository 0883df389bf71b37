"""Packaging: the wheel maps core/ and integrations/ under shouwang/ and ships manifests."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_layout(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("shouwang-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"shouwang"}  # nothing named bare core or integrations
    assert "shouwang/core/hub.py" in names
    assert "shouwang/core/platforms/lock.py" in names
    assert "shouwang/core/py.typed" in names
    assert "shouwang/integrations/demo/manifest.json" in names
    assert not any(name.startswith(("core/", "integrations/", "tests/")) for name in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "shouwang = shouwang.core.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
