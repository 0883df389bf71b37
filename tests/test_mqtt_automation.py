"""The ``mqtt`` automation trigger and the ``mqtt.publish`` service, over a real broker."""

from __future__ import annotations

from pathlib import Path

import pytest

from shouwang.core.clock import ManualClock
from shouwang.core.hub import Hub
from shouwang.core.services import ServiceValidationError

from .automation_helpers import capture, start_hub
from .mqtt_helpers import peer, setup_mqtt, unique, wait_for
from .services import Mosquitto


def mqtt_config(broker: Mosquitto) -> str:
    return (
        "shouwang:\n  time_zone: Asia/Shanghai\n"
        f"mqtt:\n  broker: {broker.host}\n  port: {broker.port}\n  discovery: false\n"
    )


async def test_trigger_with_wildcards_payload_match_and_value_template(
    tmp_path: Path, clock: ManualClock, mosquitto: Mosquitto
) -> None:
    base = unique()
    hub = await start_hub(
        tmp_path,
        clock,
        f"""
        - id: any_message
          mode: parallel
          triggers:
            - trigger: mqtt
              topic: "{base}/+/contact"
          actions:
            - event: seen_any
              event_data:
                topic: "{{{{ trigger.topic }}}}"
                payload: "{{{{ trigger.payload }}}}"
                qos: "{{{{ trigger.qos }}}}"
                platform: "{{{{ trigger.platform }}}}"
        - id: only_open
          triggers:
            - platform: mqtt
              topic: "{base}/#"
              payload: "open"
              value_template: "{{{{ value_json.state }}}}"
              qos: 1
          actions:
            - event: seen_open
              event_data:
                door: "{{{{ trigger.payload_json.door }}}}"
        """,
        configuration=mqtt_config(mosquitto),
    )
    try:
        await hub.block_till_done()  # the triggers' subscriptions are acknowledged
        seen_any = capture(hub, "seen_any")
        seen_open = capture(hub, "seen_open")
        with peer(mosquitto) as device:
            device.publish(f"{base}/gate/contact", '{"state": "closed", "door": "gate"}')
            device.publish(f"{base}/unit1/contact", '{"state": "open", "door": "unit1"}')
            device.publish(f"{base}/unit1/other", "not json")
            await wait_for(lambda: len(seen_any) == 2 and seen_open)
        assert [event.data["topic"] for event in seen_any] == [
            f"{base}/gate/contact",
            f"{base}/unit1/contact",
        ]
        assert seen_any[0].data["payload"] == {"state": "closed", "door": "gate"}
        assert seen_any[0].data["platform"] == "mqtt"
        assert seen_any[0].data["qos"] == 0
        assert [event.data["door"] for event in seen_open] == ["unit1"]
    finally:
        await hub.stop(timeout=1)


async def test_trigger_ignores_undecodable_payloads(
    tmp_path: Path, clock: ManualClock, mosquitto: Mosquitto
) -> None:
    base = unique()
    hub = await start_hub(
        tmp_path,
        clock,
        f"""
        - id: text
          mode: parallel
          triggers:
            - trigger: mqtt
              topic: "{base}/text"
          actions:
            - event: got_text
              event_data: {{payload: "{{{{ trigger.payload }}}}"}}
        """,
        configuration=mqtt_config(mosquitto),
    )
    try:
        await hub.block_till_done()
        got = capture(hub, "got_text")
        client = hub.integrations.runtime("mqtt")
        with peer(mosquitto) as device:
            device.publish(f"{base}/text", b"\xff\xfe")
            device.publish(f"{base}/text", "门开了")
            await wait_for(lambda: got)
        assert [event.data["payload"] for event in got] == ["门开了"]
        assert client.stats["malformed"] == 1
    finally:
        await hub.stop(timeout=1)


async def test_invalid_trigger_configs_are_reported(
    tmp_path: Path, clock: ManualClock, mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    hub = await start_hub(
        tmp_path,
        clock,
        """
        - id: bad_filter
          triggers:
            - trigger: mqtt
              topic: "a/#/b"
          actions: []
        - id: bad_encoding
          triggers:
            - trigger: mqtt
              topic: "a/b"
              encoding: klingon
          actions: []
        """,
        configuration=mqtt_config(mosquitto),
    )
    try:
        assert "main.yaml:5:" in caplog.text
        assert "triggers.0.topic: 'a/#/b': '#' must be the whole last level" in caplog.text
        assert "main.yaml:11:" in caplog.text
        assert "triggers.0.encoding: unknown encoding 'klingon'" in caplog.text
        assert hub.states.get("automation.bad_filter") is None
        assert hub.states.get("automation.bad_encoding") is None
    finally:
        await hub.stop(timeout=1)


async def test_publish_service_renders_templates(hub: Hub, mosquitto: Mosquitto) -> None:
    client = await setup_mqtt(hub, mosquitto)
    base = unique()
    hub.states.set("sensor.gate_count", "42")
    with peer(mosquitto) as watcher:
        watcher.subscribe(f"{base}/#")
        await hub.services.call(
            "mqtt",
            "publish",
            {
                "topic": base + "/{{ 'gate' }}/count",
                "payload": "{{ states('sensor.gate_count') | int + 1 }}",
                "qos": 1,
            },
            blocking=True,
        )
        message = await watcher.next()
        assert (message.topic, message.payload, message.retain) == (
            f"{base}/gate/count",
            b"43",
            False,
        )
        await hub.services.call(
            "mqtt",
            "publish",
            {"topic": f"{base}/json", "payload": {"a": [1, 2]}, "retain": True, "qos": 1},
            blocking=True,
        )
        message = await watcher.next()
        assert message.payload == b'{"a":[1,2]}'
    await client.publish(f"{base}/json", b"", qos=1, retain=True)  # clear the retained copy
    with pytest.raises(ServiceValidationError, match="topic"):
        await hub.services.call(
            "mqtt", "publish", {"topic": base + "/{{ '#' }}", "payload": "x"}, blocking=True
        )
    with pytest.raises(ServiceValidationError, match="payload"):
        await hub.services.call(
            "mqtt", "publish", {"topic": f"{base}/x", "payload": "{{ 1 / }}"}, blocking=True
        )
    with pytest.raises(ServiceValidationError, match="qos"):
        await hub.services.call(
            "mqtt", "publish", {"topic": f"{base}/x", "payload": "1", "qos": 3}, blocking=True
        )


async def test_automation_publishes_with_trigger_variables(
    tmp_path: Path, clock: ManualClock, mosquitto: Mosquitto
) -> None:
    base = unique()
    hub = await start_hub(
        tmp_path,
        clock,
        f"""
        - id: relay
          mode: queued
          triggers:
            - trigger: mqtt
              topic: "{base}/in/+"
          actions:
            - action: mqtt.publish
              data:
                topic: "{base}/out/{{{{ trigger.topic.split('/')[-1] }}}}"
                payload: "{{{{ trigger.payload | upper }}}}"
                qos: 1
        """,
        configuration=mqtt_config(mosquitto),
    )
    try:
        await hub.block_till_done()
        with peer(mosquitto) as device:
            device.subscribe(f"{base}/out/#")
            device.publish(f"{base}/in/gate", "ring")
            message = await device.next(f"{base}/out/gate")
            assert message.payload == b"RING"
    finally:
        await hub.stop(timeout=1)


async def test_trigger_topic_template_from_trigger_variables(
    tmp_path: Path, clock: ManualClock, mosquitto: Mosquitto
) -> None:
    base = unique()
    hub = await start_hub(
        tmp_path,
        clock,
        f"""
        - id: templated
          trigger_variables:
            gate: north
          triggers:
            - trigger: mqtt
              topic: "{base}/{{{{ gate }}}}/ring"
          actions:
            - event: rang
              event_data: {{topic: "{{{{ trigger.topic }}}}"}}
        """,
        configuration=mqtt_config(mosquitto),
    )
    try:
        await hub.block_till_done()
        rang = capture(hub, "rang")
        with peer(mosquitto) as device:
            device.publish(f"{base}/south/ring", "1")
            device.publish(f"{base}/north/ring", "1")
            await wait_for(lambda: rang)
        assert [event.data["topic"] for event in rang] == [f"{base}/north/ring"]
    finally:
        await hub.stop(timeout=1)
