"""The Home Assistant REST API (``/api/…``) on the hub: same paths, bodies, status codes and
``{"message": …}`` errors, so HA's REST clients work unchanged.

Each route declares its :class:`Access` (checked by the HTTP server before the handler runs);
handlers then ask the request's :class:`Scope` about each entity, so a resident's
``/api/states`` lists only their households' entities and a call on another household's door is
refused. Not here: ``/api/history`` and ``/api/logbook`` (there is no recorder yet) and
``/api/error_log`` (the hub logs to its process' output, not to a file it could serve).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import wraps
from pathlib import Path
from typing import Any, Final

import orjson
from aiohttp import web

from shouwang.core.config import load_config_dir
from shouwang.core.events import Context
from shouwang.core.loader import check_integration_config
from shouwang.core.platforms.camera import CameraEntity
from shouwang.core.services import ServiceError
from shouwang.core.states import InvalidEntityId, InvalidStateError, normalize_entity_id
from shouwang.core.template import TemplateError
from shouwang.integrations.auth.policy import Access, Scope, User, allowed

from . import describe
from .base import Api, ApiError, Route, scope_of, user_of
from .calls import call_service
from .jsonutil import json_response, message, raw_json_response

_LOGGER = logging.getLogger(__name__)

MAX_BODY: Final = 1024 * 1024
ENTITY_NOT_FOUND: Final = "Entity not found."

ApiHandler = Callable[[Api, web.Request], Awaitable[web.StreamResponse]]


def handler(api: Api, func: ApiHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Bind ``func`` to ``api`` and turn :class:`ApiError` into Home Assistant's error body."""

    @wraps(func)
    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            return await func(api, request)
        except ApiError as err:
            return message(err.message, err.status)

    return handle


async def read_json(request: web.Request, *, required: bool = True) -> Any:
    """The request's JSON body (``None`` when empty and not ``required``)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError("invalid_format", "Request body too large.", 413)
    body = await request.read()
    if not body:
        if required:
            raise ApiError("invalid_format", "Data should be valid JSON.")
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ApiError("invalid_format", "Data should be valid JSON.") from None


async def read_object(request: web.Request) -> dict[str, Any]:
    data = await read_json(request, required=False)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ApiError("invalid_format", "Data should be a JSON object.")
    return data


def _entity_id(request: web.Request) -> str:
    try:
        return normalize_entity_id(request.match_info["entity_id"])
    except InvalidEntityId:
        raise ApiError("not_found", ENTITY_NOT_FOUND) from None


# -- handlers ------------------------------------------------------------------------------------
async def api_status(api: Api, request: web.Request) -> web.StreamResponse:
    return message("API running.")


async def get_config(api: Api, request: web.Request) -> web.StreamResponse:
    return json_response(describe.config(api.hub))


async def get_components(api: Api, request: web.Request) -> web.StreamResponse:
    return json_response(sorted(api.hub.integrations.loaded))


def states_json(api: Api, user: User, scope: Scope) -> bytes:
    """Every state the user may read as one JSON array, from the state machine's cached JSON:
    the whole array at once for those who read everything, else entity by entity."""
    states = api.hub.states
    if allowed(user, Access.READ_ALL):
        return states.as_json()
    parts = [
        data
        for entity_id in states.entity_ids()
        if scope.can_read_entity(entity_id) and (data := states.state_json(entity_id)) is not None
    ]
    return b"[" + b",".join(parts) + b"]"


def _check_config_dir(config_dir: Path) -> list[str]:
    """Every error ``shouwang check-config`` would print (blocking: reads the files)."""
    loaded = load_config_dir(config_dir)
    errors = [*loaded.errors, *check_integration_config(loaded)]
    prefix = f"{config_dir}/"
    return [str(error).replace(prefix, "") for error in errors]


async def check_config(api: Api, request: web.Request) -> web.StreamResponse:
    """Validate the configuration directory as it is on disk now (Home Assistant's shape)."""
    if api.hub.config_dir is None:
        raise ApiError("not_found", "This hub has no configuration directory.")
    errors = await api.hub.loop.run_in_executor(None, _check_config_dir, api.hub.config_dir)
    return json_response(
        {
            "result": "invalid" if errors else "valid",
            "errors": "\n".join(errors) if errors else None,
            "warnings": None,
        }
    )


async def get_states(api: Api, request: web.Request) -> web.StreamResponse:
    return raw_json_response(states_json(api, user_of(request), scope_of(request)))


async def get_state(api: Api, request: web.Request) -> web.StreamResponse:
    entity_id = _entity_id(request)
    # another household's entity is "not found": its existence is not the caller's business
    if not scope_of(request).can_read_entity(entity_id):
        raise ApiError("not_found", ENTITY_NOT_FOUND)
    data = api.hub.states.state_json(entity_id)
    if data is None:
        raise ApiError("not_found", ENTITY_NOT_FOUND)
    return raw_json_response(data)


async def post_state(api: Api, request: web.Request) -> web.StreamResponse:
    """Write a state directly (staff only): 201 with ``Location`` if new, else 200."""
    try:
        entity_id = normalize_entity_id(request.match_info["entity_id"])
    except InvalidEntityId:
        raise ApiError("invalid_format", "Invalid entity ID specified.") from None
    data = await read_json(request)
    if not isinstance(data, dict):
        raise ApiError("invalid_format", "Data should be a JSON object.")
    if "state" not in data:
        raise ApiError("invalid_format", "No state specified.")
    new_state = data["state"]
    attributes = data.get("attributes")
    if not isinstance(new_state, str):
        raise ApiError("invalid_format", "state: expected a string.")
    if attributes is not None and not isinstance(attributes, dict):
        raise ApiError("invalid_format", "attributes: expected a JSON object.")
    existed = entity_id in api.hub.states
    try:
        api.hub.states.set(
            entity_id,
            new_state,
            attributes,
            force_update=bool(data.get("force_update", False)),
            context=Context(user_id=user_of(request).id),
        )
    except InvalidStateError as err:
        raise ApiError("invalid_format", str(err)) from None
    body = api.hub.states.state_json(entity_id) or b"null"
    if existed:
        return raw_json_response(body)
    return raw_json_response(body, 201, {"Location": f"/api/states/{entity_id}"})


async def delete_state(api: Api, request: web.Request) -> web.StreamResponse:
    entity_id = _entity_id(request)
    if api.hub.states.remove(entity_id):
        return message("Entity removed.")
    raise ApiError("not_found", ENTITY_NOT_FOUND)


async def get_services(api: Api, request: web.Request) -> web.StreamResponse:
    return json_response(
        [
            {"domain": domain, "services": services}
            for domain, services in describe.services(api.hub).items()
        ]
    )


async def get_events(api: Api, request: web.Request) -> web.StreamResponse:
    return json_response(describe.event_listeners(api.hub))


async def post_event(api: Api, request: web.Request) -> web.StreamResponse:
    event_type = request.match_info["event_type"]
    data = await read_json(request, required=False)
    if data is not None and not isinstance(data, dict):
        raise ApiError("invalid_format", "Event data should be a JSON object")
    api.hub.bus.fire(event_type, data, Context(user_id=user_of(request).id), origin="remote")
    return message(f"Event {event_type} fired.")


async def post_service(api: Api, request: web.Request) -> web.StreamResponse:
    """Call a service; answers the states it changed, and with ``?return_response`` also the
    service's response (``{"changed_states": […], "service_response": …}``)."""
    data = await read_object(request)
    return_response = "return_response" in request.query
    result = await call_service(
        api.hub,
        scope_of(request),
        request.match_info["domain"],
        request.match_info["service"],
        data,
        return_response=return_response,
    )
    if return_response:
        return json_response(
            {"changed_states": result.changed_states, "service_response": result.response}
        )
    return json_response(result.changed_states)


async def post_template(api: Api, request: web.Request) -> web.StreamResponse:
    data = await read_json(request)
    if not isinstance(data, dict) or not isinstance(data.get("template"), str):
        raise ApiError("invalid_format", "template: expected a string.")
    variables = data.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise ApiError("invalid_format", "variables: expected a JSON object.")
    try:
        text = api.hub.templates.template(data["template"]).render(variables, parse_result=False)
    except TemplateError as err:
        raise ApiError("template_error", f"Error rendering template: {err}") from None
    return web.Response(text=str(text), content_type="text/plain")


async def camera_proxy(api: Api, request: web.Request) -> web.StreamResponse:
    entity_id = _entity_id(request)
    if not scope_of(request).can_read_entity(entity_id):
        raise ApiError("not_found", ENTITY_NOT_FOUND)
    entity = api.hub.entities.get(entity_id)
    if not isinstance(entity, CameraEntity):
        raise ApiError("not_found", ENTITY_NOT_FOUND)
    try:
        image = await entity.camera_image()
    except ServiceError as err:
        raise ApiError("home_assistant_error", str(err)) from None
    if not image:
        raise ApiError("home_assistant_error", "The camera has no image right now.", 503)
    return web.Response(body=image, content_type="image/jpeg")


OPENAPI: Final = Path(__file__).with_name("openapi.yaml")


async def openapi(api: Api, request: web.Request) -> web.StreamResponse:
    """This API's OpenAPI description, for integrators' tools."""
    text = await api.hub.loop.run_in_executor(None, OPENAPI.read_text, "utf-8")
    return web.Response(text=text, content_type="application/yaml")


def routes(api: Api) -> list[Route]:
    def route(method: str, path: str, func: ApiHandler, access: Access) -> Route:
        return Route(method, path, handler(api, func), access)

    return [
        route("GET", "/api/", api_status, Access.USER),
        route("GET", "/api/config", get_config, Access.USER),
        route("GET", "/api/components", get_components, Access.USER),
        route("POST", "/api/config/core/check_config", check_config, Access.CONFIG),
        route("GET", "/api/states", get_states, Access.USER),
        route("GET", "/api/states/{entity_id}", get_state, Access.USER),
        route("POST", "/api/states/{entity_id}", post_state, Access.CONFIG),
        route("DELETE", "/api/states/{entity_id}", delete_state, Access.CONFIG),
        route("GET", "/api/services", get_services, Access.USER),
        route("POST", "/api/services/{domain}/{service}", post_service, Access.USER),
        route("GET", "/api/events", get_events, Access.READ_ALL),
        route("POST", "/api/events/{event_type}", post_event, Access.ADMIN),
        route("POST", "/api/template", post_template, Access.CONFIG),
        route("GET", "/api/camera_proxy/{entity_id}", camera_proxy, Access.USER),
        route("GET", "/api/shouwang/openapi.yaml", openapi, Access.USER),
    ]
