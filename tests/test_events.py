"""Event bus: firing, listening, filters, once, match-all, isolation of failing listeners."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import pytest

from shouwang.core.events import MATCH_ALL, Context, Event, EventBus, ulid_at


def make_bus(now: float = 1000.0) -> tuple[EventBus, list[asyncio.Task[Any]]]:
    tasks: list[asyncio.Task[Any]] = []

    def create_task(coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        tasks.append(task)
        return task

    return EventBus(lambda: now, create_task), tasks


async def test_sync_listener_runs_inline_with_data_and_time() -> None:
    bus, _ = make_bus(now=1764367200.5)
    seen: list[Event] = []
    bus.listen("door_opened", seen.append)
    ctx = Context(user_id="u1")
    bus.fire("door_opened", {"door": "gate_north"}, ctx)
    assert len(seen) == 1
    event = seen[0]
    assert event.event_type == "door_opened"
    assert event.data == {"door": "gate_north"}
    assert event.context is ctx
    assert event.time_fired.isoformat() == "2025-11-28T22:00:00.500000+00:00"
    assert event.as_dict()["context"]["user_id"] == "u1"


async def test_other_event_types_do_not_reach_listener() -> None:
    bus, _ = make_bus()
    seen: list[Event] = []
    bus.listen("a", seen.append)
    bus.fire("b")
    assert seen == []


async def test_coroutine_listener_runs_as_task() -> None:
    bus, tasks = make_bus()
    seen: list[str] = []

    async def listener(event: Event) -> None:
        seen.append(event.event_type)

    bus.listen("x", listener)
    bus.fire("x")
    assert seen == []  # not inline
    assert len(tasks) == 1
    await asyncio.gather(*tasks)
    assert seen == ["x"]


async def test_unsubscribe_and_double_unsubscribe() -> None:
    bus, _ = make_bus()
    seen: list[Event] = []
    unsub = bus.listen("x", seen.append)
    bus.fire("x")
    unsub()
    unsub()
    bus.fire("x")
    assert len(seen) == 1
    assert "x" not in bus.listener_counts()


async def test_event_filter_sees_data() -> None:
    bus, _ = make_bus()
    seen: list[Event] = []
    bus.listen("access_denied", seen.append, event_filter=lambda data: data["door"] == "north")
    bus.fire("access_denied", {"door": "south"})
    bus.fire("access_denied", {"door": "north"})
    assert [e.data["door"] for e in seen] == ["north"]


async def test_failing_filter_is_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    bus, _ = make_bus()
    seen: list[Event] = []
    bus.listen("x", seen.append, event_filter=lambda data: data["missing"])
    bus.listen("x", seen.append)
    bus.fire("x", {})
    assert len(seen) == 1
    assert "Event filter" in caplog.text


async def test_listen_once_sync_and_async() -> None:
    bus, tasks = make_bus()
    seen: list[str] = []

    async def async_listener(event: Event) -> None:
        seen.append("async")

    bus.listen_once("x", lambda event: seen.append("sync"))
    bus.listen_once("x", async_listener)
    bus.fire("x")
    bus.fire("x")
    await asyncio.gather(*tasks)
    assert sorted(seen) == ["async", "sync"]
    assert "x" not in bus.listener_counts()


async def test_match_all_sees_every_event() -> None:
    bus, _ = make_bus()
    seen: list[str] = []
    unsub = bus.listen(MATCH_ALL, lambda event: seen.append(event.event_type))
    bus.fire("a")
    bus.fire("b")
    unsub()
    bus.fire("c")
    assert seen == ["a", "b"]
    with pytest.raises(ValueError):
        bus.listen(MATCH_ALL, seen.append, event_filter=lambda data: True)


async def test_raising_listener_is_logged_by_name_and_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus, _ = make_bus()
    seen: list[str] = []

    def broken_listener(event: Event) -> None:
        raise RuntimeError("boom")

    bus.listen("x", broken_listener)
    bus.listen("x", lambda event: seen.append("second"))
    bus.listen(MATCH_ALL, lambda event: seen.append("all"))
    with caplog.at_level(logging.ERROR):
        bus.fire("x")
    assert seen == ["second", "all"]
    assert "broken_listener" in caplog.text
    assert "boom" in caplog.text


async def test_listener_may_unsubscribe_itself_during_dispatch() -> None:
    bus, _ = make_bus()
    seen: list[str] = []
    unsubs: list[Any] = []

    def first(event: Event) -> None:
        seen.append("first")
        unsubs[0]()

    unsubs.append(bus.listen("x", first))
    bus.listen("x", lambda event: seen.append("second"))
    bus.fire("x")
    bus.fire("x")
    assert seen == ["first", "second", "second"]


async def test_activity_hooks_fire_on_first_and_last_listener() -> None:
    bus, _ = make_bus()
    calls: list[str] = []
    bus.set_activity_hooks("tick", lambda: calls.append("first"), lambda: calls.append("last"))
    one = bus.listen("tick", lambda event: None)
    two = bus.listen("tick", lambda event: None)
    one()
    assert calls == ["first"]
    two()
    assert calls == ["first", "last"]


def test_ulid_encoding_matches_the_reference_algorithm() -> None:
    def reference(timestamp: float, randomness: int) -> str:
        value = (int(timestamp * 1000) << 80) | randomness
        digits = []
        for _ in range(26):
            digits.append("0123456789ABCDEFGHJKMNPQRSTVWXYZ"[value & 31])
            value >>= 5
        return "".join(reversed(digits))

    for seed, timestamp in [(1, 0.0), (2, 1764367200.5), (3, 2**47 / 1000)]:
        random.seed(seed)
        expected = reference(timestamp, random.getrandbits(80))
        random.seed(seed)
        assert ulid_at(timestamp) == expected


def test_context_ids_are_unique_sortable_ulids() -> None:
    first = Context()
    ids = [Context().id for _ in range(200)]
    assert len(set(ids)) == 200
    assert all(len(i) == 26 for i in ids)
    assert ulid_at(1.0) < ulid_at(2.0) < ulid_at(1_800_000_000.0)
    assert first.id == first.id  # stable once generated
    child = first.child()
    assert child.parent_id == first.id
    assert child.id != first.id
    assert Context(id="fixed").id == "fixed"
