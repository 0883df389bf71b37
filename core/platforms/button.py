"""The ``button`` platform: one-shot actions with no state of their own (restart a door
station, open the barrier once, test a siren). ``button.press``; the state is the time of the
last press (ISO 8601, UTC), as in Home Assistant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Final, Unpack

from ..entity import Entity, EntityOptions, EntityService
from ..events import Context
from ._common import NotSupportedError

DOMAIN: Final = "button"


class ButtonEntity(Entity):
    """A button. Override :meth:`press`; the platform records when it was pressed."""

    domain: ClassVar[str] = DOMAIN
    services: ClassVar[Mapping[str, EntityService]] = {
        "press": EntityService("_press_service"),
    }

    def __init__(
        self, name: str, *, device_class: str | None = None, **options: Unpack[EntityOptions]
    ) -> None:
        super().__init__(name, **options)
        self.device_class = device_class
        #: ISO 8601 time of the last press through the hub; None before the first
        self.last_pressed: str | None = None

    @property
    def state(self) -> str | None:
        return self.last_pressed

    def state_attributes(self) -> dict[str, Any]:
        return {} if self.device_class is None else {"device_class": self.device_class}

    async def press(self, *, context: Context | None = None) -> None:
        raise NotSupportedError(self, "press")

    async def _press_service(self, *, context: Context | None = None) -> None:
        await self.press(context=context)
        if self.hub is not None:
            self.last_pressed = self.hub.clock.now().isoformat()
            self.write_state(context)
