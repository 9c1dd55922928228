"""Users, roles, PINs and sign-in.

PINs are stored only as argon2id hashes (argon2-cffi) of an HMAC of the PIN under a site key
kept outside the database (the "pepper"): a stolen database alone does not allow offline
guessing of the 10⁴–10⁸ possible PINs. argon2 is imported only when a PIN is hashed or checked.

Lockout (a security rule, not a clinical one): after :data:`MAX_FAILED_ATTEMPTS` consecutive failed
tries the account is locked for :data:`LOCKOUT_FIRST_DELAY`; every further failed try after a lock
has lifted (before a successful sign-in) locks it again for twice as long, up to
:data:`LOCKOUT_MAX_DELAY`. The lock lifts by itself: it is computed from the stored events and the
``at`` passed in, never from a clock read here. An admin (Users screen) or whoever may write the
database files (``bedside users unlock``) can lift it at once. So no one can lock an account
(the only admin's included) for good, and a PIN can still be guessed only a few times an hour.
Each failed try on a real account is a ``user.signin_failed`` event. An unknown user name, a wrong
PIN and a locked account get the same words (:data:`SIGNIN_REFUSED`) and the same argon2 work (a
dummy hash is verified where there is no PIN to check); a locked account's PIN is not checked (no
oracle while locked) and the try is not recorded (at most one event per lock); a try on an unknown
name records nothing (no one can flood the log with made-up names, and a PIN typed into the name
field by mistake is not kept for ever).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from attrs import evolve, frozen

from .text import unsafe_message
from .events import Event, NewEvent

USERS_STREAM = "users"
ROLES = ("nurse", "pharmacist", "prescriber", "admin")
ROLE_LABELS = {"nurse": "Nurse", "pharmacist": "Pharmacist", "prescriber": "Prescriber", "admin": "Admin"}
MAX_FAILED_ATTEMPTS = 5  # consecutive failed tries before the first lock
LOCKOUT_FIRST_DELAY = timedelta(minutes=1)  # the first lock; each further lock doubles it …
LOCKOUT_MAX_DELAY = timedelta(minutes=60)  # … up to this
#: The one answer to every refused sign-in (unknown name, wrong PIN, locked account): the same for
#: all, so it may say how the lock works but never whether this account exists or is locked.
def _minutes(d: timedelta) -> str:
    n = int(d.total_seconds() // 60)
    return f"{n} minute" if n == 1 else f"{n} minutes"


SIGNIN_REFUSED = (
    f"Unknown user name or wrong PIN. {MAX_FAILED_ATTEMPTS} wrong PINs in a row lock an account for "
    f"{_minutes(LOCKOUT_FIRST_DELAY)}, then longer (up to {_minutes(LOCKOUT_MAX_DELAY)}); an admin can unlock it."
)
PIN_RE = re.compile(r"^[0-9]{4,8}$")
USERNAME_RE = re.compile(r"^[a-z][a-z0-9._-]{1,31}$")


@frozen
class User:
    username: str
    full_name: str
    role: str
    pin_hash: str
    active: bool = True
    failed: int = 0  # consecutive failed tries since the last success, unlock or PIN change
    lockouts: int = 0  # locks in this run of failures (the next one lasts lockout_delay(lockouts + 1))
    locked_until: datetime | None = None  # the latest lock's end (it may have passed)

    @property
    def label(self) -> str:
        return f"{self.full_name} ({ROLE_LABELS.get(self.role, self.role)})"

    def is_locked(self, at: datetime) -> bool:
        """Locked at the instant ``at``: the lock lifts by itself at :attr:`locked_until`."""
        return self.locked_until is not None and at < self.locked_until

    def lock_ends(self, at: datetime) -> datetime | None:
        """When the current lock lifts, or None if the account is not locked at ``at``."""
        return self.locked_until if self.is_locked(at) else None


def lockout_delay(n: int) -> timedelta:
    """How long the ``n``-th lock in a run of failed tries lasts: 1, 2, 4, 8 … minutes, capped."""
    if n < 1:
        raise ValueError("lockout_delay: n counts from 1")
    if n > 12:  # 2**11 minutes is already far past any sensible cap
        return LOCKOUT_MAX_DELAY
    return min(LOCKOUT_FIRST_DELAY * 2 ** (n - 1), LOCKOUT_MAX_DELAY)


def fold_users(events: Iterable[Event]) -> dict[str, User]:
    users: dict[str, User] = {}
    for ev in events:
        if ev.stream != USERS_STREAM:
            continue
        d = ev.data
        name = d.get("username", "")
        if ev.kind == "user.created":
            users[name] = User(name, d["full_name"], d["role"], d["pin_hash"])
        elif name in users:
            users[name] = apply_user_event(users[name], ev)
    return users


def apply_user_event(u: User, ev: Event | NewEvent) -> User:
    """One user's state after one of their events (other than ``user.created``)."""
    d = ev.data
    if ev.kind == "user.signin_failed":
        failed = u.failed + 1
        if u.is_locked(ev.at):
            # Decided by another terminal before it saw the lock: counted, but the lock stands.
            return evolve(u, failed=failed)
        if failed >= MAX_FAILED_ATTEMPTS:
            # The 5th failure locks; so does each failure after a lock has lifted, each time for
            # longer. (A log from before timed locks, whose lock at the 5th failure lasted until
            # an admin lifted it, reads as this first lock: it has lifted by itself.)
            lockouts = u.lockouts + 1
            return evolve(u, failed=failed, lockouts=lockouts, locked_until=ev.at + lockout_delay(lockouts))
        return evolve(u, failed=failed)
    if ev.kind in ("user.signed_in", "user.unlocked"):
        return evolve(u, failed=0, lockouts=0, locked_until=None)
    if ev.kind == "user.pin_changed":
        return evolve(u, pin_hash=d["pin_hash"], failed=0, lockouts=0, locked_until=None)
    if ev.kind == "user.deactivated":
        return evolve(u, active=False)
    return u


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
    """Decide a sign-in attempt at ``at``: the user (or None), the event to record, and what to tell them.

    Every refusal, whether the user name is unknown (or deactivated), the PIN wrong or the account
    locked, takes the same path (one argon2 verify) and gets the same words, :data:`SIGNIN_REFUSED`:
    nothing tells an existing account from a made-up one. A locked account's PIN is not checked
    (a dummy hash is verified instead), so guessing on during a lock learns nothing. Only a real,
    unlocked account's wrong PIN is an event.
    """
    u = users.get(username)
    if u is None or not u.active or u.is_locked(at):
        check_pin(key, DUMMY_PIN_HASH, pin)  # the same work as a wrong PIN; the answer is ignored
        return SignInResult(None, None, SIGNIN_REFUSED)
    if check_pin(key, u.pin_hash, pin):
        return SignInResult(u, NewEvent(USERS_STREAM, "user.signed_in", username, at, {"username": username}), "Signed in.")
    return SignInResult(None, NewEvent(USERS_STREAM, "user.signin_failed", username, at, {"username": username}), SIGNIN_REFUSED)


def lock_notice(until: datetime, tz: tzinfo | None = None) -> str:
    """For a screen that already shows who the account is (the idle lock): until when it waits."""
    return (
        f"Locked after {MAX_FAILED_ATTEMPTS} or more wrong PINs in a row until {until.astimezone(tz):%H:%M:%S}: "
        "wait, sign in as someone else, or ask an admin to unlock it."
    )
