"""Login rate limiting and lockout, on the hub clock.

Failures are counted per ``(username, client address)``: five wrong passwords within 15 minutes
lock that pair for 15 minutes. Attempts while locked are refused without being counted, so a
lockout always ends on time. An attacker on another address therefore never locks the real
user out of their own address, and a forgotten client retrying an old password from the user's
address locks only that username there, for a bounded time. A second, looser limit per address
alone (30 failures in 15 minutes, any usernames) stops one address from spraying guesses across
many accounts. Invalid *tokens* are not login attempts and never count here.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Final

from shouwang.core.clock import Clock

MAX_FAILURES: Final = 5
ADDRESS_MAX_FAILURES: Final = 30
WINDOW: Final = 15 * 60.0
LOCKOUT: Final = 15 * 60.0


@dataclass(slots=True)
class _Counter:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0


class LoginThrottle:
    """Counts failed logins and says whether a (username, address) may try now."""

    def __init__(
        self,
        clock: Clock,
        *,
        max_failures: int = MAX_FAILURES,
        address_max_failures: int = ADDRESS_MAX_FAILURES,
        window: float = WINDOW,
        lockout: float = LOCKOUT,
    ) -> None:
        self._clock = clock
        self._limits = {"pair": max_failures, "address": address_max_failures}
        self._window = window
        self._lockout = lockout
        self._counters: dict[tuple[str, str, str], _Counter] = {}

    @staticmethod
    def _keys(username: str, address: str) -> list[tuple[str, str, str]]:
        # the account's own spelling rule (trimmed, case-insensitive): " Admin" is "admin"
        return [("pair", username.strip().casefold(), address), ("address", "", address)]

    def locked_for(self, username: str, address: str) -> float:
        """Seconds until this username may try again from this address (0: now)."""
        now = self._clock.time()
        remaining = 0.0
        for key in self._keys(username, address):
            counter = self._counters.get(key)
            if counter is not None and counter.locked_until > now:
                remaining = max(remaining, counter.locked_until - now)
        return remaining

    def failed(self, username: str, address: str) -> None:
        now = self._clock.time()
        for key in self._keys(username, address):
            counter = self._counters.setdefault(key, _Counter())
            if counter.locked_until > now:
                continue
            while counter.failures and counter.failures[0] <= now - self._window:
                counter.failures.popleft()
            counter.failures.append(now)
            if len(counter.failures) >= self._limits[key[0]]:
                counter.locked_until = now + self._lockout
                counter.failures.clear()
        self._forget_old(now)

    def succeeded(self, username: str, address: str) -> None:
        self._counters.pop(self._keys(username, address)[0], None)

    def _forget_old(self, now: float) -> None:
        if len(self._counters) < 10_000:
            return
        for key, counter in list(self._counters.items()):
            if counter.locked_until <= now and (
                not counter.failures or counter.failures[-1] <= now - self._window
            ):
                del self._counters[key]
