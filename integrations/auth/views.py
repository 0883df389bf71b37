"""Auth over HTTP: Home Assistant's login flow and token endpoint (so its apps and client
libraries sign in unchanged), plus account and token management for admins.

* ``GET /auth/authorize?client_id=…&redirect_uri=…&state=…`` — the sign-in page Home
  Assistant's apps open (``www/authorize.html``): it runs the login flow below and sends the
  browser to ``redirect_uri?code=…&state=…``.
* ``GET /auth/providers`` — the one provider, ``homeassistant`` (username and password).
* ``POST /auth/login_flow`` ``{client_id, handler: ["homeassistant", null], redirect_uri}`` ->
  a ``form`` step; ``POST /auth/login_flow/<flow_id>`` ``{client_id, username, password}`` ->
  ``create_entry`` whose ``result`` is a one-time code (or the form again with
  ``errors: {base: invalid_auth}``; HTTP 429 and an ``abort`` while locked out).
* ``POST /auth/token`` (form-encoded): ``grant_type=authorization_code`` (code, client_id) ->
  access + refresh token; ``grant_type=refresh_token`` -> a new access token;
  ``action=revoke`` (token) -> revokes that refresh token, always 200.
* ``GET /api/auth/current_user`` (any user); ``/api/auth/users`` and ``/api/auth/tokens``
  (admins): list, create, change, delete users; list, create (long-lived) and revoke tokens.

Client ids follow IndieAuth as Home Assistant does: an http(s) URL, and the redirect URI on the
same scheme, host and port — or the Home Assistant mobile apps' own pair. Redirect URIs
announced by ``<link rel=redirect_uri>`` on the client's site are not fetched (no outbound
requests from the hub).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import voluptuous as vol
from aiohttp import web

from .manager import ACCESS_TOKEN_LIFETIME, AuthError, AuthManager, InvalidLogin, LoginLocked
from .policy import ROLES, Access

if TYPE_CHECKING:
    from shouwang.integrations.http.server import HttpServer

PROVIDER: Final = ["homeassistant", None]
FLOW_LIFETIME: Final = 10 * 60.0
MAX_FLOWS: Final = 1000
NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}
#: the Home Assistant companion apps' client ids and the redirect URI they use
APP_REDIRECTS: Final = {
    "https://home-assistant.io/iOS": "homeassistant://auth-callback",
    "https://home-assistant.io/android": "homeassistant://auth-callback",
    "https://home-assistant.io/iOS/dev-auth": "homeassistant-dev://auth-callback",
}
DATA_SCHEMA: Final = [
    {"type": "string", "name": "username", "required": True},
    {"type": "string", "name": "password", "required": True},
]


def valid_client_id(client_id: Any) -> bool:
    if not isinstance(client_id, str) or len(client_id) > 512:
        return False
    parts = urlsplit(client_id)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def valid_redirect_uri(client_id: str, redirect_uri: Any) -> bool:
    if not isinstance(redirect_uri, str):
        return False
    if APP_REDIRECTS.get(client_id) == redirect_uri:
        return True
    client, redirect = urlsplit(client_id), urlsplit(redirect_uri)
    return (client.scheme, client.hostname, client.port) == (
        redirect.scheme,
        redirect.hostname,
        redirect.port,
    )


@dataclass(slots=True)
class _Flow:
    client_id: str
    redirect_uri: str
    expires: float


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    from shouwang.integrations.http.server import json_response

    return json_response(data, status, headers=headers)


def _message(status: int, message: str) -> web.Response:
    return _json({"message": message}, status)


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(
            text='{"message": "body is not valid JSON"}', content_type="application/json"
        ) from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text='{"message": "body must be a JSON object"}', content_type="application/json"
        )
    return body


class AuthViews:
    """The handlers; one instance per server, holding the open login flows."""

    def __init__(self, auth: AuthManager) -> None:
        self.auth = auth
        self._flows: dict[str, _Flow] = {}

    # -- login flow ------------------------------------------------------------------------
    async def providers(self, _request: web.Request) -> web.Response:
        return _json(
            {
                "providers": [{"name": "Shouwang", "id": None, "type": "homeassistant"}],
                "preselect_remember_me": False,
            }
        )

    def _form(self, flow_id: str, errors: dict[str, str] | None = None) -> dict[str, Any]:
        return {
            "type": "form",
            "flow_id": flow_id,
            "handler": PROVIDER,
            "step_id": "init",
            "data_schema": DATA_SCHEMA,
            "errors": errors or {},
            "description_placeholders": None,
            "last_step": None,
            "preview": None,
        }

    async def start_flow(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        client_id, redirect_uri = body.get("client_id"), body.get("redirect_uri")
        if not isinstance(client_id, str) or not valid_client_id(client_id):
            return _message(400, "Invalid client id")
        if not isinstance(redirect_uri, str) or not valid_redirect_uri(client_id, redirect_uri):
            return _message(400, "Invalid redirect URI")
        if body.get("handler", PROVIDER) not in (PROVIDER, ["homeassistant"], "homeassistant"):
            return _message(404, "Unknown auth provider")
        now = self.auth.hub.clock.time()
        self._flows = {k: f for k, f in self._flows.items() if f.expires > now}
        while len(self._flows) >= MAX_FLOWS:
            del self._flows[next(iter(self._flows))]
        flow_id = secrets.token_hex(16)
        self._flows[flow_id] = _Flow(client_id, redirect_uri, now + FLOW_LIFETIME)
        return _json(self._form(flow_id))

    def _flow(self, request: web.Request) -> tuple[str, _Flow]:
        flow_id = request.match_info["flow_id"]
        flow = self._flows.get(flow_id)
        if flow is None or flow.expires <= self.auth.hub.clock.time():
            self._flows.pop(flow_id, None)
            raise web.HTTPNotFound(
                text='{"message": "Invalid flow specified"}', content_type="application/json"
            )
        return flow_id, flow

    async def step_flow(self, request: web.Request) -> web.Response:
        flow_id, flow = self._flow(request)
        body = await _json_body(request)
        if body.get("client_id") != flow.client_id:
            return _message(400, "Invalid client id")
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            return _json(self._form(flow_id, {"base": "invalid_auth"}))
        try:
            user = await self.auth.login(username, password, request["client_ip"])
        except LoginLocked as err:
            self._flows.pop(flow_id, None)
            return _json(
                {
                    "type": "abort",
                    "flow_id": flow_id,
                    "handler": PROVIDER,
                    "reason": "too_many_attempts",
                    "description_placeholders": None,
                },
                429,
                {"Retry-After": str(math.ceil(err.retry_after))},
            )
        except InvalidLogin:
            return _json(self._form(flow_id, {"base": "invalid_auth"}))
        del self._flows[flow_id]
        return _json(
            {
                "version": 1,
                "minor_version": 1,
                "type": "create_entry",
                "flow_id": flow_id,
                "handler": PROVIDER,
                "title": user.name,
                "description": None,
                "description_placeholders": None,
                "result": self.auth.create_auth_code(flow.client_id, user),
            }
        )

    async def delete_flow(self, request: web.Request) -> web.Response:
        flow_id, _flow = self._flow(request)
        del self._flows[flow_id]
        return _json({"message": "Flow aborted"})

    # -- tokens -----------------------------------------------------------------------------
    async def token(self, request: web.Request) -> web.Response:
        data = await request.post()
        if data.get("action") == "revoke":
            token = data.get("token")
            if isinstance(token, str):
                await self.auth.revoke_refresh_token(token)
            return web.Response(status=200, headers=NO_STORE)
        grant_type = data.get("grant_type")
        client_id = data.get("client_id")
        if grant_type == "authorization_code":
            code = data.get("code")
            if not valid_client_id(client_id) or not isinstance(code, str):
                return _token_error("invalid_request", "Invalid client id or code")
            assert isinstance(client_id, str)
            user = self.auth.redeem_auth_code(client_id, code)
            if user is None:
                return _token_error("invalid_request", "Invalid code")
            refresh, access = await self.auth.create_refresh_token(user, client_id)
            return _json(
                {
                    "access_token": access,
                    "token_type": "Bearer",
                    "refresh_token": refresh,
                    "expires_in": int(ACCESS_TOKEN_LIFETIME),
                    "ha_auth_provider": "homeassistant",
                },
                headers=NO_STORE,
            )
        if grant_type == "refresh_token":
            refresh_token = data.get("refresh_token")
            if not isinstance(refresh_token, str):
                return _token_error("invalid_request", "Missing refresh token")
            renewed = self.auth.access_token_from_refresh(
                refresh_token, client_id if isinstance(client_id, str) else None
            )
            if renewed is None:
                return _token_error("invalid_grant", "Invalid refresh token")
            return _json(
                {
                    "access_token": renewed,
                    "token_type": "Bearer",
                    "expires_in": int(ACCESS_TOKEN_LIFETIME),
                },
                headers=NO_STORE,
            )
        return _token_error("unsupported_grant_type", "Unsupported grant type")

    # -- accounts (admins) ------------------------------------------------------------------
    async def current_user(self, request: web.Request) -> web.Response:
        return _json(request["user"].as_dict())

    async def list_users(self, _request: web.Request) -> web.Response:
        return _json([user.as_dict() for user in self.auth.users()])

    async def create_user(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        try:
            valid = USER_SCHEMA(body)
            user = await self.auth.create_user(
                valid["name"], valid["role"], valid["households"], valid.get("password")
            )
        except vol.Invalid as err:
            return _message(400, f"{'.'.join(map(str, err.path)) or 'body'}: {err.msg}")
        except AuthError as err:
            return _message(400, str(err))
        return _json(user.as_dict(), 201)

    async def update_user(self, request: web.Request) -> web.Response:
        user_id = request.match_info["user_id"]
        if self.auth.get_user(user_id) is None:
            return _message(404, "No such user")
        body = await _json_body(request)
        try:
            valid = USER_UPDATE_SCHEMA(body)
            if "role" in valid or "households" in valid:
                current = self.auth.get_user(user_id)
                assert current is not None
                await self.auth.set_role(
                    user_id,
                    valid.get("role", current.role),
                    valid.get("households", current.households),
                )
            if "password" in valid:
                await self.auth.set_password(user_id, valid["password"])
            if "is_active" in valid:
                await self.auth.set_active(user_id, valid["is_active"])
        except vol.Invalid as err:
            return _message(400, f"{'.'.join(map(str, err.path)) or 'body'}: {err.msg}")
        except AuthError as err:
            return _message(400, str(err))
        user = self.auth.get_user(user_id)
        assert user is not None
        return _json(user.as_dict())

    async def delete_user(self, request: web.Request) -> web.Response:
        user_id = request.match_info["user_id"]
        if user_id == request["user"].id:
            return _message(400, "You cannot delete your own account")
        if self.auth.get_user(user_id) is None:
            return _message(404, "No such user")
        await self.auth.delete_user(user_id)
        return _json({"message": "User deleted"})

    async def list_tokens(self, _request: web.Request) -> web.Response:
        return _json([record.public() for record in self.auth.tokens()])

    async def create_token(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        try:
            valid = TOKEN_SCHEMA(body)
            token, record = await self.auth.create_long_lived_token(
                valid["user_id"], valid["name"], valid["lifespan_days"]
            )
        except vol.Invalid as err:
            return _message(400, f"{'.'.join(map(str, err.path)) or 'body'}: {err.msg}")
        except AuthError as err:
            return _message(400, str(err))
        return _json({**record.public(), "token": token}, 201, NO_STORE)

    async def revoke_token(self, request: web.Request) -> web.Response:
        if not await self.auth.revoke_token(request.match_info["token_id"]):
            return _message(404, "No such token")
        return _json({"message": "Token revoked"})


USER_SCHEMA: Final = vol.Schema(
    {
        vol.Required("name"): vol.All(str, vol.Length(min=1, max=64)),
        vol.Required("role"): vol.In(ROLES),
        vol.Optional("households", default=list): [str],
        vol.Optional("password"): str,
    }
)
USER_UPDATE_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("password"): str,
        vol.Optional("is_active"): bool,
        vol.Optional("role"): vol.In(ROLES),
        vol.Optional("households"): [str],
    }
)
TOKEN_SCHEMA: Final = vol.Schema(
    {
        vol.Required("user_id"): str,
        vol.Required("name"): vol.All(str, vol.Length(min=1, max=128)),
        vol.Optional("lifespan_days", default=3650): vol.All(
            vol.Coerce(float), vol.Range(min=1, max=36500)
        ),
    }
)


def _token_error(error: str, description: str, status: int = 400) -> web.Response:
    return _json({"error": error, "error_description": description}, status, NO_STORE)


def static_file(path: Path) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A handler answering with one file of ours."""

    async def serve(_request: web.Request) -> web.StreamResponse:
        return web.FileResponse(path, headers=NO_STORE)

    return serve


def register(server: HttpServer, auth: AuthManager) -> AuthViews:
    """Add the auth routes to the server."""
    views = AuthViews(auth)
    add = server.add_route
    add("GET", "/auth/providers", views.providers, access=Access.PUBLIC)
    www = Path(__file__).parent / "www"
    add("GET", "/auth/authorize", static_file(www / "authorize.html"), access=Access.PUBLIC)
    server.add_static("/auth/static", www, access=Access.PUBLIC)
    add("POST", "/auth/login_flow", views.start_flow, access=Access.PUBLIC)
    add("POST", "/auth/login_flow/{flow_id}", views.step_flow, access=Access.PUBLIC)
    add("DELETE", "/auth/login_flow/{flow_id}", views.delete_flow, access=Access.PUBLIC)
    add("POST", "/auth/token", views.token, access=Access.PUBLIC)
    add("GET", "/api/auth/current_user", views.current_user, access=Access.USER)
    add("GET", "/api/auth/users", views.list_users, access=Access.ADMIN)
    add("POST", "/api/auth/users", views.create_user, access=Access.ADMIN)
    add("PATCH", "/api/auth/users/{user_id}", views.update_user, access=Access.ADMIN)
    add("DELETE", "/api/auth/users/{user_id}", views.delete_user, access=Access.ADMIN)
    add("GET", "/api/auth/tokens", views.list_tokens, access=Access.ADMIN)
    add("POST", "/api/auth/tokens", views.create_token, access=Access.ADMIN)
    add("DELETE", "/api/auth/tokens/{token_id}", views.revoke_token, access=Access.ADMIN)
    return views
