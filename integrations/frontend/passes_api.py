"""The visitor-pass endpoints the browser apps use: ``/api/shouwang/panel/passes``.

Home Assistant's generic ``POST /api/services/visitor_pass/create`` refuses residents (their
service calls must target their own entities, and a pass targets none), so the household panel
issues, lists and revokes passes here. Every call goes through the ``visitor_pass.*``
services with the user in the context; a resident's calls carry ``caller_household`` — one of
*their* households, checked here against the account — so the service scopes them (a resident
can only issue, see and revoke their own household's passes). Staff, guards, admins and
service accounts are unscoped, as through the services.

* ``GET`` — the passes (a resident: their households'), newest first; ``?status=valid``…
* ``POST`` — ``visitor_pass.create``'s fields (without doors/places: the pedestrian gates and
  the places the household lies in, e.g. its unit entrance); answers the pass with
  ``token``, ``link`` and ``qr_svg`` (an SVG data URL) — 201;
* ``DELETE …/{pass_id}`` — revoke.

Errors are Home Assistant's ``{"message": …}``: 400 for bad fields (the service's message
names the field), 403 for another household, 404 for an unknown pass.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

import orjson
from aiohttp import web

from shouwang.core.events import Context
from shouwang.core.services import ServiceError, ServiceValidationError
from shouwang.integrations.auth.policy import Access, User

if TYPE_CHECKING:
    from shouwang.core.hub import Hub
    from shouwang.integrations.http import HttpServer

BASE: Final = "/api/shouwang/panel/passes"
DOMAIN: Final = "visitor_pass"
MAX_BODY: Final = 64 * 1024
#: the places every visitor passes on the way in when the pass names none
ROUTE_KINDS: Final = frozenset({"pedestrian_gate"})


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _message(text: str, status: int) -> web.Response:
    return _json({"message": text}, status)


class PassesApi:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def _call(self, service: str, data: Mapping[str, Any], user: User) -> Any:
        return await self.hub.services.call(
            DOMAIN,
            service,
            dict(data),
            context=Context(user_id=user.id),
            blocking=True,
            return_response=True,
        )

    def _households(self, user: User) -> list[str] | None:
        """A resident's households (sorted); None for those who act for the community."""
        return sorted(user.households) if user.is_resident else None

    def _route(self, household: str) -> list[str]:
        """The default way in for a visitor: the community's pedestrian gates, then the places
        the household lies in (its unit entrance, building), without the home itself."""
        places = self.hub.places
        gates = sorted(p.place_id for p in places.all() if p.kind in ROUTE_KINDS)
        chain: list[str] = []
        place = places.get(household)
        while place is not None and place.parent_id is not None and place.parent_id not in chain:
            chain.append(place.parent_id)
            place = places.get(place.parent_id)
        return gates + chain

    async def list(self, request: web.Request) -> web.StreamResponse:
        user: User = request["user"]
        status = request.query.getall("status", [])
        base: dict[str, Any] = {"status": status} if status else {}
        households = self._households(user)
        passes: list[dict[str, Any]] = []
        if households is None:
            response = await self._call("list", base, user)
            passes = list(response["passes"])
        else:
            for household in households:
                data = {**base, "household": household, "caller_household": household}
                response = await self._call("list", data, user)
                passes.extend(response["passes"])
        passes.sort(key=lambda item: str(item.get("created_at") or ""), reverse=True)
        return _json({"passes": passes})

    async def create(self, request: web.Request) -> web.StreamResponse:
        user: User = request["user"]
        if request.content_length is not None and request.content_length > MAX_BODY:
            return _message("Request body too large.", 413)
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return _message("Data should be valid JSON.", 400)
        if not isinstance(body, dict):
            return _message("Data should be a JSON object.", 400)
        body.pop("caller_household", None)
        body.pop("created_by", None)
        households = self._households(user)
        if households is not None:
            household = body.get("host_household") or (households[0] if households else None)
            if household not in households:
                return _message(
                    "host_household: a resident may only create passes for their own household",
                    403,
                )
            body["host_household"] = household
            body["caller_household"] = household
        if not any(body.get(key) for key in ("doors", "places", "door_groups")):
            body["places"] = self._route(str(body.get("host_household") or ""))
        body["created_by"] = f"user:{user.name}"
        try:
            response = await self._call("create", body, user)
        except ServiceValidationError as err:
            return _message(str(err), 400)
        except ServiceError as err:
            from shouwang.integrations.visitor_pass.services import NotAllowed

            return _message(str(err), 403 if isinstance(err, NotAllowed) else 400)
        return _json(response, 201)

    async def revoke(self, request: web.Request) -> web.StreamResponse:
        user: User = request["user"]
        pass_id = request.match_info["pass_id"]
        book = self.hub.integrations.runtime(DOMAIN)
        record = book.get(pass_id)
        households = self._households(user)
        if record is None or (households is not None and record.host_household not in households):
            # another household's pass is "not found": its existence is not the caller's business
            return _message("No such visitor pass.", 404)
        data: dict[str, Any] = {"pass_id": pass_id, "revoked_by": f"user:{user.name}"}
        if households is not None:
            data["caller_household"] = record.host_household
        try:
            response = await self._call("revoke", data, user)
        except ServiceError as err:
            return _message(str(err), 400)
        return _json(response)


def register(hub: Hub, server: HttpServer) -> None:
    """Add the pass endpoints (only when visitor passes are set up)."""
    api = PassesApi(hub)
    handlers: list[tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]] = [
        ("GET", BASE, api.list),
        ("POST", BASE, api.create),
        ("DELETE", BASE + "/{pass_id}", api.revoke),
    ]
    for method, path, handler in handlers:
        server.add_route(method, path, handler, access=Access.USER)
