"""Action sequences (Home Assistant's script syntax): what an automation does once triggered.

Sequences are validated and compiled once, at load, into step objects; a run walks the steps
with its own variables and :class:`Context` (whose ``parent_id`` is the trigger's), writing a
:class:`~shouwang.core.trace.Trace` as it goes. Supported steps: service calls (``action:`` or
the older ``service:``, with ``target``, ``data``, ``response_variable``), ``delay``,
``wait_template``, ``wait_for_trigger``, ``event``, ``condition``, ``choose``, ``if``,
``repeat`` (count/while/until/for_each), ``parallel``, ``sequence``, ``variables``, ``stop``;
any step may carry ``alias``, ``enabled: false`` and ``continue_on_error``.

Variables are one flat namespace per run (parallel branches work on copies); Home Assistant's
finer scoping of variables set inside nested blocks is not reproduced.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from .conditions import Condition, compile_conditions, validate_conditions
from .config import validate_each
from .durations import POSITIVE_DURATION, render_duration
from .events import Context, Event
from .services import ServiceNotFound
from .template import is_template_string, result_as_boolean
from .trace import Trace
from .triggers import attach_triggers, validate_triggers

if TYPE_CHECKING:
    from .hub import Hub

_LOGGER = logging.getLogger(__name__)

#: repeat loops stop after this many iterations: a runaway ``while`` must not hang the hub
MAX_REPEAT_ITERATIONS: Final = 10_000

ACTION_KEYS: Final = (
    "action",
    "service",
    "delay",
    "wait_template",
    "wait_for_trigger",
    "event",
    "condition",
    "choose",
    "if",
    "repeat",
    "parallel",
    "sequence",
    "variables",
    "stop",
)
# Keys of condition configs written as actions (``- condition: state``) vs shorthand ones
_SHORTHAND_CONDITIONS: Final = ("and", "or", "not")
_COMMON: Final[dict[Any, Any]] = {
    vol.Optional("alias"): str,
    vol.Optional("enabled"): vol.Any(bool, str),
    vol.Optional("continue_on_error"): bool,
}


class ScriptError(Exception):
    """A run failed; the message names the automation, the step and what went wrong."""


class _Stop(Exception):
    def __init__(self, reason: str, error: bool, response: Any = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error
        self.response = response


class _ConditionFailed(Exception):
    pass


# -- validation -------------------------------------------------------------------------------
def action_type(config: Mapping[str, Any]) -> str:
    for key in ACTION_KEYS:
        if key in config:
            return "service" if key == "action" else key
    for key in _SHORTHAND_CONDITIONS:
        if key in config:
            return "condition"
    raise vol.Invalid(f"unknown action: expected one of {', '.join(ACTION_KEYS)}")


def _template_or(validator: Any) -> Any:
    return vol.Any(vol.All(str, is_template_string_validator), validator)


def is_template_string_validator(value: str) -> str:
    if not is_template_string(value):
        raise vol.Invalid("not a template")
    return value


def _sequence(value: Any) -> list[dict[str, Any]]:
    return validate_actions(value)


def _service_name(value: Any) -> str:
    if not isinstance(value, str):
        raise vol.Invalid("expected 'domain.service'")
    if is_template_string(value):
        return value
    domain, _, service = value.partition(".")
    if not domain or not service:
        raise vol.Invalid(f"expected 'domain.service', got {value!r}")
    return value


def _normalise_service(config: dict[str, Any]) -> dict[str, Any]:
    if "action" in config and "service" in config:
        raise vol.Invalid("use either 'action' or 'service', not both")
    name = config.pop("service", None) or config.pop("action", None)
    config["action"] = name
    if "data_template" in config:  # the old spelling: same as data, templates render anyway
        config["data"] = {**config.pop("data_template"), **config.get("data", {})}
    return config


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _repeat_kind(value: dict[str, Any]) -> dict[str, Any]:
    if not any(key in value for key in ("count", "while", "until", "for_each")):
        raise vol.Invalid("repeat needs count, while, until or for_each")
    return value


def _parallel_branch(item: Any) -> dict[str, Any]:
    """A parallel branch: ``- sequence: [...]`` or a single action."""
    if isinstance(item, Mapping) and set(item) == {"sequence"}:
        return {"sequence": _sequence(item["sequence"])}
    return {"sequence": _sequence([item])}


SCHEMAS: Final[dict[str, Any]] = {
    "service": vol.All(
        _normalise_service,
        vol.Schema(
            {
                **_COMMON,
                vol.Required("action"): _service_name,
                vol.Optional("target"): vol.Any(dict, str),
                vol.Optional("data"): vol.Any(dict, str),
                vol.Optional("entity_id"): vol.Any(str, [str]),
                vol.Optional("response_variable"): str,
                vol.Optional("metadata"): dict,
            }
        ),
    ),
    "delay": vol.Schema({**_COMMON, vol.Required("delay"): POSITIVE_DURATION}),
    "wait_template": vol.Schema(
        {
            **_COMMON,
            vol.Required("wait_template"): str,
            vol.Optional("timeout"): POSITIVE_DURATION,
            vol.Optional("continue_on_timeout", default=True): bool,
        }
    ),
    "wait_for_trigger": vol.Schema(
        {
            **_COMMON,
            vol.Required("wait_for_trigger"): validate_triggers,
            vol.Optional("timeout"): POSITIVE_DURATION,
            vol.Optional("continue_on_timeout", default=True): bool,
        }
    ),
    "event": vol.Schema(
        {
            **_COMMON,
            vol.Required("event"): str,
            vol.Optional("event_data"): dict,
            vol.Optional("event_data_template"): dict,
        }
    ),
    "choose": vol.Schema(
        {
            **_COMMON,
            vol.Required("choose"): vol.All(
                _as_list,
                [
                    {
                        vol.Optional("alias"): str,
                        vol.Required("conditions"): validate_conditions,
                        vol.Required("sequence"): _sequence,
                    }
                ],
            ),
            vol.Optional("default"): _sequence,
        }
    ),
    "if": vol.Schema(
        {
            **_COMMON,
            vol.Required("if"): validate_conditions,
            vol.Required("then"): _sequence,
            vol.Optional("else"): _sequence,
        }
    ),
    "repeat": vol.Schema(
        {
            **_COMMON,
            vol.Required("repeat"): vol.All(
                {
                    vol.Exclusive("count", "kind"): vol.Any(vol.Coerce(int), str),
                    vol.Exclusive("while", "kind"): validate_conditions,
                    vol.Exclusive("until", "kind"): validate_conditions,
                    vol.Exclusive("for_each", "kind"): vol.Any(list, str),
                    vol.Required("sequence"): _sequence,
                },
                _repeat_kind,
            ),
        }
    ),
    "parallel": vol.Schema(
        {
            **_COMMON,
            vol.Required("parallel"): vol.All(_as_list, [_parallel_branch]),
        }
    ),
    "sequence": vol.Schema({**_COMMON, vol.Required("sequence"): _sequence}),
    "variables": vol.Schema({**_COMMON, vol.Required("variables"): dict}),
    "stop": vol.Schema(
        {
            **_COMMON,
            vol.Required("stop"): str,
            vol.Optional("error", default=False): bool,
            vol.Optional("response_variable"): str,
        }
    ),
}


def validate_action(value: Any) -> dict[str, Any]:
    if isinstance(value, str):  # shorthand template condition as an action
        return {"condition": validate_conditions(value)[0], "_type": "condition"}
    if not isinstance(value, Mapping):
        raise vol.Invalid("an action must be a mapping")
    kind = action_type(value)
    if kind == "condition":
        config = dict(value)
        common = {key: config.pop(key) for key in ("alias", "continue_on_error") if key in config}
        return {"_type": "condition", "condition": validate_conditions(config)[0], **common}
    validated: dict[str, Any] = SCHEMAS[kind](dict(value))
    validated["_type"] = kind
    return validated


def validate_actions(value: Any) -> list[dict[str, Any]]:
    return validate_each(value, validate_action)


# -- running ----------------------------------------------------------------------------------
class Run:
    """The state of one run: variables, context, trace, and the name used in errors."""

    __slots__ = ("context", "hub", "name", "trace", "variables")

    def __init__(
        self,
        hub: Hub,
        name: str,
        variables: dict[str, Any],
        context: Context,
        trace: Trace | None,
    ) -> None:
        self.hub = hub
        self.name = name
        self.variables = variables
        self.context = context
        self.trace = trace

    def render(self, value: Any) -> Any:
        return self.hub.templates.render_complex(value, self.variables)

    def record(self, path: str, alias: str | None, **details: Any) -> None:
        if self.trace is not None:
            self.trace.step(path, self.hub.clock.time(), alias=alias, **details)

    def fork(self) -> Run:
        return Run(self.hub, self.name, dict(self.variables), self.context, self.trace)


class Step(ABC):
    """One compiled action."""

    __slots__ = ("alias", "continue_on_error")

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.alias: str | None = config.get("alias")
        self.continue_on_error: bool = config.get("continue_on_error", False)

    @abstractmethod
    async def run(self, run: Run, path: str) -> None:
        """Carry the action out within ``run``; ``path`` names it in traces and errors."""


async def run_steps(steps: Sequence[Step], run: Run, path: str) -> None:
    """Run a compiled sequence; errors name the automation and the step's path."""
    for index, step in enumerate(steps):
        step_path = f"{path}/{index}"
        try:
            await step.run(run, step_path)
        except (_Stop, _ConditionFailed, asyncio.CancelledError, ScriptError):
            raise
        except ServiceNotFound as err:
            run.record(step_path, step.alias, error=str(err))
            raise ScriptError(_where(run, step_path, step) + str(err)) from err
        except Exception as err:
            message = f"{type(err).__name__}: {err}"
            run.record(step_path, step.alias, error=message)
            if step.continue_on_error:
                _LOGGER.warning("%s (continuing)", _where(run, step_path, step) + message)
                continue
            raise ScriptError(_where(run, step_path, step) + message) from err


def _where(run: Run, path: str, step: Step) -> str:
    alias = f" ({step.alias})" if step.alias else ""
    return f"{run.name}: step {path}{alias}: "


def has_templates(value: Any) -> bool:
    """True if a template string sits anywhere in ``value`` (static data is not rendered)."""
    if isinstance(value, str):
        return is_template_string(value)
    if isinstance(value, Mapping):
        return any(has_templates(key) or has_templates(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(has_templates(item) for item in value)
    return False


def fresh_copy(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of static data that a listener may change without touching the next run's."""
    if any(isinstance(value, Mapping | list) for value in data.values()):
        return copy.deepcopy(dict(data))
    return dict(data)


class ServiceStep(Step):
    __slots__ = ("action", "data", "dynamic", "response_variable", "target")

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.action: str = config["action"]
        self.data: Any = config.get("data") or {}
        target = config.get("target")
        if "entity_id" in config:
            target = {**(target or {}), "entity_id": config["entity_id"]}
        self.target: Any = target
        self.response_variable: str | None = config.get("response_variable")
        self.dynamic = has_templates(self.data) or has_templates(self.target)

    async def run(self, run: Run, path: str) -> None:
        action = run.render(self.action) if is_template_string(self.action) else self.action
        domain, _, service = str(action).partition(".")
        if self.dynamic:
            data = run.render(self.data) if self.data else {}
            target = run.render(self.target) if self.target else None
        else:
            data, target = fresh_copy(self.data), self.target
        if not isinstance(data, Mapping):
            raise ScriptError(f"{run.name}: step {path}: data must render to a mapping")
        response = await run.hub.services.call(
            domain,
            service,
            data,
            target=target,
            context=run.context,
            blocking=True,
            return_response=self.response_variable is not None,
        )
        changed = None
        if self.response_variable is not None:
            run.variables[self.response_variable] = response
            changed = {self.response_variable: response}
        run.record(
            path,
            self.alias,
            changed=changed,
            result={
                "params": {
                    "domain": domain,
                    "service": service,
                    "service_data": data,
                    "target": target,
                }
            },
        )


class DelayStep(Step):
    __slots__ = ("delay",)

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.delay = config["delay"]

    async def run(self, run: Run, path: str) -> None:
        period = _duration(run, self.delay)
        run.record(path, self.alias, result={"delay": period.total_seconds(), "done": False})
        await run.hub.clock.sleep(period.total_seconds())


def _duration(run: Run, value: Any) -> timedelta:
    return render_duration(run.hub, value, run.variables)


class EventStep(Step):
    __slots__ = ("data", "dynamic", "event")

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.event: str = config["event"]
        self.data = {**config.get("event_data_template", {}), **config.get("event_data", {})}
        self.dynamic = has_templates(self.data)

    async def run(self, run: Run, path: str) -> None:
        event = run.render(self.event) if is_template_string(self.event) else self.event
        data = run.render(self.data) if self.dynamic else fresh_copy(self.data)
        run.hub.bus.fire(event, data, run.context)
        run.record(path, self.alias, result={"event": event, "event_data": data})


class ConditionStep(Step):
    __slots__ = ("condition",)

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.condition: Condition = compile_conditions(hub, [config["condition"]])

    async def run(self, run: Run, path: str) -> None:
        result = self.condition.check(run.variables)
        run.record(path, self.alias, result={"result": result})
        if not result:
            raise _ConditionFailed(path)


class WaitTemplateStep(Step):
    __slots__ = ("continue_on_timeout", "template", "timeout")

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.template: str = config["wait_template"]
        self.timeout = config.get("timeout")
        self.continue_on_timeout: bool = config["continue_on_timeout"]

    async def run(self, run: Run, path: str) -> None:
        hub = run.hub
        template = hub.templates.template(self.template)
        timeout = _duration(run, self.timeout).total_seconds() if self.timeout is not None else None
        start = hub.clock.time()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        tracked: list[Any] = []

        def check(_event: Event | None = None) -> None:
            result, info = template.render_with_info(run.variables)
            for remove in tracked:
                remove()
            tracked.clear()
            if result_as_boolean(result):
                if not done.done():
                    done.set_result(None)
                return
            if info.entities:
                tracked.append(hub.states.track(sorted(info.entities), check))
            elif info.all_states or info.domains:
                tracked.append(hub.bus.listen("state_changed", check))

        check()
        completed = await _wait(hub, done, timeout)
        for remove in tracked:
            remove()
        remaining = None if timeout is None else max(0.0, timeout - (hub.clock.time() - start))
        run.variables["wait"] = {"completed": completed, "remaining": remaining}
        run.record(path, self.alias, changed={"wait": run.variables["wait"]})
        if not completed and not self.continue_on_timeout:
            raise _Stop("timed out waiting for the template", error=True)


class WaitForTriggerStep(Step):
    __slots__ = ("continue_on_timeout", "timeout", "triggers")

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.triggers: list[dict[str, Any]] = config["wait_for_trigger"]
        self.timeout = config.get("timeout")
        self.continue_on_timeout: bool = config["continue_on_timeout"]

    async def run(self, run: Run, path: str) -> None:
        hub = run.hub
        timeout = _duration(run, self.timeout).total_seconds() if self.timeout is not None else None
        start = hub.clock.time()
        done: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

        def fired(trigger: dict[str, Any], _context: Context | None) -> None:
            if not done.done():
                done.set_result(trigger)

        detach = attach_triggers(hub, self.triggers, fired, run.name, run.variables)
        try:
            completed = await _wait(hub, done, timeout)
        finally:
            detach()
        remaining = None if timeout is None else max(0.0, timeout - (hub.clock.time() - start))
        trigger = done.result() if completed else None
        run.variables["wait"] = {"trigger": trigger, "remaining": remaining, "completed": completed}
        run.record(path, self.alias, changed={"wait": run.variables["wait"]})
        if not completed and not self.continue_on_timeout:
            raise _Stop("timed out waiting for a trigger", error=True)


async def _wait(hub: Hub, future: asyncio.Future[Any], timeout: float | None) -> bool:
    """Wait for ``future`` up to ``timeout`` seconds of hub-clock time; True if it completed."""
    if future.done():
        return True
    if timeout is None:
        await future
        return True

    def expire() -> None:
        if not future.done():
            future.cancel()

    timer = hub.clock.call_later(timeout, expire)
    try:
        await future
    except asyncio.CancelledError:
        if future.cancelled() and not _current_cancelling():
            return False
        raise
    finally:
        timer.cancel()
    return True


def _current_cancelling() -> bool:
    task = asyncio.current_task()
    return bool(task is not None and task.cancelling())


class ChooseStep(Step):
    __slots__ = ("choices", "default")

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.choices = [
            (compile_conditions(hub, option["conditions"]), compile_steps(hub, option["sequence"]))
            for option in config["choose"]
        ]
        self.default = compile_steps(hub, config.get("default", []))

    async def run(self, run: Run, path: str) -> None:
        for index, (condition, steps) in enumerate(self.choices):
            if condition.check(run.variables):
                run.record(path, self.alias, result={"choice": index})
                await run_steps(steps, run, f"{path}/choose/{index}/sequence")
                return
        run.record(path, self.alias, result={"choice": "default"})
        await run_steps(self.default, run, f"{path}/default")


class IfStep(Step):
    __slots__ = ("condition", "else_steps", "then_steps")

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.condition = compile_conditions(hub, config["if"])
        self.then_steps = compile_steps(hub, config["then"])
        self.else_steps = compile_steps(hub, config.get("else", []))

    async def run(self, run: Run, path: str) -> None:
        result = self.condition.check(run.variables)
        run.record(path, self.alias, result={"if": result})
        if result:
            await run_steps(self.then_steps, run, f"{path}/then")
        else:
            await run_steps(self.else_steps, run, f"{path}/else")


class RepeatStep(Step):
    __slots__ = ("count", "for_each", "steps", "until", "while_")

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        repeat = config["repeat"]
        self.count = repeat.get("count")
        self.for_each = repeat.get("for_each")
        self.while_ = compile_conditions(hub, repeat["while"]) if "while" in repeat else None
        self.until = compile_conditions(hub, repeat["until"]) if "until" in repeat else None
        self.steps = compile_steps(hub, repeat["sequence"])

    async def run(self, run: Run, path: str) -> None:
        outer = run.variables.get("repeat")
        items: list[Any] | None = None
        if self.for_each is not None:
            items = run.render(self.for_each)
            if not isinstance(items, list):
                raise ScriptError(f"{run.name}: step {path}: for_each must be a list")
        count: int | None = None
        if self.count is not None:
            count = int(run.render(self.count)) if isinstance(self.count, str) else self.count
        index = 0
        try:
            while True:
                if index >= MAX_REPEAT_ITERATIONS:
                    raise ScriptError(
                        f"{run.name}: step {path}: repeat stopped after "
                        f"{MAX_REPEAT_ITERATIONS} iterations"
                    )
                if items is not None and index >= len(items):
                    break
                if count is not None and index >= count:
                    break
                variables: dict[str, Any] = {"index": index + 1, "first": index == 0}
                if items is not None:
                    variables["item"] = items[index]
                    variables["last"] = index == len(items) - 1
                elif count is not None:
                    variables["last"] = index == count - 1
                run.variables["repeat"] = variables
                if self.while_ is not None and not self.while_.check(run.variables):
                    break
                run.record(f"{path}/repeat", self.alias, result={"iteration": index + 1})
                await run_steps(self.steps, run, f"{path}/repeat/sequence")
                index += 1
                if self.until is not None and self.until.check(run.variables):
                    break
        finally:
            if outer is None:
                run.variables.pop("repeat", None)
            else:
                run.variables["repeat"] = outer


class ParallelStep(Step):
    __slots__ = ("branches",)

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.branches = [compile_steps(hub, branch["sequence"]) for branch in config["parallel"]]

    async def run(self, run: Run, path: str) -> None:
        run.record(path, self.alias)
        results = await asyncio.gather(
            *(
                run_steps(steps, run.fork(), f"{path}/parallel/{index}/sequence")
                for index, steps in enumerate(self.branches)
            ),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, _ConditionFailed):
                continue  # a false condition ends only its own branch
            if isinstance(result, BaseException):
                raise result


class SequenceStep(Step):
    __slots__ = ("steps",)

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.steps = compile_steps(hub, config["sequence"])

    async def run(self, run: Run, path: str) -> None:
        await run_steps(self.steps, run, f"{path}/sequence")


class VariablesStep(Step):
    __slots__ = ("values",)

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.values: dict[str, Any] = config["variables"]

    async def run(self, run: Run, path: str) -> None:
        changed = {}
        for key, value in self.values.items():  # each may use the ones before it
            changed[key] = run.variables[key] = run.render(value)
        run.record(path, self.alias, changed=changed)


class StopStep(Step):
    __slots__ = ("error", "reason", "response_variable")

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.reason: str = config["stop"]
        self.error: bool = config["error"]
        self.response_variable: str | None = config.get("response_variable")

    async def run(self, run: Run, path: str) -> None:
        reason = run.render(self.reason)
        run.record(path, self.alias, result={"stop": reason, "error": self.error})
        response = run.variables.get(self.response_variable) if self.response_variable else None
        raise _Stop(str(reason), self.error, response)


class DisabledStep(Step):
    async def run(self, run: Run, path: str) -> None:
        run.record(path, self.alias, result={"enabled": False})


def compile_step(hub: Hub, config: Mapping[str, Any]) -> Step:
    if config.get("enabled", True) is False:
        return DisabledStep(config)
    kind = config["_type"]
    simple: dict[str, type[Step]] = {
        "service": ServiceStep,
        "delay": DelayStep,
        "event": EventStep,
        "wait_template": WaitTemplateStep,
        "wait_for_trigger": WaitForTriggerStep,
        "variables": VariablesStep,
        "stop": StopStep,
    }
    if kind in simple:
        return simple[kind](config)
    nested: dict[str, Any] = {
        "condition": ConditionStep,
        "choose": ChooseStep,
        "if": IfStep,
        "repeat": RepeatStep,
        "parallel": ParallelStep,
        "sequence": SequenceStep,
    }
    step: Step = nested[kind](hub, config)
    return step


def compile_steps(hub: Hub, configs: Sequence[Mapping[str, Any]]) -> list[Step]:
    return [compile_step(hub, config) for config in configs]


class RunResult:
    """How a run ended: ``finished`` (also after ``stop``), ``failed_conditions`` (a condition
    step was false), ``aborted`` (``stop`` with ``error: true``, or a wait that timed out with
    ``continue_on_timeout: false``) or ``error``; with the stop response if any."""

    __slots__ = ("error", "outcome", "response")

    def __init__(self, outcome: str, error: str | None = None, response: Any = None) -> None:
        self.outcome = outcome
        self.error = error
        self.response = response


async def execute(steps: Sequence[Step], run: Run) -> RunResult:
    """Run a compiled sequence to its end; never raises except for cancellation."""
    try:
        await run_steps(steps, run, "action")
    except _ConditionFailed:
        return RunResult("failed_conditions")
    except _Stop as stop:
        if stop.error:
            return RunResult("aborted", stop.reason, stop.response)
        return RunResult("finished", None, stop.response)
    except ScriptError as err:
        return RunResult("error", str(err))
    return RunResult("finished")
