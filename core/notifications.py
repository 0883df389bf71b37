"""Persistent notifications: problems the operators must see (an integration that failed to set
up, a configuration error). Each is a ``persistent_notification.<id>`` entity the console and API
show until dismissed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import voluptuous as vol

from .entity import slugify
from .services import ServiceCall

if TYPE_CHECKING:
    from .hub import Hub

DOMAIN: Final = "persistent_notification"


def create(hub: Hub, notification_id: str, title: str, message: str) -> str:
    """Show (or replace) a notification; returns its entity id."""
    entity_id = f"{DOMAIN}.{slugify(notification_id) or 'notification'}"
    hub.states.set(
        entity_id,
        "notifying",
        {"title": title, "message": message, "notification_id": notification_id},
    )
    return entity_id


def dismiss(hub: Hub, notification_id: str) -> bool:
    return hub.states.remove(f"{DOMAIN}.{slugify(notification_id) or 'notification'}")


def register_services(hub: Hub) -> None:
    def handle_create(call: ServiceCall) -> None:
        create(hub, call.data["notification_id"], call.data.get("title", ""), call.data["message"])

    def handle_dismiss(call: ServiceCall) -> None:
        dismiss(hub, call.data["notification_id"])

    hub.services.register(
        DOMAIN,
        "create",
        handle_create,
        {
            vol.Required("message"): str,
            vol.Optional("title", default=""): str,
            vol.Optional("notification_id", default="notification"): str,
        },
    )
    hub.services.register(DOMAIN, "dismiss", handle_dismiss, {vol.Required("notification_id"): str})
