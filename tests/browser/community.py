"""A small community for the browser tests (no tests here): a hub with the real ``http``,
``auth``, ``api``, ``frontend``, ``registry``, ``intercom`` and ``visitor_pass`` integrations on
a free port, the shared site plan (``/work/shared``-style places CSV with coordinates) and two
households imported through the registry, simulated doors, a gate camera, a siren and an alarm
panel, a door station ringing the households, automations, and one account per role.

The hub runs on a manual clock set to 23:30 in Shanghai, so "a stranger at night" is night.
"""

from __future__ import annotations

import importlib.util
import io
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import aiohttp

from shouwang.core.clock import ManualClock
from shouwang.core.events import Context
from shouwang.core.hub import Hub
from shouwang.core.platforms import (
    AlarmControlPanelEntity,
    CameraEntity,
    LockEntity,
    SirenEntity,
)
from shouwang.integrations.auth import AuthManager, User
from shouwang.integrations.http import HttpServer
from shouwang.integrations.registry import open_registry
from shouwang.integrations.registry.transfer import import_file

#: 23:30 in Asia/Shanghai
NIGHT: Final = datetime(2026, 11, 28, 15, 30, tzinfo=UTC)
PASSWORD: Final = "correct-horse-42"
RESIDENT_HOUSEHOLD: Final = "B01-U1-0101"
OTHER_HOUSEHOLD: Final = "B01-U1-0102"
SHARED_PLACES: Final = Path("/work/shared/data/community/places.csv")
#: visitor passes are another part of the hub; their browser tests need it installed
HAS_VISITOR_PASS: Final = importlib.util.find_spec("shouwang.integrations.visitor_pass") is not None

# The site plan of the shared community data (subset used when the shared file is absent).
PLACES_CSV: Final = """\
地点编号,名称,类型,上级,x,y
P-GATE-N,北门,人行出入口,,120,20
P-GATE-S,南门,人行出入口,,120,780
P-CARPARK,地下车库,停车场,,60,420
P-GUARD,保安室,值班室,,150,40
P-SQUARE,中心广场,公共区域,,400,400
P-FENCE-1,周界1号防区,周界防区,,0,0
B01,1号楼,楼栋,,200,120
B01-U1,1号楼1单元,单元门,B01,200,180
B01-U2,1号楼2单元,单元门,B01,240,180
B02,2号楼,楼栋,,320,120
B02-U1,2号楼1单元,单元门,B02,320,180
"""
HOUSEHOLDS_CSV: Final = """\
户号,楼栋,单元,楼层,房号,标准地址,房屋性质,面积
B01-U1-0101,1号楼,1单元,1,0101,上海市黄浦区示例路88弄1号1单元0101室,自住,120
B01-U1-0102,1号楼,1单元,1,0102,上海市黄浦区示例路88弄1号1单元0102室,出租,68
"""

CONFIGURATION: Final = """\
shouwang:
  name: 守望示例小区
  time_zone: Asia/Shanghai
  latitude: 31.23
  longitude: 121.47
auth:
http:
  server_host: 127.0.0.1
  server_port: 0
api:
frontend:
registry:
intercom:
  stations:
    b01_u1_door: {name: 1号楼1单元门口机, kind: door, place: B01-U1, protocol: console,
                  door_lock: lock.b01_u1_entrance, serves: [B01-U1]}
    b01_u1_0101: {name: 0101室内机, kind: indoor, household: B01-U1-0101,
                  place: B01-U1-0101, protocol: console}
    b01_u1_0102: {name: 0102室内机, kind: indoor, household: B01-U1-0102,
                  place: B01-U1-0102, protocol: console}
    guard_room: {name: 保安室, kind: guard, place: P-GUARD, protocol: console}
"""

AUTOMATIONS: Final = """\
- id: stranger_at_night
  alias: 夜间陌生人 → 保安室警号
  triggers:
    - trigger: event
      event_type: stranger_detected
  conditions:
    - condition: time
      after: "22:00:00"
      before: "05:00:00"
  actions:
    - action: siren.turn_on
      target:
        entity_id: siren.guard_room
- id: lock_gate_at_night
  alias: 深夜锁北门
  triggers:
    - trigger: time
      at: "23:45:00"
  actions:
    - action: lock.lock
      target:
        entity_id: lock.north_gate
"""


class Door(LockEntity):
    """A simulated door lock: does what it is told at once."""

    def __init__(self, name: str, place_id: str, entity_id: str) -> None:
        super().__init__(name, place_id=place_id, entity_id=entity_id)
        self.lock_state = "locked"

    async def lock(self, *, code: str | None = None, context: Context | None = None) -> None:
        self.lock_state = "locked"
        self.write_state(context)

    async def unlock(self, *, code: str | None = None, context: Context | None = None) -> None:
        self.lock_state = "unlocked"
        self.write_state(context)


class Siren(SirenEntity):
    def __init__(self, name: str, place_id: str, entity_id: str) -> None:
        super().__init__(name, place_id=place_id, entity_id=entity_id)
        self.is_on = False

    async def turn_on(self, **_options: Any) -> None:
        self.is_on = True
        self.write_state(_options.get("context"))

    async def turn_off(self, *, context: Context | None = None) -> None:
        self.is_on = False
        self.write_state(context)


class AlarmPanel(AlarmControlPanelEntity):
    def __init__(self, name: str, place_id: str, entity_id: str) -> None:
        super().__init__(name, place_id=place_id, entity_id=entity_id)
        self.alarm_state = "disarmed"

    async def arm(
        self, mode: str, *, code: str | None = None, context: Context | None = None
    ) -> None:
        self.alarm_state = mode
        self.write_state(context)

    async def disarm(self, *, code: str | None = None, context: Context | None = None) -> None:
        self.alarm_state = "disarmed"
        self.write_state(context)


def picture(caption: str) -> bytes:
    """A JPEG 'snapshot' (drawn, so the screenshots show a real image)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 180), (30, 41, 59))
    draw = ImageDraw.Draw(image)
    draw.rectangle((120, 40, 200, 170), fill=(100, 116, 139))
    draw.ellipse((140, 10, 180, 50), fill=(148, 163, 184))
    draw.text((8, 8), caption, fill=(250, 204, 21))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


class GateCamera(CameraEntity):
    def __init__(self, name: str, place_id: str, entity_id: str, caption: str) -> None:
        super().__init__(name, place_id=place_id, entity_id=entity_id)
        self._image = picture(caption)

    async def camera_image(self) -> bytes | None:
        return self._image


@dataclass
class Community:
    hub: Hub
    clock: ManualClock
    url: str
    auth: AuthManager
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def post(self, path: str, role: str, body: Any) -> Any:
        """A REST call as one of the accounts (the real API, as any client would)."""
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url + path, json=body, headers=self.headers(role)) as response,
        ):
            assert response.status < 300, (response.status, await response.text())
            return await response.json()


def _import_registry(config_dir: Path) -> None:
    storage, protector = open_registry(config_dir)
    try:
        places = config_dir / "places.csv"
        if SHARED_PLACES.is_file():
            places.write_bytes(SHARED_PLACES.read_bytes())
        else:
            places.write_text(PLACES_CSV, encoding="utf-8")
        households = config_dir / "households.csv"
        households.write_text(HOUSEHOLDS_CSV, encoding="utf-8")
        import_file(storage, protector, places)
        import_file(storage, protector, households)
    finally:
        storage.close()


#: the accounts that sign in through the browser (argon2 hashing costs about a second each)
LOGIN_ROLES: Final = ("staff", "guard", "resident")


async def start_community(
    config_dir: Path,
    *,
    passwords: bool = True,
    clock: ManualClock | None = None,
    extra_config: str = "",
    frontend_path: Path | None = None,
) -> Community:
    """The running community; ``passwords``: give the login roles a password (browser tests),
    else every account has only its long-lived token. ``extra_config`` adds integration
    blocks; with a ``frigate:`` block, Frigate's own ``camera.north_gate`` replaces the
    simulated one. ``frontend_path``: serve that copy of ``frontend/``."""
    configuration = CONFIGURATION + ("visitor_pass:\n" if HAS_VISITOR_PASS else "") + extra_config
    if frontend_path is not None:
        configuration = configuration.replace(
            "frontend:\n", f"frontend:\n  path: {frontend_path}\n"
        )
    (config_dir / "configuration.yaml").write_text(configuration, encoding="utf-8")
    automations = config_dir / "automations"
    automations.mkdir(exist_ok=True)
    (automations / "main.yaml").write_text(textwrap.dedent(AUTOMATIONS), encoding="utf-8")
    _import_registry(config_dir)
    clock = clock or ManualClock(NIGHT)
    hub = Hub(config_dir, clock=clock)
    await hub.start()
    wanted = ["http", "auth", "api", "frontend", "registry", "intercom"]
    assert not hub.integrations.failed, hub.integrations.failed
    for domain in [*wanted, *(["visitor_pass"] if HAS_VISITOR_PASS else [])]:
        assert domain in hub.integrations.loaded, (domain, hub.integrations.failed)
    http = hub.integrations.runtime("http")
    auth = hub.integrations.runtime("auth")
    assert isinstance(http, HttpServer) and isinstance(auth, AuthManager)
    community = Community(hub, clock, http.url, auth)
    for role in ("admin", "staff", "guard", "resident"):
        households = (RESIDENT_HOUSEHOLD,) if role == "resident" else ()
        password = PASSWORD if passwords and role in LOGIN_ROLES else None
        user = await auth.create_user(f"{role}1", role, households, password)
        token, _record = await auth.create_long_lived_token(user.id, "browser tests")
        community.users[role] = user
        community.tokens[role] = token
    gate_camera = (
        []
        if "frigate:" in extra_config
        else [GateCamera("北门 摄像机", "P-GATE-N", "camera.north_gate", "NORTH GATE 23:30")]
    )
    await hub.entities.add(
        [
            *gate_camera,
            Door("0101 入户门", RESIDENT_HOUSEHOLD, "lock.door_0101"),
            Door("0102 入户门", OTHER_HOUSEHOLD, "lock.door_0102"),
            Door("1号楼1单元 单元门", "B01-U1", "lock.b01_u1_entrance"),
            Door("北门 门禁", "P-GATE-N", "lock.north_gate"),
            GateCamera("1号楼1单元 门口机摄像头", "B01-U1", "camera.b01_u1_door", "B01-U1 DOOR"),
            Siren("保安室 警号", "P-GUARD", "siren.guard_room"),
            AlarmPanel("0101 报警主机", RESIDENT_HOUSEHOLD, "alarm_control_panel.home_0101"),
            AlarmPanel("0102 报警主机", OTHER_HOUSEHOLD, "alarm_control_panel.home_0102"),
        ],
        integration="tests",
    )
    return community
