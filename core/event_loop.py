"""Which asyncio event loop the hub runs on: uvloop when it is installed, else the standard one.

Everything in the hub is plain asyncio; uvloop (libuv underneath, a drop-in event loop) only
makes the loop's own work cheaper: waiting on sockets, scheduling callbacks and timers. On the
headline benchmark (``bench/frigate_e2e.py``) it took about a tenth off the hub's CPU per MQTT
message. ``SHOUWANG_EVENT_LOOP=asyncio`` turns it off, for comparison or to rule it out.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
from collections.abc import Callable, Coroutine
from typing import Any, Final, TypeVar

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

ENV_VARIABLE: Final = "SHOUWANG_EVENT_LOOP"


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """``uvloop.new_event_loop`` if uvloop can be used, else None (the standard loop)."""
    choice = os.environ.get(ENV_VARIABLE, "uvloop").strip().lower()
    if choice == "asyncio":
        return None
    if choice != "uvloop":
        _LOGGER.warning("%s=%r: expected uvloop or asyncio; using uvloop", ENV_VARIABLE, choice)
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        return None  # not installed (or not available on this platform)
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run(main: Coroutine[Any, Any, _T]) -> _T:
    """Run ``main`` to completion on a new loop of :func:`loop_factory`'s kind."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
