"""Service registry: the verbs of the hub (``lock.unlock``, ``intercom.answer``, ``mqtt.publish``).

Integrations and entity platforms register handlers with voluptuous schemas; automations, the
API and voice call them. Calls are validated (errors name the bad field), targeted by entity id
or by place (a building, gate or zone), announced with a ``call_service`` event, and carry a
:class:`Context` so the effects can be traced to their cause.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, cast

import voluptuous as vol

from .events import Context, EventBus
from .places import PlaceIndex, UnknownPlace
from .states import InvalidEntityId, normalize_entity_id

if TYPE_CHECKING:
    from collections.abc import Coroutine

_LOGGER = logging.getLogger(__name__)

CALL_SERVICE: Final = "call_service"
ENTITY_MATCH_ALL: Final = "all"

ServiceResponse = dict[str, Any] | None
ServiceHandler = Callable[["ServiceCall"], Awaitable[ServiceResponse] | ServiceResponse]


class SupportsResponse(StrEnum):
    """Whether a service returns data: never, when asked, or always."""

    NONE = "none"
    OPTIONAL = "optional"
    ONLY = "only"


class ServiceError(Exception):
    """A service call that cannot be carried out; the message says why."""


class ServiceNotFound(ServiceError):
    def __init__(self, domain: str, service: str) -> None:
        super().__init__(f"Service {domain}.{service} not found")
        self.domain = domain
        self.service = service


class ServiceValidationError(ServiceError):
    """The call's data or target is invalid; the message names the field."""


@dataclass(slots=True)
class ServiceCall:
    """One call of a service, as its handler sees it."""

    domain: str
    service: str
    data: dict[str, Any]
    context: Context
    entity_ids: set[str] | None = None  # resolved target; None when the call has no target
    return_response: bool = False


@dataclass(slots=True)
class Service:
    handler: ServiceHandler
    schema: vol.Schema | None
    supports_response: SupportsResponse
    description: str = ""
    fields: dict[str, Any] = field(default_factory=dict)


def humanize_invalid(error: vol.Invalid) -> str:
    """``data['code']: expected str`` style text for every error inside ``error``."""
    errors = error.errors if isinstance(error, vol.MultipleInvalid) else [error]
    parts = []
    for item in errors:
        path = "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in item.path)
        where = path.lstrip(".") or "data"
        parts.append(f"{where}: {item.error_message}")
    return "; ".join(parts)


class ServiceRegistry:
    """Registered services and the one way to call them."""

    def __init__(
        self,
        bus: EventBus,
        places: PlaceIndex,
        create_task: Callable[[Coroutine[Any, Any, Any], str], Any],
    ) -> None:
        self._bus = bus
        self._places = places
        self._create_task = create_task
        self._services: dict[str, dict[str, Service]] = {}

    def register(
        self,
        domain: str,
        service: str,
        handler: ServiceHandler,
        schema: vol.Schema | Mapping[Any, Any] | None = None,
        *,
        supports_response: SupportsResponse = SupportsResponse.NONE,
        description: str = "",
    ) -> None:
        """Register (or replace) ``domain.service``."""
        domain, service = domain.lower(), service.lower()
        if schema is not None and not isinstance(schema, vol.Schema):
            schema = vol.Schema(dict(schema))
        self._services.setdefault(domain, {})[service] = Service(
            handler, schema, supports_response, description
        )

    def remove(self, domain: str, service: str) -> None:
        self._services.get(domain, {}).pop(service, None)

    def has(self, domain: str, service: str) -> bool:
        return service in self._services.get(domain, {})

    def services(self) -> dict[str, dict[str, Service]]:
        return {domain: dict(items) for domain, items in self._services.items()}

    def resolve_target(
        self, target: Mapping[str, Any] | None, data: Mapping[str, Any] | None = None
    ) -> set[str] | None:
        """Entity ids named by ``target`` (``entity_id``, ``place_id``) and by a legacy
        ``entity_id`` in the data; None if nothing is targeted."""
        entity_ids: set[str] | None = None
        sources: list[tuple[str, Any]] = []
        if target:
            unknown = set(target) - {"entity_id", "place_id"}
            if unknown:
                raise ServiceValidationError(
                    f"target: unknown key {sorted(unknown)[0]!r} (use entity_id or place_id)"
                )
            sources.extend(target.items())
        if data and "entity_id" in data:
            sources.append(("entity_id", data["entity_id"]))
        for key, value in sources:
            entity_ids = entity_ids if entity_ids is not None else set()
            values = [value] if isinstance(value, str) else list(_as_list(key, value))
            if key == "entity_id":
                for entity_id in values:
                    if entity_id == ENTITY_MATCH_ALL:
                        entity_ids.add(ENTITY_MATCH_ALL)
                        continue
                    try:
                        entity_ids.add(normalize_entity_id(entity_id))
                    except InvalidEntityId as err:
                        raise ServiceValidationError(f"target.entity_id: {err}") from None
            else:
                try:
                    entity_ids |= self._places.entities_in(values)
                except UnknownPlace as err:
                    raise ServiceValidationError(
                        f"target.place_id: unknown place {err.args[0]!r}"
                    ) from None
        return entity_ids

    async def call(
        self,
        domain: str,
        service: str,
        data: Mapping[str, Any] | None = None,
        *,
        target: Mapping[str, Any] | None = None,
        context: Context | None = None,
        blocking: bool = False,
        return_response: bool = False,
    ) -> ServiceResponse:
        """Call ``domain.service``. With ``blocking`` the call returns when the handler is done;
        ``return_response`` (which implies blocking) returns the handler's data."""
        domain, service = domain.lower(), service.lower()
        handler = self._services.get(domain, {}).get(service)
        if handler is None:
            raise ServiceNotFound(domain, service)
        name = f"{domain}.{service}"
        if return_response and handler.supports_response is SupportsResponse.NONE:
            raise ServiceValidationError(f"{name} does not return a response")
        if not return_response and handler.supports_response is SupportsResponse.ONLY:
            raise ServiceValidationError(f"{name} only works with return_response")
        raw = dict(data) if data else {}
        entity_ids = self.resolve_target(target, raw)
        raw.pop("entity_id", None)  # targeting is resolved here; schemas see only the data
        if handler.schema is not None:
            try:
                raw = handler.schema(raw)
            except vol.Invalid as err:
                raise ServiceValidationError(f"{name}: {humanize_invalid(err)}") from None
        context = context if context is not None else Context()
        self._bus.fire(
            CALL_SERVICE,
            {
                "domain": domain,
                "service": service,
                "service_data": raw,
                "target": {"entity_id": sorted(entity_ids)} if entity_ids is not None else None,
            },
            context,
        )
        call = ServiceCall(domain, service, raw, context, entity_ids, return_response)
        if not (blocking or return_response):
            self._create_task(self._run(handler, call), name)
            return None
        response = await self._run(handler, call)
        if return_response:
            return response if response is not None else {}
        return None

    async def _run(self, service: Service, call: ServiceCall) -> ServiceResponse:
        result = service.handler(call)
        if asyncio.iscoroutine(result) or isinstance(result, Awaitable):
            result = await result
        return cast(ServiceResponse, result)


def _as_list(key: str, value: Any) -> Iterable[str]:
    if isinstance(value, list | tuple | set):
        for item in value:
            if not isinstance(item, str):
                raise ServiceValidationError(f"target.{key}: expected strings, got {item!r}")
            yield item
        return
    raise ServiceValidationError(f"target.{key}: expected a string or a list, got {value!r}")
