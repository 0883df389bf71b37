"""The shareable forms of a pass token: the ``/pass/<token>`` link and the QR code.

Place in the whole: presentation only. The QR code holds the token itself (what a gate's
scanner reads and :meth:`~.book.PassBook.validate` checks); the link is relative so the API or
household panel can put its own origin in front of it.
"""

from __future__ import annotations

import io
from typing import Final

import segno

LINK_PREFIX: Final = "/pass/"
SCALE: Final = 4


def link(token: str) -> str:
    """The relative link of a token (a JWT is URL-safe as it is)."""
    return LINK_PREFIX + token


def _code(token: str) -> segno.QRCode:
    # medium error correction: survives a scratched or partly covered phone screen
    return segno.make_qr(token, error="m")


def svg(token: str) -> str:
    """The QR code as an SVG document."""
    buffer = io.BytesIO()
    _code(token).save(buffer, kind="svg", scale=SCALE, xmldecl=False)
    return buffer.getvalue().decode("utf-8")


def svg_data_url(token: str) -> str:
    """The QR code as a ``data:image/svg+xml`` URL, ready for an ``<img src>``."""
    return str(_code(token).svg_data_uri(scale=SCALE))


def png(token: str) -> bytes:
    """The QR code as PNG bytes."""
    buffer = io.BytesIO()
    _code(token).save(buffer, kind="png", scale=SCALE)
    return buffer.getvalue()
