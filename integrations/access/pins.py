"""PIN credentials: argon2 hashes in the configuration, checked without leaking which part
failed.

Place in the whole: ``credentials:`` in the ``access:`` block holds, per person, an argon2 hash
of the PIN and optionally of a duress PIN (see :mod:`.config`); the decision function calls
:func:`check_pin`. argon2's own verification compares in constant time, and both hashes (or a
dummy one for people without a PIN) are always checked, so the time taken tells nothing about
whether a person exists, has a PIN, or typed the duress PIN. Checking costs milliseconds by
design: the runtime runs it in an executor, off the event loop.

Create a hash with ``python -m shouwang.integrations.access.pins`` (reads the PIN without
echoing it and prints the hash to paste into the configuration).
"""

from __future__ import annotations

import getpass
import sys
from enum import Enum
from functools import cache
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .config import PinCredential

# OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): a keypad answer must come within a
# fraction of a second on a small hub, and a PIN's few digits are not made safe by any cost
_HASHER: Final = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


@cache
def _dummy() -> str:
    """A hash to check against when a person has no PIN, made on first use (not at import)."""
    return _HASHER.hash("not-a-pin")


class PinMatch(Enum):
    NONE = "none"
    NORMAL = "normal"
    DURESS = "duress"


def hash_pin(pin: str) -> str:
    """An argon2id hash of ``pin`` for the configuration."""
    if not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise ValueError("a PIN is 4 to 12 digits")
    return _HASHER.hash(pin)


def _verify(pin_hash: str | None, pin: str) -> bool:
    try:
        return _HASHER.verify(pin_hash or _dummy(), pin) and pin_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_pin(credential: PinCredential | None, pin: str) -> PinMatch:
    """Which of the person's PINs ``pin`` is (blocking; milliseconds)."""
    normal = _verify(credential.pin_hash if credential else None, pin)
    duress = _verify(credential.duress_hash if credential else None, pin)
    if duress:
        return PinMatch.DURESS
    return PinMatch.NORMAL if normal else PinMatch.NONE


def main() -> int:
    pin = getpass.getpass("PIN: ")
    if pin != getpass.getpass("Again: "):
        print("The two entries differ.", file=sys.stderr)
        return 1
    try:
        print(hash_pin(pin))
    except ValueError as err:
        print(err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
