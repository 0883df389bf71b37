"""Event delivery to WebSocket subscribers who may not read everything (residents), without
asking each subscriber's scope about each event.

With a thousand household panels subscribed, asking every panel's scope about every
``state_changed`` would cost a thousand policy checks per state change. The policy's rule for
a state change is "the entity's households meet the user's households"
(``Scope.can_read_event`` -> ``can_read_entity`` -> ``households_of_entity``), so the router
asks ``households_of_entity`` once per change and hands the event to the subscribers indexed
under those households. Every other event type is asked of each subscriber's own scope
(``can_read_event``), unchanged. ``tests/test_api_routing.py`` checks the two ways agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from shouwang.core.events import Event, Unsubscribe
from shouwang.core.states import STATE_CHANGED
from shouwang.integrations.auth.policy import Scope

if TYPE_CHECKING:
    from shouwang.core.hub import Hub

Deliver = Callable[[Event], None]


class _Subscription:
    __slots__ = ("deliver", "scope")

    def __init__(self, scope: Scope, deliver: Deliver) -> None:
        self.scope = scope
        self.deliver = deliver


class _Route:
    """The scoped subscribers of one event type (or of every type)."""

    def __init__(self) -> None:
        self.subscriptions: set[_Subscription] = set()
        self.by_household: dict[str, set[_Subscription]] = {}
        self.unlisten: Unsubscribe | None = None


class ScopedEventRouter:
    """One bus listener per subscribed event type, shared by every scoped subscriber."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._routes: dict[str, _Route] = {}

    def subscribe(self, event_type: str, scope: Scope, deliver: Deliver) -> Unsubscribe:
        """Call ``deliver(event)`` for each ``event_type`` event (``"*"``: all) the scope may
        read. Returns the function that ends the subscription."""
        route = self._routes.get(event_type)
        if route is None:
            route = self._routes[event_type] = _Route()
            route.unlisten = self._hub.bus.listen(
                event_type,
                lambda event: self._dispatch(route, event),
                name=f"websocket scoped events ({event_type})",
            )
        subscription = _Subscription(scope, deliver)
        route.subscriptions.add(subscription)
        for household in scope.household_ids:
            route.by_household.setdefault(household, set()).add(subscription)

        def unsubscribe() -> None:
            route.subscriptions.discard(subscription)
            for household in scope.household_ids:
                members = route.by_household.get(household)
                if members is not None:
                    members.discard(subscription)
                    if not members:
                        del route.by_household[household]
            if not route.subscriptions and self._routes.get(event_type) is route:
                del self._routes[event_type]
                if route.unlisten is not None:
                    route.unlisten()

        return unsubscribe

    @staticmethod
    def _dispatch(route: _Route, event: Event) -> None:
        if event.event_type == STATE_CHANGED and route.subscriptions:
            households = next(iter(route.subscriptions)).scope.households_of_entity(
                event.data["entity_id"]
            )
            delivered: set[_Subscription] = set()
            for household in households:
                for subscription in route.by_household.get(household, ()):
                    if subscription not in delivered and subscription.scope.user.is_active:
                        delivered.add(subscription)
                        subscription.deliver(event)
            return
        for subscription in list(route.subscriptions):
            if subscription.scope.can_read_event(event):
                subscription.deliver(event)
