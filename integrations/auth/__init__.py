"""Accounts and roles: who may use the hub, and how they prove it.

Users (admin, staff, guard, resident bound to households, service) and their tokens live in the
hub's shared storage (tables of :mod:`.model`; ``auth: {db_url: …}`` picks another SQLAlchemy
URL). ``setup`` loads them and returns the :class:`~.manager.AuthManager`
(``hub.integrations.runtime("auth")``); :mod:`.policy` is the one place access is decided;
:mod:`.views` adds Home Assistant's login flow and token endpoints to the HTTP server (the
``http`` integration depends on this one and registers them); :mod:`.cli` is ``shouwang auth``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from shouwang.core.storage import Storage

from .manager import AuthError, AuthManager, InvalidLogin, LoginLocked
from .model import AuthStore
from .policy import Access, Role, Scope, User, allowed

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

__all__ = [
    "Access",
    "AuthError",
    "AuthManager",
    "InvalidLogin",
    "LoginLocked",
    "Role",
    "Scope",
    "User",
    "allowed",
]

_LOGGER = logging.getLogger(__name__)

DOMAIN: Final = "auth"
CONFIG_SCHEMA: Final = vol.Schema({vol.Optional("db_url"): str})


def open_store(config_dir: Path, db_url: str | None = None) -> AuthStore:
    """The auth tables of a config directory's storage, created if missing (blocking)."""
    return AuthStore(Storage.open(config_dir, db_url))


async def setup(hub: Hub, config: Mapping[str, Any]) -> AuthManager | bool:
    if hub.config_dir is None:
        _LOGGER.error("Accounts need a config directory (their storage lives there)")
        return False
    store = await hub.loop.run_in_executor(None, open_store, hub.config_dir, config.get("db_url"))
    users, tokens = await hub.loop.run_in_executor(None, store.load)
    hub.on_stop(store.storage.close)
    if not users:
        _LOGGER.warning("No user accounts yet: create one with `shouwang auth create-user`")
    _LOGGER.info("Auth: %d user(s), %d token(s)", len(users), len(tokens))
    manager = AuthManager(hub, store, users, tokens)
    hub.on_stop(manager.start_sync())
    return manager
