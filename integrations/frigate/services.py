"""The Frigate services.

- ``frigate.create_event``: ask Frigate to record a manual event on a camera (for example
  "keep the recording of this stranger at night"), answering with Frigate's event id.
- ``frigate.enroll_face``: put the face of a Frigate event into Frigate's face library under
  a registered person's face name, so the next time that person passes a camera they are
  recognised instead of rung in as a stranger (the stranger was a new tenant, a carer, a
  regular courier). Staff pick the event from the stranger's notification or the console.

Place in the whole: registered by the Frigate integration's setup; they call the API client
(``POST /api/events/<camera>/<label>/create``; ``GET /api/events/<id>/snapshot.jpg?crop=1``
then ``POST /api/faces/<name>/register``). The person comes from the community registry, the
one identity store: enrolling never invents a name the registry does not know. Cameras are
named by their hub entity (``camera.north_gate``), like the triggers do.
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
    from .identity import Identities

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


ENROLL_FACE_SCHEMA: Final = vol.Schema(
    {
        vol.Required("person"): vol.All(str, vol.Length(min=1, max=64)),
        vol.Required("event_id"): vol.All(str, vol.Match(r"^[\w.-]{1,100}$")),
    }
)

#: fired once a face is in Frigate's library: person, face_name, event_id
EVENT_FACE_ENROLLED: Final = "frigate_face_enrolled"


def register(
    hub: Hub,
    client: FrigateClient,
    cameras: Mapping[str, CameraConfig],
    identities: Identities,
) -> None:
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

    async def enroll_face(call: ServiceCall) -> dict[str, Any]:
        data = call.data
        registry = identities.registry
        if registry is None:
            raise ServiceValidationError(
                "frigate.enroll_face: no community registry is loaded (registry:), so there is "
                "nobody to enroll"
            )
        person = registry.people.get(data["person"])
        if person is None:
            raise ServiceValidationError(
                f"frigate.enroll_face: person: {data['person']} is not in the registry"
            )
        if not person.face_name:
            raise ServiceValidationError(
                f"frigate.enroll_face: person: {person.person_id} has no face name in the "
                "registry (the face column); give them one there first"
            )
        try:
            image = await client.event_snapshot(data["event_id"], crop=True)
            await client.register_face(person.face_name, image)
        except FrigateApiError as err:
            raise ServiceError(f"frigate.enroll_face: {err}") from None
        result = {
            "person": person.person_id,
            "face_name": person.face_name,
            "event_id": data["event_id"],
        }
        hub.bus.fire(EVENT_FACE_ENROLLED, result, call.context)
        return result

    hub.services.register(
        "frigate",
        "enroll_face",
        enroll_face,
        ENROLL_FACE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
