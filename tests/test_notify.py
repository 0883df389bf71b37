"""notify: MQTT targets (QoS 1, never retained, on the real broker) and webhook targets
(aiohttp POST), ``notify.send`` and ``notify.<target>``, config and delivery errors."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
import voluptuous as vol
from aiohttp import web

from shouwang.core.hub import Hub
from shouwang.core.services import ServiceError, ServiceValidationError
from shouwang.integrations.notify import CONFIG_SCHEMA, Notifier

from .mqtt_helpers import Peer, setup_mqtt, unique
from .services import Mosquitto, free_port


async def setup_notify(hub: Hub, targets: dict[str, Any]) -> Notifier:
    await hub.integrations.setup_many({"notify": {"targets": targets}})
    assert "notify" in hub.integrations.loaded, hub.integrations.failed
    notifier = hub.integrations.runtime("notify")
    assert isinstance(notifier, Notifier)
    return notifier


class Webhook:
    """A small HTTP receiver standing in for a police / property platform."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.status = 200
        self.delay = 0.0
        self.port = free_port()
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def handle(self, request: web.Request) -> web.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.received.append(await request.json())
        self.headers.append(dict(request.headers))
        return web.Response(status=self.status, text="busy" if self.status >= 400 else "ok")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def webhook() -> AsyncIterator[Webhook]:
    receiver = Webhook()
    await receiver.start()
    yield receiver
    await receiver.stop()


async def test_mqtt_target_qos1_not_retained(hub: Hub, mosquitto: Mosquitto) -> None:
    topic = unique("notify") + "/guards"
    await setup_mqtt(hub, mosquitto)
    notifier = await setup_notify(hub, {"guards": {"mqtt": topic}})
    peer = Peer(mosquitto)
    peer.subscribe(topic, qos=1)
    try:
        await hub.services.call(
            "notify",
            "send",
            {
                "target": "guards",
                "title": "夜间陌生人",
                "message": "北门有陌生人",
                "data": {"snapshot_url": "http://nvr/api/events/1/snapshot.jpg"},
            },
            blocking=True,
        )
        message = await asyncio.to_thread(peer.received.get, True, 10)
        assert message.qos == 1
        assert not message.retain
        document = json.loads(message.payload)
        assert document["target"] == "guards"
        assert document["title"] == "夜间陌生人"
        assert document["message"] == "北门有陌生人"
        assert document["data"] == {"snapshot_url": "http://nvr/api/events/1/snapshot.jpg"}
        assert document["time"] == hub.clock.now().isoformat()
        assert document["context_id"]
        # Home Assistant's form: notify.<target>
        await hub.services.call("notify", "guards", {"message": "second"}, blocking=True)
        second = await asyncio.to_thread(peer.received.get, True, 10)
        assert json.loads(second.payload)["message"] == "second"
        assert notifier.sent == 2
    finally:
        peer.client.loop_stop()
        peer.client.disconnect()


async def test_webhook_target(hub: Hub, webhook: Webhook) -> None:
    await setup_notify(
        hub,
        {"police_webhook": {"webhook": webhook.url, "headers": {"X-Token": "abc"}}},
    )
    await hub.services.call(
        "notify",
        "police_webhook",
        {"message": "陌生人", "data": {"snapshot_url": "http://nvr/x.jpg"}},
        blocking=True,
    )
    assert webhook.received[0]["message"] == "陌生人"
    assert webhook.received[0]["data"]["snapshot_url"] == "http://nvr/x.jpg"
    assert webhook.received[0]["target"] == "police_webhook"
    assert webhook.headers[0]["X-Token"] == "abc"
    assert webhook.headers[0]["Content-Type"] == "application/json"


async def test_webhook_failures_name_the_target(
    hub: Hub, webhook: Webhook, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = await setup_notify(
        hub,
        {
            "police_webhook": {"webhook": webhook.url, "timeout": 0.2},
            "dead": {"webhook": f"http://127.0.0.1:{free_port()}/hook"},
        },
    )
    webhook.status = 500
    with (
        caplog.at_level(logging.ERROR),
        pytest.raises(ServiceError, match=r"notify target police_webhook: .*HTTP 500: busy"),
    ):
        await hub.services.call(
            "notify", "send", {"target": "police_webhook", "message": "张三"}, blocking=True
        )
    assert "notify target police_webhook" in caplog.text
    assert "张三" not in caplog.text  # the message may name people: never logged
    webhook.status, webhook.delay = 200, 1.0
    with pytest.raises(ServiceError, match=r"no answer within 0\.2 s"):
        await hub.services.call("notify", "police_webhook", {"message": "x"}, blocking=True)
    with pytest.raises(ServiceError, match="notify target dead: webhook failed"):
        await hub.services.call("notify", "dead", {"message": "x"}, blocking=True)
    assert notifier.failed == 3


async def test_send_to_several_and_unknown_targets(hub: Hub, webhook: Webhook) -> None:
    await setup_notify(hub, {"a": {"webhook": webhook.url}, "b": {"webhook": webhook.url + "?b=1"}})
    await hub.services.call("notify", "send", {"target": ["a", "b"], "message": "m"}, blocking=True)
    assert sorted(doc["target"] for doc in webhook.received) == ["a", "b"]
    with pytest.raises(ServiceValidationError, match="unknown target 'c'"):
        await hub.services.call("notify", "send", {"target": "c", "message": "m"}, blocking=True)
    with pytest.raises(ServiceValidationError, match="message"):
        await hub.services.call("notify", "send", {"target": "a"}, blocking=True)


async def test_mqtt_target_without_mqtt_integration(hub: Hub) -> None:
    await setup_notify(hub, {"guards": {"mqtt": "x/guards"}})
    with pytest.raises(ServiceError, match="notify target guards: the mqtt integration"):
        await hub.services.call("notify", "guards", {"message": "m"}, blocking=True)


@pytest.mark.parametrize(
    ("targets", "problem"),
    [
        ({"guards": {}}, "a target needs mqtt: <topic> or webhook: <url>"),
        ({"guards": {"mqtt": "a/b", "webhook": "http://x"}}, "two or more values"),
        ({"Guards": {"mqtt": "a/b"}}, "lower-case letters"),
        ({"send": {"mqtt": "a/b"}}, "'send' is the service's own name"),
        ({"guards": {"mqtt": "a/#"}}, "without wildcards"),
        ({"guards": {"webhook": "ftp://x"}}, "does not match"),
        ({"guards": {"webhook": "http://x", "timeout": 0}}, "timeout"),
    ],
)
def test_config_errors(targets: dict[str, Any], problem: str) -> None:
    with pytest.raises(vol.Invalid) as caught:
        CONFIG_SCHEMA({"targets": targets})
    assert problem in str(caught.value)
