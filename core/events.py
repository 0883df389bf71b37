"""Event bus: the one stream every part of the hub talks through.

Integrations fire events (``stranger_detected``, ``access_denied`` …), the state machine fires
``state_changed``, the service registry fires ``call_service``; automations, the recorder and the
API listen. Every event carries a :class:`Context` so a chain of cause and effect (camera event ->
automation run -> guard call) can be followed afterwards.

Hot path notes: listener lists are immutable tuples replaced on (un)subscribe, so firing iterates
without copying and a listener may unsubscribe itself while being called; context ids and
``time_fired`` datetimes are built lazily, on first read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime
from random import getrandbits
from typing import Any, Final

_LOGGER = logging.getLogger(__name__)

MATCH_ALL: Final = "*"

EventCallback = Callable[["Event"], Any]
EventFilter = Callable[[Mapping[str, Any]], bool]
Unsubscribe = Callable[[], None]
TaskFactory = Callable[[Coroutine[Any, Any, Any], str], Any]

_CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# every pair of Crockford digits (10 bits), so a ULID is 13 table lookups, not 26 steps
_PAIRS: Final = tuple(a + b for a in _CROCKFORD for b in _CROCKFORD)
_RANDOM_SHIFTS: Final = (70, 60, 50, 40, 30, 20, 10, 0)
_time_prefix: tuple[int, str] = (-1, "")


def ulid_at(timestamp: float) -> str:
    """Return a ULID (26 Crockford base32 characters) for ``timestamp``: sortable by time.

    The random part is not cryptographic (``random.getrandbits``): ids must be unique and
    ordered, not unguessable; nothing grants access by knowing a context id.
    """
    global _time_prefix  # noqa: PLW0603 - one-entry cache of the time part, per millisecond
    millis = int(timestamp * 1000)
    if _time_prefix[0] != millis:
        # 48-bit time in 10 digits (50 bits): 5 pairs from the top
        _time_prefix = (
            millis,
            "".join([_PAIRS[(millis >> s) & 1023] for s in (40, 30, 20, 10, 0)]),
        )
    rand = getrandbits(80)
    return _time_prefix[1] + "".join([_PAIRS[(rand >> s) & 1023] for s in _RANDOM_SHIFTS])


class Context:
    """Who or what caused something: an id, the user (if any), and the parent context.

    The id is a ULID; it is only generated when first read, because most contexts on a busy bus
    are never looked at. Its time part is the moment the context was created.
    """

    __slots__ = ("_created", "_id", "parent_id", "user_id")

    def __init__(
        self,
        user_id: str | None = None,
        parent_id: str | None = None,
        id: str | None = None,
        created: float | None = None,
    ) -> None:
        self._id = id
        self._created = time.time() if created is None else created
        self.user_id = user_id
        self.parent_id = parent_id

    @property
    def id(self) -> str:
        """The context's unique, time-sortable id."""
        if self._id is None:
            self._id = ulid_at(self._created)
        return self._id

    def child(self, user_id: str | None = None) -> Context:
        """A new context caused by this one (its ``parent_id`` is this context's id)."""
        return Context(user_id=self.user_id if user_id is None else user_id, parent_id=self.id)

    def as_dict(self) -> dict[str, str | None]:
        return {"id": self.id, "parent_id": self.parent_id, "user_id": self.user_id}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Context) and self.id == other.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"<Context {self.id} user={self.user_id} parent={self.parent_id}>"


class Event:
    """One thing that happened: a type, its data, when (UTC) and why (context)."""

    __slots__ = ("_context", "_time_fired", "data", "event_type", "origin", "time_fired_timestamp")

    def __init__(
        self,
        event_type: str,
        data: Mapping[str, Any] | None,
        context: Context | None,
        time_fired_timestamp: float,
        origin: str = "local",
    ) -> None:
        self.event_type = event_type
        self.data: Mapping[str, Any] = data if data is not None else {}
        self._context = context
        self.time_fired_timestamp = time_fired_timestamp
        self.origin = origin
        self._time_fired: datetime | None = None

    @property
    def context(self) -> Context:
        """Why the event happened. Events fired without one get a fresh context, made on first
        read (most events on a busy bus are never asked)."""
        if self._context is None:
            self._context = Context(created=self.time_fired_timestamp)
        return self._context

    @property
    def time_fired(self) -> datetime:
        """When the event was fired, as an aware UTC datetime."""
        if self._time_fired is None:
            self._time_fired = datetime.fromtimestamp(self.time_fired_timestamp, UTC)
        return self._time_fired

    def as_dict(self) -> dict[str, Any]:
        """The event in Home Assistant's JSON shape."""
        return {
            "event_type": self.event_type,
            "data": dict(self.data),
            "origin": self.origin.upper(),
            "time_fired": self.time_fired.isoformat(),
            "context": self.context.as_dict(),
        }

    def __repr__(self) -> str:
        return f"<Event {self.event_type} {dict(self.data)!r}>"


# A listener: (callback, filter or None, is_coroutine_function, name for logs)
_Listener = tuple[EventCallback, EventFilter | None, bool, str]


def callback_name(callback: Callable[..., Any]) -> str:
    """A readable name for a callback, used when its failure is logged."""
    module = getattr(callback, "__module__", None) or "?"
    name = getattr(callback, "__qualname__", None) or repr(callback)
    return f"{module}.{name}"


def is_coroutine_callable(callback: Callable[..., Any]) -> bool:
    """True if calling ``callback`` returns a coroutine (also for partials and bound methods)."""
    while hasattr(callback, "func"):  # functools.partial
        callback = callback.func
    return asyncio.iscoroutinefunction(callback)


class EventBus:
    """Routes fired events to listeners; plain callbacks inline, coroutines as tasks."""

    def __init__(self, now: Callable[[], float], create_task: TaskFactory) -> None:
        self._now = now
        self._create_task = create_task
        self._listeners: dict[str, tuple[_Listener, ...]] = {}
        self._match_all: tuple[_Listener, ...] = ()
        self._hooks: dict[str, tuple[Callable[[], None], Callable[[], None]]] = {}

    # -- firing -----------------------------------------------------------------------------
    def fire(
        self,
        event_type: str,
        data: Mapping[str, Any] | None = None,
        context: Context | None = None,
        origin: str = "local",
    ) -> None:
        """Fire an event. Listeners that are plain functions have run when this returns."""
        listeners = self._listeners.get(event_type, ())
        if not listeners and not self._match_all:
            return
        event = Event(event_type, data, context, self._now(), origin)
        for callback, event_filter, is_coro, name in listeners:
            if event_filter is None and not is_coro:  # the common case first: one test
                try:
                    callback(event)
                except Exception:
                    _LOGGER.exception("Listener %s failed on %s", name, event_type)
                continue
            if event_filter is not None:
                try:
                    if not event_filter(event.data):
                        continue
                except Exception:
                    _LOGGER.exception("Event filter of %s failed on %s", name, event_type)
                    continue
            if is_coro:
                self._create_task(callback(event), name)
                continue
            try:
                callback(event)
            except Exception:
                _LOGGER.exception("Listener %s failed on %s", name, event_type)
        for callback, _event_filter, is_coro, name in self._match_all:
            if is_coro:
                self._create_task(callback(event), name)
                continue
            try:
                callback(event)
            except Exception:
                _LOGGER.exception("Listener %s failed on %s", name, event_type)

    def run_callback(self, callback: EventCallback, is_coro: bool, event: Event) -> None:
        """Run one callback the way the bus would, for dispatchers built on top of the bus."""
        if is_coro:
            self._create_task(callback(event), callback_name(callback))
            return
        try:
            callback(event)
        except Exception:
            _LOGGER.exception("Listener %s failed on %s", callback_name(callback), event.event_type)

    # -- subscribing ------------------------------------------------------------------------
    def listen(
        self,
        event_type: str,
        callback: EventCallback,
        event_filter: EventFilter | None = None,
        *,
        name: str | None = None,
    ) -> Unsubscribe:
        """Call ``callback(event)`` for every ``event_type`` event (``"*"`` for all events).

        ``event_filter(event.data)`` runs first, inline, and must be a cheap plain function.
        Returns a function that removes the listener; calling it twice is harmless.
        """
        if event_type == MATCH_ALL and event_filter is not None:
            raise ValueError("A match-all listener cannot have an event filter")
        listener: _Listener = (
            callback,
            event_filter,
            is_coroutine_callable(callback),
            name or callback_name(callback),
        )
        self._add(event_type, listener)
        removed = False

        def unsubscribe() -> None:
            nonlocal removed
            if not removed:
                removed = True
                self._remove(event_type, listener)

        return unsubscribe

    def listen_once(self, event_type: str, callback: EventCallback) -> Unsubscribe:
        """Call ``callback`` for the next ``event_type`` event only."""
        fired = False

        def claim() -> bool:
            nonlocal fired
            if fired:
                return False
            fired = True
            unsubscribe()
            return True

        if is_coroutine_callable(callback):

            async def once_async(event: Event) -> None:
                if claim():
                    await callback(event)

            unsubscribe = self.listen(event_type, once_async, name=callback_name(callback))
        else:

            def once(event: Event) -> None:
                if claim():
                    callback(event)

            unsubscribe = self.listen(event_type, once, name=callback_name(callback))
        return unsubscribe

    def listener_counts(self) -> dict[str, int]:
        """Number of listeners per event type (``"*"`` for match-all)."""
        counts = {event_type: len(items) for event_type, items in self._listeners.items()}
        if self._match_all:
            counts[MATCH_ALL] = len(self._match_all)
        return counts

    def set_activity_hooks(
        self, event_type: str, on_first: Callable[[], None], on_last: Callable[[], None]
    ) -> None:
        """Call ``on_first`` when ``event_type`` gains its first listener, ``on_last`` when it
        loses its last: lets a source (the ``time_changed`` ticker) run only while listened to."""
        self._hooks[event_type] = (on_first, on_last)
        if self._listeners.get(event_type):
            on_first()

    def _add(self, event_type: str, listener: _Listener) -> None:
        if event_type == MATCH_ALL:
            self._match_all = (*self._match_all, listener)
            return
        current = self._listeners.get(event_type, ())
        self._listeners[event_type] = (*current, listener)
        if not current and event_type in self._hooks:
            self._hooks[event_type][0]()

    def _remove(self, event_type: str, listener: _Listener) -> None:
        if event_type == MATCH_ALL:
            self._match_all = tuple(item for item in self._match_all if item is not listener)
            return
        remaining = tuple(
            item for item in self._listeners.get(event_type, ()) if item is not listener
        )
        if remaining:
            self._listeners[event_type] = remaining
            return
        self._listeners.pop(event_type, None)
        if event_type in self._hooks:
            self._hooks[event_type][1]()
