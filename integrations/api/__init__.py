"""The ``api`` integration: Home Assistant's REST API (``/api/…``) and WebSocket API
(``/api/websocket``) on the hub, plus Shouwang's own endpoints beside them (automation files,
traces, the registry) under ``/api/shouwang/…``. ``openapi.yaml`` describes the REST side.

It adds its routes to the ``http`` integration's server with the :class:`Access` each needs
(the server enforces it, deny by default); handlers narrow data further with the request's
:class:`Scope`. Users and tokens come from the ``auth`` integration, whose revocations close
live WebSockets.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from shouwang.integrations.auth.policy import Access

from . import editor, registry_view, rest, traces
from .base import Api, HttpServer, Route
from .commands import COMMAND_TABLE, COMMANDS
from .websocket import WebSocketApi

if TYPE_CHECKING:
    from shouwang.core.hub import Hub
    from shouwang.integrations.auth import AuthManager

__all__ = ["COMMANDS", "CONFIG_SCHEMA", "Access", "ApiRuntime", "setup"]

_LOGGER = logging.getLogger(__name__)

CONFIG_SCHEMA: Final = vol.Schema(vol.Any(None, {}))
WEBSOCKET_PATH: Final = "/api/websocket"


class ApiRuntime:
    """The integration's runtime: its REST routes and the WebSocket endpoint."""

    def __init__(self, api: Api, routes: list[Route], websocket: WebSocketApi) -> None:
        self.api = api
        self.routes = routes
        self.websocket = websocket


def all_routes(api: Api) -> list[Route]:
    return rest.routes(api) + editor.routes(api) + traces.routes(api) + registry_view.routes(api)


async def setup(hub: Hub, config: Mapping[str, Any] | None) -> ApiRuntime:
    http: HttpServer = hub.integrations.runtime("http")
    auth: AuthManager = hub.integrations.runtime("auth")
    api = Api(hub, auth)
    routes = all_routes(api)
    for route in routes:
        http.add_route(route.method, route.path, route.handler, access=route.access)
    websocket = WebSocketApi(api, COMMAND_TABLE)
    # the protocol authenticates inside the socket, as Home Assistant's does
    http.add_route("GET", WEBSOCKET_PATH, websocket.handle, access=Access.PUBLIC)
    hub.on_stop(websocket.shutdown)
    _LOGGER.info("API: %d REST routes, %d WebSocket commands", len(routes), len(COMMANDS))
    return ApiRuntime(api, routes, websocket)
