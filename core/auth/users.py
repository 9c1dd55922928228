"""Users and roles: the users log folded, the lockout rule, the checks on a new account, and the
one answer to a refused sign-in (the package docstring tells the whole rule)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo

from attrs import evolve, frozen

from ..events import Event, NewEvent, decode
from ..text import unsafe_message
from .events import PinChanged, PreferenceSet, SignInFailed, UserCreated, UserDeactivated, UserSignedIn, UserUnlocked

USERS_STREAM = "users"
ROLES = ("nurse", "pharmacist", "prescriber", "admin")
#: Who manages users (add, unlock, deactivate) and site settings.
ADMIN_ROLES = ("admin",)
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
#: Each user's own preferences (not clinical, not a site setting): name → the values allowed, the
#: first being the default. "theme": the screens' colours (a terminal with NO_COLOR keeps its own).
PREFERENCES: dict[str, tuple[str, ...]] = {"theme": ("dark", "light", "high-contrast")}
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
    preferences: tuple[tuple[str, str], ...] = ()  # (name, value), sorted by name: the latest of each

    def preference(self, name: str) -> str:
        """The user's choice for ``name`` (core/auth/users.py PREFERENCES), else its default."""
        return dict(self.preferences).get(name, PREFERENCES[name][0])

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


def fold_users(events: Iterable[Event], users: dict[str, User] | None = None) -> dict[str, User]:
    """The users after ``events`` (a new dict), from none or from ``users`` (a fold kept before:
    the ledger folds on from its checkpoint, core/wardindex.py)."""
    users = dict(users or {})
    for ev in events:
        if ev.stream != USERS_STREAM:
            continue
        if ev.kind == UserCreated.KIND:
            c = ev.payload
            assert isinstance(c, UserCreated)
            users[c.username] = User(c.username, c.full_name, c.role, c.pin_hash)
            continue
        name = ev.data.get("username", "")
        if name in users:
            users[name] = apply_user_event(users[name], ev)
    return users


def apply_user_event(u: User, ev: Event | NewEvent) -> User:
    """One user's state after one of their events (other than ``user.created``)."""
    if ev.kind == SignInFailed.KIND:
        return _failed(u, ev.at)
    if ev.kind in (UserSignedIn.KIND, UserUnlocked.KIND):
        return evolve(u, failed=0, lockouts=0, locked_until=None)
    if ev.kind == PinChanged.KIND:
        p = decode(ev)
        assert isinstance(p, PinChanged)
        return evolve(u, pin_hash=p.pin_hash, failed=0, lockouts=0, locked_until=None)
    if ev.kind == UserDeactivated.KIND:
        return evolve(u, active=False)
    if ev.kind == PreferenceSet.KIND:
        p = decode(ev)
        assert isinstance(p, PreferenceSet)
        return evolve(u, preferences=tuple(sorted({**dict(u.preferences), p.name: p.value}.items())))
    return u


def _failed(u: User, at: datetime) -> User:
    failed = u.failed + 1
    if u.is_locked(at):
        # Decided by another terminal before it saw the lock: counted, but the lock stands.
        return evolve(u, failed=failed)
    if failed >= MAX_FAILED_ATTEMPTS:
        # The 5th failure locks; so does each failure after a lock has lifted, each time for
        # longer. (A log from before timed locks, whose lock at the 5th failure lasted until
        # an admin lifted it, reads as this first lock: it has lifted by itself.)
        lockouts = u.lockouts + 1
        return evolve(u, failed=failed, lockouts=lockouts, locked_until=at + lockout_delay(lockouts))
    return evolve(u, failed=failed)


def validate_new_user(
    username: str, full_name: str, role: str, pin: str, pin_again: str, existing: dict[str, User]
) -> dict[str, str]:
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


@frozen
class SignInResult:
    """What a sign-in came to: the user (None if refused), the event recorded (None for an unknown
    name or a locked account) and the words to show."""

    user: User | None
    event: Event | None
    message: str


def lock_notice(until: datetime, tz: tzinfo | None = None) -> str:
    """For a screen that already shows who the account is (the idle lock): until when it waits."""
    return (
        f"Locked after {MAX_FAILED_ATTEMPTS} or more wrong PINs in a row until {until.astimezone(tz):%H:%M:%S}: "
        "wait, sign in as someone else, or ask an admin to unlock it."
    )


def may_administer(role: str | None) -> bool:
    """Whether a role may open the Users and Settings screens (their commands decide again)."""
    return role in ADMIN_ROLES
