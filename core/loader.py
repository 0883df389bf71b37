"""Integration loader: finds integrations, orders them by dependency, sets them up in isolation.

Two sources, one contract. Built-ins are folders ``integrations/<domain>/`` with a
``manifest.json``; third-party packages declare an entry point in the group
``shouwang.integrations`` (``name = domain``, value = module), so ``pip install shouwang-foo``
adds ``foo`` with no copying. An integration module provides ``async def setup(hub, config)``
(whatever it returns is kept as its runtime object; ``False`` means it failed) and optionally
``CONFIG_SCHEMA`` for its block of ``configuration.yaml``.

Dependencies set up first, independent integrations in parallel; cycles are reported; one
failing integration (exception, timeout, missing requirement, failed dependency) leaves the
rest running and shows up in the log and as a ``persistent_notification`` entity.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.metadata
import importlib.util
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from . import notifications
from .config import ConfigError, LoadedConfig, validate_block

if TYPE_CHECKING:
    from .hub import Hub

_LOGGER = logging.getLogger(__name__)

ENTRY_POINT_GROUP: Final = "shouwang.integrations"
BUILTIN_PACKAGE: Final = "shouwang.integrations"
SETUP_TIMEOUT: Final = 60.0
#: set up for every hub with a config directory, configured or not
DEFAULT_INTEGRATIONS: Final = ("automation",)
_DOMAIN_RE: Final = re.compile(r"^[a-z][a-z0-9_]*$")

MANIFEST_SCHEMA: Final = vol.Schema(
    {
        vol.Required("domain"): vol.All(str, vol.Match(_DOMAIN_RE)),
        vol.Required("name"): str,
        vol.Optional("version", default="0.0.0"): str,
        vol.Optional("dependencies", default=list): [str],
        vol.Optional("after_dependencies", default=list): [str],
        vol.Optional("requirements", default=list): [str],
        vol.Optional("iot_class", default="local_push"): vol.In(
            ["local_push", "local_polling", "cloud_push", "cloud_polling", "calculated"]
        ),
        vol.Optional("codeowners", default=list): [str],
        vol.Optional("documentation", default=""): str,
        # trigger platforms the integration provides under their own names (``stranger``):
        # its package exports them as TRIGGER_PLATFORMS, see core/triggers
        vol.Optional("triggers", default=list): [vol.All(str, vol.Match(_DOMAIN_RE))],
    }
)


class IntegrationError(Exception):
    """An integration that cannot be found, read or set up; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Manifest:
    domain: str
    name: str
    version: str
    dependencies: tuple[str, ...]
    after_dependencies: tuple[str, ...]
    requirements: tuple[str, ...]
    iot_class: str
    codeowners: tuple[str, ...]
    documentation: str

    @classmethod
    def parse(cls, data: Any, source: str) -> Manifest:
        try:
            valid = MANIFEST_SCHEMA(data)
        except vol.Invalid as err:
            raise IntegrationError(f"{source}: invalid manifest: {err}") from None
        return cls(
            domain=valid["domain"],
            name=valid["name"],
            version=valid["version"],
            dependencies=tuple(valid["dependencies"]),
            after_dependencies=tuple(valid["after_dependencies"]),
            requirements=tuple(valid["requirements"]),
            iot_class=valid["iot_class"],
            codeowners=tuple(valid["codeowners"]),
            documentation=valid["documentation"],
        )


@dataclass(slots=True)
class Integration:
    """A known integration: its manifest and where its code is (imported on first use)."""

    manifest: Manifest
    module_name: str
    source: str
    _module: ModuleType | None = None

    @property
    def domain(self) -> str:
        return self.manifest.domain

    def module(self) -> ModuleType:
        if self._module is None:
            self._module = importlib.import_module(self.module_name)
        return self._module

    def config_schema(self) -> vol.Schema | None:
        schema = getattr(self.module(), "CONFIG_SCHEMA", None)
        return schema if schema is None or isinstance(schema, vol.Schema) else vol.Schema(schema)


@dataclass(slots=True)
class LoadedIntegration:
    integration: Integration
    runtime: Any = None


def _read_manifest(folder: Path, module_name: str, source: str) -> Integration:
    path = folder / "manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IntegrationError(f"{path}: missing manifest.json") from None
    except (OSError, ValueError) as err:
        raise IntegrationError(f"{path}: cannot read manifest: {err}") from None
    return Integration(Manifest.parse(data, str(path)), module_name, source)


def discover(
    builtin_package: str = BUILTIN_PACKAGE,
) -> tuple[dict[str, Integration], list[str]]:
    """Every integration available: built-in folders, then entry points (which may override a
    built-in, with a warning). Returns the integrations and the problems found."""
    found: dict[str, Integration] = {}
    problems: list[str] = []
    spec = importlib.util.find_spec(builtin_package)
    for location in (spec.submodule_search_locations or []) if spec else []:
        for folder in sorted(Path(location).iterdir()):
            if not (folder / "__init__.py").exists() or folder.name.startswith(("_", ".")):
                continue
            try:
                integration = _read_manifest(folder, f"{builtin_package}.{folder.name}", "built-in")
            except IntegrationError as err:
                problems.append(str(err))
                continue
            if integration.domain != folder.name:
                problems.append(f"{folder}: manifest domain {integration.domain!r} != folder name")
                continue
            found[integration.domain] = integration
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        source = f"entry point {entry.name} = {entry.value}"
        try:
            module_spec = importlib.util.find_spec(entry.module)
        except (ImportError, ValueError) as err:
            problems.append(f"{source}: {err}")
            continue
        if module_spec is None or not module_spec.submodule_search_locations:
            problems.append(f"{source}: module {entry.module} is not a package with a manifest")
            continue
        try:
            integration = _read_manifest(
                Path(next(iter(module_spec.submodule_search_locations))), entry.module, source
            )
        except IntegrationError as err:
            problems.append(str(err))
            continue
        if integration.domain != entry.name:
            problems.append(f"{source}: manifest domain {integration.domain!r} != {entry.name!r}")
            continue
        if integration.domain in found:
            _LOGGER.warning("%s overrides the built-in integration %s", source, entry.name)
        found[integration.domain] = integration
    return found, problems


def resolve_order(
    wanted: Iterable[str], available: Mapping[str, Integration]
) -> tuple[list[list[str]], dict[str, str]]:
    """Order ``wanted`` plus their dependencies into levels: each level depends only on earlier
    ones, so a level can be set up in parallel. Returns the levels and, per domain that cannot
    load, the reason (unknown, missing dependency, dependency cycle)."""
    errors: dict[str, str] = {}
    needed: dict[str, set[str]] = {}
    stack = list(dict.fromkeys(wanted))
    while stack:
        domain = stack.pop()
        if domain in needed or domain in errors:
            continue
        integration = available.get(domain)
        if integration is None:
            errors[domain] = f"integration {domain!r} not found"
            continue
        deps = set(integration.manifest.dependencies)
        needed[domain] = deps
        stack.extend(deps)
    wanted_set = set(needed)
    for domain, deps in needed.items():
        for after in available[domain].manifest.after_dependencies:
            if after in wanted_set:
                deps.add(after)
    # The default integrations (automations) use what the others register: trigger platforms
    # (``stranger``, ``mqtt`` …) and services. They come last, unless that would make a cycle.
    for domain in DEFAULT_INTEGRATIONS:
        if domain in needed:
            needed[domain] |= {
                other
                for other in needed
                if other != domain and domain not in _reaching(other, needed)
            }
    # A domain whose dependency failed to resolve fails too, transitively.
    changed = True
    while changed:
        changed = False
        for domain, deps in needed.items():
            if domain not in errors and (bad := sorted(d for d in deps if d in errors)):
                errors[domain] = f"dependency {bad[0]!r} cannot load: {errors[bad[0]]}"
                changed = True
    remaining = {d: set(deps) for d, deps in needed.items() if d not in errors}
    levels: list[list[str]] = []
    done: set[str] = set()
    while remaining:
        level = sorted(d for d, deps in remaining.items() if deps <= done)
        if not level:
            for domain in _cycle_members(remaining):
                cycle = " -> ".join(_find_cycle(domain, remaining))
                errors[domain] = f"dependency cycle: {cycle}"
            remaining = {d: deps for d, deps in remaining.items() if d not in errors}
            for domain, deps in list(remaining.items()):
                if deps & set(errors):
                    errors[domain] = f"dependency {sorted(deps & set(errors))[0]!r} cannot load"
                    del remaining[domain]
            continue
        levels.append(level)
        done.update(level)
        for domain in level:
            del remaining[domain]
    return levels, errors


def _reaching(start: str, graph: Mapping[str, set[str]]) -> set[str]:
    """Every domain ``start`` depends on, directly or not."""
    seen: set[str] = set()
    stack = list(graph.get(start, ()))
    while stack:
        domain = stack.pop()
        if domain not in seen:
            seen.add(domain)
            stack.extend(graph.get(domain, ()))
    return seen


def _cycle_members(graph: Mapping[str, set[str]]) -> set[str]:
    """Domains that sit on a dependency cycle."""
    members = set()
    for domain in graph:
        path = _find_cycle(domain, graph)
        if len(path) > 1 and path[-1] == domain:
            members.add(domain)
    return members or set(graph)


def _find_cycle(start: str, graph: Mapping[str, set[str]]) -> list[str]:
    path = [start]
    seen = {start}
    current = start
    while True:
        nexts = sorted(d for d in graph.get(current, ()) if d in graph)
        if not nexts:
            return path
        current = nexts[0]
        path.append(current)
        if current in seen:
            return path
        seen.add(current)


def missing_requirements(requirements: Iterable[str]) -> list[str]:
    """Requirements (PEP 508 strings) whose distribution is not installed. Only presence is
    checked, not versions; pip resolved versions when the package was installed."""
    missing = []
    for requirement in requirements:
        name = re.split(r"[\s<>=!~\[;@]", requirement.strip(), maxsplit=1)[0]
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(requirement)
    return missing


class IntegrationLoader:
    """The hub's integrations: what is available, loaded and failed, and their runtimes."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._available: dict[str, Integration] | None = None
        self.discovery_problems: list[str] = []
        self.loaded: dict[str, LoadedIntegration] = {}
        self.failed: dict[str, str] = {}
        self.setup_timeout = SETUP_TIMEOUT
        self.builtin_package = BUILTIN_PACKAGE

    def available(self) -> dict[str, Integration]:
        if self._available is None:
            self._available, self.discovery_problems = discover(self.builtin_package)
            for problem in self.discovery_problems:
                _LOGGER.error("Integration discovery: %s", problem)
        return self._available

    def add_available(self, integration: Integration) -> None:
        """Make an integration known without discovery (embedding, tests)."""
        self.available()[integration.domain] = integration

    def runtime(self, domain: str) -> Any:
        """What ``domain``'s setup returned; KeyError if it is not loaded."""
        return self.loaded[domain].runtime

    async def setup_configured(self, config: LoadedConfig) -> None:
        """Set up every integration named in ``config`` (and their dependencies), plus the
        ones every config directory gets (automations)."""
        defaults = [domain for domain in DEFAULT_INTEGRATIONS if domain in self.available()]
        await self.setup_many({**dict.fromkeys(defaults), **config.blocks}, config)

    async def setup_many(
        self, blocks: Mapping[str, Any], config: LoadedConfig | None = None
    ) -> None:
        """Set up ``blocks`` (domain -> raw settings) and their dependencies, level by level."""
        available = self.available()
        levels, errors = resolve_order([d for d in blocks if d not in self.loaded], available)
        for domain, reason in errors.items():
            self._fail(domain, reason, config)
        for level in levels:
            await asyncio.gather(
                *(self._setup_one(domain, blocks.get(domain), config) for domain in level)
            )

    async def _setup_one(self, domain: str, block: Any, config: LoadedConfig | None) -> None:
        if domain in self.loaded:
            return
        integration = self.available()[domain]
        failed_deps = [d for d in integration.manifest.dependencies if d not in self.loaded]
        if failed_deps:
            self._fail(domain, f"dependency {failed_deps[0]!r} failed to set up", config)
            return
        if missing := missing_requirements(integration.manifest.requirements):
            self._fail(domain, f"missing requirement {missing[0]} (pip install it)", config)
            return
        try:
            module = integration.module()
            schema = integration.config_schema()
        except Exception as err:
            _LOGGER.exception("Cannot import integration %s", domain)
            self._fail(domain, f"cannot import {integration.module_name}: {err}", config)
            return
        validated, errors = validate_block(config, domain, schema, block)
        if errors:
            if config is not None:
                config.errors.extend(errors)
            for error in errors:
                _LOGGER.error("Configuration: %s", error)
            self._fail(domain, "invalid configuration: " + "; ".join(map(str, errors)), None)
            return
        setup = getattr(module, "setup", None)
        if setup is None or not asyncio.iscoroutinefunction(setup):
            self._fail(domain, f"{integration.module_name} has no async setup(hub, config)", config)
            return
        try:
            async with asyncio.timeout(self.setup_timeout):
                runtime = await setup(self._hub, validated)
        except TimeoutError:
            self._fail(domain, f"setup did not finish within {self.setup_timeout:.0f} s", config)
            return
        except Exception as err:
            _LOGGER.exception("Setup of %s failed", domain)
            self._fail(domain, f"setup failed: {type(err).__name__}: {err}", config)
            return
        if runtime is False:
            self._fail(domain, "setup returned False", config)
            return
        self.loaded[domain] = LoadedIntegration(integration, runtime)
        self.failed.pop(domain, None)
        _LOGGER.info("Set up %s (%s)", domain, integration.source)

    def _fail(self, domain: str, reason: str, config: LoadedConfig | None) -> None:
        self.failed[domain] = reason
        if config is not None and reason.startswith("integration "):
            config.errors.append(config.error(domain, reason))
        _LOGGER.error("Integration %s not set up: %s", domain, reason)
        notifications.create(
            self._hub, f"integration_failed_{domain}", f"{domain} failed to set up", reason
        )


def check_integration_config(
    config: LoadedConfig, builtin_package: str = BUILTIN_PACKAGE
) -> list[ConfigError]:
    """Validate every block of ``config`` against its integration (used by ``check-config``)
    without setting anything up."""
    available, problems = discover(builtin_package)
    errors = [ConfigError(problem) for problem in problems]
    _levels, order_errors = resolve_order(config.blocks, available)
    for domain, reason in order_errors.items():
        errors.append(config.error(domain if domain in config.blocks else None, reason))
    defaults = [domain for domain in DEFAULT_INTEGRATIONS if domain in available]
    deep_checks = []
    for domain, block in {**dict.fromkeys(defaults), **config.blocks}.items():
        integration = available.get(domain)
        if integration is None:
            continue
        try:
            schema = integration.config_schema()
        except Exception as err:
            errors.append(config.error(domain, f"cannot import {integration.module_name}: {err}"))
            continue
        validated, block_errors = validate_block(config, domain, schema, block)
        errors.extend(block_errors)
        deep_check = getattr(integration.module(), "check_config", None)
        if not block_errors and deep_check is not None:
            deep_checks.append((deep_check, validated))
    # after every configured integration is imported (and has registered its trigger
    # platforms), the integrations whose blocks hold more than settings (automations) check them
    for deep_check, validated in deep_checks:
        errors.extend(deep_check(config.config_dir, validated))
    return errors
