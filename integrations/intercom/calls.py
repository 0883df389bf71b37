"""One intercom call and its life: ringing -> answered -> ended, or ringing -> missed.

Pure data and rules, no I/O: :class:`Call` is what the call manager (:mod:`.manager`) keeps,
fires as ``intercom_call`` events and writes to the call log (:mod:`.log`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from shouwang.core.events import Context

PHASE_RINGING: Final = "ringing"
PHASE_ANSWERED: Final = "answered"
PHASE_ENDED: Final = "ended"
PHASE_MISSED: Final = "missed"

#: why a call ended (``end_reason``)
END_HANGUP: Final = "hangup"
END_DECLINED: Final = "declined"
END_TIMEOUT: Final = "timeout"  # the call_timeout cut a call that was answered
END_NO_ANSWER: Final = "no_answer"  # the ring_timeout passed: a missed call
END_FAILED: Final = "failed"  # no station could be rung
END_INTERRUPTED: Final = "interrupted"  # the hub stopped during the call


@dataclass(slots=True)
class Call:
    """A call from a station (or from the hub itself, for an automation's guard call) to the
    stations that serve a target (a household's indoor panels, the guard room)."""

    call_id: str
    #: the calling station's entity id; None when the hub calls (an automation)
    caller: str | None
    #: what was asked to be rung, as given: a station entity id or a household id
    target: str
    #: the household being called, if the target is (or belongs to) one
    household: str | None
    #: entity ids of the stations rung (a callee leaves this list when it declines)
    stations: list[str]
    started: datetime
    context: Context
    message: str | None = None
    snapshot_url: str | None = None
    reason: str | None = None
    phase: str = PHASE_RINGING
    answered_by: str | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None
    #: who opened the door during the call ("intercom.guard_room", "user:R00001", "hub")
    unlocked_by: list[str] = field(default_factory=list)
    declined_by: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.phase in (PHASE_RINGING, PHASE_ANSWERED)

    def involves(self, entity_id: str) -> bool:
        """Whether ``entity_id`` is in this call now: the caller, a station still ringing or
        the one that answered."""
        if entity_id == self.caller:
            return True
        if self.phase == PHASE_ANSWERED:
            return entity_id == self.answered_by
        return entity_id in self.stations

    def participants(self) -> list[str]:
        """Entity ids of every station in the call now (caller first)."""
        found = [self.caller] if self.caller else []
        if self.phase != PHASE_ANSWERED:
            found.extend(self.stations)
        elif self.answered_by:  # None: answered by a device the hub does not know
            found.append(self.answered_by)
        return found

    def talk_seconds(self) -> float:
        """Seconds between answer and end (0 for a call never answered)."""
        if self.answered_at is None or self.ended_at is None:
            return 0.0
        return (self.ended_at - self.answered_at).total_seconds()

    def ring_seconds(self) -> float:
        """Seconds the call rang before it was answered, missed or ended."""
        until = self.answered_at or self.ended_at
        return 0.0 if until is None else (until - self.started).total_seconds()

    def event_data(self) -> dict[str, Any]:
        """The data of the ``intercom_call`` event for the call's current phase."""
        return {
            "call_id": self.call_id,
            "phase": self.phase,
            "caller": self.caller,
            "callee": self.answered_by or self.target,
            "target": self.target,
            "household": self.household,
            "stations": list(self.stations),
            "message": self.message,
            "snapshot_url": self.snapshot_url,
            "reason": self.reason,
            "answered_by": self.answered_by,
            "end_reason": self.end_reason,
            "duration": self.talk_seconds(),
            "ring_duration": self.ring_seconds(),
        }
