"""Durations and times of day as automations write them, in Home Assistant's forms.

Place in the whole: a small shared helper under the automation engine. Conditions (``for:``,
sun offsets), triggers (``for:``, ``offset:``, ``at:``) and script steps (``delay:``,
``timeout:``) validate their settings with the voluptuous validators here and turn the values
into :class:`~datetime.timedelta` / :class:`~datetime.time` with the parsers here, so every
place accepts the same spellings:

* durations: ``"HH:MM"``, ``"HH:MM:SS"``, ``"HH:MM:SS.fff"`` (optionally signed), a number or
  numeric string of seconds, a mapping ``{days, hours, minutes, seconds, milliseconds}``, or a
  :class:`~datetime.timedelta`;
* times of day: ``"HH:MM"`` or ``"HH:MM:SS"`` (local time of the hub).

A duration may also be a template (``"{{ states('input_number.hold') | int }}"`` or a mapping
with templated values); the validators keep such a value unchanged and :func:`render_duration`
renders it when the automation runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time, timedelta
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

if TYPE_CHECKING:
    from .hub import Hub

DURATION_KEYS: Final = ("days", "hours", "minutes", "seconds", "milliseconds")

_DURATION_HELP: Final = (
    "expected a duration: 'HH:MM', 'HH:MM:SS', seconds, "
    "or a mapping of days/hours/minutes/seconds/milliseconds"
)


def _is_template(value: Any) -> bool:
    # Same test as template.is_template_string; kept local so that validating a config does
    # not import Jinja.
    return isinstance(value, str) and "{" in value and ("{{" in value or "{%" in value)


def parse_duration(value: Any) -> timedelta:
    """Turn a duration in any accepted form into a :class:`timedelta` (may be negative).

    Raises :class:`ValueError` naming the value when it is not a duration. Templates must be
    rendered first (see :func:`render_duration`).
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"{_DURATION_HELP}, got {value!r}")
    if isinstance(value, int | float):
        return _seconds(value, value)
    if isinstance(value, str):
        return _parse_duration_text(value)
    if isinstance(value, Mapping):
        return _parse_duration_mapping(value)
    raise ValueError(f"{_DURATION_HELP}, got {value!r}")


def _seconds(amount: float, shown: Any) -> timedelta:
    try:
        return timedelta(seconds=float(amount))
    except (OverflowError, ValueError) as err:
        raise ValueError(f"duration {shown!r} is out of range") from err


def _parse_duration_text(value: str) -> timedelta:
    text = value.strip()
    if _is_template(text):
        raise ValueError(f"template {value!r} must be rendered before it is used as a duration")
    sign = 1
    if text[:1] in ("-", "+"):
        sign = -1 if text[0] == "-" else 1
        body = text[1:]
    else:
        body = text
    parts = body.split(":")
    if len(parts) == 1:
        try:
            seconds = float(body)
        except ValueError:
            raise ValueError(f"{_DURATION_HELP}, got {value!r}") from None
        return _seconds(sign * seconds, value)
    if len(parts) not in (2, 3):
        raise ValueError(f"{_DURATION_HELP}, got {value!r}")
    try:
        hours = int(parts[0])
        minutes = int(parts[1])
        seconds = float(parts[2]) if len(parts) == 3 else 0.0
    except ValueError:
        raise ValueError(f"{_DURATION_HELP}, got {value!r}") from None
    if min(hours, minutes, seconds) < 0:
        raise ValueError(f"{_DURATION_HELP}, got {value!r}")
    try:
        return sign * timedelta(hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError as err:
        raise ValueError(f"duration {value!r} is out of range") from err


def _parse_duration_mapping(value: Mapping[Any, Any]) -> timedelta:
    unknown = [key for key in value if key not in DURATION_KEYS]
    if unknown:
        raise ValueError(f"unknown duration key {unknown[0]!r}; use {', '.join(DURATION_KEYS)}")
    if not value:
        raise ValueError(f"{_DURATION_HELP}, got an empty mapping")
    parts: dict[str, float] = {}
    for key, amount in value.items():
        if isinstance(amount, bool) or _is_template(amount):
            raise ValueError(f"duration {key} must be a number, got {amount!r}")
        try:
            parts[key] = float(amount)
        except (TypeError, ValueError):
            raise ValueError(f"duration {key} must be a number, got {amount!r}") from None
    try:
        return timedelta(**parts)
    except OverflowError as err:
        raise ValueError(f"duration {dict(value)!r} is out of range") from err


def _duration_validator(value: Any, *, allow_negative: bool) -> Any:
    if _is_template(value):
        return value
    if isinstance(value, Mapping) and any(_is_template(item) for item in value.values()):
        unknown = [key for key in value if key not in DURATION_KEYS]
        if unknown:
            raise vol.Invalid(
                f"unknown duration key {unknown[0]!r}; use {', '.join(DURATION_KEYS)}"
            )
        return dict(value)  # rendered (and checked) when it is used
    try:
        period = parse_duration(value)
    except ValueError as err:
        raise vol.Invalid(str(err)) from None
    if not allow_negative and period < timedelta(0):
        raise vol.Invalid(f"a negative duration is not allowed here, got {value!r}")
    return period


def DURATION(value: Any) -> timedelta | str | dict[str, Any]:
    """Voluptuous validator: a duration (signed, like Home Assistant's ``time_period``: sun
    offsets may be negative) -> :class:`timedelta`; a template string, or a mapping holding
    templated values, is returned unchanged for :func:`render_duration`."""
    result: timedelta | str | dict[str, Any] = _duration_validator(value, allow_negative=True)
    return result


def POSITIVE_DURATION(value: Any) -> timedelta | str | dict[str, Any]:
    """Like :data:`DURATION` but refuses negative values (``for:``, ``delay:``, ``timeout:``;
    Home Assistant's ``positive_time_period``)."""
    result: timedelta | str | dict[str, Any] = _duration_validator(value, allow_negative=False)
    return result


def render_duration(
    hub: Hub,
    value: Any,
    variables: Mapping[str, Any] | None = None,
    *,
    allow_negative: bool = False,
) -> timedelta:
    """Render a (possibly templated) duration with ``variables`` and parse it.

    Raises :class:`~shouwang.core.template.TemplateError` if a template fails and
    :class:`ValueError` if the result is not a duration (or is negative when not allowed).
    """
    if _is_template(value) or (
        isinstance(value, Mapping) and any(_is_template(item) for item in value.values())
    ):
        value = hub.templates.render_complex(value, variables)
    period = parse_duration(value)
    if not allow_negative and period < timedelta(0):
        raise ValueError(f"a negative duration is not allowed here, got {value!r}")
    return period


def parse_time_of_day(value: Any) -> time:
    """``"HH:MM"`` / ``"HH:MM:SS"`` (or a :class:`time`) -> :class:`time`; ValueError if not."""
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 turns an unquoted 23:00 into 1380 (base 60).
        raise ValueError(f"expected a time 'HH:MM[:SS]', got the number {value}; quote it: '23:00'")
    if not isinstance(value, str):
        raise ValueError(f"expected a time 'HH:MM[:SS]', got {value!r}")
    parts = value.strip().split(":")
    if len(parts) not in (2, 3) or not all(part.strip().isdigit() for part in parts):
        raise ValueError(f"expected a time 'HH:MM[:SS]', got {value!r}")
    numbers = [int(part) for part in parts]
    try:
        return time(numbers[0], numbers[1], numbers[2] if len(numbers) == 3 else 0)
    except ValueError:
        raise ValueError(
            f"invalid time of day {value!r} (hours 0-23, minutes/seconds 0-59)"
        ) from None


def time_of_day(value: Any) -> time:
    """Voluptuous validator: ``"HH:MM"`` or ``"HH:MM:SS"`` -> :class:`datetime.time`."""
    try:
        return parse_time_of_day(value)
    except ValueError as err:
        raise vol.Invalid(str(err)) from None
