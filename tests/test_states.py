"""State machine: ids, immutability, change detection, timestamps, removal, tracking, JSON."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from shouwang.core.events import Context, Event, EventBus
from shouwang.core.states import (
    STATE_CHANGED,
    InvalidEntityId,
    InvalidStateError,
    StateMachine,
    normalize_entity_id,
    split_entity_id,
)


class Now:
    def __init__(self) -> None:
        self.value = 1_800_000_000.0

    def __call__(self) -> float:
        return self.value


def make() -> tuple[StateMachine, EventBus, Now, list[Event]]:
    now = Now()
    tasks: list[Any] = []
    bus = EventBus(now, lambda coro, name: tasks.append(asyncio.ensure_future(coro)))
    states = StateMachine(bus, now)
    changes: list[Event] = []
    bus.listen(STATE_CHANGED, changes.append)
    return states, bus, now, changes


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("lock.gate_north", "lock.gate_north"), (" Lock.Gate_North ", "lock.gate_north")],
)
def test_entity_ids_are_normalised(raw: str, expected: str) -> None:
    assert normalize_entity_id(raw) == expected
    assert split_entity_id(expected) == ("lock", "gate_north")


@pytest.mark.parametrize(
    "bad", ["lock", "lock.", ".gate", "lock.gate-north", "lock.gate north", "lock.a__b", "1x.y", 5]
)
def test_invalid_entity_ids_are_rejected(bad: Any) -> None:
    with pytest.raises(InvalidEntityId):
        normalize_entity_id(bad)


def test_set_fires_state_changed_with_old_and_new() -> None:
    states, _, _, changes = make()
    first = states.set("lock.gate_north", "locked", {"place_id": "P-GATE-N"})
    second = states.set("lock.gate_north", "unlocked", {"place_id": "P-GATE-N"})
    assert [e.data["new_state"] for e in changes] == [first, second]
    assert changes[0].data["old_state"] is None
    assert changes[1].data["old_state"] is first
    assert changes[1].data["entity_id"] == "lock.gate_north"
    assert states.get("lock.gate_north") is second


def test_no_event_when_nothing_changed_but_force_update_fires() -> None:
    states, _, now, changes = make()
    states.set("sensor.t", "1", {"unit": "C"})
    now.value += 5
    same = states.set("sensor.t", "1", {"unit": "C"})
    assert len(changes) == 1
    assert same.last_updated_timestamp == 1_800_000_000.0
    states.set("sensor.t", "1", {"unit": "C"}, force_update=True)
    assert len(changes) == 2


def test_last_changed_moves_only_with_the_state_string() -> None:
    states, _, now, changes = make()
    states.set("sensor.t", "1", {"a": 1})
    now.value += 10
    attr_change = states.set("sensor.t", "1", {"a": 2})
    assert len(changes) == 2
    assert attr_change.last_changed_timestamp == 1_800_000_000.0
    assert attr_change.last_updated_timestamp == 1_800_000_010.0
    now.value += 10
    state_change = states.set("sensor.t", "2", {"a": 2})
    assert state_change.last_changed_timestamp == 1_800_000_020.0
    assert state_change.last_changed.isoformat() == "2027-01-15T08:00:20+00:00"


def test_states_are_immutable() -> None:
    states, _, _, _ = make()
    state = states.set("sensor.t", "1", {"a": 1})
    with pytest.raises(AttributeError):
        state.state = "2"  # type: ignore[misc]
    with pytest.raises(TypeError):
        state.attributes["a"] = 2
    with pytest.raises(TypeError):
        state.attributes.update({"b": 1})
    source = {"a": 1}
    copy = states.set("sensor.u", "1", source)
    source["a"] = 5
    assert copy.attributes["a"] == 1


def test_invalid_states_are_rejected() -> None:
    states, _, _, changes = make()
    with pytest.raises(InvalidStateError, match="must be a string"):
        states.set("sensor.t", 5)  # type: ignore[arg-type]
    with pytest.raises(InvalidStateError, match="255"):
        states.set("sensor.t", "x" * 256)
    with pytest.raises(InvalidEntityId):
        states.set("not an id", "1")
    assert changes == []


def test_get_is_case_insensitive_and_all_filters_by_domain() -> None:
    states, _, _, _ = make()
    states.set("Lock.Gate_North", "locked")
    states.set("lock.gate_south", "locked")
    states.set("binary_sensor.fence_zone_3", "off")
    assert states.get("LOCK.GATE_NORTH") is not None
    assert states.get("lock.missing") is None
    assert states.get("garbage id") is None
    assert {s.entity_id for s in states.all("lock")} == {"lock.gate_north", "lock.gate_south"}
    assert len(states.all()) == 3
    assert states.is_state("lock.gate_north", "locked")


def test_remove_fires_with_new_state_none() -> None:
    states, _, _, changes = make()
    states.set("lock.gate_north", "locked")
    assert states.remove("lock.gate_north")
    assert not states.remove("lock.gate_north")
    assert changes[-1].data["new_state"] is None
    assert states.get("lock.gate_north") is None
    assert states.all("lock") == []


def test_context_is_carried_to_state_and_event() -> None:
    states, _, _, changes = make()
    ctx = Context(user_id="guard1")
    state = states.set("lock.gate_north", "unlocked", context=ctx)
    assert state.context is ctx
    assert changes[0].context is ctx


def test_trackers_get_only_their_entity_and_unsubscribe() -> None:
    states, _, _, _ = make()
    north: list[str] = []
    both: list[str] = []
    unsub_north = states.track("lock.gate_north", lambda e: north.append(e.data["entity_id"]))
    states.track(["lock.gate_north", "lock.gate_south"], lambda e: both.append(e.data["entity_id"]))
    for i in range(1000):
        states.set(f"sensor.noise_{i}", "1")
    states.set("lock.gate_north", "locked")
    states.set("lock.gate_south", "locked")
    assert north == ["lock.gate_north"]
    assert both == ["lock.gate_north", "lock.gate_south"]
    unsub_north()
    unsub_north()
    states.set("lock.gate_north", "unlocked")
    assert north == ["lock.gate_north"]
    assert both[-1] == "lock.gate_north"


def test_tracker_dispatcher_is_removed_with_last_tracker() -> None:
    states, bus, _, _ = make()
    base = bus.listener_counts()[STATE_CHANGED]
    unsub = states.track("lock.a", lambda e: None)
    assert bus.listener_counts()[STATE_CHANGED] == base + 1
    unsub()
    assert bus.listener_counts()[STATE_CHANGED] == base


def test_failing_tracker_does_not_stop_others(caplog: pytest.LogCaptureFixture) -> None:
    states, _, _, _ = make()
    seen: list[str] = []

    def broken_tracker(event: Event) -> None:
        raise ValueError("bad tracker")

    states.track("lock.a", broken_tracker)
    states.track("lock.a", lambda e: seen.append("ok"))
    states.set("lock.a", "locked")
    assert seen == ["ok"]
    assert "broken_tracker" in caplog.text


def test_as_json_matches_home_assistant_shape() -> None:
    states, _, _, _ = make()
    states.set("lock.gate_north", "locked", {"friendly_name": "北门"})
    data = orjson.loads(states.as_json())
    assert data[0]["entity_id"] == "lock.gate_north"
    assert data[0]["attributes"] == {"friendly_name": "北门"}
    assert data[0]["last_changed"] == "2027-01-15T08:00:00+00:00"
    assert set(data[0]["context"]) == {"id", "parent_id", "user_id"}
    assert states.get("lock.gate_north").name == "北门"  # type: ignore[union-attr]
    assert states.as_json() is not states.as_json()
    assert states.as_json() == states.as_json()
    states.set("lock.gate_north", "unlocked", {"friendly_name": "北门"})
    assert orjson.loads(states.as_json())[0]["state"] == "unlocked"  # cache follows changes
    assert orjson.loads(states.state_json("lock.gate_north") or b"")["state"] == "unlocked"
    states.remove("lock.gate_north")
    assert states.as_json() == b"[]"
    assert states.state_json("lock.gate_north") is None
