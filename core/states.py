"""State machine: the current value of every entity (``lock.gate_north`` -> ``locked``).

Entities write here through their platform; automations, templates and the API read here.
Every real change fires ``state_changed`` on the bus with the old and the new :class:`State`.
A per-entity tracker index routes those events to whoever watches one entity, at O(1) per change
whatever the number of entities and trackers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any, Final, NamedTuple, NoReturn

import orjson

from .events import (
    Context,
    Event,
    EventBus,
    EventCallback,
    Unsubscribe,
    callback_name,
    is_coroutine_callable,
)

_LOGGER = logging.getLogger(__name__)

STATE_CHANGED: Final = "state_changed"
MAX_STATE_LENGTH: Final = 255

_ENTITY_ID_RE: Final = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9_]+$")


class InvalidEntityId(ValueError):
    """An entity id that is not ``domain.object_id`` in lower-case snake_case."""


class InvalidStateError(ValueError):
    """A state value the state machine refuses (not a string, or longer than 255 characters)."""


def normalize_entity_id(entity_id: str) -> str:
    """Return the canonical form of ``entity_id`` or raise :class:`InvalidEntityId`."""
    if not isinstance(entity_id, str):
        raise InvalidEntityId(f"Entity id must be a string, got {type(entity_id).__name__}")
    if _ENTITY_ID_RE.match(entity_id) and "__" not in entity_id:
        return entity_id  # already canonical: no copy
    normalized = entity_id.strip().lower()
    if not _ENTITY_ID_RE.match(normalized) or "__" in normalized:
        raise InvalidEntityId(
            f"Invalid entity id {entity_id!r}: expected domain.object_id "
            "(lower-case letters, digits and single underscores, e.g. lock.gate_north)"
        )
    return normalized


def valid_entity_id(entity_id: str) -> bool:
    """True if ``entity_id`` is already in canonical form."""
    return bool(_ENTITY_ID_RE.match(entity_id)) and "__" not in entity_id


def split_entity_id(entity_id: str) -> tuple[str, str]:
    """``"lock.gate_north"`` -> ``("lock", "gate_north")``."""
    domain, _, object_id = entity_id.partition(".")
    return domain, object_id


class ReadOnlyDict(dict[str, Any]):
    """A dict that refuses changes: the attributes of a :class:`State`."""

    def _readonly(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("State attributes are read-only; write a new state instead")

    __setitem__ = _readonly
    __delitem__ = _readonly
    clear = _readonly
    pop = _readonly
    popitem = _readonly
    setdefault = _readonly
    update = _readonly
    __ior__ = _readonly


EMPTY_ATTRIBUTES: Final = ReadOnlyDict()


class State(NamedTuple):
    """An entity's state at one moment. Immutable: a change makes a new State.

    Timestamps are UTC epoch seconds; ``last_changed``/``last_updated`` give aware datetimes.
    ``last_changed`` moves only when the state string changes, ``last_updated`` on every write.
    """

    entity_id: str
    state: str
    attributes: ReadOnlyDict
    last_changed_timestamp: float
    last_updated_timestamp: float
    context: Context

    @property
    def domain(self) -> str:
        return self.entity_id.partition(".")[0]

    @property
    def object_id(self) -> str:
        return self.entity_id.partition(".")[2]

    @property
    def name(self) -> str:
        """The friendly name, or the object id with underscores as spaces."""
        friendly = self.attributes.get("friendly_name")
        return str(friendly) if friendly else self.object_id.replace("_", " ")

    @property
    def last_changed(self) -> datetime:
        return datetime.fromtimestamp(self.last_changed_timestamp, UTC)

    @property
    def last_updated(self) -> datetime:
        return datetime.fromtimestamp(self.last_updated_timestamp, UTC)

    def as_dict(self) -> dict[str, Any]:
        """The state in Home Assistant's JSON shape (datetimes left for the JSON encoder)."""
        updated = self.last_updated
        changed = (
            updated
            if self.last_changed_timestamp == self.last_updated_timestamp
            else (self.last_changed)
        )
        return {
            "entity_id": self.entity_id,
            "state": self.state,
            "attributes": self.attributes,
            "last_changed": changed,
            "last_reported": updated,
            "last_updated": updated,
            "context": {
                "id": self.context.id,
                "parent_id": self.context.parent_id,
                "user_id": self.context.user_id,
            },
        }


def _readonly(attributes: Mapping[str, Any] | None) -> ReadOnlyDict:
    if attributes is None:
        return EMPTY_ATTRIBUTES
    if attributes.__class__ is ReadOnlyDict:
        return attributes
    return ReadOnlyDict(attributes)


# A tracker: (callback, is_coroutine_function)
_Tracker = tuple[EventCallback, bool]


class StateMachine:
    """Holds the current :class:`State` of every entity and announces every change."""

    def __init__(self, bus: EventBus, now: Callable[[], float]) -> None:
        self._bus = bus
        self._now = now
        self._states: dict[str, State] = {}
        self._domains: dict[str, dict[str, State]] = {}
        self._trackers: dict[str, tuple[_Tracker, ...]] = {}
        self._dispatcher_unsub: Unsubscribe | None = None
        self._json_cache: dict[str, tuple[State, bytes]] = {}
        self._domain_of: dict[str, dict[str, State]] = {}  # entity id -> its domain's dict

    # -- reading ----------------------------------------------------------------------------
    def get(self, entity_id: str) -> State | None:
        """The current state of ``entity_id`` (any case), or None."""
        state = self._states.get(entity_id)
        if state is None and not valid_entity_id(entity_id):
            try:
                return self._states.get(normalize_entity_id(entity_id))
            except InvalidEntityId:
                return None
        return state

    def is_state(self, entity_id: str, value: str) -> bool:
        state = self.get(entity_id)
        return state is not None and state.state == value

    def all(self, domain: str | None = None) -> list[State]:
        """Every state, or every state of one domain."""
        if domain is None:
            return list(self._states.values())
        return list(self._domains.get(domain, {}).values())

    def entity_ids(self, domain: str | None = None) -> list[str]:
        if domain is None:
            return list(self._states)
        return list(self._domains.get(domain, {}))

    def __len__(self) -> int:
        return len(self._states)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self._states

    def as_json(self) -> bytes:
        """All states as one JSON array (the body of ``GET /api/states``). Each state's JSON is
        kept until that entity's state changes, so repeated reads of a large site are cheap."""
        return b"[" + b",".join([self._json(state) for state in self._states.values()]) + b"]"

    def state_json(self, entity_id: str) -> bytes | None:
        """One state as JSON, or None if the entity has no state."""
        state = self.get(entity_id)
        return None if state is None else self._json(state)

    def _json(self, state: State) -> bytes:
        cached = self._json_cache.get(state.entity_id)
        if cached is not None and cached[0] is state:
            return cached[1]
        data = orjson.dumps(state.as_dict())
        self._json_cache[state.entity_id] = (state, data)
        return data

    # -- writing ----------------------------------------------------------------------------
    def set(
        self,
        entity_id: str,
        new_state: str,
        attributes: Mapping[str, Any] | None = None,
        *,
        force_update: bool = False,
        context: Context | None = None,
    ) -> State:
        """Write a state. Fires ``state_changed`` only if the state or attributes changed
        (or ``force_update``). Returns the state now current."""
        old = self._states.get(entity_id)
        if old is None:
            entity_id = normalize_entity_id(entity_id)
            old = self._states.get(entity_id)
        if new_state.__class__ is not str:
            raise InvalidStateError(
                f"State of {entity_id} must be a string, got {type(new_state).__name__}"
            )
        if len(new_state) > MAX_STATE_LENGTH:
            raise InvalidStateError(
                f"State of {entity_id} is {len(new_state)} characters long; "
                f"the limit is {MAX_STATE_LENGTH} (put long values in attributes)"
            )
        now = self._now()
        if old is None:
            last_changed = now
            attrs = _readonly(attributes)
        else:
            same_attributes = (
                old.attributes == attributes if attributes is not None else not old.attributes
            )
            if old.state == new_state:
                if same_attributes and not force_update:
                    return old
                last_changed = old.last_changed_timestamp
            else:
                last_changed = now
            # unchanged attributes are shared with the old state, not copied
            attrs = old.attributes if same_attributes else _readonly(attributes)
        if context is None:
            context = Context(created=now)
        state = State(entity_id, new_state, attrs, last_changed, now, context)
        self._states[entity_id] = state
        by_domain = self._domain_of.get(entity_id)
        if by_domain is None:
            domain = entity_id.partition(".")[0]
            by_domain = self._domains.get(domain)
            if by_domain is None:
                by_domain = self._domains[domain] = {}
            self._domain_of[entity_id] = by_domain
        by_domain[entity_id] = state
        self._bus.fire(
            STATE_CHANGED,
            {"entity_id": entity_id, "old_state": old, "new_state": state},
            context,
        )
        return state

    def remove(self, entity_id: str, *, context: Context | None = None) -> bool:
        """Remove an entity's state; fires ``state_changed`` with ``new_state`` None."""
        state = self.get(entity_id)
        if state is None:
            return False
        del self._states[state.entity_id]
        del self._domains[state.domain][state.entity_id]
        del self._domain_of[state.entity_id]
        self._json_cache.pop(state.entity_id, None)
        self._bus.fire(
            STATE_CHANGED,
            {"entity_id": state.entity_id, "old_state": state, "new_state": None},
            context,
        )
        return True

    # -- per-entity tracking ----------------------------------------------------------------
    def track(self, entity_ids: str | Iterable[str], callback: EventCallback) -> Unsubscribe:
        """Call ``callback(event)`` on every ``state_changed`` of the given entities.

        Routing uses one bus listener and a dict keyed by entity id, so a change costs the
        same whether 1 or 10,000 entities are tracked.
        """
        ids = [entity_ids] if isinstance(entity_ids, str) else list(entity_ids)
        ids = [normalize_entity_id(entity_id) for entity_id in ids]
        tracker: _Tracker = (callback, is_coroutine_callable(callback))
        for entity_id in ids:
            self._trackers[entity_id] = (*self._trackers.get(entity_id, ()), tracker)
        if self._dispatcher_unsub is None:
            self._dispatcher_unsub = self._bus.listen(
                STATE_CHANGED, self._dispatch, name="state tracker dispatch"
            )
        return partial(self._untrack, ids, tracker)

    def _untrack(self, ids: list[str], tracker: _Tracker) -> None:
        """Remove ``tracker`` from ``ids`` (a second call finds nothing left to remove)."""
        for entity_id in ids:
            current = self._trackers.get(entity_id, ())
            rest = tuple(t for t in current if t is not tracker)
            if len(rest) == len(current):
                continue
            if rest:
                self._trackers[entity_id] = rest
            else:
                self._trackers.pop(entity_id, None)
        if not self._trackers and self._dispatcher_unsub is not None:
            self._dispatcher_unsub()
            self._dispatcher_unsub = None

    def _dispatch(self, event: Event) -> None:
        trackers = self._trackers.get(event.data["entity_id"])
        if trackers is None:
            return
        for callback, is_coro in trackers:
            if is_coro:
                self._bus.run_callback(callback, True, event)
                continue
            try:
                callback(event)
            except Exception:
                _LOGGER.exception("State tracker %s failed on %s", callback_name(callback), event)
