"""Traces: what one automation run did, step by step, so staff can answer "why did the siren go
off at 02:13?" — the trigger, each condition's result, each action with its time, the variables
it changed, the service calls made, any error, and how the run ended.

The last N traces per automation are kept in memory and saved to
``<config>/.storage/traces.json`` (on stop, and a short while after runs finish), so they
survive a restart. Recording is cheap: plain lists of small dicts, turned into JSON only when
someone reads them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections import deque
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final

from .events import Context, Event
from .states import State

_LOGGER = logging.getLogger(__name__)

DEFAULT_STORED_TRACES: Final = 5
STORE_VERSION: Final = 1

OUTCOMES: Final = frozenset(
    {
        "running",
        "finished",
        "failed_conditions",
        "cancelled",
        "aborted",
        "error",
        "failed_single",
        "failed_max_runs",
    }
)


def jsonable(value: Any, depth: int = 0) -> Any:
    """A JSON-safe copy of variables and results (states, events, times become their JSON)."""
    if depth > 20:
        return repr(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, State):
        return jsonable(value.as_dict(), depth + 1)
    if isinstance(value, Event):
        return value.as_dict()
    if isinstance(value, Context):
        return value.as_dict()
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): jsonable(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item, depth + 1) for item in value]
    return repr(value)


class Trace:
    """One run of one automation."""

    __slots__ = (
        "automation_id",
        "conditions",
        "context",
        "error",
        "finish",
        "outcome",
        "run_id",
        "start",
        "steps",
        "trigger",
        "variables",
    )

    def __init__(
        self,
        automation_id: str,
        context: Context,
        start: float,
        trigger: Mapping[str, Any] | None,
        variables: Mapping[str, Any] | None = None,
    ) -> None:
        self.automation_id = automation_id
        self.context = context
        self.run_id = context.id
        self.start = start
        self.finish: float | None = None
        self.trigger = trigger
        self.variables = variables
        self.conditions: list[tuple[str, bool, str | None]] = []
        self.steps: list[dict[str, Any]] = []
        self.outcome = "running"
        self.error: str | None = None

    def condition(self, path: str, result: bool, error: str | None = None) -> None:
        self.conditions.append((path, result, error))

    def step(
        self,
        path: str,
        timestamp: float,
        *,
        alias: str | None = None,
        changed: Mapping[str, Any] | None = None,
        result: Mapping[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        record: dict[str, Any] = {"path": path, "timestamp": timestamp}
        if alias:
            record["alias"] = alias
        if changed:
            record["changed_variables"] = dict(changed)
        if result:
            record["result"] = dict(result)
        if error:
            record["error"] = error
        self.steps.append(record)

    def end(self, outcome: str, finish: float, error: str | None = None) -> None:
        self.outcome = outcome
        self.finish = finish
        self.error = error

    def summary(self) -> dict[str, Any]:
        trigger = self.trigger or {}
        return {
            "run_id": self.run_id,
            "automation_id": self.automation_id,
            "start": _iso(self.start),
            "finish": _iso(self.finish) if self.finish is not None else None,
            "state": "running" if self.finish is None else "stopped",
            "script_execution": self.outcome,
            "trigger": trigger.get("description"),
            "error": self.error,
            "context": self.context.as_dict(),
        }

    def as_dict(self) -> dict[str, Any]:
        data = self.summary()
        data["trigger_variables"] = jsonable(self.trigger)
        data["variables"] = jsonable(self.variables)
        data["conditions"] = [
            {"path": path, "result": result, **({"error": error} if error else {})}
            for path, result, error in self.conditions
        ]
        data["steps"] = [
            {**jsonable(step), "timestamp": _iso(step["timestamp"])} for step in self.steps
        ]
        return data


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).astimezone().isoformat()


class StoredTrace:
    """A trace read back from disk: only its JSON."""

    __slots__ = ("data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @property
    def run_id(self) -> str:
        return str(self.data.get("run_id"))

    def summary(self) -> dict[str, Any]:
        keys = ("run_id", "automation_id", "start", "finish", "state", "script_execution")
        return {key: self.data.get(key) for key in (*keys, "trigger", "error", "context")}

    def as_dict(self) -> dict[str, Any]:
        return self.data


class TraceStore:
    """The last N traces of every automation, in memory and (with a path) on disk."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._traces: dict[str, deque[Trace | StoredTrace]] = {}
        self._limits: dict[str, int] = {}
        self.dirty = False
        #: called after each added trace (the owner schedules a save)
        self.on_add: Callable[[], None] | None = None

    def set_limit(self, automation_id: str, stored_traces: int) -> None:
        self._limits[automation_id] = stored_traces
        current = self._traces.get(automation_id)
        if current is not None and current.maxlen != stored_traces:
            self._traces[automation_id] = deque(current, maxlen=stored_traces)

    def add(self, trace: Trace) -> None:
        queue = self._traces.get(trace.automation_id)
        if queue is None:
            limit = self._limits.get(trace.automation_id, DEFAULT_STORED_TRACES)
            queue = self._traces[trace.automation_id] = deque(maxlen=limit)
        queue.append(trace)
        self.dirty = True
        if self.on_add is not None:
            self.on_add()

    def list(self, automation_id: str | None = None) -> list[dict[str, Any]]:
        """Summaries, newest last, of one automation or all."""
        ids = [automation_id] if automation_id is not None else sorted(self._traces)
        return [trace.summary() for key in ids for trace in self._traces.get(key, ())]

    def get(self, automation_id: str, run_id: str) -> dict[str, Any] | None:
        for trace in self._traces.get(automation_id, ()):
            if trace.run_id == run_id:
                return trace.as_dict()
        return None

    def latest(self, automation_id: str) -> dict[str, Any] | None:
        queue = self._traces.get(automation_id)
        return queue[-1].as_dict() if queue else None

    def load(self) -> None:
        """Read saved traces (missing or unreadable files leave the store empty, logged)."""
        if self.path is None or not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("version") != STORE_VERSION:
                raise ValueError(f"unknown version {data.get('version')!r}")
            for automation_id, traces in data["traces"].items():
                limit = self._limits.get(automation_id, DEFAULT_STORED_TRACES)
                queue: deque[Trace | StoredTrace] = deque(maxlen=limit)
                queue.extend(StoredTrace(item) for item in traces)
                self._traces[automation_id] = queue
        except (OSError, ValueError, KeyError, AttributeError) as err:
            _LOGGER.error("Cannot read saved traces from %s: %s", self.path, err)

    def payload(self) -> dict[str, Any]:
        """What :meth:`write` saves: every finished trace. Take it on the event loop (the
        traces change there), then write it from an executor; the store is clean after."""
        self.dirty = False
        return {
            "version": STORE_VERSION,
            "traces": {
                automation_id: [t.as_dict() for t in queue if _finished(t)]
                for automation_id, queue in self._traces.items()
            },
        }

    def write(self, payload: dict[str, Any]) -> None:
        """Write a :meth:`payload` atomically (blocking): a temporary file of its own, renamed
        over the store, so overlapping saves never see each other's half-written file."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".traces-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(json.dumps(payload, ensure_ascii=False))
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def save(self) -> None:
        """Write every finished trace now (blocking; for the shell and tests)."""
        self.write(self.payload())


def _finished(trace: Trace | StoredTrace) -> bool:
    return not isinstance(trace, Trace) or trace.finish is not None
