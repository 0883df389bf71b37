"""Who a logged-in user is to the intercom and the visitor passes.

Both integrations ask "which household does the user in ``Context.user_id`` act for?" through
a resolver the API side installs (their own default knows only registry person ids, not
accounts). For the browser apps to open doors and issue passes, accounts must resolve:

* ``intercom``'s ``CallManager.resolve_user``: a resident account -> a resident of their
  households;
  staff, guards, admins and service accounts -> guard rights; anything else falls through to
  the resolver that was installed before (registry person ids);
* ``visitor_pass``'s ``PassBook.user_household``: a resident account with exactly one household
  -> that household (with several, callers give ``caller_household``, which the panel's pass
  endpoints do after checking it is one of theirs); everyone else -> unscoped. Left alone if
  another integration installed one already.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shouwang.integrations.auth.policy import Role

if TYPE_CHECKING:
    from shouwang.core.hub import Hub
    from shouwang.integrations.auth import AuthManager
    from shouwang.integrations.intercom.rights import Actor


def install(hub: Hub, auth: AuthManager) -> list[str]:
    """Install the resolvers on whichever of the two integrations is loaded; returns where."""
    installed: list[str] = []
    intercom = hub.integrations.loaded.get("intercom")
    if intercom is not None and hasattr(intercom.runtime, "resolve_user"):
        _install_intercom(intercom.runtime, auth)
        installed.append("intercom")
    passes = hub.integrations.loaded.get("visitor_pass")
    if passes is not None and getattr(passes.runtime, "user_household", 0) is None:

        def user_household(user_id: str) -> str | None:
            user = auth.get_user(user_id)
            if user is None or user.role != Role.RESIDENT or len(user.households) != 1:
                return None
            return next(iter(user.households))

        passes.runtime.user_household = user_household
        installed.append("visitor_pass")
    return installed


def _install_intercom(manager: object, auth: AuthManager) -> None:
    from shouwang.integrations.intercom.rights import (
        ACTOR_GUARD,
        ACTOR_NOBODY,
        ACTOR_RESIDENT,
        Actor,
    )

    previous = getattr(manager, "resolve_user", None)

    def resolve(user_id: str) -> Actor | None:
        user = auth.get_user(user_id)
        if user is None:
            return previous(user_id) if previous is not None else None
        label = f"user:{user.name}"
        if not user.is_active:
            return Actor(ACTOR_NOBODY, label, why_nobody="account disabled")
        if user.role == Role.RESIDENT:
            if not user.households:
                return Actor(ACTOR_NOBODY, label, why_nobody="no household")
            return Actor(ACTOR_RESIDENT, label, frozenset(user.households))
        return Actor(ACTOR_GUARD, label)

    manager.resolve_user = resolve  # type: ignore[attr-defined]
