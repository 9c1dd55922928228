"""Users, roles, PINs and sign-in.

PINs are stored only as argon2id hashes (argon2-cffi) of an HMAC of the PIN under a site key
kept outside the database (the "pepper"): a stolen database alone does not allow offline
guessing of the 10⁴–10⁸ possible PINs. Accounts lock after :data:`MAX_FAILED_ATTEMPTS` failed
tries; each try is an event. argon2 is imported only when a PIN is hashed or checked.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from attrs import evolve, frozen

from .text import unsafe_message
from .events import Event, NewEvent

USERS_STREAM = "users"
ROLES = ("nurse", "pharmacist", "prescriber", "admin")
ROLE_LABELS = {"nurse": "Nurse", "pharmacist": "Pharmacist", "prescriber": "Prescriber", "admin": "Admin"}
MAX_FAILED_ATTEMPTS = 5
PIN_RE = re.compile(r"^[0-9]{4,8}$")
USERNAME_RE = re.compile(r"^[a-z][a-z0-9._-]{1,31}$")


@frozen
class User:
    username: str
    full_name: str
    role: str
    pin_hash: str
    active: bool = True
    failed: int = 0
    locked: bool = False

    @property
    def label(self) -> str:
        return f"{self.full_name} ({ROLE_LABELS.get(self.role, self.role)})"


def fold_users(events: Iterable[Event]) -> dict[str, User]:
    users: dict[str, User] = {}
    for ev in events:
        if ev.stream != USERS_STREAM:
            continue
        d = ev.data
        name = d.get("username", "")
        u = users.get(name)
        if ev.kind == "user.created":
            users[name] = User(name, d["full_name"], d["role"], d["pin_hash"])
        elif u is None:
            continue
        elif ev.kind == "user.signin_failed":
            failed = u.failed + 1
            users[name] = evolve(u, failed=failed, locked=u.locked or failed >= MAX_FAILED_ATTEMPTS)
        elif ev.kind == "user.signed_in":
            users[name] = evolve(u, failed=0)
        elif ev.kind == "user.unlocked":
            users[name] = evolve(u, failed=0, locked=False)
        elif ev.kind == "user.pin_changed":
            users[name] = evolve(u, pin_hash=d["pin_hash"], failed=0, locked=False)
        elif ev.kind == "user.deactivated":
            users[name] = evolve(u, active=False)
    return users


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


def validate_new_user(username: str, full_name: str, role: str, pin: str, pin_again: str, existing: dict[str, User]) -> dict[str, str]:
    """Field → message for every problem; empty when the user may be created."""
    errors: dict[str, str] = {}
    if not USERNAME_RE.match(username):
        errors["username"] = "User name: 2–32 characters, lower-case letters, digits, '.', '_' or '-', starting with a letter."
    elif username in existing:
        errors["username"] = f"User name: '{username}' is already taken."
    if not full_name.strip() or len(full_name) > 80 or any(ord(c) < 32 for c in full_name):
        errors["full_name"] = "Full name: 1–80 printable characters."
    elif unsafe_message("Full name", full_name):  # C1 and bidi overrides too (core/text.py)
        errors["full_name"] = unsafe_message("Full name", full_name)
    if role not in ROLES:
        errors["role"] = "Role: choose nurse, pharmacist, prescriber or admin."
    if not PIN_RE.match(pin):
        errors["pin"] = "PIN: 4 to 8 digits."
    elif pin != pin_again:
        errors["pin_again"] = "PIN again: the two PINs differ."
    return errors


def create_user_event(key: SiteKey, actor: str, at: datetime, username: str, full_name: str, role: str, pin: str) -> NewEvent:
    return NewEvent(
        USERS_STREAM,
        "user.created",
        actor,
        at,
        {"username": username, "full_name": full_name.strip(), "role": role, "pin_hash": hash_pin(key, pin)},
    )


@frozen
class SignInResult:
    user: User | None
    event: NewEvent | None
    message: str


def sign_in(key: SiteKey, users: dict[str, User], username: str, pin: str, at: datetime) -> SignInResult:
    """Decide a sign-in attempt: the user (or None), the event to record, and what to tell them."""
    u = users.get(username)
    if u is None or not u.active:
        # Same words as a wrong PIN: do not reveal which user names exist.
        return SignInResult(None, None, "Unknown user name or wrong PIN.")
    if u.locked:
        return SignInResult(None, None, f"Account '{username}' is locked after {MAX_FAILED_ATTEMPTS} failed tries: ask an admin to unlock it.")
    if check_pin(key, u.pin_hash, pin):
        return SignInResult(u, NewEvent(USERS_STREAM, "user.signed_in", username, at, {"username": username}), "Signed in.")
    left = MAX_FAILED_ATTEMPTS - u.failed - 1
    ev = NewEvent(USERS_STREAM, "user.signin_failed", username, at, {"username": username})
    if left <= 0:
        return SignInResult(None, ev, f"Wrong PIN. Account '{username}' is now locked: ask an admin to unlock it.")
    return SignInResult(None, ev, f"Unknown user name or wrong PIN ({left} tries left before the account locks).")
