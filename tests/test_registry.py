"""The community registry: storage, import/export of the real data files, personal data
protection, validation with FILE:LINE: field errors, and the integration's lookups."""

from __future__ import annotations

import csv
import io
import os
import shutil
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from shouwang.core.cli import main
from shouwang.core.clock import ManualClock
from shouwang.core.hub import Hub
from shouwang.core.storage import DB_FILE, Storage, default_url
from shouwang.integrations.registry import Registry, model, open_registry, read_snapshot
from shouwang.integrations.registry.protect import (
    FERNET_KEY_FILE,
    HMAC_KEY_FILE,
    Protector,
    id_checksum_ok,
    id_problem,
    mask_id,
    mask_phone,
    normalise_plate,
    phone_ok,
    plate_ok,
)
from shouwang.integrations.registry.transfer import (
    ImportResult,
    RegistryImportError,
    export_kind,
    guess_kind,
    import_file,
)

from .community_data import DATA

PEOPLE_HEADER = (
    "人员编号,姓名,性别,出生日期,身份证号,手机号,户号,人员类型,租约到期,人脸库名,门禁卡号,标签"
)

ORGANISATIONS = Path(__file__).parent / "fixtures" / "registry" / "organisations.csv"

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="community data files not present")


def people_sample(tmp_path: Path, rows: int = 500) -> Path:
    lines = (DATA / "people.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "people.csv"
    path.write_text("".join(lines[: rows + 1]), encoding="utf-8")
    return path


def imported(config: Path, *, people_rows: int = 500) -> tuple[Storage, Protector]:
    storage, protector = open_registry(config)
    for kind in ("places", "households"):
        assert import_file(storage, protector, DATA / f"{kind}.csv", progress=None).applied
    people = people_sample(config.parent, people_rows)
    assert import_file(storage, protector, people, progress=None).applied
    assert import_file(storage, protector, DATA / "vehicles.csv", progress=None).applied
    return storage, protector


def dump(storage: Storage) -> dict[str, list[tuple[Any, ...]]]:
    with storage.transaction() as conn:
        return {
            kind: sorted(tuple(row) for row in conn.execute(select(table)))
            for kind, table in model.TABLES.items()
        }


def count(storage: Storage, kind: str) -> int:
    with storage.transaction() as conn:
        return int(conn.scalar(select(func.count()).select_from(model.TABLES[kind])) or 0)


# --- storage -------------------------------------------------------------------------------


def test_storage_sqlite_file_and_transactions(tmp_path: Path) -> None:
    storage = Storage.open(tmp_path)
    assert storage.url == default_url(tmp_path)
    assert storage.dialect == "sqlite"
    storage.create_tables(model.METADATA)
    storage.create_tables(model.METADATA)  # idempotent
    assert (tmp_path / DB_FILE).is_file()
    with pytest.raises(RuntimeError), storage.transaction() as conn:
        conn.execute(model.places.insert().values(id="P1", name="x", kind="area"))
        raise RuntimeError("rolled back")
    assert count(storage, "places") == 0
    with storage.transaction() as conn:
        conn.execute(model.places.insert().values(id="P1", name="x", kind="area"))
    assert count(storage, "places") == 1
    storage.close()


# --- validators and protection -------------------------------------------------------------


def test_id_checksum_and_masks() -> None:
    assert id_checksum_ok("310104198610202954")
    assert not id_checksum_ok("310104198610202955")
    assert id_checksum_ok("11010519491231002X")
    assert id_problem("31010419861020295") is not None
    assert id_problem("310104198613202954") == "birth date part is not a date"
    assert id_problem("310104198610202955") == "check character does not match (GB 11643)"
    assert mask_id("310104198610202954") == "310104********2954"
    assert mask_phone("19954699758") == "199****9758"
    assert phone_ok("19954699758")
    assert not phone_ok("12954699758")
    assert not phone_ok("1995469975")


def test_plate_normalisation() -> None:
    assert normalise_plate("沪A·D1234") == "沪AD1234"
    assert normalise_plate(" 沪a d12.34 ") == "沪AD1234"
    assert plate_ok("沪AD1234")
    assert plate_ok("沪AD12345")  # new energy, 8 characters
    assert plate_ok("粤B12345D")
    assert not plate_ok("沪AD123")
    assert not plate_ok("XAD1234")
    assert not plate_ok("沪AD123456")


def test_key_files_created_0600_and_reused(tmp_path: Path) -> None:
    first = Protector(tmp_path)
    for name in (HMAC_KEY_FILE, FERNET_KEY_FILE):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600
    second = Protector(tmp_path)
    assert first.hash_id("310104198610202954") == second.hash_id("310104198610202954")
    assert second.decrypt(first.encrypt("19954699758")) == "19954699758"
    assert Protector(tmp_path / "other").hash_id("310104198610202954") != first.hash_id(
        "310104198610202954"
    )


# --- import --------------------------------------------------------------------------------


def test_import_real_files(tmp_path: Path) -> None:
    storage, protector = imported(tmp_path / "config")
    assert count(storage, "places") == 71
    assert count(storage, "households") == 2000
    assert count(storage, "people") == 500
    assert count(storage, "vehicles") == 1494
    with storage.transaction() as conn:
        person = conn.execute(select(model.people).where(model.people.c.id == "R00001")).one()
        place = conn.execute(select(model.places).where(model.places.c.id == "B01-U1")).one()
        household = conn.execute(
            select(model.households).where(model.households.c.id == "B01-U1-0101")
        ).one()
    assert person.type == "tenant" and person.gender == "male"
    assert person.id_masked == "310104********2954"
    assert person.id_hash == protector.hash_id("310104198610202954")
    assert person.phone_masked == "199****9758"
    assert protector.decrypt(person.phone_enc) == "19954699758"
    assert str(person.lease_end) == "2027-06-13"
    assert (place.kind, place.parent, place.x) == ("unit_entrance", "B01", 200)
    assert (household.occupancy, household.floor, household.room) == ("rented", 1, "0101")


def test_raw_personal_data_never_in_db_file(tmp_path: Path) -> None:
    config = tmp_path / "config"
    storage, _ = imported(config, people_rows=50)
    storage.close()
    content = b"".join(path.read_bytes() for path in config.glob(f"{DB_FILE}*"))
    rows = list(csv.DictReader(io.StringIO((DATA / "people.csv").read_text("utf-8-sig"))))[:50]
    assert rows
    phones = [row["手机号"] for row in rows if row["手机号"]]
    assert phones
    for phone in phones:
        assert phone.encode() not in content
        assert mask_phone(phone).encode() in content
    for row in rows:
        assert row["身份证号"].encode() not in content
        assert mask_id(row["身份证号"]).encode() in content


def test_whole_people_file_is_fast(tmp_path: Path) -> None:
    storage, protector = open_registry(tmp_path / "config")
    import_file(storage, protector, DATA / "households.csv", progress=None)
    started = time.perf_counter()
    result = import_file(storage, protector, DATA / "people.csv", progress=None)
    elapsed = time.perf_counter() - started
    assert result.applied and result.rows == 5720
    assert count(storage, "people") == 5720
    assert elapsed < 5, f"people.csv took {elapsed:.2f} s"


def test_bad_rows_reported_with_line_and_field_nothing_applied(tmp_path: Path) -> None:
    storage, protector = open_registry(tmp_path / "config")
    import_file(storage, protector, DATA / "households.csv", progress=None)
    path = tmp_path / "people.csv"
    path.write_text(
        PEOPLE_HEADER + "\n"
        "R1,张三,男,1990-01-01,310104198610202954,19954699758,B01-U1-0101,业主,,f1,,\n"
        "R2,李四,男,1990-01-01,310104198610202955,19954699758,B01-U1-0101,业主,,,,\n"
        "R3,王五,女,1990-02-30,310104198610202954,1234,B99-U9-9999,老板,,,,\n"
        "R1,张三,男,1990-01-01,,,,业主,,,,\n"
        ",,男,,,,,业主,,,,\n"
        "R6,赵六,男\n",
        encoding="utf-8",
    )
    result = import_file(storage, protector, path, progress=None)
    assert not result.applied
    assert f"{path}:3: id_number: check character does not match (GB 11643)" in result.errors
    assert f"{path}:4: birth_date: not a date (YYYY-MM-DD): '1990-02-30'" in result.errors
    assert f"{path}:4: phone: not a mobile number (11 digits starting 13–19)" in result.errors
    assert f"{path}:4: household_id: unknown household 'B99-U9-9999'" in result.errors
    assert any(e.startswith(f"{path}:4: type: unknown value '老板'") for e in result.errors)
    assert f"{path}:5: person_id: duplicate of line 2" in result.errors
    assert f"{path}:6: person_id: required" in result.errors
    assert f"{path}:6: name: required" in result.errors
    assert f"{path}:7: row: 3 values for 12 columns" in result.errors
    assert not any("310104198610202954" in e or "19954699758" in e for e in result.errors)
    assert count(storage, "people") == 0


def test_cli_import_exit_1_and_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config"
    bad = tmp_path / "places.csv"
    bad.write_text("地点编号,名称,类型,上级,x,y\nP1,门,人行出入口,P-NOWHERE,1,2\nP2,x,城堡,,a,\n")
    assert main(["registry", "import", str(bad), "-c", str(config)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:2: parent: unknown place 'P-NOWHERE'" in err
    assert f"{bad}:3: kind: unknown value '城堡'" in err
    assert f"{bad}:3: x: not a number: 'a'" in err
    assert "3 error(s); nothing imported" in err
    assert main(["registry", "import", str(DATA / "households.csv"), "-c", str(config)]) == 0
    captured = capsys.readouterr()
    assert "2000 households imported in" in captured.out
    assert "households.csv: validating [####################] 2000/2000" in captured.err
    assert main(["registry", "import", str(tmp_path / "none.csv"), "-c", str(config)]) == 1


def test_parent_in_same_file_and_unknown_header(tmp_path: Path) -> None:
    storage, protector = open_registry(tmp_path / "config")
    path = tmp_path / "p.csv"
    path.write_text(
        "\ufeffplace_id,name,kind,parent,x,y\nC1,child,area,R1,,\nR1,root,community,,,\n"
    )
    assert import_file(storage, protector, path, progress=None).applied
    path.write_text("place_id,name,kind,colour\nP1,a,area,red\n")
    result = import_file(storage, protector, path, progress=None)
    assert result.errors == [f"{path}:1: colour: unknown column for places"]


def test_english_headers_and_yaml(tmp_path: Path) -> None:
    storage, protector = open_registry(tmp_path / "config")
    households = tmp_path / "h.csv"
    households.write_text(
        "household_id,building,unit,floor,room,address,occupancy,area\n"
        "B01-U1-0101,1号楼,1单元,1,0101,示例路88弄1号1单元0101室,owner,68.5\n"
    )
    assert import_file(storage, protector, households, progress=None).applied
    people = tmp_path / "people.yaml"
    people.write_text(
        "- person_id: R1\n  name: 张三\n  gender: male\n  birth_date: 1986-10-20\n"
        "  id_number: '310104198610202954'\n  phone: '19954699758'\n"
        "  household_id: B01-U1-0101\n  type: owner\n  tags: 独居老人\n"
        "- person_id: R2\n  name: 李四\n  type: 租户\n  household_id: B01-U1-0199\n"
    )
    result = import_file(storage, protector, people, progress=None)
    assert result.errors == [f"{people}:10: household_id: unknown household 'B01-U1-0199'"]
    people.write_text(people.read_text().replace("0199", "0101"))
    assert import_file(storage, protector, people, progress=None).applied
    vehicles = tmp_path / "v.yaml"
    vehicles.write_text("- {plate: 沪a·d1234, list_type: blocked, colour: 黑}\n")
    assert import_file(storage, protector, vehicles, progress=None).kind == "vehicles"
    with storage.transaction() as conn:
        assert conn.scalar(select(model.vehicles.c.plate)) == "沪AD1234"
    assert count(storage, "people") == 2


def test_guess_kind_and_unknown(tmp_path: Path) -> None:
    assert guess_kind(["户号", "楼栋"]) == "households"
    assert guess_kind(PEOPLE_HEADER.split(",")) == "people"
    assert guess_kind(["车牌号", "户号"]) == "vehicles"
    assert guess_kind(["Place_ID"]) == "places"
    assert guess_kind(["foo"]) is None
    storage, protector = open_registry(tmp_path / "config")
    path = tmp_path / "x.csv"
    path.write_text("foo,bar\n1,2\n")
    with pytest.raises(RegistryImportError, match="use --kind"):
        import_file(storage, protector, path, progress=None)


def test_upsert_by_id(tmp_path: Path) -> None:
    storage, protector = open_registry(tmp_path / "config")
    path = tmp_path / "p.csv"
    path.write_text("place_id,name,kind\nP1,old,area\n")
    import_file(storage, protector, path, progress=None)
    path.write_text("place_id,name,kind\nP1,new,area\nP2,two,area\n")
    import_file(storage, protector, path, progress=None)
    with storage.transaction() as conn:
        names = dict(conn.execute(select(model.places.c.id, model.places.c.name)).all())
    assert names == {"P1": "new", "P2": "two"}


# --- export --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "yaml"])
def test_export_import_round_trip(tmp_path: Path, fmt: str) -> None:
    storage, protector = imported(tmp_path / "config", people_rows=200)
    assert import_file(storage, protector, ORGANISATIONS, progress=None).applied
    assert import_file(storage, protector, DEVICES, progress=None).applied
    before = dump(storage)
    assert all(before[kind] for kind in model.KINDS)
    for kind in model.KINDS:
        out = tmp_path / f"{kind}.{fmt}"
        with out.open("w", encoding="utf-8", newline="") as stream:
            assert export_kind(storage, kind, stream, fmt) == len(before[kind])
        if kind == "people":
            text = out.read_text("utf-8")
            assert "310104********2954" in text and "199****9758" in text
            assert "310104198610202954" not in text and "19954699758" not in text
        result = import_file(storage, protector, out, progress=None)
        assert result.errors == [] and result.applied
    assert dump(storage) == before


def test_masked_value_for_new_person_is_error(tmp_path: Path) -> None:
    storage, _ = imported(tmp_path / "config", people_rows=5)
    out = tmp_path / "people.csv"
    with out.open("w", encoding="utf-8", newline="") as stream:
        export_kind(storage, "people", stream)
    fresh, fresh_protector = open_registry(tmp_path / "fresh")
    import_file(fresh, fresh_protector, DATA / "households.csv", progress=None)
    result: ImportResult = import_file(fresh, fresh_protector, out, progress=None)
    assert f"{out}:2: id_number: masked value does not match the stored one" in result.errors
    assert f"{out}:2: phone: masked value does not match the stored one" in result.errors


def test_cli_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config"
    assert main(["registry", "import", str(DATA / "places.csv"), "-c", str(config)]) == 0
    capsys.readouterr()
    assert main(["registry", "export", "places", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("place_id,name,kind,parent,x,y,address\n")
    assert "B01-U1,1号楼1单元,unit_entrance,B01,200,180,\n" in out
    target = tmp_path / "places.yaml"
    assert main(["registry", "export", "places", "-c", str(config), "-o", str(target)]) == 0
    assert "- place_id: B01" in target.read_text("utf-8")


# --- the integration -----------------------------------------------------------------------


async def test_integration_places_and_lookups(tmp_path: Path, clock: ManualClock) -> None:
    config = tmp_path / "config"
    storage, _ = imported(config)
    storage.close()
    (config / "configuration.yaml").write_text("registry:\n")
    hub = Hub(config, clock=clock)
    await hub.start()
    try:
        assert hub.integrations.failed == {}
        registry = hub.integrations.runtime("registry")
        assert isinstance(registry, Registry)
        assert hub.places.get("P-GATE-N") is not None
        assert {"B01", "B01-U1", "B01-U2"} < hub.places.descendants("B01")
        household = hub.places.get("B01-U1-0101")
        assert household is not None and household.kind == "household"
        assert (household.parent_id, household.x, household.y) == ("B01-U1", 200, 180)
        assert "B01-U1-0101" in hub.places.descendants("B01-U1")
        hub.places.bind("lock.b01_u1_door", "B01-U1")
        hub.places.bind("intercom.b01_u1_0101_panel", "B01-U1-0101")
        assert hub.services.resolve_target({"place_id": "B01"}) == {
            "lock.b01_u1_door", "intercom.b01_u1_0101_panel",
        }  # fmt: skip
        assert hub.places.entities_in("B01-U1-0101") == {"intercom.b01_u1_0101_panel"}

        person = registry.person_by_face("r00001")
        assert person is not None and person.name == "闫英"
        assert person.id_masked == "310104********2954" and person.phone_masked == "199****9758"
        assert registry.person_by_id_number("310104198610202954") == person
        assert registry.person_by_id_number("310104198610202955") is None
        members = registry.household_members("B01-U1-0101")
        assert [p.person_id for p in members][:2] == ["R00001", "R00002"]
        assert all(p.household_id == "B01-U1-0101" for p in members)
        vehicle = registry.vehicle_by_plate("沪a·d67204")
        assert vehicle is not None and vehicle.household_id == "B01-U1-0101"
        assert vehicle.list_type == "resident"
        elderly = registry.people_with_tag("独居老人")
        assert elderly and registry.people_with_tag("elderly_living_alone") == elderly
        assert all("独居老人" in p.tags for p in elderly)
        assert registry.people_with_tag("nobody") == []

        extra = tmp_path / "extra.csv"
        extra.write_text("place_id,name,kind,parent\nB01-U3,1号楼3单元,unit_entrance,B01\n")
        assert import_file(registry.storage, registry.protector, extra, progress=None).applied
        await registry.reload(hub)
        assert "B01-U3" in hub.places.descendants("B01")
    finally:
        await hub.stop(timeout=1)


async def test_integration_without_data(tmp_path: Path, clock: ManualClock) -> None:
    (tmp_path / "configuration.yaml").write_text(
        "registry:\n  db_url: sqlite:///" + str(tmp_path / "other.db") + "\n"
    )
    hub = Hub(tmp_path, clock=clock)
    await hub.start()
    try:
        registry = hub.integrations.runtime("registry")
        assert isinstance(registry, Registry)
        assert registry.people == {} and (tmp_path / "other.db").is_file()
    finally:
        await hub.stop(timeout=1)


def test_data_files_copy_untouched(tmp_path: Path) -> None:
    """The importer only reads its input (the shared data files stay as they are)."""
    copy = tmp_path / "places.csv"
    shutil.copyfile(DATA / "places.csv", copy)
    storage, protector = open_registry(tmp_path / "config")
    import_file(storage, protector, copy, progress=None)
    assert copy.read_bytes() == (DATA / "places.csv").read_bytes()


def test_cli_kinds_match_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["registry", "export", "--help"])
    assert "{" + ",".join(model.KINDS) + "}" in " ".join(capsys.readouterr().out.split())


def test_household_places_parent_rule() -> None:
    from shouwang.core.places import Place
    from shouwang.integrations.registry import Household, household_places

    places = [
        Place("B01", "1号楼", "building", None, 1, 2),
        Place("B01-U1", "u", "unit_entrance", "B01", 3, 4),
    ]
    households = {
        "B01-U1-0101": Household("B01-U1-0101", "1号楼", "1单元", 1, "0101", "地址", "owner", None),
        "B01-U9-0101": Household("B01-U9-0101", "1号楼", "9单元", 1, "0101", None, "owner", None),
        "X-1": Household("X-1", "?", "?", 1, "1", None, "owner", None),
    }
    got = {p.place_id: p for p in household_places(places, households)}
    assert (got["B01-U1-0101"].parent_id, got["B01-U1-0101"].x, got["B01-U1-0101"].name) == (
        "B01-U1",
        3,
        "地址",
    )
    assert got["B01-U9-0101"].parent_id == "B01"  # no unit place: falls back to the building
    assert got["X-1"].parent_id is None and got["X-1"].name == "X-1"


# --- organisations -------------------------------------------------------------------------


def test_organisations_import_protect_and_look_up(tmp_path: Path) -> None:
    storage, protector = imported(tmp_path / "config")
    result = import_file(storage, protector, ORGANISATIONS, progress=None)
    assert result.applied, result.errors
    snapshot = read_snapshot(storage)
    pm = snapshot.organisations["ORG-PM"]
    assert (pm.type, pm.phone_masked) == ("property_company", "138****8000")
    assert pm.members == (("R00001", "经理"), ("R00002", None))
    with storage.transaction() as conn:
        row = conn.execute(
            select(model.organisations).where(model.organisations.c.id == "ORG-PM")
        ).one()
    assert "13800138000" not in str(tuple(row))  # stored encrypted
    assert protector.decrypt(row.phone_enc) == "13800138000"
    registry = Registry(storage, protector, snapshot)
    assert [(o.organisation_id, role) for o, role in registry.organisations_of("R00001")] == [
        ("ORG-PM", "经理")
    ]
    assert [(p.person_id, role) for p, role in registry.organisation_members("ORG-RC")] == [
        ("R00003", "主任")
    ]
    assert registry.organisation_members("ORG-NONE") == []
    # export round-trips (phone masked, re-import keeps the stored value)
    out = io.StringIO()
    export_kind(storage, "organisations", out)
    text = out.getvalue()
    assert text.startswith("organisation_id,name,type,address,phone,members\n")
    assert (
        "ORG-PM,示例物业服务有限公司,property_company,上海市黄浦区示例路88弄1号,138****8000,R00001:经理;R00002"
        in text
    )
    again = tmp_path / "again.csv"
    again.write_text(text, encoding="utf-8")
    assert import_file(storage, protector, again, progress=None).applied
    assert read_snapshot(storage).organisations == snapshot.organisations
    storage.close()


def test_organisation_rows_are_checked(tmp_path: Path) -> None:
    storage, protector = imported(tmp_path / "config")
    bad = tmp_path / "orgs.csv"
    bad.write_text(
        "organisation_id,name,type,phone,members\nO1,x,spaceport,123,R00001;NOBODY:boss\n",
        encoding="utf-8",
    )
    result = import_file(storage, protector, bad, progress=None)
    assert not result.applied
    assert f"{bad}:2: type: unknown value 'spaceport'" in result.errors[0]
    assert any(f"{bad}:2: phone: not a mobile number" in e for e in result.errors)
    assert f"{bad}:2: members: unknown person 'NOBODY'" in result.errors
    assert read_snapshot(storage).organisations == {}
    storage.close()


# --- device ledger ---------------------------------------------------------------------------

DEVICES = Path(__file__).parent / "fixtures" / "registry" / "devices.csv"


async def test_device_ledger_binds_entities_and_places_them_on_the_plan(
    tmp_path: Path, clock: ManualClock
) -> None:
    config = tmp_path / "config"
    storage, protector = imported(config, people_rows=5)
    result = import_file(storage, protector, DEVICES, progress=None)
    assert result.applied, result.errors
    storage.close()
    (config / "configuration.yaml").write_text("registry:\n")
    hub = Hub(config, clock=clock)
    await hub.start()
    try:
        registry = hub.integrations.runtime("registry")
        lock = registry.devices["lock.gate_north"]
        assert (lock.type, lock.manufacturer, str(lock.installed)) == (
            "access_door",
            "海康威视",
            "2025-05-01",
        )
        assert hub.places.place_of("lock.gate_north") == "P-GATE-N"
        assert hub.places.entities_in("B01-U1-0101") == {"intercom.b01_u1_0101"}
        assert registry.device_position("camera.north_gate") == (118, 24)  # its own
        assert registry.device_position("lock.gate_north") == (120, 20)  # its place's
        assert registry.device_position("intercom.b01_u1_0101") == (200, 180)  # unit entrance
        assert registry.device_position("light.nowhere") is None
        hub.places.bind("light.square", "P-SQUARE")
        assert registry.device_position("light.square", hub) == (400, 400)
    finally:
        await hub.stop(timeout=1)


def test_device_rows_are_checked(tmp_path: Path) -> None:
    storage, protector = imported(tmp_path / "config", people_rows=5)
    bad = tmp_path / "devices.csv"
    bad.write_text(
        "entity_id,name,type,place\nLock Gate,门,门禁,P-GATE-N\nlock.x,门,传送门,P-GATE-N\nlock.y,门,门禁,P-MARS\n",
        encoding="utf-8",
    )
    result = import_file(storage, protector, bad, progress=None)
    assert not result.applied
    assert result.errors == [
        f"{bad}:2: entity_id: not an entity id (domain.object_id): 'Lock Gate'",
        f"{bad}:3: type: unknown value '传送门'; expected one of "
        + ", ".join(f"{cn} ({en})" for cn, en in model.DEVICE_TYPES.items()),
        f"{bad}:4: place: unknown place 'P-MARS'",
    ]
    storage.close()
