"""Visitor passes: a resident or staff member issues a pass, the visitor shows its QR code, the
gates check it offline.

Place in the whole: the ``visitor_pass`` integration. ``setup`` opens the passes in the hub's
shared storage (``<config>/shouwang.db`` unless ``visitor_pass: {db_url: …}``), the signing key
(``<config>/.storage/visitor_pass.key``) and the registry's phone key, registers the
``visitor_pass.*`` services (``services.py``) and returns the :class:`~.book.PassBook` that
access control uses (``validate``/``consume``). The ``trigger: visitor_pass`` platform
(``trigger.py``) counts uses and denials for automations. See ``README.md`` beside this file.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from shouwang.core.storage import Storage
from shouwang.core.triggers import register_trigger_platform
from shouwang.integrations.registry.protect import Protector

from . import model, trigger
from .book import PassBook
from .check import PassCheck
from .model import PassRecord
from .services import PassServices
from .tokens import Signer, load_key

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

__all__ = ["CONFIG_SCHEMA", "PassBook", "PassCheck", "setup"]

_LOGGER = logging.getLogger(__name__)

DOMAIN: Final = "visitor_pass"
CONFIG_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("db_url"): str,
        # enter and leave through the gate and the unit door
        vol.Optional("default_max_uses", default=4): vol.All(int, vol.Range(min=1, max=1000)),
        vol.Optional("max_days", default=31): vol.All(int, vol.Range(min=1, max=366)),
        # passes (and their uses) are deleted this many days after their window ended
        vol.Optional("retention_days", default=90): vol.All(int, vol.Range(min=1)),
    }
)


def open_book(
    config_dir: Path, db_url: str | None, ended_before: float
) -> tuple[Storage, Protector, bytes, list[PassRecord]]:
    """Storage (tables created, passes that ended before ``ended_before`` deleted), phone
    protector, signing key and the stored passes. Blocking."""
    storage = Storage.open(config_dir, db_url)
    model.open_tables(storage)
    purged = model.purge(storage, ended_before)
    if purged:
        _LOGGER.info("Visitor passes: deleted %d that ended before the retention period", purged)
    return storage, Protector(config_dir), load_key(config_dir), model.load_all(storage)


async def setup(hub: Hub, config: Mapping[str, Any]) -> PassBook | bool:
    """Open the pass book, register the services and the trigger platform."""
    if hub.config_dir is None:
        _LOGGER.error("Visitor passes need a config directory (for the key and the database)")
        return False
    ended_before = hub.clock.time() - timedelta(days=config["retention_days"]).total_seconds()
    storage, protector, key, records = await hub.loop.run_in_executor(
        None, open_book, hub.config_dir, config.get("db_url"), ended_before
    )
    book = PassBook(hub, storage, protector, Signer(key), records)
    PassServices(
        hub,
        book,
        default_max_uses=config["default_max_uses"],
        max_length=timedelta(days=config["max_days"]),
    ).register()
    register_trigger_platform(trigger.PLATFORM, trigger)
    hub.on_stop(book.close)
    _LOGGER.info("Visitor passes: %d stored", len(records))
    return book
