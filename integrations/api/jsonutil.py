"""JSON for the API: one orjson encoder that knows the hub's objects (states, events,
contexts), and the Home Assistant response shapes built on it (``{"message": …}`` errors)."""

from __future__ import annotations

from typing import Any, Final

import orjson
from aiohttp import web

from shouwang.core.events import Context, Event
from shouwang.core.states import State

JSON_TYPE: Final = "application/json"


def _default(value: Any) -> Any:
    if isinstance(value, State):
        return value.as_dict()
    if isinstance(value, Event):
        return value.as_dict()
    if isinstance(value, Context):
        return value.as_dict()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    # a value the hub keeps but JSON cannot spell (bytes, an object): its text, never an error
    return str(value)


def dumps(value: Any) -> bytes:
    """``value`` as JSON bytes (non-string dict keys become strings)."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)


def json_response(
    value: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return raw_json_response(dumps(value), status, headers)


def raw_json_response(
    body: bytes, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A response whose JSON body is already encoded (the states' cached JSON)."""
    return web.Response(body=body, status=status, content_type=JSON_TYPE, headers=headers)


def message(text: str, status: int = 200) -> web.Response:
    """Home Assistant's ``{"message": …}`` shape, used for errors and acknowledgements."""
    return json_response({"message": text}, status)
