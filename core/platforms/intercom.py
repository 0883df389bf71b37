"""The ``intercom`` platform: door stations at gates and unit entrances, indoor monitors and the
guard-room master station.

Services ``intercom.call`` (``target``: the household or room to ring, e.g. ``"B1-U1-1203"``),
``answer``, ``hangup`` and ``unlock`` (the door the station opens; optional ``door`` number for
stations with several).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Final

import voluptuous as vol

from ..entity import Entity, EntityService
from ..events import Context
from ._common import NotSupportedError

DOMAIN: Final = "intercom"

STATE_IDLE: Final = "idle"
STATE_RINGING: Final = "ringing"
STATE_IN_CALL: Final = "in_call"

CALL_SCHEMA: Final[Mapping[Any, Any]] = {vol.Required("target"): vol.All(str, vol.Length(min=1))}
UNLOCK_SCHEMA: Final[Mapping[Any, Any]] = {
    vol.Optional("door"): vol.All(vol.Coerce(int), vol.Range(min=1)),
}


class IntercomEntity(Entity):
    """An intercom station. Set :attr:`intercom_state`, :attr:`caller` and :attr:`call_id` as
    calls come and go, and call :meth:`write_state`."""

    domain: ClassVar[str] = DOMAIN
    states: ClassVar[frozenset[str]] = frozenset({STATE_IDLE, STATE_RINGING, STATE_IN_CALL})
    services: ClassVar[Mapping[str, EntityService]] = {
        "call": EntityService("call", CALL_SCHEMA),
        "answer": EntityService("answer"),
        "hangup": EntityService("hangup"),
        "unlock": EntityService("unlock", UNLOCK_SCHEMA),
    }

    intercom_state: str | None = STATE_IDLE
    #: who is calling or being called (a station, household or room), during a call
    caller: str | None = None
    call_id: str | None = None

    @property
    def state(self) -> str | None:
        return self.intercom_state

    def state_attributes(self) -> dict[str, Any]:
        return {"caller": self.caller, "call_id": self.call_id}

    async def call(self, *, target: str, context: Context | None = None) -> None:
        raise NotSupportedError(self, "call")

    async def answer(self, *, context: Context | None = None) -> None:
        raise NotSupportedError(self, "answer")

    async def hangup(self, *, context: Context | None = None) -> None:
        raise NotSupportedError(self, "hangup")

    async def unlock(self, *, door: int | None = None, context: Context | None = None) -> None:
        raise NotSupportedError(self, "unlock")
