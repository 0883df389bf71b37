"""Visitor QR codes at the doors: access control delegates to the real ``visitor_pass``
integration (signed tokens, routes, door groups, uses) and turns its answer into access events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shouwang.core.clock import ManualClock

from .access_helpers import BASE_ACCESS, lock_of, start_access_hub
from .automation_helpers import capture, settle


@pytest.fixture
async def hub(tmp_path: Path, clock: ManualClock) -> Any:
    hub = await start_access_hub(tmp_path, clock, BASE_ACCESS + "visitor_pass:\n")
    assert "visitor_pass" in hub.integrations.loaded, hub.integrations.failed
    yield hub
    await hub.stop()


async def issue(hub: Any, **fields: Any) -> str:
    data = {"visitor_name": "访客甲", "host_household": "B01-U1-0101", **fields}
    response = await hub.services.call("visitor_pass", "create", data, return_response=True)
    assert response is not None
    token = response["token"]
    assert isinstance(token, str)
    return token


async def present(hub: Any, door: str, token: str) -> dict[str, Any]:
    response = await hub.services.call(
        "access", "present_credential", {"door": door, "type": "qr", "value": token},
        return_response=True,
    )  # fmt: skip
    assert response is not None
    await settle(hub)
    return response


async def test_a_valid_pass_opens_its_doors_and_counts_uses(hub: Any) -> None:
    granted = capture(hub, "access_granted")
    used = capture(hub, "visitor_pass_used")
    token = await issue(hub, doors=["gate_north"], max_uses=1)
    assert await present(hub, "gate_north", token) == {
        "granted": True,
        "reason": "granted",
        "person": None,
    }
    (event,) = granted
    assert event.data["credential_type"] == "qr"
    assert event.data["household"] == "B01-U1-0101"
    assert event.data["visitor_name"] == "访客甲"
    assert event.data["pass_id"]
    assert lock_of(hub, "lock.gate_north").commands == ["unlock"]
    assert [e.data["uses"] for e in used] == [1]
    # one use only
    assert (await present(hub, "gate_north", token))["reason"] == "used_up_pass"


async def test_pass_refusals_are_access_denials(hub: Any, clock: ManualClock) -> None:
    denied = capture(hub, "access_denied")
    token = await issue(hub, doors=["gate_north"], duration="00:30:00")
    assert (await present(hub, "gym", token))["reason"] == "wrong_door_pass"
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert (await present(hub, "gate_north", forged))["reason"] == "bad_signature_pass"
    assert (await present(hub, "gate_north", "not a token"))["reason"] == "malformed_pass"
    await clock.advance(31 * 60)
    assert (await present(hub, "gate_north", token))["reason"] == "expired_pass"
    assert [e.data["credential_type"] for e in denied] == ["qr"] * 4


async def test_passes_naming_door_groups_learn_them_from_access(hub: Any) -> None:
    token = await issue(hub, door_groups=["perimeter"])
    assert (await present(hub, "gate_north", token))["granted"]
    assert (await present(hub, "b01_u1", token))["reason"] == "wrong_door_pass"


async def test_passes_routed_by_place_open_the_doors_standing_there(hub: Any) -> None:
    """A pass whose route is a place (the building) opens the access doors configured at that
    place, and no other: access control tells the passes where its doors stand."""
    token = await issue(hub, places=["P-B01"])
    assert (await present(hub, "b01_u1", token))["granted"]
    assert (await present(hub, "gate_north", token))["reason"] == "wrong_door_pass"
    assert (await present(hub, "gym", token))["reason"] == "wrong_door_pass"  # placeless door


async def test_repeated_bad_passes_lock_the_reader(hub: Any) -> None:
    locked = capture(hub, "access_reader_locked")
    for _ in range(6):
        await present(hub, "gate_north", "garbage")
    assert [e.data["reader"] for e in locked] == ["gate_north_in"]
