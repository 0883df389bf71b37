"""The ``visitor_pass.*`` services: create, revoke, list and check passes.

Place in the whole: the verbs residents, staff, the API and gate simulators use; a thin layer
that validates input (errors name the field), applies the community defaults and the household
scoping, and leaves the work to :class:`~.book.PassBook`.

Household scoping (who may act for which household):

* A call is *scoped* to a household when its context's user maps to one through
  ``PassBook.user_household`` (the API sets this resolver: a resident's user -> their
  household; staff -> None), or when the call carries ``caller_household`` (for callers that
  have no user yet; the API must set it for residents). Both given and different: refused.
* A scoped caller may create passes only with ``host_household`` equal to its household, list
  only its household's passes, and revoke only those. Staff (unscoped) may do everything.
* Refusals raise :class:`NotAllowed` (a :class:`ServiceError`, for the API a 403).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from shouwang.core.durations import parse_duration
from shouwang.core.services import (
    ServiceCall,
    ServiceError,
    ServiceResponse,
    ServiceValidationError,
    SupportsResponse,
)
from shouwang.integrations.registry.protect import (
    normalise_phone,
    normalise_plate,
    phone_ok,
    plate_ok,
)

from .book import STATUSES, NewPass, PassBook
from .window import WindowError, resolve_window

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

DOMAIN: Final = "visitor_pass"


class NotAllowed(ServiceError):
    """The caller may not act for that household."""


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise vol.Invalid(f"expected an ISO date and time, got {value!r}") from None


def _date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise vol.Invalid(f"expected an ISO date (YYYY-MM-DD), got {value!r}") from None


def _duration(value: Any) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as err:
        raise vol.Invalid(str(err)) from None


def _strings(value: Any) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
        raise vol.Invalid("expected a string or a list of non-empty strings")
    return list(dict.fromkeys(items))


def _phone(value: Any) -> str:
    phone = normalise_phone(str(value))
    if not phone_ok(phone):
        raise vol.Invalid("expected a mainland mobile number (11 digits, 13–19…)")
    return phone


def _plate(value: Any) -> str:
    plate = normalise_plate(str(value))
    if not plate_ok(plate):
        raise vol.Invalid("not a valid Chinese plate")
    return plate


_NAME: Final = vol.All(str, vol.Strip, vol.Length(min=1, max=64))
_SCOPE: Final[dict[Any, Any]] = {vol.Optional("caller_household"): _NAME}

CREATE_SCHEMA: Final = vol.Schema(
    {
        vol.Required("visitor_name"): _NAME,
        vol.Optional("phone"): _phone,
        vol.Required("host_household"): _NAME,
        vol.Optional("created_by"): _NAME,
        vol.Optional("day"): _date,
        vol.Optional("valid_from"): _datetime,
        vol.Optional("valid_until"): _datetime,
        vol.Optional("duration"): _duration,
        vol.Optional("doors", default=list): _strings,
        vol.Optional("places", default=list): _strings,
        vol.Optional("door_groups", default=list): _strings,
        vol.Optional("plate"): _plate,
        vol.Optional("max_uses"): vol.All(int, vol.Range(min=1, max=1000)),
        **_SCOPE,
    }
)
REVOKE_SCHEMA: Final = vol.Schema(
    {vol.Required("pass_id"): _NAME, vol.Optional("revoked_by"): _NAME, **_SCOPE}
)
LIST_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("status"): vol.All(_strings, [vol.In(STATUSES)]),
        vol.Optional("household"): _NAME,
        **_SCOPE,
    }
)
CHECK_SCHEMA: Final = vol.Schema(
    {vol.Required("token"): vol.All(str, vol.Length(max=4096)), vol.Required("door"): _NAME}
)


def caller_scope(book: PassBook, call: ServiceCall) -> str | None:
    """The household a call is restricted to (None: staff, unrestricted); see the module doc."""
    given: str | None = call.data.get("caller_household")
    user = call.context.user_id
    resolved = book.user_household(user) if book.user_household and user else None
    if given and resolved and given != resolved:
        raise NotAllowed("caller_household: does not match the calling user's household")
    return resolved or given


class PassServices:
    """The service handlers of one pass book."""

    def __init__(
        self,
        hub: Hub,
        book: PassBook,
        *,
        default_max_uses: int,
        max_length: timedelta,
    ) -> None:
        self.hub = hub
        self.book = book
        self.default_max_uses = default_max_uses
        self.max_length = max_length

    def register(self) -> None:
        services = self.hub.services
        services.register(
            DOMAIN, "create", self.create, CREATE_SCHEMA,
            supports_response=SupportsResponse.OPTIONAL,
            description="Create a visitor pass; returns it with its token, link and QR code",
        )  # fmt: skip
        services.register(
            DOMAIN, "revoke", self.revoke, REVOKE_SCHEMA,
            supports_response=SupportsResponse.OPTIONAL,
            description="Revoke a visitor pass",
        )  # fmt: skip
        services.register(
            DOMAIN, "list", self.list, LIST_SCHEMA,
            supports_response=SupportsResponse.ONLY,
            description="List visitor passes by status and household",
        )  # fmt: skip
        services.register(
            DOMAIN, "check", self.check, CHECK_SCHEMA,
            supports_response=SupportsResponse.OPTIONAL,
            description="Present a pass token at a door: counts a use or fires the denial",
        )  # fmt: skip

    async def create(self, call: ServiceCall) -> ServiceResponse:
        data = call.data
        scope = caller_scope(self.book, call)
        household = data["host_household"]
        if scope is not None and household != scope:
            raise NotAllowed(
                f"host_household: a resident may only create passes for their own household "
                f"({scope})"
            )
        self._check_household(household)
        places = data["places"]
        for place_id in places:
            if self.hub.places.get(place_id) is None:
                raise ServiceValidationError(f"places: unknown place {place_id!r}")
        if not (data["doors"] or places or data["door_groups"]):
            raise ServiceValidationError(
                "doors: name at least one door, place on the route, or door group"
            )
        tz = self.hub.config.tzinfo
        try:
            valid_from, valid_until = resolve_window(
                self.hub.clock.now(),
                tz,
                day=data.get("day"),
                valid_from=data.get("valid_from"),
                valid_until=data.get("valid_until"),
                duration=data.get("duration"),
                max_length=self.max_length,
            )
        except WindowError as err:
            raise ServiceValidationError(str(err)) from None
        created_by = data.get("created_by") or call.context.user_id
        if created_by is None and scope is not None:
            created_by = f"household:{scope}"
        record = await self.book.create(
            NewPass(
                visitor_name=data["visitor_name"],
                phone=data.get("phone"),
                host_household=household,
                created_by=created_by,
                valid_from=valid_from,
                valid_until=valid_until,
                doors=tuple(data["doors"]),
                places=tuple(places),
                door_groups=tuple(data["door_groups"]),
                plate=data.get("plate"),
                max_uses=data.get("max_uses", self.default_max_uses),
            ),
            call.context,
        )
        return self.book.describe(record, with_qr=True)

    def _check_household(self, household: str) -> None:
        """With the registry loaded, the host household must be one of it."""
        registry = self.hub.integrations.loaded.get("registry")
        households = getattr(registry.runtime, "households", None) if registry else None
        if households and household not in households:
            raise ServiceValidationError(f"host_household: unknown household {household!r}")

    async def revoke(self, call: ServiceCall) -> ServiceResponse:
        scope = caller_scope(self.book, call)
        record = self.book.get(call.data["pass_id"])
        if record is None:
            raise ServiceValidationError(f"pass_id: no visitor pass {call.data['pass_id']!r}")
        if scope is not None and record.host_household != scope:
            raise NotAllowed("pass_id: a resident may only revoke their own household's passes")
        by = call.data.get("revoked_by") or call.context.user_id
        if by is None and scope is not None:
            by = f"household:{scope}"
        record = await self.book.revoke(record.pass_id, by, call.context)
        return self.book.describe(record)

    def list(self, call: ServiceCall) -> ServiceResponse:
        scope = caller_scope(self.book, call)
        household = call.data.get("household")
        if scope is not None:
            if household is not None and household != scope:
                raise NotAllowed("household: a resident may only list their own household")
            household = scope
        records = self.book.passes(statuses=call.data.get("status"), household=household)
        return {"passes": [self.book.describe(record) for record in records]}

    def check(self, call: ServiceCall) -> ServiceResponse:
        """What a gate does: validate, and on ``ok`` count the use (``visitor_pass_used``);
        a denial fires ``visitor_pass_denied`` with the reason."""
        door = call.data["door"]
        now = self.hub.clock.now()
        result = self.book.validate(call.data["token"], door, now)
        if result.ok and result.pass_id is not None:
            self.book.consume(result.pass_id, door, now)
        return {
            "ok": result.ok,
            "reason": result.reason,
            "pass_id": result.pass_id,
            "host_household": result.host_household,
            "visitor_name": result.visitor_name,
        }
