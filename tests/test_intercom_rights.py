"""Who may open a door through the intercom: residents (from the registry and from accounts),
staff, guards, expired tenants, disabled accounts — with the real registry and auth storage."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from shouwang.core.clock import ManualClock
from shouwang.core.events import Context, Event
from shouwang.core.hub import Hub
from shouwang.core.platforms import LockEntity
from shouwang.core.services import ServiceError
from shouwang.integrations.intercom.rights import (
    HUB,
    Actor,
    station_actor,
    unit_of,
    unlock_denial,
)
from shouwang.integrations.intercom.station import StationConfig
from shouwang.integrations.registry import open_registry
from shouwang.integrations.registry.transfer import import_file

from .community_data import DATA

PEOPLE = ("R00001", "R00288", "R00722", "S05696")
HOUSEHOLDS = ("B01-U1-0101", "B02-U1-0301", "B03-U2-0501")


def subset(source: Path, target: Path, keys: tuple[str, ...] | None) -> None:
    lines = source.read_text(encoding="utf-8").splitlines()
    kept = [lines[0]] + [line for line in lines[1:] if keys is None or line.split(",")[0] in keys]
    target.write_text("\n".join(kept) + "\n", encoding="utf-8")


class RecordingLock(LockEntity):
    """A door lock that records each unlock (the device side of a console door station)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.lock_state = "locked"
        self.unlocks: list[Context | None] = []

    async def unlock(self, *, code: str | None = None, context: Context | None = None) -> None:
        self.unlocks.append(context)


CONFIG = """
shouwang:
  time_zone: Asia/Shanghai
registry: {}
auth: {}
intercom:
  stations:
    gate_north: {kind: door, protocol: console, place: P-GATE-N, door_lock: lock.gate_north}
    b01_u1_door: {kind: door, protocol: console, place: B01-U1, door_lock: lock.b01_u1}
    b02_u1_door: {kind: door, protocol: console, place: B02-U1, door_lock: lock.b02_u1}
    b01_u1_0101: {kind: indoor, protocol: console, household: B01-U1-0101}
    b02_u1_0301: {kind: indoor, protocol: console, household: B02-U1-0301}
    guard_room: {kind: guard, protocol: console}
"""


@pytest.fixture
async def hub(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Hub]:
    storage, protector = open_registry(tmp_path)
    for kind, keys in (("places", None), ("households", HOUSEHOLDS), ("people", PEOPLE)):
        subset(DATA / f"{kind}.csv", tmp_path / f"{kind}.csv", keys)
        import_file(storage, protector, tmp_path / f"{kind}.csv", kind)
    storage.close()
    (tmp_path / "configuration.yaml").write_text(textwrap.dedent(CONFIG), encoding="utf-8")
    hub = Hub(tmp_path, clock=clock)
    await hub.start()
    assert {"intercom", "registry", "auth"} <= set(hub.integrations.loaded), hub.integrations.failed
    yield hub
    await hub.stop(timeout=2)


@pytest.fixture
async def locks(hub: Hub) -> dict[str, RecordingLock]:
    made = {name: RecordingLock(name) for name in ("Gate North", "B01 U1", "B02 U1")}
    await hub.entities.add(made.values(), integration="test")
    return {lock.entity_id or "": lock for lock in made.values()}


async def unlock(hub: Hub, station: str, user: str | None = None) -> None:
    await hub.services.call(
        "intercom",
        "unlock",
        target={"entity_id": station},
        context=Context(user_id=user),
        blocking=True,
    )


def capture(hub: Hub, event_type: str) -> list[Event]:
    seen: list[Event] = []
    hub.bus.listen(event_type, seen.append)
    return seen


# -- the rule itself -------------------------------------------------------------------------
def test_unlock_rule() -> None:
    unit_door = StationConfig.from_config(
        "u", {"kind": "door", "protocol": "console", "place": "B01-U1"}
    )
    resident = Actor("resident", "user:r", frozenset({"B01-U1-0101"}))
    other = Actor("resident", "user:o", frozenset({"B02-U1-0301"}))
    assert unit_of("B01-U1-0101") == "B01-U1"
    assert unlock_denial(resident, unit_door, []) is None  # own unit entrance
    assert unlock_denial(other, unit_door, ["B01-U1-0101"]) is not None
    assert unlock_denial(other, unit_door, ["B02-U1-0301"]) is None  # it is calling them
    assert unlock_denial(HUB, unit_door, []) is None
    assert unlock_denial(Actor("guard", "intercom.guard_room"), unit_door, []) is None
    nobody = Actor("nobody", "user:x", why_nobody="lease ended")
    assert "lease ended" in (unlock_denial(nobody, unit_door, ["B01-U1-0101"]) or "")
    panel = StationConfig.from_config(
        "p", {"kind": "indoor", "protocol": "console", "household": "B01-U1-0101"}
    )
    assert "not a door station" in (unlock_denial(HUB, panel, []) or "")
    assert station_actor(panel).households == frozenset({"B01-U1-0101"})
    gate = StationConfig.from_config(
        "g", {"kind": "door", "protocol": "console", "place": "P-GATE-N"}
    )
    assert unlock_denial(resident, gate, []) is not None  # not theirs, not calling them


# -- residents from the registry -------------------------------------------------------------
async def test_registry_resident_opens_own_unit_not_anothers(
    hub: Hub, locks: dict[str, RecordingLock]
) -> None:
    grants = capture(hub, "intercom_unlock")
    await unlock(hub, "intercom.b01_u1_door", "R00001")
    assert len(locks["lock.b01_u1"].unlocks) == 1
    with pytest.raises(ServiceError, match=r"unlock denied: user:R00001 \(household B01-U1-0101\)"):
        await unlock(hub, "intercom.b02_u1_door", "R00001")
    assert locks["lock.b02_u1"].unlocks == []
    assert [(e.data["station"], e.data["granted"]) for e in grants] == [
        ("intercom.b01_u1_door", True),
        ("intercom.b02_u1_door", False),
    ]


async def test_resident_opens_the_gate_only_while_it_calls_them(
    hub: Hub, locks: dict[str, RecordingLock]
) -> None:
    with pytest.raises(ServiceError, match="unlock denied"):
        await unlock(hub, "intercom.gate_north", "R00001")
    await hub.services.call(
        "intercom",
        "call",
        {"target": "B01-U1-0101"},
        target={"entity_id": "intercom.gate_north"},
        blocking=True,
    )
    with pytest.raises(ServiceError, match="unlock denied"):
        await unlock(hub, "intercom.gate_north", "R00288")  # B02-U1-0301 is not being called
    await unlock(hub, "intercom.gate_north", "R00001")
    assert len(locks["lock.gate_north"].unlocks) == 1
    await hub.services.call(
        "intercom", "hangup", target={"entity_id": "intercom.gate_north"}, blocking=True
    )
    with pytest.raises(ServiceError, match="unlock denied"):
        await unlock(hub, "intercom.gate_north", "R00001")
    assert len(locks["lock.gate_north"].unlocks) == 1


async def test_the_panel_being_called_opens_its_caller(
    hub: Hub, locks: dict[str, RecordingLock]
) -> None:
    await hub.services.call(
        "intercom",
        "call",
        {"target": "B02-U1-0301"},
        target={"entity_id": "intercom.gate_north"},
        blocking=True,
    )
    await hub.services.call(
        "intercom", "answer", target={"entity_id": "intercom.b02_u1_0301"}, blocking=True
    )
    await unlock(hub, "intercom.b02_u1_0301")  # "open" pressed on the panel
    assert len(locks["lock.gate_north"].unlocks) == 1
    # another household's panel cannot open it: it has no call with that door
    with pytest.raises(ServiceError, match="b01_u1_0101 has no active call"):
        await unlock(hub, "intercom.b01_u1_0101")
    # nor can a panel open a door station directly
    with pytest.raises(ServiceError, match=r"b02_u1_door .*is neither"):
        await hub.services.call(
            "intercom",
            "unlock",
            target={"entity_id": "intercom.b02_u1_door"},
            context=Context(user_id="R00001"),
            blocking=True,
        )
    log = await hub.services.call("intercom", "call_log", {}, return_response=True)
    assert log is not None
    assert log["calls"][0]["unlocked_by"] == ["intercom.b02_u1_0301"]


async def test_expired_tenant_staff_and_unknown_users(
    hub: Hub, locks: dict[str, RecordingLock]
) -> None:
    with pytest.raises(ServiceError, match=r"user:R00722 has no right .*lease ended"):
        await unlock(hub, "intercom.b01_u1_door", "R00722")
    with pytest.raises(ServiceError, match=r"user:ghost has no right .*unknown user"):
        await unlock(hub, "intercom.b01_u1_door", "ghost")
    await unlock(hub, "intercom.b02_u1_door", "S05696")  # property staff
    await unlock(hub, "intercom.b02_u1_door")  # an automation: the hub
    assert len(locks["lock.b02_u1"].unlocks) == 2
    assert locks["lock.b01_u1"].unlocks == []


# -- residents and guards from the hub's accounts --------------------------------------------
async def test_accounts_resident_guard_and_disabled(
    hub: Hub, locks: dict[str, RecordingLock]
) -> None:
    auth: Any = hub.integrations.runtime("auth")
    resident = await auth.create_user("wang", "resident", ["B02-U1-0301"])
    guard = await auth.create_user("guard1", "guard")
    gone = await auth.create_user("old", "resident", ["B01-U1-0101"])
    await auth.set_active(gone.id, False)
    await unlock(hub, "intercom.b02_u1_door", resident.id)
    with pytest.raises(ServiceError, match=rf"user:{resident.id} \(household B02-U1-0301\)"):
        await unlock(hub, "intercom.b01_u1_door", resident.id)
    await unlock(hub, "intercom.b01_u1_door", guard.id)
    with pytest.raises(ServiceError, match="account disabled"):
        await unlock(hub, "intercom.b01_u1_door", gone.id)
    assert len(locks["lock.b02_u1"].unlocks) == 1
    assert len(locks["lock.b01_u1"].unlocks) == 1


async def test_calling_a_registered_household_without_a_panel(hub: Hub) -> None:
    with pytest.raises(ServiceError, match="household B03-U2-0501 has no indoor station"):
        await hub.services.call("intercom", "call", {"target": "B03-U2-0501"}, blocking=True)
    with pytest.raises(ServiceError, match=r"no intercom station or household .*'B09-U9-0909'"):
        await hub.services.call("intercom", "call", {"target": "B09-U9-0909"}, blocking=True)
