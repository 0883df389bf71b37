"""Weekly time ranges of access rules ("weekdays 07:00-19:00"), read in the hub's time zone,
with public holidays.

Place in the whole: :mod:`.config` builds :class:`Schedule` objects from ``schedules:``;
the decision function asks :meth:`Schedule.active` with the attempt's local time. A range whose
end is not after its start runs past midnight (``22:00``-``06:00``): the early-morning part
belongs to the day the range started on. ``from`` equal to ``to`` means the whole day.

A date listed in ``holidays:`` is not its weekday: only ranges whose ``days`` include
``holiday`` apply on it (so "weekdays 09:00-17:00" is closed on National Day, and a
``days: [holiday]`` range can open the doors differently).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final

DAY_NAMES: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOLIDAY: Final = 7  # the day kind of a date in ``holidays:``, after the weekdays 0-6


@dataclass(frozen=True, slots=True)
class TimeRange:
    days: tuple[int, ...]  # 0 = Monday … 6 = Sunday, 7 = holiday
    start: time
    end: time

    def active(self, today: int, yesterday: int, moment: time) -> bool:
        """``today`` / ``yesterday``: the day kinds (weekday or :data:`HOLIDAY`)."""
        if self.start == self.end:
            return today in self.days
        if self.start < self.end:
            return today in self.days and self.start <= moment < self.end
        # past midnight: the evening part on a listed day, the morning part on the day after
        if moment >= self.start:
            return today in self.days
        return moment < self.end and yesterday in self.days


@dataclass(frozen=True, slots=True)
class Schedule:
    name: str
    ranges: tuple[TimeRange, ...]
    holidays: frozenset[date] = frozenset()

    def kind(self, day: date) -> int:
        return HOLIDAY if day in self.holidays else day.weekday()

    def active(self, local: datetime) -> bool:
        """True if ``local`` (an aware datetime in the hub's zone) falls in any range."""
        day, moment = local.date(), local.time()
        today, yesterday = self.kind(day), self.kind(day - timedelta(days=1))
        return any(item.active(today, yesterday, moment) for item in self.ranges)
