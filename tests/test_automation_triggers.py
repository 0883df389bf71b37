"""Automation triggers end to end: YAML in, events out, on the manual clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from shouwang.core.clock import ManualClock
from shouwang.core.webhooks import WebhookRequest

from .automation_helpers import capture, settle, start_hub


async def test_state_trigger_from_to_and_old_spellings(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start_hub(
        tmp_path,
        clock,
        """
        - id: door_opened
          trigger:
            platform: state
            entity_id: binary_sensor.unit_door
            from: "off"
            to: "on"
          action:
            service: persistent_notification.create
            data:
              message: "{{ trigger.entity_id }} {{ trigger.from_state.state }}->{{ trigger.to_state.state }}"
              notification_id: door
        """,
        states={"binary_sensor.unit_door": "off"},
    )
    hub.states.set("binary_sensor.unit_door", "on")
    await settle(hub)
    note = hub.states.get("persistent_notification.door")
    assert note is not None
    assert note.attributes["message"] == "binary_sensor.unit_door off->on"
    await hub.stop()


async def test_state_trigger_for_not_to_and_attribute(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start_hub(
        tmp_path,
        clock,
        """
        - id: held_open
          triggers:
            - trigger: state
              entity_id: binary_sensor.unit_door
              to: "on"
              for: "00:00:30"
          actions:
            - event: door_held_open
              event_data: {for: "{{ trigger.for.total_seconds() }}"}
        - id: not_locked
          triggers:
            - trigger: state
              entity_id: lock.gate
              not_to: [locked, unknown]
          actions:
            - event: not_locked
        - id: battery
          triggers:
            - trigger: state
              entity_id: lock.gate
              attribute: battery
          actions:
            - event: battery_changed
        """,
        states={"binary_sensor.unit_door": "off", "lock.gate": ("locked", {"battery": 90})},
    )
    held, unlocked, battery = (
        capture(hub, "door_held_open"),
        capture(hub, "not_locked"),
        capture(hub, "battery_changed"),
    )
    hub.states.set("binary_sensor.unit_door", "on")
    await clock.advance(20)
    hub.states.set("binary_sensor.unit_door", "off")  # closed in time: no alarm
    await clock.advance(60)
    assert held == []
    hub.states.set("binary_sensor.unit_door", "on")
    await clock.advance(30)
    await settle(hub)
    assert len(held) == 1 and held[0].data["for"] == 30.0
    hub.states.set("lock.gate", "jammed", {"battery": 90})
    hub.states.set("lock.gate", "jammed", {"battery": 80})
    hub.states.set("lock.gate", "locked", {"battery": 80})
    await settle(hub)
    assert len(unlocked) == 1
    assert len(battery) == 1
    await hub.stop()


async def test_numeric_state_crossing(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start_hub(
        tmp_path,
        clock,
        """
        - id: crowd
          triggers:
            - trigger: numeric_state
              entity_id: sensor.gate_queue
              above: 20
          actions:
            - event: crowd_at_gate
        - id: tpl
          triggers:
            - trigger: numeric_state
              entity_id: sensor.car_park
              attribute: occupancy
              below: 5
          actions:
            - event: car_park_almost_empty
        """,
        states={"sensor.gate_queue": "30", "sensor.car_park": ("ok", {"occupancy": 50})},
    )
    crowd, empty = capture(hub, "crowd_at_gate"), capture(hub, "car_park_almost_empty")
    hub.states.set("sensor.gate_queue", "35")  # already above at start: must leave first
    hub.states.set("sensor.gate_queue", "10")
    hub.states.set("sensor.gate_queue", "25")
    hub.states.set("sensor.gate_queue", "28")
    hub.states.set("sensor.gate_queue", "unavailable")
    hub.states.set("sensor.car_park", "ok", {"occupancy": 3})
    await settle(hub)
    assert len(crowd) == 1
    assert len(empty) == 1
    await hub.stop()


async def test_event_trigger_subset_match_and_user(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start_hub(
        tmp_path,
        clock,
        """
        - id: stranger
          triggers:
            - trigger: event
              event_type: [stranger_detected, person_sighted]
              event_data: {camera: north_gate}
          actions:
            - event: call_guard
              event_data:
                camera: "{{ trigger.event.data.camera }}"
                caused_by: "{{ trigger.event.event_type }}"
        """,
    )
    calls = capture(hub, "call_guard")
    hub.bus.fire("stranger_detected", {"camera": "south_gate"})
    hub.bus.fire("stranger_detected", {"camera": "north_gate", "score": 0.7})
    await settle(hub)
    assert [c.data for c in calls] == [{"camera": "north_gate", "caused_by": "stranger_detected"}]
    await hub.stop()


async def test_run_context_points_to_the_trigger(tmp_path: Path, clock: ManualClock) -> None:
    from shouwang.core.events import Context

    hub = await start_hub(
        tmp_path,
        clock,
        """
        - id: chain
          triggers: [{trigger: event, event_type: stranger_detected}]
          actions: [{event: call_guard}]
        """,
    )
    calls = capture(hub, "call_guard")
    cause = Context(user_id="camera")
    hub.bus.fire("stranger_detected", {}, cause)
    await settle(hub)
    assert calls[0].context.parent_id == cause.id
    assert calls[0].context.id != cause.id
    await hub.stop()


async def test_time_and_time_pattern_triggers(tmp_path: Path, clock: ManualClock) -> None:
    # 2026-11-28 22:00 UTC is 2026-11-29 06:00 in Shanghai
    hub = await start_hub(
        tmp_path,
        clock,
        """
        - id: night_round
          triggers: [{trigger: time, at: "06:30"}]
          actions: [{event: round, event_data: {at: "{{ now().strftime('%H:%M') }}"}}]
        - id: every_20_min
          triggers: [{trigger: time_pattern, minutes: "/20"}]
          actions: [{event: tick}]
        - id: at_entity
          triggers: [{trigger: time, at: input_datetime.patrol}]
          actions: [{event: patrol_due}]
        """,
        states={"input_datetime.patrol": ("07:15:00", {"has_time": True, "has_date": False})},
    )
    rounds, ticks, patrols = capture(hub, "round"), capture(hub, "tick"), capture(hub, "patrol_due")
    await clock.advance(3600 * 24)
    await settle(hub)
    assert [r.data["at"] for r in rounds] == ["06:30"]
    assert len(ticks) == 72
    assert len(patrols) == 1
    hub.states.set("input_datetime.patrol", "07:20:00", {"has_time": True, "has_date": False})
    await clock.advance(3600 * 24)
    assert len(patrols) == 2
    await hub.stop()


async def test_template_trigger_fires_on_turning_true(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start_hub(
        tmp_path,
        clock,
        """
        - id: both_open
          mode: parallel
          triggers:
            - trigger: template
              value_template: "{{ is_state('lock.a', 'unlocked') and is_state('lock.b', 'unlocked') }}"
          actions: [{event: both_open}]
        """,
        states={"lock.a": "locked", "lock.b": "locked"},
    )
    seen = capture(hub, "both_open")
    hub.states.set("lock.a", "unlocked")
    hub.states.set("lock.b", "unlocked")
    hub.states.set("lock.a", "unlocked", {"x": 1})
    hub.states.set("lock.a", "locked")
    hub.states.set("lock.a", "unlocked")
    await settle(hub)
    assert len(seen) == 2
    await hub.stop()


async def test_sun_trigger(tmp_path: Path, clock: ManualClock) -> None:
    from astral import Observer
    from astral.sun import sunset

    hub = await start_hub(
        tmp_path,
        clock,
        """
        - id: lights
          triggers: [{trigger: sun, event: sunset, offset: "-00:30:00"}]
          actions: [{event: lights_on, event_data: {at: "{{ now().isoformat() }}"}}]
        """,
    )
    seen = capture(hub, "lights_on")
    await clock.advance(3600 * 24)
    await settle(hub)
    expected = sunset(
        Observer(31.23, 121.47), datetime(2026, 11, 29).date(), tzinfo=hub.config.tzinfo
    )
    assert len(seen) == 1
    fired = datetime.fromisoformat(seen[0].data["at"])
    assert abs((fired - expected).total_seconds() + 1800) < 1
    await hub.stop()


async def test_hub_and_webhook_triggers(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start_hub(
        tmp_path,
        clock,
        """
        - id: started
          triggers: [{trigger: homeassistant, event: start}]
          actions: [{event: hub_up}]
        - id: hook
          triggers: [{trigger: webhook, webhook_id: door_station_ring, allowed_methods: [POST]}]
          actions: [{event: rang, event_data: {room: "{{ trigger.json.room }}"}}]
        """,
    )
    rang = capture(hub, "rang")
    assert hub.webhooks.handle("door_station_ring", WebhookRequest("POST", {"room": "0101"})) == 200
    assert hub.webhooks.handle("door_station_ring", WebhookRequest("GET")) == 405
    assert hub.webhooks.handle("nope", WebhookRequest("POST")) == 404
    remote = WebhookRequest("POST", {"room": "x"}, is_local=False)
    assert hub.webhooks.handle("door_station_ring", remote) == 403
    await settle(hub)
    assert [e.data["room"] for e in rang] == ["0101"]
    state = hub.states.get("automation.started")
    assert state is not None and state.attributes["last_triggered"] is not None
    await hub.stop()


async def test_trigger_ids_and_trigger_condition(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start_hub(
        tmp_path,
        clock,
        """
        - id: doors
          triggers:
            - {trigger: state, entity_id: binary_sensor.a, to: "on", id: door_a}
            - trigger: state
              entity_id: binary_sensor.b
              to: "on"
              id: door_b
              variables: {level: "{{ 'high' if trigger.entity_id.endswith('b') else 'low' }}"}
          conditions:
            - condition: trigger
              id: door_b
          actions:
            - event: door_b_opened
              event_data: {id: "{{ trigger.id }}", idx: "{{ trigger.idx }}", level: "{{ level }}"}
        """,
        states={"binary_sensor.a": "off", "binary_sensor.b": "off"},
    )
    seen = capture(hub, "door_b_opened")
    hub.states.set("binary_sensor.a", "on")
    hub.states.set("binary_sensor.b", "on")
    await settle(hub)
    assert [e.data for e in seen] == [{"id": "door_b", "idx": 1, "level": "high"}]
    await hub.stop()


def test_clock_start_is_what_the_tests_assume(clock: ManualClock) -> None:
    assert clock.now() == datetime(2026, 11, 28, 22, 0, tzinfo=UTC)
