"""Standard addresses split into district, street, number, building, unit, floor and room."""

from __future__ import annotations

import pytest

from shouwang.integrations.registry.address import parse_address


def test_property_office_address_splits_into_its_parts() -> None:
    address = parse_address("上海市黄浦区示例路88弄10号1单元0101室")
    assert address is not None
    assert (address.city, address.district, address.street) == ("上海市", "黄浦区", "示例路")
    assert (address.number, address.building, address.unit) == ("88弄", "10号", "1单元")
    assert (address.floor, address.room) == (1, "0101")
    assert str(address) == "上海市黄浦区示例路88弄10号1单元0101室"


@pytest.mark.parametrize(
    ("text", "district", "street", "building", "floor", "room"),
    [
        ("江苏省苏州市姑苏区人民路100号3栋2单元1203室", "姑苏区", "人民路", "3栋", 12, "1203"),
        ("北京市朝阳区建国路88号", "朝阳区", "建国路", None, None, None),
        ("浦东新区世纪大道1号", "浦东新区", "世纪大道", None, None, None),
    ],
)
def test_other_shapes(
    text: str, district: str, street: str, building: str | None, floor: int | None, room: str | None
) -> None:
    address = parse_address(text)
    assert address is not None
    assert (address.district, address.street, address.building, address.floor, address.room) == (
        district, street, building, floor, room,
    )  # fmt: skip


@pytest.mark.parametrize("text", ["", "hello", "1号楼"])
def test_not_an_address(text: str) -> None:
    assert parse_address(text) is None


def test_household_standard_address_prefers_its_own_columns() -> None:
    from shouwang.integrations.registry import Household

    household = Household(
        "B10-U1-0101",
        "10号楼",
        "1单元",
        1,
        "0101",
        "上海市黄浦区示例路88弄10号1单元0101室",
        "owner",
        None,
    )
    address = household.standard_address
    assert (address.district, address.street, address.number) == ("黄浦区", "示例路", "88弄")
    assert (address.building, address.unit, address.floor, address.room) == (
        "10号楼",
        "1单元",
        1,
        "0101",
    )
    bare = Household("H1", "1号楼", "2单元", 3, "0302", None, "owner", None)
    assert bare.standard_address.district is None and bare.standard_address.unit == "2单元"
