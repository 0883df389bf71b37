"""Standard addresses (标准地址): district + street + number + building + unit + floor + room.

Public-security platforms key the "actual population" on the standard address, which property
offices write as one string (``上海市黄浦区示例路88弄10号1单元0101室``). This splits such a string
into its parts so the registry can show, filter and report them field by field; the household's
own building/unit/floor/room columns, when present, win over what the string says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

# province/city/district, then street (路/街/道/巷/大道 …) with its lane (弄) or number (号),
# then building (号/栋/幢/号楼), unit, room; every part optional so partial addresses still parse
_PATTERN: Final = re.compile(
    r"^(?P<province>[^省]+省)?"
    r"(?P<city>[^市]+市)?"
    r"(?P<district>[^区县]+?(?:区|县))?"
    r"(?P<street>.+?(?:大道|路|街|道|巷|胡同|村))?"
    r"(?P<number>\d+(?:弄|号院|号))?"
    r"(?P<building>\d+(?:号楼|栋|幢|号|座))?"
    r"(?P<unit>\d+单元)?"
    r"(?P<room>\d+室?)?$"
)


@dataclass(frozen=True, slots=True)
class StandardAddress:
    """The parts of a standard address (any may be None when the text does not say)."""

    province: str | None
    city: str | None
    district: str | None
    street: str | None
    number: str | None
    building: str | None
    unit: str | None
    floor: int | None
    room: str | None

    def __str__(self) -> str:
        parts = (self.province, self.city, self.district, self.street, self.number,
                 self.building, self.unit)  # fmt: skip
        text = "".join(part for part in parts if part)
        return text + (f"{self.room}室" if self.room else "")


def parse_address(text: str) -> StandardAddress | None:
    """The parts of an address string; None when it does not look like one."""
    match = _PATTERN.match(text.strip().replace(" ", ""))
    if match is None or not (match["district"] or match["street"]):
        return None
    room = match["room"].removesuffix("室") if match["room"] else None
    # rooms are numbered floor-then-door (0101 = floor 1, door 01; 1203 = floor 12, door 03)
    floor = int(room[:-2]) if room and len(room) >= 3 and room[:-2].isdigit() else None
    return StandardAddress(
        match["province"], match["city"], match["district"], match["street"], match["number"],
        match["building"], match["unit"], floor, room,
    )  # fmt: skip
