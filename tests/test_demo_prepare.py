"""The demo's config directory: every block valid, every integration sets up, no failures."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from pathlib import Path

from shouwang.core.clock import ManualClock
from shouwang.core.config import load_config_dir
from shouwang.core.hub import Hub
from shouwang.core.loader import check_integration_config
from shouwang.integrations.demo import prepare as demo_prepare
from shouwang.integrations.demo.mqtt_devices import SimulatedDevices

from .mqtt_helpers import wait_for
from .services import Mosquitto, free_port

AUTOMATIONS = Path(__file__).resolve().parents[1] / "automations"


def _prepare(config: Path, mosquitto: Mosquitto) -> object:
    return demo_prepare.prepare(
        config, today=date(2026, 11, 28), mqtt_host=mosquitto.host, mqtt_port=mosquitto.port,
        frigate_url=f"http://127.0.0.1:{free_port()}", http_port=0, automations_source=AUTOMATIONS,
        mqtt_client_id=f"hub-{uuid.uuid4().hex[:8]}",
    )  # fmt: skip


def test_demo_configuration_checks_clean(tmp_path: Path, mosquitto: Mosquitto) -> None:
    _prepare(tmp_path / "demo", mosquitto)
    errors = check_integration_config(load_config_dir(tmp_path / "demo"))
    assert [str(error) for error in errors] == []


async def test_demo_hub_sets_up_every_integration(
    tmp_path: Path, mosquitto: Mosquitto, clock: ManualClock
) -> None:
    config = tmp_path / "demo"
    await asyncio.to_thread(_prepare, config, mosquitto)
    hub = Hub(config, clock=clock)
    await hub.start()
    devices = SimulatedDevices(
        mosquitto.host,
        mosquitto.port,
        list(demo_prepare.DOORS),
        list(demo_prepare.SENSORS),
        sirens=demo_prepare.SIRENS,
        client_id=f"devices-{uuid.uuid4().hex[:8]}",
    )
    await asyncio.to_thread(devices.start)
    try:
        assert hub.integrations.failed == {}
        for domain in ("mqtt", "registry", "frigate", "access", "visitor_pass", "intercom", "notify",
                       "auth", "http", "api", "frontend", "automation"):  # fmt: skip
            assert domain in hub.integrations.loaded, domain
        await wait_for(lambda: hub.states.get("lock.gate_north") is not None)
        await wait_for(lambda: hub.states.get("binary_sensor.b02_u2_door_door") is not None)
        assert hub.places.place_of("lock.b01_u1_door") == "B01-U1"
        assert hub.states.get("intercom.guard_room") is not None
        automations = [s.entity_id for s in hub.states.all("automation")]
        assert "automation.stranger_at_night_gates" in automations
    finally:
        await asyncio.to_thread(devices.stop)
        await hub.stop(timeout=2)
