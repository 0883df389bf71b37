"""The shared storage and the registry on a real PostgreSQL server (and SQLite beside it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select

from shouwang.core.storage import Storage
from shouwang.integrations.registry import open_registry, read_snapshot
from shouwang.integrations.registry.transfer import import_file

from .community_data import DATA, needs_data


def test_storage_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    storage = Storage.open(tmp_path, postgres_url)
    assert storage.dialect == "postgresql"
    metadata = MetaData()
    table = Table(
        "t_items", metadata, Column("id", Integer, primary_key=True), Column("name", String(16))
    )
    storage.create_tables(metadata)
    storage.create_tables(metadata)  # idempotent
    with storage.transaction() as conn:
        conn.execute(insert(table), [{"id": 1, "name": "门禁"}])
    with pytest.raises(Exception, match="duplicate key"), storage.transaction() as conn:
        conn.execute(insert(table), [{"id": 2, "name": "b"}])
        conn.execute(insert(table), [{"id": 1, "name": "again"}])
    with storage.transaction() as conn:
        assert conn.execute(select(table.c.name)).scalars().all() == ["门禁"]  # rolled back
    storage.close()


@needs_data
def test_registry_import_and_export_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    storage, protector = open_registry(tmp_path, postgres_url)
    try:
        for kind in ("places", "households", "people", "vehicles"):
            result = import_file(storage, protector, DATA / f"{kind}.csv", kind)
            assert result.applied, result.errors[:3]
        again = import_file(storage, protector, DATA / "vehicles.csv", "vehicles")
        assert again.applied  # upsert: importing twice changes nothing
        snapshot = read_snapshot(storage)
        assert len(snapshot.households) == 2000
        assert len(snapshot.people) > 5000
        assert snapshot.vehicles
        bad = tmp_path / "bad.csv"
        bad.write_text("plate,list_type\n沪A00001,resident\n,resident\n", encoding="utf-8")
        result = import_file(storage, protector, bad, "vehicles")
        assert not result.applied
        assert any("bad.csv:3" in error for error in result.errors)
        assert "沪A00001" not in read_snapshot(storage).vehicles  # nothing applied
    finally:
        storage.close()
