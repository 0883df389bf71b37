"""The hub: one object that owns the loop, clock, bus, states, services, places, entities and the
loaded integrations, and takes them through start and a bounded, graceful stop.

There is deliberately no global key/value store on the hub: an integration keeps its runtime
objects itself and :meth:`IntegrationLoader.setup` records what its ``setup`` returned, so other
code asks ``hub.integrations.runtime("mqtt")`` and gets a typed object back.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from . import notifications
from .clock import Clock, RealClock, TimerHandle
from .config import CoreConfig, LoadedConfig, load_config_dir
from .entity import EntityRegistry
from .events import Context, EventBus
from .loader import IntegrationLoader
from .places import PlaceIndex
from .services import ServiceRegistry
from .states import StateMachine
from .webhooks import WebhookRegistry

if TYPE_CHECKING:
    from .template import TemplateEnvironment

_LOGGER = logging.getLogger(__name__)

HUB_START: Final = "hub_start"
HUB_STARTED: Final = "hub_started"
HUB_STOP: Final = "hub_stop"
TIME_CHANGED: Final = "time_changed"

DEFAULT_STOP_TIMEOUT: Final = 30.0


def freeze_startup_objects() -> None:
    """Move everything alive now (config, automations, entities) out of the garbage
    collector's sight: a full collection then walks only what was made since, so an alarm's
    automation never waits behind a pass over a million start-up objects.

    Called again after a reload: unfreezing first lets the collection free the replaced
    automations' reference cycles, which frozen objects would otherwise keep forever."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class HubState(StrEnum):
    NOT_RUNNING = "not_running"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"


class Hub:
    """The running hub. Create it inside a running event loop."""

    def __init__(self, config_dir: str | Path | None = None, *, clock: Clock | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        self.clock: Clock = clock if clock is not None else RealClock()
        self.config_dir = Path(config_dir) if config_dir is not None else None
        self.config = CoreConfig()
        self.loaded_config: LoadedConfig | None = None
        self.state = HubState.NOT_RUNNING
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stop_callbacks: list[Callable[[], Awaitable[None] | None]] = []
        self._stopped = asyncio.Event()
        self.exit_code = 0
        # the real clock's time() is time.time itself: one Python call less per event
        now = time.time if type(self.clock) is RealClock else self.clock.time
        self.bus = EventBus(now, self.create_task)
        self.places = PlaceIndex()
        self.states = StateMachine(self.bus, now)
        self.services = ServiceRegistry(self.bus, self.places, self.create_task)
        self.entities = EntityRegistry(self)
        self.integrations = IntegrationLoader(self)
        self.webhooks = WebhookRegistry()
        self._ticker: TimerHandle | None = None
        self.bus.set_activity_hooks(TIME_CHANGED, self._start_ticker, self._stop_ticker)
        notifications.register_services(self)

    # -- tasks ------------------------------------------------------------------------------
    def create_task(self, coro: Coroutine[Any, Any, Any], name: str = "") -> asyncio.Task[Any]:
        """Run ``coro`` as a task the hub waits for on shutdown; its failure is logged."""
        task = self.loop.create_task(coro, name=name or None)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            _LOGGER.error("Task %s failed", task.get_name(), exc_info=error)

    @property
    def pending_tasks(self) -> int:
        return len(self._tasks)

    # -- templates --------------------------------------------------------------------------
    @property
    def templates(self) -> TemplateEnvironment:
        """The hub's template environment, created on first use (so a hub that never renders
        a template never imports Jinja)."""
        env: TemplateEnvironment | None = self.__dict__.get("_templates")
        if env is None:
            from .template import TemplateEnvironment

            env = self.__dict__["_templates"] = TemplateEnvironment(self)
        return env

    async def block_till_done(self, max_rounds: int = 1000) -> None:
        """Wait until no hub task is pending (tasks may start others)."""
        for _ in range(max_rounds):
            await asyncio.sleep(0)
            if not self._tasks:  # emptied by _task_done, so failures are logged by now
                return
            await asyncio.wait(list(self._tasks))
        raise RuntimeError("Hub tasks keep spawning new tasks; gave up waiting")

    # -- lifecycle --------------------------------------------------------------------------
    def on_stop(self, callback: Callable[[], Awaitable[None] | None]) -> None:
        """Run ``callback`` (plain or async) during :meth:`stop`, newest first."""
        self._stop_callbacks.append(callback)

    async def start(self) -> None:
        """Load the configuration, set up integrations, and fire ``hub_start``/``hub_started``."""
        if self.state is not HubState.NOT_RUNNING:
            raise RuntimeError(f"Hub cannot start from state {self.state}")
        self.state = HubState.STARTING
        context = Context()
        # Start-up makes millions of long-lived objects (10,000 automations): automatic
        # collections would walk them again and again; one collection at the end does.
        collecting = gc.isenabled()
        gc.disable()
        try:
            await self._start(context)
        finally:
            if collecting:
                gc.enable()
        freeze_startup_objects()

    async def _start(self, context: Context) -> None:
        if self.config_dir is not None:
            # file reads and YAML parsing stay off the loop
            self.loaded_config = await self.loop.run_in_executor(
                None, load_config_dir, self.config_dir
            )
            self.config = self.loaded_config.core
            for error in self.loaded_config.errors:
                _LOGGER.error("Configuration: %s", error)
            await self.integrations.setup_configured(self.loaded_config)
            if self.loaded_config.errors:  # now including each integration's block errors
                notifications.create(
                    self,
                    "invalid_config",
                    "Configuration has errors",
                    "\n".join(str(error) for error in self.loaded_config.errors),
                )
        self.bus.fire(HUB_START, {}, context)
        await self.block_till_done()
        self.state = HubState.RUNNING
        self.bus.fire(HUB_STARTED, {}, context)
        _LOGGER.info(
            "Hub running: %d integration(s) loaded, %d failed, %d entities",
            len(self.integrations.loaded),
            len(self.integrations.failed),
            len(self.states),
        )

    async def stop(self, timeout: float = DEFAULT_STOP_TIMEOUT, exit_code: int = 0) -> None:
        """Fire ``hub_stop``, run stop callbacks, wait up to ``timeout`` seconds (real time) for
        pending work, then cancel what is left."""
        if self.state in (HubState.STOPPING, HubState.STOPPED):
            await self._stopped.wait()
            return
        self.exit_code = exit_code
        self.state = HubState.STOPPING
        self.bus.fire(HUB_STOP, {})
        self._stop_ticker()
        for callback in reversed(self._stop_callbacks):
            try:
                result = callback()
                if asyncio.iscoroutine(result):
                    self.create_task(result, "stop callback")
            except Exception:
                _LOGGER.exception("Stop callback %s failed", callback)
        current = asyncio.current_task()
        pending = [task for task in self._tasks if not task.done() and task is not current]
        if pending:
            _done, still_pending = await asyncio.wait(pending, timeout=timeout)
            for task in still_pending:
                _LOGGER.warning(
                    "Cancelling %s: still running after %.0f s", task.get_name(), timeout
                )
                task.cancel()
            if still_pending:
                await asyncio.wait(still_pending, timeout=1.0)
        self.state = HubState.STOPPED
        self._stopped.set()

    async def wait_stopped(self) -> int:
        """Wait until :meth:`stop` has finished; returns the exit code."""
        await self._stopped.wait()
        return self.exit_code

    # -- time_changed ticks, only while someone listens -------------------------------------
    def _start_ticker(self) -> None:
        if self._ticker is None:
            self._schedule_tick()

    def _schedule_tick(self) -> None:
        now = self.clock.time()
        self._ticker = self.clock.call_at(int(now) + 1.0, self._tick)

    def _tick(self) -> None:
        self._ticker = None
        self.bus.fire(TIME_CHANGED, {"now": self.clock.now()})
        if self.bus.listener_counts().get(TIME_CHANGED) and self.state is not HubState.STOPPED:
            self._schedule_tick()

    def _stop_ticker(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
