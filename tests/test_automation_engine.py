"""Automation engine: entities and services, run modes, traces, reload, errors, blueprints."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from shouwang.core.cli import check_config, show_trace
from shouwang.core.clock import ManualClock
from shouwang.core.hub import Hub
from shouwang.core.services import ServiceValidationError

from .automation_helpers import capture, runtime, settle, start_hub

FIXTURES = Path(__file__).parent / "fixtures"


def mode_automation(mode: str, extra: str = "") -> str:
    return f"""
    - id: guard_call
      alias: Call the guard
      mode: {mode}
      {extra}
      triggers: [{{trigger: event, event_type: stranger_detected}}]
      actions:
        - event: call_started
        - delay: 10
        - event: call_done
    """


@pytest.mark.parametrize(
    ("mode", "extra", "started", "done", "outcomes"),
    [
        ("single", "", 1, 1, ["failed_single", "failed_single", "finished"]),
        ("restart", "", 3, 1, ["cancelled", "cancelled", "finished"]),
        # HA: max counts running and queued runs together
        ("queued", "max: 2", 2, 2, ["failed_max_runs", "failed_max_runs", "finished", "finished"]),
        ("parallel", "max: 2", 2, 2, ["failed_max_runs", "finished", "finished"]),
    ],
)
async def test_run_modes(
    tmp_path: Path,
    clock: ManualClock,
    mode: str,
    extra: str,
    started: int,
    done: int,
    outcomes: list[str],
) -> None:
    hub = await start_hub(tmp_path, clock, mode_automation(mode, extra))
    starts, dones = capture(hub, "call_started"), capture(hub, "call_done")
    fired = 4 if mode == "queued" else 3
    for _ in range(fired):
        hub.bus.fire("stranger_detected")
        await clock.advance(1)
    state = hub.states.get("automation.guard_call")
    assert state is not None and state.attributes["current"] >= 1
    await clock.advance(60)
    await settle(hub)
    assert (len(starts), len(dones)) == (started, done)
    traces = runtime(hub).traces.list("guard_call")
    assert sorted(t["script_execution"] for t in traces) == sorted(outcomes)
    assert hub.states.get("automation.guard_call").attributes["current"] == 0  # type: ignore[union-attr]
    await hub.stop()


async def test_entity_services_and_initial_state(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start_hub(
        tmp_path,
        clock,
        """
        - id: night_alarm
          alias: 夜间告警
          initial_state: false
          triggers: [{trigger: event, event_type: go}]
          conditions: "{{ trigger.id == 'never' }}"
          actions: [{event: ran, event_data: {v: "{{ extra | default('none') }}"}}]
        """,
    )
    ran = capture(hub, "ran")
    state = hub.states.get("automation.night_alarm")
    assert state is not None
    assert (state.state, state.attributes["friendly_name"], state.attributes["mode"]) == (
        "off",
        "夜间告警",
        "single",
    )
    hub.bus.fire("go")
    await settle(hub)
    assert ran == []
    target = {"entity_id": "automation.night_alarm"}
    await hub.services.call("automation", "turn_on", target=target, blocking=True)
    hub.bus.fire("go")  # condition false
    await hub.services.call(
        "automation", "trigger", {"variables": {"extra": "x"}}, target=target, blocking=True
    )
    await settle(hub)
    assert [e.data["v"] for e in ran] == ["x"]
    await hub.services.call(
        "automation", "trigger", {"skip_condition": False}, target=target, blocking=True
    )
    await hub.services.call("automation", "toggle", target=target, blocking=True)
    assert hub.states.is_state("automation.night_alarm", "off")
    await settle(hub)
    assert len(ran) == 1
    last = hub.states.get("automation.night_alarm")
    assert last is not None and last.attributes["last_triggered"] is not None
    await hub.stop()


async def test_traces_record_steps_and_survive_a_restart(
    tmp_path: Path, clock: ManualClock
) -> None:
    automations = """
        - id: traced
          trace: {stored_traces: 2}
          triggers: [{trigger: event, event_type: go}]
          conditions:
            - condition: template
              value_template: "{{ trigger.event.data.n > 0 }}"
          actions:
            - variables: {doubled: "{{ trigger.event.data.n * 2 }}"}
            - action: persistent_notification.create
              data: {message: "n={{ doubled }}", notification_id: traced}
        """
    hub = await start_hub(tmp_path, clock, automations)
    for n in (1, 0, 2, 3):
        hub.bus.fire("go", {"n": n})
        await settle(hub)
    store = runtime(hub).traces
    listed = store.list("traced")
    assert [t["script_execution"] for t in listed] == ["finished", "finished"]  # only the last 2
    latest = store.latest("traced")
    assert latest is not None
    assert latest["conditions"] == [{"path": "condition", "result": True}]
    assert latest["steps"][0]["changed_variables"] == {"doubled": 6}
    call = latest["steps"][1]["result"]["params"]
    assert call["domain"] == "persistent_notification"
    assert call["service_data"]["message"] == "n=6"
    assert latest["trigger_variables"]["event"]["data"] == {"n": 3}
    await hub.stop()
    assert (tmp_path / ".storage" / "traces.json").exists()
    hub2 = Hub(tmp_path, clock=clock)
    await hub2.start()
    again = runtime(hub2).traces.latest("traced")
    assert again is not None and again["run_id"] == latest["run_id"]
    await hub2.stop()
    assert show_trace(tmp_path, "automation.traced", None, False) == 0
    assert show_trace(tmp_path, "traced", None, True) == 0
    assert show_trace(tmp_path, "missing", None, False) == 1


async def test_reload_keeps_running_set_when_a_file_is_bad(
    tmp_path: Path, clock: ManualClock
) -> None:
    hub = await start_hub(
        tmp_path,
        clock,
        """
        - id: a
          triggers: [{trigger: event, event_type: go}]
          actions: [{event: from_a}]
        """,
    )
    from_a = capture(hub, "from_a")
    folder = tmp_path / "automations"
    (folder / "extra.yaml").write_text(
        "- id: b\n  triggers: [{trigger: event, event_type: go}]\n  actions:\n    - event: from_b\n"
        "- id: broken\n  triggers: [{trigger: nonsense}]\n  actions: []\n"
    )
    with pytest.raises(
        ServiceValidationError, match=r"extra\.yaml:6: .*unknown trigger 'nonsense'"
    ):
        await hub.services.call("automation", "reload", blocking=True)
    assert hub.states.get("automation.b") is None
    assert hub.states.get("persistent_notification.automation_reload_failed") is not None
    hub.bus.fire("go")
    await settle(hub)
    assert len(from_a) == 1
    (folder / "extra.yaml").write_text(
        "- id: b\n  triggers: [{trigger: event, event_type: go}]\n  actions:\n    - event: from_b\n"
    )
    await runtime(hub).check_files()  # what the file watcher runs every 2 s
    assert hub.states.get("automation.b") is not None
    assert hub.states.get("persistent_notification.automation_reload_failed") is None
    from_b = capture(hub, "from_b")
    hub.bus.fire("go")
    await settle(hub)
    assert (len(from_a), len(from_b)) == (2, 1)
    (folder / "main.yaml").write_text("[]\n")
    await hub.services.call("automation", "reload", blocking=True)
    assert hub.states.get("automation.a") is None
    await hub.stop()


async def test_invalid_automations_are_reported_with_file_and_line(
    tmp_path: Path, clock: ManualClock
) -> None:
    hub = await start_hub(
        tmp_path,
        clock,
        """
        - id: good
          triggers: [{trigger: event, event_type: go}]
          actions: [{event: ok}]
        - id: bad_action
          triggers: [{trigger: event, event_type: go}]
          actions:
            - delay: "not a duration"
        - id: bad_condition
          trigger: [{platform: state, entity_id: lock.a}]
          condition:
            - condition: numeric_state
              entity_id: sensor.x
          action: [{event: x}]
        """,
    )
    errors = [str(e) for e in runtime(hub).errors]
    main = tmp_path / "automations" / "main.yaml"
    assert any(
        e.startswith(f"{main}:8: [automation] automation 'bad_action': actions.0.delay")
        for e in errors
    ), errors
    assert any(e.startswith(f"{main}:12:") and "bad_condition" in e for e in errors), errors
    assert hub.states.get("automation.good") is not None
    assert hub.states.get("automation.bad_action") is None
    assert check_config(tmp_path) == 1
    await hub.stop()


async def test_configuration_block_with_include(tmp_path: Path, clock: ManualClock) -> None:
    (tmp_path / "rules.yaml").write_text(
        "- alias: Gate opened at night\n  triggers: [{trigger: event, event_type: go}]\n"
        "  actions: [{event: night_gate}]\n"
    )
    hub = await start_hub(
        tmp_path,
        clock,
        "[]\n",
        configuration="shouwang:\n  time_zone: Asia/Shanghai\nautomation: !include rules.yaml\n",
    )
    seen = capture(hub, "night_gate")
    hub.bus.fire("go")
    await settle(hub)
    assert len(seen) == 1
    assert hub.states.get("automation.gate_opened_at_night") is not None
    await hub.stop()


async def test_home_assistant_motion_light_blueprint_runs_unmodified(
    tmp_path: Path, clock: ManualClock
) -> None:
    shutil.copytree(FIXTURES / "blueprints", tmp_path / "blueprints")
    hub = await start_hub(
        tmp_path,
        clock,
        """
        - id: stairwell_light
          use_blueprint:
            path: homeassistant/motion_light.yaml
            input:
              motion_entity: binary_sensor.stairwell_motion
              light_target: {entity_id: light.stairwell_b1}
              no_motion_wait: 120
        """,
        states={"binary_sensor.stairwell_motion": ("off", {"device_class": "motion"})},
    )
    calls = capture(hub, "call_service")
    hub.services.register(
        "light", "turn_on", lambda call: hub.states.set("light.stairwell_b1", "on")
    )
    hub.services.register(
        "light", "turn_off", lambda call: hub.states.set("light.stairwell_b1", "off")
    )
    hub.states.set("binary_sensor.stairwell_motion", "on", {"device_class": "motion"})
    await settle(hub)
    assert hub.states.is_state("light.stairwell_b1", "on")
    hub.states.set("binary_sensor.stairwell_motion", "off", {"device_class": "motion"})
    await clock.advance(119)
    assert hub.states.is_state("light.stairwell_b1", "on")
    await clock.advance(2)
    await settle(hub)
    assert hub.states.is_state("light.stairwell_b1", "off")
    assert [c.data["service"] for c in calls] == ["turn_on", "turn_off"]
    await hub.stop()


async def test_missing_blueprint_input_is_a_clear_error(tmp_path: Path, clock: ManualClock) -> None:
    shutil.copytree(FIXTURES / "blueprints", tmp_path / "blueprints")
    hub = await start_hub(
        tmp_path,
        clock,
        textwrap.dedent(
            """
            - id: light
              use_blueprint:
                path: homeassistant/motion_light.yaml
                input: {no_motion_wait: 5}
            """
        ),
    )
    errors = " ".join(str(e) for e in runtime(hub).errors)
    assert "motion_entity" in errors and "light_target" in errors
    assert "main.yaml" in errors
    assert hub.states.get("automation.light") is None
    await hub.stop()


async def test_file_watcher_reloads_on_change(tmp_path: Path, clock: ManualClock) -> None:
    import asyncio

    hub = await start_hub(tmp_path, clock, "[]\n")
    reloaded = asyncio.Event()
    automations = runtime(hub)
    original = automations.reload

    async def reload_and_signal() -> list:  # type: ignore[type-arg]
        errors = await original()
        reloaded.set()
        return errors

    automations.reload = reload_and_signal  # type: ignore[method-assign]
    stop = automations.watch_files(0.01)
    (tmp_path / "automations" / "main.yaml").write_text(
        "- id: late\n  triggers: [{trigger: event, event_type: go}]\n  actions: [{event: x}]\n"
    )
    await asyncio.wait_for(reloaded.wait(), timeout=10)  # a bound, not a timing assertion
    stop()
    assert hub.states.get("automation.late") is not None
    await hub.stop()


async def test_check_config_finds_template_syntax_errors_at_their_line(
    tmp_path: Path, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = await start_hub(
        tmp_path,
        clock,
        """
        - id: typo
          triggers: [{trigger: event, event_type: go}]
          actions:
            - event: x
              event_data:
                ok: "{{ 1 + 1 }}"
                broken: "{{ states('sensor.a') | float( }}"
        """,
    )
    await hub.stop()
    assert check_config(tmp_path) == 1
    err = capsys.readouterr().err
    main = tmp_path / "automations" / "main.yaml"
    assert f"{main}:8: [automation] automation 'typo': template:" in err
    assert err.count("template:") == 1  # only the broken one


async def test_yaml_syntax_error_on_reload_keeps_the_running_set(
    tmp_path: Path, clock: ManualClock
) -> None:
    hub = await start_hub(
        tmp_path,
        clock,
        """
        - id: a
          triggers: [{trigger: event, event_type: go}]
          actions: [{event: from_a}]
        """,
    )
    (tmp_path / "automations" / "broken.yaml").write_text("- id: b\n  triggers: [\n")
    with pytest.raises(ServiceValidationError, match=r"broken\.yaml:\d+"):
        await hub.services.call("automation", "reload", blocking=True)
    from_a = capture(hub, "from_a")
    hub.bus.fire("go")
    await settle(hub)
    assert len(from_a) == 1
    assert hub.states.is_state("automation.a", "on")
    await hub.stop()


def test_overlapping_trace_saves_never_collide(tmp_path: Path) -> None:
    """Saves from several executor threads at once: each writes its own temporary file, the
    store is always a whole JSON document, no temporary file is left behind."""
    from concurrent.futures import ThreadPoolExecutor

    from shouwang.core.trace import TraceStore

    store = TraceStore(tmp_path / ".storage" / "traces.json")
    payloads = [{"version": 1, "traces": {f"a{i}": []}} for i in range(40)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(store.write, payloads))
    assert json.loads((tmp_path / ".storage" / "traces.json").read_text()) in payloads
    assert [p.name for p in (tmp_path / ".storage").iterdir()] == ["traces.json"]
