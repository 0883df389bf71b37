"""``shouwang auth …``: accounts and tokens for operators, straight on a config directory's
storage (the hub need not run; a running hub picks the changes up within its sync interval).

``create-user NAME --role ROLE [--household ID]... [--password-file F | --no-password]`` (else
the password is asked twice on the terminal); ``list-users``; ``create-token USER [--name N]
[--days D]`` prints a long-lived access token once; ``list-tokens [--user U]``;
``revoke-token ID``; ``set-password USER``, ``set-role USER --role R [--household H]...``,
``disable-user USER``, ``enable-user USER``. Passwords and tokens are never printed except the
new token itself.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import inspect, select

from . import open_store
from .manager import (
    AuthError,
    encode_access_token,
    hash_password,
    new_token_record,
    new_user_record,
)
from .model import KIND_LONG_LIVED, AuthStore, UserRecord


def _read_password(args: argparse.Namespace) -> str | None:
    if getattr(args, "no_password", False):
        return None
    if args.password_file is not None:
        lines = args.password_file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise AuthError("the passwords differ")
    return first


def _unknown_households(store: AuthStore, households: Iterable[str]) -> list[str]:
    """Households not in the registry (only checked when the registry has any)."""
    engine = store.storage.engine
    if not inspect(engine).has_table("registry_households"):
        return []
    from shouwang.integrations.registry import model as registry_model

    with store.storage.transaction() as conn:
        known = set(conn.scalars(select(registry_model.households.c.id)))
    if not known:
        return []
    return sorted(h for h in households if h not in known)


def _find_user(users: dict[str, UserRecord], name_or_id: str) -> UserRecord:
    if name_or_id in users:
        return users[name_or_id]
    for record in users.values():
        if record.name.casefold() == name_or_id.casefold():
            return record
    raise AuthError(f"no user {name_or_id!r}")


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def run(args: argparse.Namespace) -> int:
    """Run a parsed ``auth`` command; returns the exit code."""
    store = open_store(args.config, args.db_url)
    try:
        return _run(store, args)
    except (AuthError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        store.storage.close()


def _run(store: AuthStore, args: argparse.Namespace) -> int:
    users, tokens = store.load()
    command = args.auth_command
    if command == "create-user":
        if any(r.name.casefold() == args.name.strip().casefold() for r in users.values()):
            raise AuthError(f"a user named {args.name!r} exists")
        if unknown := _unknown_households(store, args.household):
            raise AuthError(f"unknown household(s) in the registry: {', '.join(unknown)}")
        # validate name/role/households before asking for a password
        new_user_record(args.name, args.role, args.household, None, time.time())
        password = _read_password(args)
        hashed = hash_password(password) if password is not None else None
        created = new_user_record(args.name, args.role, args.household, hashed, time.time())
        store.insert_user(created)
        print(f"created {created.role} {created.name} (id {created.id})")
        return 0
    if command == "list-users":
        for account in sorted(users.values(), key=lambda r: r.name):
            households = ",".join(sorted(account.households)) or "-"
            state = "active" if account.is_active else "disabled"
            print(f"{account.id}  {account.name}  {account.role}  {households}  {state}")
        return 0
    if command == "create-token":
        user = _find_user(users, args.user)
        name = args.name or f"token {datetime.now(UTC):%Y-%m-%d %H:%M}"
        if any(
            t.user_id == user.id and t.kind == KIND_LONG_LIVED and t.name == name
            for t in tokens.values()
        ):
            raise AuthError(f"{user.name} already has a long-lived token named {name!r}")
        if args.days <= 0:
            raise AuthError("--days must be positive")
        now = time.time()
        token, _ = new_token_record(
            user.id, KIND_LONG_LIVED, now, name=name, lifespan_days=args.days
        )
        store.insert_token(token)
        print(encode_access_token(token, now))
        print(f"long-lived token {token.id} for {user.name}: {name}", file=sys.stderr)
        return 0
    if command == "list-tokens":
        wanted = _find_user(users, args.user).id if args.user else None
        for row in sorted(tokens.values(), key=lambda t: t.created_at):
            if wanted is not None and row.user_id != wanted:
                continue
            owner = users[row.user_id].name if row.user_id in users else row.user_id
            label = row.name or row.client_id or "-"
            print(
                f"{row.id}  {owner}  {row.kind}  {label}  "
                f"created {_when(row.created_at)}  expires {_when(row.expires_at)}"
            )
        return 0
    if command == "revoke-token":
        if args.token_id not in tokens:
            raise AuthError(f"no token {args.token_id!r}")
        store.delete_tokens([args.token_id])
        print(f"revoked {args.token_id}")
        return 0
    if command in ("set-password", "set-role", "disable-user", "enable-user"):
        record = _find_user(users, args.user)
        if command == "set-password":
            password = _read_password(args)
            record = record.with_changes(password_hash=hash_password(password or ""))
            # the hub sees the new hash on its next sync and ends the old sessions
            store.delete_tokens([t.id for t in tokens.values() if t.user_id == record.id
                                 and t.kind != KIND_LONG_LIVED])  # fmt: skip
        elif command == "set-role":
            if unknown := _unknown_households(store, args.household):
                raise AuthError(f"unknown household(s) in the registry: {', '.join(unknown)}")
            checked = new_user_record(record.name, args.role, args.household, None, 0.0)
            if record.role == "admin" and args.role != "admin":
                _keep_an_admin(users, record)
            record = record.with_changes(role=checked.role, households=checked.households)
        else:
            if command == "disable-user":
                _keep_an_admin(users, record)
            record = record.with_changes(is_active=command == "enable-user")
        store.update_user(record)
        households = ",".join(sorted(record.households)) or "-"
        state = "active" if record.is_active else "disabled"
        print(f"{record.name}: {record.role}  {households}  {state}")
        return 0
    raise AuthError(f"unknown command {command!r}")


def _keep_an_admin(users: dict[str, UserRecord], record: UserRecord) -> None:
    if record.role != "admin" or not record.is_active:
        return
    if not any(u.role == "admin" and u.is_active and u.id != record.id for u in users.values()):
        raise AuthError("this is the last active admin; make another admin first")
