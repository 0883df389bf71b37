"""The persisted call log: one row per intercom call, in the hub's shared SQL storage.

A row is written when a call starts and rewritten when it is answered and when it ends, so a
hub that stops mid-call still has the call. Its own ``MetaData`` (table ``intercom_calls``);
every database touch runs in an executor, one at a time and in order (an ``asyncio.Lock``
is first-come first-served), so a call's start and end rows never race.

Rows are committed in batches, at most one transaction per ``commit_interval`` (as Home
Assistant's recorder does): a storm of guard calls then costs a few writes a second, not one
per call, and the database thread does not compete with the event loop for the interpreter
while the calls are being placed. Reading the log, :meth:`CallLog.flush` and the hub's stop
commit at once, so nothing queued is lost on a clean stop; a crash loses at most the last
interval's rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Index,
    MetaData,
    String,
    Table,
    Text,
    delete,
    desc,
    insert,
    or_,
    select,
    update,
)

from shouwang.core.storage import Storage

from .calls import END_INTERRUPTED, PHASE_ANSWERED, PHASE_ENDED, PHASE_RINGING, Call

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

#: seconds between commits of queued rows (0: commit each batch at once)
DEFAULT_COMMIT_INTERVAL = 1.0

METADATA = MetaData()

calls_table = Table(
    "intercom_calls",
    METADATA,
    Column("call_id", String(40), primary_key=True),
    Column("caller", String(120)),
    Column("target", String(120), nullable=False),
    Column("household", String(64)),
    Column("stations", Text, nullable=False),  # JSON list of entity ids
    Column("phase", String(16), nullable=False),
    Column("message", Text),
    Column("snapshot_url", Text),
    Column("reason", String(120)),
    Column("started", DateTime(timezone=True), nullable=False),
    Column("answered_by", String(120)),
    Column("answered_at", DateTime(timezone=True)),
    Column("ended_at", DateTime(timezone=True)),
    Column("end_reason", String(16)),
    Column("duration", Float, nullable=False, default=0.0),
    Column("unlocked_by", Text, nullable=False),  # JSON list
    Index("ix_intercom_calls_started", "started"),
    Index("ix_intercom_calls_household", "household"),
)


@dataclass(frozen=True, slots=True)
class CallRecord:
    """A call as the log keeps it."""

    call_id: str
    caller: str | None
    target: str
    household: str | None
    stations: tuple[str, ...]
    phase: str
    message: str | None
    snapshot_url: str | None
    reason: str | None
    started: datetime
    answered_by: str | None
    answered_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    duration: float
    unlocked_by: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "caller": self.caller,
            "target": self.target,
            "household": self.household,
            "stations": list(self.stations),
            "phase": self.phase,
            "message": self.message,
            "snapshot_url": self.snapshot_url,
            "reason": self.reason,
            "started": self.started.isoformat(),
            "answered_by": self.answered_by,
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "end_reason": self.end_reason,
            "duration": self.duration,
            "unlocked_by": list(self.unlocked_by),
        }


def _row_values(call: Call) -> dict[str, Any]:
    return {
        "caller": call.caller,
        "target": call.target,
        "household": call.household,
        "stations": json.dumps(call.stations),
        "phase": call.phase,
        "message": call.message,
        "snapshot_url": call.snapshot_url,
        "reason": call.reason,
        "started": call.started,
        "answered_by": call.answered_by,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "end_reason": call.end_reason,
        "duration": call.talk_seconds(),
        "unlocked_by": json.dumps(call.unlocked_by),
    }


def _aware(value: datetime | None) -> datetime | None:
    # SQLite gives naive datetimes back; they were written in UTC
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _record(row: Any) -> CallRecord:
    started = _aware(row.started)
    assert started is not None
    return CallRecord(
        call_id=row.call_id,
        caller=row.caller,
        target=row.target,
        household=row.household,
        stations=tuple(json.loads(row.stations)),
        phase=row.phase,
        message=row.message,
        snapshot_url=row.snapshot_url,
        reason=row.reason,
        started=started,
        answered_by=row.answered_by,
        answered_at=_aware(row.answered_at),
        ended_at=_aware(row.ended_at),
        end_reason=row.end_reason,
        duration=row.duration,
        unlocked_by=tuple(json.loads(row.unlocked_by)),
    )


class CallLog:
    """Writes and reads the ``intercom_calls`` table from an executor."""

    def __init__(
        self,
        storage: Storage,
        loop: asyncio.AbstractEventLoop,
        *,
        commit_interval: float = DEFAULT_COMMIT_INTERVAL,
    ) -> None:
        self.storage = storage
        self.commit_interval = commit_interval
        self._loop = loop
        self._lock = asyncio.Lock()
        self._queued: dict[str, dict[str, Any]] = {}
        self._writer: asyncio.Task[None] | None = None
        self._commit_now = asyncio.Event()  # a flush is waiting: commit without delay
        self._flushing = 0
        #: transactions committed (for tests and benchmarks)
        self.commits = 0

    async def _run(self, work: Callable[[], _T]) -> _T:
        async with self._lock:
            return await self._loop.run_in_executor(None, work)

    async def prepare(self, now: datetime) -> int:
        """Create the table; calls a previous run left ringing or answered (the hub stopped
        mid-call) are closed as ``interrupted`` at ``now``. Returns how many."""

        def work() -> int:
            self.storage.create_tables(METADATA)
            open_calls = calls_table.c.phase.in_([PHASE_RINGING, PHASE_ANSWERED])
            with self.storage.transaction() as conn:
                result = conn.execute(
                    update(calls_table)
                    .where(open_calls)
                    .values(phase=PHASE_ENDED, end_reason=END_INTERRUPTED, ended_at=now)
                )
                return int(result.rowcount or 0)

        return await self._run(work)

    def save(self, call: Call) -> None:
        """Queue the row of ``call`` (as it is now) for the next commit; the latest state of
        each call wins."""
        self._queued[call.call_id] = {"call_id": call.call_id, **_row_values(call)}
        if self._writer is None or self._writer.done():
            self._writer = self._loop.create_task(self._write_queued())

    async def _write_queued(self) -> None:
        while self._queued:
            if self.commit_interval > 0 and not self._flushing:
                self._commit_now.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.commit_interval):
                        await self._commit_now.wait()
            batch, self._queued = self._queued, {}
            try:
                await self._run(partial(self._write_batch, list(batch.values())))
            except Exception:
                _LOGGER.exception("Intercom call log: cannot write %d call(s)", len(batch))

    def _write_batch(self, rows: list[dict[str, Any]]) -> None:
        ids = [row["call_id"] for row in rows]
        with self.storage.transaction() as conn:
            conn.execute(delete(calls_table).where(calls_table.c.call_id.in_(ids)))
            conn.execute(insert(calls_table), rows)
        self.commits += 1

    async def flush(self) -> None:
        """Commit every queued row now and wait until it is written."""
        self._flushing += 1
        try:
            while self._writer is not None and not self._writer.done():
                self._commit_now.set()
                await asyncio.shield(self._writer)
        finally:
            self._flushing -= 1

    async def recent(
        self,
        *,
        limit: int = 50,
        station: str | None = None,
        household: str | None = None,
        phase: str | None = None,
    ) -> list[CallRecord]:
        """The newest calls first, optionally those of one station (as caller, rung or
        answering), one household, or one phase (``missed`` …)."""

        def read() -> list[CallRecord]:
            query = select(calls_table).order_by(desc(calls_table.c.started)).limit(limit)
            if household is not None:
                query = query.where(calls_table.c.household == household)
            if phase is not None:
                query = query.where(calls_table.c.phase == phase)
            if station is not None:
                query = query.where(
                    or_(
                        calls_table.c.caller == station,
                        calls_table.c.answered_by == station,
                        calls_table.c.stations.contains(json.dumps(station)),
                    )
                )
            with self.storage.transaction() as conn:
                return [_record(row) for row in conn.execute(query)]

        return await self._run(read)
