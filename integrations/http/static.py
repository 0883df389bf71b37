"""Static files that cannot escape their folder.

The path guard middleware already refuses dot segments and encoded separators; this handler
checks again on its own (resolving symlinks), so a file is served only if its real location is
inside the folder and no segment of the request is hidden (``.git``, ``.env``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web


def resolve_inside(root: Path, relative: str) -> Path | None:
    """The file ``relative`` names under ``root`` (``index.html`` for a folder), or None if it
    does not exist, is hidden, or resolves outside ``root`` (blocking: touches the disk)."""
    parts = [part for part in relative.split("/") if part]
    if any(part.startswith(".") or "\\" in part or "\x00" in part for part in parts):
        return None
    real_root = root.resolve()
    target = real_root.joinpath(*parts).resolve()
    if not target.is_relative_to(real_root):
        return None
    if target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


def static_handler(folder: Path) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(request: web.Request) -> web.StreamResponse:
        relative = request.match_info.get("path", "")
        target = await asyncio.to_thread(resolve_inside, folder, relative)
        if target is None:
            raise web.HTTPNotFound()
        return web.FileResponse(target)

    return serve
