"""``trigger: visitor_pass``: a visitor pass was used or denied, optionally only once the same
pass or the same door has seen ``count`` such events within ``within``.

Place in the whole: the automation engine's view of ``visitor_pass_used`` /
``visitor_pass_denied`` (fired by :class:`~.book.PassBook`). Counting lives here because a
plain event trigger cannot say "three denials of one pass in ten minutes"; the shipped
blueprint ``visitor_pass_denied.yaml`` uses it. The core finds this platform by its module
path, so automations using it validate before the integration is set up and in check-config.

.. code-block:: yaml

    - trigger: visitor_pass
      event: denied            # or used (default denied)
      count: 3                 # default 1: every event
      within: {minutes: 10}    # default 10 minutes
      per: [pass, door]        # count per pass, per door, or both (default both)
      door: [P-GATE-N]         # optional: only these doors
      reason: [expired, used_up]  # optional, denials only

Counts run on the hub clock. When a pass or a door reaches ``count``, the trigger fires once
(``trigger.per`` says which: ``pass`` or ``door``; ``trigger.key`` is its id) and that pass's
and door's counts start again, so a fourth denial does not fire again at once.
"""

from __future__ import annotations

from collections import deque
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from shouwang.core.durations import parse_duration
from shouwang.core.events import Event, Unsubscribe
from shouwang.core.triggers import TriggerAction, TriggerInfo, schema

from .check import REASONS

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

PLATFORM: Final = "visitor_pass"
EVENT_TYPES: Final = {"used": "visitor_pass_used", "denied": "visitor_pass_denied"}
KEYS: Final = {"pass": "pass_id", "door": "door_id"}
#: forget counters of passes/doors that went quiet once there are this many
SWEEP_ABOVE: Final = 1000


def _within(value: Any) -> Any:
    try:
        span = parse_duration(value)
    except ValueError as err:
        raise vol.Invalid(str(err)) from None
    if span <= timedelta(0):
        raise vol.Invalid("must be positive")
    return value  # kept as written: configs stay plain data


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


SCHEMA: Final = schema(
    PLATFORM,
    {
        vol.Optional("event", default="denied"): vol.In(list(EVENT_TYPES)),
        vol.Optional("count", default=1): vol.All(int, vol.Range(min=1, max=1000)),
        vol.Optional("within", default={"minutes": 10}): _within,
        vol.Optional("per", default=["pass", "door"]): vol.All(
            _list, vol.Length(min=1), [vol.In(list(KEYS))]
        ),
        vol.Optional("door"): vol.All(_list, [str]),
        vol.Optional("reason"): vol.All(_list, [vol.In(REASONS)]),
    },
)


class _Counter:
    """Times of recent events per (pass or door) key, on the hub clock."""

    def __init__(self, hub: Hub, count: int, within: float, per: list[str]) -> None:
        self.hub = hub
        self.count = count
        self.within = within
        self.per = per
        self.seen: dict[tuple[str, str], deque[float]] = {}

    def add(self, data: Any) -> tuple[str, str, int] | None:
        """Count one event; the (per, key, count) that reached the threshold, if any."""
        now = self.hub.clock.time()
        horizon = now - self.within
        hit: tuple[str, str, int] | None = None
        full: list[tuple[str, str]] = []
        for per in self.per:
            key = data.get(KEYS[per])
            if not key:
                continue  # e.g. a forged token: no pass id, but still a door
            times = self.seen.setdefault((per, key), deque())
            times.append(now)
            while times and times[0] <= horizon:
                times.popleft()
            if len(times) >= self.count:
                full.append((per, key))
                hit = hit or (per, key, len(times))
        for item in full:
            del self.seen[item]
        if len(self.seen) > SWEEP_ABOVE:
            self.seen = {k: t for k, t in self.seen.items() if t and t[-1] > horizon}
        return hit


def attach(
    hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
) -> Unsubscribe:
    event_type = EVENT_TYPES[config["event"]]
    # an empty list (a blueprint input left empty) means no filter
    doors = set(config.get("door") or ()) or None
    reasons = set(config.get("reason") or ()) or None
    count: int = config["count"]
    counter = (
        _Counter(hub, count, parse_duration(config["within"]).total_seconds(), config["per"])
        if count > 1
        else None
    )

    def wanted(data: Any) -> bool:
        return (doors is None or data.get("door_id") in doors) and (
            reasons is None or data.get("reason") in reasons
        )

    def fired(event: Event) -> None:
        data = event.data
        per, key, seen = None, None, 1
        if counter is not None:
            hit = counter.add(data)
            if hit is None:
                return
            per, key, seen = hit
        action(
            {
                **info.base(PLATFORM),
                "event": event,
                "result": config["event"],
                "reason": data.get("reason"),
                "pass_id": data.get("pass_id"),
                "door_id": data.get("door_id"),
                "host_household": data.get("host_household"),
                "visitor_name": data.get("visitor_name"),
                "per": per,
                "key": key,
                "count": seen,
                "description": (
                    f"visitor pass {config['event']}"
                    + (f" {seen} times for {per} {key}" if per else "")
                ),
            },
            event.context,
        )

    return hub.bus.listen(event_type, fired, wanted if doors or reasons else None)
