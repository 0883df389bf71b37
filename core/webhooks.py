"""Webhooks: ids that outside systems (door stations, a city platform, voice hooks) call over
HTTP to start automations. The registry is the hub's; the HTTP API passes requests to
:meth:`WebhookRegistry.handle` and answers with the status it returns."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .events import Unsubscribe

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    method: str
    json: Any = None
    form: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    is_local: bool = True


@dataclass(slots=True)
class _Webhook:
    handler: Callable[[WebhookRequest], None]
    allowed_methods: set[str]
    local_only: bool
    name: str


class WebhookRegistry:
    def __init__(self) -> None:
        self._hooks: dict[str, _Webhook] = {}

    def register(
        self,
        webhook_id: str,
        handler: Callable[[WebhookRequest], None],
        *,
        allowed_methods: set[str],
        local_only: bool = True,
        name: str = "",
    ) -> Unsubscribe:
        if webhook_id in self._hooks:
            raise ValueError(
                f"webhook id {webhook_id!r} is already used by {self._hooks[webhook_id].name}"
            )
        hook = _Webhook(handler, allowed_methods, local_only, name)
        self._hooks[webhook_id] = hook

        def unregister() -> None:
            if self._hooks.get(webhook_id) is hook:
                del self._hooks[webhook_id]

        return unregister

    def handle(self, webhook_id: str, request: WebhookRequest) -> int:
        """Deliver a request; returns the HTTP status to answer (200, 404, 405, 403)."""
        hook = self._hooks.get(webhook_id)
        if hook is None:
            return 404  # same answer for unknown ids and refused ones' existence checks
        if request.method not in hook.allowed_methods:
            return 405
        if hook.local_only and not request.is_local:
            return 403
        hook.handler(request)
        return 200

    def __contains__(self, webhook_id: object) -> bool:
        return webhook_id in self._hooks
