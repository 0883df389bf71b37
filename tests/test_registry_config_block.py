"""``people:`` and ``vehicles:`` in configuration.yaml are folded into the registry."""

from __future__ import annotations

from pathlib import Path

from shouwang.core.clock import ManualClock
from shouwang.core.config import load_config_dir
from shouwang.core.hub import Hub
from shouwang.core.loader import check_integration_config
from shouwang.integrations.registry import Registry

CONFIG = """\
people:
  - {id: zhang_san, name: 张三, face: zhang_san, categories: [resident, elderly_living_alone]}
  - id: li_si
    name: 李四
    face: li_si
    type: 租户
    lease_end: 2026-01-31
vehicles:
  - {plate: 沪A12345, list: resident}
  - {plate: 京b·66666, list: blocked}
"""


async def test_people_and_vehicles_blocks_fill_the_registry(
    tmp_path: Path, clock: ManualClock
) -> None:
    (tmp_path / "configuration.yaml").write_text(CONFIG, encoding="utf-8")
    hub = Hub(tmp_path, clock=clock)
    await hub.start()
    try:
        assert hub.integrations.failed == {}
        registry = hub.integrations.runtime("registry")
        assert isinstance(registry, Registry)
        zhang = registry.person_by_face("zhang_san")
        assert zhang is not None and zhang.name == "张三" and zhang.type == "resident"
        assert registry.people_with_tag("elderly_living_alone") == [zhang]
        assert "独居老人" in zhang.tags  # stored under the spreadsheet's word
        li = registry.person_by_face("li_si")
        assert li is not None and li.type == "tenant" and str(li.lease_end) == "2026-01-31"
        blocked = registry.vehicle_by_plate("京B66666")
        assert blocked is not None and blocked.list_type == "blocked"
        assert registry.vehicle_by_plate("沪A12345") is not None
    finally:
        await hub.stop(timeout=1)
    # the registry is the record: a restart without the block still knows them
    (tmp_path / "configuration.yaml").write_text("registry:\n", encoding="utf-8")
    hub = Hub(tmp_path, clock=clock)
    await hub.start()
    try:
        assert hub.integrations.runtime("registry").person_by_face("zhang_san") is not None
    finally:
        await hub.stop(timeout=1)


BAD = """\
people:
  - {id: ok_one, name: 好人}
  - id: bad_one
    name: 坏
    type: astronaut
vehicles:
  - {plate: NOT-A-PLATE, list: resident}
"""


async def test_bad_entries_name_file_line_and_field_and_apply_nothing(
    tmp_path: Path, clock: ManualClock
) -> None:
    (tmp_path / "configuration.yaml").write_text(BAD, encoding="utf-8")
    errors = [str(e) for e in check_integration_config(load_config_dir(tmp_path))]
    config = tmp_path / "configuration.yaml"
    assert any(f"{config}:3: [people] type: unknown value 'astronaut'" in e for e in errors), errors
    assert any(f"{config}:7: [vehicles] plate: not a valid plate" in e for e in errors), errors
    hub = Hub(tmp_path, clock=clock)
    await hub.start()
    try:
        assert set(hub.integrations.failed) == {"people", "vehicles"}
        assert "astronaut" in hub.integrations.failed["people"]
        registry = hub.integrations.runtime("registry")
        assert registry.people == {}  # the valid first entry was not applied either
        assert hub.states.get("persistent_notification.integration_failed_people") is not None
    finally:
        await hub.stop(timeout=1)


def test_block_must_be_a_list(tmp_path: Path) -> None:
    (tmp_path / "configuration.yaml").write_text("people:\n  zhang: 1\n", encoding="utf-8")
    errors = [str(e) for e in check_integration_config(load_config_dir(tmp_path))]
    assert any("expected a list" in e and "configuration.yaml:1:" in e for e in errors), errors
