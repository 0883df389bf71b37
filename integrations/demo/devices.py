"""Simulated devices of the demo community: each a real platform entity whose "hardware" is a
few fields and timers on the hub clock (a lock that relocks after its 5 s unlock pulse, a
turnstile that closes behind a passer, a door station that rings and times out)."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any, Unpack

from shouwang.core.entity import EntityOptions
from shouwang.core.events import Context
from shouwang.core.hub import Hub
from shouwang.core.platforms import (
    AlarmControlPanelEntity,
    BinarySensorEntity,
    CameraEntity,
    GateEntity,
    IntercomEntity,
    LightEntity,
    LockEntity,
    SensorEntity,
    SirenEntity,
)
from shouwang.core.tracking import track_point_in_time

UNLOCK_PULSE = timedelta(seconds=5)  # DOMAIN.md: typical unlock pulse
RING_TIMEOUT = timedelta(seconds=30)

# A valid 1x1 grey JPEG: what the simulated camera returns as its snapshot.
_SNAPSHOT_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwc"
    "KDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAA"
    "AAAAAAAAAAD/2gAIAQEAAD8AKp//2Q=="
)


class DemoLock(LockEntity):
    """A gate lock: unlock opens it for the 5 s pulse, then it relocks by itself."""

    def __init__(self, hub: Hub, name: str, **options: Unpack[EntityOptions]) -> None:
        super().__init__(name, **options)
        self._hub = hub
        self.lock_state = "locked"

    async def lock(self, *, code: str | None = None, context: Context | None = None) -> None:
        self.lock_state = "locked"
        self.write_state(context)

    async def unlock(self, *, code: str | None = None, context: Context | None = None) -> None:
        self.lock_state = "unlocked"
        self.changed_by = "service"
        self.write_state(context)
        track_point_in_time(self._hub, self._hub.clock.now() + UNLOCK_PULSE, self._relock)

    async def open(self, *, code: str | None = None, context: Context | None = None) -> None:
        await self.unlock(code=code, context=context)

    def _relock(self, now: Any) -> None:
        self.lock_state = "locked"
        self.changed_by = "auto-relock"
        self.write_state()


class DemoDoorContact(BinarySensorEntity):
    def __init__(self, name: str, **options: Unpack[EntityOptions]) -> None:
        super().__init__(name, device_class="door", **options)
        self.is_on = False


class DemoMotion(BinarySensorEntity):
    def __init__(self, name: str, **options: Unpack[EntityOptions]) -> None:
        super().__init__(name, device_class="motion", **options)
        self.is_on = False


class DemoPassageCounter(SensorEntity):
    def __init__(self, name: str, **options: Unpack[EntityOptions]) -> None:
        super().__init__(
            name, unit_of_measurement="人次", state_class="total_increasing", **options
        )
        self.count = 0

    @property
    def state(self) -> str | None:
        return str(self.count)


class DemoGate(GateEntity):
    """A turnstile: opens on request and closes again two seconds later."""

    def __init__(self, hub: Hub, name: str, **options: Unpack[EntityOptions]) -> None:
        super().__init__(name, **options)
        self._hub = hub
        self.gate_state = "closed"

    async def open(self, *, context: Context | None = None) -> None:
        self.gate_state = "open"
        self.write_state(context)
        track_point_in_time(self._hub, self._hub.clock.now() + timedelta(seconds=2), self._shut)

    async def close(self, *, context: Context | None = None) -> None:
        self._shut(None)

    def _shut(self, now: Any) -> None:
        self.gate_state = "closed"
        self.write_state()


class DemoCamera(CameraEntity):
    def __init__(self, name: str, **options: Unpack[EntityOptions]) -> None:
        super().__init__(name, **options)
        self.snapshot_url = "/api/camera_proxy/camera.north_gate"

    async def camera_image(self) -> bytes | None:
        return _SNAPSHOT_JPEG


class DemoIntercom(IntercomEntity):
    """A unit door station: rings, is answered or times out after 30 s, opens its door."""

    def __init__(self, hub: Hub, name: str, **options: Unpack[EntityOptions]) -> None:
        super().__init__(name, **options)
        self._hub = hub
        self._calls = 0
        self.door_opened = 0

    def ring(self, caller: str) -> None:
        self._calls += 1
        self.intercom_state = "ringing"
        self.caller = caller
        self.call_id = f"demo-call-{self._calls}"
        self.write_state()
        call_id = self.call_id
        track_point_in_time(
            self._hub,
            self._hub.clock.now() + RING_TIMEOUT,
            lambda now: self._timeout(call_id),
        )

    def _timeout(self, call_id: str) -> None:
        if self.call_id == call_id and self.intercom_state == "ringing":
            self._idle()

    def _idle(self, context: Context | None = None) -> None:
        self.intercom_state = "idle"
        self.caller = None
        self.call_id = None
        self.write_state(context)

    async def call(self, *, target: str, context: Context | None = None) -> None:
        self.ring(f"→ {target}")

    async def answer(self, *, context: Context | None = None) -> None:
        if self.intercom_state == "ringing":
            self.intercom_state = "in_call"
            self.write_state(context)

    async def hangup(self, *, context: Context | None = None) -> None:
        self._idle(context)

    async def unlock(self, *, door: int | None = None, context: Context | None = None) -> None:
        self.door_opened += 1


class DemoAlarmPanel(AlarmControlPanelEntity):
    def __init__(self, name: str, **options: Unpack[EntityOptions]) -> None:
        super().__init__(name, **options)
        self.alarm_state = "disarmed"
        self.supported_modes = frozenset({"armed_home", "armed_away", "armed_night"})

    async def arm(
        self, mode: str, *, code: str | None = None, context: Context | None = None
    ) -> None:
        self.alarm_state = mode
        self.write_state(context)

    async def disarm(self, *, code: str | None = None, context: Context | None = None) -> None:
        self.alarm_state = "disarmed"
        self.write_state(context)

    async def trigger(self, *, code: str | None = None, context: Context | None = None) -> None:
        self.alarm_state = "triggered"
        self.write_state(context)


class DemoLight(LightEntity):
    def __init__(self, name: str, **options: Unpack[EntityOptions]) -> None:
        super().__init__(name, **options)
        self.is_on = False

    async def turn_on(
        self,
        *,
        brightness: int | None = None,
        transition: float | None = None,
        context: Context | None = None,
    ) -> None:
        self.is_on = True
        self.brightness = brightness if brightness is not None else 255
        self.write_state(context)

    async def turn_off(
        self, *, transition: float | None = None, context: Context | None = None
    ) -> None:
        self.is_on = False
        self.write_state(context)


class DemoSiren(SirenEntity):
    def __init__(self, name: str, **options: Unpack[EntityOptions]) -> None:
        super().__init__(name, **options)
        self.is_on = False

    async def turn_on(
        self,
        *,
        tone: str | None = None,
        volume_level: float | None = None,
        duration: float | None = None,
        context: Context | None = None,
    ) -> None:
        self.is_on = True
        self.write_state(context)

    async def turn_off(self, *, context: Context | None = None) -> None:
        self.is_on = False
        self.write_state(context)
