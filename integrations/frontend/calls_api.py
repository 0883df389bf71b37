"""A door-station call as the household being rung sees it:
``GET /api/shouwang/panel/calls/{call_id}`` (the call's ``intercom_call`` data plus the calling
station's name and place name) and ``GET /api/shouwang/panel/calls/{call_id}/snapshot``.

A door station stands at a shared place (a unit entrance, a gate), so its camera is not any
household's and ``/api/camera_proxy`` rightly refuses it to residents. While a station rings
a household, that household's residents may see who is at the door: this endpoint serves the
image of the call — the camera named by the call's ``snapshot_url`` when it is one of ours
(``/api/camera_proxy/<camera>``), else the camera standing at the calling station's place —
to users whose scope reads the call (staff, guards; a resident only for their household's
calls). Calls that have ended are served for as long as the intercom keeps them in memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import orjson
from aiohttp import web

from shouwang.core.platforms.camera import CameraEntity
from shouwang.core.services import ServiceError
from shouwang.integrations.auth.policy import Access, Scope, allowed

if TYPE_CHECKING:
    from shouwang.core.hub import Hub
    from shouwang.integrations.http import HttpServer

PATH: Final = "/api/shouwang/panel/calls/{call_id}"
PROXY_PREFIX: Final = "/api/camera_proxy/"


def _not_found() -> web.HTTPNotFound:
    return web.HTTPNotFound(
        text='{"message": "No snapshot for this call."}', content_type="application/json"
    )


class CallSnapshots:
    def __init__(self, hub: Hub, manager: Any) -> None:
        self.hub = hub
        self.manager = manager

    def _call(self, call_id: str) -> Any:
        call = self.manager.calls.get(call_id)
        if call is None:
            call = next((c for c in reversed(self.manager.recent) if c.call_id == call_id), None)
        return call

    def camera_of(self, call: Any) -> CameraEntity | None:
        """The camera that shows the call's caller (see the module doc)."""
        url = call.snapshot_url or ""
        if url.startswith(PROXY_PREFIX):
            entity = self.hub.entities.get(url.removeprefix(PROXY_PREFIX).split("?", 1)[0])
            return entity if isinstance(entity, CameraEntity) else None
        station = self.manager.stations.get(call.caller or "")
        place = station.config.place if station is not None else None
        if place is None:
            return None
        places = self.hub.places
        for entity_id in sorted(places.entities_in(place)):
            entity = self.hub.entities.get(entity_id)
            if isinstance(entity, CameraEntity) and places.place_of(entity_id) == place:
                return entity
        return None

    def _readable(self, request: web.Request) -> Any:
        scope: Scope = request["scope"]
        call = self._call(request.match_info["call_id"])
        # someone else's call is "not found", like another household's entity
        if call is None or not _reads(scope, call.event_data()):
            raise web.HTTPNotFound(
                text='{"message": "No such call."}', content_type="application/json"
            )
        return call

    async def details(self, request: web.Request) -> web.StreamResponse:
        call = self._readable(request)
        station = self.manager.stations.get(call.caller or "")
        place_id = station.config.place if station is not None else None
        place = self.hub.places.get(place_id) if place_id else None
        data = {
            **call.event_data(),
            "started": call.started.isoformat(),
            "caller_name": station.name if station is not None else None,
            "caller_place": place.name if place is not None else None,
        }
        return web.Response(body=orjson.dumps(data), content_type="application/json")

    async def snapshot(self, request: web.Request) -> web.StreamResponse:
        call = self._readable(request)
        camera = self.camera_of(call)
        if camera is None:
            raise _not_found()
        try:
            image = await camera.camera_image()
        except ServiceError:
            image = None
        if not image:
            raise _not_found()
        return web.Response(
            body=image, content_type="image/jpeg", headers={"Cache-Control": "no-store"}
        )


def _reads(scope: Scope, data: dict[str, Any]) -> bool:
    """Whether the user may see a call: everyone who reads the community, and residents for
    their own households' calls (the same rule as its ``intercom_call`` events)."""
    if scope.is_resident:
        return scope.is_about_own_household(data)
    return allowed(scope.user, Access.READ_ALL)


def register(hub: Hub, server: HttpServer) -> None:
    """Add the route (only when the intercom is set up)."""
    snapshots = CallSnapshots(hub, hub.integrations.runtime("intercom"))
    server.add_route("GET", PATH, snapshots.details, access=Access.USER)
    server.add_route("GET", PATH + "/snapshot", snapshots.snapshot, access=Access.USER)
