"""Automations on access control: the ``access`` trigger and its filters, and the shipped
blueprints (duress, tailgating at night, expired tenant, too many invalid attempts) loaded and
run through the automation engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from shouwang.core.blueprint import BUNDLED_BLUEPRINTS, BlueprintStore
from shouwang.core.clock import ManualClock
from shouwang.core.yaml_loader import Input

from .access_helpers import start_access_hub
from .automation_helpers import capture, runtime, settle

BLUEPRINTS = (
    "duress.yaml",
    "tailgating_at_night.yaml",
    "expired_tenant.yaml",
    "invalid_attempts.yaml",
)


async def present(hub: Any, door: str, kind: str, value: str, **extra: Any) -> None:
    await hub.services.call(
        "access", "present_credential", {"door": door, "type": kind, "value": value, **extra},
        blocking=True,
    )  # fmt: skip
    await settle(hub)


TRIGGERS = """
- id: denied_lease
  triggers:
    - trigger: access
      doors: [gate_north]
      results: [denied]
      reasons: [lease_expired]
  actions:
    - event: seen
      event_data: {rule: lease, person: "{{ trigger.person }}", door: "{{ trigger.door }}",
                   reason: "{{ trigger.reason }}", result: "{{ trigger.result }}"}
- id: elderly
  triggers:
    - trigger: access
      categories: [elderly_living_alone]
      results: granted
  actions:
    - event: seen
      event_data: {rule: elderly, person: "{{ trigger.person }}"}
- id: one_person_any_result
  triggers:
    - trigger: access
      people: [R003]
      credential_types: [face]
  actions:
    - event: seen
      event_data: {rule: r003, result: "{{ trigger.result }}"}
- id: building_2
  triggers:
    - trigger: access
      households: [B02-U1-0101]
      doors: []
  actions:
    - event: seen
      event_data: {rule: b2, person: "{{ trigger.person }}", reason: "{{ trigger.reason }}"}
"""


async def test_access_trigger_filters(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start_access_hub(tmp_path, clock, automations=TRIGGERS)
    assert runtime(hub).errors == []
    seen = capture(hub, "seen")
    await present(hub, "gate_north", "card", "AA000002")  # lease expired
    await present(hub, "b01_u1", "card", "AA000002")  # lease expired, other door
    await present(hub, "gate_north", "card", "AA000007")  # elderly, building 2
    await present(hub, "gate_north", "face", "r003")
    await present(hub, "gate_north", "card", "AA000003")  # R003 by card: anti-passback
    await present(hub, "gate_north", "card", "AA000006")  # blocked, building 2
    got = [dict(e.data) for e in seen]
    assert got == [
        {"rule": "lease", "person": "R002", "door": "gate_north", "reason": "lease_expired",
         "result": "denied"},
        {"rule": "elderly", "person": "R007"},
        {"rule": "b2", "person": "R007", "reason": "granted"},
        {"rule": "r003", "result": "granted"},
        {"rule": "b2", "person": "R006", "reason": "blocked_person"},
    ]  # fmt: skip
    await hub.stop()


async def test_access_trigger_config_errors(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start_access_hub(
        tmp_path,
        clock,
        automations="""
        - id: bad
          triggers:
            - trigger: access
              results: [maybe]
              credential_types: [iris]
          actions: []
        """,
    )
    errors = [str(error) for error in runtime(hub).errors]
    assert any("main.yaml" in e and "results" in e for e in errors), errors
    assert any("credential_types" in e for e in errors), errors
    assert "automation.bad" not in hub.states
    await hub.stop()


# -- shipped blueprints -----------------------------------------------------------------------


@pytest.mark.parametrize("name", BLUEPRINTS)
def test_blueprints_are_bilingual_and_plain_yaml(name: str, tmp_path: Path) -> None:
    store = BlueprintStore([tmp_path / "blueprints", BUNDLED_BLUEPRINTS])
    bp = store.get("automation", f"shouwang/{name}")
    assert bp.author == "Shouwang"
    for text in (bp.name, bp.description or ""):
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text), text
        assert any("a" <= ch.lower() <= "z" for ch in text), text
    for item in bp.inputs.values():
        assert item.label and " / " in item.label, item
        assert item.selector and item.description, item

    class PlainLoader(yaml.SafeLoader):
        pass

    PlainLoader.add_constructor("!input", lambda loader, node: Input(str(node.value)))
    with bp.path.open(encoding="utf-8") as handle:
        assert "blueprint" in yaml.load(handle, Loader=PlainLoader)


BLUEPRINT_AUTOMATIONS = """
- id: duress_alarm
  use_blueprint:
    path: shouwang/duress.yaml
    input:
      guard_service: persistent_notification.create
      guard_target: {}
      guard_data: {notification_id: guard_call, message: "胁迫 / duress"}
- id: night_tailgating
  use_blueprint:
    path: shouwang/tailgating_at_night.yaml
    input:
      doors: [gate_north]
      extra_actions:
        - event: guards_called
          event_data: {door: "{{ trigger.event.data.door }}"}
- id: expired_tenant
  use_blueprint:
    path: shouwang/expired_tenant.yaml
    input:
      doors: [gate_north]
- id: invalid_attempts
  use_blueprint:
    path: shouwang/invalid_attempts.yaml
    input:
      snapshot: false
      extra_actions:
        - event: reader_alarm
          event_data: {reader: "{{ trigger.event.data.reader }}"}
"""


@pytest.fixture
async def bp_hub(tmp_path: Path, clock: ManualClock) -> Any:
    hub = await start_access_hub(tmp_path, clock, automations=BLUEPRINT_AUTOMATIONS)
    assert runtime(hub).errors == []
    assert len(runtime(hub).automations) == 4
    yield hub
    await hub.stop()


async def test_duress_blueprint_alerts_the_guard_console(bp_hub: Any) -> None:
    hub = bp_hub
    await present(hub, "b01_u1", "pin", "R001#1234")
    assert hub.states.get("persistent_notification.guard_call") is None
    await present(hub, "b01_u1", "pin", "R001#9999")
    call = hub.states.get("persistent_notification.guard_call")
    assert call is not None and call.attributes["message"] == "胁迫 / duress"
    console = hub.states.get("persistent_notification.duress_b01_u1")
    assert console is not None
    assert "R001" in console.attributes["message"]
    assert "1号楼1单元门" in console.attributes["message"]


async def test_tailgating_blueprint_only_at_night(bp_hub: Any, clock: ManualClock) -> None:
    hub = bp_hub
    called = capture(hub, "guards_called")
    # 06:00 local: the night is over
    await present(hub, "gate_north", "card", "AA000001")
    await hub.services.call("access", "passage", {"door": "gate_north", "count": 2}, blocking=True)
    await settle(hub)
    assert called == []
    await clock.advance(16 * 3600 + 30 * 60)  # 22:30 local
    await present(hub, "gate_north", "card", "AA000001", reader="gate_north_out")
    await hub.services.call(
        "access", "passage", {"door": "gate_north", "direction": "out", "count": 2},
        blocking=True,
    )  # fmt: skip
    await settle(hub)
    assert [e.data["door"] for e in called] == ["gate_north"]
    note = hub.states.get("persistent_notification.tailgating_gate_north")
    assert note is not None
    assert "http://nvr/gate_north.jpg" in note.attributes["message"]


async def test_expired_tenant_blueprint(bp_hub: Any) -> None:
    hub = bp_hub
    await present(hub, "b01_u1", "card", "AA000002")  # not one of the chosen doors
    assert hub.states.get("persistent_notification.lease_expired_r002") is None
    await present(hub, "gate_north", "card", "AA000002")
    note = hub.states.get("persistent_notification.lease_expired_r002")
    assert note is not None
    assert "B01-U1-0102" in note.attributes["message"]


async def test_invalid_attempts_blueprint(bp_hub: Any) -> None:
    hub = bp_hub
    alarms = capture(hub, "reader_alarm")
    for _ in range(6):
        await present(hub, "b01_u1", "card", "DEADBEEF")
    assert [e.data["reader"] for e in alarms] == ["b01_u1"]
    note = hub.states.get("persistent_notification.reader_locked_b01_u1")
    assert note is not None and "6" in note.attributes["message"]
