"""Integration loader: built-in folders, entry points, dependency order, cycles, isolation."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from shouwang.core.clock import ManualClock
from shouwang.core.hub import Hub
from shouwang.core.loader import (
    Integration,
    Manifest,
    check_integration_config,
    discover,
    missing_requirements,
    resolve_order,
)

SETUP_OK = """
import voluptuous as vol
ORDER = []
CONFIG_SCHEMA = vol.Schema({vol.Optional("greeting", default="hi"): str})

class Runtime:
    def __init__(self, config):
        self.config = config

async def setup(hub, config):
    import {pkg} as me
    me.ORDER.append("{domain}")
    hub.states.set("sensor.{domain}_loaded", "yes")
    return Runtime(config)
"""


def write_integration(
    root: Path,
    domain: str,
    *,
    deps: tuple[str, ...] = (),
    after: tuple[str, ...] = (),
    code: str | None = None,
    requirements: tuple[str, ...] = (),
) -> None:
    folder = root / domain
    folder.mkdir(parents=True)
    manifest = {
        "domain": domain,
        "name": domain.title(),
        "version": "1.0.0",
        "dependencies": list(deps),
        "after_dependencies": list(after),
        "requirements": list(requirements),
        "iot_class": "local_push",
        "codeowners": ["@shouwang"],
        "documentation": "https://example.invalid",
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    pkg = f"{root.name}.{domain}"
    body = code if code is not None else SETUP_OK.replace("{pkg}", pkg).replace("{domain}", domain)
    (folder / "__init__.py").write_text(textwrap.dedent(body))


@pytest.fixture
def package(tmp_path: Path) -> Iterator[Path]:
    """An importable package of integrations standing in for shouwang.integrations."""
    name = f"fake_integrations_{abs(hash(tmp_path)) % 10**8}"
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    sys.path.insert(0, str(tmp_path))
    yield root
    sys.path.remove(str(tmp_path))
    for module in [m for m in sys.modules if m.startswith(name)]:
        del sys.modules[module]


async def make_hub(package: Path, clock: ManualClock) -> Hub:
    hub = Hub(clock=clock)
    hub.integrations.builtin_package = package.name
    return hub


def test_discover_reads_manifests_and_reports_bad_ones(package: Path) -> None:
    write_integration(package, "alpha")
    (package / "broken").mkdir()
    (package / "broken" / "__init__.py").write_text("")
    (package / "broken" / "manifest.json").write_text("{not json")
    (package / "nomanifest").mkdir()
    (package / "nomanifest" / "__init__.py").write_text("")
    found, problems = discover(package.name)
    assert set(found) == {"alpha"}
    assert found["alpha"].manifest.codeowners == ("@shouwang",)
    assert any("broken" in p and "cannot read manifest" in p for p in problems)
    assert any("nomanifest" in p and "missing manifest.json" in p for p in problems)


def test_builtin_integrations_have_valid_manifests() -> None:
    found, problems = discover()
    assert problems == []
    assert "demo" in found


def test_entry_point_integrations_are_found(tmp_path: Path) -> None:
    site = tmp_path / "site"
    pkg = site / "shouwang_patrol"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("async def setup(hub, config):\n    return 'patrol'\n")
    (pkg / "manifest.json").write_text(json.dumps({"domain": "patrol", "name": "Guard patrol"}))
    dist = site / "shouwang_patrol-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: shouwang-patrol\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[shouwang.integrations]\npatrol = shouwang_patrol\n")
    sys.path.insert(0, str(site))
    try:
        found, problems = discover()
    finally:
        sys.path.remove(str(site))
    assert problems == []
    assert found["patrol"].source == "entry point patrol = shouwang_patrol"
    assert found["patrol"].module_name == "shouwang_patrol"


def manifest(domain: str, deps: tuple[str, ...] = (), after: tuple[str, ...] = ()) -> Integration:
    return Integration(
        Manifest.parse(
            {
                "domain": domain,
                "name": domain,
                "dependencies": list(deps),
                "after_dependencies": list(after),
            },
            "test",
        ),
        f"x.{domain}",
        "test",
    )


def test_resolve_order_levels_missing_and_cycles() -> None:
    available = {
        i.domain: i
        for i in [
            manifest("mqtt"),
            manifest("frigate", ("mqtt",)),
            manifest("access", after=("frigate",)),
            manifest("a", ("b",)),
            manifest("b", ("c",)),
            manifest("c", ("a",)),
            manifest("d", ("a",)),
            manifest("needs_ghost", ("ghost",)),
        ]
    }
    levels, errors = resolve_order(["frigate", "access", "d", "needs_ghost", "unknown"], available)
    assert levels == [["mqtt"], ["frigate"], ["access"]]
    assert errors["unknown"] == "integration 'unknown' not found"
    assert "ghost" in errors["needs_ghost"]
    assert errors["a"].startswith("dependency cycle: a -> b -> c -> a")
    assert "dependency" in errors["d"]
    # after_dependencies only order, they do not pull the other in
    levels, errors = resolve_order(["access"], available)
    assert levels == [["access"]] and errors == {}


async def test_setup_in_dependency_order_with_runtime_objects(
    package: Path, clock: ManualClock
) -> None:
    write_integration(package, "mqtt")
    write_integration(package, "frigate", deps=("mqtt",))
    hub = await make_hub(package, clock)
    await hub.integrations.setup_many({"frigate": {"greeting": "你好"}})
    order = sys.modules[f"{package.name}.mqtt"].ORDER  # type: ignore[attr-defined]
    frigate_order = sys.modules[f"{package.name}.frigate"].ORDER  # type: ignore[attr-defined]
    assert order == ["mqtt"] and frigate_order == ["frigate"]
    assert hub.integrations.runtime("frigate").config == {"greeting": "你好"}
    assert hub.integrations.runtime("mqtt").config == {"greeting": "hi"}
    assert hub.states.get("sensor.frigate_loaded") is not None


async def test_failures_are_isolated_and_visible(package: Path, clock: ManualClock) -> None:
    write_integration(package, "good")
    write_integration(
        package, "raises", code="async def setup(hub, config):\n    raise OSError('port busy')\n"
    )
    write_integration(package, "dependent", deps=("raises",))
    write_integration(
        package, "returns_false", code="async def setup(hub, config):\n    return False\n"
    )
    write_integration(package, "bad_import", code="import not_a_module_anywhere\n")
    write_integration(package, "no_setup", code="X = 1\n")
    write_integration(package, "needs_pkg", requirements=("surely-not-installed-pkg>=1",))
    write_integration(
        package,
        "hangs",
        code="import asyncio\nasync def setup(hub, config):\n    await asyncio.Event().wait()\n",
    )
    hub = await make_hub(package, clock)
    hub.integrations.setup_timeout = 0.05
    await hub.integrations.setup_many(
        dict.fromkeys(
            ["good", "dependent", "returns_false", "bad_import", "no_setup", "needs_pkg", "hangs"]
        )
    )
    failed = hub.integrations.failed
    assert set(hub.integrations.loaded) == {"good"}
    assert "OSError: port busy" in failed["raises"]
    assert "raises" in failed["dependent"]
    assert failed["returns_false"] == "setup returned False"
    assert "not_a_module_anywhere" in failed["bad_import"]
    assert "no async setup" in failed["no_setup"]
    assert "surely-not-installed-pkg" in failed["needs_pkg"]
    assert "within" in failed["hangs"]
    note = hub.states.get("persistent_notification.integration_failed_raises")
    assert note is not None and "port busy" in note.attributes["message"]


async def test_config_blocks_validated_with_file_and_line(
    package: Path, tmp_path: Path, clock: ManualClock
) -> None:
    write_integration(package, "alpha")
    write_integration(
        package,
        "beta",
        code="import voluptuous as vol\nCONFIG_SCHEMA = vol.Schema({'api_key': str})\n"
        "async def setup(hub, config):\n    return True\n",
    )
    config_dir = tmp_path / "cfg"
    config_dir.mkdir()
    (config_dir / "configuration.yaml").write_text(
        "shouwang:\n  name: test\nalpha:\n  greeting: 5\n  colour: red\nghost:\n"
        "beta:\n  api_key: 7\n"
    )
    hub = Hub(config_dir, clock=clock)
    hub.integrations.builtin_package = package.name
    await hub.start()
    assert "alpha" in hub.integrations.failed
    errors = [str(e) for e in hub.loaded_config.errors]  # type: ignore[union-attr]
    assert any(
        "configuration.yaml:5: [alpha] alpha.colour: unknown key 'colour'" in e for e in errors
    ), errors
    assert any(
        "configuration.yaml:6: [ghost] integration 'ghost' not found" in e for e in errors
    ), errors
    beta = [e for e in errors if "[beta]" in e]
    assert beta and beta[0].endswith("beta.api_key: expected str"), beta  # value not shown
    assert hub.states.get("persistent_notification.invalid_config") is not None
    await hub.stop()
    loaded = hub.loaded_config
    assert loaded is not None
    check = [str(e) for e in check_integration_config(loaded, package.name)]
    assert any("alpha.colour" in e for e in check)


def test_missing_requirements() -> None:
    assert missing_requirements(["voluptuous>=0.1", "pyyaml", "nope-nope-nope[x]>=2"]) == [
        "nope-nope-nope[x]>=2"
    ]
