"""The newcomer's path, exactly as the README tells it: run ``shouwang demo``, open the printed
address, log in with a printed account, and watch the stranger at the north gate at night pop
up on the site plan and in the feed while the guard room is called.

The demo runs as its own process with the command a newcomer types (only the simulated start
time and pace are set, so the 23:30 scene comes within half a minute instead of four)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from .conftest import Pages, log_in, screenshot

SHOUWANG = [sys.executable, "-m", "shouwang.core.cli"]


class Demo:
    def __init__(
        self, process: subprocess.Popen[str], url: str, logins: dict[str, tuple[str, str]]
    ) -> None:
        self.process = process
        self.url = url
        self.logins = logins  # role -> (user, password)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    process = subprocess.Popen(
        [
            *SHOUWANG,
            "demo",
            "--port",
            "0",
            "--start",
            "23:20",
            "--speed",
            "24",
            "-c",
            str(tmp_path / "demo"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    url = ""
    logins: dict[str, tuple[str, str]] = {}
    deadline = time.monotonic() + 60  # a bound on a hung start, not a timing assertion
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line)
        if match := re.search(r"Open (http://\S+)/console", line):
            url = match.group(1)
        if match := re.match(r"\s+(admin|staff|guard|resident)\s+(\S+)\s+(\S+)\s*$", line):
            logins[match.group(1)] = (match.group(2), match.group(3))
        if "Simulated time starts" in line or time.monotonic() > deadline:
            break
    assert url and len(logins) == 4, "".join(lines)
    try:
        yield Demo(process, url, logins)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


async def test_newcomer_sees_the_stranger_at_night(demo: Demo, pages: Pages) -> None:
    page = await pages.open(demo.url + "/console")
    await log_in(page, *demo.logins["guard"])
    alarm = page.get_by_test_id("siteplan").get_by_test_id("plan-alarm")
    await expect(alarm.first).to_be_visible(timeout=90_000)  # 23:30 on the demo's clock
    await expect(page.locator("[data-testid=plan-alarm][data-place=P-GATE-N]")).to_have_count(1)
    feed = page.get_by_test_id("event-feed").locator("[data-event-type=stranger_detected]")
    await expect(feed.first).to_be_visible()
    await screenshot(page, "demo-console-stranger-at-night-zh")
