"""Readers over MQTT on the real Mosquitto broker: attempts in, decisions out on the result
topic, passages for turnstiles, and bad messages answered with the field that is wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shouwang.core.clock import ManualClock

from .access_helpers import BASE_ACCESS, start_access_hub
from .automation_helpers import capture
from .mqtt_helpers import peer, unique, wait_for
from .services import Mosquitto


@pytest.fixture
async def setup(tmp_path: Path, clock: ManualClock, mosquitto: Mosquitto) -> Any:
    prefix = unique("access")
    config = (
        BASE_ACCESS
        + f"  mqtt: {{topic_prefix: {prefix}}}\n"
        + f"mqtt: {{broker: {mosquitto.host}, port: {mosquitto.port}, discovery: false}}\n"
    )
    hub = await start_access_hub(tmp_path, clock, config)
    assert "mqtt" in hub.integrations.loaded, hub.integrations.failed
    yield hub, prefix
    await hub.stop()


async def answer(device: Any, prefix: str, door: str, payload: Any) -> dict[str, Any]:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    device.publish(f"{prefix}/{door}/attempt", raw)
    message = await device.next(f"{prefix}/{door}/result")
    result: dict[str, Any] = json.loads(message.payload)
    return result


async def test_attempts_over_mqtt(setup: Any, mosquitto: Mosquitto) -> None:
    hub, prefix = setup
    granted = capture(hub, "access_granted")
    with peer(mosquitto) as device:
        device.subscribe(f"{prefix}/+/result")
        result = await answer(
            device, prefix, "gate_north",
            {"type": "card", "value": "AA000001", "reader": "gate_north_in", "id": "7"},
        )  # fmt: skip
        assert result == {
            "id": "7",
            "granted": True,
            "reason": "granted",
            "reader": "gate_north_in",
        }
        assert [e.data["person"] for e in granted] == ["R001"]
        result = await answer(device, prefix, "gate_north", {"type": "card", "value": "AA000002"})
        assert result == {
            "id": None,
            "granted": False,
            "reason": "lease_expired",
            "reader": "gate_north_in",
        }
        # the duress PIN's answer is the normal PIN's
        normal = await answer(device, prefix, "b01_u1", {"type": "pin", "value": "R001#1234"})
        duress = await answer(device, prefix, "b01_u1", {"type": "pin", "value": "R001#9999"})
        assert normal == duress


async def test_bad_messages_name_the_problem(setup: Any, mosquitto: Mosquitto) -> None:
    hub, prefix = setup
    denied = capture(hub, "access_denied")
    with peer(mosquitto) as device:
        device.subscribe(f"{prefix}/+/result")
        result = await answer(
            device, prefix, "gate_north", {"type": "iris", "value": "SECRET1", "id": "1"}
        )
        assert result["id"] == "1"
        assert result["error"].startswith("type:")
        assert "SECRET1" not in result["error"]
        result = await answer(device, prefix, "gate_north", b"{not json")
        assert result == {"id": None, "error": "payload is not JSON"}
        result = await answer(device, prefix, "moon", {"type": "card", "value": "AA000001"})
        assert result["error"] == "unknown door 'moon'"
        result = await answer(device, prefix, "gate_north", {"type": "card"})
        assert "value" in result["error"]
        result = await answer(
            device, prefix, "gate_north", {"type": "card", "value": "AA000001", "reader": "x"}
        )
        assert result["error"].startswith("reader: 'x' is not a reader of door 'gate_north'")
    assert denied == []  # bad messages are not attempts


async def test_passages_over_mqtt(setup: Any, mosquitto: Mosquitto) -> None:
    hub, prefix = setup
    tailgating = capture(hub, "tailgating")
    with peer(mosquitto) as device:
        device.publish(f"{prefix}/gate_north/passage", json.dumps({"direction": "in", "count": 2}))
        device.publish(f"{prefix}/b01_u1/passage", json.dumps({"count": 1}))  # no turnstile
        await wait_for(lambda: len(tailgating) == 2)
    assert hub.states.get("sensor.gate_north_passages_in").state == "2"


async def test_mqtt_readers_without_the_mqtt_integration(
    tmp_path: Path, clock: ManualClock
) -> None:
    hub = await start_access_hub(tmp_path, clock, BASE_ACCESS + "  mqtt:\n")
    assert "access" in hub.integrations.loaded
    note = hub.states.get("persistent_notification.access_mqtt")
    assert note is not None and "mqtt integration is not loaded" in note.attributes["message"]
    await hub.stop()
