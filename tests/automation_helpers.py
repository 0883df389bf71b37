"""Helpers for automation tests: a hub on a config dir with given automations, event capture."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path
from typing import Any

from shouwang.core.clock import ManualClock
from shouwang.core.events import Event
from shouwang.core.hub import Hub
from shouwang.integrations.automation import AutomationRuntime


async def start_hub(
    tmp_path: Path,
    clock: ManualClock,
    automations: str,
    *,
    configuration: str = "shouwang:\n  time_zone: Asia/Shanghai\n  latitude: 31.23\n  longitude: 121.47\n",
    states: dict[str, Any] | None = None,
) -> Hub:
    (tmp_path / "configuration.yaml").write_text(textwrap.dedent(configuration), encoding="utf-8")
    folder = tmp_path / "automations"
    folder.mkdir(exist_ok=True)
    (folder / "main.yaml").write_text(textwrap.dedent(automations), encoding="utf-8")
    hub = Hub(tmp_path, clock=clock)
    for entity_id, value in (states or {}).items():
        if isinstance(value, tuple):
            hub.states.set(entity_id, value[0], value[1])
        else:
            hub.states.set(entity_id, value)
    await hub.start()
    return hub


def runtime(hub: Hub) -> AutomationRuntime:
    value = hub.integrations.runtime("automation")
    assert isinstance(value, AutomationRuntime)
    return value


def capture(hub: Hub, event_type: str) -> list[Event]:
    seen: list[Event] = []
    hub.bus.listen(event_type, seen.append)
    return seen


async def settle(hub: Hub) -> None:
    """Let ready work run. Not ``block_till_done``: runs may be waiting on the manual clock."""
    for _ in range(100):
        await asyncio.sleep(0)
