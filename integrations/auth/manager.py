"""The auth runtime: accounts, password checks, login codes, access/refresh/long-lived tokens.

Users and token rows are kept in memory (a community has hundreds of accounts, not millions)
and written through to the shared storage from an executor. Access tokens are JWT (HS256,
PyJWT), 30 minutes, signed with the key of the token row they were issued under (``iss``);
validating one means finding that row, so revoking the row (or disabling the user) ends every
access token at once. Expiry is checked against the hub clock, never the machine's.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .model import KIND_LONG_LIVED, KIND_REFRESH, AuthStore, TokenRecord, UserRecord
from .policy import ROLES, Role, Scope, User
from .throttle import LoginThrottle

if TYPE_CHECKING:
    from shouwang.core.events import Event
    from shouwang.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

ACCESS_TOKEN_LIFETIME: Final = 30 * 60.0
#: how often (real seconds) the hub re-reads the tables, to see what `shouwang auth` changed
SYNC_INTERVAL: Final = 30.0
AUTH_CODE_LIFETIME: Final = 10 * 60.0
LONG_LIVED_DAYS: Final = 3650
#: access tokens whose signature has been checked, remembered (see ``authenticate``)
VERIFIED_CACHE_SIZE: Final = 10_000
MIN_PASSWORD_LENGTH: Final = 8
MAX_PASSWORD_LENGTH: Final = 1024
_ALGORITHM: Final = "HS256"
_HASHER: Final = PasswordHasher()
# verified against when the username is unknown, so both cases cost the same time
_DUMMY_HASH: Final = _HASHER.hash(secrets.token_urlsafe(16))


class AuthError(Exception):
    """A refused auth operation; the message is safe to show to the client."""


class InvalidLogin(AuthError):
    """Wrong username or password (which one is not said)."""


class LoginLocked(AuthError):
    """Too many failed logins for this username from this address."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("too many failed logins; try again later")
        self.retry_after = retry_after


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (blocking, ~50 ms)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AuthError(f"password must have at most {MAX_PASSWORD_LENGTH} characters")
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches (blocking); constant work when there is no hash."""
    if len(password) > MAX_PASSWORD_LENGTH:
        password = ""  # still verified (against nothing), so the time taken says nothing
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_user_record(
    name: str, role: str, households: Iterable[str], password_hash: str | None, now: float
) -> UserRecord:
    """Validate and build a new account (shared by the hub and the CLI)."""
    name = name.strip()
    if not name or len(name) > 64:
        raise AuthError("user name must have 1 to 64 characters")
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    household_set = frozenset(h.strip() for h in households if h.strip())
    if role == Role.RESIDENT and not household_set:
        raise AuthError("a resident needs at least one household")
    if role != Role.RESIDENT and household_set:
        raise AuthError("only residents are bound to households")
    return UserRecord(uuid.uuid4().hex, name, role, household_set, password_hash, True, now)


def new_token_record(
    user_id: str,
    kind: str,
    now: float,
    *,
    client_id: str | None = None,
    name: str | None = None,
    lifespan_days: float = LONG_LIVED_DAYS,
) -> tuple[TokenRecord, str | None]:
    """A token row and, for refresh tokens, the opaque refresh token (shown once)."""
    refresh = secrets.token_urlsafe(48) if kind == KIND_REFRESH else None
    record = TokenRecord(
        id=uuid.uuid4().hex,
        user_id=user_id,
        kind=kind,
        token_hash=token_hash(refresh) if refresh else None,
        jwt_key=secrets.token_hex(32),
        client_id=client_id,
        name=name,
        created_at=now,
        expires_at=now + lifespan_days * 86400 if kind == KIND_LONG_LIVED else None,
    )
    return record, refresh


def encode_access_token(record: TokenRecord, now: float) -> str:
    """An access token under ``record``: 30 minutes, or the long-lived token's whole life."""
    expires = record.expires_at if record.kind == KIND_LONG_LIVED else None
    payload = {
        "iss": record.id,
        "iat": int(now),
        "exp": int(expires if expires is not None else now + ACCESS_TOKEN_LIFETIME),
    }
    return jwt.encode(payload, record.jwt_key, algorithm=_ALGORITHM)


@dataclass(frozen=True, slots=True)
class _AuthCode:
    client_id: str
    user_id: str
    expires: float


class AuthManager:
    """``hub.integrations.runtime("auth")``: accounts, tokens, login and per-user scopes."""

    def __init__(
        self,
        hub: Hub,
        store: AuthStore,
        users: dict[str, UserRecord],
        tokens: dict[str, TokenRecord],
    ) -> None:
        self.hub = hub
        self.store = store
        self._users = users
        self._tokens = tokens
        self._by_hash = {t.token_hash: t.id for t in tokens.values() if t.token_hash}
        self._codes: dict[str, _AuthCode] = {}
        self._revoke_listeners: list[Callable[[str], None]] = []
        self.throttle = LoginThrottle(hub.clock)
        self._writes = 0
        self._syncing = False
        self._verified: dict[str, tuple[str, float]] = {}
        self._any_scope = Scope(hub, User("", "", Role.SERVICE))

    async def _run(self, func: Callable[..., Any], *args: Any) -> Any:
        return await self.hub.loop.run_in_executor(None, func, *args)

    async def _write(self, func: Callable[..., Any], *args: Any) -> None:
        """A database write; counted before and after so a concurrent sync can tell."""
        self._writes += 1
        try:
            await self._run(func, *args)
        finally:
            self._writes += 1

    # -- picking up changes made by `shouwang auth` while the hub runs -----------------------
    def start_sync(self, interval: float = SYNC_INTERVAL) -> Callable[[], None]:
        """Re-read the tables every ``interval`` seconds; returns the canceller.

        Deliberately on the event loop's real clock, not the hub clock: this polls another
        process's writes to a file, which happen in wall time even when the hub plays a
        simulated day at high speed (or a test winds a manual clock forward by a year)."""
        handle: asyncio.TimerHandle | None = None

        def tick() -> None:
            nonlocal handle
            self.hub.create_task(self.sync(), "auth sync")
            handle = self.hub.loop.call_later(interval, tick)

        handle = self.hub.loop.call_later(interval, tick)

        def cancel() -> None:
            if handle is not None:
                handle.cancel()

        return cancel

    async def sync(self) -> None:
        """Adopt the stored users and tokens: new ones appear, and tokens revoked (or users
        disabled or deleted) elsewhere are revoked here too, listeners told."""
        if self._syncing:
            return
        self._syncing = True
        try:
            version = self._writes
            users, tokens = await self._run(self.store.load)
        finally:
            self._syncing = False
        if version != self._writes:
            return  # one of our own writes overlapped the read; the next round is exact
        gone_tokens = [token_id for token_id in self._tokens if token_id not in tokens]
        gone_users = [
            user_id
            for user_id, record in self._users.items()
            if user_id not in users
            or (record.is_active and not users[user_id].is_active)
            or record.password_hash != users[user_id].password_hash
            or (record.role, record.households) != (users[user_id].role, users[user_id].households)
        ]
        self._users = users
        self._tokens = tokens
        self._by_hash = {t.token_hash: t.id for t in tokens.values() if t.token_hash}
        for revoked in [*gone_tokens, *gone_users]:
            self._notify(revoked)

    # -- users ------------------------------------------------------------------------------
    def users(self) -> list[User]:
        return sorted((r.user for r in self._users.values()), key=lambda u: u.name)

    def get_user(self, user_id: str) -> User | None:
        record = self._users.get(user_id)
        return record.user if record is not None else None

    def user_by_name(self, name: str) -> User | None:
        wanted = name.strip().casefold()
        for record in self._users.values():
            if record.name.casefold() == wanted:
                return record.user
        return None

    async def create_user(
        self, name: str, role: str, households: Iterable[str] = (), password: str | None = None
    ) -> User:
        if self.user_by_name(name) is not None:
            raise AuthError(f"a user named {name!r} exists")
        hashed = await self._run(hash_password, password) if password is not None else None
        record = new_user_record(name, role, households, hashed, self.hub.clock.time())
        await self._write(self.store.insert_user, record)
        self._users[record.id] = record
        _LOGGER.info("Created user %s (%s)", record.id, record.role)
        return record.user

    async def set_password(self, user_id: str, password: str) -> None:
        record = self._require_user(user_id)
        hashed = await self._run(hash_password, password)
        await self._save_user(record.with_changes(password_hash=hashed))
        # a new password ends every session of the old one
        await self._revoke_where(lambda t: t.user_id == user_id and t.kind == KIND_REFRESH)
        self._notify(user_id)

    async def set_role(self, user_id: str, role: str, households: Iterable[str] = ()) -> User:
        """Change what a user is; their live connections are told (they reconnect with the new
        scope)."""
        record = self._require_user(user_id)
        checked = new_user_record(record.name, role, households, None, record.created_at)
        if role != Role.ADMIN:
            self._keep_an_admin(user_id)
        await self._save_user(record.with_changes(role=checked.role, households=checked.households))
        self._notify(user_id)
        return self._users[user_id].user

    async def set_active(self, user_id: str, active: bool) -> None:
        record = self._require_user(user_id)
        if not active:
            self._keep_an_admin(user_id)
        await self._save_user(record.with_changes(is_active=active))
        if not active:
            self._notify(user_id)

    async def delete_user(self, user_id: str) -> None:
        self._require_user(user_id)
        self._keep_an_admin(user_id)
        await self._write(self.store.delete_user, user_id)
        del self._users[user_id]
        for token_id in [t.id for t in self._tokens.values() if t.user_id == user_id]:
            self._forget_token(token_id)
            self._notify(token_id)
        self._notify(user_id)

    def _keep_an_admin(self, user_id: str) -> None:
        """Refuse to demote, disable or delete the last active admin (nobody could manage
        accounts afterwards except from the shell)."""
        record = self._users[user_id]
        if record.role != Role.ADMIN or not record.is_active:
            return
        others = [
            r
            for r in self._users.values()
            if r.role == Role.ADMIN and r.is_active and r.id != user_id
        ]
        if not others:
            raise AuthError("this is the last active admin; make another admin first")

    def _require_user(self, user_id: str) -> UserRecord:
        record = self._users.get(user_id)
        if record is None:
            raise AuthError(f"no user {user_id!r}")
        return record

    async def _save_user(self, record: UserRecord) -> None:
        await self._write(self.store.update_user, record)
        self._users[record.id] = record

    # -- login ------------------------------------------------------------------------------
    async def login(self, username: str, password: str, address: str) -> User:
        """Check a password, subject to the per (username, address) lockout."""
        locked = self.throttle.locked_for(username, address)
        if locked > 0:
            raise LoginLocked(locked)
        record = next(
            (r for r in self._users.values() if r.name.casefold() == username.strip().casefold()),
            None,
        )
        ok = await self._run(verify_password, record.password_hash if record else None, password)
        if not ok or record is None or not record.is_active:
            self.throttle.failed(username, address)
            _LOGGER.warning("Failed login from %s", address)
            raise InvalidLogin("invalid username or password")
        self.throttle.succeeded(username, address)
        return record.user

    def create_auth_code(self, client_id: str, user: User) -> str:
        """A one-time code the client exchanges at ``/auth/token`` (10 minutes)."""
        now = self.hub.clock.time()
        self._codes = {c: v for c, v in self._codes.items() if v.expires > now}
        code = secrets.token_urlsafe(32)
        self._codes[code] = _AuthCode(client_id, user.id, now + AUTH_CODE_LIFETIME)
        return code

    def redeem_auth_code(self, client_id: str, code: str) -> User | None:
        entry = self._codes.pop(code, None)
        if entry is None or entry.client_id != client_id:
            return None
        if entry.expires <= self.hub.clock.time():
            return None
        record = self._users.get(entry.user_id)
        return record.user if record is not None and record.is_active else None

    # -- tokens -----------------------------------------------------------------------------
    async def create_refresh_token(self, user: User, client_id: str | None) -> tuple[str, str]:
        """A new session: (refresh token, first access token)."""
        record, refresh = new_token_record(
            user.id, KIND_REFRESH, self.hub.clock.time(), client_id=client_id
        )
        assert refresh is not None
        await self._write(self.store.insert_token, record)
        self._add_token(record)
        return refresh, encode_access_token(record, self.hub.clock.time())

    async def create_long_lived_token(
        self, user_id: str, name: str, lifespan_days: float = LONG_LIVED_DAYS
    ) -> tuple[str, TokenRecord]:
        """A long-lived access token for an integration or voice hook (shown once)."""
        self._require_user(user_id)
        if any(
            t.user_id == user_id and t.kind == KIND_LONG_LIVED and t.name == name
            for t in self._tokens.values()
        ):
            raise AuthError(f"this user already has a long-lived token named {name!r}")
        record, _ = new_token_record(
            user_id, KIND_LONG_LIVED, self.hub.clock.time(), name=name,
            lifespan_days=lifespan_days,
        )  # fmt: skip
        await self._write(self.store.insert_token, record)
        self._add_token(record)
        return encode_access_token(record, self.hub.clock.time()), record

    def refresh_record(self, refresh_token: str) -> TokenRecord | None:
        token_id = self._by_hash.get(token_hash(refresh_token))
        return self._tokens.get(token_id) if token_id else None

    def access_token_from_refresh(self, refresh_token: str, client_id: str | None) -> str | None:
        """A fresh access token for a valid refresh token of this client."""
        record = self.refresh_record(refresh_token)
        if record is None or record.client_id != client_id:
            return None
        user = self._users.get(record.user_id)
        if user is None or not user.is_active:
            return None
        return encode_access_token(record, self.hub.clock.time())

    def tokens(self, user_id: str | None = None) -> list[TokenRecord]:
        return sorted(
            (t for t in self._tokens.values() if user_id is None or t.user_id == user_id),
            key=lambda t: t.created_at,
        )

    def _token_record_of(self, token: str) -> TokenRecord | None:
        """The row an access token claims to be issued under, if it exists."""
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            return None
        issuer = claims.get("iss")
        return self._tokens.get(issuer) if isinstance(issuer, str) else None

    def token_id_of(self, token: str) -> str | None:
        """The id of the token row a *valid* access token belongs to (for matching revocations)."""
        found = self.authenticate(token)
        return found[1] if found is not None else None

    @staticmethod
    def _check(token: str, record: TokenRecord) -> float | None:
        """The expiry of a token correctly signed under ``record``, else None."""
        try:
            claims = jwt.decode(
                token,
                record.jwt_key,
                algorithms=[_ALGORITHM],
                # expiry is judged on the hub clock by the caller, not on the machine's
                options={"verify_exp": False, "verify_iat": False, "require": ["iss", "exp"]},
            )
        except jwt.InvalidTokenError:
            return None
        exp = claims.get("exp")
        return float(exp) if isinstance(exp, int | float) else None

    def authenticate(self, token: str) -> tuple[User, str] | None:
        """The active user an access token stands for and the id of its token row (what
        :meth:`on_revoke` listeners are told), or None. No I/O: safe on every request.

        A token whose signature was checked once is remembered with its row and expiry, so
        later requests skip the JWT work; the row, the user and the expiry are still checked
        every time, so revocation and disabling take effect at once."""
        known = self._verified.get(token)
        if known is None:
            record = self._token_record_of(token)
            expires = self._check(token, record) if record is not None else None
            if record is None or expires is None:
                return None
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                self._verified.clear()
            known = self._verified[token] = (record.id, expires)
        token_id, expires = known
        record = self._tokens.get(token_id)
        if record is None or expires <= self.hub.clock.time():
            self._verified.pop(token, None)
            return None
        user = self._users.get(record.user_id)
        return (user.user, record.id) if user is not None and user.is_active else None

    async def validate_access_token(self, token: str) -> User | None:
        """The active user an access token (session or long-lived) stands for, or None."""
        found = self.authenticate(token)
        return found[0] if found is not None else None

    async def revoke_token(self, token_id: str) -> bool:
        """Delete a token row (refresh or long-lived); its access tokens stop working now."""
        if token_id not in self._tokens:
            return False
        await self._write(self.store.delete_tokens, [token_id])
        self._forget_token(token_id)
        self._notify(token_id)
        return True

    async def revoke_refresh_token(self, refresh_token: str) -> bool:
        record = self.refresh_record(refresh_token)
        return await self.revoke_token(record.id) if record is not None else False

    async def _revoke_where(self, predicate: Callable[[TokenRecord], bool]) -> None:
        ids = [t.id for t in self._tokens.values() if predicate(t)]
        await self._write(self.store.delete_tokens, ids)
        for token_id in ids:
            self._forget_token(token_id)
            self._notify(token_id)

    def _add_token(self, record: TokenRecord) -> None:
        self._tokens[record.id] = record
        if record.token_hash:
            self._by_hash[record.token_hash] = record.id

    def _forget_token(self, token_id: str) -> None:
        record = self._tokens.pop(token_id, None)
        if record is not None and record.token_hash:
            self._by_hash.pop(record.token_hash, None)

    # -- revocation listeners, scopes -----------------------------------------------------------
    def on_revoke(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call ``callback(id)`` when a token row is revoked (its token id) or a user is
        disabled, deleted or changes password (the user id): live connections authenticated
        under either close. Returns a function that removes the listener."""
        self._revoke_listeners.append(callback)

        def remove() -> None:
            if callback in self._revoke_listeners:
                self._revoke_listeners.remove(callback)

        return remove

    def _notify(self, revoked_id: str) -> None:
        for callback in list(self._revoke_listeners):
            try:
                callback(revoked_id)
            except Exception:
                _LOGGER.exception("Revocation listener %s failed", callback)

    def scope_for(self, user: User) -> Scope:
        return Scope(self.hub, user)

    def households_of_event(self, event: Event) -> set[str]:
        """The households an event is about (see ``Scope.households_of_record``): route an
        event to residents' connections by household instead of asking each one's scope."""
        return self._any_scope.households_of_record(event.data)
