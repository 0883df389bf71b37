"""One automation at run time: an ``automation.<id>`` entity whose triggers are attached while
it is on, whose conditions gate each run, and whose actions run under its mode (single,
restart, queued, parallel with ``max``), each run traced."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Final

import voluptuous as vol

from shouwang.core.conditions import ConditionError, compile_conditions
from shouwang.core.entity import Entity, EntityService
from shouwang.core.events import Context, Unsubscribe
from shouwang.core.script import Run, RunResult, Step, compile_steps, execute
from shouwang.core.states import State
from shouwang.core.trace import Trace, TraceStore
from shouwang.core.triggers import attach_triggers

from .config import AutomationConfig

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

AUTOMATION_TRIGGERED: Final = "automation_triggered"
_LEVELS: Final = {
    "critical": logging.CRITICAL,
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
}


class Automation(Entity):
    """An automation entity: on (armed) or off."""

    domain: ClassVar[str] = "automation"
    states: ClassVar[frozenset[str]] = frozenset({"on", "off"})
    services: ClassVar[dict[str, EntityService]] = {
        "trigger": EntityService(
            "trigger_service",
            {
                vol.Optional("skip_condition", default=True): bool,
                vol.Optional("variables", default=dict): dict,
            },
        ),
        "turn_on": EntityService("turn_on"),
        "turn_off": EntityService("turn_off", {vol.Optional("stop_actions", default=True): bool}),
        "toggle": EntityService("toggle"),
    }

    def __init__(self, hub: Hub, source: AutomationConfig, traces: TraceStore) -> None:
        config = source.config
        super().__init__(
            source.name,
            unique_id=str(config.get("id") or source.key),
            entity_id=f"automation.{source.object_id}",
        )
        self._hub = hub
        self.source = source
        self.config = config
        self.key = source.key
        self.traces = traces
        traces.set_limit(self.key, config["trace"].get("stored_traces", 5))
        self.mode: str = config["mode"]
        self.max_runs: int = config["max"] if self.mode in ("queued", "parallel") else 1
        self.max_exceeded: str = config["max_exceeded"]
        self.is_on = config.get("initial_state", True)
        self.last_triggered: datetime | None = None
        self._conditions = compile_conditions(hub, config["conditions"])
        self._steps: list[Step] | None = None  # compiled on first run: fast start-up
        self._trigger_variables: dict[str, Any] | None = None
        self._detach: Unsubscribe | None = None
        self._runs: dict[asyncio.Task[Any], Trace] = {}
        self._queue: list[asyncio.Future[None]] = []  # queued runs waiting their turn

    # -- entity -----------------------------------------------------------------------------
    @property
    def state(self) -> str | None:
        return "on" if self.is_on else "off"

    def state_attributes(self) -> dict[str, Any]:
        return {
            "id": self.config.get("id"),
            "last_triggered": self.last_triggered.isoformat() if self.last_triggered else None,
            "mode": self.mode,
            "current": len(self._runs),
            "max": self.max_runs if self.mode in ("queued", "parallel") else None,
        }

    async def added_to_hub(self) -> None:
        if self.is_on:
            self.attach()

    async def will_remove(self) -> None:
        self.detach()
        await self.stop_runs()

    # -- triggers ---------------------------------------------------------------------------
    def attach(self) -> None:
        if self._detach is not None:
            return
        if self._trigger_variables is None:
            self._trigger_variables = self._hub.templates.render_complex(
                self.config["trigger_variables"], {}
            )
        self._detach = attach_triggers(
            self._hub, self.config["triggers"], self.fire, self.name, self._trigger_variables
        )

    def detach(self) -> None:
        if self._detach is not None:
            self._detach()
            self._detach = None

    # -- services ---------------------------------------------------------------------------
    async def turn_on(self, *, context: Context | None = None) -> None:
        if not self.is_on:
            self.is_on = True
            self.attach()
            self.write_state(context)

    async def turn_off(self, *, stop_actions: bool = True, context: Context | None = None) -> None:
        if self.is_on:
            self.is_on = False
            self.detach()
            self.write_state(context)
        if stop_actions:
            await self.stop_runs()

    async def toggle(self, *, context: Context | None = None) -> None:
        if self.is_on:
            await self.turn_off(context=context)
        else:
            await self.turn_on(context=context)

    async def trigger_service(
        self,
        *,
        skip_condition: bool = True,
        variables: dict[str, Any] | None = None,
        context: Context | None = None,
    ) -> None:
        trigger = {"platform": None, "id": "manual", "idx": "manual", "description": "manual"}
        task = self.fire(
            trigger,
            context,
            skip_condition=skip_condition,
            extra=variables or {},
            manual=True,
        )
        if task is not None:
            await asyncio.shield(task)

    # -- running ----------------------------------------------------------------------------
    def fire(
        self,
        trigger: dict[str, Any],
        context: Context | None,
        *,
        skip_condition: bool = False,
        extra: dict[str, Any] | None = None,
        manual: bool = False,
    ) -> asyncio.Task[Any] | None:
        """A trigger fired: check conditions now, then start a run as the mode allows."""
        if not self.is_on and not manual:
            return None
        hub = self._hub
        run_context = Context(
            user_id=context.user_id if context else None,
            parent_id=context.id if context else None,
        )
        trigger_vars = dict(trigger)
        own = trigger_vars.pop("_variables", None) or {}
        variables: dict[str, Any] = {
            **(self._trigger_variables or {}),
            "trigger": trigger_vars,
            "this": self._this(),
            **own,
            **(extra or {}),
        }
        trace = Trace(self.key, run_context, hub.clock.time(), trigger_vars)
        try:
            if self.config["variables"]:
                for key, value in self.config["variables"].items():
                    variables[key] = hub.templates.render_complex(value, variables)
            passed = skip_condition or self._check_conditions(variables, trace)
        except Exception as err:  # a template error fails this run, never the hub
            message = f"{self.name}: {err}"
            _LOGGER.error("Automation %s", message)
            trace.end("error", hub.clock.time(), message)
            self.traces.add(trace)
            return None
        trace.variables = dict(variables)
        if not passed:
            trace.end("failed_conditions", hub.clock.time())
            self.traces.add(trace)
            return None
        if self._runs or self._queue:
            if self.mode == "single":
                self._exceeded("Already running")
                trace.end("failed_single", hub.clock.time())
                self.traces.add(trace)
                return None
            if self.mode == "restart":
                for task in list(self._runs):
                    task.cancel()
            elif len(self._runs) + len(self._queue) >= self.max_runs:
                self._exceeded(f"Already running {self.max_runs} runs")
                trace.end("failed_max_runs", hub.clock.time())
                self.traces.add(trace)
                return None
        ticket: asyncio.Future[None] | None = None
        if self.mode == "queued" and (self._runs or self._queue):
            ticket = hub.loop.create_future()
            self._queue.append(ticket)
        task = hub.create_task(
            self._run(variables, run_context, trace, ticket), f"automation {self.key}"
        )
        if ticket is None:  # counted as running at once, so a second trigger sees it
            self._runs[task] = trace
        return task

    def _check_conditions(self, variables: dict[str, Any], trace: Trace) -> bool:
        try:
            result = self._conditions.check(variables)
        except ConditionError as err:
            trace.condition("condition", False, str(err))
            _LOGGER.warning("Automation %s: condition failed: %s", self.name, err)
            return False
        trace.condition("condition", result)
        return result

    def _exceeded(self, message: str) -> None:
        if self.max_exceeded != "silent":
            _LOGGER.log(_LEVELS[self.max_exceeded], "Automation %s: %s", self.name, message)

    def _this(self) -> State | None:
        # the State itself: templates read this.state / this.attributes / this.entity_id
        return self._hub.states.get(self.entity_id or "")

    async def _run(
        self,
        variables: dict[str, Any],
        context: Context,
        trace: Trace,
        ticket: asyncio.Future[None] | None,
    ) -> RunResult:
        hub = self._hub
        task = asyncio.current_task()
        assert task is not None
        if ticket is not None:  # queued: wait for the runs before this one
            try:
                await ticket
            except asyncio.CancelledError:
                trace.end("cancelled", hub.clock.time())
                self.traces.add(trace)
                raise
            finally:
                if ticket in self._queue:
                    self._queue.remove(ticket)
            self._runs[task] = trace
        self.last_triggered = datetime.fromtimestamp(hub.clock.time(), UTC)
        self.write_state(context)
        hub.bus.fire(
            AUTOMATION_TRIGGERED,
            {
                "name": self.name,
                "entity_id": self.entity_id,
                "source": trace.trigger.get("description") if trace.trigger else None,
            },
            context,
        )
        if self._steps is None:
            self._steps = compile_steps(hub, self.config["actions"])
        result = RunResult("cancelled")
        try:
            result = await execute(self._steps, Run(hub, self.name, variables, context, trace))
            if result.outcome in ("error", "aborted") and result.error:
                _LOGGER.error("Automation %s", result.error)
        except asyncio.CancelledError:
            result = RunResult("cancelled")
            raise
        finally:
            trace.end(result.outcome, hub.clock.time(), result.error)
            self.traces.add(trace)
            self._runs.pop(task, None)
            if not self._runs and self._queue and not self._queue[0].done():
                self._queue[0].set_result(None)
            if self.hub is not None:
                self.write_state()
        return result

    async def stop_runs(self) -> None:
        tasks = list(self._runs)
        for ticket in self._queue:
            ticket.cancel()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    @property
    def running(self) -> int:
        return len(self._runs)
