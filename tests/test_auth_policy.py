"""The access policy: every role against every Access level, and residents' household scope
over entities, events and service calls (the rule in ``integrations/auth/policy.py``)."""

from __future__ import annotations

import pytest

from shouwang.core.clock import ManualClock
from shouwang.core.events import Event
from shouwang.core.hub import Hub
from shouwang.core.places import Place
from shouwang.integrations.auth.policy import PLACE_MEMO_SECONDS, Access, Scope, User, allowed

EXPECTED = {
    # role:     PUBLIC USER  READ_ALL CONTROL CONFIG ADMIN
    "admin": (True, True, True, True, True, True),
    "staff": (True, True, True, True, True, False),
    "guard": (True, True, True, True, False, False),
    "service": (True, True, True, True, False, False),
    "resident": (True, True, False, False, False, False),
}
LEVELS = (Access.PUBLIC, Access.USER, Access.READ_ALL, Access.CONTROL, Access.CONFIG, Access.ADMIN)


@pytest.mark.parametrize("role", sorted(EXPECTED))
@pytest.mark.parametrize("level", LEVELS)
def test_policy_matrix(role: str, level: Access) -> None:
    households = frozenset({"H1"}) if role == "resident" else frozenset()
    user = User("u1", "someone", role, households)
    assert allowed(user, level) is EXPECTED[role][LEVELS.index(level)]
    disabled = User("u1", "someone", role, households, is_active=False)
    assert allowed(disabled, level) is (level is Access.PUBLIC)


@pytest.mark.parametrize("level", LEVELS)
def test_anonymous_and_unknown_roles_reach_only_public(level: Access) -> None:
    assert allowed(None, level) is (level is Access.PUBLIC)
    assert allowed(User("u", "x", "superuser"), level) is (level is Access.PUBLIC)


def _community(hub: Hub) -> None:
    """Building B01 > unit B01-U1 > households H1, H2; a north gate shared by everyone."""
    hub.places.add(Place("B01", "1号楼", "building"))
    hub.places.add(Place("B01-U1", "1单元", "unit_entrance", "B01"))
    hub.places.add(Place("H1", "0101", "household", "B01-U1"))
    hub.places.add(Place("H2", "0102", "household", "B01-U1"))
    hub.places.add(Place("H1-KITCHEN", "厨房", "room", "H1"))
    hub.places.add(Place("P-GATE-N", "北门", "pedestrian_gate"))
    hub.states.set("lock.h1_door", "locked")
    hub.places.bind("lock.h1_door", "H1")
    hub.states.set("binary_sensor.h1_smoke", "off")
    hub.places.bind("binary_sensor.h1_smoke", "H1-KITCHEN")
    hub.states.set("lock.h2_door", "locked")
    hub.places.bind("lock.h2_door", "H2")
    hub.states.set("lock.unit_door", "locked")
    hub.places.bind("lock.unit_door", "B01-U1")
    hub.states.set("lock.gate_north", "locked")
    hub.places.bind("lock.gate_north", "P-GATE-N")
    hub.states.set("sensor.h2_meter", "3", {"household_id": "H2"})
    hub.states.set("siren.h2_or_h1", "off", {"household_id": ["H1", "H2"]})
    hub.states.set("camera.h1_door", "idle", {"place_id": "H1"})  # attribute only, not bound


def _resident(hub: Hub, *households: str) -> Scope:
    return Scope(hub, User("r", "resident", "resident", frozenset(households)))


async def test_resident_reads_and_controls_only_own_household(hub: Hub) -> None:
    _community(hub)
    scope = _resident(hub, "H1")
    assert scope.is_resident and scope.household_ids == {"H1"}
    readable = {
        state.entity_id for state in hub.states.all() if scope.can_read_entity(state.entity_id)
    }
    assert readable == {
        "lock.h1_door",
        "binary_sensor.h1_smoke",
        "siren.h2_or_h1",
        "camera.h1_door",
    }
    assert scope.can_control_entity("lock.h1_door")
    assert not scope.can_control_entity("lock.h2_door")
    assert not scope.can_control_entity("lock.gate_north")
    assert not scope.can_read_entity("lock.unit_door")  # shared by the unit, not a household's
    assert not scope.can_read_entity("sensor.h2_meter")
    assert not scope.can_read_entity("light.does_not_exist")
    assert scope.filter_entities(["lock.h2_door", "lock.h1_door"]) == ["lock.h1_door"]
    both = _resident(hub, "H1", "H2")
    assert both.can_read_entity("sensor.h2_meter") and both.can_read_entity("lock.h1_door")


async def test_staff_guard_service_see_everything_admin_too(hub: Hub) -> None:
    _community(hub)
    for role in ("admin", "staff", "guard", "service"):
        scope = Scope(hub, User("u", role, role))
        assert not scope.is_resident and scope.household_ids == frozenset()
        assert all(scope.can_read_entity(s.entity_id) for s in hub.states.all())
        assert scope.can_control_entity("lock.gate_north")
        assert scope.can_call_service("homeassistant", "restart", [])
        assert scope.can_read_event(Event("stranger_detected", {"camera": "north"}, None, 0.0))


async def test_disabled_user_scope_allows_nothing(hub: Hub) -> None:
    _community(hub)
    for role, households in (("guard", frozenset()), ("resident", frozenset({"H1"}))):
        scope = Scope(hub, User("u", "x", role, households, is_active=False))
        assert not scope.can_read_entity("lock.h1_door")
        assert not scope.can_control_entity("lock.h1_door")
        assert not scope.can_call_service("lock", "unlock", ["lock.h1_door"])
        assert not scope.can_read_event(Event("intercom_call", {"household_id": "H1"}, None, 0.0))


async def test_resident_events_only_about_own_household(hub: Hub) -> None:
    _community(hub)
    scope = _resident(hub, "H1")

    def event(event_type: str, **data: object) -> Event:
        return Event(event_type, data, None, 0.0)

    assert scope.can_read_event(event("intercom_call", household_id="H1"))
    assert scope.can_read_event(event("intercom_call", household="H1"))
    assert scope.can_read_event(event("x", household_id=["H9", "H1"]))
    assert scope.can_read_event(event("state_changed", entity_id="lock.h1_door"))
    assert scope.can_read_event(
        event("door_held_open", entity_id=["lock.gate_north", "lock.h1_door"])
    )
    assert scope.can_read_event(event("smoke", place_id="H1-KITCHEN"))
    assert not scope.can_read_event(event("intercom_call", household_id="H2"))
    assert not scope.can_read_event(event("state_changed", entity_id="lock.h2_door"))
    assert not scope.can_read_event(
        event("stranger_detected", entity_id="lock.gate_north", camera="north")
    )
    assert not scope.can_read_event(event("door_forced", place_id="P-GATE-N"))
    assert not scope.can_read_event(event("alarm", place_id="B01-U1"))
    assert not scope.can_read_event(event("hub_started"))
    assert not scope.can_read_event(event("x", household_id=42, entity_id={"a": 1}))
    assert not scope.can_read_event(event("x", person_id="R00001"))  # no registry loaded
    assert scope.is_about_own_household({"household_id": "H1", "code": "1234"})


async def test_households_of_event_agrees_with_each_residents_scope(hub: Hub) -> None:
    """What a dispatcher computes once per event matches every resident's own answer."""
    _community(hub)
    samples = [
        {"household_id": "H1"}, {"household": ["H2", "H9"]}, {"entity_id": "lock.h1_door"},
        {"entity_id": ["lock.gate_north", "sensor.h2_meter"]}, {"entity_id": "siren.h2_or_h1"},
        {"place_id": "H1-KITCHEN"}, {"place_id": "P-GATE-N"}, {"entity_id": "camera.h1_door"},
        {"entity_id": "lock.unit_door"}, {}, {"household_id": 5}, {"person_id": "R1"},
    ]  # fmt: skip
    staff = Scope(hub, User("s", "staff", "staff"))
    residents = [_resident(hub, "H1"), _resident(hub, "H2"), _resident(hub, "H1", "H2")]
    for data in samples:
        event = Event("x", data, None, 0.0)
        households = staff.households_of_record(event.data)
        for scope in residents:
            assert scope.can_read_event(event) is bool(households & scope.household_ids), data
    assert staff.households_of_record({"entity_id": "siren.h2_or_h1"}) == {"H1", "H2"}


async def test_long_lived_scope_follows_place_changes(hub: Hub, clock: ManualClock) -> None:
    _community(hub)
    scope = _resident(hub, "H1")
    hub.places.add(Place("STORE", "储藏室", "room"))
    hub.states.set("sensor.store", "1")
    hub.places.bind("sensor.store", "STORE")
    assert not scope.can_read_entity("sensor.store")
    hub.places.add(Place("STORE", "储藏室", "room", "H1"))  # the registry moves it into H1
    await clock.advance(PLACE_MEMO_SECONDS + 1)
    assert scope.can_read_entity("sensor.store")
    assert _resident(hub, "H2").filter_entities(["sensor.store", "lock.h2_door"]) == [
        "lock.h2_door"
    ]
