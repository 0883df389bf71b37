"""The ``siren`` platform: sounders and strobes of the perimeter and building alarms.

``siren.turn_on`` takes an optional ``tone``, ``volume_level`` (0..1) and ``duration`` (seconds);
``turn_off`` and ``toggle`` take nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final

import voluptuous as vol

from ..entity import EntityService
from ..events import Context
from ..services import ServiceValidationError
from ._common import NotSupportedError, ToggleEntity

DOMAIN: Final = "siren"

TURN_ON_SCHEMA: Final[Mapping[Any, Any]] = {
    vol.Optional("tone"): str,
    vol.Optional("volume_level"): vol.All(vol.Coerce(float), vol.Range(min=0.0, max=1.0)),
    vol.Optional("duration"): vol.All(vol.Coerce(float), vol.Range(min=0.0, min_included=False)),
}


class SirenEntity(ToggleEntity):
    """A siren. Override :meth:`turn_on`/:meth:`turn_off`, set :attr:`is_on`, call
    :meth:`write_state`. Set :attr:`available_tones` if the device has named tones; a call
    with another tone is then refused before it reaches the device."""

    domain: ClassVar[str] = DOMAIN
    services: ClassVar[Mapping[str, EntityService]] = {
        **ToggleEntity.services,
        "turn_on": EntityService("_turn_on_service", TURN_ON_SCHEMA),
    }

    #: the tones the device can play, or None if it has no choice of tone
    available_tones: Sequence[str] | None = None

    def state_attributes(self) -> dict[str, Any]:
        if self.available_tones is None:
            return {}
        return {"available_tones": list(self.available_tones)}

    async def turn_on(
        self,
        *,
        tone: str | None = None,
        volume_level: float | None = None,
        duration: float | None = None,
        context: Context | None = None,
    ) -> None:
        raise NotSupportedError(self, "turn_on")

    async def _turn_on_service(
        self,
        *,
        tone: str | None = None,
        volume_level: float | None = None,
        duration: float | None = None,
        context: Context | None = None,
    ) -> None:
        if tone is not None:
            if self.available_tones is None:
                raise NotSupportedError(self, "tones")
            if tone not in self.available_tones:
                raise ServiceValidationError(
                    f"tone: {tone!r} is not a tone of {self.entity_id} "
                    f"(available: {', '.join(self.available_tones)})"
                )
        await self.turn_on(tone=tone, volume_level=volume_level, duration=duration, context=context)
