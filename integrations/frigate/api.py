"""An aiohttp client for the parts of Frigate's HTTP API the hub uses.

Place in the whole: the Frigate integration creates one :class:`FrigateClient` from its
config; the camera entities fetch frames through it, the setup checks the version, and
automations or the console can look events up, create manual events and enrol faces.
Frigate's unauthenticated port (5000) needs nothing; on the authenticated port (8971) the
client logs in with ``POST /api/login`` and sends the ``frigate_token`` JWT as a Bearer token,
logging in again once when Frigate answers 401. Every failure is a :class:`FrigateApiError`
that names the endpoint and says why (timeout, refused, HTTP status and Frigate's message).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

TOKEN_COOKIE = "frigate_token"
#: the first release with face recognition and licence-plate recognition
FACES_AND_PLATES_SINCE = (0, 16, 0)


class FrigateApiError(Exception):
    """A call to Frigate failed; ``endpoint`` is the method and path, ``reason`` the why."""

    def __init__(self, endpoint: str, reason: str, status: int | None = None) -> None:
        super().__init__(f"Frigate {endpoint}: {reason}")
        self.endpoint = endpoint
        self.reason = reason
        self.status = status


def parse_version(text: str) -> tuple[int, ...]:
    """``"0.16.0-abc1234"`` -> ``(0, 16, 0)``; compared as numbers, so 0.9 < 0.16."""
    match = re.match(r"\s*v?(\d+(?:\.\d+)*)", text)
    if match is None:
        raise ValueError(f"not a version: {text[:40]!r}")
    return tuple(int(part) for part in match.group(1).split("."))


class FrigateClient:
    """Frigate's HTTP API at ``url`` (``http://host:5000`` or ``https://host:8971``)."""

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        verify_ssl: bool = True,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._username = username
        self._password = password
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._ssl = verify_ssl  # False: accept a self-signed certificate
        self._session = session
        self._own_session = session is None
        self._token: str | None = None
        self._login_lock = asyncio.Lock()

    # -- URLs a browser or guard phone can open -----------------------------------------------
    def event_snapshot_url(self, event_id: str) -> str:
        return f"{self.url}/api/events/{quote(event_id, safe='')}/snapshot.jpg"

    def event_thumbnail_url(self, event_id: str) -> str:
        return f"{self.url}/api/events/{quote(event_id, safe='')}/thumbnail.jpg"

    def latest_url(self, camera: str) -> str:
        return f"{self.url}/api/{quote(camera, safe='')}/latest.jpg"

    def stream_url(self, camera: str) -> str:
        """Frigate's MJPEG stream of a camera."""
        return f"{self.url}/api/{quote(camera, safe='')}"

    # -- session and login ----------------------------------------------------------------------
    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
        self._session = None

    @property
    def logged_in(self) -> bool:
        return self._token is not None

    async def login(self) -> None:
        """``POST /api/login``; keeps the ``frigate_token`` JWT from the answer's cookie."""
        if not (self._username and self._password):
            raise FrigateApiError("POST /api/login", "no username/password configured")
        endpoint = "POST /api/login"
        body = {"user": self._username, "password": self._password}
        async with self._login_lock:
            response, _ = await self._send("POST", "/api/login", endpoint, json=body, auth=False)
            cookie = response.cookies.get(TOKEN_COOKIE)
            if cookie is None or not cookie.value:
                raise FrigateApiError(endpoint, f"no {TOKEN_COOKIE} cookie in the answer")
            self._token = cookie.value

    async def _send(
        self,
        method: str,
        path: str,
        endpoint: str,
        *,
        auth: bool = True,
        **kwargs: Any,
    ) -> tuple[aiohttp.ClientResponse, bytes]:
        headers = {"Authorization": f"Bearer {self._token}"} if auth and self._token else {}
        try:
            async with self._get_session().request(
                method,
                self.url + path,
                headers=headers,
                timeout=self._timeout,
                ssl=self._ssl,
                **kwargs,
            ) as response:
                body = await response.read()
        except TimeoutError:
            raise FrigateApiError(endpoint, f"no answer within {self._timeout.total:g} s") from None
        except aiohttp.ClientError as err:
            raise FrigateApiError(endpoint, f"{type(err).__name__}: {err}") from None
        if response.status >= 400:
            raise FrigateApiError(
                endpoint, f"HTTP {response.status}: {_message(body)}", response.status
            )
        return response, body

    async def _request(
        self, method: str, path: str, **kwargs: Any
    ) -> tuple[aiohttp.ClientResponse, bytes]:
        endpoint = f"{method} {path.split('?', 1)[0]}"
        if self._username and self._token is None:
            await self.login()
        try:
            return await self._send(method, path, endpoint, **kwargs)
        except FrigateApiError as err:
            if err.status != 401 or not self._username:
                raise
        self._token = None  # expired or revoked: log in again once
        await self.login()
        return await self._send(method, path, endpoint, **kwargs)

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response, body = await self._request(method, path, **kwargs)
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as err:
            raise FrigateApiError(
                f"{method} {path.split('?', 1)[0]}",
                f"answer is not JSON ({response.content_type}): {err}",
            ) from None

    async def _image(self, path: str, params: Mapping[str, Any] | None = None) -> bytes:
        response, body = await self._request("GET", path, params=params)
        if not response.content_type.startswith("image/"):
            raise FrigateApiError(f"GET {path}", f"expected an image, got {response.content_type}")
        return body

    # -- the endpoints --------------------------------------------------------------------------
    async def version(self) -> str:
        """``GET /api/version``: plain text such as ``0.16.0-abc1234``."""
        _, body = await self._request("GET", "/api/version")
        return body.decode("utf-8", errors="replace").strip()

    async def version_tuple(self) -> tuple[int, ...]:
        text = await self.version()
        try:
            return parse_version(text)
        except ValueError as err:
            raise FrigateApiError("GET /api/version", str(err)) from None

    async def config(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._json("GET", "/api/config")
        return result

    async def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._json("GET", "/api/stats")
        return result

    async def events(
        self,
        *,
        cameras: list[str] | None = None,
        labels: list[str] | None = None,
        sub_labels: list[str] | None = None,
        zones: list[str] | None = None,
        after: float | None = None,
        before: float | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """``GET /api/events`` with Frigate's filters (lists are sent comma-separated)."""
        params: dict[str, str] = {}
        for key, values in (
            ("cameras", cameras),
            ("labels", labels),
            ("sub_labels", sub_labels),
            ("zones", zones),
        ):
            if values:
                params[key] = ",".join(values)
        for key, number in (("after", after), ("before", before), ("limit", limit)):
            if number is not None:
                params[key] = str(number)
        result = await self._json("GET", "/api/events", params=params)
        if not isinstance(result, list):
            raise FrigateApiError("GET /api/events", "expected a JSON list")
        return result

    async def event(self, event_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._json("GET", f"/api/events/{quote(event_id, safe='')}")
        return result

    async def event_snapshot(self, event_id: str, *, crop: bool = False) -> bytes:
        """The event's snapshot; ``crop`` cuts it to the tracked object's box."""
        params = {"crop": "1"} if crop else None
        return await self._image(f"/api/events/{quote(event_id, safe='')}/snapshot.jpg", params)

    async def event_thumbnail(self, event_id: str) -> bytes:
        return await self._image(f"/api/events/{quote(event_id, safe='')}/thumbnail.jpg")

    async def latest(self, camera: str, height: int | None = None) -> bytes:
        params = {"h": str(height)} if height else None
        return await self._image(f"/api/{quote(camera, safe='')}/latest.jpg", params)

    async def create_event(
        self,
        camera: str,
        label: str,
        *,
        sub_label: str | None = None,
        duration: float | None = 30,
        include_recording: bool = True,
        draw: Mapping[str, Any] | None = None,
    ) -> str:
        """``POST /api/events/<camera>/<label>/create``; returns the new event's id."""
        body: dict[str, Any] = {"include_recording": include_recording, "duration": duration}
        if sub_label:
            body["sub_label"] = sub_label
        if draw:
            body["draw"] = dict(draw)
        path = f"/api/events/{quote(camera, safe='')}/{quote(label, safe='')}/create"
        result = await self._json("POST", path, json=body)
        event_id = result.get("event_id") if isinstance(result, Mapping) else None
        if not isinstance(event_id, str):
            raise FrigateApiError(f"POST {path}", f"no event_id in the answer: {result!r}")
        return event_id

    async def faces(self) -> dict[str, list[str]]:
        """``GET /api/faces``: enrolled name -> its face image files."""
        result = await self._json("GET", "/api/faces")
        if not isinstance(result, Mapping):
            raise FrigateApiError("GET /api/faces", "expected a JSON object")
        return {str(name): list(files) for name, files in result.items()}

    async def register_face(self, name: str, image: bytes) -> dict[str, Any]:
        """``POST /api/faces/<name>/register`` with the image as multipart ``file``."""
        form = aiohttp.FormData()
        form.add_field("file", image, filename="face.jpg", content_type="image/jpeg")
        result: dict[str, Any] = await self._json(
            "POST", f"/api/faces/{quote(name, safe='')}/register", data=form
        )
        return result


def _message(body: bytes) -> str:
    """Frigate's error message (``{"success": false, "message": ...}``) or the body's start."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:200].decode("utf-8", errors="replace") or "(empty answer)"
    if isinstance(data, Mapping) and isinstance(data.get("message"), str):
        return str(data["message"])
    return body[:200].decode("utf-8", errors="replace")
