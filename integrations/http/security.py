"""Request hygiene shared by every route: path normalisation attacks, client address behind
trusted proxies, Origin checks and CORS, and the security headers on every response.

These run as aiohttp middlewares/signals installed by :class:`~.server.HttpServer`, before any
handler and before authentication, so no integration has to remember them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from typing import Final
from urllib.parse import unquote, urlsplit

from aiohttp import hdrs, web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: methods that change something; browsers' cross-site requests with these are refused
STATE_CHANGING: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CONTENT_SECURITY_POLICY: Final = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self' ws: wss:",
        "font-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(), payment=(), usb=()",
}
# encodings of '/', '\', NUL and '%' itself (double encoding) have no business in our paths
_FORBIDDEN_ENCODED: Final = ("%2f", "%5c", "%00", "%25")


def unsafe_path(raw_path: str) -> str | None:
    """Why a raw request path (as sent, before decoding) is refused, or None if it is safe.

    Refused: dot segments in any encoding (``..``, ``%2e%2e``, ``.%2E``), empty segments
    (``//``) except a trailing slash, encoded slashes/backslashes/NUL, double encoding, raw
    backslashes and control characters. Routing and static files then only ever see plain paths.
    """
    path = raw_path.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        return "path must start with /"
    if any(ord(ch) < 0x20 or ch in "\\\x7f" for ch in path):
        return "control character or backslash in path"
    lowered = path.lower()
    if any(code in lowered for code in _FORBIDDEN_ENCODED):
        return "encoded separator in path"
    segments = path[1:].split("/")
    for index, segment in enumerate(segments):
        if segment == "" and index != len(segments) - 1:
            return "empty segment in path"
        if unquote(segment) in (".", ".."):
            return "dot segment in path"
    return None


@web.middleware
async def path_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    reason = unsafe_path(request.raw_path)
    if reason is not None:
        raise web.HTTPBadRequest(text=f"400: {reason}")
    return await handler(request)


class Networks:
    """A list of trusted proxy networks."""

    def __init__(self, networks: Iterable[str]) -> None:
        self._networks = [ipaddress.ip_network(n, strict=False) for n in networks]

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, str):
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._networks)


def client_address(request: web.Request, trusted: Networks) -> str:
    """The client's address: the peer, or — when the peer is a trusted proxy — the last
    ``X-Forwarded-For`` hop that is not itself a trusted proxy. A header from an untrusted
    peer is ignored (anyone can send one)."""
    peer = request.remote or "unknown"
    if peer not in trusted:
        return peer
    hops = [
        hop.strip()
        for value in request.headers.getall(hdrs.X_FORWARDED_FOR, [])
        for hop in value.split(",")
    ]
    for hop in reversed(hops):
        if hop and hop not in trusted:
            return hop
    return peer


def forwarded_host(request: web.Request, trusted: Networks) -> str:
    """The host the browser talked to (``X-Forwarded-Host`` only from a trusted proxy)."""
    if (request.remote or "") in trusted:
        forwarded = request.headers.get(hdrs.X_FORWARDED_HOST)
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.host


def origin_netloc(origin: str) -> str | None:
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return parts.netloc.lower()


def add_security_headers(response: web.StreamResponse, https: bool) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if https:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    response.headers["Server"] = "Shouwang"
