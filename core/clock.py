"""The hub's one clock: wall time and timers, real in production, driven by hand in tests.

Everything time-based (event timestamps, ``for:`` durations, delays, door-held-open timers,
"not seen for 48 h") reads and schedules through the :class:`Clock` the hub was given. Tests use
:class:`ManualClock` and call :meth:`ManualClock.advance`; no test sleeps on real time. The demo
uses :class:`ScaledClock`: simulated time running a chosen number of times faster than real time.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Clock(ABC):
    """Reads the time and runs callbacks at points in time (UTC epoch seconds)."""

    @abstractmethod
    def time(self) -> float:
        """Now, as UTC epoch seconds."""

    def now(self) -> datetime:
        """The current time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.time(), UTC)

    @abstractmethod
    def call_at(self, timestamp: float, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback()`` on the loop once the clock reaches ``timestamp``."""

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        return self.call_at(self.time() + delay, callback)

    async def sleep(self, delay: float) -> None:
        """Sleep ``delay`` seconds of this clock's time."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        handle = self.call_later(delay, wake)
        try:
            await future
        finally:
            handle.cancel()


class _RealTimer:
    """A loop timer that re-arms itself if the wall clock moved back before it fired."""

    __slots__ = ("_callback", "_cancelled", "_handle", "_loop", "_timestamp")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, timestamp: float, callback: Callable[[], None]
    ) -> None:
        self._loop = loop
        self._timestamp = timestamp
        self._callback = callback
        self._cancelled = False
        self._handle: asyncio.TimerHandle | None = self._arm()

    def _arm(self) -> asyncio.TimerHandle:
        delay = self._timestamp - time.time()
        return self._loop.call_at(self._loop.time() + max(delay, 0.0), self._fire)

    def _fire(self) -> None:
        if self._cancelled:
            return
        if time.time() < self._timestamp - 0.001:
            self._handle = self._arm()  # wall clock was set back: not yet due
            return
        # the fired loop handle still points back at us: drop it, or timer and handle make a
        # reference cycle only the garbage collector would free
        self._handle = None
        self._callback()

    def cancel(self) -> None:
        self._cancelled = True
        if self._handle is not None:
            self._handle.cancel()


class RealClock(Clock):
    """Wall-clock time; timers on the running event loop."""

    def time(self) -> float:
        return time.time()

    def call_at(self, timestamp: float, callback: Callable[[], None]) -> TimerHandle:
        return _RealTimer(asyncio.get_running_loop(), timestamp, callback)


class ScaledClock(Clock):
    """Simulated time that runs ``speed`` times faster than the wall clock from ``start``.

    The demo plays a community's day in minutes on it; automations, ``for:`` durations and
    time conditions all follow it because they only ever ask the hub's clock. Timers wait the
    scaled-down real delay on the running loop. :meth:`set_speed` changes the pace without a
    jump in simulated time (timers already armed keep their old real delay).
    """

    def __init__(
        self,
        start: datetime | float,
        speed: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._monotonic = monotonic
        self._origin = start.timestamp() if isinstance(start, datetime) else float(start)
        self._real_origin = monotonic()
        self.speed = float(speed)

    def time(self) -> float:
        return self._origin + (self._monotonic() - self._real_origin) * self.speed

    def set_speed(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        now = self.time()
        self._origin, self._real_origin, self.speed = now, self._monotonic(), float(speed)

    def call_at(self, timestamp: float, callback: Callable[[], None]) -> TimerHandle:
        loop = asyncio.get_running_loop()
        delay = max(timestamp - self.time(), 0.0) / self.speed
        return loop.call_at(loop.time() + delay, callback)


class _ManualTimer:
    __slots__ = ("callback", "cancelled", "timestamp")

    def __init__(self, timestamp: float, callback: Callable[[], None]) -> None:
        self.timestamp = timestamp
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock(Clock):
    """A clock that moves only when told to: for tests and the simulated demo day.

    :meth:`advance` walks time forward timer by timer, setting the clock to each timer's due
    time before running it and letting the event loop run the work that timer started, so a
    chain of timers (a delay inside an automation that waits for another timer) resolves in
    order within one ``advance`` call.
    """

    def __init__(self, start: datetime | float = datetime(2026, 1, 1, tzinfo=UTC)) -> None:
        self._time = start.timestamp() if isinstance(start, datetime) else float(start)
        self._timers: list[tuple[float, int, _ManualTimer]] = []
        self._seq = itertools.count()

    def time(self) -> float:
        return self._time

    def call_at(self, timestamp: float, callback: Callable[[], None]) -> TimerHandle:
        timer = _ManualTimer(timestamp, callback)
        heapq.heappush(self._timers, (timestamp, next(self._seq), timer))
        return timer

    def pending(self) -> int:
        """Timers still waiting (not cancelled)."""
        return sum(1 for _, _, timer in self._timers if not timer.cancelled)

    async def advance(
        self, seconds: float, settle: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """Move time forward by ``seconds``, running every timer that falls due on the way."""
        await self.advance_to(self._time + seconds, settle)

    async def advance_to(
        self, target: datetime | float, settle: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """Move time to ``target``. ``settle``: awaited after each timer, for tests whose
        work also waits on something real (a broker round trip) before time may move on."""
        end = target.timestamp() if isinstance(target, datetime) else float(target)
        await _settle(settle)
        while self._timers and self._timers[0][0] <= end:
            timestamp, _, timer = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            self._time = max(self._time, timestamp)
            timer.callback()
            await _settle(settle)
        self._time = max(self._time, end)
        await _settle(settle)


async def _settle(then: Callable[[], Awaitable[None]] | None = None, rounds: int = 20) -> None:
    """Let the loop run callbacks and tasks that are ready (no real time passes)."""
    for _ in range(rounds):
        await asyncio.sleep(0)
    if then is not None:
        await then()
        for _ in range(rounds):
            await asyncio.sleep(0)
