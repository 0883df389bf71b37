"""The ``binary_sensor`` platform: door contacts, PIR motion, smoke, gas, water, tamper and panic
buttons, anything that is on or off. No services; the device reports.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar, Final, Unpack

from ..entity import Entity, EntityOptions
from ._common import STATE_OFF, STATE_ON

DOMAIN: Final = "binary_sensor"


class BinarySensorDeviceClass(StrEnum):
    """What a binary sensor detects; ``on`` means the alarming/open/detected side."""

    DOOR = "door"
    WINDOW = "window"
    MOTION = "motion"
    OCCUPANCY = "occupancy"
    SMOKE = "smoke"
    GAS = "gas"
    MOISTURE = "moisture"
    TAMPER = "tamper"
    VIBRATION = "vibration"
    SAFETY = "safety"
    PANIC = "panic"


class BinarySensorEntity(Entity):
    """A two-state sensor. Set :attr:`is_on` and call :meth:`write_state`."""

    domain: ClassVar[str] = DOMAIN
    states: ClassVar[frozenset[str]] = frozenset({STATE_ON, STATE_OFF})

    #: None until the device has reported
    is_on: bool | None = None

    def __init__(
        self,
        name: str,
        *,
        device_class: BinarySensorDeviceClass | str | None = None,
        **options: Unpack[EntityOptions],
    ) -> None:
        super().__init__(name, **options)
        self.device_class = _device_class(device_class)

    @property
    def state(self) -> str | None:
        if self.is_on is None:
            return None
        return STATE_ON if self.is_on else STATE_OFF

    def state_attributes(self) -> dict[str, Any]:
        if self.device_class is None:
            return {}
        return {"device_class": self.device_class.value}


def _device_class(value: BinarySensorDeviceClass | str | None) -> BinarySensorDeviceClass | None:
    if value is None:
        return None
    try:
        return BinarySensorDeviceClass(value)
    except ValueError:
        known = ", ".join(member.value for member in BinarySensorDeviceClass)
        raise ValueError(
            f"Unknown binary_sensor device_class {value!r} (expected one of {known})"
        ) from None
