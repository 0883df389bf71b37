"""Automation actions end to end: every action type, variables, errors, on the manual clock."""

from __future__ import annotations

from pathlib import Path

from shouwang.core.clock import ManualClock
from shouwang.core.hub import Hub
from shouwang.core.services import ServiceCall, SupportsResponse

from .automation_helpers import capture, runtime, settle, start_hub

GO = "triggers: [{trigger: event, event_type: go}]"


async def run_actions(tmp_path: Path, clock: ManualClock, actions: str, **kwargs: object) -> Hub:
    hub = await start_hub(tmp_path, clock, f"- id: t\n  {GO}\n  actions:\n{actions}", **kwargs)  # type: ignore[arg-type]
    return hub


async def test_service_call_with_target_data_and_response_variable(
    tmp_path: Path, clock: ManualClock
) -> None:
    hub = await run_actions(
        tmp_path,
        clock,
        """
    - action: guard.on_duty
      response_variable: duty
    - service: guard.call
      target: {entity_id: "{{ 'person.' ~ duty.guard }}"}
      data: {reason: "{{ trigger.event.data.reason }}", urgent: true}
    """,
    )
    calls: list[ServiceCall] = []
    hub.services.register(
        "guard",
        "on_duty",
        lambda call: {"guard": "zhang_wei"},
        supports_response=SupportsResponse.ONLY,
    )
    hub.services.register("guard", "call", calls.append, {"reason": str, "urgent": bool})
    hub.bus.fire("go", {"reason": "陌生人"})
    await settle(hub)
    assert calls[0].data == {"reason": "陌生人", "urgent": True}
    assert calls[0].entity_ids == {"person.zhang_wei"}
    await hub.stop()


async def test_delay_wait_template_and_timeout_variables(
    tmp_path: Path, clock: ManualClock
) -> None:
    hub = await run_actions(
        tmp_path,
        clock,
        """
    - delay: {seconds: 5}
    - event: after_delay
    - wait_template: "{{ is_state('binary_sensor.door', 'off') }}"
      timeout: 60
    - event: waited
      event_data: {completed: "{{ wait.completed }}", remaining: "{{ wait.remaining | round }}"}
    - wait_template: "{{ is_state('lock.x', 'locked') }}"
      timeout: "00:00:10"
      continue_on_timeout: false
    - event: never
    """,
        states={"binary_sensor.door": "on"},
    )
    after, waited, never = (
        capture(hub, "after_delay"),
        capture(hub, "waited"),
        capture(hub, "never"),
    )
    hub.bus.fire("go")
    await clock.advance(4)
    assert after == []
    await clock.advance(1)
    assert len(after) == 1
    await clock.advance(20)
    hub.states.set("binary_sensor.door", "off")
    await settle(hub)
    assert waited[0].data == {"completed": True, "remaining": 40}
    await clock.advance(10)
    await settle(hub)
    assert never == []
    trace = runtime(hub).traces.latest("t")
    assert trace is not None and trace["script_execution"] == "aborted"
    await hub.stop()


async def test_wait_for_trigger(tmp_path: Path, clock: ManualClock) -> None:
    hub = await run_actions(
        tmp_path,
        clock,
        """
    - wait_for_trigger:
        - trigger: state
          entity_id: binary_sensor.door
          to: "off"
      timeout: 120
    - if: "{{ wait.trigger is none }}"
      then: [{event: still_open}]
      else: [{event: closed, event_data: {by: "{{ wait.trigger.entity_id }}"}}]
    """,
        states={"binary_sensor.door": "on"},
    )
    closed, still_open = capture(hub, "closed"), capture(hub, "still_open")
    hub.bus.fire("go")
    await clock.advance(30)
    hub.states.set("binary_sensor.door", "off")
    await settle(hub)
    assert [e.data["by"] for e in closed] == ["binary_sensor.door"]
    hub.states.set("binary_sensor.door", "on")
    hub.bus.fire("go")
    await clock.advance(121)
    await settle(hub)
    assert len(still_open) == 1
    await hub.stop()


async def test_choose_if_condition_and_stop(tmp_path: Path, clock: ManualClock) -> None:
    hub = await run_actions(
        tmp_path,
        clock,
        """
    - choose:
        - conditions: "{{ trigger.event.data.level == 'high' }}"
          sequence: [{event: result, event_data: {branch: high}}]
        - conditions:
            - condition: state
              entity_id: alarm_control_panel.b1
              state: armed_night
          sequence: [{event: result, event_data: {branch: armed}}]
      default: [{event: result, event_data: {branch: default}}]
    - condition: template
      value_template: "{{ trigger.event.data.level != 'stop_here' }}"
    - if: [{condition: template, value_template: "{{ trigger.event.data.level == 'low' }}"}]
      then: [{stop: "low level", error: false}]
    - event: result
      event_data: {branch: end}
    """,
        states={"alarm_control_panel.b1": "armed_night"},
    )
    results = capture(hub, "result")
    for level in ("high", "medium", "low", "stop_here"):
        hub.bus.fire("go", {"level": level})
        await settle(hub)
    assert [r.data["branch"] for r in results] == ["high", "end", "armed", "end", "armed", "armed"]
    traces = runtime(hub).traces.list("t")
    assert [t["script_execution"] for t in traces][-2:] == ["finished", "failed_conditions"]
    await hub.stop()


async def test_repeat_forms_and_parallel_and_variables(tmp_path: Path, clock: ManualClock) -> None:
    hub = await run_actions(
        tmp_path,
        clock,
        """
    - variables: {total: 0, floors: [1, 2, 3]}
    - repeat:
        count: 3
        sequence:
          - variables: {total: "{{ total + repeat.index }}"}
    - repeat:
        for_each: "{{ floors }}"
        sequence: [{event: floor, event_data: {floor: "{{ repeat.item }}", last: "{{ repeat.last }}"}}]
    - repeat:
        while: "{{ total < 10 }}"
        sequence: [{variables: {total: "{{ total + 1 }}"}}]
    - repeat:
        until: "{{ total >= 12 }}"
        sequence: [{variables: {total: "{{ total + 1 }}"}}]
    - parallel:
        - event: p1
        - sequence: [{delay: 1}, {event: p2}]
    - sequence:
        - event: total
          event_data: {total: "{{ total }}"}
    """,
    )
    floors, totals, p1, p2 = (capture(hub, n) for n in ("floor", "total", "p1", "p2"))
    hub.bus.fire("go")
    await clock.advance(2)
    await settle(hub)
    assert [(f.data["floor"], f.data["last"]) for f in floors] == [
        (1, False),
        (2, False),
        (3, True),
    ]
    assert totals[0].data["total"] == 12
    assert len(p1) == len(p2) == 1
    await hub.stop()


async def test_continue_on_error_disabled_steps_and_errors(
    tmp_path: Path, clock: ManualClock
) -> None:
    hub = await run_actions(
        tmp_path,
        clock,
        """
    - action: gate.jam
      continue_on_error: true
    - event: skipped
      enabled: false
    - event: reached
    - action: nothing.here
      alias: Call the missing service
    - event: never
    """,
    )
    hub.services.register("gate", "jam", lambda call: (_ for _ in ()).throw(RuntimeError("jammed")))
    reached, skipped, never = (
        capture(hub, "reached"),
        capture(hub, "skipped"),
        capture(hub, "never"),
    )
    hub.bus.fire("go")
    await settle(hub)
    assert (len(reached), len(skipped), len(never)) == (1, 0, 0)
    trace = runtime(hub).traces.latest("t")
    assert trace is not None
    assert trace["script_execution"] == "error"
    assert (
        "t: step action/3 (Call the missing service): Service nothing.here not found"
        in trace["error"]
    )
    assert any(step.get("error", "").startswith("RuntimeError: jammed") for step in trace["steps"])
    assert hub.states.is_state("automation.t", "on")  # the hub and the automation go on
    await hub.stop()


async def test_template_error_fails_the_run_not_the_hub(tmp_path: Path, clock: ManualClock) -> None:
    hub = await run_actions(
        tmp_path,
        clock,
        """
    - event: first
    - event: boom
      event_data: {x: "{{ states('sensor.t') | float }}"}
    """,
        states={"sensor.t": "not a number"},
    )
    first = capture(hub, "first")
    hub.bus.fire("go")
    await settle(hub)
    trace = runtime(hub).traces.latest("t")
    assert len(first) == 1
    assert trace is not None and trace["script_execution"] == "error"
    assert "step action/1" in trace["error"]
    hub.bus.fire("go")
    await settle(hub)
    assert len(first) == 2
    await hub.stop()


async def test_this_and_static_data_are_fresh_per_run(tmp_path: Path, clock: ManualClock) -> None:
    hub = await run_actions(
        tmp_path,
        clock,
        """
    - event: me
      event_data:
        who: "{{ this.entity_id }}"
        state: "{{ this.state }}"
        mode: "{{ this.attributes.mode }}"
    - event: static
      event_data: {fixed: [1, 2]}
    """,
    )
    me, static = capture(hub, "me"), capture(hub, "static")
    hub.bus.fire("go")
    await settle(hub)
    static[0].data["fixed"].append(3)  # a listener changing its copy must not leak
    hub.bus.fire("go")
    await settle(hub)
    assert me[0].data == {"who": "automation.t", "state": "on", "mode": "single"}
    assert static[1].data == {"fixed": [1, 2]}
