"""People and vehicles written straight into ``configuration.yaml`` (``people:``, ``vehicles:``).

A small community, or a test bench, may list its residents and plates in the configuration
instead of importing spreadsheets. Those lists are not a second identity store: at start-up
(and by ``check-config``) they go through the registry's own row validation and are upserted
into the registry database, so every lookup (faces, plates, access rules) sees one registry.
Errors name the configuration file and line of the bad entry and field; nothing of a block is
applied unless all of it is valid. Entries removed from the block stay in the registry until
removed there (the registry, not the YAML, is the record).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from shouwang.core.config import ConfigError
from shouwang.core.yaml_loader import mark_of

from .transfer import RegistryImportError, import_rows

if TYPE_CHECKING:
    from pathlib import Path

    from shouwang.core.hub import Hub

    from . import Registry

_LOGGER = logging.getLogger(__name__)

#: what a config entry may leave out
_DEFAULTS: Final = {"people": {"type": "resident"}, "vehicles": {}}


def _rows_schema(value: Any) -> Any:
    """A list of mappings; returned as loaded so the entries keep their line marks."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise vol.Invalid("expected a list of entries")
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise vol.Invalid("expected a mapping", path=[index])
    return value


CONFIG_SCHEMA: Final = vol.Schema(_rows_schema)


def _where(entry: Any, index: int, domain: str) -> str:
    mark = mark_of(entry)
    return f"{mark[0]}:{mark[1]}" if mark else f"{domain}[{index}]"


def config_rows(kind: str, block: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    """The block's entries as registry rows, each with ``FILE:LINE``; lists become ``a;b``."""
    rows = []
    for index, entry in enumerate(block):
        row: dict[str, Any] = dict(_DEFAULTS[kind])
        for key, value in entry.items():
            row[str(key)] = ";".join(map(str, value)) if isinstance(value, list) else value
        rows.append((_where(entry, index, kind), row))
    return rows


async def apply_block(hub: Hub, kind: str, block: list[Any]) -> bool:
    """Upsert a ``people:``/``vehicles:`` block into the running registry and refresh it."""
    registry: Registry = hub.integrations.runtime("registry")
    rows = config_rows(kind, block)
    result = await hub.loop.run_in_executor(
        None,
        partial(import_rows, registry.storage, registry.protector, kind, rows, header_where=kind),
    )
    if not result.applied:
        for error in result.errors:
            _LOGGER.error("%s: %s", kind, error)
        shown = "; ".join(result.errors[:5])
        more = f" (and {len(result.errors) - 5} more)" if len(result.errors) > 5 else ""
        raise RegistryImportError(f"nothing applied: {shown}{more}")
    await registry.reload(hub)
    _LOGGER.info("%s: %d entries from the configuration are in the registry", kind, len(rows))
    return True


def check_block(config_dir: Path, kind: str, block: list[Any]) -> list[ConfigError]:
    """``check-config``: validate the block against the registry without writing anything."""
    from . import open_registry

    storage, protector = open_registry(config_dir)
    try:
        rows = config_rows(kind, block)
        result = import_rows(storage, protector, kind, rows, header_where=kind, dry_run=True)
    finally:
        storage.close()
    return [_config_error(kind, error) for error in result.errors]


def _config_error(kind: str, error: str) -> ConfigError:
    """``FILE:LINE: field: problem`` as a ConfigError with its file and line."""
    where, _, message = error.partition(": ")
    file, _, line = where.rpartition(":")
    if file and line.isdigit():
        return ConfigError(message, file=file, line=int(line), domain=kind)
    return ConfigError(error, domain=kind)
