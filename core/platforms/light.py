"""The ``light`` platform: stairwell, corridor, garage and flood lights.

``light.turn_on`` takes an optional ``brightness`` (0..255; 0 turns the light off) and
``transition`` (seconds); ``turn_off`` an optional ``transition``; ``toggle`` nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Final

import voluptuous as vol

from ..entity import EntityService
from ..events import Context
from ._common import NotSupportedError, ToggleEntity

DOMAIN: Final = "light"

_TRANSITION: Final = vol.All(vol.Coerce(float), vol.Range(min=0.0))
TURN_ON_SCHEMA: Final[Mapping[Any, Any]] = {
    vol.Optional("brightness"): vol.All(vol.Coerce(int), vol.Range(min=0, max=255)),
    vol.Optional("transition"): _TRANSITION,
}
TURN_OFF_SCHEMA: Final[Mapping[Any, Any]] = {vol.Optional("transition"): _TRANSITION}


class LightEntity(ToggleEntity):
    """A light. Override :meth:`turn_on`/:meth:`turn_off`, set :attr:`is_on` (and
    :attr:`brightness` if dimmable), call :meth:`write_state`."""

    domain: ClassVar[str] = DOMAIN
    services: ClassVar[Mapping[str, EntityService]] = {
        **ToggleEntity.services,
        "turn_on": EntityService("_turn_on_service", TURN_ON_SCHEMA),
        "turn_off": EntityService("turn_off", TURN_OFF_SCHEMA),
    }

    #: 1..255 while on, for a dimmable light; None if not dimmable or not known
    brightness: int | None = None

    def state_attributes(self) -> dict[str, Any]:
        return {"brightness": self.brightness if self.is_on else None}

    async def turn_on(
        self,
        *,
        brightness: int | None = None,
        transition: float | None = None,
        context: Context | None = None,
    ) -> None:
        raise NotSupportedError(self, "turn_on")

    async def turn_off(
        self, *, transition: float | None = None, context: Context | None = None
    ) -> None:
        raise NotSupportedError(self, "turn_off")

    async def _turn_on_service(
        self,
        *,
        brightness: int | None = None,
        transition: float | None = None,
        context: Context | None = None,
    ) -> None:
        if brightness == 0:
            await self.turn_off(transition=transition, context=context)
        else:
            await self.turn_on(brightness=brightness, transition=transition, context=context)
