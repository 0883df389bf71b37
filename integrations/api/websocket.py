"""The WebSocket API at ``/api/websocket``, speaking Home Assistant's protocol.

A connection first authenticates (``auth_required`` -> ``auth`` with an access token ->
``auth_ok`` or ``auth_invalid`` and close), then sends commands, each with an id larger than the
last. Every command is in :data:`.commands.COMMAND_TABLE` with the :class:`Access` it needs and
its schema; results and errors have HA's shapes and codes. Replies and subscribed events go
through one outgoing queue per connection, drained by a writer task (coalesced into a JSON array
for clients that announced ``coalesce_messages``); a client that falls too far behind is
disconnected rather than let the hub's memory grow. Revoking the connection's token, or
disabling its user, closes the socket at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import orjson
import voluptuous as vol
from aiohttp import WSCloseCode, WSMsgType, web

from shouwang.core.events import Unsubscribe
from shouwang.core.services import humanize_invalid
from shouwang.integrations.auth.policy import Access, Scope, User, allowed

from .base import (
    ID_REUSE,
    INVALID_FORMAT,
    UNAUTHORIZED,
    UNKNOWN_COMMAND,
    UNKNOWN_ERROR,
    Api,
    ApiError,
)
from .describe import VERSION
from .jsonutil import dumps

if TYPE_CHECKING:
    from .commands import Command

_LOGGER = logging.getLogger(__name__)

#: seconds (real time: a network matter) a client has to send its ``auth`` message
AUTH_TIMEOUT: Final = 10.0
#: messages waiting to be written before a client counts as unable to keep up
MAX_PENDING: Final = 4096
MAX_MESSAGE_SIZE: Final = 4 * 1024 * 1024


class Connection:
    """One authenticated WebSocket client."""

    def __init__(
        self,
        api: Api,
        ws: web.WebSocketResponse,
        commands: dict[str, Command],
        identity: tuple[User, Scope, str | None],
    ) -> None:
        user, scope, token_id = identity
        self.api = api
        self.hub = api.hub
        self.ws = ws
        self.user = user
        self.scope = scope
        self.token_id = token_id
        self.reads_all = allowed(user, Access.READ_ALL)
        self.last_id = 0
        self.subscriptions: dict[int, Unsubscribe] = {}
        self.coalesce = False
        self._commands = commands
        self._queue: deque[bytes] = deque()
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False

    # -- sending -------------------------------------------------------------------------------
    def send(self, payload: bytes) -> None:
        """Queue one encoded message for the writer."""
        if self._closing:
            return
        if len(self._queue) >= MAX_PENDING:
            _LOGGER.warning(
                "WebSocket client of user %s cannot keep up (%d messages pending); closing",
                self.user.id,
                len(self._queue),
            )
            self.close(WSCloseCode.POLICY_VIOLATION, "too many pending messages")
            return
        self._queue.append(payload)
        self._wake.set()

    def send_result(self, msg_id: int, result: Any = None) -> None:
        self.send(dumps({"id": msg_id, "type": "result", "success": True, "result": result}))

    def send_raw_result(self, msg_id: int, result_json: bytes) -> None:
        """A result whose JSON is already encoded (the cached states)."""
        self.send(b'{"id":%d,"type":"result","success":true,"result":%s}' % (msg_id, result_json))

    def send_error(self, msg_id: int | None, code: str, message: str) -> None:
        self.send(
            dumps(
                {
                    "id": msg_id,
                    "type": "result",
                    "success": False,
                    "error": {"code": code, "message": message},
                }
            )
        )

    def send_event(self, msg_id: int, event: Any) -> None:
        self.send(dumps({"id": msg_id, "type": "event", "event": event}))

    async def writer(self) -> None:
        ws = self.ws
        queue = self._queue
        try:
            while not ws.closed:
                await self._wake.wait()
                self._wake.clear()
                while queue and not ws.closed:
                    if self.coalesce and len(queue) > 1:
                        batch = [queue.popleft() for _ in range(len(queue))]
                        payload = b"[" + b",".join(batch) + b"]"
                    else:
                        payload = queue.popleft()
                    await ws.send_frame(payload, WSMsgType.TEXT)
        except ConnectionError:  # the client went away mid-write: the reader ends too
            self._closing = True
            queue.clear()

    @property
    def closing(self) -> bool:
        return self._closing

    def close(self, code: int = WSCloseCode.OK, reason: str = "") -> None:
        """Close the socket (from anywhere: a revocation, a slow client)."""
        if self._closing:
            return
        self._closing = True
        self._queue.clear()
        self._wake.set()
        task = self.hub.loop.create_task(self.ws.close(code=code, message=reason.encode()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- receiving -----------------------------------------------------------------------------
    def handle(self, raw: str) -> None:
        """One incoming message: checked as Home Assistant checks it, then dispatched."""
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError:
            self.send_error(None, INVALID_FORMAT, "Message incorrectly formatted.")
            return
        msg_id = msg.get("id") if isinstance(msg, dict) else None
        kind = msg.get("type") if isinstance(msg, dict) else None
        if type(msg_id) is not int or msg_id < 0 or not isinstance(kind, str):
            self.send_error(
                msg_id if type(msg_id) is int else None,
                INVALID_FORMAT,
                "Message incorrectly formatted.",
            )
            return
        if msg_id <= self.last_id:
            self.send_error(msg_id, ID_REUSE, "Identifier values have to increase.")
            return
        self.last_id = msg_id
        command = self._commands.get(kind)
        if command is None:
            self.send_error(msg_id, UNKNOWN_COMMAND, "Unknown command.")
            return
        if not allowed(self.user, command.access):
            self.send_error(msg_id, UNAUTHORIZED, "Unauthorized")
            return
        try:
            valid = command.schema(msg)
        except vol.Invalid as err:
            self.send_error(msg_id, INVALID_FORMAT, humanize_invalid(err))
            return
        try:
            outcome = command.handler(self, msg_id, valid)
        except ApiError as err:
            self.send_error(msg_id, err.code, err.message)
            return
        except Exception:
            _LOGGER.exception("WebSocket command %s failed", kind)
            self.send_error(msg_id, UNKNOWN_ERROR, "Unknown error")
            return
        if outcome is not None:  # a coroutine: run it so the next message is read meanwhile
            task = self.hub.loop.create_task(self._run(kind, msg_id, outcome))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, kind: str, msg_id: int, outcome: Any) -> None:
        try:
            await outcome
        except ApiError as err:
            self.send_error(msg_id, err.code, err.message)
        except Exception:
            _LOGGER.exception("WebSocket command %s failed", kind)
            self.send_error(msg_id, UNKNOWN_ERROR, "Unknown error")

    def cleanup(self) -> None:
        self._closing = True
        for unsubscribe in self.subscriptions.values():
            unsubscribe()
        self.subscriptions.clear()
        for task in list(self._tasks):
            task.cancel()


class WebSocketApi:
    """The ``/api/websocket`` endpoint and its live connections."""

    def __init__(self, api: Api, commands: dict[str, Command]) -> None:
        self.api = api
        self.commands = commands
        self.connections: set[Connection] = set()
        self._stop_revocations: Callable[[], None] = api.auth.on_revoke(self._revoked)

    def _revoked(self, revoked_id: str) -> None:
        """A token row was revoked (its id) or a user disabled/deleted (the user id)."""
        for connection in list(self.connections):
            if revoked_id in (connection.token_id, connection.user.id):
                _LOGGER.info("Closing WebSocket of user %s: access revoked", connection.user.id)
                connection.close(WSCloseCode.POLICY_VIOLATION, "access revoked")

    def shutdown(self) -> None:
        self._stop_revocations()
        for connection in list(self.connections):
            connection.close(WSCloseCode.GOING_AWAY, "hub stopping")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=55, compress=False, max_msg_size=MAX_MESSAGE_SIZE)
        await ws.prepare(request)
        await ws.send_frame(dumps({"type": "auth_required", "ha_version": VERSION}), WSMsgType.TEXT)
        authenticated = await self._authenticate(ws)
        if authenticated is None:
            await ws.close()
            return ws
        connection = Connection(self.api, ws, self.commands, authenticated)
        # listed before auth_ok goes out, so a revocation from now on reaches it
        self.connections.add(connection)
        writer = self.api.hub.loop.create_task(connection.writer())
        try:
            await ws.send_frame(dumps({"type": "auth_ok", "ha_version": VERSION}), WSMsgType.TEXT)
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    connection.handle(message.data)
                elif message.type is WSMsgType.BINARY:
                    connection.send_error(None, INVALID_FORMAT, "Message incorrectly formatted.")
                else:
                    break
        finally:
            self.connections.discard(connection)
            connection.cleanup()
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            if not ws.closed:
                await ws.close()
        return ws

    async def _authenticate(
        self, ws: web.WebSocketResponse
    ) -> tuple[User, Scope, str | None] | None:
        try:
            message = await ws.receive(timeout=AUTH_TIMEOUT)
        except TimeoutError:
            await self._invalid(ws, "Authentication timed out.")
            return None
        if message.type is not WSMsgType.TEXT:
            return None
        try:
            data = orjson.loads(message.data)
        except orjson.JSONDecodeError:
            data = None
        if (
            not isinstance(data, dict)
            or data.get("type") != "auth"
            or not isinstance(data.get("access_token"), str)
        ):
            await self._invalid(ws, "Auth message incorrectly formatted.")
            return None
        token = data["access_token"]
        auth = self.api.auth
        user = await auth.validate_access_token(token)
        if user is None:
            await self._invalid(ws, "Invalid access token or password")
            return None
        return user, auth.scope_for(user), auth.token_id_of(token)

    async def _invalid(self, ws: web.WebSocketResponse, text: str) -> None:
        with contextlib.suppress(ConnectionError):
            await ws.send_frame(dumps({"type": "auth_invalid", "message": text}), WSMsgType.TEXT)
