"""Entity platforms: the base classes integrations subclass for each kind of device.

Each platform fixes its domain, its allowed states, its services (with their schemas) and its
attributes; an integration implements the device I/O. ``PLATFORMS`` maps a domain to its class.
"""

from __future__ import annotations

from typing import Final

from ..entity import Entity
from ._common import NotSupportedError, ToggleEntity
from .alarm_control_panel import AlarmControlPanelEntity, CodeFormat
from .binary_sensor import BinarySensorDeviceClass, BinarySensorEntity
from .button import ButtonEntity
from .camera import CameraEntity
from .event import EventEntity
from .gate import GateEntity
from .intercom import IntercomEntity
from .light import LightEntity
from .lock import LockEntity
from .person import PersonEntity
from .sensor import SensorEntity, SensorStateClass
from .siren import SirenEntity
from .switch import SwitchEntity

PLATFORMS: Final[dict[str, type[Entity]]] = {
    cls.domain: cls
    for cls in (
        AlarmControlPanelEntity,
        BinarySensorEntity,
        ButtonEntity,
        CameraEntity,
        EventEntity,
        GateEntity,
        IntercomEntity,
        LightEntity,
        LockEntity,
        PersonEntity,
        SensorEntity,
        SirenEntity,
        SwitchEntity,
    )
}

__all__ = [
    "PLATFORMS",
    "AlarmControlPanelEntity",
    "BinarySensorDeviceClass",
    "BinarySensorEntity",
    "ButtonEntity",
    "CameraEntity",
    "CodeFormat",
    "EventEntity",
    "GateEntity",
    "IntercomEntity",
    "LightEntity",
    "LockEntity",
    "NotSupportedError",
    "PersonEntity",
    "SensorEntity",
    "SensorStateClass",
    "SirenEntity",
    "SwitchEntity",
    "ToggleEntity",
]
