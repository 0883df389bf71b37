"""The intercom services, owned by the call manager once the integration is set up.

``intercom.call`` {target, message?, snapshot_url?, reason?} — ``entity_id`` optional: with a
station targeted, that station calls; without, the hub calls (an automation ringing the guard
room). ``intercom.answer`` / ``hangup`` / ``decline`` {call_id?} act as the targeted station, or
on ``call_id`` alone (the staff console). ``intercom.unlock`` {door?, call_id?} opens a door
station, checked against :mod:`.rights` with the acting user from ``Context.user_id``.
``intercom.call_log`` {limit?, station?, household?, phase?} returns the log (response only).

Intercom entities of *other* integrations (the demo's door station) keep the platform's
behaviour: calls that target them go to the platform's handler, as before the takeover.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from shouwang.core.platforms import IntercomEntity
from shouwang.core.services import (
    ServiceCall,
    ServiceResponse,
    ServiceValidationError,
    SupportsResponse,
)

from .calls import PHASE_ANSWERED, PHASE_ENDED, PHASE_MISSED, PHASE_RINGING, Call
from .manager import CallManager

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

DOMAIN: Final = "intercom"

_TEXT = vol.All(str, vol.Length(min=1))
CALL_SCHEMA: Final = vol.Schema(
    {
        vol.Required("target"): _TEXT,
        vol.Optional("message"): vol.Any(None, str),
        vol.Optional("snapshot_url"): vol.Any(None, str),
        vol.Optional("reason"): vol.Any(None, str),
    }
)
CALL_ID_SCHEMA: Final = vol.Schema({vol.Optional("call_id"): _TEXT})
UNLOCK_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("door"): vol.All(vol.Coerce(int), vol.Range(min=1)),
        vol.Optional("call_id"): _TEXT,
    }
)
LOG_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("limit", default=50): vol.All(vol.Coerce(int), vol.Range(min=1, max=1000)),
        vol.Optional("station"): _TEXT,
        vol.Optional("household"): _TEXT,
        vol.Optional("phase"): vol.In([PHASE_RINGING, PHASE_ANSWERED, PHASE_ENDED, PHASE_MISSED]),
    }
)

Handler = Callable[[ServiceCall], Awaitable[ServiceResponse]]


def _summary(call: Call) -> dict[str, Any]:
    return {
        "call_id": call.call_id,
        "caller": call.caller,
        "stations": list(call.stations),
        "phase": call.phase,
    }


def register(hub: Hub, manager: CallManager) -> None:
    """Take over the intercom services (see the module doc)."""
    hub.entities.ensure_services(IntercomEntity)
    platform = {name: svc.handler for name, svc in hub.services.services()[DOMAIN].items()}

    def split(call: ServiceCall) -> tuple[list[str], set[str]]:
        """The targeted stations of this integration, and the other entity ids."""
        if call.entity_ids is None:
            return [], set()
        if "all" in call.entity_ids:
            raise ServiceValidationError(f"{DOMAIN}.{call.service}: target one station, not all")
        own = sorted(e for e in call.entity_ids if e in manager.stations)
        return own, set(call.entity_ids) - set(own)

    async def delegate(call: ServiceCall, others: set[str], data: dict[str, Any]) -> None:
        handler = platform.get(call.service)
        if handler is None:
            raise ServiceValidationError(
                f"{DOMAIN}.{call.service}: {', '.join(sorted(others))} is not an intercom "
                "station of this integration"
            )
        result = handler(ServiceCall(call.domain, call.service, data, call.context, others))
        if isinstance(result, Awaitable):
            await result

    async def handle_call(call: ServiceCall) -> ServiceResponse:
        own, others = split(call)
        data = call.data
        placed: list[Call] = []
        options = {k: data.get(k) for k in ("message", "snapshot_url", "reason")}
        if call.entity_ids is None:
            placed.append(await manager.call(data["target"], context=call.context, **options))
        for caller in own:
            placed.append(
                await manager.call(data["target"], caller=caller, context=call.context, **options)
            )
        if others:
            await delegate(call, others, {"target": data["target"]})
        return {"calls": [_summary(c) for c in placed]}

    def call_id_handler(action: str) -> Handler:
        method = getattr(manager, action)

        async def handle(call: ServiceCall) -> ServiceResponse:
            own, others = split(call)
            call_id = call.data.get("call_id")
            done: list[Call] = []
            if call.entity_ids is None:
                done.append(await method(None, call_id=call_id, context=call.context))
            for entity_id in own:
                done.append(await method(entity_id, call_id=call_id, context=call.context))
            if others:
                await delegate(call, others, {})
            return {"calls": [_summary(c) for c in done]}

        return handle

    async def handle_unlock(call: ServiceCall) -> ServiceResponse:
        own, others = split(call)
        door, call_id = call.data.get("door"), call.data.get("call_id")
        targets: list[str | None] = [None] if call.entity_ids is None else list(own)
        for entity_id in targets:
            await manager.unlock(entity_id, door=door, call_id=call_id, context=call.context)
        if others:
            await delegate(call, others, {"door": door} if door is not None else {})
        return None

    async def handle_log(call: ServiceCall) -> ServiceResponse:
        data = call.data
        station = data.get("station")
        if station is not None and "." not in station:
            station = f"intercom.{station}"
        calls = await manager.call_log(
            limit=data["limit"],
            station=station,
            household=data.get("household"),
            phase=data.get("phase"),
        )
        return {"calls": calls}

    optional = SupportsResponse.OPTIONAL
    hub.services.register(DOMAIN, "call", handle_call, CALL_SCHEMA, supports_response=optional)
    for action in ("answer", "hangup", "decline"):
        hub.services.register(
            DOMAIN, action, call_id_handler(action), CALL_ID_SCHEMA, supports_response=optional
        )
    hub.services.register(DOMAIN, "unlock", handle_unlock, UNLOCK_SCHEMA)
    hub.services.register(
        DOMAIN, "call_log", handle_log, LOG_SCHEMA, supports_response=SupportsResponse.ONLY
    )
