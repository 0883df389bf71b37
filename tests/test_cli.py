"""The shouwang command: --version, check-config, and run/demo stopping on a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shouwang.core import __version__
from shouwang.core.cli import check_config, main

SHOUWANG = [sys.executable, "-m", "shouwang.core.cli"]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"shouwang {__version__}"


def test_check_config_ok_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_config(tmp_path / "missing") == 1
    (tmp_path / "configuration.yaml").write_text("demo:\n  interval: 2\n")
    assert check_config(tmp_path) == 0
    assert "OK (1 integration block(s))" in capsys.readouterr().out
    (tmp_path / "configuration.yaml").write_text(
        "shouwang:\n  time_zone: Nowhere/Land\ndemo:\n  interval: -1\n  colour: red\nghost: {}\n"
    )
    assert main(["check-config", "-c", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    path = tmp_path / "configuration.yaml"
    assert f"{path}:2: [shouwang]" in err
    assert f"{path}:4: [demo] demo.interval" in err
    assert f"{path}:5: [demo] demo.colour: unknown key 'colour'" in err
    assert f"{path}:6: [ghost] integration 'ghost' not found" in err
    assert "4 error(s)" in err


@pytest.mark.parametrize("command", [["run"], ["demo", "--port", "0"]])
def test_run_and_demo_stop_cleanly_on_sigterm(tmp_path: Path, command: list[str]) -> None:
    config_dir = tmp_path / "cfg"
    process = subprocess.Popen(
        [*SHOUWANG, "--log-level", "INFO", *command, "-c", str(config_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    lines = []
    deadline = time.monotonic() + 30  # a bound on a hung process, not a timing assertion
    for line in process.stdout:
        lines.append(line)
        if "hub_started" in line or "Hub running" in line or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    log = "".join(lines) + output
    assert process.returncode == 0, log
    assert "Stopped" in log
    assert (config_dir / "configuration.yaml").exists()
    if command[0] == "demo":
        assert "Traceback" not in log, log
        assert "not set up" not in log, log  # every integration of the demo came up
        assert "Demo logins:" in log and "zhuhu" in log and "/console" in log
