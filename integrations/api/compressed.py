"""Home Assistant's compressed state format for ``subscribe_entities``: a full state as
``{"s", "a", "c", "lc", "lu"?}`` and a change as only what changed (``"+"``) and the attributes
that went away (``"-"``), so panels that follow many entities receive little."""

from __future__ import annotations

from typing import Any

from shouwang.core.states import State


def _context(state: State) -> str | dict[str, str | None]:
    context = state.context
    if context.parent_id is None and context.user_id is None:
        return context.id
    return context.as_dict()


def compressed(state: State) -> dict[str, Any]:
    data: dict[str, Any] = {
        "s": state.state,
        "a": state.attributes,
        "c": _context(state),
        "lc": state.last_changed_timestamp,
    }
    if state.last_updated_timestamp != state.last_changed_timestamp:
        data["lu"] = state.last_updated_timestamp
    return data


def diff(old: State, new: State) -> dict[str, Any]:
    """``{"+": {…}, "-": {"a": [removed attribute names]}}`` from ``old`` to ``new``."""
    added: dict[str, Any] = {}
    if old.state != new.state:
        added["s"] = new.state
    if old.context is not new.context:
        added["c"] = _context(new)
    if new.last_changed_timestamp != old.last_changed_timestamp:
        added["lc"] = new.last_changed_timestamp
    elif new.last_updated_timestamp != old.last_updated_timestamp:
        added["lu"] = new.last_updated_timestamp
    if old.attributes is not new.attributes:
        changed = {
            key: value
            for key, value in new.attributes.items()
            if key not in old.attributes or old.attributes[key] != value
        }
        if changed:
            added["a"] = changed
        removed = [key for key in old.attributes if key not in new.attributes]
        if removed:
            return {"+": added, "-": {"a": removed}}
    return {"+": added}
