"""The ``gate`` platform: pedestrian turnstiles, vehicle barriers and sliding gates.

Services ``gate.open`` and ``gate.close``; the device reports ``opening``/``closing`` while it
moves and ``fault`` when it is stuck or its controller reports an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Final

from ..entity import Entity, EntityService
from ..events import Context
from ._common import NotSupportedError

DOMAIN: Final = "gate"

STATE_OPEN: Final = "open"
STATE_CLOSED: Final = "closed"
STATE_OPENING: Final = "opening"
STATE_CLOSING: Final = "closing"
STATE_FAULT: Final = "fault"


class GateEntity(Entity):
    """A gate. Set :attr:`gate_state` and call :meth:`write_state`."""

    domain: ClassVar[str] = DOMAIN
    states: ClassVar[frozenset[str]] = frozenset(
        {STATE_OPEN, STATE_CLOSED, STATE_OPENING, STATE_CLOSING, STATE_FAULT}
    )
    services: ClassVar[Mapping[str, EntityService]] = {
        "open": EntityService("open"),
        "close": EntityService("close"),
    }

    #: one of :attr:`states`; None until the device has reported
    gate_state: str | None = None

    @property
    def state(self) -> str | None:
        return self.gate_state

    @property
    def is_closed(self) -> bool:
        return self.gate_state == STATE_CLOSED

    async def open(self, *, context: Context | None = None) -> None:
        raise NotSupportedError(self, "open")

    async def close(self, *, context: Context | None = None) -> None:
        raise NotSupportedError(self, "close")
