"""The authorisation route walk: every route any loaded integration put on the HTTP server has
an Access declaration, and every identity the policy does not admit is refused (401/403) on
every non-PUBLIC route — in its plain form and in path-normalisation variants (``%2e%2e``,
``//``, encoded slashes), which are refused before routing. The unauthenticated surface
(PUBLIC routes and every refusal) carries no personal data from the registry.

The hub here loads every integration that serves HTTP (those depending on ``http``, directly
or after it, and the ones they build on), so routes added later are walked automatically.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from yarl import URL

from shouwang.core.cli import main
from shouwang.core.clock import ManualClock
from shouwang.core.events import Event
from shouwang.core.hub import Hub
from shouwang.core.loader import Integration, discover
from shouwang.integrations.auth.policy import Access, User, allowed

from .test_http_support import auth_of, server_of, token_for

PLACES = """\
地点编号,名称,类型,上级,x,y
P-GATE-N,北门,人行出入口,,120,20
B01,1号楼,楼栋,,200,120
B01-U1,1号楼1单元,单元门,B01,200,180
"""
HOUSEHOLDS = """\
户号,楼栋,单元,楼层,房号,标准地址,房屋性质,面积
B01-U1-0101,1号楼,1单元,1,0101,上海市黄浦区示例路88弄1号1单元0101室,出租,68
B01-U1-0102,1号楼,1单元,1,0102,上海市黄浦区示例路88弄1号1单元0102室,自住,120
"""
PEOPLE = """\
人员编号,姓名,性别,出生日期,身份证号,手机号,户号,人员类型,租约到期,人脸库名,门禁卡号,标签
R00001,闫英,男,1986-10-20,310104198610202954,19954699758,B01-U1-0101,租户,2027-06-13,r00001,AD8E9029,
R00002,侯秀明,男,1980-03-04,310104198003046996,19942922913,B01-U1-0101,租户,2027-06-13,r00002,4AA053E9,
R00003,韩刚,女,1994-01-11,310104199401112623,13963166173,B01-U1-0102,业主,,r00003,C7176341,
"""
VEHICLES = """\
车牌号,车辆颜色,户号,名单类型,有效期至,车位
沪AD67204,蓝,B01-U1-0101,业主车辆,,B1-1224
"""
#: what must never appear in an unauthenticated answer or a refusal
PERSONAL = [
    "闫英", "侯秀明", "韩刚", "310104198610202954", "19954699758", "9758", "2954",
    "沪AD67204", "AD67204", "AD8E9029", "r00001", "R00001", "示例路88弄", "resident-wang",
]  # fmt: skip
#: sample values for path parameters, tried in order until the route's pattern matches
PARAM_SAMPLES = ["lock.h1_door", "x", "1", "2026-11-28T00:00:00+00:00", "index.html"]
ROLES = {
    "admin": (),
    "staff": (),
    "guard": (),
    "service": (),
    "resident": ("B01-U1-0101",),
}


def http_integrations() -> dict[str, Integration]:
    """Every available integration that serves HTTP, plus what it is set up after."""
    available, _problems = discover()
    serving: set[str] = {"http"}
    changed = True
    while changed:
        changed = False
        for domain, integration in available.items():
            manifest = integration.manifest
            if domain not in serving and (
                set(manifest.dependencies) & serving or "http" in manifest.after_dependencies
            ):
                serving.add(domain)
                changed = True
    extra = {
        after
        for domain in serving
        for after in available[domain].manifest.after_dependencies
        if after in available
    }
    return {domain: available[domain] for domain in serving | extra}


@pytest.fixture
async def walk_hub(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Hub]:
    for kind, text in (
        ("places", PLACES),
        ("households", HOUSEHOLDS),
        ("people", PEOPLE),
        ("vehicles", VEHICLES),
    ):
        (tmp_path / f"{kind}.csv").write_text(text, encoding="utf-8")
        assert main(["registry", "import", str(tmp_path / f"{kind}.csv"), "-c", str(tmp_path)]) == 0
    blocks = "".join(f"{domain}:\n" for domain in sorted(http_integrations()) if domain != "http")
    (tmp_path / "configuration.yaml").write_text(
        textwrap.dedent(
            """\
            shouwang:
              time_zone: Asia/Shanghai
            http:
              server_host: 127.0.0.1
              server_port: 0
            """
        )
        + blocks,
        encoding="utf-8",
    )
    hub = Hub(tmp_path, clock=clock)
    await hub.start()
    # personal data on the hub, so a leaking route would have something to leak
    hub.states.set("lock.h1_door", "locked", {"friendly_name": "闫英 家门"})
    hub.places.bind("lock.h1_door", "B01-U1-0101")
    yield hub
    await hub.stop(timeout=1)


def _concrete_path(route: Any) -> str:
    """A path that ``route`` matches, built from its pattern with sample parameter values."""
    info = route.resource.get_info()
    if "path" in info:
        return str(info["path"])
    formatter: str = info["formatter"]
    pattern: re.Pattern[str] = info["pattern"]
    names = re.findall(r"{(\w+)}", formatter)
    for sample in PARAM_SAMPLES:
        path = formatter.format(**dict.fromkeys(names, sample))
        if pattern.fullmatch(path):
            return path
    raise AssertionError(f"add a PARAM_SAMPLES value matching {pattern.pattern}")


def _variants(path: str) -> list[str]:
    """The same target reached through path normalisation tricks."""
    parts = path.split("/")
    last = "/".join(parts[:-1]) + "%2F" + parts[-1] if len(parts) > 2 else path + "%2F"
    return [
        "/x/.." + path,
        "/x/%2e%2e" + path,
        "/x/.%2E" + path,
        "/" + path,
        path.replace("/", "//", 2) if path.count("/") > 1 else path + "//x",
        last,
        "/x/%2e%2e%2f.." + path,
        "/%2e" + path,
    ]


async def _users(hub: Hub) -> dict[str, tuple[User | None, dict[str, str]]]:
    identities: dict[str, tuple[User | None, dict[str, str]]] = {"anonymous": (None, {})}
    for role, households in ROLES.items():
        user = await auth_of(hub).create_user(f"{role}-wang", role, households, "a good password")
        identities[role] = (user, {"Authorization": f"Bearer {await token_for(hub, user)}"})
    return identities


def _assert_no_personal_data(body: bytes, where: str) -> None:
    text = body.decode("utf-8", "replace")
    leaked = [marker for marker in PERSONAL if marker in text]
    assert not leaked, f"{where} leaks {leaked}"


async def test_every_route_declared_and_refused_to_whom_policy_denies(walk_hub: Hub) -> None:
    hub = walk_hub
    expected = {
        domain for domain, i in http_integrations().items() if "http" in i.manifest.dependencies
    }
    not_loaded = {
        domain: hub.integrations.failed.get(domain)
        for domain in expected - set(hub.integrations.loaded)
    }
    assert not not_loaded, (
        f"HTTP integrations that did not load, so their routes go unwalked: {not_loaded}"
    )
    server = server_of(hub)
    routes = list(server.app.router.routes())
    undeclared = [
        f"{r.method} {r.resource.canonical if r.resource else '?'}"
        for r in routes
        if server.access_of(r) is None
    ]
    assert not undeclared, f"routes without an Access declaration: {undeclared}"
    identities = await _users(hub)
    checked = refused = variants = 0
    async with aiohttp.ClientSession() as session:
        for route in routes:
            access = server.access_of(route)
            assert access is not None
            path = _concrete_path(route)
            for name, (user, headers) in identities.items():
                if allowed(user, access):
                    continue
                async with session.request(
                    route.method, URL(server.url + path, encoded=True), headers=headers
                ) as resp:
                    body = await resp.read()
                    want = 401 if user is None else 403
                    assert resp.status == want, (
                        f"{route.method} {path} ({access}) as {name}: {resp.status}"
                    )
                    _assert_no_personal_data(body, f"{route.method} {path} refusal")
                refused += 1
            if access is not Access.PUBLIC:
                for variant in _variants(path):
                    for name in ("anonymous", "resident"):
                        async with session.request(
                            route.method,
                            URL(server.url + variant, encoded=True),
                            headers=identities[name][1],
                        ) as resp:
                            assert resp.status == 400, (
                                f"{route.method} {variant} as {name}: {resp.status}"
                            )
                            _assert_no_personal_data(await resp.read(), variant)
                        variants += 1
            checked += 1
    assert checked == len(routes) and refused > 0 and variants > 0
    # the walk saw the auth routes at least; with the API loaded, its routes too
    paths = {_concrete_path(r) for r in routes}
    assert {"/auth/token", "/api/auth/users"} <= paths
    if "api" in hub.integrations.loaded:
        assert "/api/states" in paths and "/api/websocket" in paths


async def test_unauthenticated_surface_has_no_personal_data(walk_hub: Hub) -> None:
    server = server_of(walk_hub)
    public_gets = [
        r
        for r in server.app.router.routes()
        if r.method == "GET" and server.access_of(r) is Access.PUBLIC
    ]
    assert public_gets
    async with aiohttp.ClientSession() as session:
        for route in public_gets:
            path = _concrete_path(route)
            for candidate in {path, path.replace("lock.h1_door", "index.html")}:
                async with session.get(
                    URL(server.url + candidate, encoded=True), allow_redirects=False
                ) as resp:
                    _assert_no_personal_data(await resp.read(), f"GET {candidate}")
                    _assert_no_personal_data(str(resp.headers).encode(), f"GET {candidate} headers")


async def test_resident_scope_with_the_registry(walk_hub: Hub) -> None:
    hub = walk_hub
    user = await auth_of(hub).create_user("r", "resident", ["B01-U1-0101"], "a good password")
    scope = auth_of(hub).scope_for(user)
    assert scope.can_read_entity("lock.h1_door")
    assert scope.can_read_event(
        Event("access_granted", {"person_id": "R00002", "entity_id": "lock.gate_north"}, None, 0.0)
    )
    assert not scope.can_read_event(Event("access_granted", {"person_id": "R00003"}, None, 0.0))
    assert not scope.can_read_event(Event("access_granted", {"person_id": "R99999"}, None, 0.0))
    other = await auth_of(hub).create_user("r2", "resident", ["B01-U1-0102"], "a good password")
    assert not auth_of(hub).scope_for(other).can_read_entity("lock.h1_door")
