"""The demo integration: its simulated community runs on the hub clock and its devices work."""

from __future__ import annotations

from pathlib import Path

from shouwang.core.clock import ManualClock
from shouwang.core.hub import Hub
from shouwang.integrations.demo import DemoCommunity


async def start_demo(tmp_path: Path, clock: ManualClock, interval: int = 2) -> Hub:
    (tmp_path / "configuration.yaml").write_text(
        f"demo:\n  interval: {interval}\n  log_states: false\n"
    )
    hub = Hub(tmp_path, clock=clock)
    await hub.start()
    return hub


async def test_demo_sets_up_entities_bound_to_places(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start_demo(tmp_path, clock)
    assert hub.integrations.failed == {}
    domains = {state.domain for state in hub.states.all()}
    assert {"lock", "binary_sensor", "sensor", "camera", "gate", "intercom"} <= domains
    assert {"alarm_control_panel", "light", "siren"} <= domains
    assert hub.places.entities_in("P-GATE-N") >= {"lock.gate_north", "camera.north_gate"}
    assert hub.states.is_state("lock.gate_north", "locked")
    await hub.stop()


async def test_simulator_plays_passages_fence_and_rings(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start_demo(tmp_path, clock)
    await clock.advance(2)
    assert hub.states.is_state("binary_sensor.gate_north_door", "on")
    assert hub.states.is_state("sensor.gate_north_passages", "1")
    await clock.advance(1)
    assert hub.states.is_state("binary_sensor.gate_north_door", "off")
    await clock.advance(11)  # step 7: the door station rings
    assert hub.states.is_state("sensor.gate_north_passages", "7")
    assert hub.states.is_state("intercom.b1_u1_door_station", "ringing")
    assert hub.states.is_state("binary_sensor.fence_zone_3", "on")  # step 5
    await clock.advance(30)  # nobody answers: the ring times out
    assert hub.states.is_state("intercom.b1_u1_door_station", "idle")
    await hub.stop()


async def test_demo_lock_relocks_after_the_pulse(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start_demo(tmp_path, clock, interval=3600)
    await hub.services.call(
        "lock", "unlock", target={"entity_id": "lock.gate_north"}, blocking=True
    )
    assert hub.states.is_state("lock.gate_north", "unlocked")
    await clock.advance(4.9)
    assert hub.states.is_state("lock.gate_north", "unlocked")
    await clock.advance(0.2)
    assert hub.states.is_state("lock.gate_north", "locked")
    demo = hub.integrations.runtime("demo")
    assert isinstance(demo, DemoCommunity)
    await hub.services.call(
        "alarm_control_panel", "alarm_arm_night", target={"place_id": "P-B01"}, blocking=True
    )
    assert hub.states.is_state("alarm_control_panel.building_1", "armed_night")
    await hub.services.call("light", "turn_on", {"brightness": 80}, target={"entity_id": "all"})
    await hub.block_till_done()
    state = hub.states.get("light.stairwell_b1")
    assert state is not None and state.attributes["brightness"] == 80
    await hub.stop()


async def test_shipped_automations_catch_the_forced_gate(
    tmp_path: Path, clock: ManualClock
) -> None:
    import shutil

    from shouwang.core.cli import BUNDLED_AUTOMATIONS

    (tmp_path / "automations").mkdir()
    shutil.copy(BUNDLED_AUTOMATIONS / "community.yaml", tmp_path / "automations")
    hub = await start_demo(tmp_path, clock)
    automations = hub.integrations.runtime("automation")
    assert automations.errors == []
    assert len(automations.automations) == 4
    forced = []
    hub.bus.listen("door_forced", forced.append)
    await clock.advance(2 * 8 + 1)  # eight badge-ins: no alarm
    assert forced == []
    assert hub.states.is_state("siren.guard_room", "off")
    await clock.advance(2)  # the ninth pass forces the door
    assert len(forced) == 1
    assert forced[0].data["lock_state"] == "locked"
    assert hub.states.is_state("siren.guard_room", "on")
    await clock.advance(121)  # the siren rule turns it off after two minutes
    assert hub.states.is_state("siren.guard_room", "off")
    await hub.stop()
