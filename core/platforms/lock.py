"""The ``lock`` platform: door locks of units, entrances and equipment rooms.

Services ``lock.lock``, ``lock.unlock`` and ``lock.open`` (unlatch), each with an optional
``code``. An integration overrides the ones its device can do and reports through
:attr:`LockEntity.lock_state`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Final

from ..entity import Entity, EntityService
from ..events import Context
from ._common import CODE_SCHEMA, NotSupportedError

DOMAIN: Final = "lock"

STATE_LOCKED: Final = "locked"
STATE_UNLOCKED: Final = "unlocked"
STATE_JAMMED: Final = "jammed"
STATE_OPEN: Final = "open"
STATE_LOCKING: Final = "locking"
STATE_UNLOCKING: Final = "unlocking"
STATE_OPENING: Final = "opening"


class LockEntity(Entity):
    """A lock. Set :attr:`lock_state` (and :attr:`changed_by`) and call :meth:`write_state`."""

    domain: ClassVar[str] = DOMAIN
    states: ClassVar[frozenset[str]] = frozenset(
        {
            STATE_LOCKED,
            STATE_UNLOCKED,
            STATE_JAMMED,
            STATE_OPEN,
            STATE_LOCKING,
            STATE_UNLOCKING,
            STATE_OPENING,
        }
    )
    services: ClassVar[Mapping[str, EntityService]] = {
        "lock": EntityService("lock", CODE_SCHEMA),
        "unlock": EntityService("unlock", CODE_SCHEMA),
        "open": EntityService("open", CODE_SCHEMA),
    }

    #: one of :attr:`states`; None until the device has reported
    lock_state: str | None = None
    #: who or what last operated the lock (a card id, "app", "keypad" …), if the device says
    changed_by: str | None = None

    @property
    def state(self) -> str | None:
        return self.lock_state

    @property
    def is_locked(self) -> bool:
        return self.lock_state == STATE_LOCKED

    @property
    def is_jammed(self) -> bool:
        return self.lock_state == STATE_JAMMED

    @property
    def is_open(self) -> bool:
        return self.lock_state == STATE_OPEN

    def state_attributes(self) -> dict[str, Any]:
        return {"changed_by": self.changed_by}

    async def lock(self, *, code: str | None = None, context: Context | None = None) -> None:
        raise NotSupportedError(self, "lock")

    async def unlock(self, *, code: str | None = None, context: Context | None = None) -> None:
        raise NotSupportedError(self, "unlock")

    async def open(self, *, code: str | None = None, context: Context | None = None) -> None:
        """Unlatch the door (beyond unlocking); few locks can."""
        raise NotSupportedError(self, "open")
