"""The WebSocket commands: one table (:data:`COMMAND_TABLE`, its access levels exported as
:data:`COMMANDS`) naming each command's :class:`Access`, schema and handler, so the policy
route-walk test can prove every command is refused to whoever may not use it.

A handler gets the connection, the message id and the validated message; it replies with
``connection.send_result``/``send_error`` (or raises :class:`ApiError`) and may be a coroutine
(then it runs as a task and the connection keeps reading). Subscriptions keep their
unsubscribe function under the message id, for ``unsubscribe_events`` and for closing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from shouwang.core.conditions import validate_conditions
from shouwang.core.events import MATCH_ALL, Context, Event
from shouwang.core.script import validate_actions
from shouwang.core.services import humanize_invalid
from shouwang.core.states import STATE_CHANGED
from shouwang.core.template import RenderInfo, TemplateError
from shouwang.core.trace import jsonable
from shouwang.core.tracking import track_time_interval
from shouwang.core.triggers import attach_triggers, validate_triggers
from shouwang.integrations.auth.policy import Access

from . import describe, registries, traces
from .base import INVALID_FORMAT, NOT_FOUND, TEMPLATE_ERROR, ApiError
from .calls import call_service
from .compressed import compressed, diff
from .rest import states_json

if TYPE_CHECKING:
    from datetime import datetime

    from .websocket import Connection

CommandHandler = Callable[["Connection", int, dict[str, Any]], Awaitable[None] | None]

#: a template that reads the clock is rendered again this often (Home Assistant: each minute)
TEMPLATE_TIME_INTERVAL: Final = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Command:
    access: Access
    schema: vol.Schema
    handler: CommandHandler


def _schema(fields: dict[Any, Any] | None = None) -> vol.Schema:
    return vol.Schema(
        {vol.Required("id"): int, vol.Required("type"): str, **(fields or {})},
        extra=vol.PREVENT_EXTRA,
    )


# -- basics ------------------------------------------------------------------------------------
def ping(connection: Connection, msg_id: int, msg: dict[str, Any]) -> None:
    connection.send(b'{"id":%d,"type":"pong"}' % msg_id)


def supported_features(connection: Connection, msg_id: int, msg: dict[str, Any]) -> None:
    connection.coalesce = bool(msg["features"].get("coalesce_messages"))
    connection.send_result(msg_id)


def current_user(connection: Connection, msg_id: int, msg: dict[str, Any]) -> None:
    user = connection.user
    connection.send_result(
        msg_id,
        {
            "id": user.id,
            "name": user.name,
            "is_owner": False,
            "is_admin": user.role == "admin",
            "credentials": [],
            "mfa_modules": [],
            "role": user.role,
            "households": sorted(user.households),
        },
    )


def get_config(connection: Connection, msg_id: int, msg: dict[str, Any]) -> None:
    connection.send_result(msg_id, describe.config(connection.hub))


def get_services(connection: Connection, msg_id: int, msg: dict[str, Any]) -> None:
    connection.send_result(msg_id, describe.services(connection.hub))


def get_states(connection: Connection, msg_id: int, msg: dict[str, Any]) -> None:
    connection.send_raw_result(
        msg_id, states_json(connection.api, connection.user, connection.scope)
    )


# -- events ------------------------------------------------------------------------------------
def subscribe_events(connection: Connection, msg_id: int, msg: dict[str, Any]) -> None:
    """Events of one type (or all); whoever does not read everything gets only the events their
    scope allows (a resident: their households')."""
    api = connection.api
    prefix = b'{"id":%d,"type":"event","event":' % msg_id
    send = connection.send
    event_type = msg.get("event_type") or MATCH_ALL

    def forward(event: Event) -> None:
        send(prefix + api.event_json(event) + b"}")

    if connection.reads_all:
        unsubscribe = connection.hub.bus.listen(
            event_type, forward, name=f"websocket subscription {msg_id}"
        )
    else:
        unsubscribe = api.router.subscribe(event_type, connection.scope, forward)
    connection.subscriptions[msg_id] = unsubscribe
    connection.send_result(msg_id)


def subscribe_entities(connection: Connection, msg_id: int, msg: dict[str, Any]) -> None:
    """Home Assistant's compressed state stream: every readable state first (``"a"``), then
    changes (``"c"``), additions (``"a"``) and removals (``"r"``)."""
    hub = connection.hub
    scope = connection.scope
    wanted = set(msg["entity_ids"]) if "entity_ids" in msg else None
    states = (
        hub.states.all()
        if wanted is None
        else [
            state
            for entity_id in sorted(wanted)
            if (state := hub.states.get(entity_id)) is not None
        ]
    )
    readable = {
        state.entity_id: compressed(state)
        for state in states
        if connection.reads_all or scope.can_read_entity(state.entity_id)
    }

    def forward(event: Event) -> None:
        entity_id = event.data["entity_id"]
        if wanted is not None and entity_id not in wanted:
            return
        old, new = event.data["old_state"], event.data["new_state"]
        if new is None:
            connection.send_event(msg_id, {"r": [entity_id]})
        elif old is None:
            connection.send_event(msg_id, {"a": {entity_id: compressed(new)}})
        else:
            connection.send_event(msg_id, {"c": {entity_id: diff(old, new)}})

    if connection.reads_all:
        unsubscribe = hub.bus.listen(STATE_CHANGED, forward, name=f"subscribe_entities {msg_id}")
    else:
        unsubscribe = connection.api.router.subscribe(STATE_CHANGED, scope, forward)
    connection.subscriptions[msg_id] = unsubscribe
    connection.send_result(msg_id)
    connection.send_event(msg_id, {"a": readable})


def unsubscribe_events(connection: Connection, msg_id: int, msg: dict[str, Any]) -> None:
    unsubscribe = connection.subscriptions.pop(msg["subscription"], None)
    if unsubscribe is None:
        raise ApiError(NOT_FOUND, "Subscription not found.")
    unsubscribe()
    connection.send_result(msg_id)


def subscribe_trigger(connection: Connection, msg_id: int, msg: dict[str, Any]) -> None:
    """Attach triggers as an automation would, sending the ``trigger`` variables each time."""
    try:
        configs = validate_triggers(msg["trigger"])
    except vol.Invalid as err:
        raise ApiError(INVALID_FORMAT, f"trigger: {humanize_invalid(err)}") from None

    def fired(trigger: dict[str, Any], context: Context | None) -> None:
        variables = {key: value for key, value in trigger.items() if key != "_variables"}
        connection.send_event(
            msg_id,
            {
                "variables": {"trigger": jsonable(variables)},
                "context": context.as_dict() if context is not None else None,
            },
        )

    connection.subscriptions[msg_id] = attach_triggers(
        connection.hub,
        configs,
        fired,
        f"websocket subscription {msg_id} of {connection.user.name}",
        msg.get("variables"),
    )
    connection.send_result(msg_id)


# -- services ----------------------------------------------------------------------------------
async def call_service_command(connection: Connection, msg_id: int, msg: dict[str, Any]) -> None:
    result = await call_service(
        connection.hub,
        connection.scope,
        msg["domain"],
        msg["service"],
        msg.get("service_data"),
        target=msg.get("target"),
        return_response=msg["return_response"],
    )
    connection.send_result(
        msg_id,
        {
            "context": result.context.as_dict(),
            "response": result.response if msg["return_response"] else None,
        },
    )


def fire_event(connection: Connection, msg_id: int, msg: dict[str, Any]) -> None:
    context = Context(user_id=connection.user.id)
    connection.hub.bus.fire(msg["event_type"], msg.get("event_data"), context, origin="remote")
    connection.send_result(msg_id, {"context": context.as_dict()})


# -- configuration -----------------------------------------------------------------------------
_VALIDATORS: Final = {
    "trigger": validate_triggers,
    "triggers": validate_triggers,
    "condition": validate_conditions,
    "conditions": validate_conditions,
    "action": validate_actions,
    "actions": validate_actions,
}


def validate_config(connection: Connection, msg_id: int, msg: dict[str, Any]) -> None:
    """``{"trigger": {"valid": bool, "error": text|None}, …}`` for each part given."""
    result: dict[str, Any] = {}
    for key, validator in _VALIDATORS.items():
        if key not in msg:
            continue
        try:
            validator(msg[key])
            result[key] = {"valid": True, "error": None}
        except vol.Invalid as err:
            result[key] = {"valid": False, "error": humanize_invalid(err)}
    connection.send_result(msg_id, result)


def render_template(connection: Connection, msg_id: int, msg: dict[str, Any]) -> None:
    """Render now and again whenever what the template read changes (an entity it read, or
    the clock each minute if it read the time), until unsubscribed."""
    hub = connection.hub
    template = hub.templates.template(msg["template"])
    variables = msg.get("variables") or {}
    report_errors = msg["report_errors"]
    watched = RenderInfo()

    def render() -> bool:
        nonlocal watched
        try:
            result, watched = template.render_with_info(variables, parse_result=False)
        except TemplateError as err:
            if report_errors:
                connection.send_event(msg_id, {"error": str(err), "level": "ERROR"})
            return False
        connection.send_event(
            msg_id,
            {
                "result": result,
                "listeners": {
                    "all": watched.all_states,
                    "entities": sorted(watched.entities),
                    "domains": sorted(watched.domains),
                    "time": watched.has_time,
                },
            },
        )
        return True

    try:
        template.ensure_valid()
    except TemplateError as err:
        raise ApiError(TEMPLATE_ERROR, str(err)) from None
    connection.send_result(msg_id)
    if not render() and not report_errors:
        return

    def on_change(event: Event) -> None:
        if watched.matches(event.data["entity_id"]):
            render()

    def on_time(_now: datetime) -> None:
        if watched.has_time:
            render()

    stop_states = hub.bus.listen(STATE_CHANGED, on_change, name=f"render_template {msg_id}")
    stop_time = track_time_interval(hub, TEMPLATE_TIME_INTERVAL, on_time)

    def stop() -> None:
        stop_states()
        stop_time()

    connection.subscriptions[msg_id] = stop


# -- traces ------------------------------------------------------------------------------------
def trace_list(connection: Connection, msg_id: int, msg: dict[str, Any]) -> None:
    connection.send_result(
        msg_id, traces.summaries(connection.hub, msg["domain"], msg.get("item_id"))
    )


def trace_get(connection: Connection, msg_id: int, msg: dict[str, Any]) -> None:
    trace = traces.get(connection.hub, msg["domain"], msg["item_id"], msg["run_id"])
    if trace is None:
        raise ApiError(NOT_FOUND, "The trace could not be found")
    connection.send_result(msg_id, trace)


_DOMAIN: Final = vol.In(["automation", "script"])

COMMAND_TABLE: Final[dict[str, Command]] = {
    "ping": Command(Access.USER, _schema(), ping),
    "supported_features": Command(
        Access.USER,
        _schema({vol.Required("features"): {str: vol.Any(int, bool)}}),
        supported_features,
    ),
    "auth/current_user": Command(Access.USER, _schema(), current_user),
    "get_config": Command(Access.USER, _schema(), get_config),
    "get_services": Command(Access.USER, _schema(), get_services),
    "get_states": Command(Access.USER, _schema(), get_states),
    "subscribe_events": Command(
        Access.USER, _schema({vol.Optional("event_type"): str}), subscribe_events
    ),
    "subscribe_entities": Command(
        Access.USER, _schema({vol.Optional("entity_ids"): [str]}), subscribe_entities
    ),
    "unsubscribe_events": Command(
        Access.USER, _schema({vol.Required("subscription"): int}), unsubscribe_events
    ),
    "call_service": Command(
        Access.USER,
        _schema(
            {
                vol.Required("domain"): str,
                vol.Required("service"): str,
                vol.Optional("service_data"): dict,
                vol.Optional("target"): dict,
                vol.Optional("return_response", default=False): bool,
            }
        ),
        call_service_command,
    ),
    "fire_event": Command(
        Access.ADMIN,
        _schema({vol.Required("event_type"): str, vol.Optional("event_data"): dict}),
        fire_event,
    ),
    "subscribe_trigger": Command(
        Access.CONFIG,
        _schema({vol.Required("trigger"): object, vol.Optional("variables"): dict}),
        subscribe_trigger,
    ),
    "validate_config": Command(
        Access.CONFIG, _schema({vol.Optional(key): object for key in _VALIDATORS}), validate_config
    ),
    "render_template": Command(
        Access.CONFIG,
        _schema(
            {
                vol.Required("template"): str,
                vol.Optional("variables"): dict,
                vol.Optional("timeout"): vol.Coerce(float),
                vol.Optional("strict"): bool,
                vol.Optional("report_errors", default=False): bool,
            }
        ),
        render_template,
    ),
    "config/area_registry/list": Command(Access.USER, _schema(), registries.area_list),
    "config/device_registry/list": Command(Access.USER, _schema(), registries.device_list),
    "config/entity_registry/list": Command(Access.USER, _schema(), registries.entity_list),
    "trace/list": Command(
        Access.READ_ALL,
        _schema({vol.Required("domain"): _DOMAIN, vol.Optional("item_id"): str}),
        trace_list,
    ),
    "trace/get": Command(
        Access.READ_ALL,
        _schema(
            {
                vol.Required("domain"): _DOMAIN,
                vol.Required("item_id"): str,
                vol.Required("run_id"): str,
            }
        ),
        trace_get,
    ),
}

#: every WebSocket command and the access it needs (the policy route-walk test reads this)
COMMANDS: Final[dict[str, Access]] = {name: cmd.access for name, cmd in COMMAND_TABLE.items()}
