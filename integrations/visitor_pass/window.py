"""When a new pass is valid: the community defaults of DOMAIN.md applied to what was asked.

Place in the whole: a pure helper of the ``visitor_pass.create`` service. The window is
``[valid_from, valid_until)`` in Unix seconds:

* nothing given, or only ``day``: a day pass, local midnight to the next local midnight
  (00:00–23:59 of that day, in the hub's time zone);
* ``valid_from`` only: from then to the end of that local day;
* ``duration`` (ad hoc, typically 30–60 minutes): from ``valid_from`` (or now) for that long;
* ``valid_until``: from ``valid_from`` (or now) until then.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo


class WindowError(ValueError):
    """A window that cannot be used; the message names the field."""


def local_midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tz)


def resolve_window(
    now: datetime,
    tz: tzinfo,
    *,
    day: date | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    duration: timedelta | None = None,
    max_length: timedelta,
) -> tuple[int, int]:
    """The ``(valid_from, valid_until)`` Unix seconds of a new pass created at ``now``.

    Naive datetimes are local time (``tz``). Raises :class:`WindowError` for conflicting
    fields, an empty or too long window, or one that is already over."""
    if day is not None and (valid_from or valid_until or duration):
        raise WindowError("day: give either a day or valid_from/valid_until/duration")
    if valid_until is not None and duration is not None:
        raise WindowError("duration: give either valid_until or duration, not both")
    start = _aware(valid_from, tz) if valid_from is not None else None
    if day is not None:
        begin = local_midnight(day, tz)
        start, end = begin, local_midnight(day + timedelta(days=1), tz)
    elif duration is not None:
        if duration <= timedelta(0):
            raise WindowError("duration: must be positive")
        start = start or now
        end = start + duration
    elif valid_until is not None:
        start = start or now
        end = _aware(valid_until, tz)
    else:
        first = (start or now).astimezone(tz).date()
        start = start or local_midnight(first, tz)
        end = local_midnight(first + timedelta(days=1), tz)
    if end <= start:
        raise WindowError("valid_until: must be after valid_from")
    if end - start > max_length:
        raise WindowError(f"valid_until: a pass may last at most {max_length}")
    if end <= now:
        raise WindowError("valid_until: already in the past")
    return int(start.timestamp()), int(end.timestamp())


def _aware(value: datetime, tz: tzinfo) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)
