"""Service registry: register, call, validation errors naming fields, targets, call_service."""

from __future__ import annotations

from typing import Any

import pytest
import voluptuous as vol

from shouwang.core.events import Context, Event
from shouwang.core.hub import Hub
from shouwang.core.places import Place
from shouwang.core.services import (
    CALL_SERVICE,
    ServiceCall,
    ServiceNotFound,
    ServiceValidationError,
    SupportsResponse,
)


async def test_call_validates_and_reaches_handler(hub: Hub) -> None:
    calls: list[ServiceCall] = []

    async def handler(call: ServiceCall) -> None:
        calls.append(call)

    hub.services.register(
        "guard",
        "call",
        handler,
        {vol.Required("guard"): str, vol.Optional("urgent", default=False): bool},
    )
    ctx = Context(user_id="staff")
    await hub.services.call("guard", "call", {"guard": "张三"}, context=ctx, blocking=True)
    assert calls[0].data == {"guard": "张三", "urgent": False}
    assert calls[0].context is ctx
    assert calls[0].entity_ids is None


async def test_non_blocking_call_runs_as_task(hub: Hub) -> None:
    calls: list[ServiceCall] = []
    hub.services.register("x", "y", calls.append)
    assert await hub.services.call("x", "y") is None
    await hub.block_till_done()
    assert len(calls) == 1


async def test_errors_name_the_bad_field(hub: Hub) -> None:
    hub.services.register("lock", "unlock", lambda call: None, {vol.Optional("code"): str})
    with pytest.raises(ServiceValidationError, match=r"lock.unlock: code: expected str"):
        await hub.services.call("lock", "unlock", {"code": 1234}, blocking=True)
    with pytest.raises(ServiceValidationError, match=r"extra keys not allowed.*|pin"):
        await hub.services.call("lock", "unlock", {"pin": "1"}, blocking=True)
    with pytest.raises(ServiceNotFound, match=r"lock\.jump"):
        await hub.services.call("lock", "jump")


async def test_call_service_event_for_every_call(hub: Hub) -> None:
    events: list[Event] = []
    hub.bus.listen(CALL_SERVICE, events.append)
    hub.services.register("siren", "turn_on", lambda call: None)
    ctx = Context()
    await hub.services.call(
        "siren", "turn_on", target={"entity_id": "siren.gate_north"}, context=ctx, blocking=True
    )
    assert events[0].data["domain"] == "siren"
    assert events[0].data["service"] == "turn_on"
    assert events[0].data["target"] == {"entity_id": ["siren.gate_north"]}
    assert events[0].context is ctx


async def test_targets_by_entity_id_legacy_data_and_place(hub: Hub) -> None:
    calls: list[ServiceCall] = []
    hub.services.register("lock", "lock", calls.append)
    hub.places.add(Place("P-B1", "1号楼", "building"))
    hub.places.add(Place("P-B1-U1", "1单元", "unit", parent_id="P-B1"))
    hub.places.add(Place("P-B2", "2号楼", "building"))
    hub.places.bind("lock.b1_u1_door", "P-B1-U1")
    hub.places.bind("lock.b2_door", "P-B2")
    await hub.services.call("lock", "lock", target={"place_id": "P-B1"}, blocking=True)
    await hub.services.call("lock", "lock", {"entity_id": "Lock.B2_Door"}, blocking=True)
    await hub.services.call(
        "lock", "lock", target={"entity_id": ["lock.a"], "place_id": ["P-B2"]}, blocking=True
    )
    assert calls[0].entity_ids == {"lock.b1_u1_door"}
    assert calls[1].entity_ids == {"lock.b2_door"}
    assert calls[1].data == {}
    assert calls[2].entity_ids == {"lock.a", "lock.b2_door"}


async def test_bad_targets_are_reported(hub: Hub) -> None:
    hub.services.register("lock", "lock", lambda call: None)
    with pytest.raises(ServiceValidationError, match="unknown place 'P-NOPE'"):
        await hub.services.call("lock", "lock", target={"place_id": "P-NOPE"}, blocking=True)
    with pytest.raises(ServiceValidationError, match=r"target\.entity_id"):
        await hub.services.call("lock", "lock", target={"entity_id": "not valid"}, blocking=True)
    with pytest.raises(ServiceValidationError, match="unknown key 'area_id'"):
        await hub.services.call("lock", "lock", target={"area_id": "x"}, blocking=True)
    with pytest.raises(ServiceValidationError, match="expected strings"):
        await hub.services.call("lock", "lock", target={"entity_id": [1]}, blocking=True)


async def test_return_response(hub: Hub) -> None:
    def handler(call: ServiceCall) -> dict[str, Any]:
        return {"on_duty": ["guard.zhang"]}

    hub.services.register("guard", "on_duty", handler, supports_response=SupportsResponse.ONLY)
    hub.services.register("guard", "ping", lambda call: None)
    assert await hub.services.call("guard", "on_duty", return_response=True) == {
        "on_duty": ["guard.zhang"]
    }
    with pytest.raises(ServiceValidationError, match="only works with return_response"):
        await hub.services.call("guard", "on_duty", blocking=True)
    with pytest.raises(ServiceValidationError, match="does not return a response"):
        await hub.services.call("guard", "ping", return_response=True)


async def test_handler_errors_reach_a_blocking_caller(hub: Hub) -> None:
    def handler(call: ServiceCall) -> None:
        raise RuntimeError("gate jammed")

    hub.services.register("gate", "open", handler)
    with pytest.raises(RuntimeError, match="gate jammed"):
        await hub.services.call("gate", "open", blocking=True)


async def test_persistent_notification_services(hub: Hub) -> None:
    await hub.services.call(
        "persistent_notification",
        "create",
        {"message": "北门摄像头离线", "notification_id": "cam_offline"},
        blocking=True,
    )
    state = hub.states.get("persistent_notification.cam_offline")
    assert state is not None
    assert state.attributes["message"] == "北门摄像头离线"
    await hub.services.call(
        "persistent_notification", "dismiss", {"notification_id": "cam_offline"}, blocking=True
    )
    assert hub.states.get("persistent_notification.cam_offline") is None
    assert "persistent_notification" in hub.services.services()
