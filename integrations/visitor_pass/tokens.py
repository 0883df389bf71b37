"""Signed visitor-pass tokens: what goes into the QR code and the ``/pass/<token>`` link.

Place in the whole: the only module that knows the key and the token's wire form. A token is a
compact JWT (PyJWT, HS256, header ``{"alg":"HS256"}`` without ``typ``) whose claims carry
everything a gate needs to decide offline, given only the key and the revocation list:

=====  ================================================================
claim  meaning
=====  ================================================================
``i``  pass id
``h``  host household id
``d``  door ids the pass opens (omitted when empty)
``r``  places on the route: doors in or under them open (omitted when empty)
``g``  door groups (omitted when empty)
``f``  valid from, Unix seconds (inclusive)
``u``  valid until, Unix seconds (exclusive)
``m``  maximum uses
``p``  vehicle plate, normalised (omitted when none)
=====  ================================================================

Personal data (visitor name, phone) is never put in a token: a QR code is readable by anyone.
The key (32 random bytes, hex) is created once in ``<config>/.storage/visitor_pass.key`` with
mode 0600; every hub or gate holding that file can verify tokens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jwt

KEY_FILE: Final = ".storage/visitor_pass.key"
#: strictly base64url (no padding, no ``+``/``/``): one token, one spelling; empty signature
#: allowed so that an unsigned ``alg: none`` token is reported as a bad signature
_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\Z")
ALGORITHM: Final = "HS256"


class TokenError(Exception):
    """A token that cannot be trusted; ``reason`` is ``malformed`` or ``bad_signature``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Claims:
    """The decoded, shape-checked claims of a token."""

    pass_id: str
    host_household: str
    doors: tuple[str, ...]
    places: tuple[str, ...]
    door_groups: tuple[str, ...]
    valid_from: int
    valid_until: int
    max_uses: int
    plate: str | None

    def as_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"i": self.pass_id, "h": self.host_household}
        for name, value in (("d", self.doors), ("r", self.places), ("g", self.door_groups)):
            if value:
                payload[name] = list(value)
        payload |= {"f": self.valid_from, "u": self.valid_until, "m": self.max_uses}
        if self.plate:
            payload["p"] = self.plate
        return payload


class _CompactJson(json.JSONEncoder):
    """Plates in UTF-8 (3 bytes a character) rather than ``\\uXXXX`` (6): smaller QR codes."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["ensure_ascii"] = False
        super().__init__(**kwargs)


def load_key(config_dir: str | Path) -> bytes:
    """The signing key of a config directory, created (mode 0600) on first use. Blocking."""
    path = Path(config_dir) / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(key.hex() + "\n")
    return key


def _read_key(path: Path) -> bytes:
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except ValueError:
        raise ValueError(f"{path}: not a hex key") from None
    if len(key) < 32:
        raise ValueError(f"{path}: key shorter than 32 bytes")
    return key


class Signer:
    """Signs claims into tokens and checks tokens back into claims, with one key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def sign(self, claims: Claims) -> str:
        return jwt.encode(
            claims.as_payload(),
            self._key,
            algorithm=ALGORITHM,
            headers={"typ": None},
            json_encoder=_CompactJson,
        )

    def verify(self, token: str) -> Claims:
        """The claims of a token signed with this key; :class:`TokenError` otherwise.

        Verified here with the standard library rather than ``jwt.decode``: this is every QR
        scan's hot path, and PyJWT's checks (per-character base64 scans, key sniffing) make it
        2–3 times slower. The rules are the same (three base64url segments, ``alg`` HS256
        only, constant-time comparison), and PyJWT or any JWT library verifies these tokens
        too."""
        if not _TOKEN_RE.match(token):
            raise TokenError("malformed", "expected three dot-separated base64url segments")
        header_part, payload_part, signature_part = token.split(".")
        try:
            header = json.loads(_b64decode(header_part))
            payload = _b64decode(payload_part)
        except ValueError as err:  # bad base64, bad JSON
            raise TokenError("malformed", f"not a JWT: {err}") from None
        if not isinstance(header, dict):
            raise TokenError("malformed", "header is not an object")
        if header.get("alg") != ALGORITHM:
            raise TokenError("bad_signature", f"not signed with {ALGORITHM}")
        signed = f"{header_part}.{payload_part}".encode("ascii")
        expected = hmac.new(self._key, signed, hashlib.sha256).digest()
        # compared as text: the one canonical spelling (base64 leaves spare bits in the last
        # character, which decoding would ignore)
        if not hmac.compare_digest(_b64encode(expected), signature_part.encode("ascii")):
            raise TokenError("bad_signature", "signature does not match")
        try:
            claims = json.loads(payload)
        except ValueError:
            raise TokenError("malformed", "claims are not JSON") from None
        return _claims(claims)


def _b64encode(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def _b64decode(segment: str) -> bytes:
    """Base64url without padding (the caller checked the alphabet)."""
    return base64.b64decode(segment + "=" * (-len(segment) % 4), altchars=b"-_", validate=True)


def _claims(payload: Any) -> Claims:
    if not isinstance(payload, dict):
        raise TokenError("malformed", "claims are not an object")

    def text(name: str) -> str:
        value = payload.get(name)
        if not isinstance(value, str) or not value:
            raise TokenError("malformed", f"claim {name!r}: expected a string")
        return value

    def integer(name: str) -> int:
        value = payload.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise TokenError("malformed", f"claim {name!r}: expected an integer")
        return value

    def strings(name: str) -> tuple[str, ...]:
        value = payload.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise TokenError("malformed", f"claim {name!r}: expected a list of strings")
        return tuple(value)

    claims = Claims(
        pass_id=text("i"),
        host_household=text("h"),
        doors=strings("d"),
        places=strings("r"),
        door_groups=strings("g"),
        valid_from=integer("f"),
        valid_until=integer("u"),
        max_uses=integer("m"),
        plate=text("p") if "p" in payload else None,
    )
    if claims.valid_until <= claims.valid_from:
        raise TokenError("malformed", "claims: window ends before it starts")
    if claims.max_uses < 1:
        raise TokenError("malformed", "claim 'm': must be at least 1")
    return claims
