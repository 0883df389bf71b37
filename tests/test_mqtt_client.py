"""The shared MQTT client against a real Mosquitto: publish/subscribe, wildcards, shared
subscriptions, malformed payloads, birth/will, config errors, reconnect and QoS 1 across a
broker restart."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from shouwang.core.clock import ManualClock
from shouwang.core.hub import Hub
from shouwang.integrations.mqtt import MqttClient, MqttMessage, MqttPayloadError
from shouwang.integrations.mqtt.config import CONFIG_SCHEMA

from .mqtt_helpers import peer, setup_mqtt, unique, wait_for
from .services import Mosquitto

pytestmark = pytest.mark.both_loops  # shouwang run uses uvloop when installed


async def test_publish_and_subscribe_round_trip(hub: Hub, mosquitto: Mosquitto) -> None:
    client = await setup_mqtt(hub, mosquitto)
    assert client.connected
    base = unique()
    got: list[MqttMessage] = []
    await client.subscribe(f"{base}/door", got.append, qos=1)
    await client.publish(f"{base}/door", "open", qos=1)
    await wait_for(lambda: got)
    assert got[0] == MqttMessage(f"{base}/door", b"open", 1, False)
    assert got[0].text() == "open"
    assert client.stats["received"] == 1
    assert client.stats["published"] >= 1


async def test_wildcards_matched_locally(hub: Hub, mosquitto: Mosquitto) -> None:
    client = await setup_mqtt(hub, mosquitto)
    base = unique()
    plus: list[str] = []
    hash_: list[str] = []
    exact: list[str] = []
    await client.subscribe(f"{base}/+/state", lambda m: plus.append(m.topic))
    await client.subscribe(f"{base}/#", lambda m: hash_.append(m.topic))
    await client.subscribe(f"{base}/a/state", lambda m: exact.append(m.topic))
    with peer(mosquitto) as device:
        device.publish(f"{base}/a/state", "1")
        device.publish(f"{base}/b/state", "1")
        device.publish(f"{base}/b/other", "1")
        await wait_for(lambda: len(hash_) == 3)
    assert plus == [f"{base}/a/state", f"{base}/b/state"]
    assert exact == [f"{base}/a/state"]


async def test_shared_subscription_and_unsubscribe(hub: Hub, mosquitto: Mosquitto) -> None:
    client = await setup_mqtt(hub, mosquitto)
    topic = unique() + "/shared"
    first: list[bytes] = []
    second: list[bytes] = []
    unsubscribe_first = await client.subscribe(topic, lambda m: first.append(m.payload))

    async def async_second(message: MqttMessage) -> None:
        second.append(message.payload)

    unsubscribe_second = await client.subscribe(topic, async_second)
    assert len(client._filters) >= 1 and len(client._filters[topic].listeners) == 2
    await client.publish(topic, "x", qos=1)
    await wait_for(lambda: first and second)
    assert first == [b"x"] and second == [b"x"]
    unsubscribe_first()
    await client.publish(topic, "y", qos=1)
    await wait_for(lambda: len(second) == 2)
    assert first == [b"x"]
    unsubscribe_second()
    assert topic not in client._filters
    unsubscribe_second()  # twice is harmless


async def test_newcomer_on_a_shared_filter_gets_retained_once(
    hub: Hub, mosquitto: Mosquitto
) -> None:
    client = await setup_mqtt(hub, mosquitto)
    topic = unique() + "/retained"
    with peer(mosquitto) as device:
        device.publish(topic, "kept", retain=True)
    old: list[bytes] = []
    new: list[bytes] = []
    await client.subscribe(topic, lambda m: old.append(m.payload))
    await wait_for(lambda: old)
    await client.subscribe(topic, lambda m: new.append(m.payload))
    await wait_for(lambda: new)
    await client.publish(topic, "", retain=True, qos=1)  # clean up the broker
    await wait_for(lambda: len(new) == 2)
    assert old == [b"kept", b""] and new == [b"kept", b""]


async def test_malformed_payloads_are_counted_and_harmless(
    hub: Hub, mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    client = await setup_mqtt(hub, mosquitto, max_payload=64)
    base = unique()
    parsed: list[Any] = []

    def needs_json(message: MqttMessage) -> None:
        parsed.append(message.json())

    def needs_text(message: MqttMessage) -> None:
        parsed.append(message.text())

    def broken(message: MqttMessage) -> None:
        raise RuntimeError("boom")

    await client.subscribe(f"{base}/json", needs_json)
    await client.subscribe(f"{base}/text", needs_text)
    await client.subscribe(f"{base}/broken", broken)
    with caplog.at_level(logging.WARNING), peer(mosquitto) as device:
        device.publish(f"{base}/json", "{not json")
        device.publish(f"{base}/text", b"\xff\xfe")
        device.publish(f"{base}/json", b"x" * 65)
        device.publish(f"{base}/broken", "1")
        device.publish(f"{base}/json", '{"ok": true}')
        await wait_for(lambda: parsed)
    assert parsed == [{"ok": True}]
    assert client.stats["malformed"] == 2
    assert client.stats["dropped_oversized"] == 1
    assert client.stats["callback_errors"] == 1
    assert f"{base}/json" in caplog.text and f"{base}/text" in caplog.text
    assert f"{base}/broken" in caplog.text


def test_payload_errors_name_the_topic() -> None:
    with pytest.raises(MqttPayloadError, match="a/b: payload is not valid UTF-8"):
        MqttMessage("a/b", b"\xff").text()
    with pytest.raises(MqttPayloadError, match="a/b: payload is not valid JSON"):
        MqttMessage("a/b", b"{").json()
    assert MqttMessage("a/b", "门".encode()).text() == "门"


async def test_invalid_filters_and_topics_are_refused(hub: Hub, mosquitto: Mosquitto) -> None:
    client = await setup_mqtt(hub, mosquitto)
    with pytest.raises(Exception, match="'#' must be the whole last level"):
        await client.subscribe("a/#/b", print)
    with pytest.raises(Exception, match=r"'\+' must be a whole level"):
        await client.subscribe("a/b+", print)
    with pytest.raises(ValueError, match="not a topic to publish on"):
        await client.publish("a/+", "x")


async def test_birth_and_will(hub: Hub, mosquitto: Mosquitto) -> None:
    status = unique() + "/status"
    with peer(mosquitto) as watcher:
        watcher.subscribe(status)
        client = await setup_mqtt(hub, mosquitto, birth={"topic": status}, will={"topic": status})
        online = await watcher.next(status)
        assert online.payload == b"online" and online.retain is False  # live delivery
        await client.stop()
        offline = await watcher.next(status)
        assert offline.payload == b"offline"
        assert not client.connected
    with peer(mosquitto) as late:
        late.subscribe(status)
        retained = await late.next(status)
        assert retained.payload == b"offline" and retained.retain


def test_config_defaults_and_errors() -> None:
    config = CONFIG_SCHEMA({"broker": "mqtt.local"})
    assert config["port"] == 1883 and config["keepalive"] == 60
    assert config["discovery"] is True and config["discovery_prefix"] == "homeassistant"
    assert config["birth"] == {
        "topic": "shouwang/status",
        "payload": "online",
        "qos": 1,
        "retain": True,
    }
    assert config["will"]["payload"] == "offline"
    assert config["max_payload"] == 256 * 1024
    assert CONFIG_SCHEMA({"tls": {"ca_certs": "/ca.pem"}})["tls"]["insecure"] is False
    for bad, field in (
        ({"port": 70000}, "port"),
        ({"keepalive": "soon"}, "keepalive"),
        ({"tls": "yes please"}, "tls"),
        ({"discovery_prefix": "/ha/"}, "discovery_prefix"),
        ({"birth": {"topic": "a/#"}}, "birth"),
        ({"brokr": "x"}, "brokr"),
    ):
        with pytest.raises(Exception) as caught:
            CONFIG_SCHEMA(bad)
        assert field in str(caught.value), (bad, caught.value)


async def test_reconnect_resubscribes_and_qos1_survives_restart(
    hub: Hub, own_mosquitto: Mosquitto
) -> None:
    client = await setup_mqtt(hub, own_mosquitto)
    topic = unique() + "/guard_call"
    got: list[bytes] = []
    await client.subscribe(topic, lambda m: got.append(m.payload), qos=1)
    own_mosquitto.stop()
    await wait_for(lambda: not client.connected)
    # published while the broker is down: queued, sent after the reconnect, then acknowledged
    pending = asyncio.ensure_future(client.publish(topic, "call guard", qos=1))
    await asyncio.sleep(0)
    assert not pending.done()
    own_mosquitto.start()
    await asyncio.wait_for(pending, 30)
    await wait_for(lambda: got, timeout=30)
    assert got == [b"call guard"]
    assert client.stats["connects"] >= 2 and client.stats["disconnects"] >= 1
    # still subscribed after the reconnect, for messages from others too
    with peer(own_mosquitto) as device:
        device.publish(topic, "again")
        await wait_for(lambda: len(got) == 2)


async def test_qos1_messages_kept_by_the_broker_while_hub_is_away(
    own_mosquitto: Mosquitto,
) -> None:
    """Persistent session: what arrives for our QoS 1 subscription while the hub is down is
    delivered when it comes back under the same client id (across a broker restart too), and
    held for the subscription its integration makes during start-up."""
    loop = asyncio.get_running_loop()
    options: dict[str, Any] = {
        "broker": own_mosquitto.host,
        "port": own_mosquitto.port,
        "client_id": "hub-" + unique().replace("/", "-"),
    }
    topic = unique() + "/alarm"
    first = MqttClient(loop, **options)
    first.start()
    assert await first.wait_connected(10)
    await first.subscribe(topic, print, qos=1)
    await first.stop()
    with peer(own_mosquitto) as device:
        device.publish(topic, "while away", qos=1)
        device.publish(unique() + "/nobody", "unclaimed", qos=1)
    own_mosquitto.restart()
    second = MqttClient(loop, **options)
    second.start()
    try:
        assert await second.wait_connected(10)
        await wait_for(lambda: second._held)  # arrived before anyone subscribed
        got: list[bytes] = []
        await second.subscribe(topic, lambda m: got.append(m.payload), qos=1)
        assert got == [b"while away"]
        second.release_held()
        assert second.stats["unclaimed"] == 0
    finally:
        await second.stop()


async def test_async_callback_errors_are_counted(hub: Hub, mosquitto: Mosquitto) -> None:
    client = await setup_mqtt(hub, mosquitto)
    topic = unique() + "/async"
    done: list[bytes] = []

    async def failing(message: MqttMessage) -> None:
        if message.payload == b"boom":
            raise RuntimeError("boom")
        message.json()  # MqttPayloadError: counted as malformed, not as a callback error
        done.append(message.payload)

    await client.subscribe(topic, failing)
    with peer(mosquitto) as device:
        device.publish(topic, "boom")
        device.publish(topic, "{bad")
        device.publish(topic, "{}")
        await wait_for(lambda: done)
    await hub.block_till_done()
    assert client.stats["callback_errors"] == 1 and client.stats["malformed"] == 1


async def test_a_failure_inside_the_client_is_logged_and_the_connection_goes_on(
    hub: Hub,
    mosquitto: Mosquitto,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = await setup_mqtt(hub, mosquitto)
    topic = unique() + "/inside"
    got: list[bytes] = []
    await client.subscribe(topic, lambda m: got.append(m.payload))
    dispatch = client._dispatch

    def broken_once(raw: Any) -> None:
        if raw.payload == b"first":
            raise RuntimeError("a bug in the client")
        dispatch(raw)

    monkeypatch.setattr(client, "_dispatch", broken_once)
    with caplog.at_level(logging.ERROR), peer(mosquitto) as device:
        device.publish(topic, "first")
        device.publish(topic, "second")
        await wait_for(lambda: got)
    assert got == [b"second"] and client.connected
    assert "handling a received packet failed" in caplog.text


async def test_client_id_is_kept_per_config_dir_and_start_up_hold_released(
    tmp_path: Path, clock: ManualClock, mosquitto: Mosquitto
) -> None:
    configuration = (
        f"mqtt:\n  broker: {mosquitto.host}\n  port: {mosquitto.port}\n  discovery: false\n"
    )
    (tmp_path / "configuration.yaml").write_text(configuration, encoding="utf-8")
    ids = []
    for _ in range(2):
        hub = Hub(tmp_path, clock=clock)
        await hub.start()
        client = hub.integrations.runtime("mqtt")
        assert client.connected and not client._holding  # released at hub_started
        ids.append(client.client_id)
        await hub.stop(timeout=5)
    assert ids[0] == ids[1] and ids[0].startswith("shouwang-")
    assert (tmp_path / ".storage" / "mqtt_client_id").read_text().strip() == ids[0]
