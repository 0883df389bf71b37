"""``trigger: webhook``: an HTTP request to ``/api/webhook/<webhook_id>`` (served by the API).

The trigger registers its id in the hub's webhook registry (:mod:`shouwang.core.webhooks`);
the HTTP layer hands requests to the registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import voluptuous as vol

from ..events import Unsubscribe
from ..webhooks import WebhookRequest
from . import TriggerAction, TriggerInfo, schema

if TYPE_CHECKING:
    from ..hub import Hub

METHODS = ["GET", "HEAD", "POST", "PUT"]

SCHEMA = schema(
    "webhook",
    {
        vol.Required("webhook_id"): vol.All(str, vol.Length(min=1)),
        vol.Optional("allowed_methods", default=["POST", "PUT"]): [vol.In(METHODS)],
        vol.Optional("local_only", default=True): bool,
    },
)


def attach(
    hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
) -> Unsubscribe:
    webhook_id = config["webhook_id"]

    def received(request: WebhookRequest) -> None:
        data = {
            **info.base("webhook"),
            "webhook_id": webhook_id,
            "json": request.json,
            "data": request.form,
            "query": request.query,
            "description": f"webhook {webhook_id}",
        }
        action(data, None)

    return hub.webhooks.register(
        webhook_id,
        received,
        allowed_methods=set(config["allowed_methods"]),
        local_only=config["local_only"],
        name=info.name,
    )
