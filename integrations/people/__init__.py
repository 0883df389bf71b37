"""``people:`` in configuration.yaml: people (residents, staff, guards) listed in the configuration.

The entries are folded into the community registry (see
:mod:`shouwang.integrations.registry.config_block`); this integration only carries the block.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from shouwang.core.config import ConfigError
from shouwang.integrations.registry import config_block

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

DOMAIN: Final = "people"
CONFIG_SCHEMA: Final = config_block.CONFIG_SCHEMA


async def setup(hub: Hub, config: list[Any]) -> bool:
    return await config_block.apply_block(hub, DOMAIN, config)


def check_config(config_dir: Path, block: list[Any]) -> list[ConfigError]:
    return config_block.check_block(config_dir, DOMAIN, block)
