"""Entity platforms: each platform's services, states and attributes, driven through the hub with
small simulated devices."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from shouwang.core.clock import ManualClock
from shouwang.core.entity import Entity
from shouwang.core.events import Context
from shouwang.core.hub import Hub
from shouwang.core.places import Place
from shouwang.core.platforms import (
    PLATFORMS,
    AlarmControlPanelEntity,
    BinarySensorDeviceClass,
    BinarySensorEntity,
    ButtonEntity,
    CameraEntity,
    CodeFormat,
    EventEntity,
    GateEntity,
    IntercomEntity,
    LightEntity,
    LockEntity,
    NotSupportedError,
    PersonEntity,
    SensorEntity,
    SirenEntity,
    SwitchEntity,
)
from shouwang.core.services import ServiceError, ServiceValidationError
from shouwang.core.states import State

JPEG = b"\xff\xd8\xff\xe0 simulated frame \xff\xd9"


# -- simulated devices ----------------------------------------------------------------------
class SimLock(LockEntity):
    """Locks and unlocks; cannot unlatch (no ``open``)."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.lock_state = "locked"
        self.codes: list[str | None] = []

    async def lock(self, *, code: str | None = None, context: Context | None = None) -> None:
        self.codes.append(code)
        self.lock_state = "locked"
        self.write_state(context)

    async def unlock(self, *, code: str | None = None, context: Context | None = None) -> None:
        self.codes.append(code)
        self.lock_state = "unlocked"
        self.changed_by = "app"
        self.write_state(context)


class SimSwitch(SwitchEntity):
    async def turn_on(self, *, context: Context | None = None) -> None:
        self.is_on = True
        self.write_state(context)

    async def turn_off(self, *, context: Context | None = None) -> None:
        self.is_on = False
        self.write_state(context)


class OnlyOnSwitch(SwitchEntity):
    """A pulse relay: can be switched on, never off by command."""

    async def turn_on(self, *, context: Context | None = None) -> None:
        self.is_on = True
        self.write_state(context)


class SimSiren(SirenEntity):
    available_tones = ("fire", "intrusion")

    def __init__(self, name: str, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.is_on = False
        self.last_on: dict[str, Any] = {}

    async def turn_on(
        self,
        *,
        tone: str | None = None,
        volume_level: float | None = None,
        duration: float | None = None,
        context: Context | None = None,
    ) -> None:
        self.last_on = {"tone": tone, "volume_level": volume_level, "duration": duration}
        self.is_on = True
        self.write_state(context)

    async def turn_off(self, *, context: Context | None = None) -> None:
        self.is_on = False
        self.write_state(context)


class SimLight(LightEntity):
    def __init__(self, name: str, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.is_on = False
        self.transitions: list[float | None] = []

    async def turn_on(
        self,
        *,
        brightness: int | None = None,
        transition: float | None = None,
        context: Context | None = None,
    ) -> None:
        self.transitions.append(transition)
        self.is_on = True
        self.brightness = brightness if brightness is not None else self.brightness or 255
        self.write_state(context)

    async def turn_off(
        self, *, transition: float | None = None, context: Context | None = None
    ) -> None:
        self.transitions.append(transition)
        self.is_on = False
        self.write_state(context)


class SimCamera(CameraEntity):
    snapshot_url = "http://cam.local/snapshot.jpg"
    stream_url = "rtsp://cam.local/stream"
    motion_detection = True

    def __init__(self, name: str, image: bytes | None = JPEG, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.image = image
        self.powered = True

    async def camera_image(self) -> bytes | None:
        return self.image

    async def turn_off(self, *, context: Context | None = None) -> None:
        self.powered = False
        self.write_state(context)


class SimIntercom(IntercomEntity):
    def __init__(self, name: str, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.doors_opened: list[int | None] = []

    async def call(self, *, target: str, context: Context | None = None) -> None:
        self.intercom_state, self.caller, self.call_id = "ringing", target, "call-1"
        self.write_state(context)

    async def answer(self, *, context: Context | None = None) -> None:
        self.intercom_state = "in_call"
        self.write_state(context)

    async def hangup(self, *, context: Context | None = None) -> None:
        self.intercom_state, self.caller, self.call_id = "idle", None, None
        self.write_state(context)

    async def unlock(self, *, door: int | None = None, context: Context | None = None) -> None:
        self.doors_opened.append(door)


class SimTurnstile(GateEntity):
    """Opens on command and closes by itself: no ``close``."""

    gate_state = "closed"

    async def open(self, *, context: Context | None = None) -> None:
        self.gate_state = "open"
        self.write_state(context)


class SimPanel(AlarmControlPanelEntity):
    alarm_state = "disarmed"
    code_format: CodeFormat | None = CodeFormat.NUMBER
    supported_modes = frozenset({"armed_home", "armed_away"})

    def __init__(self, name: str, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.codes: list[str | None] = []

    async def arm(
        self, mode: str, *, code: str | None = None, context: Context | None = None
    ) -> None:
        self.codes.append(code)
        self.alarm_state = mode
        self.changed_by = "keypad"
        self.write_state(context)

    async def disarm(self, *, code: str | None = None, context: Context | None = None) -> None:
        self.codes.append(code)
        self.alarm_state = "disarmed"
        self.write_state(context)


# -- helpers --------------------------------------------------------------------------------
async def add(hub: Hub, *entities: Entity) -> None:
    added = await hub.entities.add(entities, integration="demo")
    assert len(added) == len(entities)


def state_of(hub: Hub, entity: Entity) -> State:
    assert entity.entity_id is not None
    state = hub.states.get(entity.entity_id)
    assert state is not None, f"{entity.entity_id} has no state"
    return state


async def call(
    hub: Hub,
    domain: str,
    service: str,
    entity: Entity,
    data: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    assert entity.entity_id is not None
    return await hub.services.call(
        domain, service, data, target={"entity_id": entity.entity_id}, blocking=True, **kwargs
    )


def listing(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def caused_by_not_supported(error: BaseException) -> NotSupportedError | None:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, NotSupportedError):
            return cause
        cause = cause.__cause__
    return None


# -- the platform table ---------------------------------------------------------------------
def test_platforms_table_maps_each_domain_to_its_class() -> None:
    assert set(PLATFORMS) == {
        "alarm_control_panel",
        "binary_sensor",
        "button",
        "camera",
        "event",
        "gate",
        "intercom",
        "light",
        "lock",
        "person",
        "sensor",
        "siren",
        "switch",
    }
    for domain, cls in PLATFORMS.items():
        assert cls.domain == domain
        assert issubclass(cls, Entity)
        for service, spec in cls.services.items():
            assert callable(getattr(cls, spec.method, None)), f"{domain}.{service}: {spec.method}"


# -- lock -----------------------------------------------------------------------------------
async def test_lock_services_change_state_with_code_and_context(hub: Hub) -> None:
    door = SimLock("Unit 1 Door")
    await add(hub, door)
    assert door.entity_id == "lock.unit_1_door"
    assert state_of(hub, door).state == "locked"

    context = Context(user_id="guard-7")
    await call(hub, "lock", "unlock", door, {"code": "0123"}, context=context)
    state = state_of(hub, door)
    assert state.state == "unlocked"
    assert state.attributes["changed_by"] == "app"
    assert state.context.id == context.id
    assert door.codes == ["0123"]

    await call(hub, "lock", "lock", door)
    assert state_of(hub, door).state == "locked"
    assert door.codes == ["0123", None]


async def test_lock_open_not_implemented_is_a_clear_error(hub: Hub) -> None:
    door = SimLock("Unit 1 Door")
    await add(hub, door)
    with pytest.raises(ServiceError, match=r"lock\.unit_1_door does not support open") as err:
        await call(hub, "lock", "open", door)
    not_supported = caused_by_not_supported(err.value)
    assert not_supported is not None and not_supported.capability == "open"
    assert state_of(hub, door).state == "locked"


async def test_lock_code_must_be_a_string_and_unknown_fields_are_refused(hub: Hub) -> None:
    door = SimLock("Unit 1 Door")
    await add(hub, door)
    with pytest.raises(ServiceValidationError, match="code"):
        await call(hub, "lock", "unlock", door, {"code": 123})
    with pytest.raises(ServiceValidationError, match="pin"):
        await call(hub, "lock", "unlock", door, {"pin": "1234"})
    assert door.codes == []
    assert state_of(hub, door).state == "locked"


async def test_invalid_state_string_is_rejected(hub: Hub) -> None:
    door = SimLock("Unit 1 Door")
    await add(hub, door)
    door.lock_state = "ajar"
    with pytest.raises(ValueError, match=r"'ajar' is not a lock state"):
        door.write_state()
    assert state_of(hub, door).state == "locked"


async def test_unavailable_entity_reports_unavailable_and_refuses_calls(hub: Hub) -> None:
    door = SimLock("Unit 1 Door")
    await add(hub, door)
    door.set_available(False)
    assert state_of(hub, door).state == "unavailable"
    with pytest.raises(ServiceError, match=r"unavailable: lock\.unit_1_door"):
        await call(hub, "lock", "unlock", door)
    assert door.codes == []
    door.set_available(True)
    assert state_of(hub, door).state == "locked"


async def test_target_by_place_reaches_entities_in_child_places(hub: Hub) -> None:
    hub.places.add(Place("P-B1", "Building 1"))
    hub.places.add(Place("P-B1-U1", "Unit 1", parent_id="P-B1"))
    hub.places.add(Place("P-B2", "Building 2"))
    inside = SimLock("B1 U1 Door", place_id="P-B1-U1")
    elsewhere = SimLock("B2 Door", place_id="P-B2")
    light_inside = SimLight("B1 Stairwell", place_id="P-B1")
    await add(hub, inside, elsewhere, light_inside)

    await hub.services.call("lock", "unlock", target={"place_id": "P-B1"}, blocking=True)

    assert state_of(hub, inside).state == "unlocked"
    assert state_of(hub, elsewhere).state == "locked"
    assert state_of(hub, light_inside).state == "off"  # a lock service reaches only locks


# -- binary_sensor --------------------------------------------------------------------------
async def test_binary_sensor_reports_on_off_and_device_class(hub: Hub) -> None:
    sensor = BinarySensorEntity("Gate Door", device_class="door")
    await add(hub, sensor)
    assert state_of(hub, sensor).state == "unknown"
    sensor.is_on = True
    sensor.write_state()
    state = state_of(hub, sensor)
    assert state.state == "on"
    assert state.attributes["device_class"] == "door"
    sensor.is_on = False
    sensor.write_state()
    assert state_of(hub, sensor).state == "off"
    assert sensor.device_class is BinarySensorDeviceClass.DOOR
    assert "binary_sensor" not in hub.services.services()


def test_binary_sensor_unknown_device_class_is_refused() -> None:
    with pytest.raises(ValueError, match=r"device_class 'fire' .*smoke"):
        BinarySensorEntity("Kitchen", device_class="fire")


# -- sensor ---------------------------------------------------------------------------------
async def test_sensor_formats_numbers_and_reports_units(hub: Hub) -> None:
    sensor = SensorEntity(
        "Pump Room Temperature",
        unit_of_measurement="°C",
        device_class="temperature",
        state_class="measurement",
        display_precision=1,
    )
    count = SensorEntity("Gate North Passes", state_class="total_increasing")
    await add(hub, sensor, count)
    assert state_of(hub, sensor).state == "unknown"
    assert state_of(hub, sensor).attributes["unit_of_measurement"] == "°C"
    assert state_of(hub, sensor).attributes["device_class"] == "temperature"
    assert state_of(hub, sensor).attributes["state_class"] == "measurement"
    assert "unit_of_measurement" not in state_of(hub, count).attributes

    expectations: list[tuple[str | int | float | None, str]] = [
        (21.46, "21.5"),
        (-0.04, "0.0"),
        (3, "3"),
        (math.nan, "unknown"),
        ("offline", "offline"),
    ]
    for value, text in expectations:
        sensor.native_value = value
        sensor.write_state()
        assert state_of(hub, sensor).state == text, value

    for value, text in [(1234.5, "1234.5"), (-0.0, "0.0")]:
        count.native_value = value
        count.write_state()
        assert state_of(hub, count).state == text, value


async def test_sensor_refuses_bad_state_class_and_bool_values(hub: Hub) -> None:
    with pytest.raises(ValueError, match="state_class 'average'"):
        SensorEntity("Bad", state_class="average")
    sensor = SensorEntity("Flag")
    await add(hub, sensor)
    sensor.native_value = True
    with pytest.raises(TypeError, match="binary_sensor"):
        sensor.write_state()


# -- switch ---------------------------------------------------------------------------------
async def test_switch_turn_on_off_and_toggle(hub: Hub) -> None:
    pump = SimSwitch("Sump Pump")
    await add(hub, pump)
    assert state_of(hub, pump).state == "unknown"
    await call(hub, "switch", "turn_on", pump)
    assert state_of(hub, pump).state == "on"
    await call(hub, "switch", "toggle", pump)
    assert state_of(hub, pump).state == "off"
    await call(hub, "switch", "toggle", pump)
    assert state_of(hub, pump).state == "on"
    await call(hub, "switch", "turn_off", pump)
    assert state_of(hub, pump).state == "off"


async def test_switch_without_turn_off_says_so(hub: Hub) -> None:
    relay = OnlyOnSwitch("Door Relay")
    await add(hub, relay)
    await call(hub, "switch", "toggle", relay)
    assert state_of(hub, relay).state == "on"
    with pytest.raises(ServiceError, match=r"switch\.door_relay does not support turn_off"):
        await call(hub, "switch", "toggle", relay)
    assert state_of(hub, relay).state == "on"


# -- siren ----------------------------------------------------------------------------------
async def test_siren_turn_on_passes_tone_volume_and_duration(hub: Hub) -> None:
    siren = SimSiren("Perimeter Siren")
    await add(hub, siren)
    await call(
        hub, "siren", "turn_on", siren, {"tone": "intrusion", "volume_level": 0.5, "duration": 30}
    )
    state = state_of(hub, siren)
    assert state.state == "on"
    assert state.attributes["available_tones"] == ["fire", "intrusion"]
    assert siren.last_on == {"tone": "intrusion", "volume_level": 0.5, "duration": 30.0}
    await call(hub, "siren", "toggle", siren)
    assert state_of(hub, siren).state == "off"


async def test_siren_refuses_bad_volume_and_unknown_tone(hub: Hub) -> None:
    siren = SimSiren("Perimeter Siren")
    await add(hub, siren)
    with pytest.raises(ServiceValidationError, match="volume_level"):
        await call(hub, "siren", "turn_on", siren, {"volume_level": 1.5})
    with pytest.raises(ServiceValidationError, match="duration"):
        await call(hub, "siren", "turn_on", siren, {"duration": 0})
    with pytest.raises(ServiceError, match="tone: 'doorbell' is not a tone"):
        await call(hub, "siren", "turn_on", siren, {"tone": "doorbell"})
    assert siren.last_on == {}
    assert state_of(hub, siren).state == "off"


# -- light ----------------------------------------------------------------------------------
async def test_light_brightness_transition_and_toggle(hub: Hub) -> None:
    light = SimLight("Stairwell B1")
    await add(hub, light)
    assert state_of(hub, light).attributes["brightness"] is None

    await call(hub, "light", "turn_on", light, {"brightness": 128, "transition": 2})
    state = state_of(hub, light)
    assert state.state == "on"
    assert state.attributes["brightness"] == 128

    await call(hub, "light", "toggle", light)
    state = state_of(hub, light)
    assert state.state == "off"
    assert state.attributes["brightness"] is None

    await call(hub, "light", "toggle", light)
    assert state_of(hub, light).attributes["brightness"] == 128  # back to where it was

    await call(hub, "light", "turn_on", light, {"brightness": 0, "transition": 1})
    assert state_of(hub, light).state == "off"
    assert light.transitions == [2.0, None, None, 1.0]


async def test_light_brightness_out_of_range_names_the_field(hub: Hub) -> None:
    light = SimLight("Flood Light")
    await add(hub, light)
    with pytest.raises(ServiceValidationError, match=r"light\.turn_on: brightness: .*255"):
        await call(hub, "light", "turn_on", light, {"brightness": 300})
    with pytest.raises(ServiceValidationError, match="transition"):
        await call(hub, "light", "turn_off", light, {"transition": -1})
    assert light.transitions == []
    assert state_of(hub, light).state == "off"


# -- camera ---------------------------------------------------------------------------------
async def test_camera_snapshot_writes_file_and_answers(hub: Hub, tmp_path: Path) -> None:
    camera = SimCamera("Gate North Camera", snapshot_dir=tmp_path)
    await add(hub, camera)
    state = state_of(hub, camera)
    assert state.state == "idle"
    assert state.attributes["snapshot_url"] == "http://cam.local/snapshot.jpg"
    assert state.attributes["stream_url"] == "rtsp://cam.local/stream"
    assert state.attributes["motion_detection"] is True

    response = await call(
        hub, "camera", "snapshot", camera, {"filename": "gate/n1.jpg"}, return_response=True
    )
    written = tmp_path / "gate" / "n1.jpg"
    assert written.read_bytes() == JPEG
    assert response == {"camera.gate_north_camera": {"path": str(written), "size": len(JPEG)}}

    inside_absolute = tmp_path / "abs.jpg"
    assert await call(hub, "camera", "snapshot", camera, {"filename": str(inside_absolute)}) is None
    assert inside_absolute.read_bytes() == JPEG


async def test_camera_snapshot_refuses_paths_outside_its_directory(
    hub: Hub, tmp_path: Path
) -> None:
    allowed = tmp_path / "snapshots"
    allowed.mkdir()
    (allowed / "link").symlink_to(tmp_path)
    camera = SimCamera("Lift Camera", snapshot_dir=allowed)
    await add(hub, camera)
    for filename in ("../escape.jpg", str(tmp_path / "escape.jpg"), "link/escape.jpg", "."):
        with pytest.raises(ServiceError, match="not a file inside the snapshot directory"):
            await call(hub, "camera", "snapshot", camera, {"filename": filename})
    assert listing(tmp_path) == ["snapshots"]  # nothing written outside
    assert listing(allowed) == ["link"]


async def test_camera_snapshot_defaults_to_config_dir_www_snapshots(tmp_path: Path) -> None:
    hub = Hub(tmp_path, clock=ManualClock())
    camera = SimCamera("Car Park Camera")
    nothing = SimCamera("Dark Camera", image=None)
    await add(hub, camera, nothing)
    await call(hub, "camera", "snapshot", camera, {"filename": "p1.jpg"})
    assert (tmp_path / "www" / "snapshots" / "p1.jpg").read_bytes() == JPEG
    with pytest.raises(ServiceError, match=r"camera\.dark_camera has no image"):
        await call(hub, "camera", "snapshot", nothing, {"filename": "p2.jpg"})
    assert not (tmp_path / "www" / "snapshots" / "p2.jpg").exists()


async def test_camera_without_directory_or_image_support(hub: Hub) -> None:
    camera = SimCamera("Roaming Camera")  # the fixture hub has no config_dir
    bare = CameraEntity("Bare Camera")
    await add(hub, camera, bare)
    with pytest.raises(ServiceError, match="no snapshot directory"):
        await call(hub, "camera", "snapshot", camera, {"filename": "x.jpg"})
    with pytest.raises(ServiceError, match="does not support turn_on"):
        await call(hub, "camera", "turn_on", camera)
    await call(hub, "camera", "turn_off", camera)
    assert camera.powered is False
    bare.snapshot_dir = Path("/nonexistent-but-never-written")
    with pytest.raises(ServiceError, match=r"camera\.bare_camera does not support snapshot"):
        await call(hub, "camera", "snapshot", bare, {"filename": "x.jpg"})


# -- intercom -------------------------------------------------------------------------------
async def test_intercom_call_answer_hangup_unlock(hub: Hub) -> None:
    station = SimIntercom("Unit 1 Door Station")
    await add(hub, station)
    assert state_of(hub, station).state == "idle"

    await call(hub, "intercom", "call", station, {"target": "B1-U1-1203"})
    state = state_of(hub, station)
    assert state.state == "ringing"
    assert state.attributes["caller"] == "B1-U1-1203"
    assert state.attributes["call_id"] == "call-1"

    await call(hub, "intercom", "answer", station)
    assert state_of(hub, station).state == "in_call"
    await call(hub, "intercom", "unlock", station, {"door": "2"})
    await call(hub, "intercom", "unlock", station)
    assert station.doors_opened == [2, None]
    await call(hub, "intercom", "hangup", station)
    state = state_of(hub, station)
    assert state.state == "idle"
    assert state.attributes["caller"] is None


async def test_intercom_validates_target_and_door(hub: Hub) -> None:
    station = SimIntercom("Gate Station")
    await add(hub, station)
    with pytest.raises(ServiceValidationError, match="target"):
        await call(hub, "intercom", "call", station)
    with pytest.raises(ServiceValidationError, match="door"):
        await call(hub, "intercom", "unlock", station, {"door": 0})
    assert station.doors_opened == []
    assert state_of(hub, station).state == "idle"


# -- gate -----------------------------------------------------------------------------------
async def test_gate_open_and_unsupported_close(hub: Hub) -> None:
    turnstile = SimTurnstile("Pedestrian Turnstile", place_id=None)
    await add(hub, turnstile)
    assert state_of(hub, turnstile).state == "closed"
    await call(hub, "gate", "open", turnstile)
    assert state_of(hub, turnstile).state == "open"
    with pytest.raises(ServiceError, match=r"gate\.pedestrian_turnstile does not support close"):
        await call(hub, "gate", "close", turnstile)
    turnstile.gate_state = "fault"
    turnstile.write_state()
    assert state_of(hub, turnstile).state == "fault"


# -- alarm_control_panel --------------------------------------------------------------------
async def test_alarm_panel_arm_and_disarm_with_code(hub: Hub) -> None:
    panel = SimPanel("Perimeter Panel")
    await add(hub, panel)
    state = state_of(hub, panel)
    assert state.state == "disarmed"
    assert state.attributes["code_format"] == "number"
    assert state.attributes["code_arm_required"] is True
    assert state.attributes["supported_modes"] == ["armed_away", "armed_home"]

    await call(hub, "alarm_control_panel", "alarm_arm_away", panel, {"code": "0042"})
    state = state_of(hub, panel)
    assert state.state == "armed_away"
    assert state.attributes["changed_by"] == "keypad"

    await call(hub, "alarm_control_panel", "alarm_disarm", panel, {"code": "0042"})
    assert state_of(hub, panel).state == "disarmed"
    assert panel.codes == ["0042", "0042"]


async def test_alarm_panel_refuses_unsupported_mode_and_bad_codes(hub: Hub) -> None:
    panel = SimPanel("Perimeter Panel")
    await add(hub, panel)
    with pytest.raises(ServiceError, match=r"does not support armed_night \(supported modes"):
        await call(hub, "alarm_control_panel", "alarm_arm_night", panel, {"code": "1"})
    with pytest.raises(ServiceError, match="needs a code to arm"):
        await call(hub, "alarm_control_panel", "alarm_arm_home", panel)
    with pytest.raises(ServiceError, match="needs a code to disarm"):
        await call(hub, "alarm_control_panel", "alarm_disarm", panel, {"code": ""})
    with pytest.raises(ServiceError, match="digits only"):
        await call(hub, "alarm_control_panel", "alarm_arm_home", panel, {"code": "12a4"})
    with pytest.raises(ServiceError, match="does not support trigger"):
        await call(hub, "alarm_control_panel", "alarm_trigger", panel)
    assert panel.codes == []
    assert state_of(hub, panel).state == "disarmed"


async def test_alarm_panel_without_code_arms_freely(hub: Hub) -> None:
    panel = SimPanel("Garage Panel")
    panel.code_format = None
    await add(hub, panel)
    await call(hub, "alarm_control_panel", "alarm_arm_home", panel)
    assert state_of(hub, panel).state == "armed_home"
    assert state_of(hub, panel).attributes["code_format"] is None
    panel.code_format = CodeFormat.TEXT
    panel.code_arm_required = False
    await call(hub, "alarm_control_panel", "alarm_arm_away", panel)
    assert state_of(hub, panel).state == "armed_away"
    assert panel.codes == [None, None]


# -- person ---------------------------------------------------------------------------------
async def test_person_follows_sightings(hub: Hub) -> None:
    person = PersonEntity("Li Wei", person_id="R-0001", household_id="B1-U1-1203")
    await add(hub, person)
    state = state_of(hub, person)
    assert state.state == "unknown"
    assert state.attributes["person_id"] == "R-0001"
    assert state.attributes["household_id"] == "B1-U1-1203"

    person.seen_at("P-GATE-N", source="lock.gate_north")
    state = state_of(hub, person)
    assert state.state == "P-GATE-N"
    assert state.attributes["source"] == "lock.gate_north"
    assert state.attributes["last_seen_place"] == "P-GATE-N"

    person.seen_at("P-B1-U1", source="lock.unit_1_door", location="home")
    assert state_of(hub, person).state == "home"

    person.location = "not_home"
    person.write_state()
    state = state_of(hub, person)
    assert state.state == "not_home"
    assert state.attributes["last_seen_place"] == "P-B1-U1"


# -- button and event -----------------------------------------------------------------------
class SimButton(ButtonEntity):
    def __init__(self, name: str) -> None:
        super().__init__(name, device_class="restart")
        self.pressed = 0

    async def press(self, *, context: Context | None = None) -> None:
        self.pressed += 1


async def test_button_press_records_the_time(hub: Hub, clock: ManualClock) -> None:
    button = SimButton("Restart door station")
    await add(hub, button)
    assert state_of(hub, button).state == "unknown"
    await hub.services.call(
        "button", "press", target={"entity_id": button.entity_id}, blocking=True
    )
    assert button.pressed == 1
    assert state_of(hub, button).state == clock.now().isoformat()
    assert state_of(hub, button).attributes["device_class"] == "restart"
    plain = ButtonEntity("Plain")
    await add(hub, plain)
    with pytest.raises(ServiceError, match="does not support press"):
        await hub.services.call(
            "button", "press", target={"entity_id": plain.entity_id}, blocking=True
        )


async def test_event_entity_records_type_and_data(hub: Hub, clock: ManualClock) -> None:
    doorbell = EventEntity("Doorbell", event_types=["press", "hold"], device_class="doorbell")
    await add(hub, doorbell)
    assert state_of(hub, doorbell).state == "unknown"
    doorbell.trigger_event("press", {"button": 2})
    written = state_of(hub, doorbell)
    assert written.state == clock.now().isoformat()
    assert written.attributes["event_type"] == "press"
    assert written.attributes["button"] == 2
    assert written.attributes["event_types"] == ["press", "hold"]
    with pytest.raises(ValueError, match="not one of its event types"):
        doorbell.trigger_event("explode")
    with pytest.raises(ValueError, match="at least one event type"):
        EventEntity("Nothing", event_types=[])
