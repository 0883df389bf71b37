"""Automation traces for clients: Home Assistant's ``trace/list``/``trace/get`` shapes (each
summary names its ``domain`` and ``item_id``), read from the automation integration's store.
Scripts have no traces of their own yet: their lists are empty."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from shouwang.integrations.auth.policy import Access
from shouwang.integrations.automation import AutomationRuntime

from .base import Api, ApiError, Route
from .jsonutil import json_response
from .rest import handler

if TYPE_CHECKING:
    from shouwang.core.hub import Hub


def _runtime(hub: Hub) -> AutomationRuntime | None:
    loaded = hub.integrations.loaded.get("automation")
    runtime = loaded.runtime if loaded is not None else None
    return runtime if isinstance(runtime, AutomationRuntime) else None


def _with_ids(domain: str, summary: dict[str, Any]) -> dict[str, Any]:
    return {
        "domain": domain,
        "item_id": summary.get("automation_id"),
        **summary,
        "timestamp": {"start": summary.get("start"), "finish": summary.get("finish")},
    }


def summaries(hub: Hub, domain: str, item_id: str | None = None) -> list[dict[str, Any]]:
    runtime = _runtime(hub)
    if domain != "automation" or runtime is None:
        return []
    return [_with_ids(domain, item) for item in runtime.traces.list(item_id)]


def get(hub: Hub, domain: str, item_id: str, run_id: str) -> dict[str, Any] | None:
    runtime = _runtime(hub)
    if domain != "automation" or runtime is None:
        return None
    trace = runtime.traces.get(item_id, run_id)
    return _with_ids(domain, trace) if trace is not None else None


# -- REST: /api/shouwang/traces ------------------------------------------------------------------
def routes(api: Api) -> list[Route]:
    async def list_all(api: Api, request: web.Request) -> web.StreamResponse:
        return json_response(summaries(api.hub, "automation", request.query.get("automation_id")))

    async def list_one(api: Api, request: web.Request) -> web.StreamResponse:
        return json_response(summaries(api.hub, "automation", request.match_info["item_id"]))

    async def get_one(api: Api, request: web.Request) -> web.StreamResponse:
        trace = get(
            api.hub, "automation", request.match_info["item_id"], request.match_info["run_id"]
        )
        if trace is None:
            raise ApiError("not_found", "The trace could not be found")
        return json_response(trace)

    base = "/api/shouwang/traces"
    return [
        Route("GET", base, handler(api, list_all), Access.READ_ALL),
        Route("GET", f"{base}/{{item_id}}", handler(api, list_one), Access.READ_ALL),
        Route("GET", f"{base}/{{item_id}}/{{run_id}}", handler(api, get_one), Access.READ_ALL),
    ]
