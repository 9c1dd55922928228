"""The site's keys: the PIN pepper and the keys that authenticate the event log (issue 18).

One file, beside the database (SQLite) or named by ``$BEDSIDE_KEY`` (PostgreSQL), readable by the
service account only. It holds:

- the **site key**: 32 random bytes. The PIN pepper is ``HMAC(site key, PIN)`` (core/auth/pins.py),
  as it always was, so rotating the log's keys never invalidates a PIN;
- the **log keys**, oldest first, each with an id (``k1``, ``k2``, …). Every stored event carries the
  id of the key it was authenticated under and ``HMAC-SHA256(mac key, "bedside/event/v1\\n" + its
  hash)``; its hash covers its content and the hash before it, so the MAC authenticates the event
  and its place in the chain. A mac key is ``HMAC-SHA256(secret, "bedside/event-mac/v1/" + id)``:
  for ``k1`` the secret is the site key itself (domain-separated from the pepper: a PIN is 4 to 8
  digits, never that label), for later keys a new random secret made by ``bedside key rotate``.
  Only the newest key signs; an older key verifies the events before the first event of the key
  after it, so a leaked retired key cannot make a new event that verifies;
- the **anchors** to keep besides the one beside the database (``--anchor PATH``, recorded here by
  ``bedside ward init`` so every process of the site keeps and checks them).

The old format (the site key as one line of hex) is still read: it is the site key with ``k1``
derived from it and no extra anchors. A file is rewritten (atomically, same mode) only by a rotation
or by recording an anchor.

Pure apart from :func:`read_keyring` / :func:`write_keyring`, which touch the file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from attrs import evolve, field, frozen

FORMAT = "bedside-keyring/1"
EVENT_MAC_LABEL = b"bedside/event-mac/v1/"
EVENT_MAC_DOMAIN = b"bedside/event/v1\n"
ANCHOR_MAC_DOMAIN = b"bedside/anchor/v1\n"
CHECKPOINT_MAC_DOMAIN = b"bedside/checkpoint/v1\n"
FIRST_KEY_ID = "k1"


class KeyringError(ValueError):
    """The key file is unreadable or malformed (named, with what is wrong)."""


@frozen
class LogKey:
    """One log key: its id, the secret it is derived from (None for ``k1``: the site key) and when
    it was made (UTC ISO text, for the record; None for ``k1``)."""

    id: str
    secret: bytes | None = None
    created: str | None = None


def _mac_key(site_key: bytes, key: LogKey) -> bytes:
    root = site_key if key.secret is None else key.secret
    return hmac.new(root, EVENT_MAC_LABEL + key.id.encode("ascii"), hashlib.sha256).digest()


@frozen
class Keyring:
    site_key: bytes = field(repr=False)
    keys: tuple[LogKey, ...] = (LogKey(FIRST_KEY_ID),)
    anchors: tuple[str, ...] = ()
    #: Events up to this seq may carry no MAC (written before the log was authenticated). 0 for a
    #: site that began authenticated; None for an old key file, until its first authenticated
    #: append records where the old log ended (then unauthenticated events after it are refused).
    legacy_through: int | None = 0
    _mac_keys: dict[str, bytes] = field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if not self.keys:
            raise KeyringError("a keyring needs at least one log key")
        ids = [k.id for k in self.keys]
        if len(set(ids)) != len(ids):
            raise KeyringError(f"log key ids repeat: {ids}")
        object.__setattr__(self, "_mac_keys", {k.id: _mac_key(self.site_key, k) for k in self.keys})

    # -- which key ----------------------------------------------------------------------------
    @property
    def current(self) -> str:
        """The id of the key that signs new events (the newest)."""
        return self.keys[-1].id

    def rank(self, key_id: str) -> int | None:
        """The key's place, oldest first (0 for ``k1``); None for an id this keyring does not hold."""
        for i, k in enumerate(self.keys):
            if k.id == key_id:
                return i
        return None

    # -- events -------------------------------------------------------------------------------
    def _mac(self, key_id: str, domain: bytes, message: str) -> str | None:
        key = self._mac_keys.get(key_id)
        if key is None:
            return None
        return hmac.new(key, domain + message.encode("ascii"), hashlib.sha256).hexdigest()

    def sign_event(self, event_hash: str) -> tuple[str, str]:
        """(key id, MAC) for a new event with this hash, under the current key."""
        kid = self.current
        mac = self._mac(kid, EVENT_MAC_DOMAIN, event_hash)
        assert mac is not None
        return kid, mac

    def event_problem(self, event_hash: str, key_id: str, mac: str) -> str | None:
        """Why an event's MAC does not authenticate it (None: it does). The order of keys is
        checked by the caller, who knows the key of the events before (:func:`key_order_problem`)."""
        if not mac or not key_id:
            return "it carries no MAC (it was not written by Bedside with the site key)"
        expected = self._mac(key_id, EVENT_MAC_DOMAIN, event_hash)
        if expected is None:
            return f"it names key {key_id!r}, which the site's keyring does not hold"
        if not hmac.compare_digest(expected, mac):
            return "its MAC does not verify: it was forged or altered"
        return None

    def key_order_problem(self, key_id: str, newest_seen: str | None) -> str | None:
        """An event under a key older than one already used before it: made with a retired key."""
        if newest_seen is None:
            return None
        rank, seen = self.rank(key_id), self.rank(newest_seen)
        if rank is not None and seen is not None and rank < seen:
            return f"it is signed with the retired key {key_id!r} after the log moved on to {newest_seen!r}"
        return None

    # -- anchors ------------------------------------------------------------------------------
    def sign_anchor(self, seq: int, event_hash: str) -> tuple[str, str]:
        kid = self.current
        mac = self._mac(kid, ANCHOR_MAC_DOMAIN, f"{seq}\n{event_hash}")
        assert mac is not None
        return kid, mac

    def anchor_problem(self, seq: int, event_hash: str, key_id: str, mac: str) -> str | None:
        if not mac or not key_id:
            return "it carries no MAC"
        expected = self._mac(key_id, ANCHOR_MAC_DOMAIN, f"{seq}\n{event_hash}")
        if expected is None:
            return f"it names key {key_id!r}, which the site's keyring does not hold"
        if not hmac.compare_digest(expected, mac):
            return "its MAC does not verify: it was forged or altered"
        return None

    def sign_checkpoint(self, body: str) -> tuple[str, str]:
        """(key id, MAC) for a derived checkpoint's text (core/wardindex.py), under the current key."""
        kid = self.current
        mac = self._mac(kid, CHECKPOINT_MAC_DOMAIN, hashlib.sha256(body.encode("utf-8")).hexdigest())
        assert mac is not None
        return kid, mac

    def checkpoint_problem(self, body: str, key_id: str, mac: str) -> str | None:
        expected = self._mac(key_id, CHECKPOINT_MAC_DOMAIN, hashlib.sha256(body.encode("utf-8")).hexdigest())
        if not mac or expected is None:
            return "it carries no MAC of a key the site holds"
        return None if hmac.compare_digest(expected, mac) else "its MAC does not verify"

    # -- changes ------------------------------------------------------------------------------
    def rotated(self, created: str) -> Keyring:
        """A keyring with a new random log key after the others (it signs from now on)."""
        n = 1 + max(int(k.id[1:]) for k in self.keys if k.id[1:].isdigit())
        return evolve(self, keys=(*self.keys, LogKey(f"k{n}", secrets.token_bytes(32), created)))

    def sealed_at(self, seq: int) -> Keyring:
        """The keyring once its first authenticated event follows event ``seq`` of an old log."""
        return evolve(self, legacy_through=seq)

    def with_anchor(self, path: str) -> Keyring:
        return self if path in self.anchors else evolve(self, anchors=(*self.anchors, path))

    # -- the file's text ----------------------------------------------------------------------
    def to_text(self) -> str:
        keys = [
            {"id": k.id, **({"secret": k.secret.hex(), "created": k.created} if k.secret is not None else {})} for k in self.keys
        ]
        body = {
            "format": FORMAT,
            "site_key": self.site_key.hex(),
            "log_keys": keys,
            "anchors": list(self.anchors),
            "legacy_through": self.legacy_through,
        }
        return json.dumps(body, indent=1) + "\n"


def parse_keyring(text: str, where: str = "the key file") -> Keyring:
    """A keyring from a key file's text: the JSON format, or the old single line of hex."""
    stripped = text.strip()
    try:
        if not stripped.startswith("{"):
            return Keyring(bytes.fromhex(stripped), legacy_through=None)
        raw = json.loads(stripped)
        if raw.get("format") != FORMAT:
            raise KeyringError(f"{where}: unknown format {raw.get('format')!r} (this Bedside reads {FORMAT})")
        keys = tuple(
            LogKey(str(k["id"]), bytes.fromhex(k["secret"]) if "secret" in k else None, k.get("created")) for k in raw["log_keys"]
        )
        through = raw.get("legacy_through", 0)
        if through is not None and (not isinstance(through, int) or through < 0):
            raise KeyringError(f"{where}: legacy_through must be a whole number, got {through!r}")
        return Keyring(bytes.fromhex(raw["site_key"]), keys, tuple(str(a) for a in raw.get("anchors", ())), through)
    except KeyringError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyringError(f"{where} is malformed: {exc}") from exc


def new_keyring() -> Keyring:
    return Keyring(secrets.token_bytes(32))


def write_keyring(path: Path, keyring: Keyring, mode: int = 0o600) -> None:
    """Write atomically (temporary file, fsync, rename); an existing file's mode and owner are kept."""
    try:
        st = path.stat()
        mode, owner = st.st_mode & 0o777, (st.st_uid, st.st_gid)
    except FileNotFoundError:
        owner = None
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(keyring.to_text())
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)  # not narrowed by the umask
        if owner is not None and os.geteuid() == 0:
            os.chown(tmp, *owner)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
