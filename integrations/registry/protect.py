"""Personal data: ID-card numbers hashed, phones encrypted, both shown masked; plate rules.

* ID-card number (GB 11643, 18 characters): stored only as HMAC-SHA256 under a key file in the
  config directory plus a masked form (``310104********2954``); a candidate is matched by hashing
  it with the same key (:meth:`Protector.hash_id`).
* Phone: stored encrypted with Fernet (key file in the config directory), shown masked
  (``199****9758``).
* Key files are created on first use with mode 0600. Clear values are never logged.
* Chinese plates are normalised (upper case, no spaces or separators) and validated.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from datetime import date
from pathlib import Path
from typing import Final

from cryptography.fernet import Fernet

HMAC_KEY_FILE: Final = ".registry_id_hmac.key"
FERNET_KEY_FILE: Final = ".registry_phone_fernet.key"

_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK: Final = "10X98765432"
_ID_RE: Final = re.compile(r"^\d{17}[\dX]$")
_PHONE_RE: Final = re.compile(r"^1[3-9]\d{9}$")
_PROVINCES: Final = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领"
_PLATE_RE: Final = re.compile(
    rf"^[{_PROVINCES}][A-Z](?:[A-HJ-NP-Z0-9]{{4}}[A-HJ-NP-Z0-9挂学警港澳]"
    rf"|[DF][A-HJ-NP-Z0-9][0-9]{{4}}|[0-9]{{5}}[DF])$"
)
_PLATE_SEPARATORS: Final = re.compile(r"[\s·•・.\-_]")


def id_check_digit(first17: str) -> str:
    """The 18th character of a resident ID number with these first 17 digits (GB 11643)."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def id_checksum_ok(number: str) -> bool:
    """Whether an 18-character ID-card number has a valid GB 11643 check character."""
    return bool(_ID_RE.match(number)) and id_check_digit(number[:17]) == number[17]


def id_problem(number: str) -> str | None:
    """Why an ID-card number is invalid (None if it is valid). Never echoes the number."""
    if not _ID_RE.match(number):
        return "must be 17 digits and a digit or X (18 characters)"
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "birth date part is not a date"
    if not id_checksum_ok(number):
        return "check character does not match (GB 11643)"
    return None


def normalise_id(number: str) -> str:
    return number.strip().upper()


def mask_id(number: str) -> str:
    """``310104198610202954`` -> ``310104********2954``."""
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def is_masked(value: str) -> bool:
    return "*" in value


def phone_ok(phone: str) -> bool:
    """Mainland mobile number: 11 digits starting 13–19."""
    return bool(_PHONE_RE.match(phone))


def normalise_phone(phone: str) -> str:
    phone = re.sub(r"[\s\-]", "", phone)
    return phone.removeprefix("+86")


def mask_phone(phone: str) -> str:
    """``19954699758`` -> ``199****9758``."""
    return phone[:3] + "****" + phone[-4:]


def normalise_plate(plate: str) -> str:
    """Upper case without spaces and separators: ``沪a·d1234`` -> ``沪AD1234``."""
    return _PLATE_SEPARATORS.sub("", plate).upper()


def plate_ok(plate: str) -> bool:
    """A normalised Chinese plate: 7 characters, or 8 for new-energy vehicles."""
    return bool(_PLATE_RE.match(plate))


def _key_file(path: Path, make: bytes) -> bytes:
    """Read a key file, creating it 0600 with ``make`` if it does not exist."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as file:
        file.write(make)
    return make


class Protector:
    """Hashes, encrypts and decrypts personal data with the keys of one config directory."""

    def __init__(self, config_dir: str | Path) -> None:
        directory = Path(config_dir)
        directory.mkdir(parents=True, exist_ok=True)
        self._hmac_key = _key_file(directory / HMAC_KEY_FILE, secrets.token_hex(32).encode())
        self._fernet = Fernet(_key_file(directory / FERNET_KEY_FILE, Fernet.generate_key()))

    def hash_id(self, number: str) -> str:
        """Keyed hash (HMAC-SHA256, hex) of a normalised ID-card number."""
        return hmac.new(self._hmac_key, normalise_id(number).encode(), hashlib.sha256).hexdigest()

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        return self._fernet.decrypt(token.encode("ascii")).decode()
