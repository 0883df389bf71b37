"""Service calls made through the API (REST and WebSocket alike): the caller's scope is asked
about the resolved targets before anything runs, the call carries the user in its context, and
the states it changed are collected for the reply (Home Assistant's ``changed_states``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shouwang.core.events import Context, Event
from shouwang.core.services import (
    ServiceError,
    ServiceNotFound,
    ServiceResponse,
    ServiceValidationError,
)
from shouwang.core.states import STATE_CHANGED, State
from shouwang.integrations.auth.policy import Scope

from .base import (
    HOME_ASSISTANT_ERROR,
    NOT_FOUND,
    SERVICE_VALIDATION_ERROR,
    UNAUTHORIZED,
    ApiError,
)

if TYPE_CHECKING:
    from shouwang.core.hub import Hub


@dataclass(slots=True)
class CallResult:
    context: Context
    changed_states: list[State]
    response: ServiceResponse


async def call_service(
    hub: Hub,
    scope: Scope,
    domain: str,
    service: str,
    data: Mapping[str, Any] | None,
    *,
    target: Mapping[str, Any] | None = None,
    return_response: bool = False,
) -> CallResult:
    """Call ``domain.service`` for the scope's user; raises :class:`ApiError` when the service is
    unknown, the scope may not call it on those targets, or the call fails."""
    domain, service = domain.lower(), service.lower()
    if not hub.services.has(domain, service):
        raise ApiError(NOT_FOUND, f"Service {domain}.{service} not found.", 400)
    try:
        entity_ids = hub.services.resolve_target(target, data)
    except ServiceValidationError as err:
        raise ApiError(SERVICE_VALIDATION_ERROR, str(err)) from None
    if not scope.can_call_service(domain, service, sorted(entity_ids or ())):
        raise ApiError(UNAUTHORIZED, f"Not allowed to call {domain}.{service} on these targets")
    context = Context(user_id=scope.user.id)
    changed: list[State] = []

    def collect(event: Event) -> None:
        new_state = event.data["new_state"]
        cause = event.context
        if new_state is not None and (cause is context or cause.parent_id == context.id):
            changed.append(new_state)

    stop_collecting = hub.bus.listen(STATE_CHANGED, collect)
    try:
        response = await hub.services.call(
            domain,
            service,
            data,
            target=target,
            context=context,
            blocking=True,
            return_response=return_response,
        )
    except ServiceNotFound as err:  # removed between the check and the call
        raise ApiError(NOT_FOUND, f"{err}.", 400) from None
    except ServiceValidationError as err:
        raise ApiError(SERVICE_VALIDATION_ERROR, str(err)) from None
    except ServiceError as err:
        raise ApiError(HOME_ASSISTANT_ERROR, str(err)) from None
    finally:
        stop_collecting()
    visible = [state for state in changed if scope.can_read_entity(state.entity_id)]
    return CallResult(context, visible, response)
