"""Clock and time tracking: manual clock, point in time, intervals, state tracking via the hub."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from shouwang.core.clock import ManualClock, RealClock, ScaledClock
from shouwang.core.events import Event
from shouwang.core.hub import Hub
from shouwang.core.tracking import (
    Deadlines,
    track_point_in_time,
    track_state_change,
    track_time_interval,
)


async def test_point_in_time_fires_once_at_the_right_time(hub: Hub, clock: ManualClock) -> None:
    fired: list[datetime] = []
    when = clock.now() + timedelta(minutes=30)
    track_point_in_time(hub, when, fired.append)
    await clock.advance(29 * 60)
    assert fired == []
    await clock.advance(60)
    assert fired == [when]
    await clock.advance(3600)
    assert len(fired) == 1


async def test_point_in_time_can_be_cancelled_and_needs_aware_time(
    hub: Hub, clock: ManualClock
) -> None:
    fired: list[datetime] = []
    cancel = track_point_in_time(hub, clock.now() + timedelta(seconds=5), fired.append)
    cancel()
    await clock.advance(10)
    assert fired == []
    with pytest.raises(ValueError):
        track_point_in_time(hub, datetime(2026, 1, 1), fired.append)


async def test_async_callbacks_run_as_hub_tasks(hub: Hub, clock: ManualClock) -> None:
    fired: list[datetime] = []

    async def callback(now: datetime) -> None:
        fired.append(now)

    track_point_in_time(hub, clock.now() + timedelta(seconds=1), callback)
    await clock.advance(1)
    await hub.block_till_done()
    assert len(fired) == 1


async def test_interval_does_not_drift_and_stops(hub: Hub, clock: ManualClock) -> None:
    start = clock.time()
    fired: list[float] = []
    cancel = track_time_interval(
        hub, timedelta(seconds=10), lambda now: fired.append(now.timestamp())
    )
    await clock.advance(35)
    assert fired == [start + 10, start + 20, start + 30]
    cancel()
    await clock.advance(100)
    assert len(fired) == 3
    with pytest.raises(ValueError):
        track_time_interval(hub, timedelta(0), fired.append)


async def test_manual_clock_runs_chained_timers_in_order(clock: ManualClock) -> None:
    order: list[str] = []

    async def sleeper() -> None:
        await clock.sleep(5)
        order.append(f"slept until {clock.time() - start:.0f}")

    start = clock.time()
    clock.call_later(3, lambda: order.append("timer 3"))
    task = asyncio.ensure_future(sleeper())
    await clock.advance(10)
    await task
    assert order == ["timer 3", "slept until 5"]
    assert clock.time() == start + 10


async def test_track_state_change_helper(hub: Hub) -> None:
    seen: list[Event] = []
    unsub = track_state_change(hub, ["binary_sensor.fence_zone_3"], seen.append)
    hub.states.set("binary_sensor.fence_zone_3", "on")
    hub.states.set("binary_sensor.fence_zone_4", "on")
    unsub()
    hub.states.set("binary_sensor.fence_zone_3", "off")
    assert [e.data["new_state"].state for e in seen] == ["on"]


async def test_real_clock_timer_fires_on_the_loop() -> None:
    clock = RealClock()
    fired = asyncio.Event()
    clock.call_later(0.001, fired.set)
    await asyncio.wait_for(fired.wait(), timeout=5)
    cancelled: list[int] = []
    handle = clock.call_later(0.001, lambda: cancelled.append(1))
    handle.cancel()
    await clock.sleep(0.01)
    assert cancelled == []
    assert abs(clock.now().timestamp() - clock.time()) < 1


# --- ScaledClock (the demo's simulated day) ------------------------------------------------


class _FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_scaled_clock_runs_faster_and_changes_pace_without_a_jump() -> None:

    real = _FakeMonotonic()
    start = datetime(2026, 11, 28, 21, 0, tzinfo=UTC)
    clock = ScaledClock(start, speed=144, monotonic=real)  # a day in ten minutes
    assert clock.now() == start
    real.now += 10  # ten real seconds
    assert clock.now() == start + timedelta(seconds=1440)
    clock.set_speed(1)
    assert clock.now() == start + timedelta(seconds=1440)  # no jump
    real.now += 10
    assert clock.now() == start + timedelta(seconds=1450)
    with pytest.raises(ValueError, match="positive"):
        clock.set_speed(0)
    with pytest.raises(ValueError, match="positive"):
        ScaledClock(start, speed=-1)


async def test_scaled_clock_timers_wait_the_scaled_real_delay() -> None:

    real = _FakeMonotonic()
    clock = ScaledClock(datetime(2026, 11, 28, 21, 0, tzinfo=UTC), speed=60, monotonic=real)
    loop = asyncio.get_running_loop()
    handle = clock.call_later(120, lambda: None)  # two simulated minutes
    assert handle.when() - loop.time() == pytest.approx(2.0, abs=0.05)  # type: ignore[attr-defined]
    past = clock.call_at(clock.time() - 5, lambda: None)
    assert past.when() - loop.time() == pytest.approx(0.0, abs=0.05)  # type: ignore[attr-defined]
    handle.cancel()
    past.cancel()


async def test_deadlines_fire_in_order_once_and_skip_cancelled_and_moved(
    hub: Hub, clock: ManualClock
) -> None:
    fired: list[tuple[str, float]] = []
    deadlines: Deadlines[str] = Deadlines(hub, lambda key: fired.append((key, clock.time())))
    start = clock.now()
    deadlines.set("c", start + timedelta(seconds=30))
    deadlines.set("a", start + timedelta(seconds=10))
    deadlines.set("b", start + timedelta(seconds=20))
    deadlines.set("gone", start + timedelta(seconds=15))
    deadlines.cancel("gone")
    deadlines.set("b", start + timedelta(seconds=40))  # moved later: fires once, at 40
    deadlines.set("a", start + timedelta(seconds=10))  # the same deadline twice: fires once
    assert len(deadlines) == 3 and "gone" not in deadlines
    await clock.advance(35)
    t0 = start.timestamp()
    assert fired == [("a", t0 + 10), ("c", t0 + 30)]
    await clock.advance(10)
    assert fired[2:] == [("b", t0 + 40)]
    assert len(deadlines) == 0
    await clock.advance(60)
    assert len(fired) == 3


async def test_deadlines_set_from_a_callback_and_clear(hub: Hub, clock: ManualClock) -> None:
    fired: list[str] = []
    deadlines: Deadlines[str] = Deadlines(hub, fired.append)

    def again(key: str) -> None:
        fired.append(key)
        if key == "ring":  # a ring timeout turning into a talk timeout, say
            deadlines.set("talk", clock.now() + timedelta(seconds=5))

    deadlines = Deadlines(hub, again)
    deadlines.set("ring", clock.now() + timedelta(seconds=1))
    await clock.advance(2)
    assert fired == ["ring"] and "talk" in deadlines
    await clock.advance(5)
    assert fired == ["ring", "talk"]
    deadlines.set("never", clock.now() + timedelta(seconds=1))
    deadlines.clear()
    await clock.advance(5)
    assert fired == ["ring", "talk"]


async def test_a_fired_real_timer_leaves_no_reference_cycle() -> None:
    import gc

    done = asyncio.Event()
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)  # keep what a collection finds unreachable, to look at
    try:
        timer = RealClock().call_later(0, done.set)
        await done.wait()
        del timer
        gc.collect()
        assert not [item for item in gc.garbage if type(item).__name__ == "_RealTimer"]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


async def test_deadlines_with_a_resolution_batch_never_early_never_too_late(
    hub: Hub, clock: ManualClock
) -> None:
    fired: list[tuple[int, float]] = []
    deadlines: Deadlines[int] = Deadlines(
        hub, lambda key: fired.append((key, clock.time())), resolution=0.25
    )
    start = clock.now()
    for n in range(100):  # one every 10 ms, like calls in a storm
        deadlines.set(n, start + timedelta(seconds=30 + n * 0.01))
    while len(fired) < 100:
        await clock.advance(0.01)
    t0 = start.timestamp()
    lateness = [at - (t0 + 30 + key * 0.01) for key, at in fired]
    assert [key for key, _ in fired] == list(range(100))
    assert min(lateness) >= -1e-6
    assert max(lateness) <= 0.25 + 0.011  # the resolution, plus this test's 10 ms steps
    assert len({at for _, at in fired}) <= 6  # ~1 s of deadlines in a handful of runs


async def test_a_failing_deadline_callback_is_logged_and_the_others_still_run(
    hub: Hub, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    fired: list[str] = []

    def callback(key: str) -> None:
        if key == "bad":
            raise RuntimeError("broken")
        fired.append(key)

    deadlines: Deadlines[str] = Deadlines(hub, callback)
    for key in ("a", "bad", "b"):
        deadlines.set(key, clock.now() + timedelta(seconds=1))
    await clock.advance(2)
    assert fired == ["a", "b"]
    assert "failed for 'bad'" in caplog.text
