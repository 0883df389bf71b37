"""Helpers for access-control tests: a small registry imported from CSV, a hub configured with
doors and rules, a lock that behaves like a real electric strike, and event capture."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher

from shouwang.core.clock import ManualClock
from shouwang.core.events import Context
from shouwang.core.hub import Hub
from shouwang.core.platforms import LockEntity
from shouwang.integrations.access import AccessControl
from shouwang.integrations.registry import open_registry
from shouwang.integrations.registry.transfer import import_file

# cheap argon2 parameters keep the tests fast; the format is the same as production hashes
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PIN_HASH = FAST_HASHER.hash("1234")
DURESS_HASH = FAST_HASHER.hash("9999")

PLACES = """地点编号,名称,类型,上级,x,y
P-GATE-N,北门,人行出入口,,120,20
P-B01,1号楼,楼栋,,10,10
"""
HOUSEHOLDS = """户号,楼栋,单元,楼层,房号,标准地址,房屋性质,面积
B01-U1-0101,1号楼,1单元,1,0101,上海市黄浦区示例路88弄1号1单元0101室,自住,120
B01-U1-0102,1号楼,1单元,1,0102,上海市黄浦区示例路88弄1号1单元0102室,出租,68
B02-U1-0101,2号楼,1单元,1,0101,上海市黄浦区示例路88弄2号1单元0101室,自住,90
"""
# The manual clock starts at 2026-11-28 22:00 UTC = 2026-11-29 06:00 in Shanghai (a Sunday):
# R002's lease ended on 2026-11-28, which is still "today" in UTC but yesterday locally.
PEOPLE = """人员编号,姓名,性别,出生日期,身份证号,手机号,户号,人员类型,租约到期,人脸库名,门禁卡号,标签
R001,王一,男,1980-01-01,,,B01-U1-0101,业主,,r001,AA000001,
R002,李二,女,1990-02-02,,,B01-U1-0102,租户,2026-11-28,r002,AA000002,
R003,张三,男,1991-03-03,,,B01-U1-0102,租户,2027-06-01,r003,AA000003,
R004,王小四,男,2016-04-04,,,B01-U1-0101,家属,,r004,AA000004,儿童
R005,赵五,男,1975-05-05,,,,物业人员,,r005,AA000005,保安
R006,钱六,男,1970-06-06,,,B02-U1-0101,业主,,r006,AA000006,
R007,孙七,女,1950-07-07,,,B02-U1-0101,业主,,r007,AA000007,独居老人
"""

# 沪B00002's validity ended on 2026-11-28: yesterday, locally
VEHICLES = """车牌号,车辆颜色,户号,名单类型,有效期至,车位
沪A00001,白,B01-U1-0101,业主车辆,,B1-0001
沪B00002,黑,B02-U1-0101,访客车辆,2026-11-28,
沪C00003,红,,黑名单,,
沪D00004,蓝,B02-U1-0101,访客车辆,2026-12-31,
"""

ORGANISATIONS = """组织编号,名称,类型,地址,联系电话,成员
ORG-NC,示例居委会,居委会,,,R003:委员
"""

BASE_ACCESS = f"""
access:
  doors:
    - id: gate_north
      name: 北门
      place: P-GATE-N
      lock: lock.gate_north
      contact: binary_sensor.gate_north_door
      exit_button: binary_sensor.gate_north_exit
      camera: camera.gate_north
      face_camera: gate_north
      area: community
      readers:
        - {{id: gate_north_in, direction: in}}
        - {{id: gate_north_out, direction: out}}
      held_open: {{reminder: 30s, alarm: 60s}}
      turnstile: {{passage_in: binary_sensor.gate_north_passage_in, window: 10s}}
    - id: b01_u1
      name: 1号楼1单元门
      place: P-B01
      lock: lock.b01_u1
      contact: binary_sensor.b01_u1_door
    - id: gym
      lock: lock.gym
    - id: car_in
      name: 车库入口
      area: car_park
  door_groups:
    perimeter: [gate_north]
  schedules:
    gym_hours:
      - {{from: "07:00", to: "21:00"}}
  rules:
    - name: residents at the gates
      person_types: [owner, family, tenant]
      doors: [perimeter]
    - name: building 1 residents
      households: ["B01-*"]
      doors: [b01_u1]
    - name: guards everywhere
      categories: [guard]
      doors: [perimeter, b01_u1, gym]
    - name: owners at the gym
      person_types: [owner, family]
      doors: [gym]
      schedule: gym_hours
    - name: no children at the gym
      deny: true
      categories: [child]
      doors: [gym]
    - name: the neighbourhood committee at the gym
      organisations: [ORG-NC]
      doors: [gym]
    - name: resident cars
      vehicle_lists: [resident]
      doors: [car_in]
    - name: visitor cars by day
      vehicle_lists: [visitor]
      doors: [car_in]
      schedule: gym_hours
  credentials:
    - person: R001
      pin: "{PIN_HASH}"
      duress_pin: "{DURESS_HASH}"
  blocked_people: [R006]
  anti_passback: {{areas: [community, car_park], mode: hard}}
"""


def make_registry(config_dir: Path, people: str = PEOPLE) -> None:
    """Import places, households and people CSVs into ``config_dir``'s registry."""
    config_dir.mkdir(parents=True, exist_ok=True)
    storage, protector = open_registry(config_dir)
    try:
        for kind, text in (
            ("places", PLACES),
            ("households", HOUSEHOLDS),
            ("people", people),
            ("vehicles", VEHICLES),
            ("organisations", ORGANISATIONS),
        ):
            path = config_dir / f"{kind}.csv"
            path.write_text(text, encoding="utf-8")
            result = import_file(storage, protector, path, progress=None)
            assert result.applied, result
    finally:
        storage.close()


class StrikeLock(LockEntity):
    """An electric strike: unlocks and relocks when told, remembering every command."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.lock_state = "locked"
        self.commands: list[str] = []

    async def unlock(self, *, code: str | None = None, context: Context | None = None) -> None:
        self.commands.append("unlock")
        self.lock_state = "unlocked"
        self.write_state(context)

    async def lock(self, *, code: str | None = None, context: Context | None = None) -> None:
        self.commands.append("lock")
        self.lock_state = "locked"
        self.write_state(context)


async def start_access_hub(
    tmp_path: Path,
    clock: ManualClock,
    access: str = BASE_ACCESS,
    *,
    automations: str | None = None,
    people: str = PEOPLE,
) -> Hub:
    """A hub with the registry and ``access`` configured (and automations, when given)."""
    make_registry(tmp_path, people)
    configuration = "shouwang:\n  time_zone: Asia/Shanghai\nregistry:\n" + textwrap.dedent(access)
    (tmp_path / "configuration.yaml").write_text(configuration, encoding="utf-8")
    if automations is not None:
        folder = tmp_path / "automations"
        folder.mkdir(exist_ok=True)
        (folder / "main.yaml").write_text(textwrap.dedent(automations), encoding="utf-8")
    hub = Hub(tmp_path, clock=clock)
    for entity_id in (
        "binary_sensor.gate_north_door",
        "binary_sensor.b01_u1_door",
        "binary_sensor.gate_north_exit",
        "binary_sensor.gate_north_passage_in",
    ):
        hub.states.set(entity_id, "off")
    hub.states.set("camera.gate_north", "idle", {"snapshot_url": "http://nvr/gate_north.jpg"})
    await hub.start()
    await hub.entities.add(
        [StrikeLock("Gate North"), StrikeLock("B01 U1"), StrikeLock("Gym")], integration="test"
    )
    return hub


def access_of(hub: Hub) -> AccessControl:
    runtime: Any = hub.integrations.runtime("access")
    assert isinstance(runtime, AccessControl), hub.integrations.failed
    return runtime


def lock_of(hub: Hub, entity_id: str) -> StrikeLock:
    entity = hub.entities.get(entity_id)
    assert isinstance(entity, StrikeLock)
    return entity
