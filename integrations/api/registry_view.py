"""Read-only registry endpoints (``/api/shouwang/registry/…``): places, households, people and
vehicles. Whoever reads everything (staff, guards, service accounts) sees the whole community;
a resident sees only their own households, their members and vehicles. Personal data is only
ever in the masked form the registry keeps (ID and phone numbers masked), and birth dates only
to staff and admins."""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web

from shouwang.integrations.auth.policy import Access, Scope, User, allowed
from shouwang.integrations.registry import Registry

from .base import Api, ApiError, Route, scope_of, user_of
from .jsonutil import json_response
from .rest import ApiHandler, handler


def _registry(api: Api) -> Registry:
    loaded = api.hub.integrations.loaded.get("registry")
    runtime = loaded.runtime if loaded is not None else None
    if not isinstance(runtime, Registry):
        raise ApiError("not_found", "The registry is not set up on this hub.")
    return runtime


def _visible_households(user: User, scope: Scope, registry: Registry) -> set[str] | None:
    """None: all of them."""
    if allowed(user, Access.READ_ALL):
        return None
    return {household for household in scope.household_ids if household in registry.households}


def _plain(item: Any) -> dict[str, Any]:
    return dataclasses.asdict(item)


#: fields of a person only those who edit the registry (staff, admins) are shown
STAFF_ONLY_FIELDS = ("birth_date",)


def _person(user: User, person: Any) -> dict[str, Any]:
    data = _plain(person)
    if not allowed(user, Access.CONFIG):
        for name in STAFF_ONLY_FIELDS:
            data.pop(name, None)
    return data


async def places(api: Api, request: web.Request) -> web.StreamResponse:
    """The hub's places (the registry's, with its households as places under their unit)."""
    registry = _registry(api)
    mine = _visible_households(user_of(request), scope_of(request), registry)
    scope = scope_of(request)
    return json_response(
        [
            _plain(place)
            for place in sorted(api.hub.places.all(), key=lambda place: place.place_id)
            if mine is None or scope.households_of_place(place.place_id) & mine
        ]
    )


async def households(api: Api, request: web.Request) -> web.StreamResponse:
    registry = _registry(api)
    mine = _visible_households(user_of(request), scope_of(request), registry)
    return json_response(
        [
            _plain(household)
            for household_id, household in sorted(registry.households.items())
            if mine is None or household_id in mine
        ]
    )


async def household(api: Api, request: web.Request) -> web.StreamResponse:
    registry = _registry(api)
    household_id = request.match_info["household_id"]
    mine = _visible_households(user_of(request), scope_of(request), registry)
    found = registry.households.get(household_id)
    if found is None or (mine is not None and household_id not in mine):
        raise ApiError("not_found", "Household not found.")
    return json_response(
        {
            **_plain(found),
            "members": [
                _person(user_of(request), person)
                for person in registry.household_members(household_id)
            ],
            "vehicles": [
                _plain(vehicle)
                for plate, vehicle in sorted(registry.vehicles.items())
                if vehicle.household_id == household_id
            ],
        }
    )


async def people(api: Api, request: web.Request) -> web.StreamResponse:
    registry = _registry(api)
    mine = _visible_households(user_of(request), scope_of(request), registry)
    user = user_of(request)
    return json_response(
        [
            _person(user, person)
            for person_id, person in sorted(registry.people.items())
            if mine is None or person.household_id in mine
        ]
    )


async def vehicles(api: Api, request: web.Request) -> web.StreamResponse:
    registry = _registry(api)
    mine = _visible_households(user_of(request), scope_of(request), registry)
    return json_response(
        [
            _plain(vehicle)
            for plate, vehicle in sorted(registry.vehicles.items())
            if mine is None or vehicle.household_id in mine
        ]
    )


def routes(api: Api) -> list[Route]:
    def route(path: str, func: ApiHandler) -> Route:
        return Route("GET", f"/api/shouwang/registry/{path}", handler(api, func), Access.USER)

    return [
        route("places", places),
        route("households", households),
        route("households/{household_id}", household),
        route("people", people),
        route("vehicles", vehicles),
    ]
