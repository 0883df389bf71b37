"""The hub's HTTP server: one aiohttp application every web-facing integration adds routes to.

Each route is registered with :meth:`HttpServer.add_route` and an :class:`Access` level; the
middlewares here authenticate the Bearer token (``auth`` integration), enforce that level
through :func:`~shouwang.integrations.auth.policy.allowed` — a route without a declaration is
refused, whoever asks — and put ``request["user"]`` and ``request["scope"]`` in every request.
WebSocket routes are declared PUBLIC here and authenticate inside their protocol.
"""

from __future__ import annotations

import logging
import ssl
import warnings
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from aiohttp import hdrs, web
from aiohttp.web_urldispatcher import AbstractRoute

from shouwang.integrations.auth.policy import Access, allowed

from .security import (
    STATE_CHANGING,
    Handler,
    Networks,
    add_security_headers,
    client_address,
    forwarded_host,
    origin_netloc,
    path_guard,
)
from .static import static_handler

if TYPE_CHECKING:
    from shouwang.integrations.auth.manager import AuthManager

_LOGGER = logging.getLogger(__name__)

# The contract every handler relies on is request["user"] / request["scope"] with plain string
# keys (as Home Assistant's handlers use them); aiohttp now nudges towards typed RequestKeys.
warnings.filterwarnings("ignore", category=web.NotAppKeyWarning, message=".*RequestKey")

CORS_ALLOWED_HEADERS: Final = "Authorization, Content-Type, X-Requested-With"
CORS_MAX_AGE: Final = "600"


class HttpServer:
    """``hub.integrations.runtime("http")``: the app, its routes and their access levels."""

    def __init__(
        self,
        auth: AuthManager,
        *,
        host: str = "0.0.0.0",
        port: int = 8123,
        cors_allowed_origins: list[str] | None = None,
        trusted_proxies: list[str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.auth = auth
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.cors_origins = {o.rstrip("/").lower() for o in cors_allowed_origins or []}
        self.trusted_proxies = Networks(trusted_proxies or [])
        self._access: dict[AbstractRoute, Access] = {}
        self._runner: web.AppRunner | None = None
        self.app = web.Application(
            middlewares=[path_guard, self._origin_middleware, self._auth_middleware],
            client_max_size=16 * 1024 * 1024,
        )
        self.app.on_response_prepare.append(self._on_prepare)

    # -- routes ------------------------------------------------------------------------------
    def add_route(
        self,
        method: str,
        path: str,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        *,
        access: Access,
    ) -> None:
        """Add a route that needs ``access`` (GET routes answer HEAD too). Call it during your
        integration's setup (manifest dependency on ``http``): the router freezes when the
        server starts listening, after the hub has set everything up."""
        if not isinstance(access, Access):
            raise TypeError(f"{method} {path}: access must be an Access level, not {access!r}")
        if self._runner is not None:
            raise RuntimeError(
                f"{method} {path}: the HTTP server is already listening; add routes in setup"
            )
        method = method.upper()
        resource = self.app.router.add_resource(path)
        routes = [resource.add_route(method, handler)]
        if method == hdrs.METH_GET:
            routes.append(resource.add_route(hdrs.METH_HEAD, handler))
        for route in routes:
            self._access[route] = access

    def add_static(self, prefix: str, folder: Path, *, access: Access = Access.PUBLIC) -> None:
        """Serve the files under ``folder`` at ``prefix`` (``index.html`` for folders); nothing
        outside ``folder`` is reachable, whatever the path says."""
        if not Path(folder).is_dir():  # served once it appears (e.g. after a build step)
            _LOGGER.warning("Static folder %s for %s does not exist (yet)", folder, prefix)
        prefix = "/" + prefix.strip("/")
        handler = static_handler(Path(folder))
        self.add_route(hdrs.METH_GET, prefix + "/{path:.*}", handler, access=access)
        if prefix != "/":
            self.add_route(hdrs.METH_GET, prefix, handler, access=access)

    def access_of(self, route: AbstractRoute) -> Access | None:
        """The declared access of a route (None: undeclared, so refused)."""
        return self._access.get(route)

    def routes(self) -> Iterator[tuple[str, str, Access | None]]:
        """Every route on the app, declared or not: (method, path pattern, access)."""
        for route in self.app.router.routes():
            info = route.get_info()
            path = info.get("formatter") or info.get("path") or info.get("prefix") or ""
            yield route.method, str(path), self._access.get(route)

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=5.0)
        await self._runner.setup()
        site = web.TCPSite(
            self._runner, self.host, self.port, ssl_context=self.ssl_context, reuse_address=True
        )
        await site.start()
        addresses = self._runner.addresses
        if addresses:
            self.port = int(addresses[0][1])
        scheme = "https" if self.ssl_context else "http"
        _LOGGER.info("HTTP server listening on %s://%s:%d", scheme, self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"{scheme}://{host}:{self.port}"

    # -- middlewares -------------------------------------------------------------------------
    def _origin_allowed(self, request: web.Request, origin: str) -> bool:
        if origin.rstrip("/").lower() in self.cors_origins:
            return True
        netloc = origin_netloc(origin)
        host = forwarded_host(request, self.trusted_proxies).lower()
        return netloc is not None and netloc == host

    @web.middleware
    async def _origin_middleware(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        """Refuse browsers' cross-site state changes (and WebSocket upgrades); answer CORS
        preflights for the configured origins."""
        origin = request.headers.get(hdrs.ORIGIN)
        if request.method == hdrs.METH_OPTIONS and hdrs.ACCESS_CONTROL_REQUEST_METHOD in (
            request.headers
        ):
            if origin is None or origin.rstrip("/").lower() not in self.cors_origins:
                raise web.HTTPForbidden(text="403: origin not allowed")
            preflight = web.Response(status=200)
            self._cors_headers(preflight, origin)
            preflight.headers[hdrs.ACCESS_CONTROL_ALLOW_METHODS] = "GET, POST, PUT, PATCH, DELETE"
            preflight.headers[hdrs.ACCESS_CONTROL_ALLOW_HEADERS] = CORS_ALLOWED_HEADERS
            preflight.headers[hdrs.ACCESS_CONTROL_MAX_AGE] = CORS_MAX_AGE
            return preflight
        upgrade = request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"
        if request.method in STATE_CHANGING or upgrade:
            cross_site = request.headers.get("Sec-Fetch-Site") == "cross-site"
            if (origin is not None and not self._origin_allowed(request, origin)) or (
                cross_site and (origin is None or not self._origin_allowed(request, origin))
            ):
                _LOGGER.warning(
                    "Refused %s %s from foreign origin %s",
                    request.method, request.path, origin,
                )  # fmt: skip
                raise web.HTTPForbidden(text="403: foreign origin")
        response = await handler(request)
        if origin is not None and origin.rstrip("/").lower() in self.cors_origins:
            self._cors_headers(response, origin)
        return response

    @staticmethod
    def _cors_headers(response: web.StreamResponse, origin: str) -> None:
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
        response.headers[hdrs.VARY] = "Origin"

    @web.middleware
    async def _auth_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Authenticate the Bearer token and enforce the route's declared access."""
        request["client_ip"] = client_address(request, self.trusted_proxies)
        request["user"] = None
        request["scope"] = None
        request["token_id"] = None
        match = request.match_info
        if match.http_exception is not None:  # no such route or method: nothing to protect
            raise match.http_exception
        access = self._access.get(match.route)
        if access is None:
            _LOGGER.error(
                "Refused %s %s: route has no access declaration", request.method, request.path
            )
            raise web.HTTPForbidden(text="403: route has no access declaration")
        token = _bearer_token(request)
        if token is not None:
            found = self.auth.authenticate(token)
            if found is not None:
                request["user"], request["token_id"] = found
                request["scope"] = self.auth.scope_for(found[0])
            elif access is not Access.PUBLIC:
                raise _unauthorized()
        user = request["user"]
        if not allowed(user, access):
            if user is None:
                raise _unauthorized()
            raise web.HTTPForbidden(text="403: Forbidden")
        return await handler(request)

    async def _on_prepare(self, _request: web.Request, response: web.StreamResponse) -> None:
        add_security_headers(response, self.ssl_context is not None)


def _bearer_token(request: web.Request) -> str | None:
    header = request.headers.get(hdrs.AUTHORIZATION)
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _unauthorized() -> web.HTTPUnauthorized:
    return web.HTTPUnauthorized(text="401: Unauthorized", headers={"WWW-Authenticate": "Bearer"})


def json_response(data: Any, status: int = 200, **kwargs: Any) -> web.Response:
    """JSON that keeps Chinese readable (UTF-8, not escapes)."""
    import orjson

    return web.Response(
        body=orjson.dumps(data), status=status, content_type="application/json", **kwargs
    )
