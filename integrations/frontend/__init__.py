"""The ``frontend`` integration: serves the browser apps in the repository's ``frontend/``
folder through the ``http`` integration's server.

Routes (all PUBLIC: they are static files; every piece of data the pages show comes from the
``api`` integration with the user's own token, scoped by the server):

* ``/console`` — the staff console (property staff, guards, admins);
* ``/panel`` — the household panel (residents, phone-sized first);
* ``/`` — redirects to ``/console`` (``root_redirect: false`` leaves ``/`` alone);
* ``/frontend/{js,css,i18n,vendor}/…`` — the pages' modules, styles, translations and the
  CodeMirror bundle that ``scripts/setup`` builds into ``frontend/vendor/`` (npm + esbuild);
* ``/api/shouwang/panel/passes`` — visitor passes for the apps (:mod:`.passes_api`), when the
  ``visitor_pass`` integration is set up;
* ``/api/shouwang/panel/calls/{call_id}/snapshot`` — who is at the door, for the household
  being rung (:mod:`.calls_api`), when the ``intercom`` integration is set up.

It also tells the intercom and the visitor passes who a logged-in account is
(:mod:`.identity`), so a resident's "open door" and "new pass" act for their household.

Only those sub-folders are served: ``node_modules/``, ``src/`` and ``package.json`` never are.
``frontend: {path: /srv/shouwang-frontend}`` serves another copy of the folder.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from aiohttp import web

from shouwang.integrations.auth.policy import Access

from . import calls_api, identity, passes_api

if TYPE_CHECKING:
    from shouwang.core.hub import Hub
    from shouwang.integrations.http import HttpServer

_LOGGER = logging.getLogger(__name__)

DOMAIN: Final = "frontend"
#: the repository's frontend/ folder (editable installs and checkouts)
DEFAULT_FOLDER: Final = Path(__file__).resolve().parents[2] / "frontend"
PAGES: Final = {"/console": "console.html", "/panel": "panel.html"}
ASSET_FOLDERS: Final = ("js", "css", "i18n", "vendor")
EDITOR_BUNDLE: Final = "vendor/codemirror.js"

CONFIG_SCHEMA: Final = vol.Schema(
    vol.Any(
        None,
        {
            vol.Optional("path"): str,
            vol.Optional("root_redirect", default=True): bool,
        },
    )
)


class Frontend:
    """``hub.integrations.runtime("frontend")``: where the pages are served from."""

    def __init__(self, folder: Path, editor_bundled: bool) -> None:
        self.folder = folder
        #: False when ``frontend/vendor/codemirror.js`` was not built: the editor falls back
        #: to a plain text area (validation errors still listed with their lines)
        self.editor_bundled = editor_bundled


def page_handler(file: Path) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(_request: web.Request) -> web.StreamResponse:
        # pages are tiny; always revalidated, so a new build shows without a hard refresh
        return web.FileResponse(file, headers={"Cache-Control": "no-cache"})

    return serve


async def redirect_to_console(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console")


def locate(path: str | None, config_dir: Path | None) -> tuple[Path, list[str], bool]:
    """The folder served, the pages missing from it, and whether the editor bundle is built
    (blocking: looks at the disk)."""
    folder = Path(path).expanduser() if path else DEFAULT_FOLDER
    if config_dir is not None and not folder.is_absolute():
        folder = config_dir / folder
    missing = [page for page in PAGES.values() if not (folder / page).is_file()]
    return folder, missing, (folder / EDITOR_BUNDLE).is_file()


async def setup(hub: Hub, config: Mapping[str, Any] | None) -> Frontend | bool:
    config = config or {}
    folder, missing, bundled = await hub.loop.run_in_executor(
        None, locate, config.get("path"), hub.config_dir
    )
    if missing:
        _LOGGER.error("frontend: %s has no %s", folder, ", ".join(missing))
        return False
    server: HttpServer = hub.integrations.runtime("http")
    for path, page in PAGES.items():
        server.add_route("GET", path, page_handler(folder / page), access=Access.PUBLIC)
    for name in ASSET_FOLDERS:
        server.add_static(f"/frontend/{name}", folder / name, access=Access.PUBLIC)
    if config.get("root_redirect", True):
        server.add_route("GET", "/", redirect_to_console, access=Access.PUBLIC)
    if "visitor_pass" in hub.integrations.loaded:
        passes_api.register(hub, server)
    if "intercom" in hub.integrations.loaded:
        calls_api.register(hub, server)
    identity.install(hub, server.auth)
    if not bundled:
        _LOGGER.warning(
            "frontend: %s is not built (run scripts/setup with node installed); the automation "
            "editor is a plain text area",
            folder / EDITOR_BUNDLE,
        )
    return Frontend(folder, bundled)
