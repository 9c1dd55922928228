"""PINs: argon2id hashes of an HMAC of the PIN under the site key (the "pepper", kept outside the
database), so a stolen database alone does not allow offline guessing. argon2 is imported only when
a PIN is hashed or checked."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
from pathlib import Path

from ..keyring import Keyring, new_keyring, parse_keyring, write_keyring


class SiteKey:
    """The site's key file (core/keyring.py): the PIN pepper and the log's keys, in a file beside
    (not inside) the database, readable by its owner only. Made on first use if missing.

    :meth:`keyring` re-reads the file when it changed (one ``stat``), so a ``bedside key rotate``
    run elsewhere is picked up by every running terminal at its next write."""

    def __init__(self, path: Path | None, value: bytes | None = None):
        self.path = path
        self._keyring = None if value is None else Keyring(value)
        self._stamp: tuple[int, int, int] | None = None

    def value(self) -> bytes:
        """The site key (the PIN pepper's key)."""
        return self.keyring().site_key

    def keyring(self) -> Keyring:
        if self.path is None:
            assert self._keyring is not None
            return self._keyring
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._create()
            st = self.path.stat()
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if self._keyring is None or stamp != self._stamp:
            self._keyring = parse_keyring(self.path.read_text("ascii"), str(self.path))
            self._stamp = stamp
        return self._keyring

    def replace(self, keyring: Keyring) -> None:
        """Write a changed keyring (a rotation, an anchor recorded) and use it from now on."""
        if self.path is None:
            self._keyring = keyring
            return
        write_keyring(self.path, keyring)
        self._keyring, self._stamp = None, None

    def _create(self) -> None:
        """A new key file, whole or not at all: written aside, then linked in place (``link`` fails
        if another process made one first; theirs is kept)."""
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.new{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(new_keyring().to_text())
                fh.flush()
                os.fsync(fh.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)


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
