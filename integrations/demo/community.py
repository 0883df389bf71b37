"""The demo community's registry, generated: 示例花园, two buildings and a few hundred residents.

``shouwang demo`` needs a community a newcomer can look at without any data of their own, so
this module writes one as the property office would keep it — CSV files with the Chinese
headers of ``/work/shared/data/community`` — and imports them through the registry's own
importer (:func:`write_community` then :func:`import_community`). Everything is generated from a
seed, so two runs give the same people; nobody in it is real (ID numbers have valid check
digits but random bodies, phones are in the 139 0000 range).

What the simulated day relies on is fixed here and exported: the main gate, the car-park lane,
the guard room, the resident ``DEMO_RESIDENT`` who walks through the gate, the elderly resident
living alone, a tenant whose lease has ended, the blocked plate and the visitor plate.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Final

from shouwang.integrations.registry.protect import id_check_digit

SEED: Final = 28
COMMUNITY_NAME: Final = "示例花园"
ADDRESS: Final = "上海市黄浦区示例路88弄"
BUILDINGS: Final = 2
UNITS: Final = 2
FLOORS: Final = 12
ROOMS_PER_FLOOR: Final = 4

MAIN_GATE: Final = "P-GATE-N"
CAR_LANE: Final = "P-CAR-LANE"
GUARD_ROOM: Final = "P-GUARD"
BLOCKED_PLATE: Final = "沪B66666"
VISITOR_PLATE: Final = "苏E12345"

_SURNAMES: Final = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
_GIVEN: Final = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红建国志明海燕"
_COLOURS: Final = ("白", "黑", "灰", "银", "蓝", "红")
_PROVINCES: Final = "沪沪沪沪苏浙皖"


@dataclass(frozen=True, slots=True)
class DemoPeople:
    """Who the simulated day's scenarios are about."""

    resident: str  # person id of a resident with face, card and car
    resident_face: str
    resident_card: str
    resident_household: str
    elderly: str  # lives alone
    expired_tenant: str
    expired_tenant_card: str
    guard: str


PLACES_HEADER: Final = ("地点编号", "名称", "类型", "上级", "x", "y")
HOUSEHOLDS_HEADER: Final = ("户号", "楼栋", "单元", "楼层", "房号", "标准地址", "房屋性质", "面积")
PEOPLE_HEADER: Final = (
    "人员编号", "姓名", "性别", "出生日期", "身份证号", "手机号", "户号", "人员类型", "租约到期",
    "人脸库名", "门禁卡号", "标签",
)  # fmt: skip
VEHICLES_HEADER: Final = ("车牌号", "车辆颜色", "户号", "名单类型", "有效期至", "车位")
ORGANISATIONS_HEADER: Final = ("组织编号", "名称", "类型", "地址", "联系电话", "成员")


def _places() -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = [
        ("P-COMMUNITY", COMMUNITY_NAME, "小区", "", 400, 400),
        (MAIN_GATE, "北门", "人行出入口", "P-COMMUNITY", 400, 30),
        (CAR_LANE, "车行入口", "车行出入口", "P-COMMUNITY", 120, 30),
        ("P-CARPARK", "地下车库", "停车场", "P-COMMUNITY", 120, 120),
        (GUARD_ROOM, "保安室", "值班室", "P-COMMUNITY", 480, 40),
        ("P-SQUARE", "中心广场", "公共区域", "P-COMMUNITY", 400, 420),
    ]
    for index, (x, y) in enumerate(((20, 20), (780, 20), (780, 780), (20, 780)), start=1):
        rows.append((f"P-FENCE-{index}", f"周界{index}号防区", "周界防区", "P-COMMUNITY", x, y))
    for building in range(1, BUILDINGS + 1):
        bx = 250 + (building - 1) * 300
        rows.append((f"B{building:02d}", f"{building}号楼", "楼栋", "P-COMMUNITY", bx, 250))
        for unit in range(1, UNITS + 1):
            rows.append(
                (
                    f"B{building:02d}-U{unit}", f"{building}号楼{unit}单元", "单元门",
                    f"B{building:02d}", bx - 40 + (unit - 1) * 80, 320,
                )
            )  # fmt: skip
    return rows


def _households() -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    rng = random.Random(SEED)
    for building in range(1, BUILDINGS + 1):
        for unit in range(1, UNITS + 1):
            for floor in range(1, FLOORS + 1):
                for room in range(1, ROOMS_PER_FLOOR + 1):
                    number = f"{floor:02d}{room:02d}"
                    rows.append(
                        (
                            f"B{building:02d}-U{unit}-{number}", f"{building}号楼", f"{unit}单元",
                            floor, number,
                            f"{ADDRESS}{building}号{unit}单元{number}室",
                            "出租" if rng.random() < 0.2 else "自住",
                            rng.choice((68, 89, 105, 120, 143)),
                        )
                    )  # fmt: skip
    return rows


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.randint(1, 2)))


def _id_number(rng: random.Random, birth: date, female: bool) -> str:
    sequence = rng.randint(0, 99) * 10 + rng.choice((0, 2, 4, 6, 8) if female else (1, 3, 5, 7, 9))
    first17 = f"310101{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_digit(first17)


def _people(
    households: list[tuple[object, ...]], today: date
) -> tuple[list[tuple[object, ...]], DemoPeople]:
    rng = random.Random(SEED + 1)
    rows: list[tuple[object, ...]] = []
    counter = 0
    first_resident: tuple[str, str, str, str] | None = None
    elderly: str | None = None
    expired: tuple[str, str] | None = None

    def person(
        household: str, kind: str, age: int, *, tags: str = "", lease_end: str = ""
    ) -> tuple[str, str]:
        nonlocal counter
        counter += 1
        person_id = f"D{counter:05d}"
        female = rng.random() < 0.5
        birth = today - timedelta(days=age * 365 + rng.randint(0, 364))
        face = f"d{counter:05d}"
        card = f"{rng.getrandbits(32):08X}"
        rows.append(
            (
                person_id, _name(rng), "女" if female else "男", birth.isoformat(),
                _id_number(rng, birth, female), f"1390000{counter:04d}", household, kind,
                lease_end, face, card, tags,
            )
        )  # fmt: skip
        return person_id, card

    for index, row in enumerate(households):
        household, occupancy = str(row[0]), row[6]
        if index % 23 == 7:  # an elderly resident living alone
            person_id, _ = person(household, "业主", rng.randint(72, 88), tags="独居老人")
            elderly = elderly or person_id
            continue
        if occupancy == "出租":
            ended = expired is None or rng.random() < 0.15
            lease = today - timedelta(days=20) if ended else today + timedelta(days=200)
            tenant, card = person(
                household, "租户", rng.randint(22, 45), lease_end=lease.isoformat()
            )
            if ended and expired is None:
                expired = (tenant, card)
            if rng.random() < 0.5:
                person(household, "租户", rng.randint(22, 45), lease_end=lease.isoformat())
            continue
        owner, card = person(household, "业主", rng.randint(30, 65))
        if first_resident is None:
            first_resident = (owner, f"d{counter:05d}", card, household)
        for _ in range(rng.randint(0, 2)):
            person(household, "家属", rng.randint(25, 70))
        if rng.random() < 0.35:
            person(household, "家属", rng.randint(3, 12), tags="儿童")
    guards = [person("", "物业人员", rng.randint(25, 50), tags="保安")[0] for _ in range(3)]
    assert first_resident and elderly and expired  # the seed guarantees all three
    who = DemoPeople(
        resident=first_resident[0], resident_face=first_resident[1],
        resident_card=first_resident[2], resident_household=first_resident[3],
        elderly=elderly, expired_tenant=expired[0], expired_tenant_card=expired[1],
        guard=guards[0],
    )  # fmt: skip
    return rows, who


def _vehicles(people: DemoPeople, households: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    rng = random.Random(SEED + 2)
    rows: list[tuple[object, ...]] = [
        ("沪A" + "D1234", "白", people.resident_household, "业主车辆", "", "B1-0001"),
        (BLOCKED_PLATE, "黑", "", "黑名单", "", ""),
        (VISITOR_PLATE, "银", "", "访客车辆", "", ""),
    ]
    for index, row in enumerate(households[1::3]):
        plate = f"{rng.choice(_PROVINCES)}{rng.choice('ABCDEFGHJK')}{rng.randint(10000, 99999)}"
        rows.append((plate, rng.choice(_COLOURS), row[0], "业主车辆", "", f"B1-{index + 2:04d}"))
    return rows


def write_community(folder: Path, today: date) -> DemoPeople:
    """Write places/households/people/vehicles/organisations CSVs (Chinese headers) to
    ``folder``; ``today`` decides ages and which tenant's lease has ended."""
    folder.mkdir(parents=True, exist_ok=True)
    households = _households()
    people, who = _people(households, today)
    organisations: list[tuple[object, ...]] = [
        ("ORG-PM", "示例物业服务有限公司", "物业公司", f"{ADDRESS}1号", "13900009999",
         ";".join(f"{guard}:保安" for guard in (who.guard,))),
        ("ORG-PS", "示例路派出所", "派出所", "上海市黄浦区示例路1号", "", ""),
    ]  # fmt: skip
    tables: dict[str, tuple[tuple[str, ...], list[tuple[object, ...]]]] = {
        "places": (PLACES_HEADER, _places()),
        "households": (HOUSEHOLDS_HEADER, households),
        "people": (PEOPLE_HEADER, people),
        "vehicles": (VEHICLES_HEADER, _vehicles(who, households)),
        "organisations": (ORGANISATIONS_HEADER, organisations),
    }
    for kind, (header, rows) in tables.items():
        with (folder / f"{kind}.csv").open("w", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(header)
            writer.writerows(rows)
    return who


KINDS_IN_ORDER: Final = ("places", "households", "people", "vehicles", "organisations")


def import_community(config_dir: Path, folder: Path) -> list[str]:
    """Import the written CSVs into the config directory's registry (blocking); the errors,
    if any (none, unless the generator broke)."""
    from shouwang.integrations.registry import open_registry
    from shouwang.integrations.registry.transfer import import_file

    storage, protector = open_registry(config_dir)
    errors: list[str] = []
    try:
        for kind in KINDS_IN_ORDER:
            result = import_file(storage, protector, folder / f"{kind}.csv", kind)
            errors.extend(result.errors)
    finally:
        storage.close()
    return errors
