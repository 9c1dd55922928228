"""PINs: argon2id hashes of an HMAC of the PIN under the site key (the "pepper", kept outside the
database), so a stolen database alone does not allow offline guessing. argon2 is imported only when
a PIN is hashed or checked."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path


class SiteKey:
    """The secret pepper, in a file beside (not inside) the database, readable by its owner only."""

    def __init__(self, path: Path | None, value: bytes | None = None):
        self.path = path
        self._value = value

    def value(self) -> bytes:
        if self._value is None:
            assert self.path is not None
            try:
                self._value = bytes.fromhex(self.path.read_text("ascii").strip())
            except FileNotFoundError:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                key = secrets.token_bytes(32)
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as fh:
                    fh.write(key.hex())
                self._value = key
        return self._value


def _peppered(key: SiteKey, pin: str) -> str:
    return hmac.new(key.value(), pin.encode("utf-8"), hashlib.sha256).hexdigest()


# argon2id with one of OWASP's equivalent minimum configurations (7 MiB, 5 passes, 1 lane):
# as slow per guess as the 64 MiB default but without a 64 MiB jump in a bedside terminal's
# memory at each sign-in. The pepper (site key outside the database) is what defeats offline
# guessing of a 4–8 digit PIN; the hash only makes each guess expensive.
ARGON2_PARAMS = {"time_cost": 5, "memory_cost": 7168, "parallelism": 1}
#: Verified for an unknown user name so that it costs what a wrong PIN costs (same parameters as
#: ARGON2_PARAMS; the hash of a random secret that was thrown away: no PIN verifies against it).
DUMMY_PIN_HASH = "$argon2id$v=19$m=7168,t=5,p=1$eca7MXgmSbnG6PHwBT3dwg$spNx2NxNZ4Rmf5ZzUqwi/kKoxICDqcZJ76ty/I9ggjA"


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher(**ARGON2_PARAMS)


def hash_pin(key: SiteKey, pin: str) -> str:
    return _hasher().hash(_peppered(key, pin))


def check_pin(key: SiteKey, pin_hash: str, pin: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(pin_hash, _peppered(key, pin))
    except (VerificationError, InvalidHashError):
        return False
