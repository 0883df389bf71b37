"""The demo's embedded broker carries real MQTT traffic (paho clients, QoS 1, wildcards)."""

from __future__ import annotations

import asyncio

import paho.mqtt.client as mqtt

from shouwang.integrations.demo.broker import EmbeddedBroker


async def test_embedded_broker_round_trip() -> None:
    broker = EmbeddedBroker(port=0)
    await broker.start()
    loop = asyncio.get_running_loop()
    received: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    subscribed = asyncio.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_message = lambda _c, _u, m: loop.call_soon_threadsafe(
        received.put_nowait, (m.topic, m.payload)
    )
    client.on_subscribe = lambda *_: loop.call_soon_threadsafe(subscribed.set)
    client.on_connect = lambda c, *_: c.subscribe("frigate/#", qos=1)
    try:
        client.connect(broker.host, broker.port)
        client.loop_start()
        await asyncio.wait_for(subscribed.wait(), 10)
        client.publish("frigate/events", b'{"type": "new"}', qos=1).wait_for_publish(5)
        topic, payload = await asyncio.wait_for(received.get(), 10)
        assert (topic, payload) == ("frigate/events", b'{"type": "new"}')
    finally:
        client.loop_stop()
        client.disconnect()
        await broker.stop()
    await broker.stop()  # stopping twice is harmless
