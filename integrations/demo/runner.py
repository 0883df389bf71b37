"""``shouwang demo``: the whole demo community on one machine, on simulated time.

Starts the embedded MQTT broker (or uses ``--mqtt URL``), prepares the config directory
(:mod:`.prepare`), runs a hub on a :class:`~shouwang.core.clock.ScaledClock` — by default the day
runs 144 times faster than real time, so a whole day takes ten minutes, starting at 19:50 local
time, shortly before the evening scenarios — starts the simulated field devices
(:mod:`.mqtt_devices`), creates one login per role and prints them with the console's address.

The scripted day (:mod:`.day`) starts with the hub: the held-open unit door, a visitor ringing a
household, the expired tenant, the perimeter at night, the rushes, a visitor pass, the blocked
plate. Its cameras are a Frigate simulator on the same broker (and its HTTP API for snapshots),
so the stranger at 23:30 reaches the guard room the way a real NVR's sighting would.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from shouwang.core.clock import ScaledClock
from shouwang.integrations.frigate.simulator import FrigateSimulator

from . import community
from . import prepare as demo_prepare
from .broker import EmbeddedBroker
from .day import DayPlayer, World
from .mqtt_devices import SimulatedDevices

if TYPE_CHECKING:
    from shouwang.core.events import Event
    from shouwang.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

TIME_ZONE: Final = ZoneInfo("Asia/Shanghai")
DEFAULT_SPEED: Final = 144.0  # a day in ten minutes
DEFAULT_START: Final = time(19, 50)
DEFAULT_HTTP_PORT: Final = 8123

RunHub = Callable[..., Awaitable[int]]


def simulated_start(today: date, at: time = DEFAULT_START) -> datetime:
    """When the simulated day starts: ``at`` local time today."""
    return datetime.combine(today, at, TIME_ZONE)


def parse_mqtt_url(url: str) -> tuple[str, int]:
    """``mqtt://host[:port]`` → (host, port); a clear error for anything else."""
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
        raise ValueError(f"--mqtt {url!r}: expected mqtt://HOST[:PORT]")
    return parts.hostname, parts.port or 1883


async def create_logins(hub: Hub, logins: tuple[demo_prepare.DemoLogin, ...]) -> None:
    """The demo's accounts, created once (a kept demo directory reuses them)."""
    auth = hub.integrations.runtime("auth")
    for login in logins:
        if auth.user_by_name(login.username) is None:
            await auth.create_user(login.username, login.role, login.households, login.password)


def banner(
    http_port: int, logins: tuple[demo_prepare.DemoLogin, ...], start: datetime, speed: float
) -> str:
    lines = [
        f"Open http://127.0.0.1:{http_port}/console (staff, guards) or /panel (residents).",
        "Demo logins:",
        *(f"  {login.role:<9} {login.username:<8} {login.password}" for login in logins),
        f"Simulated time starts {start:%Y-%m-%d %H:%M} (Asia/Shanghai) and runs {speed:g}x "
        f"({timedelta(days=1) / speed} per simulated day).",
    ]  # fmt: skip
    return "\n".join(lines)


async def run_demo(
    config_dir: Path,
    run_hub: RunHub,
    *,
    duration: float | None = None,
    speed: float = DEFAULT_SPEED,
    start_at: time = DEFAULT_START,
    mqtt_url: str | None = None,
    http_port: int = DEFAULT_HTTP_PORT,
    automations_source: Path | None = None,
) -> int:
    """Run the demo until stopped; ``run_hub`` is the CLI's hub runner (signals, duration)."""
    broker: EmbeddedBroker | None = None
    if mqtt_url is None:
        broker = EmbeddedBroker(port=0)
        await broker.start()
        host, port = broker.host, broker.port
    else:
        host, port = parse_mqtt_url(mqtt_url)
    today = datetime.now(TIME_ZONE).date()
    start = simulated_start(today, start_at)
    clock = ScaledClock(start, speed)
    frigate = FrigateSimulator(demo_prepare.CAMERAS, broker=(host, port), now=clock.time)
    await frigate.start()
    people = await asyncio.to_thread(
        demo_prepare.prepare, config_dir, today=today, mqtt_host=host, mqtt_port=port,
        frigate_url=frigate.url, http_port=http_port, automations_source=automations_source,
    )  # fmt: skip
    logins = demo_prepare.demo_logins(people)
    devices = SimulatedDevices(
        host, port, list(demo_prepare.DOORS), list(demo_prepare.SENSORS),
        sirens=demo_prepare.SIRENS, stations=demo_prepare.STATIONS,
        lights=demo_prepare.LIGHTS,
    )  # fmt: skip

    async def after_start(hub: Hub) -> None:
        await create_logins(hub, logins)
        await asyncio.to_thread(devices.start)
        world = World(hub, devices, people, random.Random(community.SEED), frigate)
        player = DayPlayer(world)
        hub.on_stop(player.start())
        for event_type in SHOWN_EVENTS:
            hub.on_stop(hub.bus.listen(event_type, _show_event))
        actual_port = getattr(hub.integrations.runtime("http"), "port", http_port)
        print(banner(actual_port, logins, start, speed), flush=True)

    try:
        return await run_hub(config_dir, duration, clock=clock, after_start=after_start)
    finally:
        await asyncio.to_thread(_stop_quietly, devices)
        await frigate.stop()
        if broker is not None:
            await broker.stop()


#: what the demo prints on its console as it happens (the web console shows everything)
SHOWN_EVENTS: Final = (
    "door_held_open", "door_forced", "access_denied", "tailgating", "duress", "perimeter_breach",
    "stranger_detected", "intercom_call", "visitor_pass_used", "access_reader_locked",
)  # fmt: skip
_SHOWN_FIELDS: Final = ("door", "level", "reason", "credential_type", "phase", "household",
                        "camera", "zone", "visitor_name", "target")  # fmt: skip


def _show_event(event: Event) -> None:
    fields = " ".join(
        f"{key}={event.data[key]}" for key in _SHOWN_FIELDS if event.data.get(key) is not None
    )
    _LOGGER.warning("EVENT %s %s", event.event_type, fields)


def _stop_quietly(devices: SimulatedDevices) -> None:
    try:
        devices.stop()
    except Exception as err:  # never connected, or the broker went first
        _LOGGER.debug("demo devices: %s", err)


def run_options(args: Any) -> dict[str, Any]:
    """The keyword arguments of :func:`run_demo` from the CLI's parsed arguments."""
    start = time.fromisoformat(args.start) if args.start else DEFAULT_START
    return {"duration": args.duration, "speed": args.speed, "start_at": start,
            "mqtt_url": args.mqtt, "http_port": args.port}  # fmt: skip
