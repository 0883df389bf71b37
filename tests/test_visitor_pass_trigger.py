"""``trigger: visitor_pass`` and the shipped blueprint "visitor pass denied three times in ten
minutes", run through the automation engine on the manual clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from shouwang.core import triggers
from shouwang.core.blueprint import BUNDLED_BLUEPRINTS, BlueprintStore, expand_automation
from shouwang.core.clock import ManualClock
from shouwang.core.hub import Hub
from shouwang.core.triggers import get_platform
from shouwang.core.yaml_loader import Input
from shouwang.integrations.automation.config import check_config
from shouwang.integrations.visitor_pass import PassBook, trigger

from .automation_helpers import capture, runtime, settle, start_hub
from .test_blueprint import check_automation_shape

CONFIGURATION = "shouwang:\n  time_zone: Asia/Shanghai\nvisitor_pass:\n"

BLUEPRINT_AUTOMATION = """\
- id: visitor_pass_denied
  alias: 访客通行证多次被拒 / Visitor pass denied repeatedly
  use_blueprint:
    path: shouwang/visitor_pass_denied.yaml
    input: {}
"""


async def start(tmp_path: Path, clock: ManualClock, automations: str) -> tuple[Hub, PassBook]:
    hub = await start_hub(tmp_path, clock, automations, configuration=CONFIGURATION)
    assert hub.integrations.failed == {}
    assert runtime(hub).errors == []
    book = hub.integrations.runtime("visitor_pass")
    assert isinstance(book, PassBook)
    return hub, book


async def make_pass(hub: Hub, **data: Any) -> dict[str, Any]:
    response = await hub.services.call(
        "visitor_pass",
        "create",
        {"visitor_name": "访客", "host_household": "B01-U1-0101", "doors": ["P-GATE-N"], **data},
        return_response=True,
    )
    assert response is not None
    return response


async def present(hub: Hub, token: str, door: str) -> dict[str, Any]:
    response = await hub.services.call(
        "visitor_pass", "check", {"token": token, "door": door}, return_response=True
    )
    assert response is not None
    await settle(hub)
    return response


def notifications(hub: Hub) -> list[Any]:
    return [
        state
        for state in hub.states.all("persistent_notification")
        if state.attributes.get("notification_id", "").startswith("visitor_pass_denied_")
    ]


# --- the shipped blueprint -----------------------------------------------------------------------


def test_blueprint_is_bilingual_and_expands() -> None:
    store = BlueprintStore([BUNDLED_BLUEPRINTS])
    bp = store.get("automation", "shouwang/visitor_pass_denied.yaml")
    assert bp.author == "Shouwang" and bp.domain == "automation"
    for text in (bp.name, bp.description or ""):
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text)
        assert any("a" <= ch.lower() <= "z" for ch in text)
    for item in bp.inputs.values():
        assert item.label and " / " in item.label and item.selector and item.description
    assert bp.inputs["denials"].default == 3
    assert bp.inputs["within_minutes"].default == 10
    assert bp.inputs["guard_service"].default == "persistent_notification.create"
    config = expand_automation(store, yaml.safe_load(BLUEPRINT_AUTOMATION)[0])
    check_automation_shape(config)
    assert config["triggers"] == [
        {
            "trigger": "visitor_pass",
            "event": "denied",
            "count": 3,
            "within": {"minutes": 10},
            "per": ["pass", "door"],
            "door": [],
        }
    ]

    class PlainLoader(yaml.SafeLoader):
        pass

    PlainLoader.add_constructor("!input", lambda loader, node: Input(str(node.value)))
    with bp.path.open(encoding="utf-8") as handle:
        assert "blueprint" in yaml.load(handle, Loader=PlainLoader)


async def test_same_pass_denied_three_times_in_ten_minutes_notifies(
    tmp_path: Path, clock: ManualClock
) -> None:
    hub, _book = await start(tmp_path, clock, BLUEPRINT_AUTOMATION)
    try:
        alerts = capture(hub, "visitor_pass_denied_repeatedly")
        made = await make_pass(hub, duration={"minutes": 30})
        await clock.advance(31 * 60)  # expired now
        for door in ("P-GATE-N", "P-GATE-S"):
            assert (await present(hub, made["token"], door))["reason"] == "expired"
            await clock.advance(4 * 60)
        assert alerts == []
        await present(hub, made["token"], "B01-U1")  # third, 8 minutes after the first
        assert len(alerts) == 1
        assert alerts[0].data == {
            "per": "pass",
            "key": made["pass_id"],
            "count": 3,
            "pass_id": made["pass_id"],
            "door_id": "B01-U1",
            "reason": "expired",
            "host_household": "B01-U1-0101",
        }
        (state,) = notifications(hub)
        assert state.attributes["notification_id"] == f"visitor_pass_denied_pass_{made['pass_id']}"
        assert state.state == "notifying"
        assert state.attributes["title"] == "访客通行证多次被拒 / Visitor pass denied repeatedly"
        assert "3 denials for pass" in state.attributes["message"]
        assert "3 次被拒" in state.attributes["message"]
        # the counts start again: a fourth denial alone does not notify again
        await present(hub, made["token"], "P-GATE-N")
        assert len(alerts) == 1
    finally:
        await hub.stop(timeout=5)


async def test_denials_spread_over_more_than_ten_minutes_do_not_notify(
    tmp_path: Path, clock: ManualClock
) -> None:
    hub, _book = await start(tmp_path, clock, BLUEPRINT_AUTOMATION)
    try:
        alerts = capture(hub, "visitor_pass_denied_repeatedly")
        doors = ["P-GATE-N", "P-GATE-S", "B01", "B02", "B03"]
        made = await make_pass(hub, max_uses=1, doors=doors)
        assert (await present(hub, made["token"], "P-GATE-N"))["ok"]
        sequence = iter(doors)
        await present(hub, made["token"], next(sequence))  # 0:00 used_up
        await clock.advance(6 * 60)
        await present(hub, made["token"], next(sequence))  # 6:00
        await clock.advance(5 * 60)
        await present(hub, made["token"], next(sequence))  # 11:00: the first fell out
        assert alerts == []
        await clock.advance(60)
        await present(hub, made["token"], next(sequence))  # 12:00: 6, 11, 12 are in 10 min
        assert [(a.data["per"], a.data["reason"]) for a in alerts] == [("pass", "used_up")]
    finally:
        await hub.stop(timeout=5)


async def test_same_door_denied_three_times_notifies_even_without_a_pass(
    tmp_path: Path, clock: ManualClock
) -> None:
    hub, book = await start(tmp_path, clock, BLUEPRINT_AUTOMATION)
    try:
        alerts = capture(hub, "visitor_pass_denied_repeatedly")
        made = await make_pass(hub)
        head, signature = made["token"].rsplit(".", 1)
        forged = f"{head}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"
        assert (await present(hub, forged, "P-GATE-S"))["reason"] == "bad_signature"
        assert (await present(hub, "not-a-token", "P-GATE-S"))["reason"] == "malformed"
        assert (await present(hub, made["token"], "P-GATE-S"))["reason"] == "wrong_door"
        assert [(a.data["per"], a.data["key"]) for a in alerts] == [("door", "P-GATE-S")]
        assert alerts[0].data["reason"] == "wrong_door"
        # validate() called by access control announces the same way as the service
        book.validate(forged, "P-GATE-S", clock.now())
        book.validate(forged, "P-GATE-S", clock.now())
        await settle(hub)
        assert len(alerts) == 1
        book.validate(forged, "P-GATE-S", clock.now())
        await settle(hub)
        assert len(alerts) == 2
    finally:
        await hub.stop(timeout=5)


async def test_mixed_passes_and_doors_do_not_add_up(tmp_path: Path, clock: ManualClock) -> None:
    hub, _book = await start(tmp_path, clock, BLUEPRINT_AUTOMATION)
    try:
        alerts = capture(hub, "visitor_pass_denied_repeatedly")
        first = await make_pass(hub)
        second = await make_pass(hub)
        await present(hub, first["token"], "B01")  # pass 1: 1, B01: 1
        await present(hub, second["token"], "B02")  # pass 2: 1, B02: 1
        await present(hub, first["token"], "B02")  # pass 1: 2, B02: 2
        await present(hub, second["token"], "B03")  # pass 2: 2, B03: 1
        assert alerts == []
        await present(hub, "x", "B02")  # B02: 3
        assert [(a.data["per"], a.data["key"]) for a in alerts] == [("door", "B02")]
    finally:
        await hub.stop(timeout=5)


async def test_blueprint_with_own_service_and_door_filter(
    tmp_path: Path, clock: ManualClock
) -> None:
    automation = """\
    - id: north_gate_pass_denied
      use_blueprint:
        path: shouwang/visitor_pass_denied.yaml
        input:
          denials: 2
          within_minutes: 5
          doors: [P-GATE-N]
          guard_service: intercom.call
          guard_target: {entity_id: intercom.guard_room}
          guard_data: {target: "{{ trigger.door_id }}", reason: "{{ trigger.reason }}"}
    """
    hub, _book = await start(tmp_path, clock, automation)
    try:
        calls: list[dict[str, Any]] = []
        hub.services.register(
            "intercom", "call", lambda call: calls.append({**call.data, "to": call.entity_ids})
        )
        await present(hub, "x", "P-GATE-S")
        await present(hub, "y", "P-GATE-S")  # not a watched door
        await present(hub, "x", "P-GATE-N")
        assert calls == []
        await present(hub, "y", "P-GATE-N")
        await hub.block_till_done()
        assert calls == [
            {"target": "P-GATE-N", "reason": "malformed", "to": {"intercom.guard_room"}}
        ]
    finally:
        await hub.stop(timeout=5)


# --- the trigger platform ---------------------------------------------------------------------


async def test_trigger_on_every_use_and_on_reasons(tmp_path: Path, clock: ManualClock) -> None:
    automations = """\
    - id: pass_used
      triggers:
        - trigger: visitor_pass
          event: used
      actions:
        - event: seen_use
          event_data:
            who: "{{ trigger.visitor_name }}"
            door: "{{ trigger.door_id }}"
            count: "{{ trigger.count }}"
    - id: forged
      triggers:
        - trigger: visitor_pass
          reason: [bad_signature, malformed]
      actions:
        - event: seen_forgery
          event_data: {door: "{{ trigger.door_id }}", reason: "{{ trigger.reason }}"}
    """
    hub, _book = await start(tmp_path, clock, automations)
    try:
        uses, forgeries = capture(hub, "seen_use"), capture(hub, "seen_forgery")
        made = await make_pass(hub, visitor_name="赵六")
        await present(hub, made["token"], "P-GATE-N")
        await present(hub, made["token"], "P-GATE-S")  # wrong door: not a forgery
        await present(hub, "forged", "P-GATE-S")
        await hub.block_till_done()
        assert [e.data for e in uses] == [{"who": "赵六", "door": "P-GATE-N", "count": 1}]
        assert [e.data for e in forgeries] == [{"door": "P-GATE-S", "reason": "malformed"}]
    finally:
        await hub.stop(timeout=5)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ("per: floor", "per"),
        ("reason: lost", "reason"),
        ("count: 0", "count"),
        ("within: -5", "within"),
        ("within: soon", "within"),
        ("event: opened", "event"),
    ],
)
async def test_bad_trigger_settings_are_errors_with_file_and_line(
    tmp_path: Path, clock: ManualClock, settings: str, message: str
) -> None:
    automation = f"""\
    - id: ok
      triggers: [{{trigger: visitor_pass}}]
      actions: []
    - id: bad
      triggers:
        - trigger: visitor_pass
          {settings}
      actions: []
    """
    hub = await start_hub(tmp_path, clock, automation, configuration=CONFIGURATION)
    try:
        errors = [str(e) for e in runtime(hub).errors]
        assert len(errors) == 1 and message in errors[0], errors
        assert "automations/main.yaml:7: " in errors[0], errors  # the bad setting's line
    finally:
        await hub.stop(timeout=5)


async def test_counts_of_quiet_doors_are_forgotten(tmp_path: Path, clock: ManualClock) -> None:
    automations = """\
    - id: door_denied_twice
      triggers: [{trigger: visitor_pass, count: 2, per: door, within: "00:05:00"}]
      actions: [{event: twice, event_data: {door: "{{ trigger.key }}"}}]
    """
    hub, book = await start(tmp_path, clock, automations)
    try:
        twice = capture(hub, "twice")
        for number in range(trigger.SWEEP_ABOVE):
            book.validate("x", f"door-{number}", clock.now())
        await settle(hub)
        await clock.advance(6 * 60)
        book.validate("x", "door-0", clock.now())  # the earlier one fell out of the window
        book.validate("x", "last", clock.now())  # more than SWEEP_ABOVE keys: old ones go
        await settle(hub)
        assert twice == []
        book.validate("x", "last", clock.now())
        await hub.block_till_done()
        assert [e.data for e in twice] == [{"door": "last"}]
    finally:
        await hub.stop(timeout=5)


def test_platform_is_found_without_the_integration_set_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as in check-config, or before the integration's setup ran: nothing registered it
    monkeypatch.delitem(triggers._platforms, "visitor_pass", raising=False)
    assert get_platform("visitor_pass") is trigger
    automations = tmp_path / "automations"
    automations.mkdir()
    (automations / "a.yaml").write_text(BLUEPRINT_AUTOMATION, encoding="utf-8")
    assert check_config(tmp_path, None) == []
    (automations / "b.yaml").write_text(
        "- id: b\n  triggers: [{trigger: visitor_passes}]\n  actions: []\n", encoding="utf-8"
    )
    errors = [str(e) for e in check_config(tmp_path, None)]
    assert len(errors) == 1 and "unknown trigger 'visitor_passes'" in errors[0]
