"""The ``shouwang`` command: run a hub, run the demo community, check a configuration.

``shouwang run -c DIR`` runs the hub on a config directory (created with a starter
``configuration.yaml`` when missing); ``shouwang demo`` runs the bundled demo community;
``shouwang check-config -c DIR`` prints every configuration error with ``file:line`` and exits
non-zero if there is any; ``shouwang trace AUTOMATION -c DIR`` prints its stored run traces;
``shouwang registry import|export`` fills and dumps the community registry;
``shouwang auth create-user|create-token|list-users|list-tokens|revoke-token|…`` manages accounts.
Ctrl-C and SIGTERM stop the hub cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__, event_loop
from .clock import Clock
from .config import CONFIG_FILE, ensure_config_dir, load_config_dir

if TYPE_CHECKING:
    from .hub import Hub

DEFAULT_CONFIG_DIR = Path.home() / ".shouwang"
# The repository's starter automations (found next to core/ in a source or editable install;
# a wheel does not ship them yet, and the demo then runs without them).
BUNDLED_AUTOMATIONS = Path(__file__).resolve().parents[1] / "automations"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shouwang", description="Shouwang: automation hub for residential-community security"
    )
    parser.add_argument("--version", action="version", version=f"shouwang {__version__}")
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the hub on a config directory")
    run.add_argument("-c", "--config", type=Path, default=DEFAULT_CONFIG_DIR)
    demo = commands.add_parser("demo", help="run the bundled demo community")
    demo.add_argument("-c", "--config", type=Path, default=None, help="keep the demo's files here")
    demo.add_argument(
        "--duration", type=float, default=None, help="stop after this many seconds (default: run)"
    )
    demo.add_argument(
        "--speed",
        type=float,
        default=144.0,
        help="simulated seconds per real second (144: a day in 10 min)",
    )
    demo.add_argument("--start", default=None, help="simulated start, local HH:MM (default 19:50)")
    demo.add_argument(
        "--mqtt", default=None, help="external broker mqtt://HOST[:PORT] (default: embedded)"
    )
    demo.add_argument(
        "--port", type=int, default=8123, help="HTTP port of the console (0: any free)"
    )
    check = commands.add_parser("check-config", help="validate a config directory")
    check.add_argument("-c", "--config", type=Path, default=DEFAULT_CONFIG_DIR)
    trace = commands.add_parser("trace", help="show an automation's stored run traces")
    trace.add_argument("automation", help="automation id, alias or entity id")
    trace.add_argument("-c", "--config", type=Path, default=DEFAULT_CONFIG_DIR)
    trace.add_argument("--run", help="the run id of one trace (default: the latest)")
    trace.add_argument("--list", action="store_true", help="list the stored runs")
    _registry_parser(commands.add_parser("registry", help="import/export the community registry"))
    _auth_parser(commands.add_parser("auth", help="manage user accounts and tokens"))
    return parser


def _auth_parser(auth: argparse.ArgumentParser) -> None:
    """``auth create-user|list-users|create-token|list-tokens|revoke-token`` (run by
    ``shouwang.integrations.auth.cli``)."""
    actions = auth.add_subparsers(dest="auth_command", required=True)
    create_user = actions.add_parser("create-user", help="create an account")
    create_user.add_argument("name")
    create_user.add_argument(
        "--role", required=True, choices=("admin", "staff", "guard", "resident", "service")
    )
    create_user.add_argument(
        "--household", action="append", default=[], help="a resident's household (repeatable)"
    )
    create_user.add_argument(
        "--password-file", type=Path, default=None, help="read the password from this file"
    )
    create_user.add_argument(
        "--no-password", action="store_true", help="no password (token-only service account)"
    )
    create_token = actions.add_parser("create-token", help="print a new long-lived token")
    create_token.add_argument("user", help="user name or id")
    create_token.add_argument("--name", default=None, help="what the token is for")
    create_token.add_argument("--days", type=float, default=3650, help="lifetime in days")
    actions.add_parser("list-users", help="list the accounts")
    list_tokens = actions.add_parser("list-tokens", help="list refresh and long-lived tokens")
    list_tokens.add_argument("--user", default=None, help="only this user's (name or id)")
    revoke = actions.add_parser("revoke-token", help="revoke a token by id")
    revoke.add_argument("token_id")
    set_password = actions.add_parser("set-password", help="set a user's password")
    set_password.add_argument("user", help="user name or id")
    set_password.add_argument("--password-file", type=Path, default=None)
    set_role = actions.add_parser("set-role", help="change a user's role and households")
    set_role.add_argument("user", help="user name or id")
    set_role.add_argument(
        "--role", required=True, choices=("admin", "staff", "guard", "resident", "service")
    )
    set_role.add_argument("--household", action="append", default=[])
    for verb in ("disable", "enable"):
        toggle = actions.add_parser(f"{verb}-user", help=f"{verb} an account")
        toggle.add_argument("user", help="user name or id")
    for sub in actions.choices.values():
        sub.add_argument("-c", "--config", type=Path, default=DEFAULT_CONFIG_DIR)
        sub.add_argument("--db-url", default=None, help="SQLAlchemy URL (default: SQLite file)")


def _registry_parser(registry: argparse.ArgumentParser) -> None:
    """``registry import|export`` (run by ``shouwang.integrations.registry.cli``; defined here so
    ``--help`` does not import the database stack)."""
    kinds = ("places", "households", "people", "vehicles", "organisations", "devices")
    actions = registry.add_subparsers(dest="registry_command", required=True)
    do_import = actions.add_parser("import", help="import a CSV or YAML file (all or nothing)")
    do_import.add_argument("file", type=Path)
    do_import.add_argument("--kind", choices=kinds, default=None, help="default: from headers")
    export = actions.add_parser("export", help="export one kind (personal data masked)")
    export.add_argument("kind", choices=kinds)
    export.add_argument("-o", "--output", type=Path, default=None)
    export.add_argument("--format", choices=("csv", "yaml"), default=None)
    for sub in (do_import, export):
        sub.add_argument("-c", "--config", type=Path, default=DEFAULT_CONFIG_DIR)
        sub.add_argument("--db-url", default=None, help="SQLAlchemy URL (default: SQLite file)")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    if args.command == "check-config":
        return check_config(args.config)
    if args.command == "registry":
        from shouwang.integrations.registry.cli import run as run_registry

        return run_registry(args)
    if args.command == "auth":
        from shouwang.integrations.auth.cli import run as run_auth

        return run_auth(args)
    if args.command == "trace":
        return show_trace(args.config, args.automation, args.run, args.list)
    if args.command == "demo":
        if args.config is None:
            with tempfile.TemporaryDirectory(prefix="shouwang-demo-") as tmp:
                return _run_demo(Path(tmp), args)
        return _run_demo(args.config, args)
    return event_loop.run(run_hub(args.config))


def _run_demo(config_dir: Path, args: argparse.Namespace) -> int:
    from shouwang.integrations.demo.runner import run_demo, run_options

    print(f"Shouwang {__version__} demo community; config in {config_dir}; Ctrl-C stops it.")
    return event_loop.run(
        run_demo(config_dir, run_hub, automations_source=BUNDLED_AUTOMATIONS, **run_options(args))
    )


async def run_hub(
    config_dir: Path,
    duration: float | None = None,
    *,
    clock: Clock | None = None,
    after_start: Callable[[Hub], Awaitable[None]] | None = None,
) -> int:
    """Run a hub until Ctrl-C/SIGTERM (or ``duration`` seconds); returns the exit code.
    ``clock``: the demo's simulated time; ``after_start``: work once the hub runs."""
    from .hub import Hub  # imported here so `--version` and `--help` stay instant

    hub = Hub(config_dir, clock=clock)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, lambda: hub.create_task(hub.stop(), "signal stop"))
    await hub.start()
    if after_start is not None:
        await after_start(hub)
    if duration is not None:
        loop.call_later(duration, lambda: hub.create_task(hub.stop(), "duration stop"))
    exit_code = await hub.wait_stopped()
    logging.getLogger(__name__).info("Stopped")
    return exit_code


def check_config(config_dir: Path) -> int:
    """Print every configuration error; 0 if there is none, 1 otherwise."""
    from .loader import check_integration_config

    if not (config_dir / CONFIG_FILE).exists():
        print(f"{config_dir / CONFIG_FILE}: not found", file=sys.stderr)
        return 1
    ensure_config_dir(config_dir)
    loaded = load_config_dir(config_dir)
    errors = [*loaded.errors, *check_integration_config(loaded)]
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        print(f"{len(errors)} error(s) in {config_dir}", file=sys.stderr)
        return 1
    print(f"{config_dir / CONFIG_FILE}: OK ({len(loaded.blocks)} integration block(s))")
    return 0


def show_trace(config_dir: Path, automation: str, run_id: str | None, list_runs: bool) -> int:
    """Print an automation's stored trace(s) as JSON (what the hub saved on its last runs)."""
    from .entity import slugify
    from .trace import TraceStore

    store = TraceStore(config_dir / ".storage" / "traces.json")
    store.load()
    wanted = automation.removeprefix("automation.")
    keys = {entry["automation_id"] for entry in store.list()}
    matches = [key for key in keys if key == automation or slugify(key) == slugify(wanted)]
    if not matches:
        print(f"no traces stored for {automation!r} in {config_dir}", file=sys.stderr)
        return 1
    key = matches[0]
    if list_runs:
        output: Any = store.list(key)
    elif run_id is not None:
        output = store.get(key, run_id)
        if output is None:
            print(f"no trace {run_id} for {key!r}", file=sys.stderr)
            return 1
    else:
        output = store.latest(key)
    print(json.dumps(output, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
