"""Shouwang's own endpoints beside Home Assistant's: the automation editor (list, read,
validate with line numbers, save with a backup, reload), traces, and the registry, each with
its access level and a resident confined to their own household."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from shouwang.core.clock import ManualClock
from shouwang.integrations.registry import open_registry
from shouwang.integrations.registry.transfer import import_file

from .test_api_support import ApiHub, start_api_hub

MAIN = """\
- id: gate_alarm
  alias: Gate forced
  triggers:
    - trigger: event
      event_type: door_forced
  actions:
    - action: lock.lock
      target: {entity_id: lock.gate_north}
"""

REGISTRY_CSV = {
    "households.csv": """\
户号,楼栋,单元,楼层,房号,标准地址,房屋性质,面积
B01-U1-0101,1号楼,1单元,1,0101,示例路88弄1号1单元0101室,出租,68
B01-U1-0102,1号楼,1单元,1,0102,示例路88弄1号1单元0102室,自住,120
""",
    "people.csv": """\
人员编号,姓名,性别,出生日期,身份证号,手机号,户号,人员类型,租约到期,人脸库名,门禁卡号,标签
R00001,闫英,男,1986-10-20,310104198610202954,19954699758,B01-U1-0101,租户,2027-06-13,r00001,AD8E9029,
R00002,侯秀明,男,1980-03-04,310104198003046996,19942922913,B01-U1-0101,租户,2027-06-13,r00002,4AA053E9,
R00003,韩刚,女,1994-01-11,310104199401112623,13963166173,B01-U1-0102,业主,,r00003,C7176341,
""",
    "vehicles.csv": """\
车牌号,车辆颜色,户号,名单类型,有效期至,车位
沪AD67204,蓝,B01-U1-0101,业主车辆,,B1-1224
皖AF14681,灰,B01-U1-0102,业主车辆,,B1-0907
""",
}


@pytest.fixture
async def api(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ApiHub]:
    storage, protector = open_registry(tmp_path)
    try:
        for name, text in REGISTRY_CSV.items():
            path = tmp_path / name
            path.write_text(text, encoding="utf-8")
            result = import_file(storage, protector, path, progress=None)
            assert result.applied, result.errors
    finally:
        storage.close()
    api_hub = await start_api_hub(
        tmp_path,
        clock,
        automations=MAIN,
        configuration="registry:\n",
        resident_households=("B01-U1-0101",),
    )
    yield api_hub
    await api_hub.hub.stop(timeout=1)


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    client: aiohttp.ClientSession,
    api: ApiHub,
    method: str,
    path: str,
    role: str = "staff",
    **kwargs: Any,
) -> tuple[int, Any]:
    async with client.request(
        method, api.url + path, headers=api.headers(role), **kwargs
    ) as response:
        body = await response.read()
        return response.status, orjson.loads(body) if body[:1] in (b"{", b"[") else body


# -- the automation editor ---------------------------------------------------------------------
async def test_list_and_read(api: ApiHub, client: aiohttp.ClientSession) -> None:
    status, listing = await call(client, api, "GET", "/api/shouwang/automations", "guard")
    assert status == 200
    assert listing["files"] == [{"path": "main.yaml", "size": len(MAIN.encode())}]
    assert listing["automations"] == [
        {
            "entity_id": "automation.gate_alarm",
            "id": "gate_alarm",
            "alias": "Gate forced",
            "file": "automations/main.yaml",
            "line": 1,
            "state": "on",
        }
    ]
    assert listing["errors"] == []
    status, file = await call(
        client, api, "GET", "/api/shouwang/automations/file", "guard", params={"path": "main.yaml"}
    )
    assert (status, file) == (200, {"path": "main.yaml", "content": MAIN})
    status, _ = await call(client, api, "GET", "/api/shouwang/automations", "resident")
    assert status == 403


@pytest.mark.parametrize(
    "bad",
    ["../configuration.yaml", "/etc/passwd", "main.txt", "sub/../../x.yaml", ".hidden.yaml", ""],
)
async def test_paths_stay_inside_the_folder(
    api: ApiHub, client: aiohttp.ClientSession, bad: str
) -> None:
    status, error = await call(
        client, api, "GET", "/api/shouwang/automations/file", params={"path": bad}
    )
    assert status == 400 and "path" in error["message"]
    status, _ = await call(
        client, api, "PUT", "/api/shouwang/automations/file", "admin",
        params={"path": bad}, json={"content": MAIN},
    )  # fmt: skip
    assert status == 400


async def test_encoded_traversal_and_symlinks_refused(
    api: ApiHub, client: aiohttp.ClientSession, tmp_path: Path
) -> None:
    status, _ = await call(
        client, api, "GET", "/api/shouwang/automations/file?path=%2e%2e%2fconfiguration.yaml"
    )
    assert status == 400
    (tmp_path / "automations" / "escape.yaml").symlink_to(tmp_path / "configuration.yaml")
    status, error = await call(
        client, api, "GET", "/api/shouwang/automations/file", params={"path": "escape.yaml"}
    )
    assert status == 400 and "leads out" in error["message"]
    status, _ = await call(
        client, api, "GET", "/api/shouwang/automations/file", params={"path": "missing.yaml"}
    )
    assert status == 404


async def test_validate_reports_lines(api: ApiHub, client: aiohttp.ClientSession) -> None:
    draft = MAIN + textwrap.dedent("""\
        - id: broken
          triggers:
            - trigger: nonsense
          actions:
            - action: lock.lock
              target: {entity_id: lock.gate_north}
        - id: bad_template
          triggers:
            - trigger: event
              event_type: x
          actions:
            - action: notify.guard
              data:
                message: "{{ oops "
        """)
    status, result = await call(
        client, api, "POST", "/api/shouwang/automations/validate",
        json={"path": "main.yaml", "content": draft},
    )  # fmt: skip
    assert status == 200 and result["valid"] is False
    lines = {(error["file"], error["line"]) for error in result["errors"]}
    assert ("automations/main.yaml", 11) in lines  # the unknown trigger
    assert ("automations/main.yaml", 22) in lines  # the template's own line
    assert any("nonsense" in error["message"] for error in result["errors"])

    status, result = await call(
        client, api, "POST", "/api/shouwang/automations/validate",
        json={"path": "main.yaml", "content": "- id: x\n  triggers: [\n"},
    )  # fmt: skip
    assert result["valid"] is False and result["errors"][0]["line"] is not None

    # the same id in another file is a duplicate
    status, result = await call(
        client, api, "POST", "/api/shouwang/automations/validate",
        json={"path": "other.yaml", "content": MAIN},
    )  # fmt: skip
    assert result["valid"] is False and "duplicate" in result["errors"][0]["message"]
    status, result = await call(
        client, api, "POST", "/api/shouwang/automations/validate",
        json={"path": "main.yaml", "content": MAIN},
    )  # fmt: skip
    assert result == {"valid": True, "errors": []}
    status, _ = await call(
        client, api, "POST", "/api/shouwang/automations/validate", "guard",
        json={"content": MAIN},
    )  # fmt: skip
    assert status == 403
    status, error = await call(
        client, api, "POST", "/api/shouwang/automations/validate", json={"content": 5}
    )
    assert status == 400 and "content" in error["message"]


async def test_save_keeps_backup_and_reloads(
    api: ApiHub, client: aiohttp.ClientSession, tmp_path: Path
) -> None:
    main = tmp_path / "automations" / "main.yaml"
    broken = MAIN.replace("event_type: door_forced", "event_type: [")
    status, result = await call(
        client, api, "PUT", "/api/shouwang/automations/file",
        params={"path": "main.yaml"}, json={"content": broken},
    )  # fmt: skip
    assert status == 400 and result["errors"]
    assert main.read_text(encoding="utf-8") == MAIN  # nothing written

    new = MAIN.replace("gate_alarm", "gate_alarm_v2")
    status, result = await call(
        client, api, "PUT", "/api/shouwang/automations/file",
        params={"path": "main.yaml"}, json={"content": new},
    )  # fmt: skip
    assert status == 200, result
    assert result["path"] == "main.yaml" and result["reloaded"] is True and not result["errors"]
    assert main.read_text(encoding="utf-8") == new
    backup = tmp_path / result["backup"]
    assert backup.read_text(encoding="utf-8") == MAIN
    assert result["backup"].startswith(".storage/automation_backups/main.20261128T220000Z")
    assert "automation.gate_alarm_v2" in api.hub.states
    assert "automation.gate_alarm" not in api.hub.states

    # a second save in the same (hub) second keeps both backups
    status, second = await call(
        client, api, "PUT", "/api/shouwang/automations/file",
        params={"path": "main.yaml"}, json={"content": MAIN, "reload": False},
    )  # fmt: skip
    assert status == 200 and second["backup"] != result["backup"]
    assert second["reloaded"] is False
    assert (tmp_path / second["backup"]).read_text(encoding="utf-8") == new

    # a new file has no previous version
    status, third = await call(
        client, api, "PUT", "/api/shouwang/automations/file",
        params={"path": "extra/night.yaml"}, json={"content": MAIN.replace("gate_alarm", "night")},
    )  # fmt: skip
    assert status == 200 and third["backup"] is None
    status, _ = await call(
        client, api, "PUT", "/api/shouwang/automations/file", "guard",
        params={"path": "main.yaml"}, json={"content": MAIN},
    )  # fmt: skip
    assert status == 403


async def test_reload_endpoint(api: ApiHub, client: aiohttp.ClientSession, tmp_path: Path) -> None:
    (tmp_path / "automations" / "more.yaml").write_text(
        MAIN.replace("gate_alarm", "more"), encoding="utf-8"
    )
    status, result = await call(client, api, "POST", "/api/shouwang/automations/reload")
    assert (status, result) == (200, {"reloaded": True, "automations": 2, "errors": []})
    (tmp_path / "automations" / "more.yaml").write_text("- id: [\n", encoding="utf-8")
    status, result = await call(client, api, "POST", "/api/shouwang/automations/reload")
    assert status == 200 and result["reloaded"] is False
    assert result["errors"][0]["file"] == "automations/more.yaml"
    assert "automation.more" in api.hub.states  # the running set was kept


# -- traces --------------------------------------------------------------------------------------
async def test_traces_endpoints(api: ApiHub, client: aiohttp.ClientSession) -> None:
    api.hub.bus.fire("door_forced", {})
    await api.hub.block_till_done()
    status, summaries = await call(client, api, "GET", "/api/shouwang/traces", "guard")
    assert status == 200 and [s["item_id"] for s in summaries] == ["gate_alarm"]
    run_id = summaries[0]["run_id"]
    status, same = await call(client, api, "GET", "/api/shouwang/traces/gate_alarm", "guard")
    assert same == summaries
    status, trace = await call(
        client, api, "GET", f"/api/shouwang/traces/gate_alarm/{run_id}", "guard"
    )
    assert status == 200 and trace["run_id"] == run_id and trace["steps"]
    status, _ = await call(client, api, "GET", "/api/shouwang/traces/gate_alarm/nope", "guard")
    assert status == 404
    status, _ = await call(client, api, "GET", "/api/shouwang/traces", "resident")
    assert status == 403


# -- the registry --------------------------------------------------------------------------------
async def test_registry_scoped(api: ApiHub, client: aiohttp.ClientSession) -> None:
    status, households = await call(
        client, api, "GET", "/api/shouwang/registry/households", "guard"
    )
    assert status == 200
    assert [h["household_id"] for h in households] == ["B01-U1-0101", "B01-U1-0102"]
    status, mine = await call(client, api, "GET", "/api/shouwang/registry/households", "resident")
    assert [h["household_id"] for h in mine] == ["B01-U1-0101"]

    status, people = await call(client, api, "GET", "/api/shouwang/registry/people", "resident")
    assert sorted(p["person_id"] for p in people) == ["R00001", "R00002"]
    text = orjson.dumps(people).decode()
    assert "19954699758" not in text and "310104198610202954" not in text  # masked only
    status, everyone = await call(client, api, "GET", "/api/shouwang/registry/people", "guard")
    assert len(everyone) == 3
    # birth dates are for those who keep the registry
    assert all("birth_date" not in person for person in everyone + people)
    status, staff_view = await call(client, api, "GET", "/api/shouwang/registry/people", "staff")
    assert {p["person_id"]: p["birth_date"] for p in staff_view}["R00001"] == "1986-10-20"

    status, vehicles = await call(client, api, "GET", "/api/shouwang/registry/vehicles", "resident")
    assert [v["plate"] for v in vehicles] == ["沪AD67204"]

    status, household = await call(
        client, api, "GET", "/api/shouwang/registry/households/B01-U1-0101", "resident"
    )
    assert status == 200
    assert [m["person_id"] for m in household["members"]] == ["R00001", "R00002"]
    assert [v["plate"] for v in household["vehicles"]] == ["沪AD67204"]
    status, _ = await call(
        client, api, "GET", "/api/shouwang/registry/households/B01-U1-0102", "resident"
    )
    assert status == 404  # the neighbours' household is not theirs to see
    status, places = await call(client, api, "GET", "/api/shouwang/registry/places", "resident")
    assert status == 200
    assert {p["place_id"] for p in places} == {"B01-U1-0101"}


async def test_registry_not_set_up(tmp_path: Path, clock: ManualClock) -> None:
    api = await start_api_hub(tmp_path, clock)
    try:
        async with aiohttp.ClientSession() as client:
            status, error = await call(client, api, "GET", "/api/shouwang/registry/people", "guard")
        assert status == 404 and error == {"message": "The registry is not set up on this hub."}
    finally:
        await api.hub.stop(timeout=1)


async def test_backups_are_bounded(
    api: ApiHub, client: aiohttp.ClientSession, tmp_path: Path, clock: ManualClock
) -> None:
    from shouwang.integrations.api.editor import MAX_BACKUPS

    for number in range(MAX_BACKUPS + 5):
        if number % 2:
            await clock.advance(1)  # some saves share a second
        content = MAIN.replace("Gate forced", f"Gate forced v{number}")
        status, _ = await call(
            client, api, "PUT", "/api/shouwang/automations/file",
            params={"path": "main.yaml"}, json={"content": content, "reload": False},
        )  # fmt: skip
        assert status == 200
    backups = sorted((tmp_path / ".storage" / "automation_backups").iterdir())
    assert len(backups) == MAX_BACKUPS
    kept = {path.read_text(encoding="utf-8") for path in backups}
    # the newest backup holds the version before the last save; the oldest ones are gone
    assert MAIN.replace("Gate forced", f"Gate forced v{MAX_BACKUPS + 3}") in kept
    assert MAIN not in kept
