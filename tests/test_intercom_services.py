"""The intercom services once the integration owns them: calls without a target, intercom
entities of other integrations (the demo's door station) keeping the platform's behaviour in
either set-up order, and the validation of every service."""

from __future__ import annotations

from typing import Any

import pytest

from shouwang.core.clock import ManualClock
from shouwang.core.events import Context
from shouwang.core.hub import Hub
from shouwang.core.platforms import IntercomEntity
from shouwang.core.services import ServiceValidationError
from shouwang.integrations.intercom.manager import CallManager


class OtherIntercom(IntercomEntity):
    """An intercom entity of another integration, as the demo has."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.did: list[tuple[str, Any]] = []

    async def call(self, *, target: str, context: Context | None = None) -> None:
        self.did.append(("call", target))
        self.intercom_state = "ringing"
        self.write_state(context)

    async def answer(self, *, context: Context | None = None) -> None:
        self.did.append(("answer", None))

    async def hangup(self, *, context: Context | None = None) -> None:
        self.did.append(("hangup", None))

    async def unlock(self, *, door: int | None = None, context: Context | None = None) -> None:
        self.did.append(("unlock", door))


STATIONS = {
    "stations": {
        "guard_room": {"kind": "guard", "protocol": "console"},
        "gate": {"kind": "door", "protocol": "console", "door_lock": "lock.gate"},
    }
}


async def setup(hub: Hub) -> CallManager:
    await hub.integrations.setup_many({"intercom": STATIONS})
    manager = hub.integrations.runtime("intercom")
    assert isinstance(manager, CallManager)
    return manager


async def svc(hub: Hub, service: str, data: dict[str, Any], entity: str | None = None) -> Any:
    return await hub.services.call(
        "intercom",
        service,
        data,
        target={"entity_id": entity} if entity else None,
        blocking=True,
    )


@pytest.mark.parametrize("other_first", [True, False])
async def test_other_integrations_intercoms_keep_the_platform_behaviour(
    hub: Hub, other_first: bool
) -> None:
    other = OtherIntercom("Demo Door")
    if other_first:
        await hub.entities.add([other], integration="demo")
        manager = await setup(hub)
    else:
        manager = await setup(hub)
        await hub.entities.add([other], integration="demo")
    await svc(hub, "call", {"target": "B1-U1-1203", "message": "x"}, "intercom.demo_door")
    await svc(hub, "answer", {}, "intercom.demo_door")
    await svc(hub, "unlock", {"door": 2}, "intercom.demo_door")
    await svc(hub, "hangup", {}, "intercom.demo_door")
    assert other.did == [("call", "B1-U1-1203"), ("answer", None), ("unlock", 2), ("hangup", None)]
    assert hub.states.is_state("intercom.demo_door", "ringing")
    with pytest.raises(ServiceValidationError, match="demo_door is not an intercom station"):
        await svc(hub, "decline", {}, "intercom.demo_door")
    assert manager.calls == {}  # none of it went through the call manager
    # and the integration's own call without a target still works
    await svc(hub, "call", {"target": "guard_room"})
    assert hub.states.is_state("intercom.guard_room", "ringing")


async def test_service_validation(hub: Hub) -> None:
    await setup(hub)
    with pytest.raises(ServiceValidationError, match=r"intercom.call: target: "):
        await svc(hub, "call", {"target": ""})
    with pytest.raises(ServiceValidationError, match="extra keys not allowed"):
        await svc(hub, "call", {"target": "guard_room", "volume": 3})
    with pytest.raises(ServiceValidationError, match="give a station"):
        await svc(hub, "answer", {})
    with pytest.raises(ServiceValidationError, match="no active call 'nope'"):
        await svc(hub, "hangup", {"call_id": "nope"})
    with pytest.raises(ServiceValidationError, match=r"intercom\.guard_room has no ringing call"):
        await svc(hub, "answer", {}, "intercom.guard_room")
    with pytest.raises(ServiceValidationError, match="door: value must be at least 1"):
        await svc(hub, "unlock", {"door": 0}, "intercom.gate")
    with pytest.raises(ServiceValidationError, match="target one station, not all"):
        await svc(hub, "hangup", {}, "all")
    with pytest.raises(ServiceValidationError, match=r"no such entity: intercom\.nobody"):
        await svc(hub, "call", {"target": "guard_room"}, "intercom.nobody")


async def test_console_answers_by_call_id_and_declines(hub: Hub) -> None:
    manager = await setup(hub)
    response = await hub.services.call(
        "intercom",
        "call",
        {"target": "guard_room"},
        target={"entity_id": "intercom.gate"},
        return_response=True,
    )
    assert response is not None
    call_id = response["calls"][0]["call_id"]
    manager.stations["intercom.guard_room"].missed_calls = 2
    await svc(hub, "answer", {"call_id": call_id})
    assert manager.stations["intercom.guard_room"].missed_calls == 0  # seen by whoever answers
    assert manager.calls[call_id].answered_by == "intercom.guard_room"
    await svc(hub, "hangup", {"call_id": call_id})
    assert manager.recent[-1].end_reason == "hangup"
    await svc(hub, "call", {"target": "guard_room"}, "intercom.gate")
    await svc(hub, "decline", {}, "intercom.guard_room")
    assert manager.recent[-1].end_reason == "declined"
    assert hub.states.is_state("intercom.gate", "idle")


async def test_a_station_in_several_calls(hub: Hub, clock: ManualClock) -> None:
    manager = await setup(hub)
    first = (await svc_response(hub, {"target": "guard_room", "reason": "a"}))["calls"][0]
    await clock.advance(10)
    second = (await svc_response(hub, {"target": "guard_room", "reason": "b"}))["calls"][0]
    guard = hub.states.get("intercom.guard_room")
    assert guard is not None and guard.attributes["call_id"] == first["call_id"]  # oldest
    await svc(hub, "answer", {"call_id": second["call_id"]}, "intercom.guard_room")
    guard = hub.states.get("intercom.guard_room")
    assert guard is not None and guard.state == "in_call"
    assert guard.attributes["call_id"] == second["call_id"]
    assert [c.call_id for c in manager.calls_at("intercom.guard_room", "ringing")] == [
        first["call_id"]
    ]
    await clock.advance(20)  # the first was never answered: missed
    assert [c.call_id for c in manager.calls_at("intercom.guard_room")] == [second["call_id"]]
    await svc(hub, "hangup", {}, "intercom.guard_room")
    assert manager.calls_at("intercom.guard_room") == []
    assert hub.states.is_state("intercom.guard_room", "idle")
    assert [(c.reason, c.phase) for c in manager.recent] == [("a", "missed"), ("b", "ended")]


async def svc_response(hub: Hub, data: dict[str, Any]) -> Any:
    return await hub.services.call("intercom", "call", data, return_response=True)
