"""Entities and entity platforms: how a device becomes ``lock.gate_north`` in the state machine.

An integration creates :class:`Entity` objects of a platform class (``LockEntity``,
``BinarySensorEntity`` … in :mod:`shouwang.core.platforms`) and hands them to
``hub.entities.add``. The registry gives each an entity id, binds it to its place, registers the
platform's services (``lock.unlock`` …) the first time the platform is used, and writes the
entity's state. The entity calls :meth:`Entity.write_state` whenever its device reports.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypedDict

import voluptuous as vol

from .events import Context
from .services import (
    ENTITY_MATCH_ALL,
    ServiceCall,
    ServiceError,
    ServiceResponse,
    ServiceValidationError,
    SupportsResponse,
)
from .states import State, normalize_entity_id

if TYPE_CHECKING:
    from .hub import Hub

_LOGGER = logging.getLogger(__name__)

STATE_UNAVAILABLE: Final = "unavailable"
STATE_UNKNOWN: Final = "unknown"


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """The physical device behind one or more entities."""

    identifiers: frozenset[tuple[str, str]] = frozenset()
    name: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    sw_version: str | None = None
    via_device: tuple[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "identifiers": sorted(list(pair) for pair in self.identifiers),
            "name": self.name,
            "manufacturer": self.manufacturer,
            "model": self.model,
            "sw_version": self.sw_version,
        }


@dataclass(frozen=True, slots=True)
class EntityService:
    """A platform service (``lock.unlock``) that calls ``method`` on each targeted entity."""

    method: str
    schema: Mapping[Any, Any] = field(default_factory=dict)
    supports_response: SupportsResponse = SupportsResponse.NONE


class EntityOptions(TypedDict, total=False):
    """The keyword arguments of :class:`Entity`, for platform
    constructors that add their own and pass these on."""

    unique_id: str | None
    place_id: str | None
    device_info: DeviceInfo | None
    entity_id: str | None
    icon: str | None
    attributes: Mapping[str, Any] | None


class Entity:
    """Base of every entity. Platform classes set ``domain``, ``services`` and the state logic;
    integrations subclass a platform class and talk to the device."""

    domain: ClassVar[str] = ""
    services: ClassVar[Mapping[str, EntityService]] = {}
    #: state strings this platform may report (besides unavailable/unknown); empty = any
    states: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        name: str,
        *,
        unique_id: str | None = None,
        place_id: str | None = None,
        device_info: DeviceInfo | None = None,
        entity_id: str | None = None,
        icon: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.unique_id = unique_id
        self.place_id = place_id
        self.device_info = device_info
        self.requested_entity_id = entity_id
        self.icon = icon
        self.extra_attributes: dict[str, Any] = dict(attributes or {})
        self.available = True
        self.hub: Hub | None = None
        self.entity_id: str | None = None
        self.integration: str | None = None

    # -- what subclasses provide -------------------------------------------------------------
    @property
    def state(self) -> str | None:
        """The state string; None means unknown."""
        return None

    def state_attributes(self) -> dict[str, Any]:
        """Attributes the platform defines (device_class, brightness …)."""
        return {}

    async def added_to_hub(self) -> None:
        """Called once the entity has its id, before its first state is written."""

    async def will_remove(self) -> None:
        """Called before the entity is removed (unsubscribe from the device here)."""

    # -- writing ----------------------------------------------------------------------------
    def current_attributes(self) -> dict[str, Any]:
        attributes = self.state_attributes()
        attributes.update(self.extra_attributes)
        attributes["friendly_name"] = self.name
        if self.place_id is not None:
            attributes["place_id"] = self.place_id
        if self.icon is not None:
            attributes["icon"] = self.icon
        return attributes

    def write_state(self, context: Context | None = None) -> State | None:
        """Write the entity's current state into the state machine."""
        if self.hub is None or self.entity_id is None:
            raise RuntimeError(f"Entity {self.name!r} has not been added to a hub")
        if not self.available:
            state = STATE_UNAVAILABLE
        else:
            value = self.state
            state = STATE_UNKNOWN if value is None else value
            if self.states and state not in self.states and state != STATE_UNKNOWN:
                raise ValueError(
                    f"{self.entity_id}: {state!r} is not a {self.domain} state "
                    f"(expected one of {', '.join(sorted(self.states))})"
                )
        return self.hub.states.set(
            self.entity_id, state, self.current_attributes(), context=context
        )

    def set_available(self, available: bool, context: Context | None = None) -> None:
        if available != self.available:
            self.available = available
            if self.hub is not None:
                self.write_state(context)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.entity_id or self.name}>"


def slugify(text: str) -> str:
    """``"Gate North"`` -> ``"gate_north"``; characters outside a-z0-9 become underscores."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9]", "_", ascii_text.lower())).strip("_")


class EntityRegistry:
    """The live entities of a hub, by entity id; owner of the platform services."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._entities: dict[str, Entity] = {}
        self._by_unique_id: dict[tuple[str, str], str] = {}
        self._domains_with_services: set[str] = set()

    def get(self, entity_id: str) -> Entity | None:
        return self._entities.get(entity_id)

    def all(self, domain: str | None = None) -> list[Entity]:
        return [e for e in self._entities.values() if domain is None or e.domain == domain]

    def __len__(self) -> int:
        return len(self._entities)

    async def add(self, entities: Iterable[Entity], integration: str = "") -> list[Entity]:
        """Add entities: assign ids, bind places, register platform services, write states.

        An entity whose ``unique_id`` is already known for the same integration and platform
        replaces nothing and is skipped with a warning (a device announced twice).
        """
        added: list[Entity] = []
        for entity in entities:
            if not entity.domain:
                raise TypeError(f"{type(entity).__name__} does not belong to a platform")
            key = (f"{integration}:{entity.domain}", entity.unique_id or "")
            if entity.unique_id and key in self._by_unique_id:
                _LOGGER.warning(
                    "%s: unique_id %s is already %s; skipped",
                    integration,
                    entity.unique_id,
                    self._by_unique_id[key],
                )
                continue
            entity.entity_id = self._new_entity_id(entity)
            entity.hub = self._hub
            entity.integration = integration
            self._entities[entity.entity_id] = entity
            if entity.unique_id:
                self._by_unique_id[key] = entity.entity_id
            self._hub.places.bind(entity.entity_id, entity.place_id)
            self._ensure_services(type(entity))
            try:
                await entity.added_to_hub()
                entity.write_state()
            except Exception:
                # leave no half-registered entity behind
                self._entities.pop(entity.entity_id, None)
                self._by_unique_id.pop(key, None)
                self._hub.places.bind(entity.entity_id, None)
                entity.hub = None
                raise
            added.append(entity)
        return added

    async def remove(self, entity_id: str) -> None:
        entity = self._entities.pop(entity_id, None)
        if entity is None:
            return
        await entity.will_remove()
        self._by_unique_id = {k: v for k, v in self._by_unique_id.items() if v != entity_id}
        self._hub.places.bind(entity_id, None)
        self._hub.states.remove(entity_id)
        entity.hub = None

    def _new_entity_id(self, entity: Entity) -> str:
        if entity.requested_entity_id:
            wanted = normalize_entity_id(entity.requested_entity_id)
            if wanted.partition(".")[0] != entity.domain:
                raise ValueError(f"{wanted} must start with {entity.domain}.")
        else:
            object_id = slugify(entity.name) or slugify(entity.unique_id or "") or "entity"
            wanted = f"{entity.domain}.{object_id}"
        candidate, number = wanted, 2
        while candidate in self._entities or candidate in self._hub.states:
            candidate = f"{wanted}_{number}"
            number += 1
        return candidate

    def ensure_services(self, cls: type[Entity]) -> None:
        """Register ``cls``'s platform services unless its domain already has them.

        An integration that takes over a platform service (the intercom call manager owns
        ``intercom.call``, which may be called without a target) calls this first and then
        registers its own handler over it: entities added later never re-register the
        platform's services, so the takeover stays. The platform's handler stays reachable as
        ``hub.services.services()[domain][service].handler`` read before the takeover.
        """
        self._ensure_services(cls)

    def _ensure_services(self, cls: type[Entity]) -> None:
        if cls.domain in self._domains_with_services:
            return
        self._domains_with_services.add(cls.domain)
        for service, spec in cls.services.items():
            self._hub.services.register(
                cls.domain,
                service,
                self._entity_service_handler(cls.domain, service, spec),
                vol.Schema(dict(spec.schema)),
                supports_response=spec.supports_response,
            )

    def _entity_service_handler(
        self, domain: str, service: str, spec: EntityService
    ) -> Callable[[ServiceCall], Awaitable[ServiceResponse]]:
        name = f"{domain}.{service}"

        async def handle(call: ServiceCall) -> ServiceResponse:
            if call.entity_ids is None:
                raise ServiceValidationError(f"{name} needs a target (entity_id or place_id)")
            targets = self.targets(domain, call.entity_ids)
            named = {e for e in call.entity_ids if e.partition(".")[0] == domain}
            missing = sorted(named - {e.entity_id for e in targets})
            if missing and not targets:
                raise ServiceValidationError(f"{name}: no such entity: {', '.join(missing)}")
            if missing:
                _LOGGER.warning("%s: no such entity: %s", name, ", ".join(missing))
            # One offline device must not block the rest ("unlock building 1" in an emergency):
            # unavailable targets are skipped, and only if nothing is left is it an error.
            ready = [entity for entity in targets if entity.available]
            offline = [entity.entity_id for entity in targets if not entity.available]
            if offline and not ready:
                raise ServiceError(f"{name}: unavailable: {', '.join(map(str, offline))}")
            if offline:
                _LOGGER.warning("%s skipped unavailable %s", name, ", ".join(map(str, offline)))
            outcomes = await asyncio.gather(
                *(_call_entity(getattr(entity, spec.method), call) for entity in ready),
                return_exceptions=True,
            )
            results: dict[str, Any] = {}
            for entity, outcome in zip(ready, outcomes, strict=True):
                if isinstance(outcome, Exception):
                    error_type = (
                        ServiceValidationError
                        if isinstance(outcome, ServiceValidationError)
                        else ServiceError
                    )
                    raise error_type(f"{name} on {entity.entity_id}: {outcome}") from outcome
                if isinstance(outcome, BaseException):  # cancellation: let it through
                    raise outcome
                if outcome is not None:
                    results[entity.entity_id or ""] = outcome
            return results if call.return_response else None

        return handle

    def targets(self, domain: str, entity_ids: set[str] | None) -> list[Entity]:
        """The entities of ``domain`` that ``entity_ids`` names ("all" means every one)."""
        if entity_ids is None:
            return []
        if ENTITY_MATCH_ALL in entity_ids:
            return self.all(domain)
        found = []
        for entity_id in sorted(entity_ids):
            entity = self._entities.get(entity_id)
            if entity is not None and entity.domain == domain:
                found.append(entity)
        return found


async def _call_entity(method: Callable[..., Any], call: ServiceCall) -> Any:
    result = method(**call.data, context=call.context)
    if asyncio.iscoroutine(result):
        result = await result
    return result
