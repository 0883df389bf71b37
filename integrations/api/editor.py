"""The automation editor's endpoints (``/api/shouwang/automations…``): list and read the files
under ``<config>/automations/``, validate a draft with the automation integration's own
validator (every error with its line), save with a backup of the previous version (the newest
20 kept per file), reload.

Paths are relative to the automations folder, ``.yaml`` files only, and must stay inside it
(``..``, absolute paths and symlinks leading out are refused). A draft with errors is never
written; a saved file is reloaded, and a reload with errors keeps the running automations.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Final

from aiohttp import web

from shouwang.core.config import ConfigError
from shouwang.core.yaml_loader import YamlError, mark_of, parse_yaml
from shouwang.integrations.auth.policy import Access
from shouwang.integrations.automation import AutomationRuntime
from shouwang.integrations.automation.config import (
    AUTOMATIONS_DIR,
    AutomationConfig,
    template_errors,
    validate_automation,
)

from .base import Api, ApiError, Route
from .jsonutil import json_response
from .rest import ApiHandler, handler, read_json

BACKUP_DIR: Final = ".storage/automation_backups"
MAX_FILE: Final = 1024 * 1024
MAX_BACKUPS: Final = 20


def _backups(folder: Path, base: str) -> list[tuple[str, int, Path]]:
    """The backups of one file as (time stamp, counter, path), oldest first. A second save in
    the same second is ``<base>.<stamp>-2.yaml`` and so on."""
    pattern = re.compile(rf"^{re.escape(base)}\.(\d{{8}}T\d{{6}}Z)(?:-(\d+))?\.yaml$")
    found = []
    for path in folder.glob("*.yaml"):
        match = pattern.match(path.name)
        if match:
            found.append((match.group(1), int(match.group(2) or 1), path))
    return sorted(found)


def _runtime(api: Api) -> AutomationRuntime:
    loaded = api.hub.integrations.loaded.get("automation")
    runtime = loaded.runtime if loaded is not None else None
    if not isinstance(runtime, AutomationRuntime):
        raise ApiError("not_found", "Automations are not loaded.")
    return runtime


def _relative(config_dir: Path, file: str | None) -> str | None:
    """A file name as the client sees it: relative to the config directory."""
    if file is None:
        return None
    try:
        return str(Path(file).relative_to(config_dir))
    except ValueError:
        return file


def error_json(config_dir: Path, error: ConfigError) -> dict[str, Any]:
    return {"message": error.message, "file": _relative(config_dir, error.file), "line": error.line}


def resolve(config_dir: Path, name: Any) -> Path:
    """``name`` (relative to the automations folder) as a path inside it, or ApiError."""
    if not isinstance(name, str) or not name or "\\" in name or "\x00" in name:
        raise ApiError("invalid_format", "path: expected a file name such as main.yaml")
    relative = Path(name)
    if relative.is_absolute() or ".." in relative.parts or relative.suffix != ".yaml":
        raise ApiError(
            "invalid_format", "path: a .yaml file inside the automations folder, e.g. main.yaml"
        )
    if any(part.startswith(".") for part in relative.parts):
        raise ApiError("invalid_format", "path: hidden files and folders are not automations")
    folder = (config_dir / AUTOMATIONS_DIR).resolve()
    path = (folder / relative).resolve()
    if not path.is_relative_to(folder) or path == folder:
        raise ApiError("invalid_format", "path: leads out of the automations folder")
    return path


def validate_text(runtime: AutomationRuntime, text: str, path: Path) -> list[ConfigError]:
    """Every error in a draft of ``path`` (blocking: blueprints may be read)."""
    config_dir = runtime.config_dir
    name = str(path.relative_to(config_dir))
    try:
        data = parse_yaml(text, name, secrets_root=config_dir)
    except YamlError as err:
        return [ConfigError(err.message, err.file, err.line, "automation")]
    items = data if isinstance(data, list) else [] if data in (None, {}) else [data]
    errors: list[ConfigError] = []
    valid: list[AutomationConfig] = []
    elsewhere = {
        automation.source.object_id: automation.source
        for automation in runtime.automations.values()
        if Path(automation.source.file) != path
    }
    seen: set[str] = set()
    for raw in items:
        mark = mark_of(raw)
        line = mark[1] if mark else None
        config, found = validate_automation(raw, runtime.blueprints, name, line)
        errors.extend(found)
        if config is None:
            continue
        automation = AutomationConfig(config, name, line)
        other = elsewhere.get(automation.object_id)
        if automation.object_id in seen or other is not None:
            where = f" (also in {_relative(config_dir, other.file)}:{other.line})" if other else ""
            errors.append(
                ConfigError(
                    f"duplicate automation id {automation.key!r}{where}", name, line, "automation"
                )
            )
        seen.add(automation.object_id)
        valid.append(automation)
    return errors + template_errors(valid)


# -- handlers ------------------------------------------------------------------------------------
async def list_automations(api: Api, request: web.Request) -> web.StreamResponse:
    runtime = _runtime(api)
    config_dir = runtime.config_dir
    folder = config_dir / AUTOMATIONS_DIR

    def files() -> list[dict[str, Any]]:
        if not folder.is_dir():
            return []
        return [
            {"path": str(path.relative_to(folder)), "size": path.stat().st_size}
            for path in sorted(folder.rglob("*.yaml"))
            if not any(part.startswith(".") for part in path.relative_to(folder).parts)
        ]

    automations = [
        {
            "entity_id": entity_id,
            "id": automation.source.config.get("id"),
            "alias": automation.source.config.get("alias"),
            "file": _relative(config_dir, automation.source.file),
            "line": automation.source.line,
            "state": "on" if automation.is_on else "off",
        }
        for entity_id, automation in sorted(runtime.automations.items())
    ]
    return json_response(
        {
            "files": await api.hub.loop.run_in_executor(None, files),
            "automations": automations,
            "errors": [error_json(config_dir, error) for error in runtime.errors],
        }
    )


async def read_automation_file(api: Api, request: web.Request) -> web.StreamResponse:
    runtime = _runtime(api)
    path = resolve(runtime.config_dir, request.query.get("path"))
    try:
        text = await api.hub.loop.run_in_executor(None, path.read_text, "utf-8")
    except FileNotFoundError:
        raise ApiError("not_found", "No such automation file.") from None
    return json_response({"path": request.query["path"], "content": text})


async def _draft(api: Api, request: web.Request) -> tuple[AutomationRuntime, Path, str, Any]:
    runtime = _runtime(api)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError("invalid_format", "Data should be a JSON object.")
    path = resolve(runtime.config_dir, body.get("path", request.query.get("path", "draft.yaml")))
    content = body.get("content")
    if not isinstance(content, str):
        raise ApiError("invalid_format", "content: expected the file's YAML text")
    if len(content.encode()) > MAX_FILE:
        raise ApiError("invalid_format", "content: larger than 1 MiB")
    return runtime, path, content, body


async def validate_automation_file(api: Api, request: web.Request) -> web.StreamResponse:
    runtime, path, content, _ = await _draft(api, request)
    errors = await api.hub.loop.run_in_executor(None, validate_text, runtime, content, path)
    return json_response(
        {"valid": not errors, "errors": [error_json(runtime.config_dir, e) for e in errors]}
    )


def _backup_and_write(config_dir: Path, path: Path, content: str, stamp: str) -> str | None:
    """Keep the previous version under ``.storage/automation_backups`` and write ``content``
    atomically; returns the backup's name (None for a new file). Blocking."""
    backup_name = None
    if path.exists():
        folder = config_dir / BACKUP_DIR
        folder.mkdir(parents=True, exist_ok=True)
        base = str(path.relative_to(config_dir / AUTOMATIONS_DIR)).replace("/", "__")
        base = base.removesuffix(".yaml")
        # several saves in one second: -2, -3 … after the highest taken (never reused)
        taken = [count for when, count, _ in _backups(folder, base) if when == stamp]
        suffix = f"-{max(taken) + 1}" if taken else ""
        backup = folder / f"{base}.{stamp}{suffix}.yaml"
        backup.write_bytes(path.read_bytes())
        backup_name = str(backup.relative_to(config_dir))
        for _when, _count, stale in _backups(folder, base)[:-MAX_BACKUPS]:
            stale.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(content, encoding="utf-8")
    os.replace(temporary, path)
    return backup_name


async def save_automation_file(api: Api, request: web.Request) -> web.StreamResponse:
    runtime, path, content, body = await _draft(api, request)
    config_dir = runtime.config_dir
    loop = api.hub.loop
    errors = await loop.run_in_executor(None, validate_text, runtime, content, path)
    if errors:
        return json_response(
            {
                "message": "Not saved: the automations have errors.",
                "errors": [error_json(config_dir, error) for error in errors],
            },
            400,
        )
    stamp = api.hub.clock.now().strftime("%Y%m%dT%H%M%SZ")
    backup = await loop.run_in_executor(None, _backup_and_write, config_dir, path, content, stamp)
    reload_errors: list[ConfigError] = []
    reloaded = bool(body.get("reload", True))
    if reloaded:
        reload_errors = await runtime.reload()
    return json_response(
        {
            "path": str(path.relative_to(config_dir / AUTOMATIONS_DIR)),
            "backup": backup,
            "reloaded": reloaded and not reload_errors,
            "errors": [error_json(config_dir, error) for error in reload_errors],
        }
    )


async def reload_automations(api: Api, request: web.Request) -> web.StreamResponse:
    runtime = _runtime(api)
    errors = await runtime.reload()
    return json_response(
        {
            "reloaded": not errors,
            "automations": len(runtime.automations),
            "errors": [error_json(runtime.config_dir, error) for error in errors],
        }
    )


def routes(api: Api) -> list[Route]:
    def route(method: str, path: str, func: ApiHandler, access: Access) -> Route:
        return Route(method, path, handler(api, func), access)

    base = "/api/shouwang/automations"
    return [
        route("GET", base, list_automations, Access.READ_ALL),
        route("GET", f"{base}/file", read_automation_file, Access.READ_ALL),
        route("PUT", f"{base}/file", save_automation_file, Access.CONFIG),
        route("POST", f"{base}/validate", validate_automation_file, Access.CONFIG),
        route("POST", f"{base}/reload", reload_automations, Access.CONFIG),
    ]
