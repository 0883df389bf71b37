"""The ``alarm_control_panel`` platform: intrusion panels of the perimeter, the car park and the
homes that have one.

Services ``alarm_arm_home``, ``alarm_arm_away``, ``alarm_arm_night``, ``alarm_arm_vacation``,
``alarm_arm_custom_bypass``, ``alarm_disarm`` and ``alarm_trigger``, each with an optional
``code``. The platform refuses a mode the panel does not support and a missing or malformed code
before the integration is asked; checking that the code is *right* is the panel's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar, Final

from ..entity import Entity, EntityService
from ..events import Context
from ..services import ServiceValidationError
from ._common import CODE_SCHEMA, NotSupportedError

DOMAIN: Final = "alarm_control_panel"

STATE_DISARMED: Final = "disarmed"
STATE_ARMING: Final = "arming"
STATE_ARMED_HOME: Final = "armed_home"
STATE_ARMED_AWAY: Final = "armed_away"
STATE_ARMED_NIGHT: Final = "armed_night"
STATE_ARMED_VACATION: Final = "armed_vacation"
STATE_ARMED_CUSTOM_BYPASS: Final = "armed_custom_bypass"
STATE_PENDING: Final = "pending"
STATE_TRIGGERED: Final = "triggered"
STATE_DISARMING: Final = "disarming"

#: every mode a panel can be armed in (a mode is the state the panel reports once armed)
ARM_MODES: Final = frozenset(
    {
        STATE_ARMED_HOME,
        STATE_ARMED_AWAY,
        STATE_ARMED_NIGHT,
        STATE_ARMED_VACATION,
        STATE_ARMED_CUSTOM_BYPASS,
    }
)


class CodeFormat(StrEnum):
    """What the panel's code looks like: digits (a keypad) or any text."""

    NUMBER = "number"
    TEXT = "text"


class AlarmControlPanelEntity(Entity):
    """An alarm panel. Implement :meth:`arm`, :meth:`disarm` (and :meth:`trigger` if the panel
    can be triggered remotely), set :attr:`alarm_state` and call :meth:`write_state`.

    :attr:`code_format` None means the panel takes no code; otherwise disarming needs one, and
    arming too while :attr:`code_arm_required`.
    """

    domain: ClassVar[str] = DOMAIN
    states: ClassVar[frozenset[str]] = frozenset(
        {STATE_DISARMED, STATE_ARMING, STATE_PENDING, STATE_TRIGGERED, STATE_DISARMING} | ARM_MODES
    )
    services: ClassVar[Mapping[str, EntityService]] = {
        "alarm_arm_home": EntityService("_arm_home_service", CODE_SCHEMA),
        "alarm_arm_away": EntityService("_arm_away_service", CODE_SCHEMA),
        "alarm_arm_night": EntityService("_arm_night_service", CODE_SCHEMA),
        "alarm_arm_vacation": EntityService("_arm_vacation_service", CODE_SCHEMA),
        "alarm_arm_custom_bypass": EntityService("_arm_custom_bypass_service", CODE_SCHEMA),
        "alarm_disarm": EntityService("_disarm_service", CODE_SCHEMA),
        "alarm_trigger": EntityService("trigger", CODE_SCHEMA),
    }

    #: one of :attr:`states`; None until the panel has reported
    alarm_state: str | None = None
    #: the arm modes (``armed_home`` …) this panel has
    supported_modes: frozenset[str] = frozenset({STATE_ARMED_HOME, STATE_ARMED_AWAY})
    code_format: CodeFormat | None = None
    code_arm_required: bool = True
    #: who last armed or disarmed the panel (a user, keypad or card), if the panel says
    changed_by: str | None = None

    @property
    def state(self) -> str | None:
        return self.alarm_state

    def state_attributes(self) -> dict[str, Any]:
        return {
            "code_format": None if self.code_format is None else CodeFormat(self.code_format).value,
            "code_arm_required": self.code_arm_required,
            "changed_by": self.changed_by,
            "supported_modes": sorted(self.supported_modes),
        }

    # -- what integrations implement --------------------------------------------------------
    async def arm(
        self, mode: str, *, code: str | None = None, context: Context | None = None
    ) -> None:
        """Arm in ``mode`` (one of :attr:`supported_modes`; already checked, as is the code)."""
        raise NotSupportedError(self, "arming")

    async def disarm(self, *, code: str | None = None, context: Context | None = None) -> None:
        raise NotSupportedError(self, "disarming")

    async def trigger(self, *, code: str | None = None, context: Context | None = None) -> None:
        raise NotSupportedError(self, "trigger")

    # -- services ---------------------------------------------------------------------------
    async def _arm_home_service(
        self, *, code: str | None = None, context: Context | None = None
    ) -> None:
        await self._arm_service(STATE_ARMED_HOME, code, context)

    async def _arm_away_service(
        self, *, code: str | None = None, context: Context | None = None
    ) -> None:
        await self._arm_service(STATE_ARMED_AWAY, code, context)

    async def _arm_night_service(
        self, *, code: str | None = None, context: Context | None = None
    ) -> None:
        await self._arm_service(STATE_ARMED_NIGHT, code, context)

    async def _arm_vacation_service(
        self, *, code: str | None = None, context: Context | None = None
    ) -> None:
        await self._arm_service(STATE_ARMED_VACATION, code, context)

    async def _arm_custom_bypass_service(
        self, *, code: str | None = None, context: Context | None = None
    ) -> None:
        await self._arm_service(STATE_ARMED_CUSTOM_BYPASS, code, context)

    async def _disarm_service(
        self, *, code: str | None = None, context: Context | None = None
    ) -> None:
        self._check_code(code, required=self.code_format is not None, action="disarm")
        await self.disarm(code=code, context=context)

    async def _arm_service(self, mode: str, code: str | None, context: Context | None) -> None:
        if mode not in self.supported_modes:
            supported = ", ".join(sorted(self.supported_modes)) or "none"
            raise NotSupportedError(self, mode, f"supported modes: {supported}")
        required = self.code_format is not None and self.code_arm_required
        self._check_code(code, required=required, action=f"arm ({mode})")
        await self.arm(mode, code=code, context=context)

    def _check_code(self, code: str | None, *, required: bool, action: str) -> None:
        if code is None or code == "":
            if required:
                raise ServiceValidationError(f"code: {self.entity_id} needs a code to {action}")
            return
        if self.code_format == CodeFormat.NUMBER and not (code.isascii() and code.isdigit()):
            raise ServiceValidationError(f"code: {self.entity_id} takes a code of digits only")
