"""The ``sensor`` platform: measured values (temperature, PM2.5, water level, people counted at a
gate, battery level) and free text. No services; the device reports.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any, ClassVar, Final, Unpack

from ..entity import Entity, EntityOptions

DOMAIN: Final = "sensor"


class SensorStateClass(StrEnum):
    """How the value behaves over time (what statistics make sense of it)."""

    MEASUREMENT = "measurement"
    TOTAL = "total"
    TOTAL_INCREASING = "total_increasing"


class SensorEntity(Entity):
    """A sensor. Set :attr:`native_value` and call :meth:`write_state`.

    Numbers become the state string: integers as is, floats rounded to ``display_precision``
    decimals when it is set; NaN and infinities become ``unknown``.
    """

    domain: ClassVar[str] = DOMAIN

    #: None until the device has reported
    native_value: str | int | float | None = None

    def __init__(
        self,
        name: str,
        *,
        unit_of_measurement: str | None = None,
        device_class: str | None = None,
        state_class: SensorStateClass | str | None = None,
        display_precision: int | None = None,
        **options: Unpack[EntityOptions],
    ) -> None:
        super().__init__(name, **options)
        self.unit_of_measurement = unit_of_measurement
        self.device_class = device_class
        self.state_class = _state_class(state_class)
        if display_precision is not None and display_precision < 0:
            raise ValueError(f"display_precision must be 0 or more, got {display_precision}")
        self.display_precision = display_precision

    @property
    def state(self) -> str | None:
        value = self.native_value
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):  # an int subclass, but not a measurement
            raise TypeError(
                f"{self.entity_id}: a sensor value cannot be a bool (use binary_sensor)"
            )
        if isinstance(value, int):
            return str(value)
        if not math.isfinite(value):
            return None
        if self.display_precision is None:
            return str(value + 0.0)  # + 0.0 turns -0.0 into 0.0
        return f"{round(value, self.display_precision) + 0.0:.{self.display_precision}f}"

    def state_attributes(self) -> dict[str, Any]:
        attributes: dict[str, Any] = {}
        if self.unit_of_measurement is not None:
            attributes["unit_of_measurement"] = self.unit_of_measurement
        if self.device_class is not None:
            attributes["device_class"] = self.device_class
        if self.state_class is not None:
            attributes["state_class"] = self.state_class.value
        return attributes


def _state_class(value: SensorStateClass | str | None) -> SensorStateClass | None:
    if value is None:
        return None
    try:
        return SensorStateClass(value)
    except ValueError:
        known = ", ".join(member.value for member in SensorStateClass)
        raise ValueError(
            f"Unknown sensor state_class {value!r} (expected one of {known})"
        ) from None
