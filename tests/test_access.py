"""Access control decisions: every rule and every reason to deny, the events they fire, the
services, throttling, anti-passback, duress PINs, faces from cameras, and config errors."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol

from shouwang.core.clock import ManualClock
from shouwang.core.config import load_config_dir, validate_block
from shouwang.core.events import Context
from shouwang.core.services import ServiceValidationError
from shouwang.integrations.access import CONFIG_SCHEMA
from shouwang.integrations.access.config import duration
from shouwang.integrations.access.pins import PinMatch, check_pin, hash_pin
from shouwang.integrations.access.schedule import Schedule, TimeRange
from shouwang.integrations.registry import Registry
from shouwang.integrations.registry.transfer import import_file

from .access_helpers import BASE_ACCESS, PEOPLE, access_of, lock_of, start_access_hub
from .automation_helpers import capture, settle


async def present(hub: Any, door: str, kind: str, value: str, **extra: Any) -> dict[str, Any]:
    response = await hub.services.call(
        "access",
        "present_credential",
        {"door": door, "type": kind, "value": value, **extra},
        return_response=True,
    )
    assert response is not None
    return response


@pytest.fixture
async def hub(tmp_path: Path, clock: ManualClock) -> Any:
    hub = await start_access_hub(tmp_path, clock)
    yield hub
    await hub.stop()


async def test_resident_card_is_granted_and_pulses_the_lock(hub: Any, clock: ManualClock) -> None:
    granted = capture(hub, "access_granted")
    response = await present(hub, "gate_north", "card", "aa000001")  # readers vary the case
    assert response == {"granted": True, "reason": "granted", "person": "R001"}
    (event,) = granted
    assert event.data["door"] == "gate_north"
    assert event.data["door_name"] == "北门"
    assert event.data["place"] == "P-GATE-N"
    assert event.data["credential_type"] == "card"
    assert event.data["person"] == "R001"
    assert event.data["household"] == "B01-U1-0101"
    assert event.data["reason"] == "granted"
    assert event.data["time"] == "2026-11-28T22:00:00+00:00"
    assert "AA000001" not in str(event.data)  # the card number is not broadcast
    lock = lock_of(hub, "lock.gate_north")
    assert lock.commands == ["unlock"]
    assert hub.states.get("lock.gate_north").state == "unlocked"
    await clock.advance(5)  # unlock pulse
    await settle(hub)
    assert lock.commands == ["unlock", "lock"]
    assert hub.states.get("lock.gate_north").state == "locked"


@pytest.mark.parametrize(
    ("door", "kind", "value", "reason", "person"),
    [
        ("gate_north", "card", "FFFF0000", "unknown_credential", None),
        ("gate_north", "face", "nobody", "unknown_credential", None),
        ("gate_north", "card", "AA000002", "lease_expired", "R002"),  # ended yesterday locally
        ("gate_north", "card", "AA000006", "blocked_person", "R006"),
        ("b01_u1", "card", "AA000007", "no_rule", "R007"),  # building 2 resident
        ("gym", "card", "AA000001", "outside_schedule", "R001"),  # 06:00 local, opens 07:00
        ("gym", "card", "AA000004", "denied_by_rule", "R004"),  # child
        ("gate_north", "pin", "R001#0000", "invalid_pin", None),
        ("gate_north", "pin", "R003#1234", "invalid_pin", None),  # R003 has no PIN
        ("gate_north", "pin", "NOBODY#1234", "invalid_pin", None),
        ("gate_north", "plate", "沪A00001", "no_rule", None),  # no vehicle rule there
        ("car_in", "plate", "沪Z99999", "unknown_credential", None),
        ("car_in", "plate", "沪B00002", "vehicle_expired", None),
        ("car_in", "plate", "沪C00003", "blocked_vehicle", None),
        ("car_in", "plate", "沪D00004", "outside_schedule", None),
        ("gate_north", "qr", "token", "passes_not_configured", None),
    ],
)
async def test_denials_name_their_reason(
    hub: Any, door: str, kind: str, value: str, reason: str, person: str | None
) -> None:
    denied = capture(hub, "access_denied")
    response = await present(hub, door, kind, value)
    assert response == {"granted": False, "reason": reason, "person": person}
    (event,) = denied
    assert event.data["reason"] == reason
    assert event.data["person"] == person
    assert event.data["result"] == "denied"
    assert event.data["credential_type"] == kind
    if door != "car_in":
        assert lock_of(hub, f"lock.{door}").commands == []


async def test_valid_tenant_face_staff_and_schedule(hub: Any, clock: ManualClock) -> None:
    assert (await present(hub, "gate_north", "face", "r003"))["granted"]  # tenant, lease valid
    assert (await present(hub, "gym", "card", "AA000005"))["granted"]  # guard: no schedule
    assert (await present(hub, "gym", "card", "AA000003"))["granted"]  # committee member
    assert (await present(hub, "b01_u1", "card", "AA000003"))["granted"]  # household B01-*
    await clock.advance(3600)  # 07:00 local: the gym opens
    assert (await present(hub, "gym", "card", "AA000001"))["granted"]
    assert (await present(hub, "gym", "card", "AA000004"))["reason"] == "denied_by_rule"
    await clock.advance(14 * 3600)  # 21:00 local: closed again
    assert (await present(hub, "gym", "card", "AA000001"))["reason"] == "outside_schedule"


async def test_resident_vehicle_at_the_car_park(hub: Any, clock: ManualClock) -> None:
    granted = capture(hub, "access_granted")
    assert (await present(hub, "car_in", "plate", "沪a·00001"))["granted"]  # any spelling
    (event,) = granted
    assert event.data["plate"] == "沪A00001"
    assert event.data["household"] == "B01-U1-0101"
    assert event.data["person"] is None
    # anti-passback per vehicle: the plate cannot enter twice
    assert (await present(hub, "car_in", "plate", "沪A00001"))["reason"] == "anti_passback"
    await clock.advance(3600)  # 07:00 local: visitors' hours
    assert (await present(hub, "car_in", "plate", "沪D00004"))["granted"]


async def test_pin_and_card_plus_pin(hub: Any) -> None:
    assert (await present(hub, "b01_u1", "pin", "R001#1234"))["granted"]
    assert (await present(hub, "b01_u1", "pin", "AA000001#1234"))["granted"]  # card + PIN


async def test_unknown_door_is_a_validation_error(hub: Any) -> None:
    with pytest.raises(ServiceValidationError, match="door: unknown door 'nowhere'"):
        await present(hub, "nowhere", "card", "AA000001")
    with pytest.raises(ServiceValidationError, match="type"):
        await present(hub, "gate_north", "iris", "x")
    with pytest.raises(
        ServiceValidationError,
        match="reader: 'b01_u1' is not a reader of door 'gate_north' \\(its readers: gate_north_in, gate_north_out\\)",
    ):
        await present(hub, "gate_north", "card", "AA000001", reader="b01_u1")
    decision = access_of(hub).decider.decide(
        __import__("shouwang.integrations.access", fromlist=["Attempt"]).Attempt(
            "nowhere", "card", "AA000001"
        )
    )
    assert (decision.granted, decision.reason) == (False, "unknown_door")


async def test_duress_pin_grants_like_the_normal_pin_and_fires_a_silent_event(
    hub: Any,
) -> None:
    granted = capture(hub, "access_granted")
    duress = capture(hub, "duress")
    calls = capture(hub, "call_service")
    context = Context(user_id="keypad")
    normal = await hub.services.call(
        "access", "present_credential",
        {"door": "b01_u1", "type": "pin", "value": "R001#1234"},
        return_response=True, context=context,
    )  # fmt: skip
    assert duress == []
    shown = hub.states.get("sensor.door_b01_u1")
    under_duress = await hub.services.call(
        "access", "present_credential",
        {"door": "b01_u1", "type": "pin", "value": "R001#9999"},
        return_response=True, context=context,
    )  # fmt: skip
    assert normal == under_duress == {"granted": True, "reason": "granted", "person": "R001"}
    first, second = granted
    assert first.data == second.data  # nothing in the door's event tells them apart
    assert first.context.parent_id == second.context.parent_id == context.id
    (alarm,) = duress
    assert alarm.data["door"] == "b01_u1"
    assert alarm.data["person"] == "R001"
    # the silent alarm is not linked to the attempt's context chain
    assert alarm.context.parent_id is None
    assert alarm.context.id not in {first.context.id, second.context.id, context.id}
    assert lock_of(hub, "lock.b01_u1").commands == ["unlock", "unlock"]
    # the guard console's door status shows the same as after the normal PIN
    assert hub.states.get("sensor.door_b01_u1").attributes == shown.attributes
    unlocks = [c.data for c in calls if c.data["domain"] == "lock"]
    assert unlocks[0] == unlocks[1]


async def test_duress_pin_refused_like_the_normal_one_still_alarms(hub: Any) -> None:
    denied = capture(hub, "access_denied")
    duress = capture(hub, "duress")
    normal = await present(hub, "gym", "pin", "R001#1234")  # 06:00: the gym opens at 07:00
    under_duress = await present(hub, "gym", "pin", "R001#9999")
    assert (
        normal == under_duress == {"granted": False, "reason": "outside_schedule", "person": "R001"}
    )
    assert denied[0].data == denied[1].data
    (alarm,) = duress
    assert (alarm.data["door"], alarm.data["result"]) == ("gym", "denied")


def test_pin_hashes_are_argon2_and_checked_both_ways() -> None:
    from shouwang.integrations.access.config import PinCredential

    normal, silent = hash_pin("2468"), hash_pin("8642")
    assert normal.startswith("$argon2id$") and "2468" not in normal
    credential = PinCredential("R1", normal, silent)
    assert check_pin(credential, "2468") is PinMatch.NORMAL
    assert check_pin(credential, "8642") is PinMatch.DURESS
    assert check_pin(credential, "1111") is PinMatch.NONE
    assert check_pin(None, "2468") is PinMatch.NONE
    assert check_pin(PinCredential("R1", "$argon2id$broken", None), "2468") is PinMatch.NONE
    with pytest.raises(ValueError, match="4 to 12 digits"):
        hash_pin("12")


async def test_throttling_locks_the_reader_then_lets_go(hub: Any, clock: ManualClock) -> None:
    locked = capture(hub, "access_reader_locked")
    unlocked = capture(hub, "access_reader_unlocked")
    for _ in range(5):
        assert (await present(hub, "gate_north", "card", "BAD"))["reason"] == "unknown_credential"
        await clock.advance(5)
    assert locked == []
    # the sixth failure within 50 s locks this reader
    assert (await present(hub, "gate_north", "card", "BAD"))["reason"] == "unknown_credential"
    (event,) = locked
    assert event.data["reader"] == "gate_north_in"
    assert event.data["failures"] == 6
    assert event.data["until"] == "2026-11-28T22:10:25+00:00"
    # even a good card is refused at the locked reader; the other reader still works
    assert (await present(hub, "gate_north", "card", "AA000001"))["reason"] == "reader_locked"
    response = await present(hub, "gate_north", "card", "AA000003", reader="gate_north_out")
    assert response["granted"]
    await clock.advance(599)
    assert (await present(hub, "gate_north", "card", "AA000001"))["reason"] == "reader_locked"
    assert unlocked == []
    await clock.advance(1)
    assert [e.data["reader"] for e in unlocked] == ["gate_north_in"]
    assert (await present(hub, "gate_north", "card", "AA000001"))["granted"]
    assert len(locked) == 1  # denials during the lockout did not count


async def test_failures_spread_over_more_than_the_window_do_not_lock(
    hub: Any, clock: ManualClock
) -> None:
    locked = capture(hub, "access_reader_locked")
    for _ in range(12):
        await present(hub, "gate_north", "card", "BAD")
        await clock.advance(11)  # 5 failures per 50 s at most
    assert locked == []


async def test_anti_passback_hard(hub: Any) -> None:
    assert (await present(hub, "gate_north", "card", "AA000001"))["granted"]
    # in again without going out: the card was passed back to someone else
    again = await present(hub, "gate_north", "card", "AA000001")
    assert again == {"granted": False, "reason": "anti_passback", "person": "R001"}
    out = await present(hub, "gate_north", "card", "AA000001", reader="gate_north_out")
    assert out["granted"]
    assert (await present(hub, "gate_north", "card", "AA000001"))["granted"]
    # doors outside the area are not affected
    assert (await present(hub, "b01_u1", "card", "AA000001"))["granted"]
    assert (await present(hub, "b01_u1", "card", "AA000001"))["granted"]
    # a guard can reset it
    assert (await present(hub, "gate_north", "card", "AA000001"))["reason"] == "anti_passback"
    await hub.services.call("access", "reset_anti_passback", {"person": "R001"}, blocking=True)
    assert (await present(hub, "gate_north", "card", "AA000001"))["granted"]


async def test_anti_passback_soft_grants_and_reports(tmp_path: Path, clock: ManualClock) -> None:
    config = BASE_ACCESS.replace("mode: hard", "mode: soft")
    hub = await start_access_hub(tmp_path, clock, config)
    violations = capture(hub, "anti_passback_violation")
    granted = capture(hub, "access_granted")
    assert (await present(hub, "gate_north", "card", "AA000001"))["granted"]
    assert violations == []
    assert (await present(hub, "gate_north", "card", "AA000001"))["granted"]
    (violation,) = violations
    assert violation.data["person"] == "R001"
    assert violation.data["door"] == "gate_north"
    assert granted[0].data == {**granted[1].data}  # the grant itself looks normal
    await hub.stop()


async def test_face_from_a_linked_camera_is_an_attempt(hub: Any, clock: ManualClock) -> None:
    granted = capture(hub, "access_granted")
    denied = capture(hub, "access_denied")
    hub.bus.fire("person_sighted", {"camera": "gate_north", "face_name": "r003"})
    hub.bus.fire("person_sighted", {"camera": "gate_north", "face_name": "r003"})  # same sighting
    hub.bus.fire("person_sighted", {"camera": "car_park", "face_name": "r001"})  # not a door
    await settle(hub)
    await hub.block_till_done()
    assert [(e.data["person"], e.data["credential_type"]) for e in granted] == [("R003", "face")]
    hub.bus.fire("person_sighted", {"camera": "gate_north", "name": "r002"})
    await settle(hub)
    await hub.block_till_done()
    assert [e.data["reason"] for e in denied] == ["lease_expired"]
    await clock.advance(11)
    hub.bus.fire("person_sighted", {"camera": "gate_north", "face_name": "r003"})
    await settle(hub)
    await hub.block_till_done()
    assert [e.data["reason"] for e in denied] == ["lease_expired", "anti_passback"]


async def test_camera_sightings_never_lock_the_reader(hub: Any, clock: ManualClock) -> None:
    denied = capture(hub, "access_denied")
    locked = capture(hub, "access_reader_locked")
    for index in range(10):
        # strangers walking past: not attempts at all (Frigate reports them as strangers)
        hub.bus.fire("person_sighted", {"camera": "gate_north", "face_name": f"unknown_{index}"})
        # a known face refused again and again (lease ended): refusals, not failed attempts
        hub.bus.fire("person_sighted", {"camera": "gate_north", "face_name": "r002"})
        await settle(hub)
        await hub.block_till_done()
        await clock.advance(11)
    assert [e.data["reason"] for e in denied] == ["lease_expired"] * 10
    assert locked == []
    assert (await present(hub, "gate_north", "card", "AA000001"))["granted"]


async def test_remote_unlock_is_audited(hub: Any) -> None:
    granted = capture(hub, "access_granted")
    await hub.services.call(
        "access", "unlock", {"door": "b01_u1", "note": "delivery"},
        context=Context(user_id="guard-7"), blocking=True,
    )  # fmt: skip
    (event,) = granted
    assert event.data["credential_type"] == "remote"
    assert event.data["reason"] == "remote_unlock"
    assert event.data["user"] == "guard-7"
    assert event.data["note"] == "delivery"
    assert lock_of(hub, "lock.b01_u1").commands == ["unlock"]
    with pytest.raises(ServiceValidationError, match="unknown door"):
        await hub.services.call("access", "unlock", {"door": "moon"}, blocking=True)


async def test_registry_reload_reindexes_cards(hub: Any, tmp_path: Path) -> None:
    assert (await present(hub, "gate_north", "card", "BB000009"))["reason"] == "unknown_credential"
    registry = hub.integrations.runtime("registry")
    assert isinstance(registry, Registry)
    extra = (
        PEOPLE.splitlines()[0] + "\nR009,周九,男,1985-09-09,,,B01-U1-0101,业主,,r009,BB000009,\n"
    )
    path = tmp_path / "more.csv"
    path.write_text(extra, encoding="utf-8")
    result = await hub.loop.run_in_executor(
        None, lambda: import_file(registry.storage, registry.protector, path, progress=None)
    )
    assert result.applied
    await registry.reload(hub)
    assert (await present(hub, "gate_north", "card", "BB000009"))["granted"]


async def test_lease_ends_at_local_midnight(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    # 2026-11-28 15:59 UTC = 23:59 in Shanghai, the last minute of R002's lease
    clock = ManualClock(datetime(2026, 11, 28, 15, 59, tzinfo=UTC))
    hub = await start_access_hub(tmp_path, clock)
    assert (await present(hub, "gate_north", "card", "AA000002"))["granted"]
    await present(hub, "gate_north", "card", "AA000002", reader="gate_north_out")
    await clock.advance(60)
    assert (await present(hub, "gate_north", "card", "AA000002"))["reason"] == "lease_expired"
    await hub.stop()


# -- schedules --------------------------------------------------------------------------------


def test_schedule_ranges_across_midnight() -> None:
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    night = Schedule("night", (TimeRange((4,), time(22), time(6)),))  # Friday night
    assert night.active(datetime(2026, 11, 27, 23, 0, tzinfo=tz))  # Friday 23:00
    assert night.active(datetime(2026, 11, 28, 5, 59, tzinfo=tz))  # Saturday 05:59
    assert not night.active(datetime(2026, 11, 28, 6, 0, tzinfo=tz))
    assert not night.active(datetime(2026, 11, 28, 23, 0, tzinfo=tz))  # Saturday night
    assert not night.active(datetime(2026, 11, 27, 5, 0, tzinfo=tz))  # Friday early morning
    whole = Schedule("all", (TimeRange((0, 1, 2, 3, 4, 5, 6), time(0), time(0)),))
    assert whole.active(datetime(2026, 11, 28, 12, 0, tzinfo=tz))


def test_durations() -> None:
    assert duration("30s").total_seconds() == 30
    assert duration("10min").total_seconds() == 600
    assert duration("2h").total_seconds() == 7200
    assert duration(45).total_seconds() == 45
    assert duration("00:01:30").total_seconds() == 90
    for bad in ("soon", 0, "-5s", True, "1:2:3:4"):
        with pytest.raises(vol.Invalid):
            duration(bad)


# -- configuration errors ---------------------------------------------------------------------


def config_errors(tmp_path: Path, access: str) -> list[str]:
    text = "shouwang:\n  time_zone: Asia/Shanghai\n" + textwrap.dedent(access)
    (tmp_path / "configuration.yaml").write_text(text, encoding="utf-8")
    loaded = load_config_dir(tmp_path)
    _value, errors = validate_block(loaded, "access", CONFIG_SCHEMA, loaded.blocks["access"])
    return [str(error) for error in errors]


def test_config_errors_name_field_and_line(tmp_path: Path) -> None:
    errors = config_errors(
        tmp_path,
        """
        access:
          doors:
            - id: gate
              lock: switch.gate
              readers: [{id: r1, direction: sideways}]
          schedules:
            night: [{from: "25:00", to: "06:00"}]
          credentials:
            - person: R1
              pin: "1234"
          throttle: {max_failures: 0}
          anti_passback: {areas: [lobby], mode: strict}
          mqtt: {topic_prefix: "doors/#"}
        """,
    )
    text = "\n".join(errors)
    file = str(tmp_path / "configuration.yaml")
    assert f"{file}:7: [access] access.doors.0.lock: expected a lock or gate entity" in text
    assert f"{file}:8: [access] access.doors.0.readers.0.direction" in text
    assert "access.throttle.max_failures" in text
    assert "access.anti_passback.mode" in text
    assert "access.mqtt.topic_prefix: expected an MQTT topic prefix without wildcards" in text
    assert "access.schedules.night.0.from" in text
    assert "access.credentials.0.pin: expected an argon2 hash" in text
    assert "1234" not in text  # a PIN typed in clear is never echoed


def test_config_cross_reference_errors(tmp_path: Path) -> None:
    errors = config_errors(
        tmp_path,
        """
        access:
          doors:
            - id: gate
              held_open: {reminder: 60s, alarm: 30s}
            - id: gate
          door_groups:
            outer: [gate, ghost]
          schedules:
            night: [{from: "22:00", to: "06:00"}]
          rules:
            - doors: [outer]
            - everyone: true
              doors: [nowhere]
              schedule: weekends
          anti_passback: {areas: [lobby]}
        """,
    )
    file = str(tmp_path / "configuration.yaml")
    expected = [
        f"{file}:8: [access] access.doors.1.id: duplicate door id 'gate'",
        f"{file}:7: [access] access.doors.0.held_open: alarm must not come before reminder",
        f"{file}:10: [access] access.door_groups.outer.1: unknown door 'ghost'",
        f"{file}:16: [access] access.rules.1.doors.0: unknown door or door group 'nowhere'",
        f"{file}:17: [access] access.rules.1.schedule: unknown schedule 'weekends'",
        "access.rules.0: a rule needs everyone: true or one of people, person_types",
        f"{file}:18: [access] access.anti_passback.areas.0: no door leads into area 'lobby'",
    ]
    for line in expected:
        assert any(line in error for error in errors), (line, errors)


async def test_invalid_config_fails_only_access(tmp_path: Path, clock: ManualClock) -> None:
    hub = await start_access_hub(tmp_path, clock, "access:\n  doors: [{id: 'bad id!'}]\n")
    assert "access" in hub.integrations.failed
    assert "registry" in hub.integrations.loaded
    assert any("access.doors.0.id" in str(e) for e in hub.loaded_config.errors)
    await hub.stop()


async def test_pins_at_a_locked_reader_are_not_even_checked(
    hub: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shouwang.integrations.access import runtime as runtime_module

    for _ in range(6):
        await present(hub, "b01_u1", "pin", "R001#0000")
    checked: list[str] = []
    real = runtime_module.check_pin
    monkeypatch.setattr(
        runtime_module, "check_pin", lambda cred, pin: checked.append(pin) or real(cred, pin)
    )
    response = await present(hub, "b01_u1", "pin", "R001#1234")
    assert response["reason"] == "reader_locked"
    assert checked == []


async def test_anti_passback_resets_daily(tmp_path: Path, clock: ManualClock) -> None:
    config = BASE_ACCESS.replace(
        "mode: hard}", 'mode: hard, reset_at: "04:00"}'
    )  # 04:00 Shanghai = 20:00 UTC
    hub = await start_access_hub(tmp_path, clock, config)
    assert (await present(hub, "gate_north", "card", "AA000001"))["granted"]
    await clock.advance(21 * 3600 + 59 * 60)  # 03:59 local the next day
    assert (await present(hub, "gate_north", "card", "AA000001"))["reason"] == "anti_passback"
    await clock.advance(60)
    assert (await present(hub, "gate_north", "card", "AA000001"))["granted"]
    assert (await present(hub, "gate_north", "card", "AA000001"))["reason"] == "anti_passback"
    await clock.advance(24 * 3600)  # and again the day after
    assert (await present(hub, "gate_north", "card", "AA000001"))["granted"]
    await hub.stop()


def test_check_config_reports_access_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from shouwang.core.cli import main

    text = "registry:\naccess:\n  doors:\n    - id: gate\n  rules:\n    - everyone: true\n      doors: [moon]\n"
    (tmp_path / "configuration.yaml").write_text(text, encoding="utf-8")
    assert main(["check-config", "-c", str(tmp_path)]) != 0
    out = capsys.readouterr()
    assert (
        "configuration.yaml:7: [access] access.rules.0.doors.0: unknown door or door group 'moon'"
        in (out.out + out.err)
    )


def test_pin_hash_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from argon2 import PasswordHasher

    from shouwang.integrations.access import pins

    answers = iter(["2468", "2468"])
    monkeypatch.setattr(pins.getpass, "getpass", lambda prompt: next(answers))
    assert pins.main() == 0
    printed = capsys.readouterr().out.strip()
    assert PasswordHasher().verify(printed, "2468")
    answers = iter(["2468", "2469"])
    assert pins.main() == 1
    assert "differ" in capsys.readouterr().err
    answers = iter(["12", "12"])
    assert pins.main() == 1
    assert "4 to 12 digits" in capsys.readouterr().err


async def test_a_missing_lock_is_logged_and_the_grant_still_reported(
    hub: Any, caplog: pytest.LogCaptureFixture
) -> None:
    await hub.entities.remove("lock.gym")
    granted = capture(hub, "access_granted")
    assert (await present(hub, "gym", "card", "AA000005"))["granted"]  # a guard
    assert [e.data["door"] for e in granted] == ["gym"]
    assert "Door gym: lock.unlock failed" in caplog.text
    assert "AA000005" not in caplog.text


async def test_reload_switches_rules_and_keeps_state(
    hub: Any, tmp_path: Path, clock: ManualClock
) -> None:
    # state to carry over: a locked reader, a position inside, a passage count
    for _ in range(6):
        await present(hub, "b01_u1", "card", "BAD")
    assert (await present(hub, "gate_north", "card", "AA000001"))["granted"]
    await hub.services.call("access", "passage", {"door": "gate_north"}, blocking=True)
    path = tmp_path / "configuration.yaml"
    text = path.read_text(encoding="utf-8")
    new_door = "    - id: bike_shed\n      lock: lock.gym\n  door_groups:"
    text = text.replace("\n  door_groups:", "\n" + new_door, 1).replace(
        "doors: [perimeter, b01_u1, gym]", "doors: [perimeter, b01_u1, gym, bike_shed]"
    )
    path.write_text(text, encoding="utf-8")
    await hub.services.call("access", "reload", blocking=True)
    assert (await present(hub, "bike_shed", "card", "AA000005"))["granted"]  # the new door
    assert (await present(hub, "b01_u1", "card", "AA000001"))["reason"] == "reader_locked"
    assert (await present(hub, "gate_north", "card", "AA000001"))["reason"] == "anti_passback"
    assert hub.states.get("sensor.gate_north_passages_in").state == "1"
    assert hub.states.get("sensor.door_bike_shed") is not None
    assert hub.states.get("sensor.door_b01_u1").attributes["locked_readers"] == ["b01_u1"]
    # the door monitors follow the new configuration (and the old ones are gone)
    forced = capture(hub, "door_forced")
    await clock.advance(11)  # past the grant's open window
    hub.states.set("binary_sensor.gate_north_door", "on")
    await settle(hub)
    assert len(forced) == 1


async def test_reload_with_errors_keeps_the_running_configuration(hub: Any, tmp_path: Path) -> None:
    path = tmp_path / "configuration.yaml"
    text = path.read_text(encoding="utf-8").replace("doors: [perimeter]", "doors: [moon]")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(
        ServiceValidationError,
        match=r"configuration\.yaml:\d+: \[access\] access\.rules\.0\.doors\.0: unknown door or door group 'moon'",
    ):
        await hub.services.call("access", "reload", blocking=True)
    note = hub.states.get("persistent_notification.access_reload_failed")
    assert note is not None and "moon" in note.attributes["message"]
    assert (await present(hub, "gate_north", "card", "AA000001"))["granted"]
    path.write_text("shouwang: [", encoding="utf-8")  # broken YAML
    with pytest.raises(ServiceValidationError, match="not reloaded"):
        await hub.services.call("access", "reload", blocking=True)
    assert (await present(hub, "gate_north", "card", "AA000003"))["granted"]


async def test_state_survives_a_restart(
    tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    hub = await start_access_hub(tmp_path, clock)
    for _ in range(6):
        await present(hub, "b01_u1", "card", "BAD")
    assert (await present(hub, "gate_north", "card", "AA000001"))["granted"]
    await hub.services.call("access", "passage", {"door": "gate_north"}, blocking=True)
    await clock.advance(5)  # the debounced save
    await hub.block_till_done()
    path = tmp_path / ".storage" / "access_state.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert "AA000001" not in path.read_text(encoding="utf-8")  # no card numbers
    await clock.advance(60)
    await hub.stop()

    hub = await start_access_hub(tmp_path, clock)
    unlocked = capture(hub, "access_reader_unlocked")
    assert (await present(hub, "b01_u1", "card", "AA000001"))["reason"] == "reader_locked"
    assert hub.states.get("sensor.door_b01_u1").attributes["locked_readers"] == ["b01_u1"]
    assert (await present(hub, "gate_north", "card", "AA000001"))["reason"] == "anti_passback"
    assert hub.states.get("sensor.gate_north_passages_in").state == "1"
    await clock.advance(600)
    assert [e.data["reader"] for e in unlocked] == ["b01_u1"]
    assert (await present(hub, "b01_u1", "card", "AA000001"))["granted"]
    await hub.stop()

    path.write_text("{not json", encoding="utf-8")
    hub = await start_access_hub(tmp_path, clock)
    assert "access_state.json unreadable" in caplog.text
    assert (await present(hub, "gate_north", "card", "AA000001"))["granted"]  # fresh start
    await hub.stop()


def test_the_readme_example_is_valid() -> None:
    import re

    import yaml

    readme = Path(__file__).parents[1] / "integrations" / "access" / "README.md"
    block = re.search(r"```yaml\n(registry:.*?)```", readme.read_text(encoding="utf-8"), re.S)
    assert block is not None
    text = block.group(1).replace("$argon2id$v=19$m=19456,t=2,p=1$...", hash_pin("2468"))
    config = yaml.safe_load(text)
    validated = CONFIG_SCHEMA(config["access"])
    assert len(validated["doors"]) == 7


async def test_temporary_rules_by_date(tmp_path: Path, clock: ManualClock) -> None:
    rule = """    - name: renovation at building 1 (R007's contractor visit)
      people: [R007]
      doors: [b01_u1]
      valid_from: 2026-11-29
      valid_until: 2026-11-30
    - name: resident cars"""
    hub = await start_access_hub(
        tmp_path, clock, BASE_ACCESS.replace("    - name: resident cars", rule, 1)
    )
    assert (await present(hub, "b01_u1", "card", "AA000007"))["granted"]  # 29 Nov, local
    await clock.advance(2 * 86400)  # 1 Dec
    assert (await present(hub, "b01_u1", "card", "AA000007"))["reason"] == "outside_schedule"
    await hub.stop()


def test_temporary_rule_dates_are_checked(tmp_path: Path) -> None:
    errors = config_errors(
        tmp_path,
        """
        access:
          doors: [{id: gate}]
          rules:
            - everyone: true
              doors: [gate]
              valid_from: 2026-12-01
              valid_until: 2026-11-01
        """,
    )
    assert any("access.rules.0.valid_until: valid_until is before valid_from" in e for e in errors)
    errors = config_errors(
        tmp_path,
        """
        access:
          doors: [{id: gate}]
          rules: [{everyone: true, doors: [gate], valid_until: someday}]
        """,
    )
    assert any(
        "access.rules.0.valid_until: expected a date YYYY-MM-DD (got 'someday')" in e
        for e in errors
    )


def test_holidays_replace_the_weekday() -> None:
    from datetime import date, datetime, time
    from zoneinfo import ZoneInfo

    from shouwang.integrations.access.schedule import HOLIDAY

    tz = ZoneInfo("Asia/Shanghai")
    office = Schedule(
        "office",
        (
            TimeRange((0, 1, 2, 3, 4), time(9), time(17)),
            TimeRange((HOLIDAY,), time(10), time(12)),
            TimeRange((HOLIDAY,), time(22), time(2)),
        ),
        frozenset({date(2026, 10, 1)}),  # National Day, a Thursday
    )
    assert office.active(datetime(2026, 9, 30, 9, 30, tzinfo=tz))  # Wednesday
    assert not office.active(datetime(2026, 10, 1, 9, 30, tzinfo=tz))  # holiday: not Thursday
    assert office.active(datetime(2026, 10, 1, 11, 0, tzinfo=tz))  # the holiday range
    assert office.active(datetime(2026, 10, 2, 1, 0, tzinfo=tz))  # after the holiday evening
    assert not office.active(datetime(2026, 10, 3, 1, 0, tzinfo=tz))


async def test_holidays_in_the_configuration(tmp_path: Path, clock: ManualClock) -> None:
    config = BASE_ACCESS.replace(
        "  schedules:", '  holidays: ["2026-11-29"]\n  schedules:', 1
    ).replace(
        '- {from: "07:00", to: "21:00"}',
        '- {days: [mon, tue, wed, thu, fri, sat, sun], from: "07:00", to: "21:00"}',
    )
    hub = await start_access_hub(tmp_path, clock, config)
    await clock.advance(3 * 3600)  # 09:00 on the holiday: the gym's range is for weekdays
    assert (await present(hub, "gym", "card", "AA000001"))["reason"] == "outside_schedule"
    await clock.advance(86400)  # the next day
    assert (await present(hub, "gym", "card", "AA000001"))["granted"]
    await hub.stop()
    # a range without days applies every day, holidays too
    hub = await start_access_hub(
        tmp_path,
        clock,
        BASE_ACCESS.replace("  schedules:", '  holidays: ["2026-11-30"]\n  schedules:', 1),
    )
    assert (await present(hub, "gym", "card", "AA000001"))["granted"]  # 09:00 on 30 Nov
    await hub.stop()
    errors = config_errors(
        tmp_path,
        "access:\n  holidays: [someday]\n  schedules: {s: [{days: [funday], from: '07:00', to: '08:00'}]}\n",
    )
    assert any("access.holidays.0: expected a date YYYY-MM-DD" in e for e in errors), errors
    assert any("unknown day 'funday'" in e for e in errors), errors


async def test_door_station_credentials_and_unlocks(tmp_path: Path, clock: ManualClock) -> None:
    """The intercom integration's events (its documented interface): a card or code at a door
    station is an attempt at the linked door; an intercom unlock is a legitimate opening."""
    config = BASE_ACCESS.replace(
        "      lock: lock.b01_u1\n",
        "      lock: lock.b01_u1\n      intercom: intercom.b01_station\n",
        1,
    )
    hub = await start_access_hub(tmp_path, clock, config)
    granted = capture(hub, "access_granted")
    denied = capture(hub, "access_denied")
    forced = capture(hub, "door_forced")
    station = {"station": "intercom.b01_station", "place": None}
    hub.bus.fire(
        "intercom_credential", {**station, "credential_type": "card", "credential": "AA000003"}
    )
    hub.bus.fire(
        "intercom_credential", {**station, "credential_type": "code", "credential": "R001#0000"}
    )
    hub.bus.fire(
        "intercom_credential",
        {"station": "intercom.other", "credential_type": "card", "credential": "AA000003"},
    )
    await settle(hub)
    await hub.block_till_done()
    assert [(e.data["door"], e.data["person"]) for e in granted] == [("b01_u1", "R003")]
    assert [(e.data["credential_type"], e.data["reason"]) for e in denied] == [
        ("pin", "invalid_pin")
    ]
    await clock.advance(60)
    hub.bus.fire(
        "intercom_unlock",
        {
            **station,
            "door": 1,
            "call_id": "c1",
            "actor": "household B01-U1-0101",
            "granted": True,
            "reason": None,
        },
    )
    hub.states.set("binary_sensor.b01_u1_door", "on")
    await settle(hub)
    assert forced == []
    hub.states.set("binary_sensor.b01_u1_door", "off")
    await clock.advance(60)
    hub.bus.fire("intercom_unlock", {**station, "granted": False, "reason": "not your household"})
    hub.states.set("binary_sensor.b01_u1_door", "on")
    await settle(hub)
    assert len(forced) == 1
    await hub.stop()
