"""The HTTP server integration: ``http: {server_host, server_port, cors_allowed_origins,
trusted_proxies, ssl}``.

``setup`` builds the :class:`~.server.HttpServer` (``hub.integrations.runtime("http")``) and adds
the auth endpoints (Home Assistant's login flow, tokens, account management); integrations
that serve pages or APIs depend on ``http`` and call ``add_route``/``add_static`` in their own
setup. The server listens once the hub starts (every route is known by then) and stops with it.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from shouwang.core import notifications
from shouwang.core.events import Event
from shouwang.core.hub import HUB_START
from shouwang.integrations.auth import views as auth_views
from shouwang.integrations.auth.manager import AuthManager

from .server import HttpServer

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

__all__ = ["HttpServer"]

_LOGGER = logging.getLogger(__name__)

DOMAIN: Final = "http"
DEFAULT_PORT: Final = 8123


def _network(value: Any) -> str:
    import ipaddress

    try:
        return str(ipaddress.ip_network(str(value), strict=False))
    except ValueError:
        raise vol.Invalid(f"not an IP address or network: {value!r}") from None


CONFIG_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("server_host", default="0.0.0.0"): str,
        vol.Optional("server_port", default=DEFAULT_PORT): vol.All(
            int, vol.Range(min=0, max=65535)
        ),
        vol.Optional("cors_allowed_origins", default=list): [vol.Url()],
        vol.Optional("trusted_proxies", default=list): [_network],
        vol.Optional("ssl"): {vol.Required("certfile"): str, vol.Required("keyfile"): str},
    }
)


def _ssl_context(settings: Mapping[str, str], base: Any) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    certfile, keyfile = settings["certfile"], settings["keyfile"]
    if base is not None:
        certfile, keyfile = str(base / certfile), str(base / keyfile)
    context.load_cert_chain(certfile, keyfile)
    return context


async def setup(hub: Hub, config: Mapping[str, Any]) -> HttpServer | bool:
    auth = hub.integrations.runtime("auth")
    if not isinstance(auth, AuthManager):
        _LOGGER.error("The HTTP server needs the auth integration")
        return False
    context = None
    if "ssl" in config:
        try:
            context = await hub.loop.run_in_executor(
                None, _ssl_context, config["ssl"], hub.config_dir
            )
        except (OSError, ssl.SSLError) as err:
            _LOGGER.error("http: ssl: cannot load certificate/key: %s", err)
            return False
    server = HttpServer(
        auth,
        host=config["server_host"],
        port=config["server_port"],
        cors_allowed_origins=config["cors_allowed_origins"],
        trusted_proxies=config["trusted_proxies"],
        ssl_context=context,
    )
    auth_views.register(server, auth)

    async def start(_event: Event) -> None:
        try:
            await server.start()
        except OSError as err:
            _LOGGER.error("HTTP server cannot listen on %s:%s: %s", server.host, server.port, err)
            notifications.create(
                hub, "http_failed", "HTTP server not started",
                f"Cannot listen on {server.host}:{server.port}: {err}",
            )  # fmt: skip

    hub.bus.listen_once(HUB_START, start)
    hub.on_stop(server.stop)
    return server
