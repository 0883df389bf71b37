"""The scoped event router delivers exactly what each subscriber's scope allows: the same
answers as asking ``Scope.can_read_event`` per subscriber, for state changes (indexed by
household) and every other event (asked per scope)."""

from __future__ import annotations

from shouwang.core.events import Event
from shouwang.core.hub import Hub
from shouwang.core.places import Place
from shouwang.integrations.api.routing import ScopedEventRouter
from shouwang.integrations.auth.policy import Scope, User

HOUSEHOLDS = ("h1", "h2", "h3")


def community(hub: Hub) -> None:
    hub.places.add(Place("unit1", "Unit 1", "unit_entrance"))
    for household in HOUSEHOLDS:
        hub.places.add(Place(household, household, "household", "unit1"))
    hub.places.add(Place("h1_kitchen", "kitchen", "room", "h1"))
    hub.places.add(Place("gate", "Gate", "pedestrian_gate"))
    hub.places.bind("lock.h1", "h1")
    hub.places.bind("lock.h2", "h2")
    hub.places.bind("sensor.h1_smoke", "h1_kitchen")
    hub.places.bind("lock.gate", "gate")


def scopes(hub: Hub) -> list[Scope]:
    users = [
        User("u1", "one", "resident", frozenset({"h1"})),
        User("u2", "two", "resident", frozenset({"h2"})),
        User("u12", "both", "resident", frozenset({"h1", "h2"})),
        User("u3", "three", "resident", frozenset({"h3"})),
        User("none", "nobody", "resident", frozenset()),
    ]
    return [Scope(hub, user) for user in users]


async def test_router_agrees_with_the_policy(hub: Hub) -> None:
    community(hub)
    router = ScopedEventRouter(hub)
    every_scope = scopes(hub)
    received: dict[str, list[Event]] = {scope.user.id: [] for scope in every_scope}
    expected: dict[str, list[Event]] = {scope.user.id: [] for scope in every_scope}
    for scope in every_scope:
        router.subscribe("*", scope, received[scope.user.id].append)

    def check(event: Event) -> None:
        for scope in every_scope:
            if scope.can_read_event(event):
                expected[scope.user.id].append(event)

    hub.bus.listen("*", check)
    for entity_id in ("lock.h1", "lock.h2", "sensor.h1_smoke", "lock.gate"):
        hub.states.set(entity_id, "on")
    hub.states.set("sensor.h3_meter", "5", {"household_id": "h3"})  # by attribute
    hub.states.set("sensor.shared", "5", {"household_id": ["h2", "h3"]})
    hub.bus.fire("doorbell", {"household_id": "h2"})
    hub.bus.fire("smoke", {"place_id": "h1_kitchen"})
    hub.bus.fire("access_granted", {"entity_id": "lock.h1"})
    hub.bus.fire("stranger_detected", {"camera": "gate"})
    hub.states.remove("lock.h1")
    assert received == expected
    assert [e.data.get("entity_id") for e in received["u1"] if e.event_type == "state_changed"] == [
        "lock.h1",
        "sensor.h1_smoke",
        "lock.h1",
    ]
    assert received["none"] == []
    assert len(received["u12"]) > len(received["u1"])


async def test_unsubscribe_removes_the_listener(hub: Hub) -> None:
    community(hub)
    router = ScopedEventRouter(hub)
    before = hub.bus.listener_counts().get("state_changed", 0)
    scope_one, scope_two = scopes(hub)[:2]
    got: list[Event] = []
    stop_one = router.subscribe("state_changed", scope_one, got.append)
    stop_two = router.subscribe("state_changed", scope_two, got.append)
    assert hub.bus.listener_counts()["state_changed"] == before + 1  # one shared listener
    stop_one()
    hub.states.set("lock.h1", "on")
    assert got == []
    hub.states.set("lock.h2", "on")
    assert [e.data["entity_id"] for e in got] == ["lock.h2"]
    stop_two()
    stop_two()  # twice is harmless
    assert hub.bus.listener_counts().get("state_changed", 0) == before
