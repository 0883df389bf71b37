"""Hikvision ISAPI over HTTP: the calls a door station answers, and its event stream.

Endpoints (Hikvision "Intelligent Security API", video intercom and access control):

* ``GET /ISAPI/VideoIntercom/callStatus?format=json`` -> ``{"CallStatus": {"status":
  "idle" | "ring" | "onCall"}}``;
* ``PUT /ISAPI/VideoIntercom/callSignal?format=json`` with ``{"CallSignal": {"cmdType":
  "answer" | "hangUp" | "reject"}}``;
* ``PUT /ISAPI/AccessControl/RemoteControl/door/<n>`` with
  ``<RemoteControlDoor><cmd>open</cmd></RemoteControlDoor>``;
* ``GET /ISAPI/Event/notification/alertStream``: a never-ending ``multipart/mixed`` body whose
  parts are ``EventNotificationAlert`` XML documents (and sometimes JPEG pictures), read here
  part by part as the bytes arrive (:class:`MultipartReader`).

Answers that report failure are ISAPI ``ResponseStatus`` documents (XML or JSON) with a
``statusCode`` other than 1; they become :class:`IsapiError` with the device's words.
Authentication is HTTP digest (RFC 7616) through aiohttp's own ``DigestAuthMiddleware``.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp

CALL_STATUS_PATH: Final = "/ISAPI/VideoIntercom/callStatus?format=json"
CALL_SIGNAL_PATH: Final = "/ISAPI/VideoIntercom/callSignal?format=json"
DOOR_PATH: Final = "/ISAPI/AccessControl/RemoteControl/door/{door}"
ALERT_STREAM_PATH: Final = "/ISAPI/Event/notification/alertStream"
CALL_STATUSES: Final = frozenset({"idle", "ring", "onCall"})
CALL_SIGNALS: Final = frozenset({"answer", "hangUp", "reject"})
#: largest alert part accepted; anything bigger is skipped (a runaway or hostile stream)
MAX_PART: Final = 1 << 20


class IsapiError(Exception):
    """A request to the device failed; the message names the device, the request and why."""


class IsapiAuthError(IsapiError):
    """The device refused the username or password (HTTP 401 after the digest exchange)."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def xml_to_dict(element: ET.Element) -> dict[str, Any]:
    """An XML element as nested dicts, namespaces dropped; leaves become their text."""
    result: dict[str, Any] = {}
    for child in element:
        value: Any = xml_to_dict(child) if len(child) else (child.text or "").strip()
        result[_local(child.tag)] = value
    return result


@dataclass(frozen=True, slots=True)
class Alert:
    """One ``EventNotificationAlert``: its event type and state, and the fields that the
    intercom uses from an ``AccessControllerEvent`` (major/minor type, card, door)."""

    event_type: str
    event_state: str | None
    date_time: str | None
    major: int | None = None
    minor: int | None = None
    card_no: str | None = None
    door: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)


class AlertParseError(ValueError):
    """A part of the alert stream that is not a usable ``EventNotificationAlert``."""


def _int(value: Any) -> int | None:
    try:
        return int(str(value), 0) if value not in (None, "") else None
    except ValueError:
        return None


def parse_alert(document: bytes) -> Alert:
    """Parse one ``EventNotificationAlert`` XML document."""
    try:
        root = ET.fromstring(document)
    except ET.ParseError as err:
        raise AlertParseError(f"not well-formed XML: {err}") from None
    if _local(root.tag) != "EventNotificationAlert":
        raise AlertParseError(f"expected EventNotificationAlert, got {_local(root.tag)}")
    fields = xml_to_dict(root)
    event_type = fields.get("eventType")
    if not isinstance(event_type, str) or not event_type:
        raise AlertParseError("EventNotificationAlert without eventType")
    ace = fields.get("AccessControllerEvent")
    ace = ace if isinstance(ace, dict) else {}
    return Alert(
        event_type=event_type,
        event_state=fields.get("eventState") or None,
        date_time=fields.get("dateTime") or None,
        major=_int(ace.get("majorEventType")),
        minor=_int(ace.get("subEventType")),
        card_no=ace.get("cardNo") or None,
        door=_int(ace.get("doorNo")),
        fields=fields,
    )


_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)


class MultipartReader:
    """Splits a ``multipart/mixed`` byte stream into parts as bytes arrive.

    :meth:`feed` takes any chunk (a part may arrive in pieces, or several parts in one) and
    returns the parts completed so far as ``(headers, body)``. A part ends at its
    ``Content-Length`` when it has one, else at the next boundary line.
    """

    def __init__(self, content_type: str) -> None:
        match = _BOUNDARY.search(content_type)
        if match is None or not content_type.lower().startswith("multipart/"):
            raise IsapiError(f"alertStream: expected multipart/mixed, got {content_type!r}")
        self.delimiter = b"--" + match.group(1).encode()
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[tuple[dict[str, str], bytes]]:
        self._buffer += chunk
        parts: list[tuple[dict[str, str], bytes]] = []
        while True:
            start = self._buffer.find(self.delimiter)
            if start < 0:
                # keep a tail that may be the start of a delimiter
                self._buffer = self._buffer[-len(self.delimiter) :]
                return parts
            head_start = start + len(self.delimiter)
            head_end = self._buffer.find(b"\r\n\r\n", head_start)
            if head_end < 0:
                if len(self._buffer) - head_start > 8192:
                    self._buffer = self._buffer[head_start:]  # junk instead of headers
                return parts
            headers = self._headers(self._buffer[head_start:head_end])
            body_start = head_end + 4
            length = _int(headers.get("content-length"))
            if length is not None and 0 <= length <= MAX_PART:
                if len(self._buffer) < body_start + length:
                    return parts
                body = self._buffer[body_start : body_start + length]
                self._buffer = self._buffer[body_start + length :]
            else:
                end = self._buffer.find(self.delimiter, body_start)
                if end < 0:
                    if len(self._buffer) - body_start > MAX_PART:
                        self._buffer = self._buffer[body_start:]  # drop the oversized part
                    return parts
                body = self._buffer[body_start:end].rstrip(b"\r\n")
                self._buffer = self._buffer[end:]
            parts.append((headers, body))

    @staticmethod
    def _headers(block: bytes) -> dict[str, str]:
        headers: dict[str, str] = {}
        for line in block.decode("latin-1").split("\r\n"):
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        return headers


def _status_problem(body: bytes, content_type: str) -> str | None:
    """The failure a ResponseStatus reports (None if it says OK or is not one)."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return None
    code: Any = None
    words: Any = None
    if "json" in content_type or text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if isinstance(data, dict):
            status = data.get("ResponseStatus", data)
            if isinstance(status, dict):
                code = status.get("statusCode")
                words = status.get("subStatusCode") or status.get("statusString")
    elif text.startswith("<"):
        try:
            root = ET.fromstring(text)
        except ET.ParseError:
            return None
        fields = xml_to_dict(root)
        code, words = fields.get("statusCode"), fields.get("subStatusCode")
        words = words or fields.get("statusString")
    if code is None or str(code) == "1":
        return None
    return f"statusCode {code} ({words})"


class IsapiClient:
    """Requests to one Hikvision device. ``session`` must carry the device's
    ``DigestAuthMiddleware`` (see :func:`open_session`)."""

    def __init__(self, session: aiohttp.ClientSession, url: str, *, timeout: float = 10) -> None:
        self._session = session
        self.url = url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def _request(
        self, method: str, path: str, *, json_body: Any = None, data: str | None = None
    ) -> tuple[bytes, str]:
        where = f"{self.url}: {method} {path.split('?', maxsplit=1)[0]}"
        headers = {"Content-Type": "application/xml"} if data is not None else None
        try:
            async with self._session.request(
                method,
                self.url + path,
                json=json_body,
                data=data,
                headers=headers,
                timeout=self._timeout,
            ) as response:
                body = await response.read()
                content_type = response.headers.get("Content-Type", "")
                if response.status == 401:
                    raise IsapiAuthError(f"{where}: HTTP 401: wrong username or password")
                problem = _status_problem(body, content_type)
                if response.status >= 400:
                    raise IsapiError(f"{where}: HTTP {response.status} {problem or ''}".rstrip())
                if problem is not None:
                    raise IsapiError(f"{where}: the device refused: {problem}")
                return body, content_type
        except (aiohttp.ClientError, TimeoutError) as err:
            raise IsapiError(f"{where}: {type(err).__name__}: {err}") from None

    async def call_status(self) -> str:
        """``idle``, ``ring`` or ``onCall``."""
        body, _ = await self._request("GET", CALL_STATUS_PATH)
        try:
            status = json.loads(body)["CallStatus"]["status"]
        except (ValueError, KeyError, TypeError):
            raise IsapiError(f"{self.url}: callStatus: unexpected answer {body[:80]!r}") from None
        if status not in CALL_STATUSES:
            raise IsapiError(f"{self.url}: callStatus: unknown status {status!r}")
        return str(status)

    async def call_signal(self, command: str) -> None:
        """Answer, hang up or reject the station's call."""
        if command not in CALL_SIGNALS:
            raise ValueError(f"callSignal command must be one of {sorted(CALL_SIGNALS)}")
        await self._request("PUT", CALL_SIGNAL_PATH, json_body={"CallSignal": {"cmdType": command}})

    async def open_door(self, door: int = 1) -> None:
        body = "<RemoteControlDoor><cmd>open</cmd></RemoteControlDoor>"
        await self._request("PUT", DOOR_PATH.format(door=door), data=body)

    async def alert_stream(self) -> AsyncIterator[Alert | AlertParseError]:
        """Yield each alert of the event stream as it arrives (or the parse error of a bad
        part, so the caller can count it). Returns when the device closes the stream; raises
        :class:`IsapiError` if it cannot be opened or breaks."""
        where = f"{self.url}: GET {ALERT_STREAM_PATH}"
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=None)
        try:
            async with self._session.get(self.url + ALERT_STREAM_PATH, timeout=timeout) as response:
                if response.status == 401:
                    raise IsapiAuthError(f"{where}: HTTP 401: wrong username or password")
                if response.status != 200:
                    raise IsapiError(f"{where}: HTTP {response.status}")
                reader = MultipartReader(response.headers.get("Content-Type", ""))
                async for chunk in response.content.iter_any():
                    for headers, body in reader.feed(chunk):
                        kind = headers.get("content-type", "application/xml").lower()
                        if "xml" not in kind:
                            continue  # pictures that some models attach
                        try:
                            yield parse_alert(body)
                        except AlertParseError as err:
                            yield err
        except (aiohttp.ClientError, TimeoutError) as err:
            raise IsapiError(f"{where}: {type(err).__name__}: {err}") from None


def open_session(username: str, password: str) -> aiohttp.ClientSession:
    """A session that answers the device's digest challenge (RFC 7616, MD5 or SHA-256)."""
    return aiohttp.ClientSession(
        middlewares=(aiohttp.DigestAuthMiddleware(username, password, preemptive=True),)
    )
