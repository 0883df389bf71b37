"""The MQTT client against a real Mosquitto that demands TLS (a CA made here with
``cryptography``) and a username/password (``mosquitto_passwd``): it connects with the right
settings, and with a wrong password it is refused, says so, keeps the hub running and never
logs the password."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shouwang.core.hub import Hub
from shouwang.integrations.mqtt import MqttMessage

from .mqtt_helpers import setup_mqtt, unique, wait_for
from .services import Mosquitto

pytestmark = pytest.mark.both_loops  # shouwang run uses uvloop when installed

PASSWORD = "s3cret-gate-pass"


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _make_certificates(folder: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Shouwang test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    _write_key(key, folder / "server.key")


@pytest.fixture
def secure_mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path / "mosquitto")
    folder = broker.workdir
    _make_certificates(folder)
    passwords = folder / "passwords"
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(passwords), "hub", PASSWORD],
        check=True,
        capture_output=True,
    )
    passwords.chmod(0o600)
    broker.config.write_text(
        broker.config.read_text()
        .replace("allow_anonymous true\n", "allow_anonymous false\n")
        .replace(
            f"listener {broker.port} 127.0.0.1\n",
            f"listener {broker.port} 127.0.0.1\n"
            f"cafile {folder / 'ca.pem'}\n"
            f"certfile {folder / 'server.pem'}\n"
            f"keyfile {folder / 'server.key'}\n",
        )
        + f"password_file {passwords}\n"
    )
    broker.start()
    yield broker
    broker.stop()


async def test_tls_with_username_and_password(hub: Hub, secure_mosquitto: Mosquitto) -> None:
    ca = str(secure_mosquitto.workdir / "ca.pem")
    client = await setup_mqtt(
        hub, secure_mosquitto, username="hub", password=PASSWORD, tls={"ca_certs": ca}
    )
    assert client.connected
    topic = unique() + "/tls"
    got: list[MqttMessage] = []
    await client.subscribe(topic, got.append, qos=1)
    await client.publish(topic, "encrypted", qos=1)
    await wait_for(lambda: got)
    assert got[0].payload == b"encrypted"


async def test_wrong_password_is_refused_and_never_logged(
    hub: Hub, secure_mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    ca = str(secure_mosquitto.workdir / "ca.pem")
    wrong = "wrong-" + PASSWORD
    with caplog.at_level(logging.DEBUG):
        await hub.integrations.setup_many(
            {
                "mqtt": {
                    "broker": secure_mosquitto.host,
                    "port": secure_mosquitto.port,
                    "username": "hub",
                    "password": wrong,
                    "tls": {"ca_certs": ca},
                    "discovery": False,
                }
            }
        )
        client = hub.integrations.runtime("mqtt")  # set up; keeps retrying in the background
        assert not client.connected
    assert "refused the connection" in caplog.text
    assert wrong not in caplog.text and PASSWORD not in caplog.text


async def test_tls_insecure_skips_certificate_checks(hub: Hub, secure_mosquitto: Mosquitto) -> None:
    client = await setup_mqtt(
        hub, secure_mosquitto, username="hub", password=PASSWORD, tls={"insecure": True}
    )
    assert client.connected


async def test_tls_verifies_the_broker_certificate(
    hub: Hub, secure_mosquitto: Mosquitto, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the system CAs only, the test CA's certificate is not trusted: no connection."""
    import shouwang.integrations.mqtt as mqtt_integration

    monkeypatch.setattr(mqtt_integration, "CONNECT_WAIT", 1.0)
    client = await setup_mqtt(hub, secure_mosquitto, username="hub", password=PASSWORD, tls=True)
    assert not client.connected
