"""Home Assistant MQTT discovery over a real broker: devices (raw paho peers and
ha-mqtt-discoverable) announce themselves; entities appear, report state, obey commands (the
command is seen on the broker), follow availability, update and disappear."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from shouwang.core.clock import ManualClock
from shouwang.core.hub import Hub
from shouwang.core.services import ServiceValidationError
from shouwang.integrations.mqtt import MqttClient

from .automation_helpers import capture
from .mqtt_helpers import Peer, peer, setup_mqtt, unique, wait_for
from .services import Mosquitto


@pytest.fixture
def device(mosquitto: Mosquitto) -> Iterator[Peer]:
    with peer(mosquitto) as one:
        yield one


async def discovery_hub(hub: Hub, broker: Mosquitto) -> tuple[MqttClient, str]:
    prefix = unique("ha")
    client = await setup_mqtt(hub, broker, discovery=True, discovery_prefix=prefix)
    assert client.discovery is not None
    return client, prefix


def announce(device: Peer, topic: str, config: dict[str, Any] | str) -> None:
    payload = config if isinstance(config, str) else json.dumps(config)
    device.publish(topic, payload, retain=True)


def state(hub: Hub, entity_id: str) -> str | None:
    found = hub.states.get(entity_id)
    return None if found is None else found.state


async def wait_state(hub: Hub, entity_id: str, expected: str) -> None:
    await wait_for(lambda: state(hub, entity_id) == expected)


async def test_lock_appears_reports_and_obeys(hub: Hub, mosquitto: Mosquitto, device: Peer) -> None:
    client, prefix = await discovery_hub(hub, mosquitto)
    base = unique("lock")
    device.subscribe(f"{base}/set")
    config_topic = f"{prefix}/lock/gate_ctrl/north_gate/config"
    announce(
        device,
        config_topic,
        {
            "~": base,
            "name": "Lock",
            "uniq_id": "gate-north-lock",
            "stat_t": "~/state",
            "cmd_t": "~/set",
            "avty_t": "~/online",
            "pl_lock": "CLOSE",
            "pl_unlk": "RELEASE",
            "pl_open": "UNLATCH",
            "stat_locked": "closed",
            "stat_unlocked": "released",
            "dev": {"ids": ["gate-ctrl-1"], "name": "North gate", "mf": "Acme", "mdl": "GL-2"},
        },
    )
    await wait_for(lambda: hub.states.get("lock.north_gate_lock"))
    assert state(hub, "lock.north_gate_lock") == "unavailable"  # until the device says online
    entity = hub.entities.get("lock.north_gate_lock")
    assert entity is not None and entity.device_info is not None
    assert entity.device_info.manufacturer == "Acme" and entity.device_info.model == "GL-2"
    assert ("mqtt", "gate-ctrl-1") in entity.device_info.identifiers
    device.publish(f"{base}/online", "online", retain=True)
    device.publish(f"{base}/state", "closed")
    await wait_state(hub, "lock.north_gate_lock", "locked")
    assert hub.states.get("lock.north_gate_lock").attributes["friendly_name"] == "North gate Lock"

    await hub.services.call(
        "lock", "unlock", target={"entity_id": "lock.north_gate_lock"}, blocking=True
    )
    command = await device.next(f"{base}/set")
    assert command.payload == b"RELEASE" and not command.retain
    assert state(hub, "lock.north_gate_lock") == "locked"  # not optimistic: waits for the device
    device.publish(f"{base}/state", "released")
    await wait_state(hub, "lock.north_gate_lock", "unlocked")
    await hub.services.call(
        "lock", "open", target={"entity_id": "lock.north_gate_lock"}, blocking=True
    )
    assert (await device.next(f"{base}/set")).payload == b"UNLATCH"

    device.publish(f"{base}/state", "exploded")
    await wait_for(lambda: client.stats["malformed"] == 1)
    assert state(hub, "lock.north_gate_lock") == "unlocked"

    device.publish(f"{base}/online", "offline", retain=True)
    await wait_state(hub, "lock.north_gate_lock", "unavailable")
    device.publish(f"{base}/online", "", retain=True)
    announce(device, config_topic, "")  # removal
    await wait_for(lambda: hub.states.get("lock.north_gate_lock") is None)
    assert hub.entities.get("lock.north_gate_lock") is None
    assert client.discovery is not None and client.discovery.stats["removed"] == 1


async def test_lock_code_format_and_optimistic(
    hub: Hub, mosquitto: Mosquitto, device: Peer
) -> None:
    _client, prefix = await discovery_hub(hub, mosquitto)
    base = unique("lock")
    device.subscribe(f"{base}/cmd")
    announce(
        device,
        f"{prefix}/lock/unit_door/config",
        {
            "name": "Unit door",
            "command_topic": f"{base}/cmd",
            "code_format": r"^\d{4}$",
            "command_template": '{"action": "{{ value }}", "pin": "{{ code }}"}',
        },
    )
    await wait_state(hub, "lock.unit_door", "unknown")
    with pytest.raises(ServiceValidationError, match="code"):
        await hub.services.call(
            "lock",
            "unlock",
            {"code": "12"},
            target={"entity_id": "lock.unit_door"},
            blocking=True,
        )
    await hub.services.call(
        "lock", "unlock", {"code": "1234"}, target={"entity_id": "lock.unit_door"}, blocking=True
    )
    command = await device.next(f"{base}/cmd")
    assert json.loads(command.payload) == {"action": "UNLOCK", "pin": "1234"}
    assert state(hub, "lock.unit_door") == "unlocked"  # no state topic: optimistic
    with pytest.raises(Exception, match="does not support open"):
        await hub.services.call(
            "lock", "open", {"code": "1234"}, target={"entity_id": "lock.unit_door"}, blocking=True
        )
    announce(device, f"{prefix}/lock/unit_door/config", "")


async def test_binary_sensor_value_template_availability_list_all(
    hub: Hub, mosquitto: Mosquitto, device: Peer
) -> None:
    _client, prefix = await discovery_hub(hub, mosquitto)
    base = unique("z2m")
    announce(
        device,
        f"{prefix}/binary_sensor/0x00158d/contact/config",
        {
            "name": "Door contact",
            "unique_id": "0x00158d_contact",
            "object_id": "building1_door",
            "state_topic": f"{base}/door",
            "value_template": "{{ value_json.contact }}",
            "payload_on": False,  # Zigbee2MQTT: contact false means open
            "payload_off": True,
            "device_class": "door",
            "availability": [
                {"topic": f"{base}/bridge/state", "value_template": "{{ value_json.state }}"},
                {"topic": f"{base}/door/availability"},
            ],
            "availability_mode": "all",
            "json_attributes_topic": f"{base}/door",
        },
    )
    entity_id = "binary_sensor.building1_door"
    await wait_state(hub, entity_id, "unavailable")
    device.publish(f"{base}/bridge/state", '{"state": "online"}')
    device.publish(f"{base}/door", '{"contact": false, "battery": 97, "linkquality": 120}')
    await wait_for(lambda: hub.states.get(entity_id).attributes.get("battery") == 97)
    assert state(hub, entity_id) == "unavailable"  # mode all: the second topic is still silent
    device.publish(f"{base}/door/availability", "online")
    await wait_state(hub, entity_id, "on")
    attributes = hub.states.get(entity_id).attributes
    assert attributes["device_class"] == "door" and attributes["linkquality"] == 120
    device.publish(f"{base}/door", '{"contact": true, "battery": 96}')
    await wait_state(hub, entity_id, "off")
    device.publish(f"{base}/bridge/state", '{"state": "offline"}')
    await wait_state(hub, entity_id, "unavailable")


async def test_availability_modes_any_and_latest(
    hub: Hub, mosquitto: Mosquitto, device: Peer
) -> None:
    _client, prefix = await discovery_hub(hub, mosquitto)
    base = unique("avty")
    for mode in ("any", "latest"):
        announce(
            device,
            f"{prefix}/binary_sensor/{mode}/config",
            {
                "name": f"Motion {mode}",
                "state_topic": f"{base}/{mode}/state",
                "availability": [{"topic": f"{base}/{mode}/a"}, {"topic": f"{base}/{mode}/b"}],
                "availability_mode": mode,
            },
        )
    await wait_state(hub, "binary_sensor.motion_any", "unavailable")
    await wait_state(hub, "binary_sensor.motion_latest", "unavailable")
    for mode in ("any", "latest"):
        device.publish(f"{base}/{mode}/a", "online")
        device.publish(f"{base}/{mode}/state", "ON")
    await wait_state(hub, "binary_sensor.motion_any", "on")
    await wait_state(hub, "binary_sensor.motion_latest", "on")
    for mode in ("any", "latest"):
        device.publish(f"{base}/{mode}/b", "offline")
    await wait_state(hub, "binary_sensor.motion_latest", "unavailable")
    assert state(hub, "binary_sensor.motion_any") == "on"  # a is still online


async def test_sensor_value_template_units_and_malformed(
    hub: Hub, mosquitto: Mosquitto, device: Peer
) -> None:
    client, prefix = await discovery_hub(hub, mosquitto)
    base = unique("esp")
    announce(
        device,
        f"{prefix}/sensor/pump_room/water_level/config",
        {
            "name": "Water level",
            "stat_t": f"{base}/sensor",
            "val_tpl": "{{ value_json.level | float * 100 }}",
            "unit_of_meas": "cm",
            "stat_cla": "measurement",
            "sug_dsp_prc": 1,
            "uniq_id": "pump-room-level",
        },
    )
    await wait_state(hub, "sensor.water_level", "unknown")
    device.publish(f"{base}/sensor", '{"level": 0.4567}')
    await wait_state(hub, "sensor.water_level", "45.7")
    attributes = hub.states.get("sensor.water_level").attributes
    assert attributes["unit_of_measurement"] == "cm"
    assert attributes["state_class"] == "measurement"
    device.publish(f"{base}/sensor", "")  # a retained value being cleared: ignored
    device.publish(f"{base}/sensor", "not json")  # the template fails: value_json undefined
    device.publish(f"{base}/sensor", '{"level": "high"}')  # not a number
    device.publish(f"{base}/sensor", b"\xff")  # not UTF-8
    await wait_for(lambda: client.stats["malformed"] == 3)
    assert state(hub, "sensor.water_level") == "45.7"


async def test_sensor_expire_after_on_the_hub_clock(
    hub: Hub, clock: ManualClock, mosquitto: Mosquitto, device: Peer
) -> None:
    _client, prefix = await discovery_hub(hub, mosquitto)
    base = unique("exp")
    announce(
        device,
        f"{prefix}/sensor/gate_count/config",
        {"name": "Gate count", "state_topic": f"{base}/count", "expire_after": 60},
    )
    await wait_state(hub, "sensor.gate_count", "unavailable")
    device.publish(f"{base}/count", "17")
    await wait_state(hub, "sensor.gate_count", "17")
    await clock.advance(61)
    await wait_state(hub, "sensor.gate_count", "unavailable")


async def test_alarm_panel_states_and_commands(
    hub: Hub, mosquitto: Mosquitto, device: Peer
) -> None:
    _client, prefix = await discovery_hub(hub, mosquitto)
    base = unique("alarm")
    device.subscribe(f"{base}/set")
    announce(
        device,
        f"{prefix}/alarm_control_panel/perimeter/config",
        {
            "name": "Perimeter",
            "unique_id": "perimeter-panel",
            "state_topic": f"{base}/state",
            "command_topic": f"{base}/set",
            "code": "REMOTE_CODE",
            "code_arm_required": False,
            "command_template": '{"action": "{{ action }}", "code": "{{ code }}"}',
            "supported_features": ["arm_home", "arm_away", "trigger"],
        },
    )
    entity_id = "alarm_control_panel.perimeter"
    await wait_state(hub, entity_id, "unknown")
    device.publish(f"{base}/state", "disarmed")
    await wait_state(hub, entity_id, "disarmed")
    assert hub.states.get(entity_id).attributes["supported_modes"] == ["armed_away", "armed_home"]
    await hub.services.call(
        "alarm_control_panel", "alarm_arm_away", target={"entity_id": entity_id}, blocking=True
    )
    assert json.loads((await device.next(f"{base}/set")).payload) == {
        "action": "ARM_AWAY",
        "code": "None",
    }
    device.publish(f"{base}/state", "armed_away")
    await wait_state(hub, entity_id, "armed_away")
    with pytest.raises(ServiceValidationError, match="needs a code"):
        await hub.services.call(
            "alarm_control_panel", "alarm_disarm", target={"entity_id": entity_id}, blocking=True
        )
    await hub.services.call(
        "alarm_control_panel",
        "alarm_disarm",
        {"code": "2580"},
        target={"entity_id": entity_id},
        blocking=True,
    )
    message = await device.next(f"{base}/set")
    assert json.loads(message.payload) == {"action": "DISARM", "code": "2580"}
    assert not message.retain
    with pytest.raises(Exception, match="armed_night"):
        await hub.services.call(
            "alarm_control_panel", "alarm_arm_night", target={"entity_id": entity_id}, blocking=True
        )
    device.publish(f"{base}/state", "triggered")
    await wait_state(hub, entity_id, "triggered")


async def test_alarm_panel_with_a_local_code(hub: Hub, mosquitto: Mosquitto, device: Peer) -> None:
    _client, prefix = await discovery_hub(hub, mosquitto)
    base = unique("alarm")
    device.subscribe(f"{base}/set")
    announce(
        device,
        f"{prefix}/alarm_control_panel/carpark/config",
        {
            "name": "Car park",
            "state_topic": f"{base}/state",
            "command_topic": f"{base}/set",
            "code": "1357",
        },
    )
    entity_id = "alarm_control_panel.car_park"
    await wait_state(hub, entity_id, "unknown")
    with pytest.raises(ServiceValidationError, match="wrong code"):
        await hub.services.call(
            "alarm_control_panel",
            "alarm_arm_home",
            {"code": "0000"},
            target={"entity_id": entity_id},
            blocking=True,
        )
    await hub.services.call(
        "alarm_control_panel",
        "alarm_arm_home",
        {"code": "1357"},
        target={"entity_id": entity_id},
        blocking=True,
    )
    assert (await device.next(f"{base}/set")).payload == b"ARM_HOME"  # the code stays here


async def test_changed_config_updates_in_place_and_empty_removes(
    hub: Hub, mosquitto: Mosquitto, device: Peer
) -> None:
    client, prefix = await discovery_hub(hub, mosquitto)
    base = unique("upd")
    topic = f"{prefix}/binary_sensor/gate/motion/config"
    first = {"name": "Motion", "unique_id": "gate-motion", "state_topic": f"{base}/old"}
    announce(device, topic, first)
    await wait_state(hub, "binary_sensor.motion", "unknown")
    announce(device, topic, first)  # the same config again changes nothing
    device.publish(f"{base}/old", "ON")
    await wait_state(hub, "binary_sensor.motion", "on")
    announce(
        device,
        topic,
        {
            "name": "Gate motion",
            "unique_id": "gate-motion",
            "state_topic": f"{base}/new",
            "payload_on": "1",
            "payload_off": "0",
        },
    )
    await wait_for(
        lambda: hub.states.get("binary_sensor.motion").attributes["friendly_name"] == "Gate motion"
    )
    device.publish(f"{base}/new", "0")
    await wait_state(hub, "binary_sensor.motion", "off")
    device.publish(f"{base}/old", "ON")  # the old topic is no longer followed
    device.publish(f"{base}/new", "1")
    await wait_state(hub, "binary_sensor.motion", "on")
    assert client.discovery is not None
    assert client.discovery.stats["updated"] == 1 and client.discovery.stats["discovered"] == 1
    announce(device, topic, "")
    await wait_for(lambda: hub.states.get("binary_sensor.motion") is None)


async def test_bad_configs_are_logged_with_topic_and_field_and_ignored(
    hub: Hub, mosquitto: Mosquitto, device: Peer, caplog: pytest.LogCaptureFixture
) -> None:
    client, prefix = await discovery_hub(hub, mosquitto)
    base = unique("bad")
    good_topic = f"{prefix}/sensor/kept/config"
    announce(device, good_topic, {"name": "Kept", "state_topic": f"{base}/kept"})
    await wait_state(hub, "sensor.kept", "unknown")
    with caplog.at_level(logging.INFO):
        announce(device, f"{prefix}/sensor/no_state/config", {"name": "No state topic"})
        announce(device, f"{prefix}/lock/broken/config", "{not json")
        announce(device, f"{prefix}/switch/wild/config", {"name": "W", "cmd_t": "a/#"})
        announce(device, f"{prefix}/sensor/qos/config", {"stat_t": "a/b", "qos": 7})
        announce(device, f"{prefix}/vacuum/robot/config", {"name": "Robot"})
        announce(device, f"{prefix}/sensor/list/config", "[1, 2]")
        announce(device, good_topic, {"name": "Kept", "state_topic": "x/#/y"})  # bad update
        await wait_for(
            lambda: client.discovery is not None and client.discovery.stats["invalid"] >= 6
        )
        await wait_for(
            lambda: client.discovery is not None and client.discovery.stats["unsupported"] == 1
        )
    text = caplog.text
    assert f"{prefix}/sensor/no_state/config" in text and "state_topic" in text
    assert f"{prefix}/lock/broken/config" in text and "not valid JSON" in text
    assert f"{prefix}/switch/wild/config" in text and "command_topic" in text
    assert f"{prefix}/sensor/qos/config" in text and "qos" in text
    assert "'vacuum' is not supported" in text
    assert client.stats["malformed"] == 6
    assert state(hub, "sensor.kept") == "unknown"  # the bad update left the entity as it was
    assert hub.states.get("sensor.no_state_topic") is None
    for topic in ("sensor/no_state", "lock/broken", "switch/wild", "sensor/qos", "vacuum/robot"):
        device.publish(f"{prefix}/{topic}/config", "", retain=True)
    device.publish(f"{prefix}/sensor/list/config", "", retain=True)
    announce(device, good_topic, "")


async def test_switch_siren_button_commands(hub: Hub, mosquitto: Mosquitto, device: Peer) -> None:
    _client, prefix = await discovery_hub(hub, mosquitto)
    base = unique("tasmota")
    device.subscribe(f"{base}/#")
    announce(
        device,
        f"{prefix}/switch/pump/config",
        {
            "name": "Pump",
            "cmd_t": f"{base}/pump/set",
            "stat_t": f"{base}/pump/state",
            "stat_on": "running",
            "stat_off": "stopped",
            "ret": True,  # asked for, but commands are never retained
        },
    )
    announce(
        device,
        f"{prefix}/siren/guard_room/config",
        {
            "name": "Guard siren",
            "cmd_t": f"{base}/siren/set",
            "stat_t": f"{base}/siren/state",
            "av_tones": ["fire", "intruder"],
        },
    )
    announce(
        device,
        f"{prefix}/button/door_station_restart/config",
        {"name": "Restart door station", "cmd_t": f"{base}/restart", "pl_prs": "REBOOT"},
    )
    await wait_state(hub, "switch.pump", "unknown")
    await wait_state(hub, "siren.guard_siren", "unknown")
    await wait_state(hub, "button.restart_door_station", "unknown")

    await hub.services.call("switch", "turn_on", target={"entity_id": "switch.pump"}, blocking=True)
    command = await device.next(f"{base}/pump/set")
    assert command.payload == b"ON" and not command.retain
    device.publish(f"{base}/pump/state", "running")
    await wait_state(hub, "switch.pump", "on")

    await hub.services.call(
        "siren", "turn_on", {"tone": "intruder", "duration": 30},
        target={"entity_id": "siren.guard_siren"}, blocking=True,
    )  # fmt: skip
    command = await device.next(f"{base}/siren/set")
    assert json.loads(command.payload) == {"state": "ON", "tone": "intruder", "duration": 30.0}
    device.publish(f"{base}/siren/state", '{"state": "ON", "tone": "intruder"}')
    await wait_state(hub, "siren.guard_siren", "on")
    await hub.services.call(
        "siren", "turn_off", target={"entity_id": "siren.guard_siren"}, blocking=True
    )
    assert (await device.next(f"{base}/siren/set")).payload == b"OFF"

    await hub.services.call(
        "button", "press", target={"entity_id": "button.restart_door_station"}, blocking=True
    )
    assert (await device.next(f"{base}/restart")).payload == b"REBOOT"
    assert state(hub, "button.restart_door_station") == hub.clock.now().isoformat()


async def test_lights_basic_and_json(hub: Hub, mosquitto: Mosquitto, device: Peer) -> None:
    _client, prefix = await discovery_hub(hub, mosquitto)
    base = unique("light")
    device.subscribe(f"{base}/#")
    announce(
        device,
        f"{prefix}/light/stairwell/config",
        {
            "name": "Stairwell",
            "cmd_t": f"{base}/stair/set",
            "stat_t": f"{base}/stair/state",
            "bri_cmd_t": f"{base}/stair/brightness/set",
            "bri_stat_t": f"{base}/stair/brightness",
            "bri_scl": 100,
        },
    )
    announce(
        device,
        f"{prefix}/light/0x0017/light/config",
        {
            "name": "Corridor",
            "schema": "json",
            "cmd_t": f"{base}/corridor/set",
            "stat_t": f"{base}/corridor",
            "brightness": True,
            "supported_color_modes": ["brightness"],
        },
    )
    await wait_state(hub, "light.stairwell", "unknown")
    await wait_state(hub, "light.corridor", "unknown")
    await hub.services.call(
        "light", "turn_on", {"brightness": 128},
        target={"entity_id": "light.stairwell"}, blocking=True,
    )  # fmt: skip
    assert (await device.next(f"{base}/stair/brightness/set")).payload == b"50"
    assert (await device.next(f"{base}/stair/set")).payload == b"ON"
    device.publish(f"{base}/stair/state", "ON")
    device.publish(f"{base}/stair/brightness", "50")
    await wait_for(lambda: hub.states.get("light.stairwell").attributes.get("brightness") == 128)
    assert state(hub, "light.stairwell") == "on"

    await hub.services.call(
        "light", "turn_on", {"brightness": 255},
        target={"entity_id": "light.corridor"}, blocking=True,
    )  # fmt: skip
    assert json.loads((await device.next(f"{base}/corridor/set")).payload) == {
        "state": "ON",
        "brightness": 255,
    }
    device.publish(f"{base}/corridor", '{"state": "ON", "brightness": 200}')
    await wait_for(lambda: hub.states.get("light.corridor").attributes.get("brightness") == 200)
    await hub.services.call(
        "light", "turn_off", target={"entity_id": "light.corridor"}, blocking=True
    )
    assert json.loads((await device.next(f"{base}/corridor/set")).payload) == {"state": "OFF"}


async def test_event_entity_and_device_trigger(
    hub: Hub, mosquitto: Mosquitto, device: Peer
) -> None:
    client, prefix = await discovery_hub(hub, mosquitto)
    base = unique("doorbell")
    pressed = capture(hub, "mqtt_device_trigger")
    announce(
        device,
        f"{prefix}/event/doorbell/config",
        {
            "name": "Doorbell",
            "stat_t": f"{base}/event",
            "evt_typ": ["press", "hold"],
            "dev_cla": "doorbell",
        },
    )
    announce(
        device,
        f"{prefix}/device_automation/remote_01/action_single/config",
        {
            "atype": "trigger",
            "t": f"{base}/remote/action",
            "pl": "single",
            "type": "button_short_press",
            "stype": "button_1",
            "dev": {"ids": "remote_01", "name": "Guard remote"},
        },
    )
    await wait_state(hub, "event.doorbell", "unknown")
    await wait_for(
        lambda: client.discovery is not None and client.discovery.stats["discovered"] == 2
    )
    device.publish(f"{base}/event", '{"event_type": "press", "button": 1}')
    await wait_state(hub, "event.doorbell", hub.clock.now().isoformat())
    attributes = hub.states.get("event.doorbell").attributes
    assert attributes["event_type"] == "press" and attributes["button"] == 1
    device.publish(f"{base}/event", '{"event_type": "explode"}')
    await wait_for(lambda: client.stats["malformed"] == 1)

    device.publish(f"{base}/remote/action", "double")  # another payload: not this trigger
    device.publish(f"{base}/remote/action", "single")
    await wait_for(lambda: pressed)
    assert len(pressed) == 1
    assert pressed[0].data == {
        "discovery_id": "remote_01/action_single",
        "device_id": "remote_01",
        "device_name": "Guard remote",
        "type": "button_short_press",
        "subtype": "button_1",
        "topic": f"{base}/remote/action",
        "payload": "single",
    }


async def test_device_discovery_with_components(
    hub: Hub, mosquitto: Mosquitto, device: Peer
) -> None:
    _client, prefix = await discovery_hub(hub, mosquitto)
    base = unique("dev")
    topic = f"{prefix}/device/unit_station/config"
    announce(
        device,
        topic,
        {
            "dev": {"ids": "unit-station-7", "name": "Unit 7 station"},
            "o": {"name": "firmware", "sw": "1.0"},
            "stat_t": f"{base}/state",
            "cmps": {
                "door": {"p": "binary_sensor", "name": "Door", "val_tpl": "{{ value_json.door }}"},
                "temp": {
                    "p": "sensor",
                    "name": "Temperature",
                    "val_tpl": "{{ value_json.temp }}",
                    "unit_of_meas": "°C",
                },
            },
        },
    )
    await wait_state(hub, "binary_sensor.unit_7_station_door", "unknown")
    await wait_state(hub, "sensor.unit_7_station_temperature", "unknown")
    device.publish(f"{base}/state", '{"door": "ON", "temp": 21.5}')
    await wait_state(hub, "binary_sensor.unit_7_station_door", "on")
    await wait_state(hub, "sensor.unit_7_station_temperature", "21.5")
    announce(  # the sensor is withdrawn (only its platform left)
        device,
        topic,
        {
            "dev": {"ids": "unit-station-7", "name": "Unit 7 station"},
            "stat_t": f"{base}/state",
            "cmps": {
                "door": {"p": "binary_sensor", "name": "Door", "val_tpl": "{{ value_json.door }}"},
                "temp": {"p": "sensor"},
            },
        },
    )
    await wait_for(lambda: hub.states.get("sensor.unit_7_station_temperature") is None)
    assert hub.states.get("binary_sensor.unit_7_station_door") is not None
    announce(device, topic, "")
    await wait_for(lambda: hub.states.get("binary_sensor.unit_7_station_door") is None)


async def test_ha_mqtt_discoverable_devices_as_real_peers(
    hub: Hub, mosquitto: Mosquitto, device: Peer
) -> None:
    """ha-mqtt-discoverable (the maintained device-side library) announces a binary sensor
    and a switch; the hub discovers both, follows the sensor and switches the switch."""
    from ha_mqtt_discoverable import DeviceInfo, Settings
    from ha_mqtt_discoverable.sensors import BinarySensor, BinarySensorInfo, Switch, SwitchInfo

    _client, prefix = await discovery_hub(hub, mosquitto)
    mqtt_settings = Settings.MQTT(
        host=mosquitto.host,
        port=mosquitto.port,
        discovery_prefix=prefix,
        state_prefix=unique("hmd"),
    )
    box = DeviceInfo(name="Perimeter box", identifiers="perimeter-box-3", manufacturer="DIY")
    pir = BinarySensor(
        Settings(
            mqtt=mqtt_settings,
            entity=BinarySensorInfo(
                name="PIR", device_class="motion", unique_id="box3-pir", device=box
            ),
        )
    )
    received: list[bytes] = []

    def command(client: Any, userdata: Any, message: Any) -> None:
        received.append(message.payload)
        if message.payload == b"ON":
            floodlight.on()
        else:
            floodlight.off()

    floodlight = Switch(
        Settings(
            mqtt=mqtt_settings,
            entity=SwitchInfo(name="Floodlight", unique_id="box3-flood", device=box),
        ),
        command,
    )
    try:
        pir.write_config()
        floodlight.write_config()
        # the states follow once the hub has discovered (and subscribed for) the entities
        await wait_state(hub, "binary_sensor.perimeter_box_pir", "unknown")
        await wait_state(hub, "switch.perimeter_box_floodlight", "unknown")
        pir.on()
        floodlight.off()
        await wait_state(hub, "binary_sensor.perimeter_box_pir", "on")
        await wait_state(hub, "switch.perimeter_box_floodlight", "off")
        assert (
            hub.states.get("binary_sensor.perimeter_box_pir").attributes["device_class"] == "motion"
        )
        pir.off()
        await wait_state(hub, "binary_sensor.perimeter_box_pir", "off")
        await hub.services.call(
            "switch",
            "turn_on",
            target={"entity_id": "switch.perimeter_box_floodlight"},
            blocking=True,
        )
        await wait_state(hub, "switch.perimeter_box_floodlight", "on")
        assert received == [b"ON"]
    finally:
        for config_topic in (pir.config_topic, floodlight.config_topic):
            device.publish(config_topic, "", retain=True)
        for entity in (pir, floodlight):
            entity.mqtt_client.disconnect()
            entity.mqtt_client.loop_stop()


async def test_discovery_off_and_custom_prefix(
    hub: Hub, mosquitto: Mosquitto, device: Peer
) -> None:
    client = await setup_mqtt(hub, mosquitto, discovery=False)
    assert client.discovery is None
    assert all("config" not in topic for topic in client._filters)


async def test_entities_unavailable_while_the_broker_is_gone(
    hub: Hub, own_mosquitto: Mosquitto
) -> None:
    """Nothing a discovered entity shows is current while the hub has no broker; after the
    reconnect the broker replays the retained state and the entity is back."""
    client, prefix = await discovery_hub(hub, own_mosquitto)
    base = unique("gone")
    with peer(own_mosquitto) as gate:
        announce(
            gate,
            f"{prefix}/lock/gate/config",
            {"name": "Gate", "stat_t": f"{base}/s", "cmd_t": f"{base}/c"},
        )
        await wait_state(hub, "lock.gate", "unknown")
        gate.publish(f"{base}/s", "LOCKED", retain=True)
        await wait_state(hub, "lock.gate", "locked")
    own_mosquitto.stop()
    await wait_state(hub, "lock.gate", "unavailable")
    own_mosquitto.start()
    await wait_for(lambda: client.connected, timeout=30)
    await wait_state(hub, "lock.gate", "locked")


async def test_off_delay_and_bad_json_attributes(
    hub: Hub, clock: ManualClock, mosquitto: Mosquitto, device: Peer
) -> None:
    client, prefix = await discovery_hub(hub, mosquitto)
    base = unique("pir")
    announce(
        device,
        f"{prefix}/binary_sensor/rf/pir_3/config",
        {
            "name": "Perimeter PIR 3",
            "stat_t": f"{base}/rf",
            "val_tpl": "{{ 'ON' if value_json.code == 'A1B2' else 'OFF' }}",
            "off_dly": 30,
            "json_attr_t": f"{base}/attrs",
            "dev_cla": "motion",
        },
    )
    entity_id = "binary_sensor.perimeter_pir_3"
    await wait_state(hub, entity_id, "unknown")
    device.publish(f"{base}/rf", '{"code": "A1B2"}')
    await wait_state(hub, entity_id, "on")
    await clock.advance(29)
    assert state(hub, entity_id) == "on"
    await clock.advance(2)
    assert state(hub, entity_id) == "off"
    device.publish(f"{base}/attrs", "[1, 2]")
    device.publish(f"{base}/attrs", "{broken")
    device.publish(f"{base}/attrs", '{"rssi": -70, "friendly_name": "not this"}')
    await wait_for(lambda: hub.states.get(entity_id).attributes.get("rssi") == -70)
    assert client.stats["malformed"] == 2
    assert hub.states.get(entity_id).attributes["friendly_name"] == "Perimeter PIR 3"


async def test_siren_command_template_and_device_trigger_alias(
    hub: Hub, mosquitto: Mosquitto, device: Peer
) -> None:
    client, prefix = await discovery_hub(hub, mosquitto)
    base = unique("siren")
    device.subscribe(f"{base}/#")
    announce(
        device,
        f"{prefix}/siren/yard/config",
        {
            "name": "Yard siren",
            "cmd_t": f"{base}/set",
            "cmd_tpl": '{"alarm": "{{ value }}", "tone": "{{ tone | default(\'default\') }}"}',
            "cmd_off_tpl": '{"alarm": "{{ value }}"}',
            "av_tones": ["fire", "intruder"],
            "sup_vol": False,
        },
    )
    announce(
        device,
        f"{prefix}/device_trigger/keypad/panic/config",
        {
            "automation_type": "trigger",
            "topic": f"{base}/keypad",
            "value_template": "{{ value_json.key }}",
            "payload": "panic",
            "type": "button_long_press",
            "subtype": "panic",
            "device": {"identifiers": ["keypad-9"]},
        },
    )
    await wait_state(hub, "siren.yard_siren", "unknown")
    await wait_for(
        lambda: client.discovery is not None and client.discovery.stats["discovered"] == 2
    )
    await hub.services.call(
        "siren",
        "turn_on",
        {"tone": "fire"},
        target={"entity_id": "siren.yard_siren"},
        blocking=True,
    )
    assert json.loads((await device.next(f"{base}/set")).payload) == {"alarm": "ON", "tone": "fire"}
    assert state(hub, "siren.yard_siren") == "on"  # optimistic: no state topic
    await hub.services.call(
        "siren", "turn_off", target={"entity_id": "siren.yard_siren"}, blocking=True
    )
    assert json.loads((await device.next(f"{base}/set")).payload) == {"alarm": "OFF"}
    with pytest.raises(Exception, match="volume_level"):
        await hub.services.call(
            "siren", "turn_on", {"volume_level": 0.5},
            target={"entity_id": "siren.yard_siren"}, blocking=True,
        )  # fmt: skip
    panics = capture(hub, "mqtt_device_trigger")
    device.publish(f"{base}/keypad", '{"key": "1"}')
    device.publish(f"{base}/keypad", '{"key": "panic"}')
    await wait_for(lambda: panics)
    assert panics[0].data["device_id"] == "keypad-9" and panics[0].data["subtype"] == "panic"
    assert len(panics) == 1


async def test_suggested_area_that_is_a_place_binds_the_entity(
    hub: Hub, mosquitto: Mosquitto, device: Peer
) -> None:
    from shouwang.core.places import Place

    hub.places.add(Place("P-GATE-N", "North gate", "gate"))
    _client, prefix = await discovery_hub(hub, mosquitto)
    base = unique("area")
    dev = {"ids": ["gate-cam-io"], "name": "Gate IO", "sa": "P-GATE-N"}
    announce(
        device, f"{prefix}/binary_sensor/io/config", {"name": "Loop", "stat_t": base, "dev": dev}
    )
    await wait_state(hub, "binary_sensor.gate_io_loop", "unknown")
    assert hub.places.place_of("binary_sensor.gate_io_loop") == "P-GATE-N"
    assert hub.states.get("binary_sensor.gate_io_loop").attributes["place_id"] == "P-GATE-N"


async def test_duplicate_unique_id_is_refused_and_counted(
    hub: Hub, mosquitto: Mosquitto, device: Peer, caplog: pytest.LogCaptureFixture
) -> None:
    client, prefix = await discovery_hub(hub, mosquitto)
    base = unique("dup")
    config = {"name": "Smoke", "uniq_id": "smoke-1", "stat_t": f"{base}/smoke"}
    announce(device, f"{prefix}/binary_sensor/a/smoke/config", config)
    await wait_state(hub, "binary_sensor.smoke", "unknown")
    announce(device, f"{prefix}/binary_sensor/b/smoke/config", {**config, "name": "Smoke copy"})
    await wait_for(lambda: client.discovery is not None and client.discovery.stats["invalid"] == 1)
    assert "unique_id 'smoke-1' is already in use" in caplog.text
    assert hub.states.get("binary_sensor.smoke_copy") is None
    device.publish(f"{prefix}/binary_sensor/b/smoke/config", "", retain=True)
    announce(device, f"{prefix}/binary_sensor/a/smoke/config", "")
    await wait_for(lambda: hub.states.get("binary_sensor.smoke") is None)


async def test_simulated_door_controller_is_discovered_and_obeys(
    hub: Hub, mosquitto: Mosquitto
) -> None:
    """The shipped simulator (the demo's discovery device) on its own connection."""
    import asyncio

    from shouwang.integrations.mqtt.simulator import DoorControllerSimulator

    _client, prefix = await discovery_hub(hub, mosquitto)
    connection = MqttClient(
        asyncio.get_running_loop(),
        broker=mosquitto.host,
        port=mosquitto.port,
        client_id="sim-" + unique().replace("/", "-"),
    )
    connection.start()
    connection.release_held()
    assert await connection.wait_connected(10)
    sim = DoorControllerSimulator(
        connection, "unit_3", name="Unit 3 door", prefix=prefix, base=unique("sim")
    )
    try:
        await sim.start()
        await wait_state(hub, "lock.unit_3_door_lock", "locked")
        await wait_state(hub, "binary_sensor.unit_3_door_door", "off")
        await wait_state(hub, "alarm_control_panel.unit_3_door_alarm", "disarmed")
        await hub.services.call(
            "lock", "unlock", target={"entity_id": "lock.unit_3_door_lock"}, blocking=True
        )
        await wait_state(hub, "lock.unit_3_door_lock", "unlocked")
        await sim.door(True)
        await wait_state(hub, "binary_sensor.unit_3_door_door", "on")
        panel = {"entity_id": "alarm_control_panel.unit_3_door_alarm"}
        await hub.services.call(
            "alarm_control_panel", "alarm_arm_away", target=panel, blocking=True
        )
        await wait_state(hub, panel["entity_id"], "armed_away")
        await hub.services.call(
            "alarm_control_panel", "alarm_disarm", {"code": "0000"}, target=panel, blocking=True
        )
        await hub.services.call(
            "alarm_control_panel", "alarm_disarm", {"code": "1234"}, target=panel, blocking=True
        )
        await wait_state(hub, panel["entity_id"], "disarmed")
        assert [payload for _topic, payload in sim.commands][:1] == ["UNLOCK"]
        await sim.set_online(False)
        await wait_state(hub, "lock.unit_3_door_lock", "unavailable")
    finally:
        await sim.stop(remove=True)
        await connection.stop()
    await wait_for(lambda: hub.states.get("lock.unit_3_door_lock") is None)
