"""The entities a Frigate NVR gives the hub: a ``camera`` per Frigate camera, occupancy
``binary_sensor``s per camera/zone and object, and ``binary_sensor.frigate_available``.

Place in the whole: ``__init__.py`` creates them from the ``frigate:`` block; the bridge
updates them from ``frigate/available`` and the ``frigate/<camera or zone>/<object>`` counts.
When Frigate goes offline every one of them becomes ``unavailable``.
"""

from __future__ import annotations

from typing import Any

from shouwang.core.entity import DeviceInfo
from shouwang.core.platforms import BinarySensorEntity, CameraEntity

from .api import FrigateApiError, FrigateClient
from .config import CameraConfig


def _device(camera: str) -> DeviceInfo:
    return DeviceInfo(
        identifiers=frozenset({("frigate", camera)}),
        name=camera,
        manufacturer="Frigate",
        model="NVR camera",
    )


class FrigateCamera(CameraEntity):
    """``camera.<frigate camera>``: the latest frame and the MJPEG stream through Frigate."""

    def __init__(self, config: CameraConfig, client: FrigateClient) -> None:
        super().__init__(
            config.friendly_name or config.name,
            unique_id=f"camera:{config.name}",
            place_id=config.place,
            device_info=_device(config.name),
            entity_id=config.entity_id,
        )
        self.camera = config.name
        self.client = client
        self.snapshot_url = client.latest_url(config.name)
        self.stream_url = client.stream_url(config.name)
        self.last_review: dict[str, Any] | None = None

    def state_attributes(self) -> dict[str, Any]:
        attributes = super().state_attributes()
        attributes["frigate_camera"] = self.camera
        if self.last_review is not None:
            attributes["last_review"] = self.last_review
        return attributes

    async def camera_image(self) -> bytes | None:
        try:
            return await self.client.latest(self.camera)
        except FrigateApiError as err:
            raise FrigateApiError(err.endpoint, f"{self.entity_id}: {err.reason}") from None


class OccupancySensor(BinarySensorEntity):
    """On while Frigate counts at least one ``object`` in a camera's view or a zone."""

    def __init__(self, area: str, obj: str, place_id: str | None, camera: str) -> None:
        super().__init__(
            f"{area} {obj} occupancy",
            device_class="occupancy",
            unique_id=f"occupancy:{area}:{obj}",
            place_id=place_id,
            device_info=_device(camera),
            entity_id=f"binary_sensor.{area}_{obj}_occupancy",
        )
        self.area = area
        self.object = obj
        self.count = 0

    def state_attributes(self) -> dict[str, Any]:
        return {**super().state_attributes(), "count": self.count}

    def set_count(self, count: int) -> None:
        self.count = count
        self.is_on = count > 0
        self.write_state()


class FrigateAvailable(BinarySensorEntity):
    """``binary_sensor.frigate_available``: Frigate's ``frigate/available`` (its last will)."""

    def __init__(self) -> None:
        super().__init__(
            "Frigate available", unique_id="available", entity_id="binary_sensor.frigate_available"
        )
