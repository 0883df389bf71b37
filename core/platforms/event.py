"""The ``event`` platform: things that happen rather than states (a doorbell press, a remote's
button, a card swipe). The state is the time of the last event (ISO 8601, UTC); the attributes
carry its ``event_type``, the ``event_types`` the entity can report and the event's data.
No services; the device reports through :meth:`EventEntity.trigger_event`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final, Unpack

from ..entity import Entity, EntityOptions

DOMAIN: Final = "event"


class EventEntity(Entity):
    """An event entity. Call :meth:`trigger_event` when the device reports one."""

    domain: ClassVar[str] = DOMAIN

    def __init__(
        self,
        name: str,
        *,
        event_types: Sequence[str],
        device_class: str | None = None,
        **options: Unpack[EntityOptions],
    ) -> None:
        super().__init__(name, **options)
        if not event_types:
            raise ValueError(f"{name}: an event entity needs at least one event type")
        self.event_types = list(event_types)
        self.device_class = device_class
        self.last_event_time: str | None = None
        self.last_event_type: str | None = None
        self.last_event_data: dict[str, Any] = {}

    @property
    def state(self) -> str | None:
        return self.last_event_time

    def state_attributes(self) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            **self.last_event_data,
            "event_types": list(self.event_types),
            "event_type": self.last_event_type,
        }
        if self.device_class is not None:
            attributes["device_class"] = self.device_class
        return attributes

    def trigger_event(self, event_type: str, data: Mapping[str, Any] | None = None) -> None:
        """Record an event (``event_type`` must be one of :attr:`event_types`) and write it."""
        if event_type not in self.event_types:
            raise ValueError(
                f"{self.entity_id}: {event_type!r} is not one of its event types "
                f"({', '.join(self.event_types)})"
            )
        if self.hub is None:
            raise RuntimeError(f"Entity {self.name!r} has not been added to a hub")
        self.last_event_time = self.hub.clock.now().isoformat()
        self.last_event_type = event_type
        self.last_event_data = dict(data or {})
        self.write_state()
