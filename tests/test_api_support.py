"""Helpers for the API tests (no tests here): a hub with the real ``http``, ``auth`` and ``api``
integrations listening on a free port, a small community of two households with simulated
doors and a camera, and one user (with a long-lived token) per role."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shouwang.core.clock import ManualClock
from shouwang.core.entity import DeviceInfo
from shouwang.core.events import Context
from shouwang.core.hub import Hub
from shouwang.core.places import Place
from shouwang.core.platforms import CameraEntity, LockEntity
from shouwang.core.services import SupportsResponse
from shouwang.integrations.auth import AuthManager, User
from shouwang.integrations.http import HttpServer

ROLES = ("admin", "staff", "guard", "resident", "service")
JPEG = b"\xff\xd8\xff\xe0simulated-jpeg\xff\xd9"


class Door(LockEntity):
    """A simulated door lock: does what it is told at once."""

    def __init__(self, name: str, place_id: str | None) -> None:
        super().__init__(
            name,
            place_id=place_id,
            device_info=DeviceInfo(
                frozenset({("tests", name)}), name=name, manufacturer="Shouwang tests"
            ),
        )
        self.lock_state = "locked"

    async def lock(self, *, code: str | None = None, context: Context | None = None) -> None:
        self.lock_state = "locked"
        self.write_state(context)

    async def unlock(self, *, code: str | None = None, context: Context | None = None) -> None:
        self.lock_state = "unlocked"
        self.write_state(context)


class DoorCamera(CameraEntity):
    """A simulated door-station camera with a fixed still image."""

    async def camera_image(self) -> bytes | None:
        return JPEG


@dataclass
class ApiHub:
    hub: Hub
    url: str
    auth: AuthManager
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    token_ids: dict[str, str] = field(default_factory=dict)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/api/websocket"

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


CONFIGURATION = """\
shouwang:
  time_zone: Asia/Shanghai
auth:
http:
  server_host: 127.0.0.1
  server_port: 0
api:
"""


async def start_api_hub(
    tmp_path: Path,
    clock: ManualClock,
    *,
    automations: str = "",
    configuration: str = "",
    resident_households: tuple[str, ...] = ("h101",),
) -> ApiHub:
    (tmp_path / "configuration.yaml").write_text(
        CONFIGURATION + textwrap.dedent(configuration), encoding="utf-8"
    )
    if automations:
        folder = tmp_path / "automations"
        folder.mkdir(exist_ok=True)
        (folder / "main.yaml").write_text(textwrap.dedent(automations), encoding="utf-8")
    hub = Hub(tmp_path, clock=clock)
    await hub.start()
    http = hub.integrations.runtime("http")
    auth = hub.integrations.runtime("auth")
    assert isinstance(http, HttpServer) and isinstance(auth, AuthManager)
    assert "api" in hub.integrations.loaded, hub.integrations.failed
    api_hub = ApiHub(hub, http.url, auth)
    for role in ROLES:
        households = resident_households if role == "resident" else ()
        user = await auth.create_user(f"{role}-user", role, households)
        token, record = await auth.create_long_lived_token(user.id, "tests")
        api_hub.users[role] = user
        api_hub.tokens[role] = token
        api_hub.token_ids[role] = record.id
    await add_community(hub)
    return api_hub


async def add_community(hub: Hub) -> None:
    """Two households in one unit; each has a door; a shared gate; a camera in 101."""
    hub.places.add(Place("b1u1", "1号楼1单元", "unit_entrance"))
    hub.places.add(Place("h101", "101室", "household", "b1u1"))
    hub.places.add(Place("h102", "102室", "household", "b1u1"))
    hub.places.add(Place("gate_north", "北门", "pedestrian_gate"))
    await hub.entities.add(
        [
            Door("Door 101", "h101"),
            Door("Door 102", "h102"),
            Door("Gate north", "gate_north"),
            DoorCamera("Camera 101", place_id="h101"),
        ],
        integration="tests",
    )

    def echo(call: Any) -> dict[str, Any]:
        return {"echo": call.data}

    hub.services.register("tests", "echo", echo, supports_response=SupportsResponse.OPTIONAL)
