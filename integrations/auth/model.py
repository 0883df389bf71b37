"""The auth tables (users, tokens) in the hub's shared storage, and the blocking code that reads
and writes them. :class:`~.manager.AuthManager` runs these in an executor; the ``shouwang auth``
command calls them directly (no hub running).

Secrets at rest: passwords only as argon2 hashes; refresh tokens only as SHA-256 hashes (they
are 384 random bits, so a fast hash is enough); each token row keeps the random key its access
tokens are signed with, so deleting the row revokes every access token issued under it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from sqlalchemy import Boolean, Column, Float, MetaData, String, Table, delete, insert, select
from sqlalchemy import update as sql_update

from shouwang.core.storage import Storage

from .policy import User

METADATA: Final = MetaData()

users = Table(
    "auth_users",
    METADATA,
    Column("id", String(32), primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("households", String(2048), nullable=False, default=""),
    Column("password_hash", String(256), nullable=True),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("created_at", Float, nullable=False),
)

tokens = Table(
    "auth_tokens",
    METADATA,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(32), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("token_hash", String(64), nullable=True, unique=True),
    Column("jwt_key", String(128), nullable=False),
    Column("client_id", String(256), nullable=True),
    Column("name", String(128), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=True),
)

#: a refresh token from the login flow (access tokens live 30 minutes)
KIND_REFRESH: Final = "refresh"
#: a long-lived access token for an integration or a voice hook (listable, revocable)
KIND_LONG_LIVED: Final = "long_lived"


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: str
    name: str
    role: str
    households: frozenset[str]
    password_hash: str | None
    is_active: bool
    created_at: float

    @property
    def user(self) -> User:
        return User(self.id, self.name, self.role, self.households, self.is_active)

    def with_changes(self, **changes: object) -> UserRecord:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class TokenRecord:
    id: str
    user_id: str
    kind: str
    token_hash: str | None
    jwt_key: str
    client_id: str | None
    name: str | None
    created_at: float
    expires_at: float | None

    def public(self) -> dict[str, object]:
        """What listing shows (no hash, no key)."""
        return {
            "id": self.id,
            "user_id": self.user_id,
            "type": self.kind,
            "client_id": self.client_id,
            "name": self.name,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
        }


class AuthStore:
    """Blocking reads and writes of the auth tables (run from an executor on the hub)."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        storage.create_tables(METADATA)

    def load(self) -> tuple[dict[str, UserRecord], dict[str, TokenRecord]]:
        with self.storage.transaction() as conn:
            user_rows = conn.execute(select(users)).all()
            token_rows = conn.execute(select(tokens)).all()
        loaded_users = {
            row.id: UserRecord(
                row.id, row.name, row.role,
                frozenset(h for h in row.households.split(";") if h),
                row.password_hash, bool(row.is_active), row.created_at,
            )
            for row in user_rows
        }  # fmt: skip
        loaded_tokens = {
            row.id: TokenRecord(
                row.id, row.user_id, row.kind, row.token_hash, row.jwt_key, row.client_id,
                row.name, row.created_at, row.expires_at,
            )
            for row in token_rows
        }  # fmt: skip
        return loaded_users, loaded_tokens

    @staticmethod
    def _user_values(record: UserRecord) -> dict[str, object]:
        return {
            "id": record.id,
            "name": record.name,
            "role": record.role,
            "households": ";".join(sorted(record.households)),
            "password_hash": record.password_hash,
            "is_active": record.is_active,
            "created_at": record.created_at,
        }

    def insert_user(self, record: UserRecord) -> None:
        with self.storage.transaction() as conn:
            conn.execute(insert(users).values(**self._user_values(record)))

    def update_user(self, record: UserRecord) -> None:
        values = self._user_values(record)
        del values["id"]
        with self.storage.transaction() as conn:
            conn.execute(sql_update(users).where(users.c.id == record.id).values(**values))

    def delete_user(self, user_id: str) -> None:
        with self.storage.transaction() as conn:
            conn.execute(delete(tokens).where(tokens.c.user_id == user_id))
            conn.execute(delete(users).where(users.c.id == user_id))

    def insert_token(self, record: TokenRecord) -> None:
        with self.storage.transaction() as conn:
            conn.execute(
                insert(tokens).values(
                    id=record.id, user_id=record.user_id, kind=record.kind,
                    token_hash=record.token_hash, jwt_key=record.jwt_key,
                    client_id=record.client_id, name=record.name,
                    created_at=record.created_at, expires_at=record.expires_at,
                )
            )  # fmt: skip

    def delete_tokens(self, token_ids: list[str]) -> None:
        if not token_ids:
            return
        with self.storage.transaction() as conn:
            conn.execute(delete(tokens).where(tokens.c.id.in_(token_ids)))
