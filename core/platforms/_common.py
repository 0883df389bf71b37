"""What several entity platforms share: the "not supported" error, the on/off base of switch,
siren and light, and the optional ``code`` field.

Platform modules import from here; integrations import the platform classes from
:mod:`shouwang.core.platforms`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Final

import voluptuous as vol

from ..entity import Entity, EntityService
from ..events import Context
from ..services import ServiceError

STATE_ON: Final = "on"
STATE_OFF: Final = "off"

#: the optional ``code`` (PIN) of lock and alarm panel services; a string, so "0123" keeps its 0
CODE_SCHEMA: Final[Mapping[Any, Any]] = {vol.Optional("code"): str}


class NotSupportedError(ServiceError):
    """The entity's integration does not implement this capability (a lock that cannot open)."""

    def __init__(self, entity: Entity, capability: str, hint: str = "") -> None:
        self.entity_id = entity.entity_id or entity.name
        self.capability = capability
        message = f"{self.entity_id} does not support {capability}"
        super().__init__(f"{message} ({hint})" if hint else message)


class ToggleEntity(Entity):
    """An entity that is on or off. Integrations override :meth:`turn_on` and
    :meth:`turn_off`, set :attr:`is_on` and call :meth:`write_state`; ``toggle`` is built in."""

    states: ClassVar[frozenset[str]] = frozenset({STATE_ON, STATE_OFF})
    services: ClassVar[Mapping[str, EntityService]] = {
        "turn_on": EntityService("turn_on"),
        "turn_off": EntityService("turn_off"),
        "toggle": EntityService("toggle"),
    }

    #: None until the device has reported
    is_on: bool | None = None

    @property
    def state(self) -> str | None:
        if self.is_on is None:
            return None
        return STATE_ON if self.is_on else STATE_OFF

    async def turn_on(self, *, context: Context | None = None) -> None:
        raise NotSupportedError(self, "turn_on")

    async def turn_off(self, *, context: Context | None = None) -> None:
        raise NotSupportedError(self, "turn_off")

    async def toggle(self, *, context: Context | None = None) -> None:
        """Turn off if on, otherwise (off or not yet known) turn on."""
        if self.is_on:
            await self.turn_off(context=context)
        else:
            await self.turn_on(context=context)
