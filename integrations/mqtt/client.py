"""The hub's one MQTT connection, shared by every integration that speaks MQTT.

paho-mqtt runs in its "external loop" mode on the hub's event loop: the loop watches the
socket and calls paho's ``loop_read``/``loop_write``/``loop_misc``, so messages reach their
callbacks without crossing threads (no GIL hand-offs, no wake-up pipe); only the blocking
TCP/TLS connect runs in an executor. Subscriptions are shared: any number of callbacks on one
filter make one broker subscription, and wildcards are matched locally with paho's topic trie.
The session is persistent (``clean_session=False`` with a stable client id) so the broker keeps
QoS 1 messages for us while we are away; we reconnect with backoff and subscribe again on
every connect. QoS 1 publishes made while disconnected wait in paho's queue and go out after
the reconnect; :meth:`MqttClient.publish` returns once the broker has acknowledged them.

Nothing a device sends can break the hub: oversized payloads are dropped, payloads that fail
to decode (:meth:`MqttMessage.text`, :meth:`MqttMessage.json`) raise :class:`MqttPayloadError`
naming the topic, and any exception in a callback is logged with the topic and counted in
:attr:`MqttClient.stats`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, cast

import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.matcher import MQTTMatcher
from paho.mqtt.reasoncodes import ReasonCode

from shouwang.core.events import is_coroutine_callable

from .config import topic_filter

if TYPE_CHECKING:
    from .discovery import Discovery

_LOGGER = logging.getLogger(__name__)

MessageCallback = Callable[["MqttMessage"], Any]

#: how long stop waits for the "offline" message to be acknowledged
STOP_PUBLISH_TIMEOUT: Final = 3.0

#: unacknowledged QoS 1/2 publishes on the wire at once
MAX_INFLIGHT: Final = 1000

#: topics whose matching subscriptions are remembered (the memory is dropped when full)
MATCH_CACHE_MAX: Final = 10_000

#: at most this many unclaimed start-up messages are held (the oldest go first)
HELD_MAX: Final = 10_000

STAT_KEYS: Final = (
    "received",
    "published",
    "malformed",
    "callback_errors",
    "dropped_oversized",
    "dropped_disconnected",
    "unclaimed",
    "connects",
    "disconnects",
)


class MqttPayloadError(ValueError):
    """A payload that cannot be read as what its consumer expects; the message names the
    topic. Raised in a subscription callback it is counted as ``malformed``."""

    def __init__(self, topic: str, problem: str) -> None:
        self.topic = topic
        self.problem = problem
        super().__init__(f"{topic}: {problem}")


class MqttError(Exception):
    """The broker refused a publish or subscribe, or the client is stopped."""


@dataclass(frozen=True, slots=True)
class MqttMessage:
    """One received message."""

    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False

    def text(self) -> str:
        """The payload as UTF-8 text."""
        try:
            return self.payload.decode("utf-8")
        except UnicodeDecodeError as err:
            raise MqttPayloadError(
                self.topic, f"payload is not valid UTF-8 (byte {err.start})"
            ) from None

    def json(self) -> Any:
        """The payload parsed as JSON."""
        try:
            return orjson.loads(self.payload)
        except orjson.JSONDecodeError as err:
            raise MqttPayloadError(self.topic, f"payload is not valid JSON: {err}") from None


@dataclass(slots=True, eq=False)
class _Listener:
    callback: MessageCallback
    is_coro: bool
    #: topics whose retained message this listener has had since the last (re)connect, so
    #: re-subscribing for a newcomer does not hand old listeners the same message twice
    retained_seen: set[str] = field(default_factory=set)


@dataclass(slots=True, eq=False)
class _Filter:
    topic_filter: str
    qos: int
    listeners: list[_Listener] = field(default_factory=list)


def no_delay(client: paho.Client) -> None:
    """Turn off Nagle's algorithm on the client's socket. paho leaves it on, and small MQTT
    packets (a guard call, a PUBACK) then wait for the peer's delayed ACK: ~40 ms per hop."""
    sock = client.socket()
    if isinstance(sock, socket.socket):
        _tune(sock)


#: receive buffer asked for, so a burst of retained discovery configs is not throttled
RECEIVE_BUFFER: Final = 2 * 1024 * 1024


def _tune(sock: Any) -> None:
    raw = getattr(sock, "_socket", sock)  # paho's websocket wrapper hides the socket
    if not isinstance(raw, socket.socket) or raw.family not in (socket.AF_INET, socket.AF_INET6):
        return
    with contextlib.suppress(OSError):
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with contextlib.suppress(OSError):
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)


def _pending(sock: Any) -> int:
    """Bytes TLS has decrypted but paho has not read yet (0 for plain sockets)."""
    return int(sock.pending()) if isinstance(sock, ssl.SSLSocket) else 0


class MqttClient:
    """The shared MQTT client (``hub.integrations.runtime("mqtt")``)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        broker: str,
        port: int,
        client_id: str,
        keepalive: int = 60,
        username: str | None = None,
        password: str | None = None,
        tls: bool | Mapping[str, Any] = False,
        birth: Mapping[str, Any] | None = None,
        will: Mapping[str, Any] | None = None,
        max_payload: int = 256 * 1024,
        reconnect_min_delay: int = 1,
        reconnect_max_delay: int = 60,
        create_task: Callable[..., Any] | None = None,
    ) -> None:
        self._loop = loop
        self.broker = broker
        self.port = port
        self.client_id = client_id
        self._keepalive = keepalive
        self._birth = dict(birth) if birth else None
        self.max_payload = max_payload
        self._create_task: Callable[..., Any] = create_task or (
            lambda coro, name: loop.create_task(coro, name=name)
        )
        self.stats: dict[str, int] = dict.fromkeys(STAT_KEYS, 0)
        self.connected = False
        self._stopped = False
        self._filters: dict[str, _Filter] = {}
        # paho's topic trie (untyped): filter -> _Filter
        self._matcher: Any = cast(Any, MQTTMatcher)()
        # topic -> its matching filters: the trie walk is the same for every message on a
        # topic, and a hub sees the same few hundred topics over and over
        self._matches: dict[str, tuple[_Filter, ...]] = {}
        self._connected_event = asyncio.Event()
        self._refused_event = asyncio.Event()  # the broker answered "no" (credentials, ACL)
        # packets are written on a later loop iteration (_write_soon), so an acknowledgement
        # always arrives after the publish/subscribe call that registered its future
        self._pending_acks: dict[int, asyncio.Future[None]] = {}
        self._reconnect_delays = (
            float(reconnect_min_delay),
            float(max(reconnect_min_delay, reconnect_max_delay)),
        )
        # the socket on the loop (see "the socket on the hub loop" below)
        self._loop_thread: int | None = None
        self._connector: asyncio.Task[None] | None = None
        self._opening: asyncio.Future[Any] | None = None
        self._link_closed = asyncio.Event()
        self._link_connected = False
        self._fd: int | None = None
        self._writing = False
        self._write_scheduled = False
        self._misc_timer: asyncio.TimerHandle | None = None
        self._will = dict(will) if will else None
        #: Home Assistant discovery, when enabled (its own ``stats``)
        self.discovery: Discovery | None = None
        self._connection_listeners: list[Callable[[bool], None]] = []
        # Until the hub has started, messages nobody listens to yet (what the broker kept for
        # our session while we were away) are held for the subscriptions set up meanwhile.
        self._holding = True
        self._held: deque[MqttMessage] = deque(maxlen=HELD_MAX)

        self._paho = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            protocol=paho.MQTTv311,
        )
        self._paho.max_queued_messages_set(0)  # unbounded: never drop a queued QoS 1 message
        # paho allows 20 unacknowledged QoS 1/2 publishes by default: one broker round trip
        # per 20 messages caps a burst (a guard call storm) far below what the broker takes
        self._paho.max_inflight_messages_set(MAX_INFLIGHT)
        if username is not None:
            self._paho.username_pw_set(username, password)
        if tls:
            self._configure_tls(tls)
        if will:
            self._paho.will_set(will["topic"], will["payload"], will["qos"], will["retain"])
        self._paho.on_connect = self._on_connect
        self._paho.on_disconnect = self._on_disconnect
        self._paho.on_message = self._on_message
        self._paho.on_publish = self._on_ack
        self._paho.on_subscribe = self._on_subscribe
        self._paho.on_socket_open = self._on_socket_open
        self._paho.on_socket_close = self._on_socket_close
        self._paho.on_socket_register_write = self._on_socket_register_write
        self._paho.on_socket_unregister_write = self._on_socket_unregister_write
        # an exception escaping a callback would leave paho's reader mid-packet and the stream
        # garbled: our callbacks catch and log their own, and paho swallows any that slips by
        self._paho.suppress_exceptions = True

    def _configure_tls(self, tls: bool | Mapping[str, Any]) -> None:
        options = tls if isinstance(tls, Mapping) else {}
        self._paho.tls_set(
            ca_certs=options.get("ca_certs"),
            certfile=options.get("certfile"),
            keyfile=options.get("keyfile"),
            cert_reqs=ssl.CERT_NONE if options.get("insecure") else ssl.CERT_REQUIRED,
        )
        if options.get("insecure"):
            self._paho.tls_insecure_set(True)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Start connecting in the background. Attempts repeat with backoff until the broker
        answers, and again whenever the connection is lost. Call on the hub loop."""
        self._loop_thread = threading.get_ident()
        self._paho.connect_async(self.broker, self.port, self._keepalive)
        self._connector = self._loop.create_task(self._keep_connected(), name="mqtt connect")

    async def _keep_connected(self) -> None:
        delay = self._reconnect_delays[0]
        while not self._stopped:
            self._link_closed.clear()
            self._link_connected = False
            self._opening = self._loop.run_in_executor(None, self._paho.reconnect)
            try:
                await self._opening
            except (OSError, ValueError) as err:  # refused, unreachable, DNS, TLS, timeout
                _LOGGER.warning(
                    "MQTT: cannot connect to %s:%d: %s; again in %g s",
                    self.broker,
                    self.port,
                    err,
                    delay,
                )
            else:
                await self._link_closed.wait()
                if self._link_connected:
                    delay = self._reconnect_delays[0]
            finally:
                self._opening = None
            if self._stopped:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._reconnect_delays[1])

    async def wait_connected(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the connection (less if the broker refuses it);
        True if connected."""
        waits = [
            asyncio.ensure_future(self._connected_event.wait()),
            asyncio.ensure_future(self._refused_event.wait()),
        ]
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        return self.connected

    async def stop(self) -> None:
        """Say "offline" on the status topic (if the hub has one), disconnect cleanly."""
        if self._stopped:
            return
        will = self._will
        if will is not None and self.connected:
            try:
                async with asyncio.timeout(STOP_PUBLISH_TIMEOUT):
                    await self.publish(
                        will["topic"], will["payload"], max(1, will["qos"]), will["retain"]
                    )
            except (TimeoutError, MqttError) as err:
                _LOGGER.warning("MQTT: could not publish the offline status: %s", err)
        self._stopped = True
        if self._connector is not None:
            self._connector.cancel()
        if self._opening is not None:
            # a connection attempt cannot be cancelled mid-way: let it end, then close it
            await asyncio.wait([self._opening], timeout=STOP_PUBLISH_TIMEOUT)
        if self._paho.socket() is not None:
            self._link_closed.clear()
            self._paho.disconnect()  # the DISCONNECT packet is written, then paho closes
            try:
                async with asyncio.timeout(STOP_PUBLISH_TIMEOUT):
                    await self._link_closed.wait()
            except TimeoutError:
                self._close_socket()
        self.connected = False
        for future in self._pending_acks.values():
            if not future.done():
                future.set_exception(MqttError("MQTT client stopped"))
        self._pending_acks.clear()

    # -- the socket on the hub loop ---------------------------------------------------------
    # paho's "external loop" mode: the socket is watched by the hub's event loop and paho's
    # loop_read/loop_write/loop_misc run there. Only reconnect() (a blocking TCP/TLS connect)
    # runs in an executor; the socket callbacks it makes are handed to the loop in order.
    def _in_loop(self, function: Callable[..., None], *args: Any) -> None:
        if threading.get_ident() == self._loop_thread:
            function(*args)
        else:
            self._loop.call_soon_threadsafe(function, *args)

    def _on_socket_open(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        self._in_loop(self._watch, sock)

    def _on_socket_close(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        self._in_loop(self._unwatch)

    def _on_socket_register_write(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        self._in_loop(self._write_soon)

    def _on_socket_unregister_write(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        self._in_loop(self._stop_writing)

    def _watch(self, sock: Any) -> None:
        fd = sock.fileno()
        if fd < 0:
            return
        _tune(sock)
        self._fd = fd
        self._loop.add_reader(fd, self._readable)
        self._misc_timer = self._loop.call_later(1.0, self._misc)

    def _unwatch(self) -> None:
        if self._fd is not None:
            self._loop.remove_reader(self._fd)
            self._loop.remove_writer(self._fd)
            self._fd = None
        self._writing = False
        if self._misc_timer is not None:
            self._misc_timer.cancel()
            self._misc_timer = None
        self._link_closed.set()

    def _close_socket(self) -> None:
        sock = self._paho.socket()
        self._unwatch()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    def _readable(self) -> None:
        paho_client = self._paho
        while True:
            if paho_client.loop_read() != paho.MQTT_ERR_SUCCESS:
                return
            # TLS: records already decrypted wait in the SSL object, not in the kernel, so the
            # selector would not wake us for them
            sock = paho_client.socket()
            if sock is None or not _pending(sock):
                return

    def _write_soon(self) -> None:
        # one write pass per loop iteration, however many packets were queued in it
        if not self._write_scheduled:
            self._write_scheduled = True
            self._loop.call_soon(self._write)

    def _write(self) -> None:
        self._write_scheduled = False
        if self._fd is None:
            return
        self._paho.loop_write()
        if self._fd is not None and self._paho.want_write() and not self._writing:
            self._writing = True  # the socket's buffer is full: wait until it drains
            self._loop.add_writer(self._fd, self._write)

    def _stop_writing(self) -> None:
        if self._writing and self._fd is not None:
            self._loop.remove_writer(self._fd)
        self._writing = False

    def _misc(self) -> None:
        self._misc_timer = None
        if self._paho.loop_misc() == paho.MQTT_ERR_SUCCESS and self._fd is not None:
            self._misc_timer = self._loop.call_later(1.0, self._misc)

    # -- paho callbacks (on the hub loop, inside loop_read/loop_write) ------------------------
    def _on_connect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.ConnectFlags,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        if reason_code.is_failure:
            self._connect_failed(str(reason_code))
            return
        self._link_connected = True
        self._connected(flags.session_present)

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        self._disconnected(str(reason_code))

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        try:
            self._dispatch(message)
        except Exception:  # a bug of ours: never let it reach paho (see suppress_exceptions)
            _LOGGER.exception("MQTT %s: handling a received packet failed", message.topic)

    def _on_ack(
        self,
        client: paho.Client,
        userdata: Any,
        mid: int,
        reason_code: ReasonCode | None = None,
        properties: Any = None,
    ) -> None:
        future = self._pending_acks.pop(mid, None)
        if future is not None:
            _resolve(future, reason_code)

    def _on_subscribe(
        self,
        client: paho.Client,
        userdata: Any,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Any,
    ) -> None:
        failed = next((code for code in reason_codes if code.is_failure), None)
        self._on_ack(client, userdata, mid, failed)

    # -- on the hub loop --------------------------------------------------------------------
    def _connected(self, session_present: bool) -> None:
        self.connected = True
        self.stats["connects"] += 1
        _LOGGER.info(
            "MQTT connected to %s:%d as %s (session %s)",
            self.broker,
            self.port,
            self.client_id,
            "resumed" if session_present else "new",
        )
        for listeners in self._filters.values():
            for listener in listeners.listeners:
                listener.retained_seen.clear()
        for subscription in self._filters.values():
            self._send_subscribe(subscription.topic_filter, subscription.qos)
        if self._birth is not None:
            self._paho.publish(
                self._birth["topic"],
                self._birth["payload"],
                self._birth["qos"],
                self._birth["retain"],
            )
        self._connected_event.set()
        self._tell_connection(True)

    def _connect_failed(self, reason: str) -> None:
        self._refused_event.set()
        _LOGGER.error(
            "MQTT broker %s:%d refused the connection: %s", self.broker, self.port, reason
        )

    def _disconnected(self, reason: str) -> None:
        was_connected = self.connected
        self.connected = False
        self._connected_event.clear()
        if was_connected:
            self.stats["disconnects"] += 1
            if not self._stopped:
                _LOGGER.warning(
                    "MQTT disconnected from %s:%d (%s); reconnecting",
                    self.broker,
                    self.port,
                    reason,
                )
                self._tell_connection(False)

    def _tell_connection(self, connected: bool) -> None:
        for listener in list(self._connection_listeners):
            try:
                listener(connected)
            except Exception:
                _LOGGER.exception("MQTT connection listener %s failed", listener)

    def on_connection_change(self, listener: Callable[[bool], None]) -> Callable[[], None]:
        """Call ``listener(connected)`` on the hub loop whenever the connection is lost or
        made again; returns the function that removes it."""
        self._connection_listeners.append(listener)
        return lambda: self._connection_listeners.remove(listener)

    def _dispatch(self, raw: paho.MQTTMessage) -> None:
        topic = raw.topic
        payload = raw.payload
        self.stats["received"] += 1
        if len(payload) > self.max_payload:
            self.stats["dropped_oversized"] += 1
            _LOGGER.warning(
                "MQTT %s: payload of %d bytes exceeds max_payload %d; dropped",
                topic,
                len(payload),
                self.max_payload,
            )
            return
        message = MqttMessage(topic, bytes(payload), raw.qos, bool(raw.retain))
        subscriptions = self._matches.get(topic)
        if subscriptions is None:
            if len(self._matches) >= MATCH_CACHE_MAX:
                self._matches.clear()
            subscriptions = self._matches[topic] = tuple(self._matcher.iter_match(topic))
        if not subscriptions and self._holding:
            self._held.append(message)
            return
        for subscription in subscriptions:
            for listener in list(subscription.listeners):
                if message.retain:
                    if topic in listener.retained_seen:
                        continue
                    listener.retained_seen.add(topic)
                self._run(listener, message)

    def _run(self, listener: _Listener, message: MqttMessage) -> None:
        try:
            if listener.is_coro:
                self._create_task(self._run_async(listener, message), f"mqtt {message.topic}")
            else:
                listener.callback(message)
        except Exception as err:
            self._callback_failed(listener, message, err)

    async def _run_async(self, listener: _Listener, message: MqttMessage) -> None:
        try:
            await listener.callback(message)
        except Exception as err:
            self._callback_failed(listener, message, err)

    def _callback_failed(self, listener: _Listener, message: MqttMessage, err: Exception) -> None:
        if isinstance(err, MqttPayloadError):
            self.count_malformed(message.topic, err.problem)
            return
        self.stats["callback_errors"] += 1
        _LOGGER.error(
            "MQTT %s: callback %s failed",
            message.topic,
            getattr(listener.callback, "__qualname__", repr(listener.callback)),
            exc_info=err,
        )

    def count_malformed(self, topic: str, problem: str) -> None:
        """Log and count a payload a consumer could not use (for consumers that validate
        without raising)."""
        self.stats["malformed"] += 1
        _LOGGER.warning("MQTT %s: malformed payload: %s", topic, problem)

    # -- public API -------------------------------------------------------------------------
    async def subscribe(
        self, topic: str, callback: MessageCallback, qos: int = 0
    ) -> Callable[[], None]:
        """Call ``callback`` (plain or async; on the hub loop) with every message matching
        ``topic`` (wildcards allowed). Returns the function that unsubscribes. Waits for the
        broker's acknowledgement when connected."""
        topic = topic_filter(topic)
        if qos not in (0, 1, 2):
            raise ValueError(f"qos must be 0, 1 or 2, got {qos!r}")
        listener = _Listener(callback, is_coroutine_callable(callback))
        subscription = self._filters.get(topic)
        if subscription is None:
            subscription = self._filters[topic] = _Filter(topic, qos)
            self._matcher[topic] = subscription
            self._matches.clear()
        else:
            # a higher QoS upgrades the shared subscription; a newcomer subscribes again so
            # the broker replays retained messages (older listeners skip the ones they had)
            subscription.qos = max(subscription.qos, qos)
        subscription.listeners.append(listener)

        def unsubscribe() -> None:
            self._remove_listener(topic, listener)

        if self.connected:
            future = self._send_subscribe(topic, subscription.qos)
            if future is not None:
                await future
        for held in list(self._held):
            if paho.topic_matches_sub(topic, held.topic):
                self._run(listener, held)
        return unsubscribe

    def release_held(self) -> None:
        """Stop holding start-up messages; the ones nobody subscribed to are counted as
        ``unclaimed`` (the hub calls this once it has started)."""
        self._holding = False
        claimed = {
            id(message)
            for message in self._held
            if next(self._matcher.iter_match(message.topic), None) is not None
        }
        unclaimed = [message for message in self._held if id(message) not in claimed]
        self._held.clear()
        if unclaimed:
            self.stats["unclaimed"] += len(unclaimed)
            _LOGGER.info(
                "MQTT: %d message(s) received during start-up had no subscriber (first: %s)",
                len(unclaimed),
                unclaimed[0].topic,
            )

    def _remove_listener(self, topic: str, listener: _Listener) -> None:
        subscription = self._filters.get(topic)
        if subscription is None or listener not in subscription.listeners:
            return
        subscription.listeners.remove(listener)
        if subscription.listeners:
            return
        del self._filters[topic]
        del self._matcher[topic]
        self._matches.clear()
        if self.connected and not self._stopped:
            self._paho.unsubscribe(topic)

    def _send_subscribe(self, topic: str, qos: int) -> asyncio.Future[None] | None:
        result, mid = self._paho.subscribe(topic, qos)
        if result != paho.MQTT_ERR_SUCCESS or mid is None:
            return None  # not connected after all: the next connect subscribes
        return self._await_ack(mid)

    def _await_ack(self, mid: int) -> asyncio.Future[None]:
        future: asyncio.Future[None] = self._loop.create_future()
        self._pending_acks[mid] = future
        return future

    async def publish(
        self, topic: str, payload: str | bytes, qos: int = 0, retain: bool = False
    ) -> None:
        """Publish. QoS 0 is fire-and-forget (dropped and counted while disconnected); QoS 1
        and 2 return once the broker has acknowledged, waiting through reconnects."""
        if self._stopped:
            raise MqttError(f"{topic}: the MQTT client is stopped")
        if qos not in (0, 1, 2):
            raise ValueError(f"qos must be 0, 1 or 2, got {qos!r}")
        if not topic or "+" in topic or "#" in topic:
            raise ValueError(f"{topic!r} is not a topic to publish on")
        data = payload.encode() if isinstance(payload, str) else bytes(payload)
        if qos == 0:
            info = self._paho.publish(topic, data, 0, retain)
            if info.rc == paho.MQTT_ERR_SUCCESS:
                self.stats["published"] += 1
            else:
                self.stats["dropped_disconnected"] += 1
                _LOGGER.warning("MQTT %s: not connected; QoS 0 message dropped", topic)
            return
        info = self._paho.publish(topic, data, qos, retain)
        if info.rc not in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
            raise MqttError(f"{topic}: publish failed: {paho.error_string(info.rc)}")
        # NO_CONN: paho keeps the message and sends it after the reconnect
        await self._await_ack(info.mid)
        self.stats["published"] += 1


def _resolve(future: asyncio.Future[None], reason_code: ReasonCode | None) -> None:
    if future.done():
        return
    if reason_code is not None and reason_code.is_failure:
        future.set_exception(MqttError(f"broker refused: {reason_code}"))
    else:
        future.set_result(None)
