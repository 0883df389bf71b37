"""``integrations/api/openapi.yaml`` describes exactly the REST routes the ``api`` integration
registers on the HTTP server, each with the access level the server enforces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from shouwang.core.clock import ManualClock
from shouwang.integrations import api as api_package
from shouwang.integrations.api import ApiRuntime
from shouwang.integrations.http import HttpServer

from .test_api_support import start_api_hub

OPENAPI = Path(api_package.__file__).parent / "openapi.yaml"
METHODS = {"get", "post", "put", "delete", "patch"}


def documented() -> dict[tuple[str, str], Any]:
    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    assert spec["openapi"].startswith("3.")
    return {
        (method.upper(), path): operation
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


async def test_openapi_lists_every_route_with_its_access(
    tmp_path: Path, clock: ManualClock
) -> None:
    api = await start_api_hub(tmp_path, clock)
    try:
        runtime = api.hub.integrations.runtime("api")
        http = api.hub.integrations.runtime("http")
        assert isinstance(runtime, ApiRuntime) and isinstance(http, HttpServer)
        registered = {(route.method, route.path): route.access for route in runtime.routes}
        registered[("GET", "/api/websocket")] = api_package.Access.PUBLIC
        # what the api integration says it registered is what the server enforces
        on_server = {(method, path): access for method, path, access in http.routes()}
        for key, access in registered.items():
            assert on_server.get(key) == access, key
        spec = documented()
        assert set(spec) == set(registered)
        for key, access in registered.items():
            assert spec[key]["x-shouwang-access"] == access.value, key
            assert spec[key]["summary"], key
    finally:
        await api.hub.stop(timeout=1)


def test_openapi_references_resolve() -> None:
    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    text = OPENAPI.read_text(encoding="utf-8")
    for ref in {part.split('"')[0] for part in text.split('$ref: "')[1:]}:
        node: Any = spec
        for key in ref.removeprefix("#/").split("/"):
            assert key in node, ref
            node = node[key]


async def test_openapi_served(tmp_path: Path, clock: ManualClock) -> None:
    import aiohttp

    api = await start_api_hub(tmp_path, clock)
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                api.url + "/api/shouwang/openapi.yaml", headers=api.headers("resident")
            ) as response,
        ):
            assert response.status == 200
            assert response.content_type == "application/yaml"
            assert yaml.safe_load(await response.text())["paths"]["/api/states"]
    finally:
        await api.hub.stop(timeout=1)
