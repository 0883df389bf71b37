"""Helpers to follow things over time: one entity's changes, a point in time, an interval.

Automations (``for:`` durations, time triggers), access control (door held open) and analytics
(resident not seen for 48 h) build on these. All timing goes through the hub's clock, so tests
drive it with :class:`~shouwang.core.clock.ManualClock`.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Callable, Hashable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .clock import TimerHandle
from .events import EventCallback, Unsubscribe, callback_name, is_coroutine_callable

if TYPE_CHECKING:
    from .hub import Hub

_LOGGER = logging.getLogger(__name__)

TimeCallback = Callable[[datetime], Any]
K = TypeVar("K", bound=Hashable)


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


class Deadlines(Generic[K]):
    """Many keyed deadlines on one clock timer: ``callback(key)`` runs once the hub's clock
    reaches the key's deadline, unless it was cancelled or moved first.

    For things that come by the thousand (ringing calls, open doors, visitor passes): a heap
    of ``(timestamp, n, key)`` and one timer for the earliest entry, instead of a timer, its
    handle and a closure per key. Besides being cheaper to arm, that keeps a storm of calls
    from filling the garbage collector's oldest generation with timer objects, which every
    full collection would then walk while the hub stands still. Cancelled and moved entries
    stay in the heap until they come up and are skipped then.

    ``resolution`` (seconds) lets deadlines that fall close together share one timer run:
    none fires early, none more than ``resolution`` late. A storm of calls placed every few
    milliseconds then times out in a few batches a second, not one timer per call.
    """

    def __init__(self, hub: Hub, callback: Callable[[K], None], *, resolution: float = 0.0) -> None:
        self._hub = hub
        self._callback = callback
        self._resolution = resolution
        self._due: dict[K, float] = {}
        self._heap: list[tuple[float, int, K]] = []
        self._counter = itertools.count()
        self._timer: TimerHandle | None = None
        self._timer_at = float("inf")

    def __len__(self) -> int:
        return len(self._due)

    def __contains__(self, key: object) -> bool:
        return key in self._due

    def set(self, key: K, when: datetime) -> None:
        """Call back for ``key`` at ``when`` (aware); replaces the key's earlier deadline."""
        timestamp = when.timestamp()
        self._due[key] = timestamp
        heapq.heappush(self._heap, (timestamp, next(self._counter), key))
        if timestamp < self._timer_at - self._resolution:
            self._arm(timestamp)

    def cancel(self, key: K) -> None:
        """Forget ``key``'s deadline (no error if it has none)."""
        self._due.pop(key, None)
        if not self._due:
            self.clear()

    def clear(self) -> None:
        """Forget every deadline."""
        self._due.clear()
        self._heap.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = float("inf")

    def _arm(self, timestamp: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = timestamp
        self._timer = self._hub.clock.call_at(timestamp, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self._timer_at = float("inf")
        now = self._hub.clock.time()
        heap = self._heap
        due: list[K] = []
        while heap and heap[0][0] <= now:
            timestamp, _, key = heapq.heappop(heap)
            if self._due.get(key) == timestamp:
                del self._due[key]
                due.append(key)
        while heap and self._due.get(heap[0][2]) != heap[0][0]:
            heapq.heappop(heap)  # a cancelled or moved entry
        if heap:
            self._arm(max(heap[0][0], now + self._resolution))
        for key in due:
            try:
                self._callback(key)
            except Exception:  # one key's failure must not cost the others their turn
                _LOGGER.exception("Deadline callback %s failed for %r", self._callback, key)
