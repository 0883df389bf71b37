"""What every part of the API shares: the :class:`Api` object handlers work on (the hub and
its auth manager), the route table entry, who is asking (``request["user"]``/``["scope"]`` set
by the HTTP server), and :class:`ApiError` with Home Assistant's error codes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

from aiohttp import web

from shouwang.core.events import Event
from shouwang.integrations.auth.policy import Access, Scope, User

from .jsonutil import dumps
from .routing import ScopedEventRouter

if TYPE_CHECKING:
    from shouwang.core.hub import Hub
    from shouwang.integrations.auth import AuthManager

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Home Assistant's WebSocket error codes (REST errors are ``{"message": …}`` with a status)
INVALID_FORMAT: Final = "invalid_format"
UNKNOWN_COMMAND: Final = "unknown_command"
UNAUTHORIZED: Final = "unauthorized"
NOT_FOUND: Final = "not_found"
ID_REUSE: Final = "id_reuse"
HOME_ASSISTANT_ERROR: Final = "home_assistant_error"
SERVICE_VALIDATION_ERROR: Final = "service_validation_error"
TEMPLATE_ERROR: Final = "template_error"
UNKNOWN_ERROR: Final = "unknown_error"

_STATUS: Final = {
    INVALID_FORMAT: 400,
    SERVICE_VALIDATION_ERROR: 400,
    TEMPLATE_ERROR: 400,
    UNAUTHORIZED: 403,
    NOT_FOUND: 404,
    HOME_ASSISTANT_ERROR: 500,
    UNKNOWN_ERROR: 500,
}


class ApiError(Exception):
    """A refused or failed request: a WebSocket error ``code`` and the message a client sees.
    REST turns it into ``{"message": …}`` with the code's HTTP status (or ``status``)."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status if status is not None else _STATUS.get(code, 400)


class HttpServer(Protocol):
    """The part of the ``http`` integration's runtime this API uses."""

    def add_route(self, method: str, path: str, handler: Handler, *, access: Access) -> Any: ...


@dataclass(frozen=True, slots=True)
class Route:
    """One REST route and the access it needs (the policy is enforced by the HTTP server)."""

    method: str
    path: str
    handler: Handler
    access: Access


class Api:
    """What the handlers work on: the hub, its auth manager, and one cache of event JSON shared
    by every WebSocket subscriber (an event is encoded once, not once per client)."""

    def __init__(self, hub: Hub, auth: AuthManager) -> None:
        self.hub = hub
        self.auth = auth
        self.router = ScopedEventRouter(hub)
        self._last_event: Event | None = None
        self._last_event_json = b""

    def event_json(self, event: Event) -> bytes:
        if event is not self._last_event:
            self._last_event_json = dumps(event.as_dict())
            self._last_event = event
        return self._last_event_json


def user_of(request: web.Request) -> User:
    """The logged-in user (routes with an Access above PUBLIC always have one)."""
    user = request.get("user")
    if not isinstance(user, User):
        raise ApiError(UNAUTHORIZED, "Unauthorized", 401)
    return user


def scope_of(request: web.Request) -> Scope:
    scope = request.get("scope")
    if not isinstance(scope, Scope):
        raise ApiError(UNAUTHORIZED, "Unauthorized", 401)
    return scope
