"""The ``camera`` platform: IP cameras of gates, lifts, car parks and the perimeter.

``camera.snapshot`` writes a still image to a file inside the snapshot directory (the hub's
``<config_dir>/www/snapshots`` unless the entity was given another) and, when asked, answers
with the path and size. ``camera.turn_on``/``turn_off`` work if the integration implements them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Final, Unpack

import voluptuous as vol

from ..entity import Entity, EntityOptions, EntityService
from ..events import Context
from ..services import ServiceError, ServiceValidationError, SupportsResponse
from ._common import NotSupportedError

DOMAIN: Final = "camera"

STATE_IDLE: Final = "idle"
STATE_RECORDING: Final = "recording"
STATE_STREAMING: Final = "streaming"

SNAPSHOT_SCHEMA: Final[Mapping[Any, Any]] = {
    vol.Required("filename"): vol.All(str, vol.Length(min=1)),
}


class CameraEntity(Entity):
    """A camera. Implement :meth:`camera_image` for snapshots; set :attr:`camera_state`, the
    URLs and :attr:`motion_detection` and call :meth:`write_state`."""

    domain: ClassVar[str] = DOMAIN
    states: ClassVar[frozenset[str]] = frozenset({STATE_IDLE, STATE_RECORDING, STATE_STREAMING})
    services: ClassVar[Mapping[str, EntityService]] = {
        "snapshot": EntityService(
            "_snapshot_service", SNAPSHOT_SCHEMA, supports_response=SupportsResponse.OPTIONAL
        ),
        "turn_on": EntityService("turn_on"),
        "turn_off": EntityService("turn_off"),
    }

    camera_state: str | None = STATE_IDLE
    #: where a browser fetches a still image / the live stream, if the device offers one
    snapshot_url: str | None = None
    stream_url: str | None = None
    #: whether the camera's own motion detection is on; None if it has none
    motion_detection: bool | None = None

    def __init__(
        self,
        name: str,
        *,
        snapshot_dir: str | Path | None = None,
        **options: Unpack[EntityOptions],
    ) -> None:
        super().__init__(name, **options)
        self.snapshot_dir = Path(snapshot_dir) if snapshot_dir is not None else None

    @property
    def state(self) -> str | None:
        return self.camera_state

    def state_attributes(self) -> dict[str, Any]:
        return {
            "snapshot_url": self.snapshot_url,
            "stream_url": self.stream_url,
            "motion_detection": self.motion_detection,
        }

    async def camera_image(self) -> bytes | None:
        """The current still image (JPEG), or None if the camera has none right now."""
        raise NotSupportedError(self, "snapshot")

    async def turn_on(self, *, context: Context | None = None) -> None:
        raise NotSupportedError(self, "turn_on")

    async def turn_off(self, *, context: Context | None = None) -> None:
        raise NotSupportedError(self, "turn_off")

    def snapshot_directory(self) -> Path:
        """The one directory snapshots may be written in (or under)."""
        if self.snapshot_dir is not None:
            return self.snapshot_dir
        if self.hub is not None and self.hub.config_dir is not None:
            return self.hub.config_dir / "www" / "snapshots"
        raise ServiceError(
            f"{self.entity_id}: no snapshot directory (the hub has no config_dir and the camera "
            "was given no snapshot_dir)"
        )

    def snapshot_path(self, filename: str) -> Path:
        """``filename`` resolved inside :meth:`snapshot_directory` (relative to it, or absolute
        but inside it); a path that leads out of it, also through a symlink, is refused."""
        directory = self.snapshot_directory().resolve()
        path = (directory / filename).resolve()
        if path == directory or not path.is_relative_to(directory):
            raise ServiceValidationError(
                f"filename: {filename!r} is not a file inside the snapshot directory {directory}"
            )
        return path

    async def _snapshot_service(
        self, *, filename: str, context: Context | None = None
    ) -> dict[str, Any]:
        path = await asyncio.to_thread(self.snapshot_path, filename)  # resolve() reads the disk
        image = await self.camera_image()
        if not image:
            raise ServiceError(f"{self.entity_id} has no image to save")
        await asyncio.to_thread(_write_file, path, image)
        return {"path": str(path), "size": len(image)}


def _write_file(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
