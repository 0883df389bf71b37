"""Entity registry: ids, unique ids, places, service fan-out, partial outages, rollback."""

from __future__ import annotations

from typing import Any

import pytest

from shouwang.core.entity import DeviceInfo, Entity, slugify
from shouwang.core.events import Context
from shouwang.core.hub import Hub
from shouwang.core.places import Place
from shouwang.core.platforms import LockEntity, SwitchEntity
from shouwang.core.services import ServiceError, ServiceValidationError


class Door(LockEntity):
    def __init__(self, name: str, **options: Any) -> None:
        super().__init__(name, **options)
        self.lock_state = "locked"

    async def unlock(self, *, code: str | None = None, context: Context | None = None) -> None:
        self.lock_state = "unlocked"
        self.write_state(context)


class BrokenOnAdd(SwitchEntity):
    async def added_to_hub(self) -> None:
        raise OSError("device not answering")


def test_slugify() -> None:
    assert slugify("Gate North") == "gate_north"
    assert slugify("  B1--U1 Door!! ") == "b1_u1_door"
    assert slugify("北门") == ""


async def test_ids_from_names_dedupe_and_requested_ids(hub: Hub) -> None:
    first, second = Door("Gate North"), Door("Gate North")
    chinese = Door("北门", unique_id="gate-n-cn")
    custom = Door("x", entity_id="lock.my_gate")
    await hub.entities.add([first, second, chinese, custom], integration="t")
    assert [first.entity_id, second.entity_id] == ["lock.gate_north", "lock.gate_north_2"]
    assert chinese.entity_id == "lock.gate_n_cn"
    assert custom.entity_id == "lock.my_gate"
    with pytest.raises(ValueError, match=r"must start with lock\."):
        await hub.entities.add([Door("y", entity_id="switch.y")])


async def test_duplicate_unique_id_is_skipped(hub: Hub) -> None:
    added = await hub.entities.add([Door("A", unique_id="u1"), Door("B", unique_id="u1")], "t")
    assert [e.entity_id for e in added] == ["lock.a"]
    assert hub.states.get("lock.b") is None


async def test_attributes_place_and_device(hub: Hub) -> None:
    door = Door(
        "Unit Door",
        place_id="P-B1-U1",
        icon="mdi:door",
        device_info=DeviceInfo(frozenset({("zigbee", "00:11")}), "Door lock", "Aqara"),
        attributes={"floor": 1},
    )
    await hub.entities.add([door], "t")
    state = hub.states.get("lock.unit_door")
    assert state is not None
    assert state.attributes["place_id"] == "P-B1-U1"
    assert state.attributes["friendly_name"] == "Unit Door"
    assert state.attributes["icon"] == "mdi:door"
    assert state.attributes["floor"] == 1
    assert hub.places.place_of("lock.unit_door") == "P-B1-U1"
    assert door.device_info is not None and door.device_info.as_dict()["manufacturer"] == "Aqara"


async def test_place_target_skips_an_offline_door_but_opens_the_rest(hub: Hub) -> None:
    hub.places.add(Place("P-B1", "1号楼"))
    a, b = Door("A", place_id="P-B1"), Door("B", place_id="P-B1")
    await hub.entities.add([a, b], "t")
    b.set_available(False)
    await hub.services.call("lock", "unlock", target={"place_id": "P-B1"}, blocking=True)
    assert hub.states.is_state("lock.a", "unlocked")
    assert hub.states.is_state("lock.b", "unavailable")
    a.set_available(False)
    with pytest.raises(ServiceError, match="unavailable"):
        await hub.services.call("lock", "unlock", target={"place_id": "P-B1"}, blocking=True)


async def test_unknown_entity_is_an_error_and_target_is_required(hub: Hub) -> None:
    await hub.entities.add([Door("A")], "t")
    with pytest.raises(ServiceValidationError, match=r"no such entity: lock\.typo"):
        await hub.services.call("lock", "unlock", target={"entity_id": "lock.typo"}, blocking=True)
    with pytest.raises(ServiceValidationError, match="needs a target"):
        await hub.services.call("lock", "unlock", blocking=True)
    await hub.services.call("lock", "unlock", target={"entity_id": "all"}, blocking=True)
    assert hub.states.is_state("lock.a", "unlocked")


async def test_failed_add_leaves_nothing_behind(hub: Hub) -> None:
    hub.places.add(Place("P-X", "x"))
    with pytest.raises(OSError):
        await hub.entities.add([BrokenOnAdd("Pump", place_id="P-X", unique_id="p1")], "t")
    assert hub.entities.get("switch.pump") is None
    assert hub.places.entities_in("P-X") == set()
    again = await hub.entities.add([SwitchEntity("Pump", unique_id="p1")], "t")
    assert again[0].entity_id == "switch.pump"


async def test_remove_entity(hub: Hub) -> None:
    await hub.entities.add([Door("A", place_id=None)], "t")
    await hub.entities.remove("lock.a")
    assert hub.states.get("lock.a") is None
    assert hub.entities.get("lock.a") is None
    assert len(hub.entities) == 0


async def test_entity_without_platform_or_hub_is_refused(hub: Hub) -> None:
    with pytest.raises(TypeError, match="does not belong to a platform"):
        await hub.entities.add([Entity("bare")])
    with pytest.raises(RuntimeError, match="has not been added"):
        Door("loose").write_state()


async def test_ledger_assignment_applies_to_entities_without_a_place_of_their_own(hub: Hub) -> None:
    hub.places.add(Place("P-GATE", "北门", "pedestrian_gate"))
    hub.places.add(Place("P-B01", "1号楼", "building"))
    hub.places.assign("switch.no_place", "P-GATE")  # before the entity exists
    hub.places.assign("switch.own_place", "P-GATE")
    [plain, placed] = await hub.entities.add(
        [SwitchEntity("No Place"), SwitchEntity("Own Place", place_id="P-B01")], "test"
    )
    assert hub.places.place_of(plain.entity_id) == "P-GATE"
    assert hub.places.place_of(placed.entity_id) == "P-B01"  # its own place wins
    assert hub.places.entities_in("P-GATE") == {"switch.no_place"}
    await hub.entities.remove(placed.entity_id)
    assert hub.places.place_of("switch.own_place") == "P-GATE"  # the ledger's, again
    await hub.entities.remove(plain.entity_id)
    assert hub.places.place_of("switch.no_place") == "P-GATE"  # re-added later: same place
    hub.places.assign("switch.no_place", None)
    assert hub.places.entities_in("P-GATE") == {"switch.own_place"}
