"""What the decision remembers between attempts: failed attempts and lockouts per reader
(:class:`Throttle`) and who is inside which area (:class:`AntiPassback`).

Place in the whole: owned by the :class:`~.decision.Decider`, which asks and updates them on
every attempt; the runtime saves and restores their contents across restarts
(:mod:`.state`) and reloads (``adopt``).
"""

from __future__ import annotations

from collections import deque


class Throttle:
    """Failed attempts per reader; more than ``max_failures`` in ``window`` seconds locks the
    reader for ``lockout`` seconds."""

    def __init__(self, max_failures: int, window: float, lockout: float) -> None:
        self.max_failures = max_failures
        self.window = window
        self.lockout = lockout
        self._failures: dict[str, deque[float]] = {}
        self._locked: dict[str, float] = {}

    def locked_until(self, reader: str, now: float) -> float | None:
        until = self._locked.get(reader)
        if until is None:
            return None
        if now >= until:
            del self._locked[reader]
            return None
        return until

    def adopt(self, previous: Throttle) -> None:
        self._failures = previous._failures
        self._locked = previous._locked

    @property
    def locked(self) -> dict[str, float]:
        """Locked readers and until when (may include lockouts that just ended)."""
        return dict(self._locked)

    def lock(self, reader: str, until: float) -> None:
        """Lock a reader until ``until`` (restoring a lockout after a restart)."""
        self._locked[reader] = until

    def failure(self, reader: str, now: float) -> int | None:
        """Count a failure; returns the number of failures if this one locks the reader."""
        times = self._failures.setdefault(reader, deque())
        times.append(now)
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) > self.max_failures:
            count = len(times)
            times.clear()
            self._locked[reader] = now + self.lockout
            return count
        return None


class AntiPassback:
    """The last direction each person passed into or out of each controlled area."""

    def __init__(self, areas: frozenset[str]) -> None:
        self.areas = areas
        self._last: dict[tuple[str, str], str] = {}

    def violates(self, person: str, area: str | None, direction: str) -> bool:
        if area is None or area not in self.areas:
            return False
        return self._last.get((person, area)) == direction

    def record(self, person: str, area: str | None, direction: str) -> None:
        if area is not None and area in self.areas:
            self._last[(person, area)] = direction

    def adopt(self, previous: AntiPassback) -> None:
        self.restore(previous._last)

    @property
    def positions(self) -> dict[tuple[str, str], str]:
        """(person or ``vehicle:<plate>``, area) -> the direction last passed."""
        return dict(self._last)

    def restore(self, positions: dict[tuple[str, str], str]) -> None:
        self._last = {key: v for key, v in positions.items() if key[1] in self.areas}

    def reset(self, person: str | None = None) -> None:
        """Forget where people are (everyone, or one person: a guard's manual correction)."""
        if person is None:
            self._last.clear()
        else:
            self._last = {key: v for key, v in self._last.items() if key[0] != person}
