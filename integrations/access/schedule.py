"""Weekly time ranges of access rules ("weekdays 07:00-19:00"), read in the hub's time zone.

Place in the whole: :mod:`.config` builds :class:`Schedule` objects from ``schedules:``;
the decision function asks :meth:`Schedule.active` with the attempt's local time. A range whose
end is not after its start runs past midnight (``22:00``-``06:00``): the early-morning part
belongs to the day the range started on. ``from`` equal to ``to`` means the whole day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Final

DAY_NAMES: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class TimeRange:
    days: tuple[int, ...]  # 0 = Monday
    start: time
    end: time

    def active(self, weekday: int, moment: time) -> bool:
        if self.start == self.end:
            return weekday in self.days
        if self.start < self.end:
            return weekday in self.days and self.start <= moment < self.end
        # past midnight: the evening part on a listed day, the morning part on the day after
        if moment >= self.start:
            return weekday in self.days
        return moment < self.end and (weekday - 1) % 7 in self.days


@dataclass(frozen=True, slots=True)
class Schedule:
    name: str
    ranges: tuple[TimeRange, ...]

    def active(self, local: datetime) -> bool:
        """True if ``local`` (an aware datetime in the hub's zone) falls in any range."""
        weekday, moment = local.weekday(), local.time()
        return any(item.active(weekday, moment) for item in self.ranges)
