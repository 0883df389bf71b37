"""Visitor passes in the hub's shared SQL storage: the tables and the blocking reads and writes.

Place in the whole: the persistence under :class:`~.book.PassBook`, which keeps every pass in
memory and calls these functions from an executor (they block). Two tables of this module's own
``MetaData``: ``visitor_passes`` (one row per pass, with its use count and revocation) and
``visitor_pass_uses`` (one row per counted use, for the record). Times are Unix seconds; the
phone is stored only Fernet-encrypted plus masked (see ``registry/protect.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)

from shouwang.core.storage import Storage

METADATA: Final = MetaData()

passes = Table(
    "visitor_passes",
    METADATA,
    Column("id", String(32), primary_key=True),
    Column("visitor_name", String(128), nullable=False),
    Column("phone_enc", Text, nullable=True),
    Column("phone_masked", String(32), nullable=True),
    Column("host_household", String(64), nullable=False, index=True),
    Column("created_by", String(128), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("valid_from", BigInteger, nullable=False),
    Column("valid_until", BigInteger, nullable=False, index=True),
    Column("doors", JSON, nullable=False),
    Column("places", JSON, nullable=False),
    Column("door_groups", JSON, nullable=False),
    Column("plate", String(16), nullable=True),
    Column("max_uses", Integer, nullable=False),
    Column("uses", Integer, nullable=False, default=0),
    Column("revoked_at", Float, nullable=True),
    Column("revoked_by", String(128), nullable=True),
)

uses = Table(
    "visitor_pass_uses",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pass_id", String(32), nullable=False, index=True),
    Column("door_id", String(128), nullable=False),
    Column("used_at", Float, nullable=False),
)


@dataclass(slots=True)
class PassRecord:
    """One pass as stored (and as kept in memory). Only ``uses`` and the revocation change."""

    pass_id: str
    visitor_name: str
    phone_enc: str | None
    phone_masked: str | None
    host_household: str
    created_by: str | None
    created_at: float
    valid_from: int
    valid_until: int
    doors: tuple[str, ...]
    places: tuple[str, ...]
    door_groups: tuple[str, ...]
    plate: str | None
    max_uses: int
    uses: int = 0
    revoked_at: float | None = None
    revoked_by: str | None = None

    def row(self) -> dict[str, Any]:
        return {
            "id": self.pass_id,
            "visitor_name": self.visitor_name,
            "phone_enc": self.phone_enc,
            "phone_masked": self.phone_masked,
            "host_household": self.host_household,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
            "doors": list(self.doors),
            "places": list(self.places),
            "door_groups": list(self.door_groups),
            "plate": self.plate,
            "max_uses": self.max_uses,
            "uses": self.uses,
            "revoked_at": self.revoked_at,
            "revoked_by": self.revoked_by,
        }


def open_tables(storage: Storage) -> None:
    storage.create_tables(METADATA)


def purge(storage: Storage, ended_before: float) -> int:
    """Delete passes (and their uses) whose window ended before ``ended_before``; how many."""
    with storage.transaction() as conn:
        old = select(passes.c.id).where(passes.c.valid_until < ended_before)
        conn.execute(delete(uses).where(uses.c.pass_id.in_(old)))
        return conn.execute(delete(passes).where(passes.c.valid_until < ended_before)).rowcount


def load_all(storage: Storage) -> list[PassRecord]:
    with storage.transaction() as conn:
        return [
            PassRecord(
                row.id, row.visitor_name, row.phone_enc, row.phone_masked, row.host_household,
                row.created_by, row.created_at, row.valid_from, row.valid_until,
                tuple(row.doors), tuple(row.places), tuple(row.door_groups), row.plate,
                row.max_uses, row.uses, row.revoked_at, row.revoked_by,
            )
            for row in conn.execute(select(passes))
        ]  # fmt: skip


def insert_pass(storage: Storage, record: PassRecord) -> None:
    with storage.transaction() as conn:
        conn.execute(insert(passes), [record.row()])


def save_revocation(storage: Storage, pass_id: str, at: float, by: str | None) -> None:
    with storage.transaction() as conn:
        conn.execute(
            update(passes).where(passes.c.id == pass_id).values(revoked_at=at, revoked_by=by)
        )


def save_use(storage: Storage, pass_id: str, door_id: str, at: float, count: int) -> None:
    """Record a use and the pass's new use count (absolute: the count in memory is the truth)."""
    with storage.transaction() as conn:
        conn.execute(insert(uses), [{"pass_id": pass_id, "door_id": door_id, "used_at": at}])
        conn.execute(update(passes).where(passes.c.id == pass_id).values(uses=count))


def uses_of(storage: Storage, pass_id: str) -> list[tuple[str, float]]:
    """The recorded uses of a pass: (door id, Unix time), oldest first."""
    with storage.transaction() as conn:
        rows = conn.execute(
            select(uses.c.door_id, uses.c.used_at)
            .where(uses.c.pass_id == pass_id)
            .order_by(uses.c.used_at, uses.c.id)
        )
        return [(row.door_id, row.used_at) for row in rows]
