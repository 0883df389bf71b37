"""The ``switch`` platform: relays and sockets that are on or off (a pump, a door magnet's power,
a barrier's manual override). Services ``turn_on``, ``turn_off`` and ``toggle``.
"""

from __future__ import annotations

from typing import ClassVar, Final

from ._common import ToggleEntity

DOMAIN: Final = "switch"


class SwitchEntity(ToggleEntity):
    """A switch. Override :meth:`turn_on`/:meth:`turn_off`, set :attr:`is_on`, call
    :meth:`write_state`."""

    domain: ClassVar[str] = DOMAIN
