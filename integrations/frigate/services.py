"""``frigate.create_event``: ask Frigate to record a manual event on a camera (for example
"keep the recording of this stranger at night"), answering with Frigate's event id.

Place in the whole: registered by the Frigate integration's setup; it calls the API client's
``POST /api/events/<camera>/<label>/create``. The camera is named by its hub entity
(``camera.north_gate``), like the triggers do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from shouwang.core.services import (
    ServiceCall,
    ServiceError,
    ServiceValidationError,
    SupportsResponse,
)

from .api import FrigateApiError, FrigateClient

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

    from .config import CameraConfig

CREATE_EVENT_SCHEMA: Final = vol.Schema(
    {
        vol.Required("camera"): vol.All(str, vol.Match(r"^camera\.\w+$")),
        vol.Optional("label", default="manual"): vol.All(str, vol.Match(r"^[\w-]+$")),
        vol.Optional("sub_label"): vol.Any(None, vol.All(str, vol.Length(min=1, max=100))),
        vol.Optional("duration", default=30): vol.All(
            vol.Coerce(float), vol.Range(min=1, max=3600)
        ),
        vol.Optional("include_recording", default=True): bool,
    }
)


def register(hub: Hub, client: FrigateClient, cameras: Mapping[str, CameraConfig]) -> None:
    by_entity = {camera.entity_id: camera.name for camera in cameras.values()}

    async def create_event(call: ServiceCall) -> dict[str, Any]:
        data = call.data
        camera = by_entity.get(data["camera"])
        if camera is None:
            known = ", ".join(sorted(by_entity)) or "none"
            raise ServiceValidationError(
                f"frigate.create_event: camera: {data['camera']} is not a Frigate camera "
                f"(known: {known})"
            )
        try:
            event_id = await client.create_event(
                camera,
                data["label"],
                sub_label=data.get("sub_label"),
                duration=data["duration"],
                include_recording=data["include_recording"],
            )
        except FrigateApiError as err:
            raise ServiceError(f"frigate.create_event: {err}") from None
        return {"event_id": event_id, "snapshot_url": client.event_snapshot_url(event_id)}

    hub.services.register(
        "frigate",
        "create_event",
        create_event,
        CREATE_EVENT_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
