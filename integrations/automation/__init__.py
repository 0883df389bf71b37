"""The ``automation`` integration: loads the community's YAML automations, keeps them running,
reloads them on request or when their files change, and keeps their traces.

An invalid file never disturbs what runs: a reload with any error keeps the running set, and
reports every error with ``file:line`` (log, ``persistent_notification``, and the
``automation.reload`` call itself).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from shouwang.core import notifications
from shouwang.core.config import CONFIG_FILE, ConfigError
from shouwang.core.hub import freeze_startup_objects
from shouwang.core.services import ServiceCall, ServiceValidationError
from shouwang.core.trace import TraceStore
from shouwang.core.tracking import track_point_in_time
from shouwang.core.yaml_loader import YamlError, load_yaml

from .automation import Automation
from .config import LoadResult, blueprint_store, check_config, load_automations

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

__all__ = ["CONFIG_SCHEMA", "AutomationRuntime", "check_config", "setup"]

_LOGGER = logging.getLogger(__name__)

# Each automation is validated on its own (for file:line errors), so the block schema only
# checks the shape: a list of automations, one automation, or nothing.
CONFIG_SCHEMA: Final = vol.Schema(vol.Any(None, list, dict))
WATCH_INTERVAL: Final = timedelta(seconds=2)
SAVE_DELAY: Final = timedelta(seconds=5)
TRACES_FILE: Final = ".storage/traces.json"
ADD_BATCH: Final = 250


class AutomationRuntime:
    """The automations of a hub (the integration's runtime object)."""

    def __init__(self, hub: Hub, config_dir: Path) -> None:
        self.hub = hub
        self.config_dir = config_dir
        self.traces = TraceStore(config_dir / TRACES_FILE)
        self.blueprints = blueprint_store(config_dir)
        self.automations: dict[str, Automation] = {}
        self.errors: list[ConfigError] = []
        self._signature: tuple[tuple[str, int, int], ...] = ()
        self._files: list[Path] = []
        self._save_pending = False
        self._save_lock = asyncio.Lock()

    async def load(self, block: Any) -> LoadResult:
        result = await self.hub.loop.run_in_executor(
            None, load_automations, self.config_dir, block, self.blueprints
        )
        self._files = result.files
        self._signature = self._current_signature()
        return result

    async def apply(self, result: LoadResult) -> None:
        """Replace the running set with ``result``: unchanged automations keep running."""
        wanted = {f"automation.{a.object_id}": a for a in result.automations}
        for entity_id in [e for e in self.automations if e not in wanted]:
            await self.hub.entities.remove(entity_id)
            del self.automations[entity_id]
        added = []
        for entity_id, source in wanted.items():
            current = self.automations.get(entity_id)
            if current is not None and current.source.config == source.config:
                current.source = source
                continue
            if current is not None:
                await self.hub.entities.remove(entity_id)
            automation = Automation(self.hub, source, self.traces)
            self.automations[entity_id] = automation
            added.append(automation)
        # in batches, yielding between them, so 10,000 automations never hold the loop long
        for start in range(0, len(added), ADD_BATCH):
            await self.hub.entities.add(added[start : start + ADD_BATCH], integration="automation")
            await asyncio.sleep(0)

    async def reload(self) -> list[ConfigError]:
        """Re-read every automation; apply them only if there is no error at all."""
        block = await self.hub.loop.run_in_executor(None, self._read_block)
        if isinstance(block, ConfigError):
            errors = [block]
        else:
            result = await self.load(block)
            errors = result.errors
        self.errors = errors
        if errors:
            for error in errors:
                _LOGGER.error("Automations not reloaded: %s", error)
            notifications.create(
                self.hub,
                "automation_reload_failed",
                "Automations not reloaded",
                "The running automations were kept.\n" + "\n".join(map(str, errors)),
            )
            return errors
        notifications.dismiss(self.hub, "automation_reload_failed")
        await self.apply(result)
        freeze_startup_objects()
        _LOGGER.info("Reloaded %d automations", len(self.automations))
        return []

    def _read_block(self) -> Any:
        try:
            data = load_yaml(self.config_dir / CONFIG_FILE, secrets_root=self.config_dir)
        except YamlError as err:
            return ConfigError(err.message, err.file, err.line, "automation")
        return data.get("automation") if isinstance(data, dict) else None

    # -- file watching ------------------------------------------------------------------------
    def _current_signature(self) -> tuple[tuple[str, int, int], ...]:
        folder = self.config_dir / "automations"
        paths = set(self._files) | {self.config_dir / CONFIG_FILE}
        if folder.is_dir():
            paths |= set(folder.rglob("*.yaml"))
        signature = []
        for path in sorted(paths):
            try:
                stat = path.stat()
            except OSError:
                continue
            signature.append((str(path), stat.st_mtime_ns, stat.st_size))
        return tuple(signature)

    def watch_files(self, interval: float) -> Callable[[], None]:
        """Check the files every ``interval`` seconds of real time (files change in the real
        world, whatever the hub clock does); returns a function that stops watching."""
        handle: asyncio.TimerHandle | None = None

        def tick() -> None:
            nonlocal handle
            self.hub.create_task(self.check_files(), "watch automation files")
            handle = self.hub.loop.call_later(interval, tick)

        handle = self.hub.loop.call_later(interval, tick)

        def stop() -> None:
            if handle is not None:
                handle.cancel()

        return stop

    async def check_files(self) -> None:
        """Reload if any automation file changed since the last load."""
        signature = await self.hub.loop.run_in_executor(None, self._current_signature)
        if signature != self._signature:
            self._signature = signature
            _LOGGER.info("Automation files changed; reloading")
            await self.reload()

    # -- traces -----------------------------------------------------------------------------
    def schedule_save(self) -> None:
        if self._save_pending or not self.traces.dirty:
            return
        self._save_pending = True

        def save(_now: Any) -> None:
            self._save_pending = False
            self.hub.create_task(self.save_traces(), "save traces")

        track_point_in_time(self.hub, self.hub.clock.now() + SAVE_DELAY, save)

    async def save_traces(self) -> None:
        async with self._save_lock:  # one write at a time, the newest payload last
            if self.traces.dirty:
                payload = self.traces.payload()
                await self.hub.loop.run_in_executor(None, self.traces.write, payload)


async def setup(hub: Hub, config: Any) -> AutomationRuntime:
    if hub.config_dir is None:
        raise ValueError("automations need a config directory")
    runtime = AutomationRuntime(hub, hub.config_dir)
    await hub.loop.run_in_executor(None, runtime.traces.load)
    result = await runtime.load(config)
    runtime.errors = result.errors  # already in the log via check; invalid ones are skipped
    for error in result.errors:
        _LOGGER.error("Automation not loaded: %s", error)
    if result.errors:
        notifications.create(
            hub,
            "automation_errors",
            "Some automations have errors",
            "\n".join(map(str, result.errors)),
        )
    await runtime.apply(result)

    async def reload_service(call: ServiceCall) -> None:
        errors = await runtime.reload()
        if errors:
            raise ServiceValidationError(
                "automations not reloaded (the running ones were kept): "
                + "; ".join(map(str, errors))
            )

    hub.services.register("automation", "reload", reload_service)
    stop_watch = runtime.watch_files(WATCH_INTERVAL.total_seconds())
    runtime.traces.on_add = runtime.schedule_save

    async def on_stop() -> None:
        stop_watch()
        for automation in runtime.automations.values():
            automation.detach()
            await automation.stop_runs()
        await runtime.save_traces()

    hub.on_stop(on_stop)
    _LOGGER.info("Loaded %d automations", len(runtime.automations))
    return runtime
