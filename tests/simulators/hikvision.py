"""A stand-in for a Hikvision video-intercom door station's ISAPI (aiohttp server), speaking
the documented messages with HTTP digest authentication (RFC 7616, MD5, qop=auth) as the
devices do:

* ``GET /ISAPI/VideoIntercom/callStatus?format=json`` -> ``{"CallStatus": {"status": …}}``
* ``PUT /ISAPI/VideoIntercom/callSignal?format=json`` ``{"CallSignal": {"cmdType": …}}``
* ``PUT /ISAPI/AccessControl/RemoteControl/door/<n>`` ``<RemoteControlDoor><cmd>open</cmd>…``
* ``GET /ISAPI/Event/notification/alertStream``: ``multipart/mixed; boundary=boundary`` of
  ``EventNotificationAlert`` XML parts, open until the test drops it.

Answers are ISAPI ``ResponseStatus`` documents (JSON for ``format=json``, XML otherwise).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from typing import Any

from aiohttp import web

BOUNDARY = "boundary"
_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # digest auth (RFC 7616) is MD5 here


def response_status_json(code: int = 1, words: str = "OK", sub: str = "ok") -> dict[str, Any]:
    return {"statusCode": code, "statusString": words, "subStatusCode": sub}


def response_status_xml(url: str, code: int = 1, words: str = "OK", sub: str = "ok") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ResponseStatus version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">'
        f"<requestURL>{url}</requestURL><statusCode>{code}</statusCode>"
        f"<statusString>{words}</statusString><subStatusCode>{sub}</subStatusCode>"
        "</ResponseStatus>"
    )


def access_event_xml(minor: int, *, card_no: str | None = None, door: int = 1) -> str:
    """An ``EventNotificationAlert`` for an ``AccessControllerEvent`` (major type 5)."""
    card = f"<cardNo>{card_no}</cardNo>" if card_no else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<EventNotificationAlert version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">'
        "<ipAddress>10.0.0.21</ipAddress><portNo>80</portNo><protocol>HTTP</protocol>"
        "<macAddress>44:19:b6:00:00:01</macAddress><channelID>1</channelID>"
        "<dateTime>2026-11-28T22:00:00+08:00</dateTime><activePostCount>1</activePostCount>"
        "<eventType>AccessControllerEvent</eventType><eventState>active</eventState>"
        "<eventDescription>Access Controller Event</eventDescription>"
        "<AccessControllerEvent><deviceName>Door Station</deviceName>"
        f"<majorEventType>5</majorEventType><subEventType>{minor}</subEventType>{card}"
        f"<doorNo>{door}</doorNo><serialNo>17</serialNo></AccessControllerEvent>"
        "</EventNotificationAlert>"
    )


def heartbeat_xml() -> str:
    return (
        '<EventNotificationAlert version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">'
        "<ipAddress>10.0.0.21</ipAddress><dateTime>2026-11-28T22:00:00+08:00</dateTime>"
        "<activePostCount>0</activePostCount><eventType>videoloss</eventType>"
        "<eventState>inactive</eventState><eventDescription>videoloss alarm</eventDescription>"
        "</EventNotificationAlert>"
    )


def part(xml: str | bytes) -> bytes:
    body = xml.encode() if isinstance(xml, str) else xml
    return (
        (
            f'--{BOUNDARY}\r\nContent-Type: application/xml; charset="UTF-8"\r\n'
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
        + b"\r\n"
    )


class HikvisionSimulator:
    def __init__(
        self, username: str = "admin", password: str = "hik12345", realm: str = "DS-KD8003"
    ) -> None:
        self.username, self.password, self.realm = username, password, realm
        self.status = "idle"
        self.signals: list[str] = []
        self.doors_opened: list[int] = []
        self.rejected_logins = 0
        self.streams_opened = 0
        self._nonces: set[str] = set()
        self._streams: list[asyncio.Queue[bytes | None]] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- server --------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(middlewares=[self._digest])
        app.router.add_get("/ISAPI/VideoIntercom/callStatus", self._call_status)
        app.router.add_put("/ISAPI/VideoIntercom/callSignal", self._call_signal)
        app.router.add_put("/ISAPI/AccessControl/RemoteControl/door/{door}", self._door)
        app.router.add_get("/ISAPI/Event/notification/alertStream", self._alert_stream)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def stop(self) -> None:
        self.drop_streams()
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _digest(self, request: web.Request, handler: Any) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        if header.startswith("Digest ") and self._valid(request.method, header[7:]):
            response: web.StreamResponse = await handler(request)
            return response
        if header:
            self.rejected_logins += 1
        nonce = secrets.token_hex(16)
        self._nonces.add(nonce)
        challenge = (
            f'Digest realm="{self.realm}", qop="auth", nonce="{nonce}", '
            f'opaque="{secrets.token_hex(8)}", algorithm=MD5, stale="FALSE"'
        )
        return web.Response(
            status=401,
            headers={"WWW-Authenticate": challenge},
            text=response_status_xml(request.path, 4, "Invalid Operation", "unAuthorized"),
            content_type="application/xml",
        )

    def _valid(self, method: str, header: str) -> bool:
        params = {m[0]: m[1] or m[2] for m in _PARAM.findall(header)}
        if params.get("username") != self.username or params.get("nonce") not in self._nonces:
            return False
        ha1 = _md5(f"{self.username}:{self.realm}:{self.password}")
        ha2 = _md5(f"{method}:{params.get('uri', '')}")
        expected = _md5(
            f"{ha1}:{params['nonce']}:{params.get('nc', '')}:{params.get('cnonce', '')}:"
            f"{params.get('qop', '')}:{ha2}"
        )
        return secrets.compare_digest(expected, params.get("response", ""))

    async def _call_status(self, request: web.Request) -> web.Response:
        return web.json_response({"CallStatus": {"status": self.status}})

    async def _call_signal(self, request: web.Request) -> web.Response:
        try:
            command = (await request.json())["CallSignal"]["cmdType"]
        except (ValueError, KeyError, TypeError):
            return web.json_response(
                response_status_json(6, "Invalid XML Content", "badJsonContent"), status=400
            )
        if command not in ("answer", "hangUp", "reject"):
            return web.json_response(
                response_status_json(4, "Invalid Operation", "notSupport"), status=400
            )
        self.signals.append(command)
        self.status = "onCall" if command == "answer" else "idle"
        return web.json_response(response_status_json())

    async def _door(self, request: web.Request) -> web.Response:
        body = await request.text()
        if "<cmd>open</cmd>" not in body:
            return web.Response(
                status=400,
                text=response_status_xml(request.path, 5, "Invalid Format", "badXmlFormat"),
                content_type="application/xml",
            )
        self.doors_opened.append(int(request.match_info["door"]))
        return web.Response(text=response_status_xml(request.path), content_type="application/xml")

    async def _alert_stream(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": f"multipart/mixed; boundary={BOUNDARY}"}
        )
        await response.prepare(request)
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._streams.append(queue)
        self.streams_opened += 1
        try:
            while (data := await queue.get()) is not None:
                await response.write(data)
        finally:
            self._streams.remove(queue)
        return response

    # -- what the test does --------------------------------------------------------------
    def send(self, data: bytes) -> None:
        """Write raw bytes to every open alert stream."""
        for queue in self._streams:
            queue.put_nowait(data)

    def alert(self, xml: str | bytes) -> None:
        self.send(part(xml))

    def drop_streams(self) -> None:
        """Close every open alert stream (the device rebooting, a network cut)."""
        for queue in list(self._streams):
            queue.put_nowait(None)

    async def wait_streams(self, count: int, timeout: float = 5.0) -> None:
        """Wait (real time: an HTTP round trip) until ``count`` streams were ever opened and
        one is open now."""
        async with asyncio.timeout(timeout):
            while self.streams_opened < count or not self._streams:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
