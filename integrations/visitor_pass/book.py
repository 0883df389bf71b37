"""The pass book: every visitor pass in memory, the gate-side decision, uses and revocations.

Place in the whole: the ``visitor_pass`` integration's runtime object
(``hub.integrations.runtime("visitor_pass")``). Access control asks :meth:`PassBook.validate`
for every QR credential (no I/O: the token's signature and claims, plus in-memory use counts
and revocations) and calls :meth:`PassBook.consume` when the door actually opens. Creation and
revocation are awaited writes; uses are written in the background, one write at a time, and
the hub waits for them on stop. The services (``services.py``) are a thin layer over this.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from shouwang.core.events import Context
from shouwang.core.storage import Storage
from shouwang.integrations.registry.protect import Protector, mask_phone

from . import model, qr
from .check import (
    EXPIRED,
    OK,
    REVOKED,
    UNKNOWN_PASS,
    DoorGroups,
    DoorMatcher,
    DoorPlaces,
    PassCheck,
    check_claims,
)
from .model import PassRecord
from .tokens import Claims, Signer, TokenError

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

EVENT_USED: Final = "visitor_pass_used"
EVENT_DENIED: Final = "visitor_pass_denied"
EVENT_CREATED: Final = "visitor_pass_created"
EVENT_REVOKED: Final = "visitor_pass_revoked"

#: list statuses, in the order they take precedence
STATUSES: Final = ("revoked", "used", "expired", "pending", "valid")


@dataclass(frozen=True, slots=True)
class NewPass:
    """What a new pass needs; validated and defaulted by the service layer."""

    visitor_name: str
    phone: str | None
    host_household: str
    created_by: str | None
    valid_from: int
    valid_until: int
    doors: tuple[str, ...]
    places: tuple[str, ...]
    door_groups: tuple[str, ...]
    plate: str | None
    max_uses: int


def _epoch(now: datetime) -> float:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.timestamp()


class PassBook:
    """All passes of the community, the signer, and the gate-side check."""

    def __init__(
        self,
        hub: Hub,
        storage: Storage,
        protector: Protector,
        signer: Signer,
        records: Iterable[PassRecord] = (),
    ) -> None:
        self.hub = hub
        self.storage = storage
        self.protector = protector
        self.signer = signer
        self.doors = DoorMatcher(hub.places)
        #: set by the API: the household a user may act for (None = staff, unrestricted)
        self.user_household: Callable[[str], str | None] | None = None
        self._records: dict[str, PassRecord] = {r.pass_id: r for r in records}
        self._write_lock = asyncio.Lock()
        self._writes: set[asyncio.Task[None]] = set()

    # -- the gate side (no I/O) -------------------------------------------------------------
    def set_door_groups(self, door_groups: DoorGroups | None) -> None:
        """Let passes that name door groups open the doors of those groups: ``door_groups``
        answers which groups a door id is in (the access-control integration provides it)."""
        self.doors.door_groups = door_groups

    def set_door_places(self, door_places: DoorPlaces | None) -> None:
        """Let passes whose route names places open the doors standing there: ``door_places``
        answers where a door id stands (the access-control integration provides it)."""
        self.doors.door_places = door_places

    def validate(
        self, token: str, door_id: str, now: datetime, *, announce: bool = True
    ) -> PassCheck:
        """Whether ``token`` opens ``door_id`` at ``now``, with the reason. Counts nothing.

        A denial fires ``visitor_pass_denied`` (reason, door, and what is known of the pass)
        unless ``announce`` is false, so repeated denials reach automations however the token
        was presented."""
        try:
            claims = self.signer.verify(token)
        except TokenError as err:
            result = PassCheck(False, err.reason)
        else:
            result = self._check(claims, door_id, _epoch(now))
        if not result.ok and announce:
            self._fire_denied(result, door_id)
        return result

    def _check(self, claims: Claims, door_id: str, now: float) -> PassCheck:
        record = self._records.get(claims.pass_id)
        if record is None:
            return PassCheck(False, UNKNOWN_PASS, claims.pass_id, claims.host_household)
        reason = check_claims(
            claims,
            door_id,
            now,
            uses=record.uses,
            revoked=record.revoked_at is not None,
            doors=self.doors,
        )
        return PassCheck(
            reason == OK, reason, record.pass_id, record.host_household, record.visitor_name
        )

    def consume(self, pass_id: str, door_id: str, now: datetime) -> None:
        """Count one use of a pass at a door (after :meth:`validate` said ``ok`` and the door
        opened): fires ``visitor_pass_used`` and writes the use in the background."""
        record = self._records.get(pass_id)
        if record is None:
            raise KeyError(f"unknown visitor pass {pass_id!r}")
        at = _epoch(now)
        record.uses += 1
        self.hub.bus.fire(
            EVENT_USED,
            {
                "pass_id": pass_id,
                "door_id": door_id,
                "host_household": record.host_household,
                "visitor_name": record.visitor_name,
                "plate": record.plate,
                "uses": record.uses,
                "max_uses": record.max_uses,
                "remaining": max(record.max_uses - record.uses, 0),
            },
        )
        self._background(self._write(model.save_use, pass_id, door_id, at, record.uses))

    def _fire_denied(self, result: PassCheck, door_id: str) -> None:
        self.hub.bus.fire(
            EVENT_DENIED,
            {
                "reason": result.reason,
                "door_id": door_id,
                "pass_id": result.pass_id,
                "host_household": result.host_household,
                "visitor_name": result.visitor_name,
            },
        )

    def revocation_list(self) -> frozenset[str]:
        """Ids of revoked passes: what an offline gate needs beside the key."""
        return frozenset(r.pass_id for r in self._records.values() if r.revoked_at is not None)

    # -- passes -----------------------------------------------------------------------------
    def get(self, pass_id: str) -> PassRecord | None:
        return self._records.get(pass_id)

    def claims(self, record: PassRecord) -> Claims:
        return Claims(
            record.pass_id,
            record.host_household,
            record.doors,
            record.places,
            record.door_groups,
            record.valid_from,
            record.valid_until,
            record.max_uses,
            record.plate,
        )

    def token(self, record: PassRecord) -> str:
        """The pass's token (HS256 is deterministic: the same token every time)."""
        return self.signer.sign(self.claims(record))

    async def create(self, new: NewPass, context: Context | None = None) -> PassRecord:
        """Store a new pass and announce it (``visitor_pass_created``, without personal data)."""
        pass_id = secrets.token_urlsafe(6)
        while pass_id in self._records:
            pass_id = secrets.token_urlsafe(6)
        record = PassRecord(
            pass_id=pass_id,
            visitor_name=new.visitor_name,
            phone_enc=self.protector.encrypt(new.phone) if new.phone else None,
            phone_masked=mask_phone(new.phone) if new.phone else None,
            host_household=new.host_household,
            created_by=new.created_by,
            created_at=self.hub.clock.time(),
            valid_from=new.valid_from,
            valid_until=new.valid_until,
            doors=new.doors,
            places=new.places,
            door_groups=new.door_groups,
            plate=new.plate,
            max_uses=new.max_uses,
        )
        await self._write(model.insert_pass, record)
        self._records[pass_id] = record
        self.hub.bus.fire(
            EVENT_CREATED,
            {"pass_id": pass_id, "host_household": record.host_household},
            context,
        )
        return record

    async def revoke(
        self, pass_id: str, by: str | None = None, context: Context | None = None
    ) -> PassRecord:
        """Revoke a pass (again: no change). :class:`KeyError` if there is no such pass."""
        record = self._records[pass_id]
        if record.revoked_at is not None:
            return record
        at = self.hub.clock.time()
        await self._write(model.save_revocation, pass_id, at, by)
        record.revoked_at, record.revoked_by = at, by
        self.hub.bus.fire(
            EVENT_REVOKED, {"pass_id": pass_id, "host_household": record.host_household}, context
        )
        return record

    def status(self, record: PassRecord, now: float) -> str:
        """``revoked``, ``used`` (no uses left), ``expired``, ``pending`` (not yet valid) or
        ``valid``; the first that applies."""
        if record.revoked_at is not None:
            return REVOKED
        if record.uses >= record.max_uses:
            return "used"
        if now >= record.valid_until:
            return EXPIRED
        if now < record.valid_from:
            return "pending"
        return "valid"

    def passes(
        self, *, statuses: Iterable[str] | None = None, household: str | None = None
    ) -> list[PassRecord]:
        """Passes, newest first, filtered by status (now, on the hub clock) and household."""
        now = self.hub.clock.time()
        wanted = set(statuses) if statuses is not None else None
        found = [
            record
            for record in self._records.values()
            if (household is None or record.host_household == household)
            and (wanted is None or self.status(record, now) in wanted)
        ]
        found.sort(key=lambda r: (r.created_at, r.pass_id), reverse=True)
        return found

    def describe(self, record: PassRecord, *, with_qr: bool = False) -> dict[str, Any]:
        """A pass as services and the API show it: masked phone, ISO times, token and link."""
        token = self.token(record)
        tz = self.hub.config.tzinfo

        def iso(seconds: float | None) -> str | None:
            if seconds is None:
                return None
            return datetime.fromtimestamp(seconds, UTC).astimezone(tz).isoformat()

        data: dict[str, Any] = {
            "pass_id": record.pass_id,
            "visitor_name": record.visitor_name,
            "phone": record.phone_masked,
            "host_household": record.host_household,
            "created_by": record.created_by,
            "created_at": iso(record.created_at),
            "valid_from": iso(record.valid_from),
            "valid_until": iso(record.valid_until),
            "doors": list(record.doors),
            "places": list(record.places),
            "door_groups": list(record.door_groups),
            "plate": record.plate,
            "max_uses": record.max_uses,
            "uses": record.uses,
            "status": self.status(record, self.hub.clock.time()),
            "revoked_at": iso(record.revoked_at),
            "revoked_by": record.revoked_by,
            "token": token,
            "link": qr.link(token),
        }
        if with_qr:
            data["qr_svg"] = qr.svg_data_url(token)
        return data

    # -- persistence ------------------------------------------------------------------------
    async def _write(self, work: Callable[..., None], *args: Any) -> None:
        """Run one blocking write in the executor; writes happen one at a time, in order."""
        async with self._write_lock:
            await self.hub.loop.run_in_executor(None, work, self.storage, *args)

    def _background(self, write: Any) -> None:
        task: asyncio.Task[None] = self.hub.create_task(write, "visitor_pass write")
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def flush(self) -> None:
        """Wait until every background write has finished."""
        while self._writes:
            await asyncio.wait(list(self._writes))

    async def close(self) -> None:
        """Finish the writes and release the storage (the hub calls this on stop)."""
        await self.flush()
        await self.hub.loop.run_in_executor(None, self.storage.close)
