"""The demo's generated community imports cleanly and has what the simulated day needs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from shouwang.integrations.demo import community
from shouwang.integrations.registry import open_registry, read_snapshot


def test_generated_community_imports_and_has_the_scenario_people(tmp_path: Path) -> None:
    today = date(2026, 11, 28)
    who = community.write_community(tmp_path / "csv", today)
    assert (tmp_path / "csv" / "people.csv").read_text("utf-8").startswith("人员编号,姓名")
    assert community.import_community(tmp_path / "config", tmp_path / "csv") == []
    storage, _ = open_registry(tmp_path / "config")
    snapshot = read_snapshot(storage)
    storage.close()
    assert len(snapshot.households) == 2 * 2 * 12 * 4
    assert 300 <= len(snapshot.people) <= 700  # "a few hundred residents"
    resident = snapshot.people[who.resident]
    assert resident.face_name == who.resident_face and resident.card_number == who.resident_card
    assert resident.household_id == who.resident_household
    assert "独居老人" in snapshot.people[who.elderly].tags
    tenant = snapshot.people[who.expired_tenant]
    assert tenant.type == "tenant" and tenant.lease_end is not None and tenant.lease_end < today
    assert "保安" in snapshot.people[who.guard].tags
    assert snapshot.vehicles[community.BLOCKED_PLATE].list_type == "blocked"
    assert snapshot.vehicles[community.VISITOR_PLATE].list_type == "visitor"
    kinds = {place.place_id: place.kind for place in snapshot.places}
    assert kinds[community.MAIN_GATE] == "pedestrian_gate"
    assert kinds[community.GUARD_ROOM] == "guard_room"
    assert snapshot.organisations["ORG-PM"].members == ((who.guard, "保安"),)


def test_generation_is_deterministic(tmp_path: Path) -> None:
    one = community.write_community(tmp_path / "a", date(2026, 11, 28))
    two = community.write_community(tmp_path / "b", date(2026, 11, 28))
    assert one == two
    for kind in community.KINDS_IN_ORDER:
        assert (tmp_path / "a" / f"{kind}.csv").read_bytes() == (
            tmp_path / "b" / f"{kind}.csv"
        ).read_bytes()
