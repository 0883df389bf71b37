"""Helpers to follow things over time: one entity's changes, a point in time, an interval.

Automations (``for:`` durations, time triggers), access control (door held open) and analytics
(resident not seen for 48 h) build on these. All timing goes through the hub's clock, so tests
drive it with :class:`~shouwang.core.clock.ManualClock`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .clock import TimerHandle
from .events import EventCallback, Unsubscribe, callback_name, is_coroutine_callable

if TYPE_CHECKING:
    from .hub import Hub

TimeCallback = Callable[[datetime], Any]


def track_state_change(
    hub: Hub, entity_ids: str | Iterable[str], callback: EventCallback
) -> Unsubscribe:
    """Call ``callback(event)`` on each ``state_changed`` of ``entity_ids`` (O(1) routing)."""
    return hub.states.track(entity_ids, callback)


def _runner(hub: Hub, callback: TimeCallback) -> Callable[[datetime], None]:
    if is_coroutine_callable(callback):
        name = callback_name(callback)

        def run_async(now: datetime) -> None:
            hub.create_task(callback(now), name)

        return run_async
    return callback


def track_point_in_time(hub: Hub, when: datetime, callback: TimeCallback) -> Unsubscribe:
    """Call ``callback(now)`` once the hub's clock reaches ``when`` (aware datetime)."""
    if when.tzinfo is None:
        raise ValueError("track_point_in_time needs an aware datetime")
    run = _runner(hub, callback)
    handle = hub.clock.call_at(when.timestamp(), lambda: run(hub.clock.now()))
    return handle.cancel


def track_time_interval(
    hub: Hub, interval: timedelta, callback: TimeCallback, *, name: str = ""
) -> Unsubscribe:
    """Call ``callback(now)`` every ``interval`` until unsubscribed. Each run is scheduled from
    the planned time of the previous one, so the interval does not drift."""
    seconds = interval.total_seconds()
    if seconds <= 0:
        raise ValueError("interval must be positive")
    run = _runner(hub, callback)
    handle: TimerHandle | None = None
    cancelled = False
    next_at = hub.clock.time() + seconds

    def fire() -> None:
        nonlocal handle, next_at
        if cancelled:
            return
        now = hub.clock.time()
        next_at = max(next_at + seconds, now + seconds * 0.5)
        handle = hub.clock.call_at(next_at, fire)
        run(hub.clock.now())

    def cancel() -> None:
        nonlocal cancelled
        cancelled = True
        if handle is not None:
            handle.cancel()

    handle = hub.clock.call_at(next_at, fire)
    return cancel
