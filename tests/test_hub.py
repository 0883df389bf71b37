"""Hub lifecycle: states, start/stop events, graceful and bounded shutdown, time_changed ticks."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from shouwang.core.clock import ManualClock
from shouwang.core.events import Event
from shouwang.core.hub import HUB_START, HUB_STARTED, HUB_STOP, TIME_CHANGED, Hub, HubState


async def test_lifecycle_states_and_events(clock: ManualClock) -> None:
    hub = Hub(clock=clock)
    seen: list[tuple[str, HubState]] = []
    for event_type in (HUB_START, HUB_STARTED, HUB_STOP):
        hub.bus.listen(event_type, lambda e: seen.append((e.event_type, hub.state)))
    assert hub.state is HubState.NOT_RUNNING
    await hub.start()
    assert hub.state is HubState.RUNNING
    await hub.stop()
    assert hub.state is HubState.STOPPED
    assert seen == [
        (HUB_START, HubState.STARTING),
        (HUB_STARTED, HubState.RUNNING),
        (HUB_STOP, HubState.STOPPING),
    ]
    with pytest.raises(RuntimeError):
        await hub.start()


async def test_stop_waits_for_pending_work(clock: ManualClock) -> None:
    hub = Hub(clock=clock)
    await hub.start()
    finished: list[str] = []
    release = asyncio.Event()

    async def slow_work() -> None:
        await release.wait()
        finished.append("work")

    async def on_stop() -> None:
        finished.append("stop callback")
        release.set()

    hub.create_task(slow_work(), "slow work")
    hub.on_stop(on_stop)
    await hub.stop(timeout=5)
    assert finished == ["stop callback", "work"]


async def test_stop_is_bounded_and_cancels_stuck_tasks(clock: ManualClock) -> None:
    hub = Hub(clock=clock)
    await hub.start()
    never = asyncio.Event()
    task = hub.create_task(never.wait(), "stuck")
    await hub.stop(timeout=0.01)
    assert task.cancelled()
    assert hub.state is HubState.STOPPED


async def test_failed_task_is_logged(clock: ManualClock, caplog: pytest.LogCaptureFixture) -> None:
    hub = Hub(clock=clock)

    async def broken() -> None:
        raise RuntimeError("kaput")

    hub.create_task(broken(), "broken task")
    await hub.block_till_done()
    assert "broken task" in caplog.text
    assert hub.pending_tasks == 0


async def test_time_changed_ticks_only_while_listened(hub: Hub, clock: ManualClock) -> None:
    ticks: list[Event] = []
    await clock.advance(5)
    assert clock.pending() == 0  # nobody listens: no ticker armed
    unsub = hub.bus.listen(TIME_CHANGED, ticks.append)
    await clock.advance(3)
    assert len(ticks) == 3
    assert ticks[-1].data["now"] == clock.now()
    unsub()
    await clock.advance(5)
    assert len(ticks) == 3
    assert clock.pending() == 0


async def test_config_dir_is_created_with_a_starter_configuration(
    tmp_path: Path, clock: ManualClock
) -> None:
    config_dir = tmp_path / "new"
    hub = Hub(config_dir, clock=clock)
    await hub.start()
    assert (config_dir / "configuration.yaml").exists()
    assert hub.config.time_zone == "Asia/Shanghai"
    assert hub.integrations.failed == {}
    await hub.stop()


async def test_stop_called_twice_is_harmless(hub: Hub) -> None:
    await asyncio.gather(hub.stop(), hub.stop())
    assert hub.state is HubState.STOPPED
    assert await hub.wait_stopped() == 0


async def test_start_freezes_live_objects_out_of_the_collectors_sight(clock: ManualClock) -> None:
    import gc

    gc.unfreeze()
    hub = Hub(clock=clock)
    await hub.start()
    assert gc.get_freeze_count() > 0
    assert gc.isenabled()  # paused only while starting
    await hub.stop()
